"""Bad-input corpus for the data boundary (issue 16), through the command line.

Every case starts from the bundled ``district_1000`` example (panel, units, targets,
grades, copied to a temporary folder), breaks one thing, and runs ``assesskit score``
(or ``validate`` / ``import-coinr``). A refused case asserts the exit status, that no
traceback reached the user, that the message names the place, and that the output
folder holds the previous complete result (even cases) or nothing (odd cases). An
accepted case asserts the values read.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

import assesskit
from tests.faults.harness import (
    assert_clean_failure,
    assert_previous_or_nothing,
    assert_success,
    run_cli,
    snapshot,
)

EX = Path(assesskit.__file__).parent / "datasets" / "examples" / "district_1000"
ROLES = {"data": "panel.csv", "units": "units.csv", "targets": "targets.csv", "grades": "grades.csv"}


# --------------------------------------------------------------------------- helpers
def rows_of(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding=encoding))))


def write_rows(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding=encoding)


def set_cell(path: Path, row: int, col: str, value: str) -> None:
    """Set the cell of spreadsheet row ``row`` (header = 1) in column ``col``."""
    rows = rows_of(path)
    rows[row - 1][rows[0].index(col)] = value
    write_rows(path, rows)


def rename_unit(files: dict[str, Path], old: str, new: str) -> None:
    """Rename a unit id in every table (as written, with the csv module's quoting)."""
    for p in files.values():
        rows = rows_of(p)
        j = rows[0].index("unit")
        for r in rows[1:]:
            if r[j] == old:
                r[j] = new
        write_rows(p, rows)


def read_out(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / name, dtype={"unit": str}, keep_default_na=False, encoding="utf-8-sig")


@dataclass
class Case:
    """One bad (or odd but acceptable) input: how to make it, and what the user must see."""

    id: str
    make: Callable[[dict[str, Path], Path], list[str] | None]  # may return replacement args
    names: list[str] = field(default_factory=list)
    code: int = 2
    command: str = "score"


def score_args(files: dict[str, Path], out: Path) -> list[str]:
    args = ["score", "--scheme", "district_1000"]
    for role, p in files.items():
        args += [f"--{role}", str(p)]
    return args + ["--out", str(out)]


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> Path:
    """A complete result of the untouched example: the 'previous result' of the cases."""
    base = tmp_path_factory.mktemp("prev")
    files = {r: shutil.copy(EX / n, base / n) for r, n in ROLES.items()}
    out = base / "out"
    assert_success(run_cli(score_args({r: Path(p) for r, p in files.items()}, out)))
    return out


@pytest.fixture
def inputs(tmp_path) -> dict[str, Path]:
    d = tmp_path / "in"
    d.mkdir()
    return {r: Path(shutil.copy(EX / n, d / n)) for r, n in ROLES.items()}


# --------------------------------------------------------------------------- refused inputs
def _cell(role: str, row: int, col: str, value: str):
    def make(files, tmp):
        set_cell(files[role], row, col, value)

    return make


def _replace(role: str, content: bytes | Callable[[Path], None], suffix: str | None = None):
    """Replace the file of ``role`` by ``content`` (bytes, or a writer), with a new suffix."""

    def make(files, tmp):
        p = files[role] if suffix is None else files[role].with_suffix(suffix)
        if callable(content):
            content(p)
        else:
            p.write_bytes(content)
        files[role] = p

    return make


def _drop_column(role: str, col: str):
    def make(files, tmp):
        rows = rows_of(files[role])
        j = rows[0].index(col)
        write_rows(files[role], [r[:j] + r[j + 1 :] for r in rows])

    return make


def _append_row(role: str, copy_of: int):
    def make(files, tmp):
        rows = rows_of(files[role])
        write_rows(files[role], rows + [rows[copy_of - 1]])

    return make


def _raw_text(role: str, edit: Callable[[str], str], encoding: str = "utf-8"):
    def make(files, tmp):
        files[role].write_bytes(edit(files[role].read_text(encoding="utf-8")).encode(encoding))

    return make


def _extra_cell(line: str) -> str:
    lines = line.split("\n")
    lines[2] += ",9"  # row 3 gets one cell too many
    return "\n".join(lines)


def _short_row(text: str) -> str:
    lines = text.split("\n")
    lines[3] = ",".join(lines[3].split(",")[:5])  # row 4 stops after five cells
    return "\n".join(lines)


def _unnamed_column(text: str) -> str:
    lines = text.rstrip("\n").split("\n")
    lines = [lines[0] + ","] + [ln + (",7" if i == 0 else ",") for i, ln in enumerate(lines[1:])]
    return "\n".join(lines) + "\n"


def _zip_not_xlsx(p: Path) -> None:
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "not a workbook")


