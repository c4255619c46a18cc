"""The explorer's core (design → variant scheme → scores), its widgets without a browser,
the saved variant, and the `explore` command up to Voilà.

The tiny scheme below is scored by hand:

===  ========  ====  =======  =====  ======  ===============================================
unit category  rate  quality  cases  awards  original
===  ========  ====  =======  =====  ======  ===============================================
U1   rural      92    60       0      1      40 + 20·60/80 + 40 + 2·1 = 97, rank 2
U2   urban      93    90       0      0      compliance missed (95): not scored
U3   rural      85    40       1      0      compliance missed (90), and a case: not scored
U4   urban      96    70       0      2      40 + 20·70/80 + 40 + 2·2 = 101.5, rank 1, first
===  ========  ====  =======  =====  ======  ===============================================
"""

from __future__ import annotations

import subprocess

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import assesskit
from assesskit import SchemeError, read_panel, score_panel
from assesskit._io import load_yaml_text
from assesskit.cli import main
from assesskit.exceptions import DataError
from assesskit.explore import Design, Rescorer, changed_units, explore, league
from assesskit.explore.app import unit_items
from assesskit.explore.design import (
    form_of,
    has_points_lever,
    has_weight_lever,
    target_lever,
    veto_deductible,
)
from assesskit.scheme import parse_scheme

TINY = {
    "id": "tiny",
    "label": "小方案",
    "source": "test",
    "years": [2020, 2020],
    "kinds": {"town": {"label": "镇", "points": 100}},
    "categories": {"rural": {"label": "农村"}, "urban": {"label": "城镇"}},
    "indicators": {
        "rate": {"max": 100},
        "quality": {},
        "cases": {"kind": "count"},
        "awards": {"kind": "count"},
    },
    "lines": [
        {
            "id": "main",
            "label": "主线",
            "points": 100,
            "unit_kind": "town",
            "items": [
                {
                    "id": "a",
                    "label": "基本",
                    "points": 60,
                    "items": [
                        {
                            "id": "compliance",
                            "label": "政策符合率",
                            "points": 40,
                            "rule": {
                                "type": "threshold",
                                "indicator": "rate",
                                "target": {"by_category": {"rural": 90, "urban": 95}},
                            },
                        },
                        {
                            "id": "q",
                            "label": "质量",
                            "points": 20,
                            "rule": {"type": "linear", "indicator": "quality", "floor": 0, "target": 80},
                        },
                    ],
                },
                {
                    "id": "other",
                    "label": "其他",
                    "points": 40,
                    "rule": {"type": "threshold", "indicator": "quality", "target": 50},
                },
            ],
        }
    ],
    "adjustments": [{"id": "b1", "label": "表彰", "kind": "bonus", "per_case": {"awards": 2}}],
    "vetoes": [
        {
            "id": "v1",
            "label": "重大案件",
            "effect": "veto",
            "when": {"indicator": "cases", "op": ">=", "value": 1},
        },
        {"id": "v2", "label": "符合率未完成", "effect": "not_scored", "when": {"missed": "compliance"}},
    ],
    "outcomes": {"tiers": [{"id": "first", "label": "一等奖", "count": 1}]},
}

DATA = pd.DataFrame(
    {
        "unit": ["U1", "U2", "U3", "U4"],
        "year": 2020,
        "rate": [92, 93, 85, 96],
        "quality": [60, 90, 40, 70],
        "cases": [0, 0, 1, 0],
        "awards": [1, 0, 0, 2],
    }
)
UNITS = pd.DataFrame(
    {
        "unit": ["U1", "U2", "U3", "U4"],
        "name": ["甲", "乙", "丙", "丁"],
        "kind": "town",
        "category": ["rural", "urban", "rural", "urban"],
    }
)


@pytest.fixture(scope="module")
def scheme():
    return parse_scheme(TINY)


@pytest.fixture(scope="module")
def rescorer(scheme):
    return Rescorer(scheme, read_panel(scheme, DATA, units=UNITS))


def totals(res) -> dict[str, float]:
    s = res.summary
    return dict(zip(s["unit"], s["total"].astype(float), strict=True))


