"""Seed 004, inflow places: 流动人口计划生育管理和服务工作检查评估指标(流入地)(试行), 2007.

The expectations below come from the scheme's text. The 21 indicators, five classes and
考评层级 are from the source. The 5 points per indicator, 达标/基本达标/未达标 = 1/0.5/0, and
linear credit from 60 % to 90 % are the scheme's stated assumptions. The arithmetic is in
the comments.
"""

import pandas as pd
import pytest

import assesskit as ak
from assesskit import DataError
from assesskit.datasets import example_paths
from assesskit.scheme import Section

from .helpers import item_row

SID = "floating_inflow_2007"
QUAL = [
    "gov_target_resp",
    "dept_joint_governance",
    "dedicated_staff",
    "funding",
    "work_standards",
    "grassroots_mgmt",
    "two_way_mgmt",
    "info_system",
    "free_tech_services",
    "free_contraceptives",
    "open_channels",
    "rights_protection",
    "migrant_fp_association",
    "benefit_incentives",
    "regional_coop",
]
UNITS = pd.DataFrame({"unit": ["A", "B", "C"], "name": ["甲", "乙", "丙"], "kind": "province"})

# Counts of unit A (2008), with the rate and points each gives under linear 60 → 90:
#   cert check      8100/10000 = 81 %  → (81−60)/30 = 0.7   × 5   = 3.5
#   records          600/800   = 75 %  → (75−60)/30 = 0.5   × 5   = 2.5
#   free surgery      45/50    = 90 %  → 1                  × 5   = 5
#   free preg check  330/500   = 66 %  → (66−60)/30 = 0.2   × 5   = 1
#   preg/birth info  140/200   = 70 %  → (70−60)/30 = 1/3   × 2.5 = 5/6
#   preg-check info  500/1000  = 50 %  → below 60 → 0       × 2.5 = 0
#   policy births   1880/2000  = 94 %  → above 90 → 1       × 5   = 5
#   performance = 3.5 + 2.5 + 5 + 1 + 5/6 + 0 + 5 = 107/6 ≈ 17.8333
A_COUNTS = dict(
    fp_certs_checked=8100,
    fp_certs_due_check=10000,
    fp_records_made=600,
    fp_records_due=800,
    free_surgeries=45,
    free_surgeries_due=50,
    free_preg_checks=330,
    free_preg_checks_due=500,
    pregbirth_info_submitted=140,
    pregbirth_cases=200,
    pregcheck_info_submitted=500,
    pregcheck_cases=1000,
    policy_births=1880,
    births=2000,
)
# Unit B: every rate at or above 90 %.
B_COUNTS = dict(
    fp_certs_checked=95,
    fp_certs_due_check=100,
    fp_records_made=90,
    fp_records_due=100,
    free_surgeries=10,
    free_surgeries_due=10,
    free_preg_checks=92,
    free_preg_checks_due=100,
    pregbirth_info_submitted=9,
    pregbirth_cases=10,
    pregcheck_info_submitted=99,
    pregcheck_cases=100,
    policy_births=191,
    births=200,
)
RATES = [  # (item, numerator col, denominator col)
    ("cert_check_rate", "fp_certs_checked", "fp_certs_due_check"),
    ("record_rate", "fp_records_made", "fp_records_due"),
    ("free_surgery_rate", "free_surgeries", "free_surgeries_due"),
    ("free_preg_check_rate", "free_preg_checks", "free_preg_checks_due"),
    ("key_info_pregbirth_rate", "pregbirth_info_submitted", "pregbirth_cases"),
    ("key_info_pregcheck_rate", "pregcheck_info_submitted", "pregcheck_cases"),
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
    assert scheme.max_by_kind == {"province": 105}
    (line,) = scheme.lines
    assert (line.id, line.points, line.unit_kind) == ("inflow", 105, "province")
    # 5 points per indicator: 4, 4, 5, 6, 2 indicators → 20, 20, 25, 30, 10
    assert [(s.id, s.label, s.points) for s in line.items] == [
        ("guarantee", "保障指标", 20),
        ("management", "管理指标", 20),
        ("service", "服务指标", 25),
        ("performance", "绩效指标", 30),
        ("incentive", "激励指标", 10),
    ]
    assert sum(i.points for _p, i in scheme.flat_items) == 105


def test_indicator_and_class_counts_match_the_document(scheme):
    # "流入地共计21个指标": 保障 4, 管理 4, 服务 5, 绩效 6, 激励 2
    (line,) = scheme.lines
    counts = {s.id: len(s.items) for s in line.items}
    assert counts == {"guarantee": 4, "management": 4, "service": 5, "performance": 6, "incentive": 2}
    assert sum(counts.values()) == 21
    # 15 qualitative indicators, 6 rate indicators with 7 formulas (#18 has two)
    graded = [i.id for _p, i in scheme.flat_items if i.rule.type == "graded"]
    linear = [i.id for _p, i in scheme.flat_items if i.rule.type == "linear"]
    assert graded == QUAL
    assert linear == [r[0] for r in RATES]
    two = scheme.nodes["key_info_entry_rate"]
    assert isinstance(two, Section) and two.points == 5
    assert [(c.id, c.points) for c in two.items] == [
        ("key_info_pregbirth_rate", 2.5),
        ("key_info_pregcheck_rate", 2.5),
    ]
    # indicators in document order (the class's children)
    perf = [c.id for c in scheme.nodes["performance"].items]
    assert perf == [
        "cert_check_rate",
        "record_rate",
        "free_surgery_rate",
        "free_preg_check_rate",
        "key_info_entry_rate",
        "policy_birth_rate",
    ]


def test_levels_are_the_documents(scheme):
    county, town = "县(市、区)以上", "乡(镇、街道)以上"
    expected = {
        "gov_target_resp": county,
        "dept_joint_governance": county,
        "dedicated_staff": county,
        "funding": county,
        "work_standards": "省级",
        "grassroots_mgmt": "乡(镇、街道)、村居",
        "two_way_mgmt": county,
        "info_system": county,
        "free_tech_services": town,
        "free_contraceptives": town,
        "open_channels": county,
        "rights_protection": "社区(村居)",
        "migrant_fp_association": "社区(村居)",
        "benefit_incentives": county,
        "regional_coop": county,
    }
    got = {i.id: i.level for _p, i in scheme.flat_items}
    for k, v in expected.items():
        assert got.pop(k) == v, k
    # the 考评层级 cell is blank for every performance row: no level, and each says so
    assert set(got) == {r[0] for r in RATES}
    assert all(v is None for v in got.values())
    assert all("blank" in scheme.nodes[k].assumption for k in got)


def test_every_item_states_its_assumed_scoring_and_there_are_no_vetoes(scheme):
    assert all(i.assumption for _p, i in scheme.flat_items)
    assert scheme.vetoes == [] and scheme.adjustments == []
    assert scheme.outcomes.tiers == [] and scheme.outcomes.warnings == []


def test_inflow_weighs_more_than_outflow(scheme):
    out = ak.load_scheme("floating_outflow_2007")
    # same 5 points per indicator: 21 × 5 = 105 vs 18 × 5 = 90 → inflow share 105/195 ≈ 53.8 %
    assert scheme.lines[0].points == 21 * 5 and out.lines[0].points == 18 * 5
    assert scheme.lines[0].points / (scheme.lines[0].points + out.lines[0].points) == pytest.approx(
        0.5385, abs=1e-4
    )


# ---------------------------------------------------------------- scoring by hand
@pytest.mark.parametrize(
    "item, value, points",
    [
        ("cert_check_rate", 81.0, 3.5),
        ("record_rate", 75.0, 2.5),
        ("free_surgery_rate", 90.0, 5.0),
        ("free_preg_check_rate", 66.0, 1.0),
        ("key_info_pregbirth_rate", 70.0, 2.5 / 3),
        ("key_info_pregcheck_rate", 50.0, 0.0),
        ("policy_birth_rate", 94.0, 5.0),
    ],
)
def test_each_rate_is_computed_from_its_counts(scheme, item, value, points):
    res = ak.score(
        scheme, panel(("A", 2008, A_COUNTS)), units=UNITS, grades=grades(("A", 2008, {})), year=2008
    )
    row = item_row(res, "A", item)
    assert row["value"] == pytest.approx(value)
    assert row["points"] == pytest.approx(points)
    assert row["status"] == ("met" if points == row["max_points"] else "missed" if points == 0 else "partial")


def test_label_grades_map_to_full_half_and_none(scheme):
    g = grades(("A", 2008, {"funding": "基本达标", "info_system": "未达标"}))
    res = ak.score(scheme, panel(("A", 2008, A_COUNTS)), units=UNITS, grades=g, year=2008)
    # 达标 → 5, 基本达标 → 2.5, 未达标 → 0
    assert [
        item_row(res, "A", i)[["points", "status"]].tolist()
        for i in ("gov_target_resp", "funding", "info_system")
    ] == [
        [5.0, "met"],
        [2.5, "partial"],
        [0.0, "missed"],
    ]


def test_totals_and_ranks_by_hand(scheme):
    # A: 13 × 达标 (65) + 基本达标 (2.5) + 未达标 (0) = 67.5 qualitative; 107/6 performance
    #    total = 67.5 + 17.8333 = 85.3333
    # B: every grade 达标 (75) and every rate ≥ 90 % (30) → 105
    g = pd.concat(
        [grades(("A", 2008, {"funding": "基本达标", "info_system": "未达标"})), grades(("B", 2008, {}))]
    )
    res = ak.score(
        scheme, panel(("A", 2008, A_COUNTS), ("B", 2008, B_COUNTS)), units=UNITS, grades=g, year=2008
    )
    s = res.summary.set_index("unit")
    assert s.loc["A", "total"] == pytest.approx(67.5 + 107 / 6)
    assert s.loc["B", "total"] == pytest.approx(105)
    assert s.loc["B", "max_total"] == 105
    assert (s.loc["B", "rank"], s.loc["A", "rank"]) == (1, 2)
    assert not s["veto"].any() and s["eligible"].all()
    sec = res.items.groupby(["unit", "item"])["points"].sum()
    perf = [r[0] for r in RATES]
    assert sec.loc["A"][perf].sum() == pytest.approx(107 / 6)


def test_zero_denominator_and_missing_grade_score_zero_as_missing(scheme):
    c = dict(B_COUNTS, free_surgeries=0, free_surgeries_due=0)
    g = grades(("C", 2009, {}))
    g = pd.concat([g[g["item"] != "grassroots_mgmt"], grades(("B", 2009, {}))])  # C has no grade for it
    res = ak.score(scheme, panel(("C", 2009, c), ("B", 2009, B_COUNTS)), units=UNITS, grades=g, year=2009)
    for item in ("free_surgery_rate", "grassroots_mgmt"):
        row = item_row(res, "C", item)
        assert (row["points"], row["status"]) == (0.0, "missing")
        assert "no value" in row["reason"]
    # 105 − 5 (free surgery) − 5 (grassroots management) = 95
    assert res.summary.set_index("unit").loc["C", "total"] == pytest.approx(95)


# ---------------------------------------------------------------- impossible data is refused
def test_numerator_above_denominator_is_a_data_error_naming_row_and_column(scheme):
    bad = dict(B_COUNTS, fp_certs_checked=120)  # 120 checked of 100 due → 120 %
    df = panel(("A", 2008, A_COUNTS), ("B", 2008, bad))
    with pytest.raises(DataError) as e:
        ak.score(scheme, df, units=UNITS, grades=grades(("A", 2008, {}), ("B", 2008, {})), year=2008)
    probs = [str(p) for p in e.value.problems]
    assert len(probs) == 1
    # B is the second data row: spreadsheet row 3
    assert "row 3" in probs[0] and "column 'fp_certs_checked'" in probs[0]
    assert "cert_check_rate" in probs[0] and "above its maximum 100" in probs[0]


def test_unknown_grade_and_fractional_count_are_refused(scheme):
    g = grades(("A", 2008, {"funding": "优秀"}))
    df = panel(("A", 2008, dict(A_COUNTS, births=2000.5)))
    with pytest.raises(DataError) as e:
        ak.score(scheme, df, units=UNITS, grades=g, year=2008)
    msg = str(e.value)
    assert "'优秀' is not one of ['达标', '基本达标', '未达标']" in msg
    assert "column 'births'" in msg and "whole number" in msg


# ---------------------------------------------------------------- the bundled example
def test_bundled_example_scores_cleanly(scheme):
    res = ak.score(scheme, **example_paths(SID))
    s = res.summary
    # the planted missing grade (README) is scored 0, with a warning
    assert [w.message for w in res.warnings] == [
        "inflow › management › grassroots_mgmt: no grade for 1 unit-year(s) (P03 2008): scored 0 (missing-data policy 'zero')"
    ]
    assert len(s) == 10 and sorted(s["year"].unique()) == [2008, 2009]
    assert {"unit", "name", "year", "line_inflow", "total", "max_total", "rank", "veto", "eligible"} <= set(
        s.columns
    )
    assert (s["max_total"] == 105).all() and s["total"].between(0, 105).all()
    assert s.groupby("year")["rank"].apply(sorted).tolist() == [[1, 2, 3, 4, 5]] * 2
    top = s[(s["unit"] == "P01") & (s["year"] == 2009)].iloc[0]
    assert (top["total"], top["rank"]) == (105, 1)
    miss = res.items[res.items["status"] == "missing"][["unit", "year", "item"]].values.tolist()
    assert miss == [["P03", 2008, "grassroots_mgmt"], ["P05", 2009, "free_surgery_rate"]]
    # P04 2008: 5000/8000 = 62.5 % checked → (62.5 − 60)/30 × 5 = 5/12
    row = res.items[
        (res.items["unit"] == "P04") & (res.items["year"] == 2008) & (res.items["item"] == "cert_check_rate")
    ]
    assert row["points"].iloc[0] == pytest.approx(5 / 12)
