"""Tests of the `xpcc_2015` scheme (seed 000: XPCC 2015–2016 target-management assessment).

Every expectation is worked out by hand from the scheme's text (arithmetic in comments).
Points (assumed): basic indicators 3 × 10 = 30; key work 70 = headings 12 + 12 + 13 + 7 + 26.
Basic targets (assumed): compliance south ≥ 95 / north ≥ 98, entry rates ≥ 95. Minor
falsification −2 per case (cap 10); serious → ineligible; grave → veto. Awards (source):
1 × 80,000, 2 × 70,000, 3 × 60,000; 婚育新风推进奖 2 × 35,000 ranked by heading 1 (assumed).
"""

from pathlib import Path

import pandas as pd
import pytest

import assesskit as ak
from assesskit.exceptions import AssessKitWarning

EXAMPLE = Path(__file__).resolve().parents[2] / "assesskit" / "datasets" / "examples" / "xpcc_2015"


@pytest.fixture(scope="module")
def scheme():
    return ak.load_scheme("xpcc_2015")


def perfect(unit, year=2016, **over):
    """A division-year meeting every target: 100 points."""
    r = {
        "unit": unit,
        "year": year,
        "births": 1000,
        "policy_births": 990,  # 99% ≥ 98 (north) and ≥ 95 (south)
        "population": 100000,
        "population_in_db": 99000,  # 99% ≥ 95
        "births_in_db": 990,  # 99% ≥ 95
        "second_births": 400 if year == 2016 else 300,  # share 30% (2015) → 40% (2016): a rise
        "policy_awareness_rate": 100,
        "eugenics_awareness_rate": 96,
        "ppc_coverage_rate": 85,
        "ppc_notification_rate": 96,
        "ppc_followup_rate": 96,
        "floating_application_rate": 92,
        "floating_feedback_rate": 92,
        "floating_receipt_rate": 92,
        "floating_cert_e_rate": 100,
        "db_completeness_rate": 92,
        "db_accuracy_rate": 96,
        "sf_filing_rate": 100,
        "sf_contact_rate": 100,
        "registration_online_grade": 1.0,
        "service_commitment_grade": 1.0,
        "lawful_admin_grade": 1.0,
        "sf_support_grade": 1.0,
        "fund_misuse_cases": 0,
        "falsification_minor_cases": 0,
        "falsification_serious_cases": 0,
        "falsification_grave_cases": 0,
        "multichild_findings": 0,
        "unlawful_admin_findings": 0,
    }
    r.update(over)
    return r


def run(scheme, rows, categories=None, with_history=True):
    """Score 2016; a 2015 history row (share 30%) is added for every unit unless told not to."""
    rows = list(rows)
    if with_history:
        rows += [perfect(r["unit"], 2015) for r in rows if r["year"] == 2016]
    cats = categories or {}
    units = pd.DataFrame(
        [
            {"unit": u, "name": u, "kind": "division", "category": cats.get(u, "north")}
            for u in {r["unit"] for r in rows}
        ]
    )
    return ak.score(scheme, pd.DataFrame(rows), units=units, year=2016)


def by_unit(res):
    return res.summary.set_index("unit")


def item(res, unit, item_id):
    it = res.items
    return it[(it.unit == unit) & (it.item == item_id)].iloc[0]


MISS_ALL_BASIC = {"policy_births": 900, "population_in_db": 90000, "births_in_db": 900}  # 90% / 90% / 90%
MISS_TWO_BASIC = {"policy_births": 900, "population_in_db": 90000}  # birth entry still 99%