def ranks(res) -> dict[str, float]:
    s = res.summary
    return dict(zip(s["unit"], s["rank"].astype(float), strict=True))


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.isclose(a[k], b[k], equal_nan=True) for k in a)


# --------------------------------------------------------------------------- the levers
def test_what_each_lever_reaches(scheme):
    assert target_lever(scheme.nodes["compliance"]) == "category"
    assert target_lever(scheme.nodes["other"]) == "number"
    assert form_of(scheme, scheme.nodes["q"]) == "linear"
    assert form_of(scheme, scheme.nodes["other"]) == "threshold"
    assert all(has_points_lever(scheme, n) for n in ("main", "a", "compliance", "q", "other"))
    assert not has_weight_lever(scheme, "q")  # under a sum, items have points, not weights
    assert veto_deductible(scheme, "v1") and not veto_deductible(scheme, "v2")


def test_original_scores_by_hand(rescorer):
    assert same(totals(rescorer.original), {"U1": 97.0, "U2": np.nan, "U3": np.nan, "U4": 101.5})
    assert same(ranks(rescorer.original), {"U1": 2, "U2": np.nan, "U3": np.nan, "U4": 1})


def test_category_target_moves_a_unit_into_the_ranking(rescorer, scheme):
    d = Design(scheme).set_target("compliance", 93, "urban")
    v = d.to_scheme()
    assert v.nodes["compliance"].rule.target.by_category == {"rural": 90, "urban": 93}
    res = rescorer.score(v)
    # U2: 93 >= 93 → 40 + 20 + 40 = 100, no longer vetoed
    assert same(totals(res), {"U1": 97.0, "U2": 100.0, "U3": np.nan, "U4": 101.5})
    tab = league(rescorer.original, res).set_index("unit")
    assert tab.loc["U2", "rank"] == 2 and tab.loc["U1", "rank"] == 3
    assert tab.loc["U1", "rank_change"] == -1  # 2 → 3
    assert tab.loc["U2", "rank_change"] == 1  # unranked (just below the last ranked, 2 + 1) → 2
    assert not tab.loc["U2", "veto"] and tab.loc["U2", "veto_original"]
    assert list(changed_units(league(rescorer.original, res))["unit"]) == ["U2"]
    assert d.changes() == ["目标 target of 政策符合率 (compliance) [urban]: 95 → 93"]


def test_section_points_scale_its_items_and_the_kind(rescorer, scheme):
    d = Design(scheme).set_points("a", 30)
    assert (d.item_points("compliance"), d.item_points("q"), d.node_points("main")) == (20, 10, 70)
    v = d.to_scheme()
    assert v.kinds["town"].points == 70 and v.lines[0].points == 70
    # U1: 20 + 10·60/80 + 40 + 2 = 69.5; U4: 20 + 10·70/80 + 40 + 4 = 72.75
    assert same(totals(rescorer.score(v)), {"U1": 69.5, "U2": np.nan, "U3": np.nan, "U4": 72.75})
    # an item's points change its section, line and kind
    d2 = Design(scheme).set_points("other", 50)
    assert d2.node_points("main") == 110 and d2.to_scheme().kinds["town"].points == 110


def test_line_points_round_and_keep_the_sum(scheme):
    d = Design(scheme).set_points("main", 70)  # 60 → 42 (40 → 28, 20 → 14), 40 → 28
    assert [d.item_points(i) for i in ("compliance", "q", "other")] == [28, 14, 28]
    d = Design(scheme).set_points("main", 33.3)
    pts = [d.item_points(i) for i in ("compliance", "q", "other")]
    assert pts == [13.32, 6.66, 13.32] and d.node_points("main") == 33.3
    d.to_scheme()  # the sums check


def test_rule_form_switch(rescorer, scheme):
    d = Design(scheme).set_form("q", "threshold")
    assert d.to_scheme().nodes["q"].rule.type == "threshold"
    # q all or nothing at 80: U1 (60) and U4 (70) lose it: 40 + 0 + 40 + bonus
    assert same(totals(rescorer.score(d.to_scheme())), {"U1": 82.0, "U2": np.nan, "U3": np.nan, "U4": 84.0})
    lin = Design(scheme).set_form("other", "linear").to_scheme().nodes["other"].rule
    assert (lin.type, lin.floor, lin.target, lin.op) == ("linear", 0.0, 50.0, ">=")


