"""Seed 004, outflow places: 流动人口计划生育管理和服务工作检查评估指标(流出地)(试行), 2007.

The expectations below come from the scheme's text. The 18 indicators, five classes and
考评层级 are from the source. The 5 points per indicator, 达标/基本达标/未达标 = 1/0.5/0,
linear credit from 60 % to 90 %, and for 查无此人率 (lower is better) from 20 % down to 5 %,
are the scheme's stated assumptions. The arithmetic is in the comments.
"""

import pandas as pd
import pytest

import assesskit as ak
from assesskit import DataError
from assesskit.datasets import example_paths
from assesskit.scheme import Section

from .helpers import item_row

SID = "floating_outflow_2007"
QUAL = [
    "gov_target_resp",
    "dept_joint_governance",
    "dedicated_staff",
    "funding",
    "work_standards",
    "grassroots_mgmt",
    "two_way_mgmt",
    "info_system",
    "contraception_guidance",
    "three_prohibitions",
    "reward_policies",
    "family_support",
    "regional_coop",
]
UNITS = pd.DataFrame({"unit": ["A", "B", "C"], "name": ["甲", "乙", "丙"], "kind": "province"})

# Counts of unit A (2008), with the rate and points each gives:
#   cert issue      8400/10000 = 84 %   → (84−60)/30 = 0.8          × 5   = 4
#   registration     720/1000  = 72 %   → (72−60)/30 = 0.4          × 5   = 2
#   contraception   1560/2000  = 78 %   → (78−60)/30 = 0.6          × 5   = 3
#   query feedback   640/800   = 80 %   → (80−60)/30 = 2/3          × 2.5 = 5/3
#   not found         80/640   = 12.5 % → (12.5−20)/(5−20) = 0.5    × 2.5 = 1.25  (lower is better)
#   policy births    930/1000  = 93 %   → above 90 → 1              × 5   = 5
#   performance = 4 + 2 + 3 + 5/3 + 1.25 + 5 = 203/12 ≈ 16.9167
A_COUNTS = dict(
    fp_certs_issued=8400,
    fp_certs_due_issue=10000,
    outmig_registered=720,
    outmig_due_register=1000,
    contra_in_place=1560,
    contra_due=2000,
    queries_answered=640,
    queries_due=800,
    queries_not_found=80,
    policy_births=930,
    births=1000,
)
# Unit B: every rate at or above 90 %, not-found rate 3 % (≤ 5 %).
B_COUNTS = dict(
    fp_certs_issued=90,
    fp_certs_due_issue=100,
    outmig_registered=95,
    outmig_due_register=100,
    contra_in_place=97,
    contra_due=100,
    queries_answered=100,
    queries_due=100,
    queries_not_found=3,
    policy_births=190,
    births=200,
)
RATES = [  # (item, numerator col, denominator col)
    ("cert_issue_rate", "fp_certs_issued", "fp_certs_due_issue"),
    ("registration_rate", "outmig_registered", "outmig_due_register"),
    ("contraception_rate", "contra_in_place", "contra_due"),
    ("query_feedback_rate", "queries_answered", "queries_due"),
    ("not_found_rate", "queries_not_found", "queries_answered"),
    ("policy_birth_rate", "policy_births", "births"),
]


@pytest.fixture(scope="module")
def scheme():
    return ak.load_scheme(SID)


def panel(*rows):
    return pd.DataFrame([{"unit": u, "year": y, **c} for u, y, c in rows])


def grades(*rows):
    """rows: (unit, year, {item: grade}) with every qualitative item defaulting to 达标."""
    out = []
    for u, y, g in rows:
        for it in QUAL:
            out.append({"unit": u, "year": y, "item": it, "grade": g.get(it, "达标")})
    return pd.DataFrame(out)


# ---------------------------------------------------------------- structure against the document
def test_loads_with_points_per_class_and_line_total(scheme):
    assert scheme.id == SID
    assert scheme.years == (2008, 2012)
    assert scheme.max_by_kind == {"province": 90}
    (line,) = scheme.lines
    assert (line.id, line.points, line.unit_kind) == ("outflow", 90, "province")
    # 5 points per indicator: 4, 4, 3, 5, 2 indicators → 20, 20, 15, 25, 10
    assert [(s.id, s.label, s.points) for s in line.items] == [
        ("guarantee", "保障指标", 20),
        ("management", "管理指标", 20),
        ("service", "服务指标", 15),
        ("performance", "绩效指标", 25),
        ("incentive", "激励指标", 10),
    ]
    assert sum(i.points for _p, i in scheme.flat_items) == 90


