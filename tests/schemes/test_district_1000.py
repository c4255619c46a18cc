"""Scheme district_1000 (seed 001 = seed 002 part 4): a district's 1000-point three-line scheme.

Every expected number below is worked out by hand from the source text (and the scheme's
stated assumptions), with the arithmetic in a comment; none is read back from the engine.
"""

import math

import pandas as pd
import pytest

import assesskit as ak
from assesskit.datasets import example_paths

YEAR = 2010


@pytest.fixture(scope="module")
def scheme():
    return ak.load_scheme("district_1000")


# ---------------------------------------------------------------- points from the source
# Every item of the source with its points (三、考核评估主要内容及分值 and 五、部门职责).
PG_ITEMS = {
    "pg_basic_indicators": 100,
    "pg_coordinated_decision": 20,
    "pg_cg_resettlement_areas": 20,
    "pg_cg_floating_pop": 20,
    "pg_cg_incentive_mechanism": 20,
    "pg_cg_sex_ratio": 10,
    "pg_law_based_admin": 20,
    "pg_funding": 60,
    "pg_fs_service_facilities": 80,
    "pg_fs_admin_staff": 10,
    "pg_fs_floating_pop_org": 10,
}
FP_ITEMS = {
    "fp_pub_five_level_campaign": 40,
    "fp_pub_family_portrait": 30,
    "fp_pub_early_edu_eldercare_youth": 10,
    "fp_le_admin_confirmation": 15,
    "fp_le_only_child_reward_rate": 20,
    "fp_le_model_villages": 10,
    "fp_le_petition_handling": 20,
    "fp_le_discipline_openness": 15,
    "fp_ts_demo_centres": 20,
    "fp_ts_standardisation": 40,
    "fp_tsp_contraception": 30,
    "fp_tsp_reproductive_disease": 30,
    "fp_tsp_birth_defect": 30,
    "fp_tsp_service_satisfaction": 2.5,
    "fp_tsp_male_participation": 2.5,
    "fp_tsp_tech_reports": 5,
    "fp_bw_policy_compliance": 20,
    "fp_bw_statistics_pass": 28,
    "fp_bw_household_registration": 4,
    "fp_bw_stat_reports": 4,
    "fp_bw_dept_info_sharing": 4,
    "fp_cg_resettlement_areas": 45,
    "fp_cg_floating_pop": 50,
    "fp_cg_care_for_girls": 10,
    "fp_cg_three_systems": 35,
    "fp_inf_mechanism_equipment": 10,
    "fp_inf_network": 10,
    "fp_inf_whole_population": 50,
    "fp_association": 20,
    "fp_training": 20,
}
DEPT_ITEMS = {
    "dept_functional_role": 30,
    "dept_regular_mechanism": 20,
    "dept_supervise_subordinates": 20,
    "dept_info_sharing_cooperation": 30,
}
SECTIONS = {
    "pg_comprehensive_governance": 70,
    "pg_facilities_staff": 100,
    "fp_publicity": 80,
    "fp_law_enforcement": 80,
    "fp_tech_service": 160,
    "fp_ts_three_projects": 100,
    "fp_basic_work": 60,
    "fp_comprehensive_governance": 140,
    "fp_informatisation": 70,
}
# items scored from measured values, not inspectors' grades
MEASURED = {
    "pg_basic_indicators",
    "fp_bw_policy_compliance",
    "fp_bw_statistics_pass",
    "fp_le_only_child_reward_rate",
    "fp_tsp_service_satisfaction",
    "fp_tsp_male_participation",
}
TOWN_GRADED = {k: v for k, v in {**PG_ITEMS, **FP_ITEMS}.items() if k not in MEASURED}

ADJ_COLS = [
    "innovation_cases",
    "experience_municipal",
    "experience_provincial",
    "experience_national",
    "major_problem_cases",
    "enforcement_incidents",
    "petition_deduction",
    "falsification_cases",
    "overquota_reported",
    "overquota_unreported",
    "demo_centres_delisted",
]


