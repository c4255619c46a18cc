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

from ._io import FORMULA_PREFIXES
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


def build_workbook(
    sheets: Sequence[tuple[str, Sequence[str], Any, Mapping[str, Any]]],
    *,
    freeze: Callable[[str], bool] = lambda name: True,
) -> bytes:
    """An ``.xlsx`` file's bytes from ``(name, header, rows, options)`` per sheet.

    ``rows`` is a DataFrame (its columns in ``header`` order) or a list of row lists.
    ``options`` may hold ``fills`` (one hex colour or None per row). Every sheet gets a
    bold header, column widths from the longest text (wide characters count double, at
    most 60) and, when ``freeze(name)``, a frozen header row and an autofilter. Text that
    starts like a formula is stored as a text cell, so Excel never evaluates it;
    characters XML cannot hold (control characters) are dropped.

    The rows are appended one by one: openpyxl's streaming writer takes rows, and
    there is no vectorised xlsx writer in the dependencies (pandas' ``to_excel`` uses the
    same openpyxl loop but cannot mark a formula-like text as text).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    for name, header, rows, opts in sheets:
        ws = wb.create_sheet(name)
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), dtype=object)
        data = _cells(frame) if len(frame) else []
        n_cols = max(len(header), frame.shape[1] if len(frame) else 0)
        for j in range(n_cols):
            width = len(str(header[j])) + len(_WIDE.findall(str(header[j]))) if j < len(header) else 0
            if len(frame):
                width = max(width, int(display_width(frame.iloc[:, j]).max()))
            ws.column_dimensions[get_column_letter(j + 1)].width = min(max(width + 2, 6), 60)
        if freeze(name) and header:
            ws.freeze_panes = "A2"
            ws.auto_filter.ref = f"A1:{get_column_letter(max(n_cols, 1))}{len(data) + 1}"
        bold = Font(bold=True)
        if header:
            ws.append(
                [_text_cell(WriteOnlyCell, ws, str(h), ILLEGAL_CHARACTERS_RE, font=bold) for h in header]
            )
        fills = opts.get("fills")
        pattern = {}
        for i, row in enumerate(data):
            fill = fills[i] if fills is not None else None
            if fill is not None and fill not in pattern:
                pattern[fill] = PatternFill("solid", fgColor=fill)
            ws.append(
                [
                    _text_cell(WriteOnlyCell, ws, v, ILLEGAL_CHARACTERS_RE, fill=pattern.get(fill))
                    if isinstance(v, str) or fill is not None
                    else v
                    for v in row
                ]
            )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _text_cell(cell_type, ws, value: Any, illegal: re.Pattern, *, font=None, fill=None) -> Any:
    """A cell for ``value``: formula-like text kept as text; fills and fonts applied."""
    if isinstance(value, str):
        value = illegal.sub("", value)
        formula = value.startswith(FORMULA_PREFIXES)
        if not formula and font is None and fill is None:
            return value
    elif fill is None:
        return value
    cell = cell_type(ws, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    return cell


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


def league_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The league-table columns of ``summary`` (one kind of unit), ordered by year and rank.

    Columns: year, rank, unit, name, category, the line totals (``line_*``), bonus,
    deduction, total, award, single_awards, prize, warning, and ``reason`` — the veto
    reason of a vetoed (or not scored) unit, else its ineligibility reason.
    """
    lines = [c for c in summary.columns if c.startswith("line_")]
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


def results_workbook(result, run: Mapping[str, Any], *, lang: str = "zh") -> bytes:
    """``results.xlsx``: a league table per kind of unit, the items with reasons, the run.

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
    summary, items, scheme = result.summary, result.items, result.scheme
    li = 0 if lang == "zh" else 1
    kinds = list(dict.fromkeys(summary["kind"]))
    _check_rows({str(k): int((summary["kind"] == k).sum()) for k in kinds} | {"items": len(items)})
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
    return build_workbook(sheets)


# --------------------------------------------------------------------------- parquet


def parquet_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the Parquet dtypes: categoricals for the identifying text columns
    (:data:`CATEGORICAL`), integer years, floats for points and values, other text as
    strings. A column mixing numbers and text (``value`` of a scheme with label grades:
    ``达标`` beside rates) is stored as text, each number written as the CSV writes it."""
    out = {}
    for c in df.columns:
        s = df[c]
        if c in CATEGORICAL:
            s = s.astype("category")
        elif c == "year":
            s = s.astype("int64")
        elif s.dtype == object:
            if pd.api.types.infer_dtype(s, skipna=True) in (
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


def _xlsx_writer(data: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(data)

    return write


def score_output_files(
    result, run: Mapping[str, Any], formats: Sequence[str] = ("csv",), *, lang: str = "zh"
) -> dict[str, Any]:
    """The files of ``assesskit score`` for ``formats``, for :func:`assesskit._io.replace_folder`.

    ``run.json`` is always among them. The xlsx workbook is built (and its row limits
    checked) here, before anything is written.

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
    tables = {"summary": result.summary, "items": result.items, "lines": result.lines}
    files: dict[str, Any] = {}
    for fmt in dict.fromkeys(formats):
        if fmt == "csv":
            files |= {f"{k}.csv": v for k, v in tables.items()}
        elif fmt == "parquet":
            files |= {f"{k}.parquet": _parquet_writer(v) for k, v in tables.items()}
        else:
            files["results.xlsx"] = _xlsx_writer(results_workbook(result, run, lang=lang))
    files["run.json"] = dict(run)
    return files