def _csv_as_xlsx(p: Path) -> None:
    p.write_bytes((EX / "panel.csv").read_bytes())


def _folder(files, tmp):
    (tmp / "folder.csv").mkdir()
    files["data"] = tmp / "folder.csv"


def _absent(files, tmp):
    files["units"] = tmp / "no_such_units.csv"


def _gbk_units_forced_utf8(files, tmp):
    files["units"].write_bytes(files["units"].read_text(encoding="utf-8").encode("gbk"))
    return score_args(files, tmp / "out") + ["--encoding", "utf-8"]


def _utf8_forced_gbk(files, tmp):
    return score_args(files, tmp / "out") + ["--encoding", "gbk"]


def _unknown_encoding(files, tmp):
    return score_args(files, tmp / "out") + ["--encoding", "klingon"]


def _validate_inf(files, tmp):
    set_cell(files["data"], 3, "births", "inf")
    return ["validate", "--scheme", "district_1000", str(files["data"])]


REFUSED = [
    Case("inf-count", _cell("data", 2, "births", "inf"), ["panel.csv", "row 2", "births", "'inf'", "finite"]),
    Case(
        "minus-inf",
        _cell("data", 3, "policy_births", "-inf"),
        ["panel.csv", "row 3", "policy_births", "'-inf'"],
    ),
    Case(
        "nan-text",
        _cell("data", 4, "stats_pass_rate", "nan"),
        ["panel.csv", "row 4", "stats_pass_rate", "'nan'"],
    ),
    Case("Infinity", _cell("data", 5, "service_satisfaction_rate", "Infinity"), ["row 5", "'Infinity'"]),
    Case(
        "inf-target",
        _cell("targets", 2, "policy_rate_target", "inf"),
        ["targets.csv", "row 2", "policy_rate_target"],
    ),
    Case(
        "inf-grade", _cell("grades", 3, "pg_funding", "inf"), ["grades.csv", "row 3", "'pg_funding'", "'inf'"]
    ),
    Case("NaN-grade", _cell("grades", 2, "pg_law_based_admin", "NaN"), ["grades.csv", "row 2", "'NaN'"]),
    Case(
        "decimal-comma",
        _cell("data", 2, "births", "320,5"),
        ["panel.csv", "row 2", "births", "'320,5'", "decimal comma"],
    ),
    Case(
        "comma-1,5",
        _cell("data", 3, "male_participation_rate", "1,5"),
        ["row 3", "male_participation_rate", "'1,5'"],
    ),
    Case(
        "comma-12,34", _cell("targets", 4, "stats_pass_target", "12,34"), ["targets.csv", "row 4", "'12,34'"]
    ),
    Case("comma-european", _cell("data", 2, "births", "1.320,5"), ["row 2", "births", "'1.320,5'"]),
    Case(
        "unquoted-thousands",
        _raw_text("data", lambda s: s.replace("T01,2011,320,", "T01,2011,1,320,")),
        ["panel.csv", "row 2", "ragged"],
    ),
    Case(
        "null-count",
        _cell("data", 2, "births", "null"),
        ["row 2", "births", "'null'", "leave the cell empty"],
    ),
    Case(
        "duplicate-unit-year",
        _append_row("data", 2),
        ["panel.csv", "T01 / 2011 appears more than once (rows 2, 20)"],
    ),
    Case(
        "negative-count",
        _cell("data", 3, "births", "-5"),
        ["panel.csv", "row 3", "births", "cannot be negative"],
    ),
    Case(
        "rate-above-100",
        _cell("data", 2, "policy_births", "400"),
        ["row 2", "policy_births", "above its maximum 100"],
    ),
    Case(
        "given-rate-above-100",
        _cell("data", 2, "stats_pass_rate", "101"),
        ["row 2", "stats_pass_rate", "above its maximum 100"],
    ),
    Case("missing-column", _drop_column("data", "births"), ["panel.csv", "policy_rate", "births"]),
    Case(
        "unknown-unit",
        _cell("data", 2, "unit", "T99"),
        ["panel.csv", "row 2", "'T99' is not in the registry"],
    ),
    Case(
        "unknown-grade-item",
        _raw_text("grades", lambda s: s.replace("pg_funding", "pg_fundingx")),
        ["grades.csv", "pg_fundingx"],
    ),
    Case("empty-unit", _cell("data", 3, "unit", ""), ["panel.csv", "row 3", "unit is empty"]),
    Case("gbk-forced-utf8", _gbk_units_forced_utf8, ["units.csv", "cannot decode as utf-8"]),
    Case("utf8-forced-gbk", _utf8_forced_gbk, ["units.csv", "UTF-8", "not gbk"]),
    Case("unknown-encoding", _unknown_encoding, ["panel.csv", "unknown encoding 'klingon'"]),
    Case("empty-file", _replace("data", b""), ["panel.csv", "the file is empty"]),
    Case("blank-lines-only", _replace("data", b"\n\n  \n"), ["panel.csv", "the file is empty"]),
    Case("header-only", _raw_text("data", lambda s: s.split("\n")[0] + "\n"), ["panel.csv", "no data rows"]),
    Case("ragged-long", _raw_text("data", _extra_cell), ["panel.csv", "ragged", "row 3 has 20"]),
    Case("ragged-short", _raw_text("data", _short_row), ["panel.csv", "ragged", "row 4 has 5"]),
    Case("huge-count", _cell("data", 2, "births", str(10**30)), ["row 2", "births", "implausibly large"]),
    Case("huge-1e308", _cell("data", 3, "births", "1e308"), ["row 3", "births", "implausibly large"]),
    Case(
        "overflow-1e400",
        _cell("data", 2, "stats_pass_rate", "1e400"),
        ["row 2", "stats_pass_rate", "too large"],
    ),
    Case(
        "huge-rate",
        _cell("data", 2, "stats_pass_rate", "1e308"),
        ["row 2", "stats_pass_rate", "above its maximum"],
    ),
    Case("year-suffix", _cell("data", 2, "year", "2008年"), ["panel.csv", "row 2", "year", "'2008年'"]),
    Case(
        "year-implausible",
        _cell("data", 2, "year", "211"),
        ["panel.csv", "row 2", "year 211 is not plausible"],
    ),
    Case("folder-as-file", _folder, ["folder.csv", "is a folder"]),
    Case("no-such-file", _absent, ["no_such_units.csv", "no such file"]),
    Case(
        "random-xlsx",
        _replace("data", os.urandom(512), ".xlsx"),
        ["panel.xlsx", "not a valid Excel workbook"],
    ),
    Case(
        "csv-named-xlsx",
        _replace("data", _csv_as_xlsx, ".xlsx"),
        ["panel.xlsx", "not a valid Excel workbook"],
    ),
    Case(
        "zip-named-xlsx",
        _replace("units", _zip_not_xlsx, ".xlsx"),
        ["units.xlsx", "not a valid Excel workbook"],
    ),
    Case(
        "corrupt-parquet",
        _replace("targets", b"PAR1 not really", ".parquet"),
        ["targets.parquet", "not a valid Parquet file"],
    ),
    Case(
        "headerless-column",
        _raw_text("data", _unnamed_column),
        ["panel.csv", "column(s) [20] hold data but have no header"],
    ),
    Case("validate-inf", _validate_inf, ["FAIL", "panel.csv", "row 3", "births", "'inf'"]),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c.id for c in REFUSED])