# ---------------------------------------------------------------- builders
def town(unit, births=200, policy_births=196, stats=98.0, reward=100.0, satisfaction=96.0, male=31.0, **adj):
    """A town row that meets every measured target by default (196/200 = 98 % ≥ 95)."""
    row = {
        "unit": unit,
        "year": YEAR,
        "births": births,
        "policy_births": policy_births,
        "stats_pass_rate": stats,
        "only_child_reward_rate": reward,
        "service_satisfaction_rate": satisfaction,
        "male_participation_rate": male,
    }
    row.update({c: 0 for c in ADJ_COLS})
    row.update(adj)
    return row


def dept(unit, **adj):
    row = {"unit": unit, "year": YEAR}
    row.update(adj)
    return row


def full_grades(unit, **less):
    """Full inspector points on every graded town item, except those given."""
    g = {"unit": unit, "year": YEAR, **TOWN_GRADED}
    g.update(less)
    return g


def dept_grades(unit, a, b, c, d):
    return {
        "unit": unit,
        "year": YEAR,
        "dept_functional_role": a,
        "dept_regular_mechanism": b,
        "dept_supervise_subordinates": c,
        "dept_info_sharing_cooperation": d,
    }


def registry(*units):
    return pd.DataFrame(
        [{"unit": u, "name": u, "kind": "department" if u.startswith("D") else "town"} for u in units]
    )


GRADE_COLS = ["unit", "year", *TOWN_GRADED, *DEPT_ITEMS]


def run(scheme, rows, grades, targets=None):
    df = pd.DataFrame(rows)
    units = registry(*df["unit"])
    # every graded column is present (empty for the other kind): the loader asks for the
    # columns of every line, even of a kind with no unit in the data
    g = pd.DataFrame(grades).reindex(columns=GRADE_COLS)
    return ak.score(scheme, df, units=units, grades=g, targets=targets, year=YEAR)


def row_of(res, unit):
    s = res.summary.set_index("unit")
    return s.loc[unit]


# ---------------------------------------------------------------- structure
def test_loads_with_the_source_totals(scheme):
    assert scheme.id == "district_1000"
    # 党政线 370 + 人口计生线 630 = 千分制; 部门 百分制
    assert {ln.id: (ln.points, ln.unit_kind) for ln in scheme.lines} == {
        "party_gov": (370, "town"),
        "family_planning": (630, "town"),
        "department": (100, "department"),
    }
    assert scheme.max_by_kind == {"town": 1000, "department": 100}
    # 11 party-government leaves, 30 family-planning leaves (④ split in two), 4 department leaves
    per_line = {ln.id: sum(1 for p, _ in scheme.flat_items if p[0] == ln.id) for ln in scheme.lines}
    assert per_line == {"party_gov": 11, "family_planning": 30, "department": 4}


def test_every_item_and_section_has_the_source_points(scheme):
    items = {it.id: it.points for _p, it in scheme.flat_items}
    assert items == {**PG_ITEMS, **FP_ITEMS, **DEPT_ITEMS}
    for sid, pts in SECTIONS.items():
        node = scheme.nodes[sid]
        assert node.points == pts
        assert sum(c.points for c in node.items) == pts
    # 三大工程 100 = 30 + 30 + 30 + 2.5 + 2.5 + 5
    assert [c.points for c in scheme.nodes["fp_ts_three_projects"].items] == [30, 30, 30, 2.5, 2.5, 5]


def test_vetoes_bonuses_deductions_as_the_source_states(scheme):
    adj = {a.id: a for a in scheme.adjustments}
    assert adj["bonus_innovation"].per_case == {"innovation_cases": 20}
    assert adj["bonus_experience"].per_case == {
        "experience_municipal": 5,
        "experience_provincial": 7,
        "experience_national": 10,
    }
    assert adj["ded_major_problem"].per_case == {"major_problem_cases": 20}
    assert adj["ded_enforcement_incident"].per_case == {"enforcement_incidents": 15}
    assert (
        adj["ded_level_skipping_petition"].assessed.min,
        adj["ded_level_skipping_petition"].assessed.max,
    ) == (10, 30)
    assert adj["ded_data_falsification"].per_case == {"falsification_cases": 5}
    assert adj["ded_overquota_birth"].per_case == {"overquota_reported": 5, "overquota_unreported": 10}
    assert adj["ded_demo_centre_delisted"].per_case == {"demo_centres_delisted": 5}
    assert all(a.applies_to == ["town"] and a.cap is None for a in scheme.adjustments)
    assert {v.id: v.effect for v in scheme.vetoes} == {
        "veto_policy_compliance": "not_scored",
        "veto_statistics_pass": "not_scored",
    }
    prizes = {a.id: (a.rank_by, a.count, a.prize) for a in scheme.outcomes.single_awards}
    assert prizes == {
        "award_informatisation": ("fp_inf_whole_population", 1, 3000),
        "award_resettlement": ("fp_cg_resettlement_areas", 1, 3000),
        "award_floating_pop": ("fp_cg_floating_pop", 1, 3000),
    }


