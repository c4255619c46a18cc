"""Tests of the `foshan_2006` scheme (seed 002 part 5: Foshan per-district targets).

Every expectation is worked out by hand from the scheme's text (arithmetic in comments):
4 indicators × 25 points (assumed); birth rate and natural growth are ceilings, the policy
birth rate a floor, each against the district's own published target; the sex ratio must
move at least 1.0 toward 103–107 or lie inside it; missing any of the three numeric targets
vetoes.
"""

from pathlib import Path

import pandas as pd
import pytest

import assesskit as ak

EXAMPLE = Path(__file__).resolve().parents[2] / "assesskit" / "datasets" / "examples" / "foshan_2006"

# The published district targets (seed 002 part 5): birth rate ‰, natural growth ‰, policy birth rate %.
PUBLISHED = {
    "chancheng": (11.00, 6.30, 95.0),
    "nanhai": (11.10, 6.40, 95.0),
    "shunde": (11.10, 6.40, 95.0),
    "gaoming": (11.15, 6.45, 94.0),
    "sanshui": (11.00, 6.30, 95.0),
}
NAMES = {
    "chancheng": "禅城区",
    "nanhai": "南海区",
    "shunde": "顺德区",
    "gaoming": "高明区",
    "sanshui": "三水区",
}


@pytest.fixture(scope="module")
def scheme():
    return ak.load_scheme("foshan_2006")


def units():
    return pd.DataFrame({"unit": list(NAMES), "name": list(NAMES.values()), "kind": "district"})


def targets(years=(2006, 2007)):
    return pd.DataFrame(
        [
            {
                "unit": u,
                "year": y,
                "birth_rate_target": b,
                "natural_growth_target": g,
                "policy_rate_target": p,
            }
            for y in years
            for u, (b, g, p) in PUBLISHED.items()
        ]
    )


def row(unit, year, *, male=5250, female=5000, population=1_200_000, deaths=None, policy_births=None):
    """A district-year; by default births 10250 → 8.54‰, growth 5.0‰, policy 100%, sex ratio 105."""
    births = male + female
    return {
        "unit": unit,
        "year": year,
        "population": population,
        "births": births,
        "male_births": male,
        "female_births": female,
        # growth (births − deaths) / population × 1000 = 6000 / 1.2M × 1000 = 5.0‰ by default
        "deaths": births - 6000 if deaths is None else deaths,
        "policy_births": births if policy_births is None else policy_births,
    }


def run(scheme, rows, year=2007):
    return ak.score(scheme, pd.DataFrame(rows), units=units(), targets=targets(), year=year)


def by_unit(res):
    return res.summary.set_index("unit")


def item(res, unit, item_id):
    it = res.items
    return it[(it.unit == unit) & (it.item == item_id)].iloc[0]


# --------------------------------------------------------------------------- the scheme itself
def test_loads_and_sums(scheme):
    assert scheme.id == "foshan_2006"
    assert scheme.years == (2006, 2010)
    assert scheme.max_by_kind == {"district": 100.0}
    assert [(it.id, it.points) for _p, it in scheme.flat_items] == [
        ("birth_rate_item", 25),
        ("natural_growth_item", 25),
        ("policy_rate_item", 25),
        ("srb_item", 25),
    ]
    # directions: two ceilings and a floor, read from the district target table
    ops = {
        it.id: (it.rule.op, it.rule.target.table)
        for _p, it in scheme.flat_items
        if it.rule.type == "threshold"
    }
    assert ops == {
        "birth_rate_item": ("<=", "birth_rate_target"),
        "natural_growth_item": ("<=", "natural_growth_target"),
        "policy_rate_item": (">=", "policy_rate_target"),
    }
    srb = scheme.nodes["srb_item"].rule
    assert (srb.type, srb.direction, srb.normal, srb.min_change) == ("change", "toward", (103, 107), 1.0)
    assert scheme.indicators["natural_growth"].numerator == ["births", "-deaths"]
    assert [v.effect for v in scheme.vetoes] == ["veto"]
    assert scheme.assumptions  # every assumption is stated at the top


