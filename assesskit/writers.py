"""Output formats of ``assesskit score``: CSV tables, Parquet tables and an Excel workbook.

:func:`score_output_files` turns a scored run into ``{file name: content}`` for the
all-or-nothing writers of :mod:`assesskit._io` (a DataFrame is written as CSV, a dict as
JSON, a callable writes its own file into the staged folder). Every check that can refuse
(a table longer than a sheet) runs before anything is written.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import FORMULA_PREFIXES, _starts_with
from .exceptions import OutputError

FORMATS = ("csv", "parquet", "xlsx")
"""The formats ``assesskit score --format`` writes."""

FORMAT_FILES = {
    "csv": ("summary.csv", "items.csv", "lines.csv"),
    "parquet": ("summary.parquet", "items.parquet", "lines.parquet"),
    "xlsx": ("results.xlsx",),
}
"""The files each format writes (``run.json`` is always written too)."""

MAX_SHEET_ROWS = 1_048_576
"""Rows of an Excel worksheet (the header row included)."""

CATEGORICAL = ("unit", "name", "kind", "category", "line", "section", "item", "label", "label_en", "status")
"""Text columns stored as Parquet dictionaries (pandas categoricals)."""

_WIDE = re.compile(
    "[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"
)
"""East Asian wide and full-width characters (two columns each), as in ``unicodedata``'s W/F."""

VETO_FILL = "FFC7CE"
WARN_FILL = "FFEB9C"

HEADERS = {
    "year": ("年度", "Year"),
    "rank": ("名次", "Rank"),
    "unit": ("单位代码", "Unit"),
    "name": ("单位名称", "Name"),
    "kind": ("单位类型", "Kind"),
    "category": ("类别", "Category"),
    "bonus": ("加分", "Bonuses"),
    "deduction": ("扣分", "Deductions"),
    "total": ("总分", "Total"),
    "max_total": ("满分", "Maximum"),
    "award": ("奖项", "Award"),
    "single_awards": ("单项奖", "Single-item awards"),
    "prize": ("奖金", "Prize"),
    "warning": ("警告", "Warning"),
    "reason": ("一票否决/取消评优原因", "Veto / ineligibility reason"),
    "line": ("线", "Line"),
    "section": ("类别（部分）", "Section"),
    "item": ("项目代码", "Item"),
    "label": ("考核内容", "Label"),
    "label_en": ("考核内容（英文）", "Label (English)"),
    "max_points": ("分值", "Points available"),
    "points": ("得分", "Points"),
    "lost": ("失分", "Points lost"),
    "status": ("状态", "Status"),
    "value": ("实际值", "Value"),
    "target": ("目标值", "Target"),
    "key": ("项", "Key"),
}
"""Column headers of the results workbook: (Chinese, English)."""

SHEET_NAMES = {"league": ("排名", "League"), "items": ("评分明细", "Items"), "run": ("运行信息", "Run")}


def display_width(s: pd.Series) -> pd.Series:
    """Display width of each cell's text, East Asian wide characters counting two."""
    text = s.astype(object).where(s.notna(), "").astype(str)
    return text.str.len() + text.str.count(_WIDE.pattern)


def _check_rows(tables: Mapping[str, int]) -> None:
    over = {k: n for k, n in tables.items() if n + 1 > MAX_SHEET_ROWS}
    if over:
        said = "; ".join(f"sheet '{k}' would have {n:,} rows" for k, n in over.items())
        raise OutputError(
            f"results.xlsx: {said}, more than an Excel sheet holds ({MAX_SHEET_ROWS:,} rows with the header). "
            "Nothing was written; use --format parquet or csv for tables this large, or score fewer years"
        )


def _cells(df: pd.DataFrame) -> list[list[Any]]:
    """The rows of ``df`` as lists of Python values, missing values as None."""
    obj = df.astype(object)
    return obj.where(df.notna(), None).to_numpy().tolist()


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Control characters that XML 1.0 (and so an .xlsx cell) cannot hold."""


def _clean_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with control characters dropped from its text cells (vectorised per column)."""
    out = {}
    for c in frame.columns:
        s = frame[c]
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype | pd.CategoricalDtype):
            s = s.astype(object)
            try:
                clean = s.str.replace(_ILLEGAL, "", regex=True)  # NaN where a cell is not text
            except AttributeError:  # no text in the column
                clean = None
            if clean is not None:
                s = clean.where(clean.notna(), s)  # numbers in an object column stay numbers
        out[c] = s
    return pd.DataFrame(out, index=frame.index) if len(frame.columns) else frame