# --------------------------------------------------------------------------- the scheme itself
def test_loads_and_sums(scheme):
    assert scheme.id == "xpcc_2015" and scheme.years == (2015, 2016)
    assert scheme.max_by_kind == {"division": 100.0}
    pts = {nid: n.points for nid, n in scheme.nodes.items()}
    assert pts["xpcc"] == 100 and pts["basic"] == 30 and pts["key_work"] == 70
    assert [
        pts[h] for h in ("kw_two_child", "kw_service_reform", "kw_eugenics", "kw_floating", "kw_foundation")
    ] == [
        12,
        12,
        13,
        7,
        26,
    ]
    # 11 key-work items: 7 × 6 + 4 × 7 = 70
    eleven = [
        "policy_awareness",
        "second_child_rise",
        "registration_online",
        "service_commitments",
        "eugenics_knowledge",
        "pre_pregnancy_check",
        "kw_floating",
        "special_funds",
        "population_database",
        "lawful_administration",
        "special_families",
    ]
    assert [pts[i] for i in eleven] == [6, 6, 6, 6, 6, 7, 7, 6, 7, 6, 7]
    assert sum(pts[i] for i in eleven) == 70
    assert len(scheme.flat_items) == 22
    assert len(scheme.assumptions) >= 8


def test_source_targets_are_encoded(scheme):
    want = {
        "policy_awareness": 100,
        "eugenics_knowledge": 95,
        "ppc_coverage": 80,
        "ppc_notification": 95,
        "ppc_followup": 95,
        "floating_application": 90,
        "floating_feedback": 90,
        "floating_receipt": 90,
        "floating_cert_electronic": 100,
        "db_completeness": 90,
        "db_accuracy": 95,
        "sf_filing": 100,
        "sf_contact": 100,
    }
    got = {k: (scheme.nodes[k].rule.op, scheme.nodes[k].rule.target) for k in want}
    assert got == {k: (">=", v) for k, v in want.items()}
    t = scheme.nodes["policy_compliance"].rule.target
    assert t.by_category == {"south": 95, "north": 98}
    assert set(scheme.categories) == {"south", "north"}


def test_awards_as_in_the_source(scheme):
    o = scheme.outcomes
    assert [(t.id, t.count, t.prize) for t in o.tiers] == [
        ("first", 1, 80000),
        ("second", 2, 70000),
        ("third", 3, 60000),
    ]
    assert [(a.id, a.count, a.prize, a.rank_by) for a in o.single_awards] == [
        ("new_customs", 2, 35000, "kw_two_child")
    ]
    # prize pool: 80k + 2 × 70k + 3 × 60k + 2 × 35k = 470k
    assert sum(t.count * t.prize for t in o.tiers) + sum(a.count * a.prize for a in o.single_awards) == 470000


def test_rectification_and_tie_policy_are_encoded(scheme):
    o = scheme.outcomes
    assert o.ties == "tiebreak" and o.tie_break == ["basic", "key_work"]
    [w] = o.warnings
    assert (w.id, w.label, w.decline.total, w.decline.rank) == (
        "rectification",
        "工作严重滑坡，限期整改",
        10,
        None,
    )
    assert w.assumption and o.kinds_of(w) is None  # every division


def test_rectification_for_a_fall_of_ten_points_or_more(scheme):
    # 2015: every division perfect (100: its second-child share 30% rose from 20% in 2014). 2016: DROP misses (1) awareness 6 + (5) eugenics 6
    # → 88 (−12, warned); TEN misses the north compliance target (90% < 98) → 90 (−10, warned:
    # at least 10); SLIP misses (1) → 94 (−6); KEEP stays 100; GONE is vetoed (grave case):
    # out of ranking, its veto instead of the warning
    rows = [
        perfect("DROP", policy_awareness_rate=90, eugenics_awareness_rate=90),
        perfect("TEN", policy_births=900),
        perfect("SLIP", policy_awareness_rate=90),
        perfect("KEEP"),
        perfect("GONE", policy_awareness_rate=0, eugenics_awareness_rate=0, falsification_grave_cases=1),
    ]
    history = [
        perfect(r["unit"], y, second_births=200 if y == 2014 else 300) for r in rows for y in (2014, 2015)
    ]
    s = by_unit(run(scheme, rows + history, with_history=False))
    assert s["total"].to_dict() == {"DROP": 88, "TEN": 90, "SLIP": 94, "KEEP": 100, "GONE": 88}
    assert s["warning"].to_dict() == {
        "DROP": "rectification",
        "TEN": "rectification",
        "SLIP": "",
        "KEEP": "",
        "GONE": "",
    }
    assert s.loc["GONE", "veto"]