def test_example_targets_are_the_published_values():
    t = pd.read_csv(EXAMPLE / "targets.csv")
    assert list(t.columns) == [
        "unit",
        "year",
        "birth_rate_target",
        "natural_growth_target",
        "policy_rate_target",
    ]
    assert sorted(t.year.unique()) == [2006, 2007, 2008, 2009, 2010]
    for _i, r in t.iterrows():
        assert (r.birth_rate_target, r.natural_growth_target, r.policy_rate_target) == PUBLISHED[r.unit]


# --------------------------------------------------------------------------- own targets
def test_each_district_is_scored_against_its_own_policy_target(scheme):
    # births 10000 (male 5150, female 4850: sex ratio 106.19, inside 103–107 → met without history);
    # policy births 9450 → 9450 / 10000 × 100 = 94.5%;
    # birth rate 10000 / 1.2M × 1000 = 8.33‰; growth (10000 − 4000) / 1.2M × 1000 = 5.0‰.
    rows = [
        row(u, 2007, male=5150, female=4850, deaths=4000, policy_births=9450) for u in ("gaoming", "nanhai")
    ]
    res = run(scheme, rows)
    s = by_unit(res)
    # 高明: 94.5 ≥ 94 → all four met → 4 × 25 = 100, not vetoed, commended
    assert s.loc["gaoming", "total"] == 100
    assert not s.loc["gaoming", "veto"]
    assert s.loc["gaoming", "rank"] == 1
    assert s.loc["gaoming", "award"] == "completed"
    assert item(res, "gaoming", "policy_rate_item").target == 94
    # 南海: 94.5 < 95 → policy item 0 → 75, and vetoed (task missed)
    assert s.loc["nanhai", "total"] == 75
    assert s.loc["nanhai", "veto"]
    assert s.loc["nanhai", "veto_reason"] == "未完成人口计划任务，一票否决"
    assert pd.isna(s.loc["nanhai", "rank"])
    assert s.loc["nanhai", "award"] == ""
    pol = item(res, "nanhai", "policy_rate_item")
    assert (pol.value, pol.target, pol.points, pol.status) == (94.5, 95, 0, "vetoed")


def test_birth_rate_is_a_ceiling_per_district(scheme):
    # births 13320 = male 6820 + female 6500 (sex ratio 104.92, inside the normal range);
    # (104.92); population 1.2M → 13320 / 1.2M × 1000 = 11.10‰ exactly.
    # deaths 13320 − 6000 → growth 5.0‰.
    rows = [row(u, 2007, male=6820, female=6500) for u in ("chancheng", "nanhai", "gaoming")]
    res = run(scheme, rows)
    s = by_unit(res)
    # 禅城 ceiling 11.00: 11.10 > 11.00 → missed → 75, vetoed
    assert item(res, "chancheng", "birth_rate_item").value == pytest.approx(11.10)
    assert s.loc["chancheng", "total"] == 75 and s.loc["chancheng", "veto"]
    # 南海 ceiling 11.10: 11.10 ≤ 11.10 (inclusive) → met → 100
    assert s.loc["nanhai", "total"] == 100 and not s.loc["nanhai", "veto"]
    # 高明 ceiling 11.15 → met → 100
    assert s.loc["gaoming", "total"] == 100 and not s.loc["gaoming", "veto"]


def test_natural_growth_is_births_minus_deaths_per_population(scheme):
    # population 1M, births 10250 (male 5250, female 5000 → 105), deaths 3800:
    # growth (10250 − 3800) / 1M × 1000 = 6.45‰.  Birth rate 10.25‰ (below every ceiling).
    rows = [row(u, 2007, population=1_000_000, deaths=3800) for u in ("gaoming", "shunde")]
    res = run(scheme, rows)
    s = by_unit(res)
    assert item(res, "gaoming", "natural_growth_item").value == pytest.approx(6.45)
    # 高明 ceiling 6.45 → met (100); 顺德 ceiling 6.40 → missed (75, vetoed)
    assert s.loc["gaoming", "total"] == 100 and not s.loc["gaoming", "veto"]
    assert s.loc["shunde", "total"] == 75 and s.loc["shunde", "veto"]
    assert item(res, "shunde", "natural_growth_item").status == "vetoed"


