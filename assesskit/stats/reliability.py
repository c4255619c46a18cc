"""Cronbach's α of a units × items matrix, with listwise or pairwise handling of gaps.

Written here because neither scipy nor statsmodels provides it (pingouin does, listwise
only, and is not a dependency).

- ``use="listwise"`` (assesskit's default for point schemes): rows with a missing value are
  dropped, then ``α = k/(k−1) · (1 − Σ var(itemᵢ) / var(Σ items))``;
- ``use="pairwise"`` (COINr's ``get_cronbach`` default): every covariance from the rows
  where both items are present, as R's ``cov(x, use = "pairwise.complete.obs")``, then
  ``α = k/(k−1) · (1 − Σ σᵢᵢ / Σᵢⱼ σᵢⱼ)``. With no gaps both are the same number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataError

__all__ = ["TOL", "USES", "cronbach_alpha"]

TOL = 1e-9
"""Item ranges (and sums) within this, relative to their size, count as constant."""
#: The ways of handling missing cells.
USES: tuple[str, ...] = ("listwise", "pairwise")


def _varying_items(x: np.ndarray) -> int:
    """How many columns vary (over their non-missing values)."""
    df = pd.DataFrame(x)  # NaN-skipping column extremes (an all-missing column gives NaN, no warning)
    rng = (df.max() - df.min()).to_numpy()
    scale = np.maximum(1.0, df.abs().max().to_numpy())
    return int((rng > TOL * scale).sum())


def _matrix(points: pd.DataFrame | np.ndarray) -> np.ndarray:
    """The points as a float matrix; DataError naming the column or cell that is not a
    number (text, ±inf: NaN is the only way to say "missing")."""
    frame = points if isinstance(points, pd.DataFrame) else None
    try:
        x = np.asarray(points, dtype=float)
    except (TypeError, ValueError):
        if frame is None:
            raise DataError("cronbach_alpha: points must be numbers (NaN for a missing cell)") from None
        bad = [
            str(c)
            for c in frame.columns
            if pd.to_numeric(frame[c], errors="coerce").isna().gt(frame[c].isna()).any()
        ]
        raise DataError(
            f"cronbach_alpha: column(s) {', '.join(bad)} hold values that are not numbers; "
            "pass the items' points only (NaN for a missing cell)"
        ) from None
    if x.ndim != 2:
        raise ValueError("points must be a 2-d units × items matrix")
    inf = np.argwhere(np.isinf(x))
    if len(inf):
        r, c = (int(i) for i in inf[0])
        row, col = (frame.index[r], frame.columns[c]) if frame is not None else (r, c)
        raise DataError(
            f"cronbach_alpha: {len(inf)} infinite value(s), the first in row {row}, column {col}; "
            "points must be finite (NaN for a missing cell)"
        )
    return x


def cronbach_alpha(points: pd.DataFrame | np.ndarray, *, use: str = "listwise") -> float:
    """Cronbach's α of a units × items matrix of points (or scores).

    Sample variances and covariances (ddof=1); the value is the same with population ones
    (the factor cancels).

    Parameters
    ----------
    points : DataFrame or 2-d array
        One row per unit, one column per item; NaN for a missing cell.
    use : {"listwise", "pairwise"}
        ``"listwise"`` (default): drop every row with a missing cell, then
        ``α = k/(k−1) · (1 − Σ var(itemᵢ) / var(Σ items))``. ``"pairwise"``: COINr's
        convention (``get_cronbach(…, use = "pairwise.complete.obs")``): each item's variance
        from its own values, each covariance from the rows where both items are present
        (``pandas.DataFrame.cov``, which pairs like R's ``cov``), and
        ``α = k/(k−1) · (1 − Σ σᵢᵢ / Σᵢⱼ σᵢⱼ)`` over the whole covariance matrix.

    Returns
    -------
    float
        NaN when there are fewer than 2 items, fewer than 2 units (listwise: complete ones),
        fewer than 2 items that vary (with one varying item α is 0 by construction, which
        says nothing), or when the sum of the items has no variance (the items offset each
        other exactly). Pairwise, also NaN when two items share fewer than 2 units, so that
        a covariance is undefined (COINr would leave it out of the sum; assesskit does not
        guess).
    """
    if use not in USES:
        raise ValueError(f"use must be 'listwise' or 'pairwise', got {use!r}")
    x = _matrix(points)
    if use == "listwise":
        x = x[~np.isnan(x).any(axis=1)]
    n, k = x.shape
    if k < 2 or n < 2 or _varying_items(x) < 2:
        return float("nan")
    if use == "pairwise":
        cov = pd.DataFrame(x).cov().to_numpy()
        if np.isnan(cov).any():
            return float("nan")  # two items with fewer than 2 units in common
        item_var, total_var = float(np.trace(cov)), float(cov.sum())
    else:
        total = x.sum(axis=1)
        if total.max() - total.min() <= TOL * max(1.0, float(np.abs(total).max())):
            return float("nan")  # the items offset each other exactly: the sum has no variance
        item_var, total_var = float(x.var(axis=0, ddof=1).sum()), float(total.var(ddof=1))
    if total_var <= TOL * max(1.0, item_var):
        return float("nan")  # the items offset each other exactly: the sum has no variance
    return float(k / (k - 1) * (1.0 - item_var / total_var))