# ---------------------------------------------------------------- scoring
def test_a_perfect_town_scores_1000(scheme):
    res = run(scheme, [town("A")], [full_grades("A")])
    r = row_of(res, "A")
    assert (r["line_party_gov"], r["line_family_planning"], r["total"]) == (370, 630, 1000)
    assert r["rank"] == 1 and not r["veto"]


def test_full_hand_computed_town(scheme):
    # policy 192/200 = 96 % ≥ 95 (default target) → 100 + 20; stats 97 ≥ 95 → 28
    # reward rate 90 % → 20 × 0.90 = 18 (loses 2); satisfaction 96 ≥ 95 → 2.5; male 25 < 30 → 0 (loses 2.5)
    # grades: pg_funding 45/60 (loses 15), five-level campaign 32/40 (loses 8), tech reports 3.5/5 (loses 1.5)
    # party_gov = 370 − 15 = 355; family_planning = 630 − 2 − 2.5 − 8 − 1.5 = 616
    # bonus: 1 innovation × 20 + 1 provincial × 7 = 27
    # deduction: 1 falsification × 5 + 1 reported over-quota × 5 + petition 10 = 20
    # total = 355 + 616 + 27 − 20 = 978
    rows = [
        town(
            "A",
            policy_births=192,
            stats=97,
            reward=90,
            satisfaction=96,
            male=25,
            innovation_cases=1,
            experience_provincial=1,
            falsification_cases=1,
            overquota_reported=1,
            petition_deduction=10,
        )
    ]
    grades = [full_grades("A", pg_funding=45, fp_pub_five_level_campaign=32, fp_tsp_tech_reports=3.5)]
    res = run(scheme, rows, grades)
    r = row_of(res, "A")
    assert r["line_party_gov"] == 355
    assert r["line_family_planning"] == 616
    assert r["bonus"] == 27
    assert r["deduction"] == 20
    assert r["total"] == 978
    it = res.items.set_index("item")
    assert it.loc["fp_le_only_child_reward_rate", "points"] == 18
    assert it.loc["fp_le_only_child_reward_rate", "status"] == "partial"
    assert it.loc["fp_tsp_male_participation", "points"] == 0
    assert it.loc["fp_tsp_service_satisfaction", "points"] == 2.5
    assert it.loc["ded_level_skipping_petition", "points"] == -10
    assert it.loc["bonus_experience", "points"] == 7


def test_threshold_edges(scheme):
    # satisfaction 94.9 < 95 → 0 (−2.5); male exactly 30 → 2.5 (达30%); total 1000 − 2.5 = 997.5
    res = run(scheme, [town("A", satisfaction=94.9, male=30)], [full_grades("A")])
    assert row_of(res, "A")["total"] == 997.5