def build_workbook(
    target: str | Path | io.BytesIO,
    sheets: Sequence[tuple[str, Sequence[str], Any, Mapping[str, Any]]],
    *,
    freeze: Callable[[str], bool] = lambda name: True,
) -> None:
    """Write an ``.xlsx`` workbook of ``(name, header, rows, options)`` per sheet to ``target``.

    ``rows`` is a DataFrame (its columns in ``header`` order) or a list of row lists.
    ``options`` may hold ``fills`` (one hex colour or None per row). Every sheet gets a
    bold header, column widths from the longest text (wide characters count double, at
    most 60) and, when ``freeze(name)``, a frozen header row and an autofilter. Text is
    always a text cell, even when it starts like a formula (``=``, ``+``, ``-``, ``@``),
    so Excel never evaluates it; control characters, which XML cannot hold, are dropped.

    openpyxl's streaming (write-only) workbook writes the rows; it takes them one by one,
    so this is the one loop over rows (pandas' ``to_excel`` runs the same loop but cannot
    fill rows or keep formula-like text as text).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    for name, header, rows, opts in sheets:
        ws = wb.create_sheet(name)
        frame = _clean_text(
            rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), dtype=object)
        )
        _sheet_layout(ws, header, frame, freeze(name))
        if header:
            ws.append([_styled(ws, str(h), font=Font(bold=True)) for h in header])
        _append_rows(ws, frame, opts.get("fills"))
    wb.save(target)


def _sheet_layout(ws, header: Sequence[str], frame: pd.DataFrame, freeze: bool) -> None:
    """Column widths, frozen header and filter (set before the rows: write-only sheets)."""
    from openpyxl.utils import get_column_letter

    n_cols = max(len(header), frame.shape[1])
    for j in range(n_cols):
        head = str(header[j]) if j < len(header) else ""
        width = len(head) + len(_WIDE.findall(head))
        if len(frame) and j < frame.shape[1]:
            col = frame.iloc[:, j]
            if pd.api.types.is_float_dtype(col):  # as a cell shows it: 534.3, not 534.3000000000001
                col = col.round(6)
            width = max(width, int(display_width(col).max()))
        ws.column_dimensions[get_column_letter(j + 1)].width = min(max(width + 2, 6), 60)
    if freeze and header:
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(max(n_cols, 1))}{len(frame) + 1}"


def _append_rows(ws, frame: pd.DataFrame, fills: Sequence[str | None] | None) -> None:
    from openpyxl.styles import PatternFill

    if not len(frame):
        return
    formula = np.zeros(frame.shape, dtype=bool)  # text cells openpyxl would read as formulas
    for j, c in enumerate(frame.columns):
        hit = _starts_with(frame[c], FORMULA_PREFIXES)
        if hit is not None:
            formula[:, j] = hit.to_numpy()
    special = formula.any(axis=1) | (np.asarray(fills, dtype=object) != None if fills else False)  # noqa: E711
    patterns: dict[str, PatternFill] = {}
    for i, row in enumerate(_cells(frame)):
        if not special[i]:
            ws.append(row)
            continue
        fill = fills[i] if fills else None
        if fill is not None and fill not in patterns:
            patterns[fill] = PatternFill("solid", fgColor=fill)
        ws.append([_styled(ws, v, fill=patterns.get(fill), text=formula[i, j]) for j, v in enumerate(row)])


def _styled(ws, value: Any, *, font=None, fill=None, text: bool = False):
    """A write-only cell for ``value``: kept as text when ``text``, with a font or fill."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    if text or (isinstance(value, str) and value.startswith(FORMULA_PREFIXES)):
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    return cell


def workbook_bytes(sheets: Sequence[tuple[str, Sequence[str], Any, Mapping[str, Any]]], **kw) -> bytes:
    """:func:`build_workbook` into memory; the ``.xlsx`` file's bytes."""
    buf = io.BytesIO()
    build_workbook(buf, sheets, **kw)
    return buf.getvalue()


# --------------------------------------------------------------------------- results workbook


def _header(col: str, lang: str, line_labels: Mapping[str, tuple[str, str]]) -> str:
    zh_en = line_labels.get(col) or HEADERS.get(col) or (col, col)
    return zh_en[0 if lang == "zh" else 1] or col


def _sheet_name(text: str, taken: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "_", text)[:31] or "sheet"
    base, k = name, 2
    while name.lower() in taken:
        name = f"{base[: 31 - len(str(k)) - 1]}_{k}"
        k += 1
    taken.add(name.lower())
    return name


def check_workbook_rows(result) -> None:
    """Refuse a result whose league table (per kind) or item table is longer than a sheet.

    Counts rows without building the tables (:meth:`ScoreResult.n_item_rows`), so a
    national panel is refused at once, before anything is built or written.
    """
    counts = result.summary["kind"].value_counts(sort=False)
    _check_rows({str(k): int(n) for k, n in counts.items()} | {"items": result.n_item_rows()})