def test_rectification_never_in_the_first_year(scheme):
    # 2015 is the scheme's first year: a fall from a 2014 row is not compared (2014 was not
    # assessed under this scheme), and no warning says the rule could not be applied
    rows = [perfect("A", 2014), perfect("A", 2015, policy_awareness_rate=0, eugenics_awareness_rate=0)]
    units = pd.DataFrame([{"unit": "A", "name": "A", "kind": "division", "category": "north"}])
    res = ak.score(scheme, pd.DataFrame(rows), units=units, year=2015)
    assert res.summary["total"].tolist() == [82] and res.summary["warning"].tolist() == [""]


def test_ties_are_broken_by_basic_then_key_work(scheme):
    # both 90: A basic 30 + key work 60 (misses (1) 6, notification 2, follow-up 2);
    # B basic 20 + key work 70 (misses the whole-population entry rate, 94% < 95).
    # The tie-break order puts A first: A the one first prize, B second.
    rows = [
        perfect("A", policy_awareness_rate=90, ppc_notification_rate=90, ppc_followup_rate=90),
        perfect("B", population_in_db=94000),
    ]
    s = by_unit(run(scheme, rows))
    assert s["total"].to_dict() == {"A": 90, "B": 90}
    assert s["rank"].to_dict() == {"A": 1, "B": 2}
    assert s["award"].to_dict() == {"A": "first", "B": "second"}


def test_a_tie_the_order_cannot_break_is_flagged(scheme):
    # two perfect divisions: equal on the total, basic and key work → both first, flagged
    with pytest.warns(AssessKitWarning, match=r"A 2016, B 2016 at the boundary of award tier first"):
        res = run(scheme, [perfect("A"), perfect("B")])
    assert by_unit(res)["award"].to_dict() == {"A": "first", "B": "first"}


# --------------------------------------------------------------------------- scoring
def test_perfect_division_scores_100(scheme):
    res = run(scheme, [perfect("d08")])
    s = by_unit(res)
    assert s.loc["d08", "total"] == 100
    assert (res.items.status == "met").all()
    assert s.loc["d08", "award"] == "first" and s.loc["d08", "single_awards"] == "new_customs"
    assert s.loc["d08", "prize"] == 80000 + 35000


def test_classified_compliance_target(scheme):
    # policy births 960 / 1000 = 96%: south target 95 → met (100); north target 98 → missed (100 − 10 = 90)
    rows = [perfect("d01", policy_births=960), perfect("d04", policy_births=960)]
    res = run(scheme, rows, categories={"d01": "south", "d04": "north"})
    s = by_unit(res)
    assert s.loc["d01", "total"] == 100 and s.loc["d04", "total"] == 90
    assert item(res, "d01", "policy_compliance").target == 95
    assert item(res, "d04", "policy_compliance").target == 98
    assert item(res, "d04", "policy_compliance").status == "missed"
    assert s.loc["d04", "eligible"]  # one basic indicator missed: no loss of eligibility


