"""Schemes in Excel: ``assesskit import-excel`` and ``export-scheme`` (the round trip, a
hand-written workbook, every problem at once with its sheet, row and column)."""

import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from assesskit.cli import main
from assesskit.datasets.demo import make_panel
from assesskit.excel import read_scheme_workbook, scheme_to_workbook
from assesskit.exceptions import SchemeError
from assesskit.pipeline import score_files
from assesskit.scheme import bundled_schemes, load_scheme, parse_scheme, schemes_dir

from .conftest import FIX

ALL_SCHEMES = bundled_schemes() + sorted((schemes_dir() / "variants").glob("*.yaml"))


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _score(scheme):
    t = make_panel(scheme, seed=0).tables()
    return score_files(
        scheme, t["data"], units=t.get("units"), targets=t.get("targets"), grades=t.get("grades")
    ).result


@pytest.mark.parametrize("path", ALL_SCHEMES, ids=lambda p: p.stem)
def test_export_then_import_gives_the_same_scheme_and_scores(tmp_path, path):
    xlsx = tmp_path / "scheme.xlsx"
    r = run("export-scheme", path, "--out", xlsx)
    assert r.exit_code == 0, r.output
    r = run("import-excel", xlsx, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    original = load_scheme(path)
    written = tmp_path / "out" / f"{original.id}.yaml"
    assert run("validate", written).exit_code == 0
    back = load_scheme(written)
    assert back.model_dump() == original.model_dump()  # nothing lost: bands, vetoes, outcomes …
    if path.parent.name == "variants":  # the demo generator makes panels for bundled ids only
        return
    a, b = _score(original), _score(back)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.items, b.items)


def _sheet(wb, name, rows):
    ws = wb.create_sheet(name)
    for row in rows:
        ws.append(row)


def _mini_workbook(path: Path, items: list[list] | None = None, header: list | None = None) -> Path:
    """tests/fixtures/mini.yaml written by hand as a workbook (no line or section rows)."""
    wb = Workbook()
    wb.remove(wb.active)
    head = header or ["line", "section", "item", "考核内容", "分值", "unit_kind", "rule", "indicator"]
    head += ["op", "target", "target_seat", "target_rural", "评分标准", "yaml"]
    rows = items or [
        ["main", "basic", "pr", "符合率", 40, "town", "threshold", "policy_rate", None, None, 99, 95, None, None],
        ["main", "basic", "sr", "性别比", 20, "town", "change", "srb", None, None, None, None, None,
         "{rule: {direction: toward, normal: [103, 107], min_change: 1}}"],
        ["main", None, "gr", "评分", 40, "town", None, None, None, None, None, None, "台帐齐全", None],
    ]  # fmt: skip
    _sheet(wb, "items", [head, *rows])
    _sheet(
        wb,
        "indicators",
        [
            ["id", "numerator", "denominator", "scale", "max", "kind"],
            ["policy_rate", "policy_births", "births", 100, 100, None],
            ["srb", "male_births", "female_births", 100, None, None],
            ["fals", None, None, None, None, "count"],
        ],
    )
    _sheet(
        wb,
        "scheme",
        [
            ["key", "value"],
            ["id", "t1x"],
            ["label", "测试"],
            ["source", "test"],
            ["years", "[2015, 2016]"],
            ["kinds", "{town: {label: 镇, points: 100}}"],
            ["categories", "{seat: {label: 城关镇}, rural: {label: 农村镇}}"],
        ],
    )
    yaml_text = """adjustments:
  - {id: f, label: 弄虚作假, kind: deduction, per_case: {fals: 5}}
vetoes:
  - {id: v1, label: 符合率未完成, effect: veto, when: {missed: pr}}
outcomes:
  tiers: [{id: first, label: 一等奖, count: 1, prize: 100}]
  warnings: [{id: yellow, label: 黄牌, bottom: 1}]"""
    _sheet(wb, "yaml", [[line] for line in yaml_text.split("\n")])
    wb.save(path)
    return path