def test_veto_off_and_turned_into_a_deduction(rescorer, scheme):
    base = Design(scheme).set_target("compliance", 80, "rural")  # U3 meets compliance (85)
    # U3: 40 + 20·40/80 + 0 (40 < 50) = 50, vetoed by its case
    res = rescorer.score(base.to_scheme())
    assert totals(res)["U3"] == 50 and bool(res.summary.set_index("unit").loc["U3", "veto"])
    off = base.set_veto("v1", "off").to_scheme()
    assert [v.id for v in off.vetoes] == ["v2"]
    assert totals(rescorer.score(off))["U3"] == 50
    ded = base.set_veto("v1", "deduction", 10).to_scheme()
    adj = ded.adjustments[-1]
    assert (adj.kind, adj.per_case, adj.cap) == ("deduction", {"cases": 10.0}, 10.0)
    res = rescorer.score(ded)
    assert totals(res)["U3"] == 40 and ranks(res)["U3"] == 3
    with pytest.raises(SchemeError, match="only a condition"):
        Design(scheme).set_veto("v2", "deduction")


def test_bonus_off(rescorer, scheme):
    v = Design(scheme).set_adjustment("b1", False).to_scheme()
    assert v.adjustments == []
    assert same(totals(rescorer.score(v)), {"U1": 95.0, "U2": np.nan, "U3": np.nan, "U4": 97.5})


def test_refused_levers(scheme):
    d = Design(scheme)
    with pytest.raises(SchemeError, match="above 0"):
        d.set_points("a", -1)
    with pytest.raises(SchemeError, match="no target for category"):
        d.set_target("compliance", 90, "suburb")
    with pytest.raises(SchemeError, match="finite"):
        d.set_target("other", float("nan"))
    with pytest.raises(SchemeError, match="cannot take the form"):
        d.set_form("compliance", "bands")


def test_rescoring_equals_scoring_the_variant_from_scratch(rescorer, scheme):
    d = (
        Design(scheme)
        .set_target("compliance", 84, "rural")
        .set_points("q", 30)
        .set_form("other", "linear")
        .set_veto("v1", "deduction", 7)
        .set_adjustment("b1", False)
    )
    v = d.to_scheme()
    fast = rescorer.score(v).summary
    slow = score_panel(v, rescorer.inputs.panel).summary
    pd.testing.assert_frame_equal(fast, slow)


def test_reset_and_the_original(scheme, rescorer):
    d = Design(scheme).set_target("other", 55).set_adjustment("b1", False)
    assert not d.is_original
    r = d.reset()
    assert r.is_original and r.to_scheme() is scheme and r.changes() == []
    assert rescorer.score(r.to_scheme()) is rescorer.original
    # a lever moved back to its original value is no change
    assert Design(scheme).set_target("other", 55).set_target("other", 50).is_original


# --------------------------------------------------------------------------- the saved variant
def test_saved_yaml_validates_and_rescores_to_the_live_table(scheme, rescorer, tmp_path):
    d = Design(scheme).set_target("compliance", 93, "urban").set_points("a", 30).set_veto("v1", "off")
    text = d.to_yaml(id="tiny_v")
    head = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert "#   * 目标 target of 政策符合率 (compliance) [urban]: 95 → 93" in head
    assert "#   * 分值 points of 基本 (a): 60 → 30" in head
    assert "#   * 一票否决 veto 重大案件 (v1): switched off" in head
    path = tmp_path / "tiny_v.yaml"
    path.write_text(text, encoding="utf-8")
    out = CliRunner().invoke(main, ["validate", str(path)])
    assert out.exit_code == 0, out.output
    saved = parse_scheme(yaml.safe_load(text))
    assert saved.id == "tiny_v" and saved.label == "小方案（变体）"
    live = league(rescorer.original, rescorer.score(d.to_scheme()))
    again = score_panel(saved, rescorer.inputs.panel).summary
    assert same(dict(zip(live["unit"], live["total"])), totals_of(again))
    # U1: 20 + 10·60/80 + 40 + 2 = 69.5; U2 (target 93 met): 20 + 10 + 40 = 70
    assert totals_of(again)["U2"] == 70 and totals_of(again)["U1"] == 69.5