def test_missing_the_policy_target_takes_the_town_out_of_scoring(scheme):
    # A: 196/200 = 98 % (no target row → default 95) → scored; informatisation 40/50 → 1000 − 10 = 990
    # B: 196/200 = 98 % but its own assigned target is 98.5 → 不参与评分
    # C: 191/200 = 95.5 % ≥ 95 (table) → scored; pg_funding 50/60, informatisation 45/50
    #    → 1000 − 10 − 5 = 985
    # B has the best informatisation grade, C does not: B must still not get the award.
    rows = [town("A"), town("B"), town("C", policy_births=191)]
    grades = [
        full_grades("A", fp_inf_whole_population=40),
        full_grades("B", fp_inf_whole_population=50),
        full_grades("C", pg_funding=50, fp_inf_whole_population=45),
    ]
    targets = pd.DataFrame(
        {
            "unit": ["B", "C"],
            "year": [YEAR, YEAR],
            "policy_rate_target": [98.5, 95],
            "stats_pass_target": [95, 95],
        }
    )
    res = run(scheme, rows, grades, targets)
    b = row_of(res, "B")
    assert math.isnan(b["total"])
    assert pd.isna(b["rank"]) and pd.isna(b["rank_party_gov"])
    assert bool(b["veto"]) and bool(b["not_scored"]) and not bool(b["eligible"])
    assert "出生政策符合率" in b["veto_reason"]
    assert "统计合格率" not in b["veto_reason"]
    assert b["single_awards"] == "" and b["prize"] == 0 and b["warning"] == ""
    items = res.items[res.items["unit"] == "B"].set_index("item")
    assert items.loc["pg_basic_indicators", "status"] == "vetoed"
    assert items.loc["fp_bw_policy_compliance", "status"] == "vetoed"
    assert items.loc["pg_basic_indicators", "target"] == 98.5
    # the others are ranked among themselves: A 990 first, C 985 second
    assert row_of(res, "A")["total"] == 990 and row_of(res, "A")["rank"] == 1
    assert row_of(res, "C")["total"] == 985 and row_of(res, "C")["rank"] == 2
    assert set(res.summary["n_ranked"]) == {2}
    # informatisation among the eligible: A 40, C 45 → C (B's 50 does not count);
    # resettlement and floating population: A and C both full → tie broken by total, A 990 > C 985 → A.
    # yellow card: the last ranked town, C.
    assert row_of(res, "C")["single_awards"] == "award_informatisation"
    assert row_of(res, "A")["single_awards"] == "award_resettlement; award_floating_pop"
    assert row_of(res, "A")["prize"] == 6000
    assert row_of(res, "C")["warning"] == "yellow_card"
    assert row_of(res, "A")["warning"] == ""


def test_missing_the_statistics_target_takes_the_town_out_of_scoring(scheme):
    # A: statistics pass rate 94 < 95 (default) → not scored; B: 95 exactly → met, 1000
    res = run(scheme, [town("A", stats=94), town("B", stats=95)], [full_grades("A"), full_grades("B")])
    a = row_of(res, "A")
    assert math.isnan(a["total"]) and pd.isna(a["rank"]) and bool(a["not_scored"])
    assert "统计合格率" in a["veto_reason"] and "出生政策符合率" not in a["veto_reason"]
    assert row_of(res, "B")["total"] == 1000 and row_of(res, "B")["rank"] == 1


def test_no_births_means_the_veto_item_cannot_be_shown_met(scheme):
    # births 0 → the rate is undefined → the item is missed (scheme assumption) → not scored
    res = run(scheme, [town("A", births=0, policy_births=0), town("B")], [full_grades("A"), full_grades("B")])
    assert bool(row_of(res, "A")["not_scored"]) and pd.isna(row_of(res, "A")["rank"])
    assert row_of(res, "B")["rank"] == 1


def test_falsification_is_five_per_case(scheme):
    # 3 cases × 5 = 15 → 1000 − 15 = 985
    res = run(scheme, [town("A", falsification_cases=3)], [full_grades("A")])
    assert row_of(res, "A")["deduction"] == 15
    assert row_of(res, "A")["total"] == 985


def test_unreported_over_quota_births_are_doubled(scheme):
    # 2 reported × 5 + 1 unreported × (5 × 2) = 10 + 10 = 20 → 980
    res = run(scheme, [town("A", overquota_reported=2, overquota_unreported=1)], [full_grades("A")])
    assert row_of(res, "A")["deduction"] == 20
    assert row_of(res, "A")["total"] == 980