def test_hand_written_workbook_scores_like_the_yaml_scheme(tmp_path):
    xlsx = _mini_workbook(tmp_path / "mini.xlsx")
    r = run("import-excel", xlsx, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert "1 items have no rule and are inspector-graded (give them a rule): gr" in r.output
    s = load_scheme(tmp_path / "out" / "t1x.yaml")
    line = s.lines[0]
    # no line or section rows: ids as labels, points summed (40 + 20 = 60; 60 + 40 = 100)
    assert (line.id, line.label, line.points, line.unit_kind) == ("main", "main", 100, "town")
    assert (line.items[0].id, line.items[0].points) == ("basic", 60)
    pr = line.items[0].items[0]
    assert pr.rule.target.by_category == {"seat": 99, "rural": 95}
    gr = line.items[1]
    assert gr.rule.type == "graded" and gr.rule.indicator == "g_gr" and gr.rule.scale == "points"
    assert "no rule in the workbook (sheet items, row 4)" in gr.assumption
    assert "评分标准: 台帐齐全" in gr.assumption
    assert s.indicators["g_gr"].label == "评分（评分）"
    # the same totals as the hand-written YAML (test_cli: A 95 − 5 = 90, B 80, D 80, C vetoed 40)
    data = pd.read_csv(FIX / "mini.csv").rename(columns={"g1": "g_gr"})
    got = score_files(s, data, years=[2016]).result.summary.set_index("unit")
    want = score_files(FIX / "mini.yaml", FIX / "mini.csv", years=[2016]).result.summary.set_index("unit")
    assert got["total"].to_dict() == want["total"].to_dict() == {"A": 90, "B": 80, "D": 80, "C": 40}
    assert got.loc["C", "veto"] and got.loc["A", "award"] == "first"


def test_every_cell_problem_is_reported_with_sheet_row_and_column(tmp_path):
    rows = [
        ["main", "basic", "pr", "符合率", "forty", "town", "threshold", "policy_rate", None, None, 99, 95, None, None],
        ["main", "basic", "pr", "again", 20, "town", "threshold", "srb", None, None, None, None, None, None],
        ["main", None, "gr", None, 40, "town", None, None, None, None, None, None, None, "{rule: ["],
        [None, None, "x", "无线", 1, "town", None, None, None, None, None, None, None, None],
    ]  # fmt: skip
    xlsx = _mini_workbook(tmp_path / "bad.xlsx", rows)
    out = tmp_path / "out"
    r = run("import-excel", xlsx, "--out", out)
    assert r.exit_code == 2
    assert "(5 problems)" in r.output
    assert "sheet items, row 2, column E (points): expected a number, got 'forty'" in r.output
    assert "sheet items, row 3, column C (item): item id 'pr' is used twice (also row 2)" in r.output
    assert "sheet items, row 4, column D (label): empty; give the item's name" in r.output
    assert "sheet items, row 4, column N (yaml): not YAML" in r.output
    assert "sheet items, row 5, column A (line): empty; every row names its line" in r.output
    assert not out.exists()


def test_scheme_check_problems_name_the_row(tmp_path):
    rows = [
        ["main", "basic", "pr", "符合率", 40, "town", "thresh", "policy_rate", None, None, 99, 95, None, None],
        ["main", "basic", "sr", "性别比", 20, "town", "threshold", "no_such", None, None, 1, None, None, None],
        ["main", None, "gr", "评分", 40, "town", None, None, None, None, None, None, None, None],
    ]  # fmt: skip
    with pytest.raises(SchemeError) as err:
        read_scheme_workbook(_mini_workbook(tmp_path / "bad.xlsx", rows))
    text = str(err.value)
    assert "unknown rule type 'thresh'" in text and "(sheet items, row 2)" in text


def test_cell_and_check_problems_are_reported_together(tmp_path):
    rows = [
        ["main", "basic", "pr", "符合率", "forty", "town", "threshold", "policy_rate", None, None, 99, 95, None, None],
        ["main", "basic", "sr", "性别比", 20, "village", "thresh", "srb", None, None, None, None, None, None],
        ["main", None, "gr", "评分", 40, "town", None, None, None, None, None, None, None, None],
    ]  # fmt: skip
    with pytest.raises(SchemeError) as err:
        read_scheme_workbook(_mini_workbook(tmp_path / "bad.xlsx", rows))
    probs = [str(p) for p in err.value.problems]
    assert len(probs) == 3, probs
    assert probs[0].endswith("sheet items, row 2, column E (points): expected a number, got 'forty'")
    # the line takes its kind from its rows: town and village disagree
    assert probs[1].endswith("line 'main' needs one unit kind (got: town, village)")
    # the scheme check's problem on row 3 is kept; row 2's "needs points" follows from its cell
    assert "unknown rule type 'thresh'" in probs[2] and probs[2].split(": ")[-2].endswith(
        "(sheet items, row 3)"
    )


def test_an_items_sheet_without_rows(tmp_path):
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, "items", [["line", "section", "item", "label", "points"]])
    _sheet(wb, "scheme", [["key", "value"], ["id", "x"]])
    wb.save(tmp_path / "x.xlsx")
    with pytest.raises(SchemeError, match="no rows below the header"):
        read_scheme_workbook(tmp_path / "x.xlsx")


