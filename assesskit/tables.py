"""Reading input tables from files: CSV (with its encoding), Excel and Parquet.

Every cell is kept as written: a CSV cell is text, an empty cell (or one of only spaces)
is missing, and nothing else is turned into missing here — a unit called ``NA`` stays
``NA``. What a cell means (a number, missing, an error) is decided by the column that
reads it (:mod:`assesskit.numbers` for numeric columns). Row numbers in messages are
those a spreadsheet shows: the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import os
import zipfile
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import DataError

ALIASES: dict[str, str] = {
    "单位": "unit",
    "单位代码": "unit",
    "年份": "year",
    "年度": "year",
    "出生人数": "births",
    "出生数": "births",
    "男婴数": "male_births",
    "出生男婴": "male_births",
    "女婴数": "female_births",
    "出生女婴": "female_births",
    "政策内出生数": "policy_births",
    "符合政策出生数": "policy_births",
    "总人口": "population",
    "年平均人口": "population",
    "死亡人数": "deaths",
    "死亡数": "deaths",
    "名称": "name",
    "单位名称": "name",
    "类别": "category",
    "类型": "kind",
}

_EXCEL = (".xlsx", ".xlsm", ".xls")
# byte-order marks, longest first (UTF-32 LE starts with the UTF-16 LE mark)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Table:
    """A table as read from a file, with what is needed to point at its rows.

    Attributes
    ----------
    frame : DataFrame
        The cells as written (CSV: text, NaN for empty cells).
    path : str
        The file (or ``<data>`` for a DataFrame given in Python).
    encoding : str or None
        The encoding a CSV file was decoded with.
    rows : array of int, optional
        The spreadsheet row of each frame row (when blank lines were skipped); default
        ``index + 2``.
    """

    frame: pd.DataFrame
    path: str
    encoding: str | None = None
    rows: np.ndarray | None = None

    def row(self, row_index: int) -> int:
        """The spreadsheet row number of the frame's row ``row_index`` (header = row 1)."""
        return int(self.rows[row_index]) if self.rows is not None else row_index + 2

    def where(self, row_index: int | None = None, column: str | None = None) -> str:
        parts = [self.path]
        if row_index is not None:
            parts.append(f"row {self.row(row_index)}")
        if column is not None:
            parts.append(f"column '{column}'")
        return ", ".join(parts)