def test_experience_bonus_per_level_and_innovation_per_case(scheme):
    # municipal +5, provincial +7, national +10; 2 innovations × 20 = 40;
    # 2 municipal + 1 national = 5 + 5 + 10 = 20
    rows = [
        town("M", experience_municipal=1),
        town("P", experience_provincial=1),
        town("N", experience_national=1),
        town("I", innovation_cases=2),
        town("X", experience_municipal=2, experience_national=1),
    ]
    res = run(scheme, rows, [full_grades(u) for u in "MPNIX"])
    got = {u: (row_of(res, u)["bonus"], row_of(res, u)["total"]) for u in "MPNIX"}
    assert got == {"M": (5, 1005), "P": (7, 1007), "N": (10, 1010), "I": (40, 1040), "X": (20, 1020)}
    # ranks by total: I 1040, X 1020, N 1010, P 1007, M 1005
    assert [row_of(res, u)["rank"] for u in "IXNPM"] == [1, 2, 3, 4, 5]


def test_other_deductions(scheme):
    # 1 major problem × 20 + 2 enforcement incidents × 15 + petition 25 + 1 delisted centre × 5
    # = 20 + 30 + 25 + 5 = 80 → 920
    rows = [
        town(
            "A",
            major_problem_cases=1,
            enforcement_incidents=2,
            petition_deduction=25,
            demo_centres_delisted=1,
        )
    ]
    res = run(scheme, rows, [full_grades("A")])
    assert row_of(res, "A")["deduction"] == 80
    assert row_of(res, "A")["total"] == 920


@pytest.mark.parametrize("bad", [35, 5])
def test_petition_deduction_outside_10_to_30_is_rejected(scheme, bad):
    rows = [town("A"), town("B", petition_deduction=bad)]
    with pytest.raises(ak.DataError) as e:
        run(scheme, rows, [full_grades("A"), full_grades("B")])
    msg = str(e.value)
    # B is the second data row: spreadsheet row 3
    assert "row 3" in msg and "column 'petition_deduction'" in msg
    assert "within 10–30" in msg


def test_petition_deduction_bounds_accepted(scheme):
    # 10 and 30 are the ends of 视情节扣10-30分: 1000 − 10 = 990, 1000 − 30 = 970
    rows = [town("A", petition_deduction=10), town("B", petition_deduction=30)]
    res = run(scheme, rows, [full_grades("A"), full_grades("B")])
    assert (row_of(res, "A")["total"], row_of(res, "B")["total"]) == (990, 970)


def test_departments_are_scored_and_ranked_on_their_own_line(scheme):
    # departments: D1 25+15+20+30 = 90, D2 30+20+20+30 = 100, D3 20+10+10+20 = 60
    # D2 has falsification and petition columns filled: adjustments apply to towns only → no deduction.
    # towns: A 1000, B 1000 − 5 = 995 (one falsification case)
    rows = [
        town("A"),
        town("B", falsification_cases=1),
        dept("D1"),
        dept("D2", falsification_cases=3, innovation_cases=1),
        dept("D3"),
    ]
    grades = [
        full_grades("A"),
        full_grades("B"),
        dept_grades("D1", 25, 15, 20, 30),
        dept_grades("D2", 30, 20, 20, 30),
        dept_grades("D3", 20, 10, 10, 20),
    ]
    res = run(scheme, rows, grades)
    d = {u: row_of(res, u) for u in ("D1", "D2", "D3")}
    assert [d[u]["total"] for u in ("D1", "D2", "D3")] == [90, 100, 60]
    assert [d[u]["line_department"] for u in ("D1", "D2", "D3")] == [90, 100, 60]
    assert [d[u]["rank"] for u in ("D1", "D2", "D3")] == [2, 1, 3]
    assert [d[u]["rank_department"] for u in ("D1", "D2", "D3")] == [2, 1, 3]
    assert d["D2"]["bonus"] == 0 and d["D2"]["deduction"] == 0
    assert all(math.isnan(d[u]["line_party_gov"]) for u in d)
    assert all(d[u]["max_total"] == 100 for u in d)
    # no single-item awards for departments (they are for towns); the yellow card is for any
    # lagging unit, each kind ranked apart: D3 (60) is the last department
    assert all(d[u]["single_awards"] == "" for u in d)
    assert [d[u]["warning"] for u in ("D1", "D2", "D3")] == ["", "", "yellow_card"]
    # towns ranked apart: A 1 (1000), B 2 (995); B is the town yellow card
    assert (row_of(res, "A")["rank"], row_of(res, "B")["rank"]) == (1, 2)
    assert (row_of(res, "A")["total"], row_of(res, "B")["total"]) == (1000, 995)
    assert row_of(res, "A")["n_ranked"] == 2 and d["D1"]["n_ranked"] == 3
    assert row_of(res, "B")["warning"] == "yellow_card"
    assert row_of(res, "A")["max_total"] == 1000


