"""The scoring engine on the small test scheme (tests/fixtures/mini.yaml), by hand.

mini: one 100-point town line — basic (60): pr policy rate ≥ target by category
(seat 99, rural 95) 40 pts, sr sex ratio moving ≥1 toward 103–107 20 pts; gr inspector
points 40. Deduction 5 per falsification case. Veto when pr is missed. One first prize;
yellow card for the bottom unit.
"""

import numpy as np
import pandas as pd
import pytest

from assesskit import load_scheme, parse_scheme, score
from assesskit.scoring import competition_rank

from .conftest import FIX


@pytest.fixture
def mini(mini_path):
    return load_scheme(mini_path)


@pytest.fixture
def res(mini):
    return score(mini, FIX / "mini.csv", year=2016)


def row(res, unit):
    return res.summary.set_index("unit").loc[unit]


def test_mini_totals_by_hand(res):
    # A (seat): 100/100 = 100% ≥ 99 → 40; SRB 2015 55/45 = 122.22, 2016 54/46 = 117.39: distance to
    #   107 falls 15.22 → 10.39 (≥ 1) → 20; grade 35 → 35; 1 falsification case → −5. Total 90.
    # B (rural): 190/200 = 95% ≥ 95 → 40; no 2015 row and 122.2 is outside 103–107 → missing, 0;
    #   grade 40. Total 80.
    # C (rural): 180/200 = 90% < 95 → vetoed (lines still 0 + 20 + 20 = 40).
    # D (rural): 199/200 = 99.5% → 40; 103/97 = 106.19 inside the normal range → 20; grade 20. Total 80.
    s = res.summary.set_index("unit")
    assert s.loc[["A", "B", "C", "D"], "total"].tolist() == [90, 80, 40, 80]
    assert s.loc["A", "deduction"] == 5 and s.loc["A", "line_main"] == 95
    assert s.loc["C", "veto"] and s.loc["C", "veto_reason"] == "符合率未完成"
    assert pd.isna(s.loc["C", "rank"]) and not s.loc["C", "eligible"]
    # ties share the best rank: B and D both 2nd
    assert s.loc[["A", "B", "D"], "rank"].tolist() == [1, 2, 2]
    assert s.loc["A", "award"] == "first" and s.loc["A", "prize"] == 100
    # the yellow card goes to the bottom ranked unit; B and D tie there, so both get it; C is vetoed
    assert s.loc[["B", "D"], "warning"].tolist() == ["yellow", "yellow"]
    assert s.loc["C", "warning"] == ""


def test_items_explain_every_lost_point(res):
    it = res.items
    c = it[(it.unit == "C") & (it.item == "pr")].iloc[0]
    assert c.status == "vetoed" and c.points == 0
    assert c.reason == "vetoed — missed: value 90, target >= 95 → 0/40"
    b = it[(it.unit == "B") & (it.item == "sr")].iloc[0]
    assert b.status == "missing"
    assert b.reason.startswith("no value for the previous year → scored 0")
    a = it[(it.unit == "A") & (it.item == "f")].iloc[0]
    assert (a.status, a.points) == ("deduction", -5)
    # the lost points of each unit add up to max − lines total
    lost = it[it.status != "deduction"].groupby("unit")["lost"].sum()
    lines = res.summary.set_index("unit")["line_main"]
    assert np.allclose(lost.sort_index(), 100 - lines.sort_index())


def test_rank_ties_and_tie_break():
    rank = competition_rank(np.zeros(5, int), [np.array([3.0, 5, 5, 1, 5])], np.ones(5, bool))
    assert rank.tolist() == [4, 1, 1, 5, 1]
    # a tie-break key splits the tie; an excluded row gets no rank; groups rank separately
    rank = competition_rank(
        np.array([0, 0, 0, 1, 1]),
        [np.array([5.0, 5, 5, 2, 3]), np.array([1.0, 2, 0, 0, 0])],
        np.array([True, True, True, True, False]),
    )
    assert rank[:4].tolist() == [2, 1, 3, 1] and np.isnan(rank[4])


def _panel(policy, grade, fals=None, cat="rural"):
    n = len(policy)
    return pd.DataFrame(
        {
            "unit": [f"u{i}" for i in range(n)],
            "year": 2016,
            "category": cat,
            # SRB 51/49 = 104.1: inside 103–107, so sr is met (20) without history
            "births": 100,
            "male_births": 51,
            "female_births": 49,
            "policy_births": policy,
            "g1": grade,
            "fals": fals if fals is not None else [0] * n,
        }
    )


