"""``assesskit score --format csv|parquet|xlsx``: the results workbook and the Parquet tables."""

import io

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from assesskit import writers
from assesskit._io import unneutralise_formulas
from assesskit.cli import main
from assesskit.datasets.demo import make_panel
from assesskit.pipeline import score_files, write_score_outputs
from assesskit.reasons import render_reasons
from assesskit.scheme import bundled_schemes, load_scheme

from .conftest import FIX


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def score_mini(out, *extra):
    return run(
        "score",
        "--scheme",
        FIX / "mini.yaml",
        "--data",
        FIX / "mini.csv",
        "--year",
        2016,
        "--out",
        out,
        *extra,
    )


def sheet_rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


# --------------------------------------------------------------------------- xlsx


def test_xlsx_league_table_numbers_fills_and_layout(tmp_path):
    out = tmp_path / "out"
    r = score_mini(out, "--format", "xlsx")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["results.xlsx", "run.json"]
    wb = load_workbook(out / "results.xlsx")
    assert wb.sheetnames == ["排名-镇", "评分明细", "运行信息"]
    ws = wb["排名-镇"]
    rows = sheet_rows(ws)
    assert rows[0] == [
        "年度",
        "名次",
        "单位代码",
        "单位名称",
        "类别",
        "主线",
        "加分",
        "扣分",
        "总分",
        "奖项",
        "单项奖",
        "奖金",
        "警告",
        "一票否决/取消评优原因",
    ]
    # hand-computed (see test_cli): A 95 − 5 = 90 first; B and D 80 share rank 2 and the
    # yellow card; C vetoed (符合率 90 < 95), unranked, last
    body = {r[2]: r for r in rows[1:]}
    assert [r[2] for r in rows[1:]] == ["A", "B", "D", "C"]
    assert body["A"][1:] == [1, "A", "A", "seat", 95, 0, 5, 90, "first", None, 100, None, None]
    assert body["C"][1] is None and body["C"][-1] == "符合率未完成"
    assert body["B"][-2] == "yellow"
    assert ws["I2"].data_type == "n" and ws["B2"].data_type == "n"  # numbers stored as numbers
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:N5"
    assert ws["A5"].fill.fgColor.rgb.endswith(writers.VETO_FILL)  # C, vetoed
    assert ws["A3"].fill.fgColor.rgb.endswith(writers.WARN_FILL)  # B, yellow card
    assert ws["A2"].fill.fill_type is None  # A: neither
    # the reason header 一票否决/取消评优原因: 10 wide characters and a slash → 21 columns,
    # + 2 of margin (the longest reason, 符合率未完成, is 12)
    assert ws.column_dimensions["N"].width == 23
    items = sheet_rows(wb["评分明细"])
    assert items[0][:4] == ["单位代码", "单位名称", "年度", "单位类型"] and len(items) == 14
    reasons = {(r[0], r[6]): r[-1] for r in items[1:]}
    assert reasons[("C", "pr")] == "vetoed — missed: value 90, target >= 95 → 0/40"
    run_rows = dict((r[0], r[1]) for r in sheet_rows(wb["运行信息"])[1:])
    assert len(run_rows["scheme.sha256"]) == 64 and run_rows["years"] == 2016


def test_xlsx_numbers_equal_summary_csv_and_english_headers(tmp_path):
    out = tmp_path / "out"
    assert score_mini(out, "--format", "xlsx", "--format", "csv", "--lang", "en").exit_code == 0
    wb = load_workbook(out / "results.xlsx")
    assert wb.sheetnames == ["League-镇", "Items", "Run"]  # the kind has no label_en: its label
    league = pd.read_excel(out / "results.xlsx", sheet_name="League-镇")
    csv = pd.read_csv(out / "summary.csv", encoding="utf-8-sig").set_index("unit")
    league = league.set_index("Unit")
    for xl, col in [
        ("Total", "total"),
        ("Deductions", "deduction"),
        ("主线", "line_main"),
        ("Prize", "prize"),
    ]:
        assert (league[xl] == csv.loc[league.index, col]).all()
    assert "Label" not in pd.read_excel(out / "results.xlsx", sheet_name="Items").columns


def test_xlsx_formula_text_is_a_text_cell(tmp_path):
    data = pd.read_csv(FIX / "mini.csv").assign(name=lambda d: d["unit"].map({"A": "=1+1", "B": "@SUM(A1)"}))
    data["name"] = data["name"].fillna("-x")
    scored = score_files(FIX / "mini.yaml", data, years=[2016])
    write_score_outputs(scored, tmp_path / "out", ["xlsx"])
    ws = load_workbook(tmp_path / "out" / "results.xlsx")["排名-镇"]
    names = {r[2].value: r[3] for r in ws.iter_rows(min_row=2)}
    assert (names["A"].value, names["A"].data_type) == ("=1+1", "s")
    assert (names["B"].value, names["B"].data_type) == ("@SUM(A1)", "s")
    assert (names["C"].value, names["C"].data_type) == ("-x", "s")