def test_all_three_basic_missed_keeps_rank_loses_award(scheme):
    # A: three basic missed → 100 − 30 = 70 (eligible: no).
    # B–H: two basic missed (−20 → 80), registration and service grades 0 (−6 −6 → 68), then:
    #   B lawful 1.0 → 68; C lawful 0.5 (−3) → 65; D lawful 0 (−6) → 62;
    #   E = D + sf_support 0.5 (−1) → 61; F = D + sf_support 0 (−2) → 60;
    #   G = F + awareness 99% missed (−6) → 54; H = G + eugenics 90% missed (−6) → 48.
    base = dict(MISS_TWO_BASIC, registration_online_grade=0.0, service_commitment_grade=0.0)
    rows = [
        perfect("A", **MISS_ALL_BASIC),
        perfect("B", **base),
        perfect("C", **base, lawful_admin_grade=0.5),
        perfect("D", **base, lawful_admin_grade=0.0),
        perfect("E", **base, lawful_admin_grade=0.0, sf_support_grade=0.5),
        perfect("F", **base, lawful_admin_grade=0.0, sf_support_grade=0.0),
        perfect("G", **base, lawful_admin_grade=0.0, sf_support_grade=0.0, policy_awareness_rate=99),
        perfect(
            "H",
            **base,
            lawful_admin_grade=0.0,
            sf_support_grade=0.0,
            policy_awareness_rate=99,
            eugenics_awareness_rate=90,
        ),
    ]
    res = run(scheme, rows)
    s = by_unit(res)
    assert s["total"].to_dict() == pytest.approx(
        {"A": 70, "B": 68, "C": 65, "D": 62, "E": 61, "F": 60, "G": 54, "H": 48}
    )
    # A keeps rank 1 but is not eligible
    assert s["rank"].to_dict() == {u: i + 1 for i, u in enumerate("ABCDEFGH")}
    assert not s.loc["A", "eligible"] and not s.loc["A", "veto"]
    assert s.loc["A", "ineligible_reason"] == "三项基本指标均未完成，取消评优资格"
    # two basic indicators missed is no loss of eligibility
    assert s.loc[list("BCDEFGH"), "eligible"].all()
    # the awards pass down: B first, C D second, E F G third, H nothing
    assert s["award"].to_dict() == {
        "A": "",
        "B": "first",
        "C": "second",
        "D": "second",
        "E": "third",
        "F": "third",
        "G": "third",
        "H": "",
    }
    # 婚育新风推进奖 by heading 1 (12 for A–F, 6 for G H), ties by total, among eligible → B, C
    assert s.loc[s.single_awards != "", "single_awards"].to_dict() == {"B": "new_customs", "C": "new_customs"}
    assert s["prize"].to_dict() == {
        "A": 0,
        "B": 115000,
        "C": 105000,
        "D": 70000,
        "E": 60000,
        "F": 60000,
        "G": 60000,
        "H": 0,
    }
    assert s["prize"].sum() == 470000


def test_falsification_by_severity(scheme):
    rows = [
        perfect("P"),  # 100
        perfect("M2", falsification_minor_cases=2),  # 100 − 2 × 2 = 96
        perfect("M7", falsification_minor_cases=7),  # 7 × 2 = 14, capped at 10 → 90
        perfect("S", falsification_serious_cases=1),  # 100, ineligible
        perfect("G", falsification_grave_cases=1),  # vetoed
    ]
    res = run(scheme, rows)
    s = by_unit(res)
    assert s.loc["M2", "deduction"] == 4 and s.loc["M2", "total"] == 96
    assert s.loc["M7", "deduction"] == 10 and s.loc["M7", "total"] == 90
    # serious: keeps total and rank (tied with P at 100 on total and tie-breaks → both rank 1), no award
    assert s.loc["S", "total"] == 100 and s.loc["S", "rank"] == 1 and not s.loc["S", "veto"]
    assert not s.loc["S", "eligible"] and s.loc["S", "ineligible_reason"] == "弄虚作假（较重），取消评优资格"
    # grave: vetoed, out of ranking and awards
    assert (
        s.loc["G", "veto"]
        and pd.isna(s.loc["G", "rank"])
        and s.loc["G", "veto_reason"] == "严重弄虚作假，一票否决"
    )
    assert s["rank"].dropna().to_dict() == {"P": 1, "S": 1, "M2": 3, "M7": 4}
    assert s["award"].to_dict() == {"P": "first", "S": "", "M2": "second", "M7": "second", "G": ""}
    assert s.loc["G", "prize"] == 0 and s.loc["S", "prize"] == 0
    # the deduction appears in the item table with its reason
    adj = res.items[(res.items.unit == "M7") & (res.items.item == "falsification_minor")].iloc[0]
    assert adj.points == -10 and "capped at 10" in adj.reason