def league_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The league-table columns of ``summary`` (one kind of unit), ordered by year and rank.

    Columns: year, rank, unit, name, category, the line totals (``line_*``, those not empty), bonus,
    deduction, total, award, single_awards, prize, warning, and ``reason`` — the veto
    reason of a vetoed (or not scored) unit, else its ineligibility reason.
    """
    # the lines of this kind of unit (a line of another kind is empty here)
    lines = [c for c in summary.columns if c.startswith("line_") and summary[c].notna().any()]
    vetoed = summary["veto"].astype(bool) | summary.get("not_scored", False)
    reason = summary["veto_reason"].where(vetoed, summary["ineligible_reason"])
    cols = ["year", "rank", "unit", "name", "category", *lines, "bonus", "deduction", "total"]
    cols += ["award", "single_awards", "prize", "warning"]
    out = summary[[c for c in cols if c in summary.columns]].assign(reason=reason)
    return out.sort_values(["year", "rank"], kind="stable", na_position="last")


def _flat(run: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """``(dotted key, scalar)`` rows of the run record; a list gives one row per entry."""
    for k, v in run.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            yield from _flat(v, f"{key}.")
        elif isinstance(v, list | tuple):
            for x in v:
                yield from _flat(x, f"{key}.") if isinstance(x, Mapping) else [(key, x)]
        else:
            yield key, v


def results_sheets(result, run: Mapping[str, Any], *, lang: str = "zh") -> list[tuple]:
    """The sheets of ``results.xlsx``: a league table per kind of unit, the items with
    reasons, the run (for :func:`build_workbook`; nothing is written).

    Parameters
    ----------
    result : ScoreResult
    run : mapping
        The run record (``run.json``): inputs, their hashes, years, warnings.
    lang : {"zh", "en"}
        Language of the headers and sheet names.

    Raises
    ------
    OutputError
        When a table has more rows than a sheet holds (nothing is built).
    """
    if lang not in ("zh", "en"):
        raise OutputError(f"lang: expected 'zh' or 'en', got {lang!r}")
    check_workbook_rows(result)
    summary, items, scheme = result.summary, result.items, result.scheme
    li = 0 if lang == "zh" else 1
    kinds = list(dict.fromkeys(summary["kind"]))
    line_labels = {f"line_{ln.id}": (ln.label, ln.label_en or ln.label) for ln in scheme.lines}
    taken: set[str] = set()
    sheets = []
    for k in kinds:
        part = summary[summary["kind"] == k]
        table = league_table(part)
        fills = np.where(
            part.loc[table.index, "veto"].astype(bool) | part.loc[table.index].get("not_scored", False),
            VETO_FILL,
            np.where(table["warning"].fillna("").astype(str) != "", WARN_FILL, None),
        ).tolist()
        kind = scheme.kinds.get(k)
        kind_label = (kind.label if li == 0 else kind.label_en or kind.label) if kind else str(k)
        name = _sheet_name(f"{SHEET_NAMES['league'][li]}-{kind_label}", taken)
        header = [_header(c, lang, line_labels) for c in table.columns]
        sheets.append((name, header, table, {"fills": fills}))
    item_cols = [c for c in items.columns if c != ("label_en" if lang == "zh" else "label")]
    sheets.append(
        (
            _sheet_name(SHEET_NAMES["items"][li], taken),
            [_header(c, lang, {}) for c in item_cols],
            items[item_cols],
            {},
        )
    )
    rows = [[k, v if isinstance(v, int | float | str) or v is None else str(v)] for k, v in _flat(run)]
    sheets.append((_sheet_name(SHEET_NAMES["run"][li], taken), [_header("key", lang, {}), "value"], rows, {}))
    return sheets


def results_workbook(result, run: Mapping[str, Any], *, lang: str = "zh") -> bytes:
    """``results.xlsx``'s bytes (see :func:`results_sheets`); for a file, use
    :func:`score_output_files`, which streams the rows into it."""
    return workbook_bytes(results_sheets(result, run, lang=lang))


# --------------------------------------------------------------------------- parquet


def parquet_frame(df: pd.DataFrame, text: Sequence[str] = ()) -> pd.DataFrame:
    """``df`` with the Parquet dtypes: categoricals for the identifying text columns
    (:data:`CATEGORICAL`), integer years, floats for points and values, other text as
    strings. A column mixing numbers and text (``value`` of a scheme with label grades:
    ``达标`` beside rates) is stored as text, each number written as the CSV writes it; the
    columns named in ``text`` are stored as text whatever they hold (so that every chunk of
    a streamed table has the same schema)."""
    out = {}
    for c in df.columns:
        s = df[c]
        if c in CATEGORICAL:
            s = s.astype("category")
        elif c == "year":
            s = s.astype("int64")
        elif s.dtype == object:
            if c not in text and pd.api.types.infer_dtype(s, skipna=True) in (
                "floating",
                "integer",
                "mixed-integer-float",
                "empty",
            ):
                s = pd.to_numeric(s).astype("float64")
            else:
                s = s.astype(str).where(s.notna(), None).astype("string")
        out[c] = s
    return pd.DataFrame(out, index=df.index)


def _parquet_writer(df: pd.DataFrame) -> Callable[[Path], None]:
    frame = parquet_frame(df)

    def write(path: Path) -> None:
        frame.to_parquet(path, engine="pyarrow", index=False)

    return write


def _xlsx_writer(result, run: Mapping[str, Any], lang: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        build_workbook(path, results_sheets(result, run, lang=lang))

    return write


def write_items_csv(result, path: str | Path, *, chunk: int | None = None) -> None:
    """Write ``items.csv`` chunk by chunk: the item table of :attr:`ScoreResult.items`
    (reasons rendered), ``chunk`` unit-years at a time (see
    :meth:`~assesskit.scoring.ScoreResult.iter_item_tables`); the bytes do not depend on
    the chunking. Reasons are rendered and cells encoded in two threads, chunk by chunk."""
    from ._io import write_csv_chunks
    from .scoring import ITEM_COLUMNS, with_reasons

    write_csv_chunks(
        path,
        result.iter_item_tables(render=False, chunk=chunk),
        prepare=lambda t: with_reasons(t)[ITEM_COLUMNS],
    )


def write_items_parquet(result, path: str | Path, *, chunk: int | None = None) -> None:
    """Write ``items.parquet`` chunk by chunk (one row group or more per chunk) with
    ``pyarrow.parquet.ParquetWriter``: the columnar item table
    (:meth:`~assesskit.scoring.ScoreResult.item_table`) — reasons as ``reason_template``
    (a dictionary column) and their values; :func:`assesskit.reasons.render_reasons`
    renders them from the file read back. Chunks are converted to Arrow in two threads."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ._io import pipelined

    def arrow(t: pd.DataFrame) -> pa.Table:
        frame = parquet_frame(t, text=("value",) if t["value"].dtype == object else ())
        return pa.Table.from_pandas(frame, preserve_index=False)

    writer = None
    try:
        for table in pipelined(result.iter_item_tables(render=False, chunk=chunk), arrow):
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()