def test_single_item_awards_go_to_the_best_on_each_node(scheme):
    # informatisation: A 50 > B 45 > C 40 → A; resettlement (fp line): B 45 > A 40 = C 40 → B;
    # floating population: C 50 > A 48 = B 48 → C. Each 3000 yuan.
    grades = [
        full_grades("A", fp_cg_resettlement_areas=40, fp_cg_floating_pop=48),
        full_grades("B", fp_inf_whole_population=45, fp_cg_floating_pop=48),
        full_grades("C", fp_inf_whole_population=40, fp_cg_resettlement_areas=40),
    ]
    res = run(scheme, [town("A"), town("B"), town("C")], grades)
    assert row_of(res, "A")["single_awards"] == "award_informatisation"
    assert row_of(res, "B")["single_awards"] == "award_resettlement"
    assert row_of(res, "C")["single_awards"] == "award_floating_pop"
    assert {u: row_of(res, u)["prize"] for u in "ABC"} == {"A": 3000, "B": 3000, "C": 3000}
    # totals: A 1000 − 5 − 2 = 993, B 1000 − 5 − 2 = 993, C 1000 − 10 − 5 = 985 → ranks 1, 1, 3
    assert [row_of(res, u)["total"] for u in "ABC"] == [993, 993, 985]
    assert [row_of(res, u)["rank"] for u in "ABC"] == [1, 1, 3]
    assert [row_of(res, u)["warning"] for u in "ABC"] == ["", "", "yellow_card"]


# ---------------------------------------------------------------- bundled example
def test_bundled_example_scores(scheme):
    res = ak.score(scheme, **example_paths("district_1000"))
    s = res.summary
    assert res.warnings == ()
    assert len(s) == 18  # 9 units × 2 years
    assert sorted(s["year"].unique()) == [2011, 2012]
    assert (
        s.groupby(["year", "kind"]).size()
        == pd.Series({(2011, "department"): 3, (2011, "town"): 6, (2012, "department"): 3, (2012, "town"): 6})
    ).all()
    # the two planted vetoes, and 5 ranked towns + 3 ranked departments each year
    vetoed = s.loc[s["veto"], ["unit", "year"]].apply(tuple, axis=1).tolist()
    assert sorted(vetoed) == [("S02", 2011), ("T03", 2012)]
    assert s.loc[s["unit"] == "S02"].set_index("year").loc[2011, "veto_reason"].startswith("统计合格率")
    assert s.loc[s["unit"] == "T03"].set_index("year").loc[2012, "veto_reason"].startswith("出生政策符合率")
    assert set(s.loc[s["kind"] == "town", "n_ranked"]) == {5}
    assert set(s.loc[s["kind"] == "department", "n_ranked"]) == {3}
    # three single-item awards per year, all to towns; a yellow card for the last town and
    # for the last department
    for y in (2011, 2012):
        sy = s[s["year"] == y]
        assert sy["prize"].sum() == 9000
        assert sy.loc[sy["warning"] == "yellow_card", "kind"].sort_values().tolist() == ["department", "town"]
        assert (sy.loc[sy["kind"] == "department", "prize"] == 0).all()
        last = sy.loc[sy["rank"] == sy.groupby("kind")["rank"].transform("max"), "warning"]
        assert (last == "yellow_card").all()
    carded = s.loc[s["warning"] == "yellow_card", ["year", "unit"]].values.tolist()
    assert sorted(carded) == [[2011, "D03"], [2011, "T04"], [2012, "D03"], [2012, "S02"]]
    # T02 2012: 2 falsification × 5 + 1 reported × 5 + 1 unreported × 10 = 25
    assert s.set_index(["unit", "year"]).loc[("T02", 2012), "deduction"] == 25
    # T01 2012: innovation 20 + provincial 7 = 27
    assert s.set_index(["unit", "year"]).loc[("T01", 2012), "bonus"] == 27