# --------------------------------------------------------------------------- sex ratio (change rule)
def test_sex_ratio_change_rule(scheme):
    rows = [
        # 三水: 118.0 (5900/5000) → 116.0 (5800/5000): distance to 107 falls 11 → 9, by 2.0 ≥ 1.0 → met
        row("sanshui", 2006, male=5900),
        row("sanshui", 2007, male=5800),
        # 顺德: 118.0 → 117.5 (5875/5000): falls by 0.5 < 1.0 → missed (0, not missing)
        row("shunde", 2006, male=5900),
        row("shunde", 2007, male=5875),
        # 禅城: 105.0 (5250/5000), no previous year → inside normal → met
        row("chancheng", 2007, male=5250),
        # 南海: 110.0 (5500/5000), no previous year, outside normal → missing → 0 (policy 'zero')
        row("nanhai", 2007, male=5500),
    ]
    res = run(scheme, rows)
    s = by_unit(res)
    got = {u: (item(res, u, "srb_item").points, item(res, u, "srb_item").status) for u in s.index}
    assert got == {
        "sanshui": (25, "met"),
        "shunde": (0, "missed"),
        "chancheng": (25, "met"),
        "nanhai": (0, "missing"),
    }
    assert item(res, "sanshui", "srb_item").value == pytest.approx(116.0)
    assert "previous year" in item(res, "nanhai", "srb_item").reason
    # the sex ratio does not veto: 顺德 and 南海 keep 75 and stay ranked (shared rank 3 of 4)
    assert s.loc["shunde", "total"] == 75 and not s.loc["shunde", "veto"]
    assert s.loc["nanhai", "total"] == 75 and not s.loc["nanhai", "veto"]
    assert s["rank"].to_dict() == {"sanshui": 1, "chancheng": 1, "shunde": 3, "nanhai": 3}


def test_sex_ratio_leaving_the_normal_range_is_missed(scheme):
    # 105.0 → 108.0 (5400/5000): distance 0 → 1, moved away → missed
    rows = [row("gaoming", 2006, male=5250), row("gaoming", 2007, male=5400)]
    res = run(scheme, rows)
    assert item(res, "gaoming", "srb_item").status == "missed"
    assert by_unit(res).loc["gaoming", "total"] == 75


def test_missing_policy_data_vetoes(scheme):
    # no policy_births → policy rate missing → scored 0 and counts as missed → veto
    r = row("sanshui", 2007)
    r["policy_births"] = None
    res = run(scheme, [r, row("chancheng", 2007)])
    s = by_unit(res)
    assert item(res, "sanshui", "policy_rate_item").points == 0
    assert s.loc["sanshui", "veto"] and s.loc["sanshui", "total"] == 75
    assert s.loc["chancheng", "total"] == 100


# --------------------------------------------------------------------------- bundled example
def test_bundled_example_scores():
    scheme = ak.load_scheme("foshan_2006")
    res = ak.score(
        scheme, EXAMPLE / "panel.csv", units=EXAMPLE / "units.csv", targets=EXAMPLE / "targets.csv"
    )
    s = res.summary
    assert res.warnings == ()
    assert len(s) == 10 and sorted(s.year.unique()) == [2006, 2007]  # 2005 is history only
    assert set(s.unit) == set(NAMES)
    assert pd.read_csv(EXAMPLE / "units.csv").synthetic.all()
    k = s.set_index(["year", "unit"])
    # planted (README): 2006 南海 vetoed on policy 94.50% < 95 and sex ratio fall 0.5 → 50;
    # 高明 94.50% ≥ 94 → 100
    assert k.loc[(2006, "nanhai"), "veto"] and k.loc[(2006, "nanhai"), "total"] == 50
    assert k.loc[(2006, "gaoming"), "total"] == 100 and k.loc[(2006, "gaoming"), "award"] == "completed"
    # 2007: 禅城 birth rate 11.20 > 11.00 vetoed (75); 高明 growth 6.50 > 6.45 and sex ratio out → 50, vetoed;
    # 顺德 sex ratio rises → 75, not vetoed
    assert k.loc[(2007, "chancheng"), "veto"] and k.loc[(2007, "chancheng"), "total"] == 75
    assert k.loc[(2007, "gaoming"), "veto"] and k.loc[(2007, "gaoming"), "total"] == 50
    assert not k.loc[(2007, "shunde"), "veto"] and k.loc[(2007, "shunde"), "total"] == 75
    assert s.veto.sum() == 3
    assert (s[~s.veto].award == "completed").all()