def has_pyarrow() -> bool:
    """True when pyarrow, which writes the Parquet files, can be imported."""
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


def score_output_files(
    result,
    run: Mapping[str, Any],
    formats: Sequence[str] = ("csv",),
    *,
    lang: str = "zh",
    chunk: int | None = None,
) -> dict[str, Any]:
    """The files of ``assesskit score`` for ``formats``, for :func:`assesskit._io.replace_folder`.

    ``run.json`` is always among them. Every check that can refuse (an unknown format,
    no pyarrow, a table longer than an Excel sheet) runs here, before anything is written.
    The item tables are written in chunks of ``chunk`` unit-years (default: about
    :data:`assesskit.scoring.CHUNK_ENTRIES` rows a chunk) by :func:`write_items_csv` and
    :func:`write_items_parquet`, so memory does not grow with the rows written; the
    workbook (at most a sheet's rows) is built when it is written.

    Raises
    ------
    OutputError
        An unknown format, or a table too long for an Excel sheet.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise OutputError(
            f"--format: expected one or more of {', '.join(FORMATS)}, got {', '.join(unknown) or 'none'}"
        )
    if lang not in ("zh", "en"):
        raise OutputError(f"lang: expected 'zh' or 'en', got {lang!r}")
    formats = list(dict.fromkeys(formats))
    if "parquet" in formats and not has_pyarrow():
        raise OutputError(
            "--format parquet needs the pyarrow package (pip install pyarrow); nothing was written"
        )
    if "xlsx" in formats:
        check_workbook_rows(result)
    files: dict[str, Any] = {}
    for fmt in formats:
        if fmt == "csv":
            files["summary.csv"] = result.summary
            files["items.csv"] = lambda path: write_items_csv(result, path, chunk=chunk)
            files["lines.csv"] = result.lines
        elif fmt == "parquet":
            files["summary.parquet"] = _parquet_writer(result.summary)
            files["items.parquet"] = lambda path: write_items_parquet(result, path, chunk=chunk)
            files["lines.parquet"] = _parquet_writer(result.lines)
        else:
            files["results.xlsx"] = _xlsx_writer(result, run, lang)
    files["run.json"] = dict(run)
    return files