def test_refused_input(case: Case, inputs, tmp_path, previous):
    out = tmp_path / "out"
    k = REFUSED.index(case)
    if k % 2 == 0:
        shutil.copytree(previous, out)
    before = snapshot(out)
    args = case.make(inputs, tmp_path) or score_args(inputs, out)
    got = run_cli(args)
    assert_clean_failure(got, code=case.code, names=case.names)
    assert_previous_or_nothing(out, before)


def test_year_with_a_suffix_gives_one_message(inputs, tmp_path):
    set_cell(inputs["data"], 2, "year", "2008年")
    got = run_cli(score_args(inputs, tmp_path / "out"))
    assert_clean_failure(
        got, code=2, names=["panel.csv, row 2, column 'year': expected a whole year, got '2008年'"]
    )
    assert got.text.count("2008年") == 1 and "year -1" not in got.text and "row 2, column 'year'" in got.text


def test_unreadable_file(inputs, tmp_path):
    inputs["targets"].chmod(0)
    try:
        if os.access(inputs["targets"], os.R_OK):
            pytest.skip("running as a user who can read a chmod-000 file (root)")
        got = run_cli(score_args(inputs, tmp_path / "out"))
        assert_clean_failure(got, code=2, names=["targets.csv", "cannot read the file", "Permission denied"])
        assert_previous_or_nothing(tmp_path / "out", None)
    finally:
        inputs["targets"].chmod(0o644)


# --------------------------------------------------------------------------- accepted inputs
def _score_ok(inputs, tmp_path, extra: list[str] = ()):
    out = tmp_path / "out"
    got = run_cli(score_args(inputs, out) + list(extra))
    assert_success(got)
    return got, out


