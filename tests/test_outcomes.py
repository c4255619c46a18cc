"""Outcomes: per-kind outcomes (``applies_to`` on each award and warning), the policy for
ties at the boundary of fixed-count awards (``ties: share | tiebreak | split``) and
warnings on a decline against the previous year.

The test scheme: towns have one 100-point line of two inspector-graded items, ``a`` (60)
and ``b`` (40), whose points are the panel's ``ga`` and ``gb``; departments have one
100-point line, item ``c`` (``gc``). Every expectation below is worked out by hand.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import assesskit as ak
from assesskit import kernel
from assesskit.exceptions import AssessKitWarning, SchemeError
from assesskit.kernel import Ranking, Variation
from assesskit.kernel.outcomes import allocate
from assesskit.scheme import parse_scheme

nan = np.nan

BASE = {
    "id": "t_outcomes",
    "label": "结果测试",
    "source": "test",
    "years": [2015, 2016],
    "kinds": {"town": {"label": "镇", "points": 100}, "department": {"label": "部门", "points": 100}},
    "indicators": {"ga": {}, "gb": {}, "gc": {}, "bad": {"kind": "count"}},
    "lines": [
        {
            "id": "town_line",
            "label": "镇线",
            "points": 100,
            "unit_kind": "town",
            "items": [
                {"id": "a", "label": "甲", "points": 60, "rule": {"type": "graded", "indicator": "ga"}},
                {"id": "b", "label": "乙", "points": 40, "rule": {"type": "graded", "indicator": "gb"}},
            ],
        },
        {
            "id": "dept_line",
            "label": "部门线",
            "points": 100,
            "unit_kind": "department",
            "items": [
                {"id": "c", "label": "丙", "points": 100, "rule": {"type": "graded", "indicator": "gc"}}
            ],
        },
    ],
    "vetoes": [
        {
            "id": "v",
            "label": "否决",
            "effect": "not_scored",
            "when": {"indicator": "bad", "op": ">=", "value": 1},
        }
    ],
}
TIERS = [
    {"id": "first", "label": "一等奖", "count": 1, "prize": 80},
    {"id": "second", "label": "二等奖", "count": 2, "prize": 70},
    {"id": "third", "label": "三等奖", "count": 3, "prize": 60},
]


def scheme_with(**outcomes):
    raw = copy.deepcopy(BASE)
    raw["outcomes"] = outcomes
    return parse_scheme(raw)


def score(scheme, rows, year=2016):
    """Score ``rows`` (unit, a, b[, year, c, bad]) for ``year``; T… are towns, D… departments."""
    data = pd.DataFrame(
        [
            {
                "unit": r[0],
                "year": r[3] if len(r) > 3 else 2016,
                "ga": r[1],
                "gb": r[2],
                "gc": r[4] if len(r) > 4 else r[1] + r[2],
                "bad": r[5] if len(r) > 5 else 0,
            }
            for r in rows
        ]
    )
    kinds = {u: ("town" if u.startswith("T") else "department") for u in data["unit"]}
    units = pd.DataFrame({"unit": list(kinds), "name": list(kinds), "kind": list(kinds.values())})
    return ak.score(scheme, data, units=units, year=year)


def by_unit(res, col):
    s = res.summary.set_index("unit")[col]
    return {u: (v if not isinstance(v, float) or not np.isnan(v) else None) for u, v in s.items()}


# Four towns tied at 90 for first; then 85, 80, 75, 70.
TIED = [("T1", 50, 40), ("T2", 50, 40), ("T3", 50, 40), ("T4", 50, 40), ("T5", 45, 40), ("T6", 40, 40)]
TIED += [("T7", 35, 40), ("T8", 30, 40)]


# --------------------------------------------------------------------------- ties
def test_ties_share_gives_every_tied_unit_the_better_tier():
    res = score(scheme_with(ties="share", tiers=TIERS, applies_to=["town"]), TIED)
    # 4 tied at the top all get first (80 each); second takes the next 2 (T5 85, T6 80);
    # third the next 3: T7 75 and T8 70 (only two left)
    award = by_unit(res, "award")
    assert [award[f"T{i}"] for i in range(1, 9)] == ["first"] * 4 + ["second"] * 2 + ["third"] * 2
    assert by_unit(res, "prize") == {f"T{i}": p for i, p in enumerate([80] * 4 + [70] * 2 + [60] * 2, 1)}
    assert res.summary["prize"].sum() == 4 * 80 + 2 * 70 + 2 * 60  # 580: more than the 6 prizes


def test_ties_share_is_the_default():
    assert scheme_with(tiers=TIERS).outcomes.ties == "share"


def test_ties_split_shares_the_money_of_the_places_the_tie_spans():
    res = score(scheme_with(ties="split", tiers=TIERS, applies_to=["town"]), TIED)
    # T1–T4 take places 1–4: first 80 + second 70 + second 70 + third 60 = 280, 70 each;
    # T5 takes place 5 and T6 place 6 (both third, 60); T7 and T8 get nothing
    award, prize = by_unit(res, "award"), by_unit(res, "prize")
    assert [award[f"T{i}"] for i in range(1, 5)] == ["first; second; third"] * 4
    assert [prize[f"T{i}"] for i in range(1, 5)] == [70.0] * 4
    assert (award["T5"], prize["T5"], award["T6"], prize["T6"]) == ("third", 60, "third", 60)
    assert (award["T7"], prize["T7"], award["T8"], prize["T8"]) == ("", 0, "", 0)
    assert res.summary["prize"].sum() == 80 + 2 * 70 + 3 * 60  # 400: exactly the six prizes


def test_ties_split_inside_one_tier_and_across_two():
    # totals 95, 90, 90, 90, 85: T1 first; T2–T4 share places 2–4 = second, second, third
    # (70 + 70 + 60 = 200, 66.67 each); T5 place 5 (third, 60)
    rows = [("T1", 55, 40), ("T2", 50, 40), ("T3", 50, 40), ("T4", 50, 40), ("T5", 45, 40)]
    res = score(scheme_with(ties="split", tiers=TIERS), [*rows, ("D1", 0, 0, 2016, 90)])
    prize, award = by_unit(res, "prize"), by_unit(res, "award")
    assert prize["T1"] == 80 and award["T1"] == "first"
    assert [prize[u] for u in ("T2", "T3", "T4")] == pytest.approx([200 / 3] * 3)
    assert award["T2"] == "second; third"
    assert prize["T5"] == 60 and award["T5"] == "third"
    assert prize["D1"] == 80 and award["D1"] == "first"  # the one department: its own group
    # a tie wholly inside a tier is no different: T1 (95) first, then 2 at 90 share second (70 each)
    rows = [("T1", 55, 40), ("T2", 50, 40), ("T3", 50, 40), ("T4", 45, 40)]
    res = score(scheme_with(ties="split", tiers=TIERS, applies_to=["town"]), rows)
    assert by_unit(res, "prize") == {"T1": 80, "T2": 70, "T3": 70, "T4": 60}


def test_ties_tiebreak_decides_by_the_order():
    # all four at 90, a = 60, 58, 55, 50 → T1 first, T2 and T3 second, T4 third; T5 and T6
    # fill the third tier (3 places); T7, T8 nothing — six awards, as the tiers say
    rows = [("T1", 60, 30), ("T2", 58, 32), ("T3", 55, 35), ("T4", 50, 40)] + TIED[4:]
    res = score(scheme_with(ties="tiebreak", tie_break=["a"], tiers=TIERS, applies_to=["town"]), rows)
    award = by_unit(res, "award")
    assert [award[f"T{i}"] for i in range(1, 9)] == [
        "first",
        "second",
        "second",
        "third",
        "third",
        "third",
        "",
        "",
    ]
    assert res.summary["prize"].sum() == 80 + 2 * 70 + 3 * 60
    # under share the same order decides the ranks, but a tie it cannot break is shared silently
    assert by_unit(res, "rank")["T4"] == 4


def test_ties_tiebreak_flags_a_tie_the_order_cannot_break():
    # all at 90; a: T1 60, T2 60, T3 55, T4 50 → T1 and T2 still tied for the one first prize
    rows = [("T1", 60, 30), ("T2", 60, 30), ("T3", 55, 35), ("T4", 50, 40)]
    s = scheme_with(ties="tiebreak", tie_break=["a"], tiers=TIERS, applies_to=["town"])
    with pytest.warns(AssessKitWarning, match=r"T1 2016, T2 2016 at the boundary of award tier first"):
        res = score(s, rows)
    # flagged, and shared meanwhile: both first; second goes to the next two
    assert by_unit(res, "award") == {"T1": "first", "T2": "first", "T3": "second", "T4": "second"}


def test_ties_tiebreak_needs_an_order():
    with pytest.raises(SchemeError, match="ties: tiebreak needs a tie_break order"):
        scheme_with(ties="tiebreak", tiers=TIERS)
    with pytest.raises(SchemeError, match="Input should be 'share', 'tiebreak' or 'split'"):
        scheme_with(ties="lottery", tiers=TIERS)


def test_single_award_split_and_share():
    single = [{"id": "s", "label": "单项", "rank_by": "a", "count": 1, "prize": 3000}]
    rows = [("T1", 50, 40), ("T2", 50, 40), ("T3", 40, 40)]  # T1 and T2 tie on a and on total
    res = score(scheme_with(ties="split", single_awards=single, applies_to=["town"]), rows)
    assert by_unit(res, "single_awards") == {"T1": "s", "T2": "s", "T3": ""}
    assert by_unit(res, "prize") == {"T1": 1500, "T2": 1500, "T3": 0}
    res = score(scheme_with(ties="share", single_awards=single, applies_to=["town"]), rows)
    assert by_unit(res, "prize") == {"T1": 3000, "T2": 3000, "T3": 0}


def test_allocate_over_draws_by_hand():
    # one group of five, two draws; tiers 1 × 10, 2 × 5
    total = np.array([[9.0, 9, 9, 7, 6], [9.0, 8, 7, 7, 7]])
    r = Ranking(np.zeros(5, int), [total])
    tiers = [(1, None, 10.0, True), (2, None, 5.0, True)]
    every = np.ones((2, 5), bool)
    sp = allocate(r, every, total, tiers, "split")
    # draw 0: three tied take places 1–3 (10 + 5 + 5 = 20, 6.67 each); draw 1: 9 first,
    # 8 second, three at 7 share place 3 (5 / 3 each)
    np.testing.assert_allclose(sp.prize, [[20 / 3] * 3 + [0, 0], [10, 5] + [5 / 3] * 3])
    assert sp.tier.tolist() == [[0, 0, 0, -1, -1], [0, 1, 1, 1, 1]]
    assert sp.tier_last.tolist() == [[1, 1, 1, -1, -1], [0, 1, 1, 1, 1]]
    sh = allocate(r, every, total, tiers, "share")
    np.testing.assert_allclose(sh.prize, [[10, 10, 10, 5, 5], [10, 5, 5, 5, 5]])
    assert not sh.unresolved.any()
    tb = allocate(r, every, total, tiers, "tiebreak")
    assert tb.unresolved.tolist() == [[True] * 3 + [False] * 2, [False, False, True, True, True]]


def test_ranking_tied_and_group_sum_by_hand():
    r = Ranking(np.array([0, 0, 0, 1, 1]), [np.array([5.0, 5, 3, 2, 2])])
    assert np.array_equal(r.tied(np.ones(5, bool)), [2, 2, 1, 2, 2])
    assert np.array_equal(r.tied(np.array([1, 0, 1, 1, 1], bool)), [1, nan, 1, 2, 2], equal_nan=True)
    assert np.array_equal(r.group_sum(np.array([1.0, 2, 3, 4, 5])), [6, 6, 6, 9, 9])


# --------------------------------------------------------------------------- per kind
def test_awards_for_towns_and_a_yellow_card_for_departments():
    s = scheme_with(
        tiers=[{"id": "first", "label": "一等奖", "count": 1, "prize": 80, "applies_to": ["town"]}],
        warnings=[{"id": "yellow", "label": "黄牌", "bottom": 1, "applies_to": ["department"]}],
    )
    rows = [("T1", 60, 40), ("T2", 50, 30), ("D1", 0, 0, 2016, 90), ("D2", 0, 0, 2016, 70)]
    res = score(s, rows)
    # towns: T1 100 first, T2 80 (last town, but the yellow card is for departments);
    # departments: D1 90 (first department, but tiers are for towns), D2 70 yellow card
    assert by_unit(res, "award") == {"D1": "", "D2": "", "T1": "first", "T2": ""}
    assert by_unit(res, "warning") == {"D1": "", "D2": "yellow", "T1": "", "T2": ""}
    assert by_unit(res, "eligible") == {"D1": False, "D2": False, "T1": True, "T2": True}
    assert by_unit(res, "rank") == {"D1": 1, "D2": 2, "T1": 1, "T2": 2}


def test_an_outcome_without_applies_to_takes_the_scheme_level_list():
    s = scheme_with(
        applies_to=["town"],
        tiers=[{"id": "first", "label": "一等奖", "count": 1}],
        warnings=[
            {"id": "yellow", "label": "黄牌", "bottom": 1},
            {"id": "dept_low", "label": "部门低分", "below_total": 80, "applies_to": ["department"]},
        ],
    )
    assert s.outcomes.kinds_of(s.outcomes.warnings[0]) == ["town"]
    rows = [("T1", 60, 40), ("T2", 50, 30), ("D1", 0, 0, 2016, 90), ("D2", 0, 0, 2016, 70)]
    res = score(s, rows)
    assert by_unit(res, "warning") == {"D1": "", "D2": "dept_low", "T1": "", "T2": "yellow"}
    assert by_unit(res, "award") == {"D1": "", "D2": "", "T1": "first", "T2": ""}


def test_unknown_kinds_are_refused_naming_the_outcome():
    with pytest.raises(SchemeError) as e:
        scheme_with(
            tiers=[{"id": "first", "label": "一等奖", "count": 1, "applies_to": ["village"]}],
            single_awards=[{"id": "s1", "label": "单项", "rank_by": "a", "count": 1, "applies_to": ["twon"]}],
            warnings=[{"id": "yellow", "label": "黄牌", "bottom": 1, "applies_to": ["department", "dept"]}],
        )
    text = str(e.value)
    assert "outcomes › first: applies_to names unknown kind 'village'" in text
    assert "outcomes › s1: applies_to names unknown kind 'twon'" in text
    assert "outcomes › yellow: applies_to names unknown kind 'dept'" in text
    assert "(3 problems)" in text


def test_outcome_ids_must_be_unique():
    with pytest.raises(SchemeError, match="outcomes › x: outcome id is used twice"):
        scheme_with(
            tiers=[{"id": "x", "label": "一等奖", "count": 1}],
            warnings=[{"id": "x", "label": "黄牌", "bottom": 1}],
        )


# --------------------------------------------------------------------------- decline
DECLINE = [{"id": "rectify", "label": "限期整改", "decline": {"total": 10}}]
# 2015 and 2016 totals (a + b): T1 90 → 78 (−12), T2 90 → 81 (−9), T3 85 → 75 (−10 exactly),
# T4 70 → 95 (+25); T5 has no 2015 row; 2014 (before the scheme) for T1: 100.
HISTORY = [
    ("T1", 60, 40, 2014),
    ("T1", 50, 40, 2015),
    ("T2", 50, 40, 2015),
    ("T3", 45, 40, 2015),
    ("T4", 30, 40, 2015),
    ("T1", 38, 40, 2016),
    ("T2", 41, 40, 2016),
    ("T3", 35, 40, 2016),
    ("T4", 55, 40, 2016),
]


def test_decline_warns_a_fall_of_at_least_the_threshold():
    res = score(scheme_with(warnings=DECLINE), HISTORY)  # 2016 only: 2015 scored as history
    assert by_unit(res, "warning") == {"T1": "rectify", "T2": "", "T3": "rectify", "T4": ""}
    both = score(scheme_with(warnings=DECLINE), HISTORY, year=[2015, 2016])
    s = both.summary.set_index(["year", "unit"])["warning"]
    # 2016 the same from the same run; 2015 is the scheme's first year: no comparison with
    # 2014 (T1 fell from 100 to 90 but 2014 was not assessed under this scheme), no warning
    assert s.loc[2016].to_dict() == {"T1": "rectify", "T2": "", "T3": "rectify", "T4": ""}
    assert s.loc[2015].to_dict() == {"T1": "", "T2": "", "T3": "", "T4": ""}


def test_decline_without_a_previous_year_warns_that_the_rule_could_not_be_applied():
    rows = [*HISTORY, ("T5", 10, 10, 2016)]
    with pytest.warns(AssessKitWarning, match=r"'rectify' \(限期整改\) could not be applied to T5 2016"):
        res = score(scheme_with(warnings=DECLINE), rows)
    assert by_unit(res, "warning")["T5"] == ""
    # a previous year that was not scored (veto: not_scored) cannot be compared either
    rows = [(u, a, b, y, a + b, 1 if (u, y) == ("T1", 2015) else 0) for u, a, b, y in HISTORY]
    with pytest.warns(AssessKitWarning, match="could not be applied to T1 2016"):
        res = score(scheme_with(warnings=DECLINE), rows)
    assert by_unit(res, "warning")["T1"] == ""


def test_decline_by_rank_and_for_one_kind_only():
    w = [{"id": "fall", "label": "名次下滑", "decline": {"rank": 2}, "applies_to": ["town"]}]
    # 2015 ranks: T1 1 (90), T2 1 (90), T3 3 (85), T4 4 (70); 2016: T4 1 (95), T2 2 (81),
    # T1 3 (78), T3 4 (75): T1 fell 2 places (warned), T2 1, T3 1
    rows = [*HISTORY, ("D1", 0, 0, 2015, 90), ("D1", 0, 0, 2016, 10), ("D2", 0, 0, 2015, 5)]
    rows += [("D2", 0, 0, 2016, 80)]
    res = score(scheme_with(warnings=w), rows)
    assert by_unit(res, "warning") == {"D1": "", "D2": "", "T1": "fall", "T2": "", "T3": "", "T4": ""}


def test_a_vetoed_unit_gets_no_decline_warning():
    rows = [(u, a, b, y, a + b, 1 if (u, y) == ("T1", 2016) else 0) for u, a, b, y in HISTORY]
    res = score(scheme_with(warnings=DECLINE), rows)
    assert by_unit(res, "warning") == {"T1": "", "T2": "", "T3": "rectify", "T4": ""}


def test_decline_needs_a_threshold():
    with pytest.raises(SchemeError, match="a decline needs total"):
        scheme_with(warnings=[{"id": "w", "label": "滑坡", "decline": {}}])


def test_decline_in_draws_uses_each_draws_scheme_for_the_previous_year():
    res = score(scheme_with(warnings=DECLINE), HISTORY)
    inp = res.inputs
    same = kernel.run(inp, Variation(2))
    assert same.warnings[0].tolist() == [[True, False, True, False]] * 2
    # draw 1 counts item b double (weight 2): totals rise by b = 40 in both years, the
    # declines stay (−12, −9, −10, +25); draw 0 leaves a out (weight 0): 2015 and 2016
    # are both 40 for every town, no decline
    var = Variation(2, weight=np.array([[0.0, 1, 1], [1.0, 2, 1]]))
    out = kernel.run(inp, var)
    assert out.warnings[0].tolist() == [[False] * 4, [True, False, True, False]]


def test_decline_in_data_draws_compares_with_the_nominal_previous_year():
    res = score(scheme_with(warnings=DECLINE), HISTORY)
    # 2016 a of T1..T4 is 38, 41, 35, 55; draw 1 lowers T2's to 39 (total 79, −11 from 90)
    # and raises T1's to 45 (85, −5): T1 no longer warned, T2 warned; 2015 stays nominal
    ga = np.array([[38.0, 41, 35, 55], [45.0, 39, 35, 55]])
    out = kernel.run(res.inputs, Variation(2, values={"ga": ga}))
    assert out.warnings[0].tolist() == [[True, False, True, False], [False, True, True, False]]