def test_xlsx_too_many_rows_is_refused_and_nothing_written(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert score_mini(out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(writers, "MAX_SHEET_ROWS", 13)  # 12 item rows + header fit; 13 do not
    r = score_mini(out, "--format", "csv", "--format", "xlsx")
    assert r.exit_code == 2
    assert "sheet 'items' would have 13 rows, more than an Excel sheet holds (13 rows" in r.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_xlsx_row_limit_counts_the_header(monkeypatch):
    monkeypatch.setattr(writers, "MAX_SHEET_ROWS", 14)
    writers._check_rows({"items": 13})  # 13 rows + header = 14: fits
    with pytest.raises(writers.OutputError, match="'items' would have 14 rows"):
        writers._check_rows({"items": 14})


def test_display_width_counts_wide_characters_twice():
    s = pd.Series(["武进ab", "ＡＢ", None, 12.5])
    assert writers.display_width(s).tolist() == [6, 4, 0, 4]


def test_workbook_control_characters_dropped_numbers_kept():
    data = writers.workbook_bytes([("s", ["a", "b"], [["x\x01y", 1.5], [2, "=A1"]], {})])
    ws = load_workbook(io.BytesIO(data))["s"]
    assert [[c.value for c in r] for r in ws.iter_rows(min_row=2)] == [["xy", 1.5], [2, "=A1"]]
    assert (ws["A3"].data_type, ws["B3"].data_type) == ("n", "s")


# --------------------------------------------------------------------------- formats and the folder swap


def test_formats_are_repeatable_and_the_folder_is_one_set(tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "out"
    assert score_mini(out, "--format", "csv", "--format", "parquet", "--format", "xlsx").exit_code == 0
    names = {f"{t}.{ext}" for t in ("summary", "items", "lines") for ext in ("csv", "parquet")}
    assert {p.name for p in out.iterdir()} == names | {"results.xlsx", "run.json"}
    # the next run in another format replaces the whole set: no stale CSV stays
    assert score_mini(out, "--format", "parquet").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "items.parquet",
        "lines.parquet",
        "run.json",
        "summary.parquet",
    ]


def test_parquet_without_pyarrow_is_refused_before_writing(tmp_path, monkeypatch):
    monkeypatch.setattr(writers, "has_pyarrow", lambda: False)
    r = score_mini(tmp_path / "out", "--format", "csv", "--format", "parquet")
    assert r.exit_code == 2 and "--format parquet needs the pyarrow package" in r.output
    assert not (tmp_path / "out").exists()


def test_unknown_format_is_refused(tmp_path):
    r = score_mini(tmp_path / "out", "--format", "json")
    assert r.exit_code == 2 and "json" in r.output and not (tmp_path / "out").exists()
    with pytest.raises(writers.OutputError, match="expected one or more of csv, parquet, xlsx"):
        writers.score_output_files(None, {}, ["json"])


# --------------------------------------------------------------------------- parquet = csv


def _demo(scheme):
    t = make_panel(scheme, seed=0).tables()
    return score_files(
        scheme, t["data"], units=t.get("units"), targets=t.get("targets"), grades=t.get("grades")
    )


@pytest.mark.parametrize("path", bundled_schemes(), ids=lambda p: p.stem)
def test_parquet_tables_equal_csv_tables(tmp_path, path):
    """Same rows, same values, same rendered reasons: items.parquet holds each reason as a
    template and its values; rendered from the file alone they are items.csv's sentences."""
    pytest.importorskip("pyarrow")
    scored = _demo(load_scheme(path))
    write_score_outputs(scored, tmp_path, ["csv", "parquet"], chunk=7)  # several row groups
    for name in ("summary", "items", "lines"):
        pq = pd.read_parquet(tmp_path / f"{name}.parquet")
        csv = pd.read_csv(
            tmp_path / f"{name}.csv", encoding="utf-8-sig", keep_default_na=False, na_values=[""]
        )
        if name == "items":
            s = scored.result.scheme
            m = max((len(a.per_case) + (a.assessed is not None) for a in s.adjustments), default=0)
            terms = [f"term_{i + 1}" for i in range(m)]
            assert list(pq.columns) == [*csv.columns[:-1], "previous", "reason_template", *terms]
            pq = pq.assign(reason=render_reasons(pq))[list(csv.columns)]
        assert list(pq.columns) == list(csv.columns) and len(pq) == len(csv) > 0
        for col in csv.columns:
            a, b = pq[col], csv[col]
            if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
                assert np.allclose(a.astype(float), b.astype(float), equal_nan=True, rtol=0, atol=1e-9), col
            elif pd.api.types.is_bool_dtype(a):
                assert (a == b.astype(bool)).all(), col
            else:
                a = a.astype(object).where(a.notna(), "")
                b = unneutralise_formulas(b.astype(object).where(b.notna(), "").astype(str))
                assert (a.astype(str) == b).all(), (name, col)
    items = pd.read_parquet(tmp_path / "items.parquet")
    for col in ("unit", "item", "status", "reason_template"):
        assert isinstance(items[col].dtype, pd.CategoricalDtype), col
    assert items["year"].dtype == np.int64 and items["points"].dtype == np.float64
    assert (render_reasons(items) == scored.result.items["reason"].to_numpy()).all()
    assert pq_row_groups(tmp_path / "items.parquet") > 1


def pq_row_groups(path):
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_row_groups


def test_xlsx_widths_from_numbers_as_shown():
    frame = pd.DataFrame({"a": [534.3000000000001, 1.5]})
    ws = load_workbook(io.BytesIO(writers.workbook_bytes([("s", ["a"], frame, {})])))["s"]
    # '534.3' is 5 wide (+ 2 of margin); its full repr (17) would give 19
    assert ws.column_dimensions["A"].width == 7


def test_league_table_leaves_out_lines_of_other_kinds():
    scored = _demo(load_scheme("district_1000"))
    towns = writers.league_table(scored.result.summary[scored.result.summary["kind"] == "town"])
    depts = writers.league_table(scored.result.summary[scored.result.summary["kind"] == "department"])
    assert [c for c in towns.columns if c.startswith("line_")] == ["line_party_gov", "line_family_planning"]
    assert [c for c in depts.columns if c.startswith("line_")] == ["line_department"]