def test_indicator_and_class_counts_match_the_document(scheme):
    # "流出地共计18个指标": 保障 4, 管理 4, 服务 3, 绩效 5, 激励 2
    (line,) = scheme.lines
    counts = {s.id: len(s.items) for s in line.items}
    assert counts == {"guarantee": 4, "management": 4, "service": 3, "performance": 5, "incentive": 2}
    assert sum(counts.values()) == 18
    # 13 qualitative indicators, 5 rate indicators with 6 formulas (#15 has two)
    graded = [i.id for _p, i in scheme.flat_items if i.rule.type == "graded"]
    linear = [i.id for _p, i in scheme.flat_items if i.rule.type == "linear"]
    assert graded == QUAL
    assert linear == [r[0] for r in RATES]
    two = scheme.nodes["info_platform_use"]
    assert isinstance(two, Section) and two.points == 5
    assert [(c.id, c.points) for c in two.items] == [("query_feedback_rate", 2.5), ("not_found_rate", 2.5)]
    perf = [c.id for c in scheme.nodes["performance"].items]
    assert perf == [
        "cert_issue_rate",
        "registration_rate",
        "contraception_rate",
        "info_platform_use",
        "policy_birth_rate",
    ]
    # ② 查无此人率 is read over ①'s numerator
    ind = scheme.indicators
    assert ind["not_found_rate"].denominator == ind["query_feedback_rate"].numerator == ["queries_answered"]


def test_levels_are_the_documents(scheme):
    county, town = "县(市、区)以上", "乡(镇)以上"
    expected = {
        "gov_target_resp": county,
        "dept_joint_governance": county,
        "dedicated_staff": county,
        "funding": county,
        "work_standards": "省级",
        "grassroots_mgmt": "乡(镇)、村居",
        "two_way_mgmt": county,
        "info_system": county,
        "contraception_guidance": "乡(镇)、村(居)",
        "three_prohibitions": town,
        "reward_policies": town,
        "family_support": town,
        "regional_coop": county,
    }
    got = {i.id: i.level for _p, i in scheme.flat_items}
    for k, v in expected.items():
        assert got.pop(k) == v, k
    assert set(got) == {r[0] for r in RATES}
    assert all(v is None for v in got.values())
    assert all("blank" in scheme.nodes[k].assumption.lower() for k in got)


def test_every_item_states_its_assumed_scoring_and_there_are_no_vetoes(scheme):
    assert all(i.assumption for _p, i in scheme.flat_items)
    assert scheme.vetoes == [] and scheme.adjustments == []
    assert scheme.outcomes.tiers == [] and scheme.outcomes.warnings == []


# ---------------------------------------------------------------- scoring by hand
@pytest.mark.parametrize(
    "item, value, points",
    [
        ("cert_issue_rate", 84.0, 4.0),
        ("registration_rate", 72.0, 2.0),
        ("contraception_rate", 78.0, 3.0),
        ("query_feedback_rate", 80.0, 5 / 3),
        ("not_found_rate", 12.5, 1.25),
        ("policy_birth_rate", 93.0, 5.0),
    ],
)
def test_each_rate_is_computed_from_its_counts(scheme, item, value, points):
    res = ak.score(
        scheme, panel(("A", 2008, A_COUNTS)), units=UNITS, grades=grades(("A", 2008, {})), year=2008
    )
    row = item_row(res, "A", item)
    assert row["value"] == pytest.approx(value)
    assert row["points"] == pytest.approx(points)


@pytest.mark.parametrize(
    "not_found, rate, points, status",
    [
        (6, 3.0, 2.5, "met"),  # 6/200 = 3 % ≤ 5 → full
        (10, 5.0, 2.5, "met"),  # exactly the target
        (25, 12.5, 1.25, "partial"),  # (12.5 − 20)/(5 − 20) = 0.5 → 1.25
        (34, 17.0, 0.5, "partial"),  # (17 − 20)/(−15) = 0.2 → 0.5
        (40, 20.0, 0.0, "missed"),  # the floor
        (60, 30.0, 0.0, "missed"),  # worse than the floor: no credit
    ],
)
def test_not_found_rate_is_lower_is_better(scheme, not_found, rate, points, status):
    c = dict(A_COUNTS, queries_answered=200, queries_due=200, queries_not_found=not_found)
    res = ak.score(scheme, panel(("A", 2008, c)), units=UNITS, grades=grades(("A", 2008, {})), year=2008)
    row = item_row(res, "A", "not_found_rate")
    assert (row["value"], row["points"], row["status"]) == (
        pytest.approx(rate),
        pytest.approx(points),
        status,
    )
    assert scheme.nodes["not_found_rate"].rule.op == "<="
    # the feedback rate is 200/200 = 100 % → full 2.5 either way
    assert item_row(res, "A", "query_feedback_rate")["points"] == pytest.approx(2.5)