def test_not_scored_effect(mini_raw):
    mini_raw["vetoes"][0]["effect"] = "not_scored"
    r = score(parse_scheme(mini_raw), _panel([99, 90], [40, 40]))
    s = r.summary.set_index("unit")
    assert s.loc["u0", "total"] == 100 and s.loc["u0", "rank"] == 1
    assert np.isnan(s.loc["u1", "total"]) and s.loc["u1", "not_scored"] and s.loc["u1", "veto"]


def test_ineligible_keeps_rank_and_the_prize_passes_down(mini_raw):
    mini_raw["vetoes"] = [
        {
            "id": "f3",
            "label": "严重弄虚作假",
            "effect": "ineligible",
            "when": {"indicator": "fals", "op": ">=", "value": 2},
        }
    ]
    mini_raw["outcomes"]["tiers"] = [
        {"id": "first", "label": "一", "count": 1, "prize": 10},
        {"id": "second", "label": "二", "count": 1, "prize": 5},
    ]
    # u0: 100 − 2×5 = 90 but 2 cases → ineligible; u1: 85; u2: 80
    r = score(parse_scheme(mini_raw), _panel([99, 99, 99], [40, 25, 20], fals=[2, 0, 0]))
    s = r.summary.set_index("unit")
    s = s.loc[["u0", "u1", "u2"]]
    assert s["total"].tolist() == [90, 85, 80]
    assert s["rank"].tolist() == [1, 2, 3]
    assert s["award"].tolist() == ["", "first", "second"]
    assert s.loc["u0", "ineligible_reason"] == "严重弄虚作假"
    assert s["prize"].sum() == 15


def test_tie_at_tier_boundary_shares_the_better_tier(mini_raw):
    mini_raw["outcomes"]["tiers"] = [
        {"id": "first", "label": "一", "count": 1},
        {"id": "second", "label": "二", "count": 1},
    ]
    r = score(parse_scheme(mini_raw), _panel([99, 99, 99], [30, 30, 20]))
    assert r.summary.set_index("unit").loc[["u0", "u1", "u2"], "award"].tolist() == [
        "first",
        "first",
        "second",
    ]


def test_min_total_tier_and_below_total_warning(mini_raw):
    mini_raw["outcomes"]["tiers"] = [{"id": "excellent", "label": "优秀", "min_total": 90}]
    mini_raw["outcomes"]["warnings"] = [{"id": "yellow", "label": "黄牌", "below_total": 70}]
    r = score(parse_scheme(mini_raw), _panel([99, 99, 99], [40, 35, 5]))
    s = r.summary.set_index("unit").loc[["u0", "u1", "u2"]]
    assert s["total"].tolist() == [100, 95, 65]
    assert s["award"].tolist() == ["excellent", "excellent", ""]
    assert s["warning"].tolist() == ["", "", "yellow"]


def test_missing_policy_full_is_explicit(mini_raw):
    mini_raw["lines"][0]["items"][1]["missing"] = "full"
    r = score(parse_scheme(mini_raw), _panel([99], [np.nan]))
    it = r.items.set_index("item")
    assert it.loc["gr", "points"] == 40 and it.loc["gr", "status"] == "missing"
    assert "scored full points (missing-data policy 'full')" in it.loc["gr", "reason"]


def test_adjustment_cap_and_floor(mini_raw):
    mini_raw["adjustments"][0]["cap"] = 12
    # 10 cases × 5 = 50, capped at 12; a unit at 10 points − 12 is floored at 0
    r = score(parse_scheme(mini_raw), _panel([90, 99], [0, 40], fals=[10, 10]))
    s = r.summary.set_index("unit").loc[["u0", "u1"]]
    assert s["deduction"].tolist() == [12, 12]
    assert s.loc["u1", "total"] == 100 - 12
    # u0: pr missed (vetoed, 0), sr met 20, grade 0: 20 − 12 = 8
    assert s.loc["u0", "total"] == 8
    r = score(parse_scheme(mini_raw), _panel([90], [0], fals=[10]).assign(male_births=60, female_births=40))
    # SRB 150 outside normal, no history → sr 0; 0 − 12 is raised to the floor 0
    assert r.summary["total"].tolist() == [0]


