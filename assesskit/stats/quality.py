"""Data-quality diagnostics: bunching above targets, internal inconsistencies, digit heaping.

- :func:`bunching` — too many units just above a target and too few just below: counts in
  two windows (stated in the output) and a one-sided binomial test;
- :func:`rate_consistency` — a reported rate against the rate its own counts give, with the
  rounding tolerance stated;
- :func:`count_consistency` — arithmetic between counts: parts that must add up to a total
  (boys + girls = births) and counts that cannot exceed another (policy births ≤ births);
- :func:`digit_heaping` — terminal-digit preference in counts: χ² goodness of fit of the last
  digits against uniform, per column.

All are pure functions of a panel (one row per unit-year) and return tidy DataFrames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import DataError, Problem
from .funnel import _numbers
from .proportions import _notes, _require_columns

__all__ = [
    "DEFAULT_AT_MOST",
    "DEFAULT_SUMS",
    "bunching",
    "count_consistency",
    "digit_heaping",
    "rate_consistency",
]

#: Totals and the parts that must add up to them.
DEFAULT_SUMS: dict[str, tuple[str, ...]] = {"births": ("male_births", "female_births")}
#: Counts that cannot exceed another count.
DEFAULT_AT_MOST: dict[str, str] = {
    "policy_births": "births",
    "male_births": "births",
    "female_births": "births",
    "births": "population",
    "deaths": "population",
}
_ROUND = 9  # rates are compared after rounding to 9 decimals, so 990/1000·100 is exactly 99


def _keys(data: pd.DataFrame, unit: str, year: str | None) -> list[str]:
    return [c for c in (unit, year) if c is not None and c in data.columns]


# --------------------------------------------------------------------------------------------
# bunching
# --------------------------------------------------------------------------------------------
def _rates(data, numerator, denominator, rate, scale, what) -> tuple[np.ndarray, str]:
    """The rate column (in the target's unit) and a phrase saying where it came from."""
    problems: list[Problem] = []
    if rate is not None:
        _require_columns(data, [rate], what)
        r = _numbers(data, rate, what, problems, whole=False)
        source = f"reported {rate}"
    else:
        _require_columns(data, [numerator, denominator], what)
        x = _numbers(data, numerator, what, problems, whole=True)
        n = _numbers(data, denominator, what, problems, whole=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            over = x > n
            r = np.where(n > 0, x / np.where(n > 0, n, 1.0) * scale, np.nan)
        for i in np.flatnonzero(over)[:20]:
            problems.append(
                Problem(
                    f"{what}, row {data.index[i]}", f"{numerator} = {x[i]:g} exceeds {denominator} = {n[i]:g}"
                )
            )
        source = f"{numerator}/{denominator}×{scale:g}"
    if problems:
        raise DataError(f"{what}: impossible values", problems)
    return np.round(r, _ROUND), source


def bunching(
    data: pd.DataFrame,
    *,
    target: float,
    numerator: str = "policy_births",
    denominator: str = "births",
    rate: str | None = None,
    scale: float = 100.0,
    window: float | tuple[float, float] = 0.5,
    by: str | None = "year",
    unit: str = "unit",
) -> pd.DataFrame:
    """Bunching just above a target: units in a window above it against a window below it.

    A unit-year whose rate r satisfies ``target − w_below ≤ r < target`` is *below*, one with
    ``target ≤ r < target + w_above`` is *above* (a rate exactly at the target meets a ``≥``
    target, so it counts as above). Without manipulation and with a smooth distribution of
    rates, a unit in either window is above with probability ``w_above/(w_above + w_below)``
    (½ for equal windows). The test is the exact one-sided binomial test of that null against
    "more above": ``P(X ≥ n_above)``, ``X ~ Bin(n_above + n_below, p0)`` —
    ``scipy.stats.binom.sf``, identical to
    ``scipy.stats.binomtest(n_above, n_above + n_below, p0, alternative="greater").pvalue``.

    Parameters
    ----------
    data : DataFrame
        One row per unit-year; not modified.
    target : float
        The target, in the rate's unit (99 for a 99% target with ``scale=100``).
    numerator, denominator : str
        Counts the rate is computed from (``numerator/denominator × scale``).
    rate : str, optional
        Use this column of rates as they are instead (e.g. ``"policy_rate_reported"``).
    scale : float
        100 for percentages, 1 for proportions, 1000 for per mille.
    window : float or (float, float)
        Width of the windows below and above the target, in the rate's unit (default 0.5
        percentage points each side); a pair gives (below, above).
    by : str or None
        One test per value of this column (default ``"year"``); None pools every row given —
        filter the rows first to pool a period (e.g. 2014–2016).
    unit : str
        The unit column, used to name the units in each window.

    Returns
    -------
    DataFrame, one row per group, with columns:

    - the ``by`` column (when grouping), ``years`` (the years covered, when a ``year`` column exists);
    - ``rate``: where the rates came from; ``target``;
    - ``below_from``, ``below_to``, ``above_from``, ``above_to``: the windows ``[from, to)``;
    - ``n_below``, ``n_above``: unit-years in each window; ``n_rated``: unit-years with a rate;
    - ``p0``: the null probability of being above (``w_above/(w_above+w_below)``);
    - ``expected_above``: ``p0·(n_below + n_above)``;
    - ``p_value``: the one-sided exact binomial p-value (NaN when both windows are empty);
    - ``units_below``, ``units_above``: the unit-years in each window (``unit year``, comma-separated);
    - ``note``: why the p-value is missing ("" otherwise).

    Examples
    --------
    >>> late = panel[panel["year"].between(2014, 2016)]                     # doctest: +SKIP
    >>> bunching(late, target=99, by=None)[["n_below", "n_above", "p_value"]]  # doctest: +SKIP
    """
    what = "bunching"
    w_below, w_above = (float(window), float(window)) if np.isscalar(window) else map(float, window)
    if not (w_below > 0 and w_above > 0):
        raise ValueError(f"window widths must be positive, got {window!r}")
    r, source = _rates(data, numerator, denominator, rate, scale, what)
    if by is not None:
        _require_columns(data, [by], what)
    _require_columns(data, [unit], what)
    lo, hi = round(target - w_below, _ROUND), round(target + w_above, _ROUND)
    below = (r >= lo) & (r < target)
    above = (r >= target) & (r < hi)
    has_year = "year" in data.columns
    agg = _window_counts(data, r, below, above, by, unit, has_year)
    n_b, n_a = agg["n_below"].to_numpy(), agg["n_above"].to_numpy()
    p0 = w_above / (w_above + w_below)
    tot = n_a + n_b
    p_value = np.where(tot > 0, stats.binom.sf(n_a - 1, tot, p0), np.nan)
    out = pd.DataFrame(
        {
            "rate": source,
            "target": float(target),
            "below_from": lo,
            "below_to": float(target),
            "above_from": float(target),
            "above_to": hi,
            "n_below": n_b,
            "n_above": n_a,
            "n_rated": agg["n_rated"].to_numpy(),
            "p0": p0,
            "expected_above": p0 * tot,
            "p_value": p_value,
            "units_below": agg["units_below"].to_numpy(),
            "units_above": agg["units_above"].to_numpy(),
            "note": _notes(len(agg), (tot == 0, "no unit-year in either window: no test")),
        }
    )
    if has_year:
        out.insert(0, "years", agg["years"].to_numpy())
    if by is not None:
        out.insert(0, by, agg.index.to_numpy())
    return out


def _window_counts(
    data: pd.DataFrame,
    r: np.ndarray,
    below: np.ndarray,
    above: np.ndarray,
    by: str | None,
    unit: str,
    has_year: bool,
) -> pd.DataFrame:
    """Per group of ``by``: the unit-years below and above the target (counts and labels),
    the rated ones, and the years spanned."""
    label = data[unit].astype(str).to_numpy()
    if has_year:
        label = label + " " + data["year"].astype(str).to_numpy()
    df = pd.DataFrame(
        {
            "g": data[by].to_numpy() if by is not None else np.zeros(len(data), dtype=int),
            "year": data["year"].to_numpy() if has_year else 0,
            "below": below,
            "above": above,
            "rated": np.isfinite(r),
            "lab_below": np.where(below, label, None),
            "lab_above": np.where(above, label, None),
        }
    )
    return df.groupby("g", sort=True).agg(
        n_below=("below", "sum"),
        n_above=("above", "sum"),
        n_rated=("rated", "sum"),
        units_below=("lab_below", _join_labels),
        units_above=("lab_above", _join_labels),
        years=("year", _year_span),
    )


def _join_labels(s: pd.Series) -> str:
    return ", ".join(s.dropna())


def _year_span(s: pd.Series) -> str:
    """The years of a group: one year, a run "2010–2014", or a list."""
    u = sorted(pd.unique(s))
    return (
        str(u[0])
        if len(u) == 1
        else f"{u[0]}–{u[-1]}"
        if u == list(range(u[0], u[-1] + 1))
        else ", ".join(map(str, u))
    )


# --------------------------------------------------------------------------------------------
# internal consistency
# --------------------------------------------------------------------------------------------
def _decimals(values: np.ndarray, cap: int = 6) -> int:
    """The number of decimals the reported values carry (the most any of them needs)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return 0
    need = np.full(v.size, cap)
    for d in range(cap, -1, -1):
        need = np.where(np.isclose(v, np.round(v, d), rtol=0, atol=1e-9), d, need)
    return int(need.max())


def rate_consistency(
    data: pd.DataFrame,
    *,
    reported: str = "policy_rate_reported",
    numerator: str = "policy_births",
    denominator: str = "births",
    scale: float = 100.0,
    tolerance: float | None = None,
    unit: str = "unit",
    year: str | None = "year",
) -> pd.DataFrame:
    """Reported rates against the rates their own counts give.

    ``computed = numerator/denominator × scale``; a row is inconsistent when
    ``|reported − computed| > tolerance``. The default tolerance is one unit in the last
    decimal the reported column carries (read from the data: 0.01 for rates given to two
    decimals), which allows for rounding (half a unit) and for truncation (less than a unit).

    Parameters
    ----------
    data : DataFrame
        One row per unit-year; not modified.
    reported : str
        The reported rate column.
    numerator, denominator : str
        The counts the rate should equal.
    scale : float
        100 for percentages.
    tolerance : float, optional
        Largest allowed absolute difference, in the rate's unit (default: see above).
    unit, year : str
        Identifying columns copied to the result (``year`` only when present).

    Returns
    -------
    DataFrame, one row per input row, in input order, with columns:

    - ``unit``, ``year``;
    - ``reported``, ``numerator``, ``denominator``, ``computed`` (NaN when the denominator is 0);
    - ``difference``: reported − computed;
    - ``tolerance``: the tolerance used (the same on every row; NaN when no rate is reported);
    - ``inconsistent``: True/False, NA when it cannot be checked (see ``note``);
    - ``note``: why a row was not checked ("" otherwise).
    """
    what = "rate_consistency"
    _require_columns(data, [reported, numerator, denominator], what)
    problems: list[Problem] = []
    rep = pd.to_numeric(data[reported], errors="coerce").astype("float64").to_numpy()
    bad = np.isnan(rep) & data[reported].notna().to_numpy()
    for i in np.flatnonzero(bad)[:20]:
        problems.append(
            Problem(
                f"{what}, row {data.index[i]}, column {reported!r}",
                f"not a number: {data[reported].iloc[i]!r}",
            )
        )
    x = _numbers(data, numerator, what, problems, whole=True)
    n = _numbers(data, denominator, what, problems, whole=True)
    if problems:
        raise DataError(f"{what}: unreadable values", problems)
    if tolerance is None:  # NaN when no rate is reported: nothing to check
        tolerance = 10.0 ** -_decimals(rep) if np.isfinite(rep).any() else np.nan
    elif not tolerance >= 0:
        raise ValueError(f"tolerance must be ≥ 0, got {tolerance!r}")
    with np.errstate(invalid="ignore", divide="ignore"):
        computed = np.where(n > 0, x / np.where(n > 0, n, 1.0) * scale, np.nan)
    diff = rep - computed
    checkable = np.isfinite(diff)
    flag = pd.array(np.where(checkable, np.abs(diff) > tolerance + 1e-9, False), dtype="boolean")
    flag[~checkable] = pd.NA
    out = (
        data[_keys(data, unit, year)]
        .reset_index(drop=True)
        .assign(
            reported=rep,
            numerator=x,
            denominator=n,
            computed=computed,
            difference=diff,
            tolerance=float(tolerance),
            inconsistent=flag,
            note=_notes(
                len(data),
                (np.isnan(rep), f"{reported} is missing"),
                (np.isnan(x) | np.isnan(n), "a count is missing"),
                (n == 0, f"{denominator} is 0: no rate to compare"),
            ),
        )
    )
    return out


def count_consistency(
    data: pd.DataFrame,
    *,
    sums: Mapping[str, Sequence[str]] | None = None,
    at_most: Mapping[str, str] | None = None,
    unit: str = "unit",
    year: str | None = "year",
) -> pd.DataFrame:
    """Arithmetic between counts: parts adding up to totals, and counts not above others.

    Checks whose columns are absent from the table are skipped (so the defaults work on any
    panel); columns named explicitly must exist. Negative counts and numbers that are not
    whole are reported as failed checks here (this is a diagnostic, not a validator).

    Parameters
    ----------
    data : DataFrame
        One row per unit-year; not modified.
    sums : mapping total → parts, optional
        Default :data:`DEFAULT_SUMS`: ``births = male_births + female_births``.
    at_most : mapping count → bound, optional
        Default :data:`DEFAULT_AT_MOST`: policy, male and female births ≤ births; births and
        deaths ≤ population.
    unit, year : str
        Identifying columns copied to the result.

    Returns
    -------
    DataFrame in long form, one row per input row and check, with columns:

    - ``unit``, ``year``;
    - ``check``: the check in words (``"male_births + female_births = births"``,
      ``"policy_births <= births"``, ``"births >= 0 and whole"``);
    - ``left``, ``right``: the two sides (for the ``>= 0`` check: the value and 0);
    - ``difference``: left − right;
    - ``ok``: True/False, NA when a value is missing;
    - ``note``: what is wrong or why it was not checked ("" otherwise).
    """
    what = "count_consistency"
    explicit = sums is not None or at_most is not None
    sums = dict(DEFAULT_SUMS if sums is None else sums)
    at_most = dict(DEFAULT_AT_MOST if at_most is None else at_most)
    if explicit:
        named = [c for t, parts in sums.items() for c in (t, *parts)] + [
            c for kv in at_most.items() for c in kv
        ]
        _require_columns(data, named, what)
    sums = {t: tuple(p) for t, p in sums.items() if t in data.columns and all(c in data.columns for c in p)}
    at_most = {a: b for a, b in at_most.items() if a in data.columns and b in data.columns}
    cols = sorted({c for t, p in sums.items() for c in (t, *p)} | {c for kv in at_most.items() for c in kv})
    values = {c: pd.to_numeric(data[c], errors="coerce").astype("float64").to_numpy() for c in cols}
    keys = data[_keys(data, unit, year)].reset_index(drop=True)
    pieces = []

    def piece(check, left, right, ok, note):
        missing = ~(np.isfinite(left) & np.isfinite(right))
        flag = pd.array(np.where(missing, False, ok), dtype="boolean")
        flag[missing] = pd.NA
        pieces.append(
            keys.assign(
                check=check,
                left=left,
                right=right,
                difference=left - right,
                ok=flag,
                note=_notes(len(keys), (missing, "a value is missing"), (~missing & ~ok, note)),
            )
        )

    for c in cols:
        v = values[c]
        with np.errstate(invalid="ignore"):
            ok = (v >= 0) & (v == np.round(v))
        piece(f"{c} >= 0 and whole", v, np.zeros_like(v), ok, f"{c} is negative or not a whole number")
    for total, parts in sums.items():
        s = np.sum([values[p] for p in parts], axis=0)
        with np.errstate(invalid="ignore"):
            ok = np.isclose(s, values[total], rtol=0, atol=1e-9)
        piece(f"{' + '.join(parts)} = {total}", s, values[total], ok, f"the parts do not add up to {total}")
    for a, b in at_most.items():
        with np.errstate(invalid="ignore"):
            ok = values[a] <= values[b]
        piece(f"{a} <= {b}", values[a], values[b], ok, f"{a} exceeds {b}")
    if not pieces:
        return keys.iloc[:0].assign(
            check=pd.Series(dtype=object),
            left=np.nan,
            right=np.nan,
            difference=np.nan,
            ok=pd.array([], dtype="boolean"),
            note=pd.Series(dtype=object),
        )
    return pd.concat(pieces, ignore_index=True)


# --------------------------------------------------------------------------------------------
# terminal-digit heaping
# --------------------------------------------------------------------------------------------
def digit_heaping(
    data: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    min_value: int = 10,
    min_n: int = 50,
    exclude: Sequence[str] = ("year",),
) -> pd.DataFrame:
    """Terminal-digit preference in counts: last digits against a uniform distribution.

    For each column, the last digits (0–9) of the whole-number values ≥ ``min_value`` are
    counted and compared with uniform by Pearson's χ² goodness of fit
    (``scipy.stats.chisquare``, 9 degrees of freedom). Small values are left out because their
    last digit is not uniform even in honest data (``min_value``); with fewer than ``min_n``
    values (default 50: at least 5 expected per digit) the test is not made.

    Parameters
    ----------
    data : DataFrame
        The panel; not modified.
    columns : sequence of str, optional
        Count columns to test. Default: every numeric column whose values are all whole
        numbers and reach ``min_value`` somewhere, except those in ``exclude``.
    min_value : int
        Values below this are not used (default 10).
    min_n : int
        Fewest values for a test (default 50).
    exclude : sequence of str
        Columns never tested by default (``year``).

    Returns
    -------
    DataFrame, one row per column, with columns:

    - ``column``; ``n``: values used; ``n_excluded``: values missing or below ``min_value``;
    - ``d0`` … ``d9``: how many values end in each digit;
    - ``chi2``, ``df`` (9), ``p_value``: the goodness-of-fit test (NaN when ``n < min_n``);
    - ``share_0_5``: the share ending in 0 or 5 (0.2 expected without heaping);
    - ``most_common``: the most frequent last digit;
    - ``note``: why the test was not made ("" otherwise).

    The p-values are per column; when screening many columns, adjust them for multiplicity.
    """
    what = "digit_heaping"
    if columns is None:
        columns = []
        for c in data.columns:
            if c in exclude or data[c].dtype == bool or not pd.api.types.is_numeric_dtype(data[c]):
                continue
            v = pd.to_numeric(data[c], errors="coerce").astype("float64").dropna()
            if len(v) and np.all(v == np.round(v)) and (v.abs() >= min_value).any():
                columns.append(c)
    else:
        columns = list(columns)
        _require_columns(data, columns, what)
    problems: list[Problem] = []
    rows = []
    for c in columns:  # one test per column: a handful of columns, each vectorised
        v = _numbers(data, c, what, problems, whole=True)
        use = np.isfinite(v) & (np.abs(v) >= min_value)
        digits = (np.abs(v[use]) % 10).astype(int)
        counts = np.bincount(digits, minlength=10)
        n = int(use.sum())
        row = {"column": c, "n": n, "n_excluded": int(len(v) - n)}
        row.update({f"d{d}": int(counts[d]) for d in range(10)})
        if n >= min_n:
            chi2, p = stats.chisquare(counts)
            row.update(chi2=float(chi2), df=9, p_value=float(p), note="")
        else:
            row.update(
                chi2=np.nan,
                df=9,
                p_value=np.nan,
                note=f"only {n} values ≥ {min_value}: fewer than {min_n}, no test",
            )
        row["share_0_5"] = (counts[0] + counts[5]) / n if n else np.nan
        row["most_common"] = int(np.argmax(counts)) if n else pd.NA
        rows.append(row)
    if problems:
        raise DataError(f"{what}: these columns are not counts", problems)
    order = [
        "column",
        "n",
        "n_excluded",
        *[f"d{d}" for d in range(10)],
        "chi2",
        "df",
        "p_value",
        "share_0_5",
        "most_common",
        "note",
    ]
    return pd.DataFrame(rows, columns=order)