def test_label_grades_map_to_full_half_and_none(scheme):
    g = grades(("A", 2008, {"three_prohibitions": "基本达标", "family_support": "未达标"}))
    res = ak.score(scheme, panel(("A", 2008, A_COUNTS)), units=UNITS, grades=g, year=2008)
    assert [
        item_row(res, "A", i)[["points", "status"]].tolist()
        for i in ("regional_coop", "three_prohibitions", "family_support")
    ] == [
        [5.0, "met"],
        [2.5, "partial"],
        [0.0, "missed"],
    ]


def test_totals_and_ranks_by_hand(scheme):
    # A: 11 × 达标 (55) + 基本达标 (2.5) + 未达标 (0) = 57.5 qualitative; 203/12 performance
    # B: every grade 达标 (65) and every rate full (25) → 90
    g = pd.concat(
        [
            grades(("A", 2008, {"three_prohibitions": "基本达标", "family_support": "未达标"})),
            grades(("B", 2008, {})),
        ]
    )
    res = ak.score(
        scheme, panel(("A", 2008, A_COUNTS), ("B", 2008, B_COUNTS)), units=UNITS, grades=g, year=2008
    )
    s = res.summary.set_index("unit")
    assert s.loc["A", "total"] == pytest.approx(57.5 + 203 / 12)
    assert s.loc["B", "total"] == pytest.approx(90)
    assert (s.loc["B", "rank"], s.loc["A", "rank"]) == (1, 2)
    assert not s["veto"].any() and s["eligible"].all()


def test_no_queries_leaves_both_platform_rates_missing(scheme):
    # 0 queries due and 0 answered: 0/0 for both ① and ② → missing, 0 points each
    c = dict(B_COUNTS, queries_answered=0, queries_due=0, queries_not_found=0)
    res = ak.score(scheme, panel(("C", 2008, c)), units=UNITS, grades=grades(("C", 2008, {})), year=2008)
    for item in ("query_feedback_rate", "not_found_rate"):
        row = item_row(res, "C", item)
        assert (row["points"], row["status"]) == (0.0, "missing")
    assert res.summary["total"].iloc[0] == pytest.approx(90 - 5)


# ---------------------------------------------------------------- impossible data is refused
def test_numerator_above_denominator_is_a_data_error_naming_row_and_column(scheme):
    # more "not found" answers (120) than answers (100): 120 % → refused, not scored
    bad = dict(B_COUNTS, queries_not_found=120)
    df = panel(("A", 2008, A_COUNTS), ("B", 2008, bad))
    with pytest.raises(DataError) as e:
        ak.score(scheme, df, units=UNITS, grades=grades(("A", 2008, {}), ("B", 2008, {})), year=2008)
    probs = [str(p) for p in e.value.problems]
    assert len(probs) == 1
    assert "row 3" in probs[0] and "column 'queries_not_found'" in probs[0]
    assert "not_found_rate" in probs[0] and "above its maximum 100" in probs[0]


def test_negative_count_is_refused(scheme):
    df = panel(("A", 2008, dict(A_COUNTS, contra_due=-5)))
    with pytest.raises(DataError, match=r"row 2, column 'contra_due': a count cannot be negative"):
        ak.score(scheme, df, units=UNITS, grades=grades(("A", 2008, {})), year=2008)


# ---------------------------------------------------------------- the bundled example
def test_bundled_example_scores_cleanly(scheme):
    res = ak.score(scheme, **example_paths(SID))
    s = res.summary
    assert [w.message for w in res.warnings] == [
        "outflow › service › three_prohibitions: no grade for 1 unit-year(s) (P05 2009): scored 0 (missing-data policy 'zero')"
    ]
    assert len(s) == 10 and sorted(s["year"].unique()) == [2008, 2009]
    assert {"unit", "name", "year", "line_outflow", "total", "max_total", "rank", "veto", "eligible"} <= set(
        s.columns
    )
    assert (s["max_total"] == 90).all() and s["total"].between(0, 90).all()
    assert s.groupby("year")["rank"].apply(sorted).tolist() == [[1, 2, 3, 4, 5]] * 2
    miss = res.items[res.items["status"] == "missing"][["unit", "year", "item"]].values.tolist()
    assert miss == [
        ["P05", 2008, "query_feedback_rate"],
        ["P05", 2008, "not_found_rate"],
        ["P05", 2009, "three_prohibitions"],
    ]
    nf = res.items[res.items["item"] == "not_found_rate"].set_index(["unit", "year"])["points"]
    # P01 2009: 38/950 = 4 % → full 2.5; P02 2008: 80/800 = 10 % → (10−20)/(−15) × 2.5 = 5/3;
    # P04 2008: 100/400 = 25 % → 0
    assert nf.loc[("P01", 2009)] == pytest.approx(2.5)
    assert nf.loc[("P02", 2008)] == pytest.approx(5 / 3)
    assert nf.loc[("P04", 2008)] == pytest.approx(0)