def read_table(path: str | os.PathLike, *, encoding: str | None = None) -> Table:
    """Read a CSV, Excel or Parquet file into a :class:`Table`, every cell as written.

    CSV encodings: a byte-order mark decides (UTF-8, UTF-16, UTF-32); otherwise UTF-8,
    then GB18030 (a superset of GBK and GB2312), unless ``encoding`` is given. Header
    names are stripped and the Chinese aliases of the standard columns are renamed.

    Raises
    ------
    DataError
        Naming the file: absent, a folder, unreadable, undecodable, not a valid workbook
        or Parquet file, empty, ragged rows, duplicate or unnamed columns.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if p.is_dir():
        raise DataError(f"{p}: is a folder, not a file; give the table's file")
    if not os.access(p, os.R_OK):
        raise DataError(f"{p}: cannot read the file (Permission denied)")
    suffix = p.suffix.lower()
    try:
        if suffix in _EXCEL:
            return _named(_read_excel(p), str(p))
        if suffix == ".parquet":
            return _named(_read_parquet(p), str(p))
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"{p}: cannot read the file ({exc.strerror or exc})") from None
    text, used = _decode(p, raw, encoding)
    frame, rows = _parse_csv(p, text)
    return _named(Table(frame, str(p), used, rows), str(p))


def _read_excel(p: Path) -> Table:
    if p.suffix.lower() != ".xls" and not zipfile.is_zipfile(p):
        raise DataError(
            f"{p}: is not a valid Excel workbook (an .xlsx file is a zip archive; this one is not)"
        )
    try:
        df = pd.read_excel(p, dtype=object, keep_default_na=False, na_values=[""])
    except (OSError, ImportError) as exc:
        raise DataError(f"{p}: cannot read the workbook ({getattr(exc, 'strerror', None) or exc})") from None
    except Exception as exc:  # openpyxl/zipfile/pandas raise many kinds for a broken workbook
        raise DataError(f"{p}: is not a valid Excel workbook ({type(exc).__name__}: {exc})") from None
    return Table(_blank_to_missing(df), str(p))


def _read_parquet(p: Path) -> Table:
    with open(p, "rb") as f:  # a Parquet file starts and ends with the magic bytes PAR1
        head = f.read(4)
        f.seek(max(p.stat().st_size - 4, 0))
        tail = f.read(4)
    if head != b"PAR1" or tail != b"PAR1" or p.stat().st_size < 12:
        raise DataError(f"{p}: is not a valid Parquet file (it does not start and end with PAR1)")
    try:
        df = pd.read_parquet(p)
    except ImportError:
        raise DataError(f"{p}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    except OSError as exc:
        if exc.errno is not None:
            raise DataError(f"{p}: cannot read the file ({exc.strerror})") from None
        raise DataError(f"{p}: is not a valid Parquet file ({exc})") from None
    except Exception as exc:  # pyarrow's ArrowInvalid and kin
        raise DataError(f"{p}: is not a valid Parquet file ({type(exc).__name__}: {exc})") from None
    return Table(_blank_to_missing(df), str(p))


def _decode(p: Path, raw: bytes, encoding: str | None) -> tuple[str, str]:
    """The file's text and the encoding it was read with."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DataError(f"{p}: unknown encoding '{encoding}' (try utf-8 or gbk)") from None
    bom = next((enc for mark, enc in _BOMS if raw.startswith(mark)), None)
    tries = [encoding] if encoding else [bom] if bom else ["utf-8-sig", "gb18030"]
    # a file that is valid UTF-8 (and not plain ASCII) is UTF-8: a GBK text of any length
    # is practically never valid UTF-8, so a declared GBK would give mojibake
    utf8_instead = bool(encoding) and not _is_utf8(encoding) and not raw.isascii() and _decodes_as_utf8(raw)
    if utf8_instead:
        raise DataError(
            f"{p}: the file is UTF-8 (it decodes as UTF-8 without error), not {encoding}; leave out --encoding"
        )
    err: UnicodeDecodeError | None = None
    for enc in tries:
        try:
            return raw.decode(enc).removeprefix("\ufeff"), enc
        except UnicodeDecodeError as exc:
            err = exc
    assert err is not None
    raise DataError(
        f"{p}: cannot decode as {' or '.join(tries)} ({err.reason} at byte {err.start}); "
        "save the file as UTF-8, or give its encoding (--encoding)"
    )


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def _decodes_as_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def _parse_csv(p: Path, text: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Cells as text (NaN where empty); blank lines skipped; ragged rows refused.

    The stdlib reader counts each record's cells (pandas pads a short row with empty cells
    silently, and we must tell "empty" from "absent"); pandas' C parser builds the frame.
    """
    try:
        lens = np.fromiter(
            (
                len(r) if len(r) != 1 or r[0].strip() else 0
                for r in csv.reader(StringIO(text), skipinitialspace=True)
            ),
            dtype=int,
        )
    except csv.Error as exc:
        raise DataError(f"{p}: cannot read the CSV ({exc})") from None
    keep = np.flatnonzero(lens > 0)
    if keep.size == 0:
        raise DataError(f"{p}: the file is empty (no header, no rows)")
    width, body = lens[keep[0]], keep[1:]
    ragged = body[lens[body] != width]
    if ragged.size:
        shown = ", ".join(f"row {i + 1} has {lens[i]}" for i in ragged[:10])
        raise DataError(
            f"{p}: ragged rows: the header has {width} cells, but {shown}"
            + (f" (and {ragged.size - 10} more)" if ragged.size > 10 else "")
            + "; a cell with a comma must be quoted"
        )
    try:
        frame = pd.read_csv(
            StringIO(text),
            header=None,
            dtype=object,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
            skip_blank_lines=True,
        )
    except Exception as exc:  # pandas' parser errors: name the file
        raise DataError(f"{p}: cannot read the CSV ({exc})") from None
    if len(frame) != keep.size:  # pandas and csv disagree on what is a line: trust csv
        records = [
            r for r in csv.reader(StringIO(text), skipinitialspace=True) if len(r) > 1 or (r and r[0].strip())
        ]
        frame = pd.DataFrame(records, dtype=object).replace("", np.nan)
    header = ["" if pd.isna(h) else str(h) for h in frame.iloc[0]]
    frame = frame.iloc[1:].reset_index(drop=True)
    frame.columns = header
    return frame, body + 1


def _blank_to_missing(df: pd.DataFrame) -> pd.DataFrame:
    """Empty text cells (or only spaces) become NaN; every other cell is kept as written."""
    out = df.copy()
    for c in range(out.shape[1]):
        col = out.iloc[:, c]
        if col.dtype.kind != "O":  # typed numbers (Parquet) are kept
            continue
        col = col.astype(object)
        try:
            blank = col.str.strip().eq("").to_numpy(dtype=bool)
        except AttributeError:  # no text in the column (Excel numbers)
            continue
        out.isetitem(c, col.where(~blank, np.nan) if blank.any() else col)
    return out


def _named(t: Table, where: str) -> Table:
    """Standard column names: stripped, aliases renamed; unnamed or duplicate ones refused."""
    df = t.frame
    names = [
        ALIASES.get(str(c).strip().lstrip("\ufeff"), str(c).strip().lstrip("\ufeff")) for c in df.columns
    ]
    unnamed = [j for j, n in enumerate(names) if n == "" or n.startswith("Unnamed: ")]
    empty = [j for j in unnamed if df.iloc[:, j].isna().all()]
    if len(empty) < len(unnamed):
        cols = [j + 1 for j in unnamed if j not in empty]
        raise DataError(f"{where}: column(s) {cols} hold data but have no header")
    keep = [j for j in range(len(names)) if j not in empty]
    names = [names[j] for j in keep]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise DataError(
            f"{where}: duplicate column names {dups} (after reading Chinese headers as standard names)"
        )
    df = df.iloc[:, keep].copy()
    df.columns = names
    return Table(df.reset_index(drop=True), t.path, t.encoding, t.rows)


def as_table(obj: Table | pd.DataFrame | str | os.PathLike | None, name: str) -> Table | None:
    """A :class:`Table` from a path, a DataFrame (named ``<name>``) or a Table (as is)."""
    if obj is None or isinstance(obj, Table):
        return obj
    if isinstance(obj, pd.DataFrame):
        return _named(Table(obj.reset_index(drop=True), f"<{name}>"), f"<{name}>")
    return read_table(obj)