def test_single_award_by_section(mini_raw):
    mini_raw["outcomes"]["single_awards"] = [
        {"id": "best_basic", "label": "单项", "rank_by": "gr", "count": 1, "prize": 3}
    ]
    r = score(parse_scheme(mini_raw), _panel([99, 99], [20, 30]))
    s = r.summary.set_index("unit")
    assert s.loc[["u0", "u1"], "single_awards"].tolist() == ["", "best_basic"]
    assert s.loc["u1", "prize"] == 103  # first prize 100 + single award 3


def test_category_targets(mini):
    # 98% meets the rural target 95 but misses the seat target 99
    df = pd.concat([_panel([98], [40], cat="seat"), _panel([98], [40], cat="rural").assign(unit="r")])
    it = score(mini, df).items.query("item == 'pr'").set_index("unit")
    assert it.loc["u0", "status"] == "vetoed" and it.loc["u0", "target"] == 99
    assert it.loc["r", "status"] == "met" and it.loc["r", "target"] == 95


def test_year_selection_uses_history(mini):
    r = score(mini, FIX / "mini.csv", year=2016)
    assert set(r.summary.year) == {2016}
    r_all = score(mini, FIX / "mini.csv")
    assert sorted(r_all.summary.year.unique()) == [2015, 2016]


def test_zero_denominator_is_missing_unless_declared(mini_raw):
    # 0 policy births of 0 births: policy_rate 0/0 is undefined → missing → 0 and, being
    # "missed", the veto fires; declaring zero_denominator: 100 makes it 100 → met.
    df = _panel([0], [40]).assign(births=0, male_births=0, female_births=0)
    r = score(parse_scheme(mini_raw), df)
    pr = r.items.set_index("item").loc["pr"]
    assert pr.status == "missing" and pr.points == 0  # the status says why: no value
    assert r.summary.veto.iloc[0]  # and a missing value counts as missed, so the veto fires
    mini_raw["indicators"]["policy_rate"]["zero_denominator"] = 100
    r = score(parse_scheme(mini_raw), df)
    pr = r.items.set_index("item").loc["pr"]
    assert (pr.status, pr.points, pr.value) == ("met", 40, 100)


def test_missing_value_is_missed_even_under_full_policy(mini_raw):
    # missing: full gives the points, but a missing value never counts as "met" for a veto
    mini_raw["missing"] = "full"
    df = _panel([99, 99], [40, 40]).astype({"policy_births": float})
    df.loc[1, "policy_births"] = np.nan
    s = score(parse_scheme(mini_raw), df).summary.set_index("unit")
    assert not s.loc["u0", "veto"] and s.loc["u1", "veto"]
    assert s.loc["u1", "line_main"] == 100  # full points for the missing item


def test_bottom_warning_uses_tie_break_and_skips_a_lone_unit(mini_raw):
    mini_raw["outcomes"]["tie_break"] = ["gr"]
    # u0: pr 40 + sr 0 (SRB 60/40 = 150, no history) + gr 40 = 80
    # u1: pr 40 + sr 20 (51/49 = 104.1, inside normal) + gr 20 = 80
    # equal totals; the tie-break on gr puts u1 (20) below u0 (40): u1 alone is last
    df = _panel([99, 99], [40, 20]).assign(male_births=[60, 51], female_births=[40, 49])
    s = score(parse_scheme(mini_raw), df).summary.set_index("unit")
    assert s.loc["u0", "total"] == s.loc["u1", "total"] == 80
    assert (s.loc["u0", "rank"], s.loc["u1", "rank"]) == (1, 2)
    assert s.loc["u1", "warning"] == "yellow" and s.loc["u0", "warning"] == ""
    # one ranked unit alone gets the first prize, not also the yellow card
    s1 = score(parse_scheme(mini_raw), _panel([99], [40])).summary
    assert s1.award.iloc[0] == "first" and s1.warning.iloc[0] == ""


def test_linear_with_category_target_below_floor_is_rejected(mini_raw):
    from assesskit import SchemeError

    mini_raw["lines"][0]["items"][0]["items"][0]["rule"] = {
        "type": "linear",
        "indicator": "policy_rate",
        "floor": 96,
        "target": {"by_category": {"seat": 99, "rural": 94}},
    }
    with pytest.raises(SchemeError, match="floor 96 must lie below the target 94"):
        parse_scheme(mini_raw)