def totals_of(summary) -> dict[str, float]:
    return dict(zip(summary["unit"], summary["total"].astype(float), strict=True))


# --------------------------------------------------------------------------- the widget
@pytest.fixture()
def app(tmp_path):
    return explore(parse_scheme(TINY), DATA, units=UNITS, save_to=tmp_path / "v.yaml")


def control(app, name):
    return next(c for c, _read in app._controls if f"ak-{name}" in c._dom_classes)


def test_widget_change_rescores_and_reset_restores(app):
    assert callable(assesskit.explore)  # the package is callable as the function
    assert "U2" not in set(app.table.dropna(subset=["rank"])["unit"])
    control(app, "target-compliance-urban").value = 93
    assert app.design.targets == {"compliance": {"urban": 93.0}}
    tab = app.table.set_index("unit")
    assert tab.loc["U2", "total"] == 100 and tab.loc["U2", "rank"] == 2
    assert "<td>U2</td>" in app.league_html.value and "100.00" in app.league_html.value
    assert "U2" in app.changed_html.value or "乙" in app.changed_html.value
    assert "变更 1 项" in app.status.value
    assert set(app.timings) == {"rescore", "to_table", "views"}
    assert 0 < app.timings["rescore"] < app.timings["to_table"]
    # points follow points: the section's box moves the item boxes and the line's
    control(app, "points-a").value = 30
    assert control(app, "points-compliance").value == 20 and control(app, "points-main").value == 70
    app.reset()
    assert app.design.is_original and control(app, "target-compliance-urban").value == 95
    assert control(app, "points-compliance").value == 40 and control(app, "points-main").value == 100
    assert app.result is app.rescorer.original


def test_widget_refuses_an_invalid_value_and_keeps_the_table(app):
    before = app.table.copy()
    control(app, "points-q").value = -5
    assert "above 0" in app.status.value and app.design.is_original
    pd.testing.assert_frame_equal(app.table, before)


def test_widget_search_and_save(app, tmp_path):
    app.search.value = "质量"
    shown = {k for k, row in app._rows.items() if row.layout.display != "none"}
    assert shown == {"q"}
    app.search.value = ""
    assert all(row.layout.display == "" for row in app._rows.values())
    control(app, "adjustment-b1").value = False
    path = app.save()
    text = path.read_text(encoding="utf-8")
    assert path == tmp_path / "v.yaml" and "#   * 加分 bonus 表彰 (b1): switched off" in text
    assert parse_scheme(load_yaml_text(text)).id == "v"


def test_unit_card_lists_the_units_items_with_reasons(app):
    items = unit_items(app.result.result, "U1")
    assert list(items["item"]) == ["compliance", "q", "other", "b1"]
    q = items.set_index("item").loc["q"]
    assert q["points"] == 15 and q["status"] == "partial" and "partial credit" in q["reason"]
    app.unit_pick.value = "U1"
    assert "质量" in app.unit_html.value and "部分" in app.unit_html.value


def test_explore_refuses_bad_inputs():
    with pytest.raises(DataError, match="one year"):
        explore(parse_scheme(TINY), DATA, units=UNITS, year=[2020])
    with pytest.raises(DataError, match="year 2019"):
        explore(parse_scheme(TINY), DATA, units=UNITS, year=2019)
    with pytest.raises(DataError):
        explore(parse_scheme(TINY), DATA.drop(columns=["rate"]), units=UNITS)