def test_missing_sheets_and_not_a_workbook(tmp_path):
    wb = Workbook()
    wb.active.title = "Sheet1"
    wb.save(tmp_path / "empty.xlsx")
    r = run("import-excel", tmp_path / "empty.xlsx", "--out", tmp_path / "out")
    assert r.exit_code == 2
    assert "sheet items, row 1: no sheet 'items' (sheets: Sheet1)" in r.output
    assert "no sheet 'scheme'" in r.output
    (tmp_path / "fake.xlsx").write_text("id: x\n", encoding="utf-8")
    r = run("import-excel", tmp_path / "fake.xlsx", "--out", tmp_path / "out")
    assert r.exit_code == 2 and "not an .xlsx workbook" in r.output
    r = run("import-excel", tmp_path / "absent.xlsx", "--out", tmp_path / "out")
    assert r.exit_code == 2 and "no such workbook" in r.output


def test_formula_like_text_is_a_text_cell_and_round_trips(mini_raw):
    mini_raw["lines"][0]["items"][1]["label"] = "=1+1 评分"
    mini_raw["source"] = "-2 版"
    s = parse_scheme(mini_raw)
    wb = load_workbook(io.BytesIO(scheme_to_workbook(s)))
    cells = [c for row in wb["items"].iter_rows() for c in row if c.value == "=1+1 评分"]
    assert len(cells) == 1 and cells[0].data_type == "s"


def test_formula_like_text_round_trip(tmp_path, mini_raw):
    mini_raw["lines"][0]["items"][1]["label"] = "=1+1 评分"
    mini_raw["source"] = "-2 版"
    path = tmp_path / "s.xlsx"
    path.write_bytes(scheme_to_workbook(parse_scheme(mini_raw)))
    back, _raw, graded = read_scheme_workbook(path)
    assert back.lines[0].items[1].label == "=1+1 评分" and back.source == "-2 版" and graded == []


def test_export_refuses_a_folder_or_another_suffix(tmp_path):
    r = run("export-scheme", "xpcc_2015", "--out", tmp_path)
    assert r.exit_code == 2 and "is a folder" in r.output
    r = run("export-scheme", "xpcc_2015", "--out", tmp_path / "x.csv")
    assert r.exit_code == 2 and "must end in .xlsx" in r.output
    r = run("export-scheme", "no_such_scheme", "--out", tmp_path / "x.xlsx")
    assert r.exit_code == 2 and not (tmp_path / "x.xlsx").exists()


@pytest.mark.parametrize("book", sorted((schemes_dir() / "excel").glob("*.xlsx")), ids=lambda p: p.stem)
def test_bundled_workbooks_are_the_bundled_schemes(book):
    """params/schemes/excel/<id>.xlsx (the template officials start from) reads back as the
    bundled scheme of that id, field for field — so the workbook cannot drift from the YAML."""
    scheme, _raw, ungraded = read_scheme_workbook(book)
    assert scheme.model_dump() == load_scheme(book.stem).model_dump()
    assert ungraded == []


def test_outcome_policies_round_trip_through_the_yaml_sheet(tmp_path, mini_raw):
    """Outcomes are not in the items layout: they travel as YAML in the ``yaml`` sheet, with
    every new key (ties, per-outcome applies_to, a decline warning)."""
    mini_raw["kinds"]["dept"] = {"label": "部门"}
    mini_raw["outcomes"] = {
        "tie_break": ["basic"],
        "ties": "split",
        "tiers": [{"id": "first", "label": "一等奖", "count": 1, "prize": 100, "applies_to": ["town"]}],
        "warnings": [
            {"id": "yellow", "label": "黄牌", "bottom": 1, "applies_to": ["dept"]},
            {"id": "rectify", "label": "限期整改", "decline": {"total": 10, "rank": 3}},
        ],
    }
    s = parse_scheme(mini_raw)
    path = tmp_path / "s.xlsx"
    path.write_bytes(scheme_to_workbook(s))
    yaml_text = "\n".join(str(r[0].value) for r in load_workbook(path)["yaml"].iter_rows())
    assert "ties: split" in yaml_text and "decline:" in yaml_text
    back, _raw, _graded = read_scheme_workbook(path)
    assert back.outcomes == s.outcomes
    assert back.outcomes.warnings[1].decline.rank == 3 and back.outcomes.tiers[0].applies_to == ["town"]
