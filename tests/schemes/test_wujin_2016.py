"""Scheme wujin_2016 — Wujin district 2016 100-point post-responsibility assessment (seed 003).

Expected values are worked out by hand from the source's table (附件2) and the scheme's
stated assumptions; the arithmetic is in the comments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import assesskit as ak
from assesskit.exceptions import DataError
from assesskit.scheme import CategoryTarget, GradedRule, Item, Section

from .helpers import item_row

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "assesskit" / "datasets" / "examples" / "wujin_2016"


@pytest.fixture(scope="module")
def scheme():
    return ak.load_scheme("wujin_2016")


# --------------------------------------------------------------------------- test inputs
def perfect_row(unit: str = "u1", **over) -> dict:
    """A 2016 row meeting every threshold of the table (each rate at 100% unless noted)."""
    row = dict(
        unit=unit,
        year=2016,
        births=200,
        policy_births=199,
        cadre_illegal_births=0,  # 99.5%
        employers=100,
        employers_signed=100,
        self_employed=100,
        self_employed_signed=100,
        landlords=100,
        landlords_signed=100,
        markets=2,
        markets_equipped=2,
        improper_referral_letters=0,
        major_liability_accidents=0,
        reward_recipients_due=100,
        reward_recipients_paid=100,
        major_petition_incidents=0,
        illegal_births_filed=1,  # 1 of 200 − 199 = 1 → 100%
        social_fee_assessed_yuan=100000,
        social_fee_collected_yuan=90000,  # 90%
        additional_child_falsified=0,
        service_form_falsified=0,
        info_persons_due=1000,
        info_persons_recorded=1000,
        info_records=1000,
        info_records_complete=1000,
        info_records_logic_ok=1000,
        info_events=100,
        info_events_timely=100,
        villages=10,
        villages_using_system=10,
        villages_new_family_plan=10,
        service_forms_issued=100,
        service_forms_verified=100,
        web_news_items=5,
        theme_events=3,  # exactly the minimum counts
        fp_knowledge_surveyed=100,
        fp_knowledge_correct=100,
        culture_sites=10,
        culture_sites_ok=10,
        culture_knowledge_surveyed=100,
        culture_knowledge_correct=100,
        services_checked=20,
        services_up_to_standard=20,
        preconception_eligible=100,
        preconception_checked=100,
        eugenics_trainings=2,
        contraceptive_users=100,
        informed_choice_users=100,
        followups_due=100,
        followups_done=100,
        expired_contraceptives=0,
        flo_persons=1000,
        flo_persons_entered=1000,
        flo_records_complete=1000,
        flo_records_checked=100,
        flo_records_accurate=100,
        coop_feedback_requests=100,
        coop_feedback_timely=100,
        coop_receipts=100,
        coop_receipts_timely=100,
        flo_guidance_target=100,
        flo_guidance_served=100,
        flo_free_services_needed=100,
        flo_free_services_done=100,
        flo_persons_managed=1000,
        monitoring_errors=0,
        admission_liability_incidents=0,
        population=10000,
        association_members=1000,  # exactly 10%
        association_systems=5,
        aixin_services=2,
        associations=10,
        associations_with_5_households=10,
        early_education_events=2,
        honours_national=0,
        honours_provincial=0,
        honours_municipal=0,
        honours_district_joint=0,
        sites_or_features=0,
        pubs_national=0,
        pubs_provincial=0,
        pubs_municipal=0,
        birth_care_sites=0,
        chunhui_sites=0,
        demo_markets=0,
        demo_market_events_met=0,
        preconception_quota_met=0,
        population_sweep_done=0,
        bonus_other_points=0,
    )
    row.update(over)
    return row


# Full inspector grades = the points of each graded share (written out from the YAML).
FULL_GRADES = {
    "g_lead_party_govt_priority": 3,
    "g_lead_workforce_professional": 1,
    "g_lead_funding_finance": 2,
    "g_gov_care_for_girls": 2,
    "g_gov_sex_selection_practice": 1,
    "g_gov_admin_duties_ledgers": 0.6,
    "g_law_reward_ledgers": 2,
    "g_law_fee_arrears_collection": 1,
    "g_law_fee_procedure": 1,
    "g_law_additional_child_procedure": 1.5,
    "g_law_service_form_materials": 1.5,
    "g_info_periodic_reports": 1.4,
    "g_info_interdept_sharing": 3,
    "g_info_platform_systems": 1,
    "g_info_guided_service": 1,
    "g_info_training_analysis": 1,
    "g_pub_policy_guidance": 3,
    "g_pub_happy_family": 2,
    "g_svc_station_conditions": 1,
    "g_bd_preconception_process": 1,
    "g_fh_rti_screening": 1,
    "g_fh_contraceptive_management": 1.5,
    "g_flo_verification_reports": 1.25,
    "g_flo_certificates_notification": 1,
    "g_flo_theme_activities": 1.25,
    "g_flo_monitoring_on_time": 1.5,
    "g_flo_admission_procedure": 1.5,
    "g_assoc_elections_floating": 1,
    "g_assoc_ledgers": 2,
    "g_assoc_shidu_database": 2,
}


def grades_row(unit: str = "u1", **over) -> dict:
    g = {"unit": unit, "year": 2016, **FULL_GRADES}
    g.update(over)
    return g


def run(scheme, rows: list[dict], grades: list[dict] | None = None, categories: dict | None = None):
    units = pd.DataFrame(
        {
            "unit": [r["unit"] for r in rows],
            "name": [r["unit"] for r in rows],
            "kind": "town",
            "category": [(categories or {}).get(r["unit"], "rural") for r in rows],
        }
    )
    if grades is None:
        grades = [grades_row(r["unit"]) for r in rows]
    return ak.score(scheme, pd.DataFrame(rows), units=units, grades=pd.DataFrame(grades), year=2016)


def total(res, unit: str = "u1") -> float:
    return float(res.summary.set_index("unit").loc[unit, "total"])


# --------------------------------------------------------------------------- structure
SOURCE_TABLE = {  # category: (points, [points of its items in table order]) — 附件2
    "leadership": (9, [3, 1, 2, 3]),
    "comprehensive_governance": (7, [2, 2, 3]),
    "law_based_admin": (17, [3, 4, 1, 4, 2, 3]),
    "informatisation": (15, [7, 1, 3, 2, 1, 1]),
    "publicity": (12, [3, 2, 3, 2, 2]),
    "public_services": (2, [2]),
    "birth_defect_intervention": (3, [3]),
    "family_health": (6, [2, 1, 3]),
    "floating_population": (19, [5, 3, 5, 3, 3]),
    "association": (10, [2, 2, 2, 2, 2]),
}


def test_loads_with_metadata(scheme):
    assert scheme.id == "wujin_2016"
    assert scheme.years == (2016, 2016)
    assert "003" in scheme.source
    assert set(scheme.kinds) == {"town"} and scheme.kinds["town"].points == 100
    assert set(scheme.categories) == {"seat", "rural"}
    assert scheme.max_by_kind == {"town": 100.0}
    assert [ln.id for ln in scheme.lines] == ["post_responsibility"]


def test_categories_and_items_match_the_source_table(scheme):
    line = scheme.lines[0]
    assert line.points == 100
    assert [c.id for c in line.items] == list(SOURCE_TABLE)
    # 9 + 7 + 17 + 15 + 12 + 2 + 3 + 6 + 19 + 10 = 100
    assert sum(c.points for c in line.items) == 100
    n_items = 0
    for cat in line.items:
        pts, item_pts = SOURCE_TABLE[cat.id]
        assert cat.points == pts, cat.id
        assert [c.points for c in cat.items] == item_pts, cat.id
        n_items += len(cat.items)
    assert n_items == 39


def test_every_section_sums_to_its_points(scheme):
    def visit(node):
        if isinstance(node, Section):
            assert node.check_sum
            assert sum(c.points for c in node.items) == pytest.approx(node.points, abs=1e-9), node.id
            for c in node.items:
                visit(c)

    visit(scheme.lines[0])
    assert sum(it.points for _p, it in scheme.flat_items) == pytest.approx(100, abs=1e-9)


def test_every_item_names_method_section_and_assumption(scheme):
    for _p, it in scheme.flat_items:
        assert it.method and it.responsible, it.id
        assert it.assumption or it.rule.assumption, it.id
    for adj in scheme.adjustments:
        assert adj.assumption, adj.id


def test_policy_compliance_target_is_by_category(scheme):
    t = scheme.nodes["lead_policy_compliance_rate"].rule.target
    assert isinstance(t, CategoryTarget)
    assert t.by_category == {"seat": 99, "rural": 99}
    assert "assum" in scheme.nodes["lead_policy_compliance_rate"].rule.assumption


def test_no_veto_deduction_tier_and_uncapped_bonuses(scheme):
    assert scheme.vetoes == []
    assert scheme.outcomes.tiers == [] and scheme.outcomes.warnings == []
    assert all(a.kind == "bonus" and a.cap is None for a in scheme.adjustments)
    # 亮点工作 has 10 entries (the list numbers "7" twice)
    assert len(scheme.adjustments) == 10
    assert isinstance(scheme.nodes["assoc_rules"], Item) and scheme.nodes["assoc_rules"].rule.type == "linear"


# --------------------------------------------------------------------------- scoring
def test_perfect_unit_scores_100_all_met(scheme):
    r = run(scheme, [perfect_row()])
    assert total(r) == pytest.approx(100)
    assert set(r.items["status"]) == {"met"}
    s = r.summary.iloc[0]
    assert s["bonus"] == 0 and s["deduction"] == 0 and not s["veto"] and s["rank"] == 1


def test_just_below_99_percent_loses_exactly_that_item(scheme):
    # 989 / 1000 = 98.9% < 99% → lead_policy_compliance_rate 0 of 1.5; total 100 − 1.5 = 98.5
    r = run(scheme, [perfect_row(births=1000, policy_births=989, illegal_births_filed=11)])
    row = item_row(r, "u1", "lead_policy_compliance_rate")
    assert row["points"] == 0 and row["lost"] == 1.5 and row["status"] == "missed"
    assert row["value"] == pytest.approx(98.9) and row["target"] == 99
    assert row["reason"] == "missed: value 98.9, target >= 99 → 0/1.5"
    assert total(r) == pytest.approx(98.5)
    assert r.items["lost"].sum() == pytest.approx(1.5)


@pytest.mark.parametrize("category", ["seat", "rural"])
def test_exactly_99_percent_is_met_in_both_categories(scheme, category):
    # 以上 is inclusive: 990 / 1000 = 99% meets the target 99 (same for seat and rural)
    r = run(
        scheme,
        [perfect_row(births=1000, policy_births=990, illegal_births_filed=10)],
        categories={"u1": category},
    )
    assert item_row(r, "u1", "lead_policy_compliance_rate")["status"] == "met"
    assert total(r) == pytest.approx(100)


def test_cadre_illegal_birth_loses_its_half(scheme):
    r = run(scheme, [perfect_row(cadre_illegal_births=1)])
    row = item_row(r, "u1", "lead_no_cadre_illegal_birth")
    assert row["points"] == 0 and row["reason"] == "missed: value 1, target <= 0 → 0/1.5"
    assert total(r) == pytest.approx(98.5)


def test_wujin_highlight_bonus(scheme):
    # one provincial honour (+2) and two municipal publications (2 × +1) → +4; 100 + 4 = 104
    r = run(scheme, [perfect_row(honours_provincial=1, pubs_municipal=2)])
    s = r.summary.iloc[0]
    assert s["bonus"] == pytest.approx(4)
    assert s["total"] == pytest.approx(104)
    assert item_row(r, "u1", "bonus_honour")["points"] == 2
    assert item_row(r, "u1", "bonus_publication")["points"] == 2


def test_bonuses_accumulate_without_cap(scheme):
    # honours 3 + 2 + 1 + 1 = 7; 2 national publications 2 × 3 = 6; site/feature 2 × 1 = 2;
    # Chunhui site 2; events flag 2; quota flag 2; sweep 1 → 7 + 6 + 2 + 2 + 2 + 2 + 1 = 22
    r = run(
        scheme,
        [
            perfect_row(
                honours_national=1,
                honours_provincial=1,
                honours_municipal=1,
                honours_district_joint=1,
                pubs_national=2,
                sites_or_features=2,
                chunhui_sites=1,
                demo_market_events_met=1,
                preconception_quota_met=1,
                population_sweep_done=1,
            )
        ],
    )
    assert r.summary.iloc[0]["bonus"] == pytest.approx(22)
    assert total(r) == pytest.approx(122)


def test_full_hand_computed_total(scheme):
    # lead_policy_compliance_rate  989/1000 = 98.9% < 99           −1.5
    # lead_party_govt_priority     grade 2 of 3                    −1
    # info_coverage                940/1000 = 94% < 95             −1.4
    # law_fee_collection_rate      79000/100000 = 79% < 80         −1
    # pub_culture_sites            9/10 = 90% < 95                 −2/3
    # fh_contraceptive_management  grade 0.75 of 1.5              −0.75
    # flo_entry                    940/1000 = 94% < 95             −1.25  (completeness 940/940 met)
    # assoc_rules                  3 of 5 rules → 3/5 × 2 = 1.2    −0.8
    # line = 100 − (1.5 + 1 + 1.4 + 1 + 0.75 + 1.25 + 0.8) − 2/3 = 100 − 7.7 − 0.6667 = 91.6333
    # bonus = provincial honour 2 + 2 municipal publications 2 + other highlight 1.5 = 5.5
    # total = 91.6333 + 5.5 = 97.1333
    row = perfect_row(
        births=1000,
        policy_births=989,
        illegal_births_filed=11,
        info_persons_recorded=940,
        social_fee_collected_yuan=79000,
        culture_sites_ok=9,
        flo_persons_entered=940,
        flo_records_complete=940,
        association_systems=3,
        honours_provincial=1,
        pubs_municipal=2,
        bonus_other_points=1.5,
    )
    g = grades_row(g_lead_party_govt_priority=2, g_fh_contraceptive_management=0.75)
    r = run(scheme, [row], [g])
    s = r.summary.iloc[0]
    assert s["line_post_responsibility"] == pytest.approx(100 - 7.7 - 2 / 3)
    assert s["bonus"] == pytest.approx(5.5)
    assert s["total"] == pytest.approx(97 + 2 / 15)  # 97.1333…
    pts = r.points.iloc[0]
    assert pts["assoc_rules"] == pytest.approx(1.2)
    assert pts["flo_completeness"] == 1.25
    assert item_row(r, "u1", "assoc_rules")["status"] == "partial"
    lost = r.items.set_index("item")["lost"]
    assert set(lost[lost > 1e-9].index) == {
        "lead_policy_compliance_rate",
        "lead_party_govt_priority",
        "info_coverage",
        "law_fee_collection_rate",
        "pub_culture_sites",
        "fh_contraceptive_management",
        "flo_entry",
        "assoc_rules",
    }


def test_missing_data_scores_zero_with_status_missing(scheme):
    # coverage counts absent → info_coverage 0 of 1.4; grade absent → assoc_ledgers 0 of 2
    # total = 100 − 1.4 − 2 = 96.6
    row = perfect_row(info_persons_due=np.nan, info_persons_recorded=np.nan)
    g = grades_row(g_assoc_ledgers=np.nan)
    r = run(scheme, [row], [g])
    for item, lost, cause in (
        ("info_coverage", 1.4, "no value (or a zero denominator)"),  # a rate
        ("assoc_ledgers", 2, "no value"),  # an inspector grade
    ):
        x = item_row(r, "u1", item)
        assert x["points"] == 0 and x["lost"] == lost and x["status"] == "missing"
        assert x["reason"] == f"{cause} → scored 0 (missing-data policy 'zero')"
    assert total(r) == pytest.approx(96.6)


def test_nothing_due_counts_as_done_but_absent_counts_do_not(scheme):
    # 200 births, all within policy, and no fee assessed: filing rate 0/0 and collection
    # rate 0/0. Both indicators declare zero_denominator: 100 (nothing to file or collect
    # = fully done), so each item is met with value 100 and keeps its 1 point.
    r = run(
        scheme,
        [
            perfect_row(
                policy_births=200,
                illegal_births_filed=0,
                social_fee_assessed_yuan=0,
                social_fee_collected_yuan=0,
            )
        ],
    )
    for item in ("law_illegal_birth_filing_rate", "law_fee_collection_rate"):
        x = item_row(r, "u1", item)
        assert x["points"] == 1 and x["status"] == "met" and x["value"] == 100
    assert total(r) == pytest.approx(100)
    # the fee counts absent altogether: that is missing data, scored 0 (−1)
    r = run(scheme, [perfect_row(social_fee_assessed_yuan=np.nan, social_fee_collected_yuan=np.nan)])
    x = item_row(r, "u1", "law_fee_collection_rate")
    assert x["points"] == 0 and x["status"] == "missing"
    assert total(r) == pytest.approx(99)


def test_filing_rate_below_90_is_missed(scheme):
    # 1000 births, 990 within policy → 10 illegal births; 8 filed = 80% < 90 → −1
    r = run(scheme, [perfect_row(births=1000, policy_births=990, illegal_births_filed=8)])
    x = item_row(r, "u1", "law_illegal_birth_filing_rate")
    assert x["status"] == "missed" and x["value"] == pytest.approx(80)
    assert total(r) == pytest.approx(99)


@pytest.mark.parametrize("n, pts", [(0, 0), (1, 0.4), (2, 0.8), (4, 1.6), (5, 2)])
def test_association_rules_point_four_each(scheme, n, pts):
    r = run(scheme, [perfect_row(association_systems=n)])
    assert r.points.iloc[0]["assoc_rules"] == pytest.approx(pts)


def test_zero_tolerance_and_count_items(scheme):
    # expired products −1.5; 4 news items < 5 → −3; 2 trainings met; 1 monitoring error −1.5
    # total = 100 − 1.5 − 3 − 1.5 = 94
    r = run(scheme, [perfect_row(expired_contraceptives=2, web_news_items=4, monitoring_errors=1)])
    assert item_row(r, "u1", "pub_news")["reason"] == "missed: value 4, target >= 5 → 0/3"
    assert total(r) == pytest.approx(94)


def test_impossible_rate_is_rejected(scheme):
    with pytest.raises(DataError) as exc:
        run(scheme, [perfect_row(policy_births=201)])
    assert "above its maximum 100" in str(exc.value.problems)


def test_ranks_and_category_ranks(scheme):
    # a: 100; b: 98.5 (just below 99%); c: 100 + 4 bonus = 104 → c 1, a 2, b 3
    rows = [
        perfect_row("a"),
        perfect_row("b", births=1000, policy_births=989, illegal_births_filed=11),
        perfect_row("c", honours_provincial=1, pubs_municipal=2),
    ]
    r = run(scheme, rows, categories={"a": "seat", "b": "rural", "c": "rural"})
    s = r.summary.set_index("unit")
    assert s["rank"].to_dict() == {"c": 1, "a": 2, "b": 3}
    assert s["rank_in_category"].to_dict() == {"c": 1, "a": 1, "b": 2}
    assert (s["award"] == "").all() and s["eligible"].all()


# --------------------------------------------------------------------------- bundled example
SCHEDULE = [  # 附件3, in order: (unit, name, group)
    ("lijia", "礼嘉镇", 1),
    ("jiaze", "嘉泽镇", 2),
    ("xueyan", "雪堰镇", 1),
    ("huangli", "湟里镇", 2),
    ("hutang", "湖塘镇", 1),
    ("niutang", "牛塘镇", 2),
    ("gaoxinqu_beiqu", "高新区北区", 1),
    ("xihu_jiedao", "西湖街道", 2),
    ("luoyang", "洛阳镇", 1),
    ("hengshanqiao", "横山桥镇", 2),
    ("yaoguan", "遥观镇", 1),
    ("henglin", "横林镇", 2),
    ("qianhuang", "前黄镇", 1),
    ("dingyan_jiedao", "丁堰街道", 2),
    ("nanxiashu_jiedao", "南夏墅街道", 1),
    ("qishuyan_jiedao", "戚墅堰街道", 2),
    ("lucheng_jiedao", "潞城街道", 2),
]
SEAT = {
    "hutang",
    "gaoxinqu_beiqu",
    "xihu_jiedao",
    "dingyan_jiedao",
    "nanxiashu_jiedao",
    "qishuyan_jiedao",
    "lucheng_jiedao",
}


def test_example_units_are_the_17_of_the_schedule():
    u = pd.read_csv(EXAMPLE / "units.csv", encoding="utf-8")
    assert list(zip(u["unit"], u["name"], u["inspection_group"])) == SCHEDULE
    assert (u["kind"] == "town").all() and u["synthetic"].all()
    assert set(u.loc[u["category"] == "seat", "unit"]) == SEAT
    assert set(u["category"]) == {"seat", "rural"}
    assert (u["inspection_group"] == 1).sum() == 8 and (u["inspection_group"] == 2).sum() == 9


def test_example_scores_as_planted(scheme):
    r = ak.score(scheme, EXAMPLE / "panel.csv", units=EXAMPLE / "units.csv", grades=EXAMPLE / "grades.csv")
    s = r.summary.set_index("unit")
    assert len(s) == 17 and set(s["year"]) == {2016}
    assert [w.message for w in r.warnings] == [
        "post_responsibility › association › assoc_ledgers: no grade for 1 unit-year(s) (niutang 2016): "
        "scored 0 (missing-data policy 'zero')"
    ]
    assert {
        "line_post_responsibility",
        "bonus",
        "deduction",
        "total",
        "rank",
        "rank_in_category",
        "veto",
        "eligible",
        "award",
    } <= set(r.summary.columns)
    # planted totals (README.md): line deductions and bonuses
    expected = {
        "henglin": 100 - 0.5 - 0.4 + 3 + 2 + 2,  # 106.1
        "qianhuang": 100 - 1 + 2 + 2 + 1,  # 104
        "lijia": 100 - 0.5 + 2 + 2,  # 103.5
        "hengshanqiao": 100 + 2 + 1,  # 103
        "xihu_jiedao": 100 - 0.25,
        "qishuyan_jiedao": 100 - 0.8,
        "huangli": 100 - 0.5 - 0.5,
        "nanxiashu_jiedao": 100 - 1,
        "yaoguan": 100 - 1,  # filing rate 0/0 counts as 100 (nothing to file); −1 for the 失独 grade
        "luoyang": 100 - 0.6 - 0.5,
        "lucheng_jiedao": 100 - 1.25,
        "xueyan": 100 - 1.5,
        "gaoxinqu_beiqu": 100 - 1.5 - 0.5,
        "hutang": 100 - 1.5 - 0.5,
        "jiaze": 100 - 1 - 1,
        "dingyan_jiedao": 100 - 3,
        "niutang": 100 - 1.4 - 2,  # two missing values scored 0
    }
    for u, t in expected.items():
        assert s.loc[u, "total"] == pytest.approx(t), u
    ranks = {
        "henglin": 1,
        "qianhuang": 2,
        "lijia": 3,
        "hengshanqiao": 4,
        "xihu_jiedao": 5,
        "qishuyan_jiedao": 6,
        "huangli": 7,
        "nanxiashu_jiedao": 7,
        "yaoguan": 7,
        "luoyang": 10,
        "lucheng_jiedao": 11,
        "xueyan": 12,
        "gaoxinqu_beiqu": 13,
        "hutang": 13,
        "jiaze": 13,
        "dingyan_jiedao": 16,
        "niutang": 17,
    }
    assert s["rank"].to_dict() == ranks
    assert (s["n_ranked"] == 17).all() and not s["veto"].any() and s["eligible"].all()
    assert s.loc["hutang", "rank_in_category"] == 5  # seat: xihu, qishuyan, nanxiashu, lucheng ahead
    miss = r.items[r.items["status"] == "missing"].set_index(["unit", "item"])["points"].to_dict()
    assert miss == {
        ("niutang", "info_coverage"): 0,
        ("niutang", "assoc_ledgers"): 0,
    }
    # yaoguan has no illegal birth: filing rate 0/0 → zero_denominator 100, met, 1 point
    yg = r.items[(r.items["unit"] == "yaoguan") & (r.items["item"] == "law_illegal_birth_filing_rate")].iloc[
        0
    ]
    assert (yg["status"], yg["points"], yg["value"]) == ("met", 1, 100)
    hut = r.items[(r.items["unit"] == "hutang") & (r.items["item"] == "lead_policy_compliance_rate")].iloc[0]
    assert hut["reason"] == "missed: value 98.9, target >= 99 → 0/1.5"


def test_graded_indicators_match_full_grades(scheme):
    graded = {it.rule.indicator: it.points for _p, it in scheme.flat_items if isinstance(it.rule, GradedRule)}
    assert graded == pytest.approx(FULL_GRADES)
    g = pd.read_csv(EXAMPLE / "grades.csv")
    assert set(g.columns) - {"unit", "year"} == set(graded)