def _item(out: Path, unit: str, year: int, item: str) -> pd.Series:
    it = read_out(out, "items.csv")
    return it[(it.unit == unit) & (it.year == year) & (it["item"] == item)].iloc[0]


def test_thousands_separators_are_read(inputs, tmp_path):
    set_cell(inputs["data"], 2, "births", "1,320")  # quoted by the csv writer: "1,320"
    set_cell(inputs["data"], 2, "policy_births", "1,310")
    _, out = _score_ok(inputs, tmp_path)
    row = _item(out, "T01", 2011, "pg_basic_indicators")
    assert row["value"] == pytest.approx(1310 * 100 / 1320)  # 99.2424…, not 13.10 / 13.20


@pytest.mark.parametrize("token", ["NA", "N/A", "null", "None", "nan", "-", "=1+2"])
def test_identifier_tokens_stay_ids(token, inputs, tmp_path, previous):
    rename_unit(inputs, "T01", token)
    _, out = _score_ok(inputs, tmp_path)
    s = read_out(out, "summary.csv")
    kept = s.unit.str.removeprefix("'")  # a spreadsheet-safe writer may prefix a formula
    old = read_out(previous, "summary.csv").set_index(["unit", "year"])
    mine = s[kept == token].set_index("year")
    assert sorted(mine.index) == [2011, 2012]
    for y in (2011, 2012):
        assert mine.loc[y, "total"] == old.loc[("T01", y), "total"]


def test_several_na_like_ids_in_one_file(inputs, tmp_path, previous):
    for old, new in (("T01", "NA"), ("T02", "null"), ("T03", "None")):
        rename_unit(inputs, old, new)
    _, out = _score_ok(inputs, tmp_path)
    s = read_out(out, "summary.csv")
    assert {"NA", "null", "None"} <= set(s.unit)
    old = read_out(previous, "summary.csv").set_index(["unit", "year"])
    got = s.set_index(["unit", "year"])
    assert got.loc[("null", 2012), "total"] == old.loc[("T02", 2012), "total"]


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda t: t.encode("utf-8-sig"), id="utf8-bom"),
        pytest.param(lambda t: b"\xef\xbb\xbf" + t.encode("utf-8-sig"), id="double-bom"),
        pytest.param(lambda t: t.encode("utf-16"), id="utf16-bom"),
        pytest.param(lambda t: t.encode("gbk"), id="gbk-detected"),
    ],
)
def test_encodings_and_byte_order_marks(encode, inputs, tmp_path, previous):
    text = inputs["units"].read_text(encoding="utf-8")
    inputs["units"].write_bytes(encode(text))
    _, out = _score_ok(inputs, tmp_path)
    pd.testing.assert_frame_equal(read_out(out, "summary.csv"), read_out(previous, "summary.csv"))
    assert "甲镇" in set(read_out(out, "summary.csv").name)


def test_missing_grade_warns_and_scores_zero(inputs, tmp_path):
    set_cell(inputs["grades"], 2, "pg_funding", "")  # T01 2011
    got, out = _score_ok(inputs, tmp_path)
    want = "pg_funding: no grade for 1 unit-year(s) (T01 2011): scored 0 (missing-data policy 'zero')"
    assert want in got.stderr
    assert any(want in w for w in json.loads((out / "run.json").read_text())["warnings"])
    assert _item(out, "T01", 2011, "pg_funding")["points"] == 0


def test_default_target_warns(inputs, tmp_path):
    rows = rows_of(inputs["targets"])
    write_rows(inputs["targets"], [r for r in rows if r[:2] != ["T02", "2011"]])
    got, out = _score_ok(inputs, tmp_path)
    want = (
        "no 'policy_rate_target' target for 1 unit-year(s) (T02 2011): the scheme's default target 95 is used"
    )
    assert want in got.stderr
    assert any(want in w for w in json.loads((out / "run.json").read_text())["warnings"])
    assert float(_item(out, "T02", 2011, "pg_basic_indicators")["target"]) == 95


def test_reported_rate_contradicting_its_counts_warns(inputs, tmp_path, previous):
    rows = rows_of(inputs["data"])
    j_b, j_p = rows[0].index("births"), rows[0].index("policy_births")
    rows[0].append("policy_rate_reported")
    for r in rows[1:]:
        ok = r[j_b] not in ("", "0")
        r.append(f"{int(r[j_p]) * 100 / int(r[j_b]):.2f}" if ok else "")
    rows[1][-1] = "99.50"  # T01 2011: the counts give 310/320 = 96.875
    write_rows(inputs["data"], rows)
    got, out = _score_ok(inputs, tmp_path)
    assert "T01 2011 (row 2): 99.5 reported, 96.88 from the counts" in got.stderr
    assert "in 1 unit-year(s)" in got.stderr and "the rate from the counts is used" in got.stderr
    assert _item(out, "T01", 2011, "pg_basic_indicators")["value"] == 96.875


