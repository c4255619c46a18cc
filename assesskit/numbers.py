"""Numbers as written in official tables: one strict reading of a cell.

A cell of a numeric column is

- **missing** when it is empty (or only spaces), or one of :data:`MISSING_TOKENS` — the
  ``NA`` that R writes and the ``N/A`` / ``#N/A`` of spreadsheets;
- **a number** when it is a plain decimal (``12``, ``-3.5``, ``.5``, ``1e3``), or a decimal
  whose integer part is grouped in threes by commas (``13,469``, ``1,234,567.5``; so
  ``1,234`` is one thousand two hundred and thirty-four);
- **an error** otherwise, with a reason: any other comma (``8376,5``, ``1,5``, ``12,34`` —
  a decimal comma cannot be told from a misplaced separator), a non-finite value
  (``inf``, ``-Infinity``, ``nan`` — Python and pandas would accept these), a value too
  large for a float (``1e400``), or anything else that is not a number (``null``, ``-``,
  ``12%``, ``2008年``).

The reading is written with regular expressions rather than :func:`float` or
:func:`pandas.to_numeric`, because those accept exactly the spellings refused above
(``float("inf")``, ``float("1_000")``, ``to_numeric("nan")``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MISSING_TOKENS: frozenset[str] = frozenset({"NA", "N/A", "n/a", "#N/A"})
"""Text that means "no value" in a numeric column (besides an empty cell)."""

# ASCII digits only ([0-9], not \d, which also matches other scripts' digits); a grouped
# number's first group is 1-999, so `0,950` (only ever a decimal comma) is refused
_PLAIN = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_GROUPED = r"[+-]?[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]+)?"
# full-width digits, point, comma and signs (common in Chinese official tables) are the
# same characters in another width: read exactly as their ASCII forms, nothing else is mapped
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，＋－", "0123456789.,+-")
_NONFINITE = r"[+-]?(?:inf|infinity|nan|∞)"


@dataclass(frozen=True)
class Numbers:
    """The reading of one column.

    Attributes
    ----------
    values : Series of float
        The numbers; NaN where missing or refused.
    errors : Series of str
        Why a cell was refused ("" where it was read or is missing).
    """

    values: pd.Series
    errors: pd.Series

    @property
    def bad(self) -> pd.Series:
        """True where a cell was refused."""
        return self.errors != ""


def parse_numbers(cells: pd.Series) -> Numbers:
    """Read a column of cells as numbers, refusing what cannot be read with certainty.

    Parameters
    ----------
    cells : Series
        Text as written (CSV), or the numbers and text of an Excel sheet, or a typed
        column (Parquet, a DataFrame): in a float column NaN means missing and ±inf is
        refused.

    Returns
    -------
    Numbers
        Values and, per refused cell, the reason (see the module's docstring).
    """
    n = len(cells)
    errors = np.full(n, "", dtype=object)
    if cells.dtype.kind in "biuf":  # typed numbers (bool as 0/1)
        values = cells.to_numpy(dtype=float)
        inf = np.isinf(values)
        errors[inf] = [f"expected a finite number, got {v}" for v in values[inf]]
        values = np.where(inf, np.nan, values)
        return Numbers(pd.Series(values, index=cells.index), pd.Series(errors, index=cells.index))
    obj = cells.to_numpy(dtype=object)
    present = pd.notna(obj)
    if pd.api.types.infer_dtype(obj, skipna=True) in ("string", "empty"):  # CSV: text or NaN
        is_text = present
    else:  # Excel mixes text and numbers
        is_text = np.fromiter((isinstance(v, str) for v in obj), dtype=bool, count=n)
    values = np.full(n, np.nan)
    nontext = np.flatnonzero(present & ~is_text)
    if nontext.size:  # numbers from Excel or a DataFrame (None/NaN is missing)
        other = pd.to_numeric(pd.Series(obj[nontext]), errors="coerce").to_numpy(dtype=float)
        values[nontext] = np.where(np.isinf(other), np.nan, other)
        errors[nontext[np.isnan(other)]] = [
            f"expected a number, got {v!r}" for v in obj[nontext[np.isnan(other)]]
        ]
        errors[nontext[np.isinf(other)]] = [
            f"expected a finite number, got {v}" for v in other[np.isinf(other)]
        ]
    text = np.flatnonzero(is_text)
    if text.size:
        # fast path: what pandas' C parser reads as a finite number is a plain number (it
        # knows no commas, underscores or hex); only the rest is looked at cell by cell
        fast = _fast_floats(obj[text])
        done = np.isfinite(fast)
        values[text[done]] = fast[done]
        slow = text[~done]
        if slow.size:
            v, e = _parse_slow(pd.Series(obj[slow]).astype(str))
            values[slow], errors[slow] = v.to_numpy(dtype=float), e.to_numpy(dtype=object)
    return Numbers(pd.Series(values, index=cells.index), pd.Series(errors, index=cells.index))


def _fast_floats(cells: np.ndarray) -> np.ndarray:
    """Floats of text cells, NaN or ±inf where a cell needs a closer look.

    numpy's conversion is the fastest, but it is Python's ``float``, which also reads
    ``1_000`` and non-ASCII digits: it is used only on ASCII text without underscores.
    """
    joined = "".join(cells)
    if joined.isascii() and "_" not in joined:
        try:
            with np.errstate(over="ignore"):
                return cells.astype(float)
        except ValueError:  # some cell is not a number: let pandas mark which
            pass
    with np.errstate(over="ignore"):
        return pd.to_numeric(pd.Series(cells), errors="coerce").to_numpy(dtype=float)


def _parse_slow(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    txt = raw.str.strip().str.translate(_FULLWIDTH)
    missing = (txt == "") | txt.isin(MISSING_TOKENS)
    plain = txt.str.fullmatch(_PLAIN)
    grouped = txt.str.fullmatch(_GROUPED)
    ok = plain | grouped
    with np.errstate(over="ignore"):
        values = pd.to_numeric(txt.where(ok).str.replace(",", "", regex=False), errors="coerce")
    values = values.astype(float)
    huge = ok & np.isinf(values)
    comma = ~ok & ~missing & txt.str.contains(",", regex=False)
    nonfinite = ~ok & ~missing & txt.str.fullmatch(_NONFINITE, case=False)
    other = ~ok & ~missing & ~comma & ~nonfinite
    errors = pd.Series("", index=raw.index, dtype=object)
    shown = raw.map(repr)
    errors[comma] = (
        "expected a number, got "
        + shown[comma]
        + ": a comma is read only as a thousands separator (1,234,567.5); "
        "write a decimal comma as a point (8376.5)"
    )
    errors[nonfinite] = "expected a finite number, got " + shown[nonfinite]
    errors[huge] = "the number " + shown[huge] + " is too large"
    errors[other] = "expected a number, got " + shown[other] + " (leave the cell empty for a missing value)"
    return values.where(ok & ~huge), errors


def decimals(values: pd.Series, cap: int = 6) -> int:
    """The fewest decimals that write every value of ``values`` exactly (at most ``cap``)."""
    v = values.dropna().to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0
    need = np.full(v.size, cap)
    for d in range(cap, -1, -1):  # a few passes over the column, not one per cell
        need = np.where(np.isclose(v, np.round(v, d), rtol=0, atol=1e-9), d, need)
    return int(need.max())