# --------------------------------------------------------------------------- the command
def test_cli_explore_validates_before_voila(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(subprocess, "call", lambda *a, **k: started.append(a) or 0)
    DATA.drop(columns=["rate"]).to_csv(tmp_path / "bad.csv", index=False)
    out = CliRunner().invoke(main, ["explore", "--scheme", "xpcc_2015", "--data", str(tmp_path / "bad.csv")])
    assert out.exit_code == 2 and "error" in out.output and started == []
    out = CliRunner().invoke(
        main, ["explore", "--scheme", "no_such_scheme", "--data", str(tmp_path / "bad.csv")]
    )
    assert out.exit_code == 2 and "no_such_scheme" in out.output and started == []


def test_cli_explore_serves_a_notebook_calling_explore(tmp_path, monkeypatch):
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY, allow_unicode=True), encoding="utf-8")
    DATA.to_csv(tmp_path / "d.csv", index=False)
    UNITS.to_csv(tmp_path / "u.csv", index=False)
    seen = {}

    def fake_call(cmd, cwd):
        seen["cmd"] = cmd
        seen["nb"] = nbformat.read(f"{cwd}/explorer.ipynb", as_version=4)
        return 0

    monkeypatch.setattr(subprocess, "call", fake_call)
    monkeypatch.chdir(tmp_path)
    args = ["explore", "--scheme", "tiny.yaml", "--data", "d.csv", "--units", "u.csv", "--port", "9123"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "http://127.0.0.1:9123/" in out.output
    cmd = seen["cmd"]
    assert cmd[1:4] == ["-m", "voila", cmd[3]] and cmd[3].endswith("explorer.ipynb")
    assert {"--no-browser", "--port=9123", "--Voila.ip=127.0.0.1"} <= set(cmd)
    code = seen["nb"].cells[0].source
    assert str(tmp_path / "tiny.yaml") in code and str(tmp_path / "d.csv") in code
    assert f"units={str(tmp_path / 'u.csv')!r}" in code and "year=2020" in code
    assert f"save_to={str(tmp_path / 'tiny_variant.yaml')!r}" in code


def test_the_notebook_opens_the_explorer_on_the_demo_data(tmp_path, monkeypatch):
    import os
    from pathlib import Path

    import nbclient

    path = Path(__file__).resolve().parent.parent / "notebooks" / "explorer.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # stored without outputs
    assert "parameters" in nb.cells[1].metadata.get("tags", [])
    root = str(path.parent.parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    shown = nb.cells[2].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in shown
    assert "分值 points of 党政线 (party_gov): 370 → 300" in nb.cells[4].outputs[0]["text"]


def test_save_button_reports_a_failure_on_the_status_line(app, tmp_path):
    (tmp_path / "file").write_text("x")
    app.save_path.value = str(tmp_path / "file" / "v.yaml")  # a folder that is a file
    app.save_button.click()
    assert "✗" in app.status.value and not (tmp_path / "file" / "v.yaml").exists()


COMPOSITE = {
    "id": "ci",
    "label": "综合指数",
    "source": "test",
    "years": [2020, 2020],
    "kinds": {"unit": {"label": "单位"}},
    "indicators": {"x1": {}, "x2": {}},
    "lines": [
        {
            "id": "index",
            "label": "指数",
            "aggregate": "mean",
            "unit_kind": "unit",
            "items": [
                {"id": "i1", "label": "甲指标", "rule": {"type": "normalise", "indicator": "x1"}},
                {"id": "i2", "label": "乙指标", "rule": {"type": "normalise", "indicator": "x2"}},
            ],
        }
    ],
}


def test_weights_of_a_composite_index():
    """Min-max scores (0–100): A (0, 100), B (100, 0), C (50, 50): equal weights tie all at
    50; i1 weighted 3: A (0·3 + 100)/4 = 25, B 75, C 50."""
    s = parse_scheme(COMPOSITE)
    data = pd.DataFrame({"unit": ["A", "B", "C"], "year": 2020, "x1": [0, 10, 5], "x2": [10, 0, 5]})
    r = Rescorer(s, read_panel(s, data))
    assert same(totals(r.original), {"A": 50.0, "B": 50.0, "C": 50.0})
    assert has_weight_lever(s, "i1") and not has_points_lever(s, "i1") and not has_points_lever(s, "index")
    d = Design(s).set_weight("i1", 3)
    assert d.changes() == ["权重 weight of 甲指标 (i1): 1 → 3"]
    res = r.score(d.to_scheme())
    assert same(totals(res), {"A": 25.0, "B": 75.0, "C": 50.0})
    assert same(ranks(res), {"A": 3, "B": 1, "C": 2})
    with pytest.raises(SchemeError, match="not under a weighted mean"):
        Design(parse_scheme(TINY)).set_weight("q", 2)