def test_other_veto_grounds(scheme):
    rows = [perfect("P"), perfect("X", multichild_findings=1), perfect("Y", unlawful_admin_findings=2)]
    s = by_unit(run(scheme, rows))
    assert s.loc["X", "veto"] and s.loc["X", "veto_reason"] == "政策外违法多孩生育问题突出，一票否决"
    assert s.loc["Y", "veto"] and s.loc["Y", "veto_reason"] == "违法行政造成恶劣影响，一票否决"
    assert s.loc["P", "rank"] == 1 and s["rank"].notna().sum() == 1
    assert s.loc["P", "award"] == "first"


def test_second_child_share_must_rise(scheme):
    rows = [
        perfect("UP"),  # 30% → 40%: met
        perfect("FLAT", second_births=300),  # 30% → 30%: no rise → missed (−6 → 94)
    ]
    res = run(scheme, rows)
    assert item(res, "UP", "second_child_rise").status == "met"
    flat = item(res, "FLAT", "second_child_rise")
    assert (flat.points, flat.status, flat.value) == (0, "missed", 30)
    assert by_unit(res).loc["FLAT", "total"] == 94
    # without a 2015 row the change cannot be judged: missing → 0 (policy 'zero') → 94
    with pytest.warns(AssessKitWarning, match="'rectification' .* could not be applied to NEW 2016"):
        res2 = run(scheme, [perfect("NEW")], with_history=False)  # nor can a decline
    new = item(res2, "NEW", "second_child_rise")
    assert (new.points, new.status) == (0, "missing")
    assert by_unit(res2).loc["NEW", "total"] == 94


def test_boundaries_and_cases(scheme):
    rows = [
        # eugenics exactly 95 → met (≥); coverage 79.9 → missed (−3); accuracy 94.9 → missed (−3.5)
        # fund misuse 1 case → −3 of item (8): total 100 − 3 − 3.5 − 3 = 90.5
        perfect(
            "A",
            eugenics_awareness_rate=95,
            ppc_coverage_rate=79.9,
            db_accuracy_rate=94.9,
            fund_misuse_cases=1,
        ),
        # fund misuse 3 cases → 9, capped at the item's 6 → 94; certificates 99% electronic → −1 → 93
        perfect("B", fund_misuse_cases=3, floating_cert_e_rate=99),
    ]
    res = run(scheme, rows)
    s = by_unit(res)
    assert item(res, "A", "eugenics_knowledge").status == "met"
    assert item(res, "A", "ppc_coverage").points == 0
    assert item(res, "A", "special_funds").points == 3 and item(res, "A", "special_funds").status == "partial"
    assert s.loc["A", "total"] == pytest.approx(90.5)
    assert item(res, "B", "special_funds").points == 0
    assert s.loc["B", "total"] == 93
    # node sums: A's pre-pregnancy check 7 − 3 = 4; population database 7 − 3.5 = 3.5
    it = res.items[res.items.unit == "A"].set_index("item").points
    assert it[["ppc_coverage", "ppc_notification", "ppc_followup"]].sum() == 4
    assert it[["db_completeness", "db_accuracy"]].sum() == 3.5


def test_impossible_rates_are_rejected(scheme):
    with pytest.raises(ak.DataError):
        run(scheme, [perfect("A", policy_births=1001)])  # 100.1% > 100