# --------------------------------------------------------------------------- COINr iData
def _coinr(tmp_path: Path, edit: Callable[[pd.DataFrame], None]) -> tuple[list[str], Path]:
    from assesskit.datasets import load

    idata = load("asem_idata").astype(object)
    edit(idata)
    p = tmp_path / "idata.csv"
    idata.to_csv(p, index=False, na_rep="NA")
    m = tmp_path / "imeta.csv"
    load("asem_imeta").to_csv(m, index=False)
    out = tmp_path / "coinr_out"
    return ["import-coinr", "--idata", p, "--imeta", m, "--out", out, "--id", "asem"], out


@pytest.mark.parametrize(
    "value, words",
    [("inf", ["'inf'", "finite"]), ("-Infinity", ["'-Infinity'"]), ("12,5", ["'12,5'", "decimal comma"])],
)
def test_coinr_idata_numbers(value, words, tmp_path):
    def edit(d):
        d.loc[2, "Goods"] = value

    args, out = _coinr(tmp_path, edit)
    got = run_cli(args)
    assert_clean_failure(got, code=2, names=["idata.csv", "row 4", "'Goods'", *words])
    assert_previous_or_nothing(out, None)


def test_coinr_ucode_na_is_kept(tmp_path):
    def edit(d):
        d.loc[0, "uCode"] = "NA"
        d.loc[1, "uCode"] = "null"

    args, out = _coinr(tmp_path, edit)
    assert_success(run_cli(args))
    data = read_out(out, "data.csv")
    assert list(data.unit[:2]) == ["NA", "null"] and data.unit.str.len().min() > 0


def test_unreadable_workbook_is_not_called_corrupt(inputs, tmp_path):
    p = tmp_path / "in" / "units.xlsx"
    pd.read_csv(inputs["units"]).to_excel(p, index=False)
    inputs["units"] = p
    p.chmod(0)
    try:
        if os.access(p, os.R_OK):
            pytest.skip("running as a user who can read a chmod-000 file (root)")
        got = run_cli(score_args(inputs, tmp_path / "out"))
        assert_clean_failure(got, code=2, names=["units.xlsx", "cannot read the file", "Permission denied"])
    finally:
        p.chmod(0o644)


def test_excel_units_are_read_as_written(inputs, tmp_path, previous):
    p = tmp_path / "in" / "units.xlsx"
    pd.read_csv(inputs["units"], keep_default_na=False).replace({"T01": "NA"}).to_excel(p, index=False)
    rename_unit({k: v for k, v in inputs.items() if k != "units"}, "T01", "NA")
    inputs["units"] = p
    _, out = _score_ok(inputs, tmp_path)
    s = read_out(out, "summary.csv").set_index(["unit", "year"])
    assert s.loc[("NA", 2011), "name"] == "甲镇"
    assert (
        s.loc[("NA", 2011), "total"]
        == read_out(previous, "summary.csv").set_index(["unit", "year"]).loc[("T01", 2011), "total"]
    )


def test_coinr_tables_written_by_r_are_imported(tmp_path):
    """The bundled iData/iMeta as R writes them: NA for a missing value and the root's Parent."""
    ref = Path(assesskit.__file__).parent / "datasets" / "reference"
    out = tmp_path / "coinr_out"
    args = [
        "import-coinr",
        "--idata",
        ref / "asem_idata.csv",
        "--imeta",
        ref / "asem_imeta.csv",
        "--out",
        out,
    ]
    assert_success(run_cli(args + ["--id", "asem"]))
    data = pd.read_csv(out / "data.csv", encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    raw = pd.read_csv(ref / "asem_idata.csv", keep_default_na=False)
    assert list(data.unit) == list(raw.uCode)
    ita, ita_raw = data.set_index("unit").loc["ITA"], raw.set_index("uCode").loc["ITA"]
    na = [c for c in data.columns if c in raw.columns and ita_raw[c] == "NA"]
    assert na and all(math.isnan(ita[c]) for c in na)  # R's NA is a missing value
    given = [
        c for c in data.columns if c in raw.columns and c not in na and c not in ("uName", "uCode", "Time")
    ]
    assert given and all(ita[c] == float(ita_raw[c]) for c in given)  # numbers as written
