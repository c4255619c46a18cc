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

_PLAIN = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_GROUPED = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"
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
    errors = pd.Series("", index=cells.index, dtype=object)
    if cells.dtype.kind in "biuf":  # typed numbers (bool as 0/1)
        values = cells.astype(float)
        inf = np.isinf(values)
        errors[inf] = values[inf].map(lambda v: f"expected a finite number, got {v}")
        return Numbers(values.where(~inf), errors)
    obj = cells.astype(object)
    is_text = obj.map(lambda v: isinstance(v, str)).astype(bool)  # Excel mixes str and numbers
    # cells that are not text: numbers from Excel or a DataFrame (None/NaN is missing)
    other = pd.to_numeric(obj.where(~is_text), errors="coerce").astype(float)
    not_num = ~is_text & obj.notna() & other.isna()
    errors[not_num] = obj[not_num].map(lambda v: f"expected a number, got {v!r}")
    inf = ~is_text & np.isinf(other)
    errors[inf] = other[inf].map(lambda v: f"expected a finite number, got {v}")
    values = other.where(~inf)
    if is_text.any():
        text_values, text_errors = _parse_text(obj[is_text].astype(str))
        values[is_text] = text_values
        errors[is_text] = text_errors
    return Numbers(values.astype(float), errors)


def _parse_text(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    txt = raw.str.strip()
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