# --------------------------------------------------------------------------- bundled example
def test_bundled_example_scores():
    scheme = ak.load_scheme("xpcc_2015")
    res = ak.score(scheme, EXAMPLE / "panel.csv", units=EXAMPLE / "units.csv", grades=EXAMPLE / "grades.csv")
    s = res.summary
    assert res.warnings == ()
    assert len(s) == 28 and sorted(s.year.unique()) == [2015, 2016]  # 14 divisions × 2 years; 2014 is history
    reg = pd.read_csv(EXAMPLE / "units.csv")
    assert len(reg) == 14 and reg.synthetic.all()
    assert set(reg.category) == {"south", "north"}
    assert sorted(reg.loc[reg.category == "south", "unit"]) == ["d01", "d02", "d03", "d14"]
    assert (reg.registry_source.str.contains("general knowledge")).all()
    # 470,000 yuan each year (all eight awards are given)
    assert s.groupby("year").prize.sum().to_dict() == {2015: 470000, 2016: 470000}
    k = s.set_index(["year", "unit"])
    # planted 2016 cases (README)
    assert k.loc[(2016, "d10"), "total"] == 100 and k.loc[(2016, "d10"), "rank"] == 1
    assert not k.loc[(2016, "d10"), "eligible"] and k.loc[(2016, "d10"), "award"] == ""
    first = s[(s.year == 2016) & (s.award == "first")]
    assert list(first.unit) == ["d08"] and first["rank"].iloc[0] == 2
    assert not k.loc[(2016, "d03"), "eligible"] and not pd.isna(k.loc[(2016, "d03"), "rank"])
    assert k.loc[(2016, "d03"), "ineligible_reason"] == "三项基本指标均未完成，取消评优资格"
    assert k.loc[(2016, "d05"), "veto"]
    assert k.loc[(2016, "d12"), "deduction"] == 4
    assert k.loc[(2015, "d14"), "veto"] and k.loc[(2015, "d11"), "veto"]
    it = res.items.set_index(["year", "unit", "item"])
    assert it.loc[(2016, "d01", "policy_compliance"), "status"] == "met"  # south, 96%
    assert it.loc[(2016, "d04", "policy_compliance"), "status"] == "missed"  # north, 96%
    assert it.loc[(2016, "d02", "special_funds"), "points"] == 3
    assert it.loc[(2016, "d07", "second_child_rise"), "status"] == "missed"
    # 限期整改 in 2016 for a fall of 10 points or more from 2015: d03 89.70 → 63.08 (−26.62),
    # d04 92.20 → 80.36 (−11.84), d12 91.78 → 75.96 (−15.82); d01 (−7.68) and d07 (−7.66) are
    # not; none in 2015 (the scheme's first year)
    warned = s.loc[s["warning"] != "", ["year", "unit", "warning"]]
    assert sorted(warned.values.tolist()) == [[2016, u, "rectification"] for u in ("d03", "d04", "d12")]
    drop = k["total"].unstack("year")
    assert ((drop[2015] - drop[2016]).round(2)[["d03", "d04", "d12"]] == [26.62, 11.84, 15.82]).all()


def test_rectification_shows_on_the_demo_score_card_and_overview(tmp_path):
    """The demo pages' blocks show any warning by its label: 限期整改 on the unit's score card,
    in the overview's league table and in its list of awards and warnings."""
    from assesskit.datasets.demo import FILE_NAMES, write_demo_data
    from assesskit.report import OverviewPage, UnitPage, load_context

    d = write_demo_data(tmp_path, 0, ["xpcc_2015"]) / "xpcc_2015"
    files = {
        role: d / FILE_NAMES[role] for role in ("data", "units", "grades") if (d / FILE_NAMES[role]).exists()
    }
    ctx = load_context("xpcc_2015", files.pop("data"), **files)
    s = ctx.summary.set_index(["year", "unit"])
    # demo 2016: d01 86.34 → 74.66 (−11.68) and d14 97.48 → 79.28 (−18.20) fall by 10 or more
    assert sorted(s.index[s["warning"] == "rectification"]) == [(2016, "d01"), (2016, "d14")]
    label = "工作严重滑坡，限期整改"
    assert label in UnitPage(ctx, "d01", 2016).score_card().html
    assert label not in UnitPage(ctx, "d02", 2016).score_card().html
    page = OverviewPage(ctx, 2016)
    assert page.league().html.count(label) == 2
    assert page.awards().html.count(label) == 2
    assert label not in OverviewPage(ctx, 2015).league().html
