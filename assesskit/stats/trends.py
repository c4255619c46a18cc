"""Trends over years: Cochran–Armitage for counts, logistic regression on year, Mann–Kendall.

- :func:`cochran_armitage` — the test for a linear trend in proportions over years, per unit
  or on the counts summed over units; vectorised (group sums).
- :func:`logistic_trend` — a binomial GLM of the proportion on year per unit (one model per
  unit), and a pooled model with a common slope and one intercept per unit.
- :func:`mann_kendall` — the rank trend test for short series of rates, with the *exact* null
  distribution for n ≤ 10 (ties included) and the tie-corrected normal approximation beyond;
  Sen's slope alongside.
- :func:`mann_kendall_null` — that exact null distribution of S.

Errors for impossible input are :class:`~assesskit.exceptions.DataError`; series too short to
test give NaN with a ``note``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from ..exceptions import DataError, Problem
from .proportions import _counts, _notes, _require_columns

__all__ = ["cochran_armitage", "logistic_trend", "mann_kendall", "mann_kendall_null"]

Alternative = Literal["two-sided", "increasing", "decreasing"]
POOLED = "(pooled)"


def _check_alternative(alternative: str) -> str:
    if alternative not in ("two-sided", "increasing", "decreasing"):
        raise ValueError(
            f"alternative must be 'two-sided', 'increasing' or 'decreasing', not {alternative!r}"
        )
    return alternative


def _normal_p(z: np.ndarray, alternative: str) -> np.ndarray:
    if alternative == "increasing":
        return stats.norm.sf(z)
    if alternative == "decreasing":
        return stats.norm.cdf(z)
    return 2 * stats.norm.sf(np.abs(z))


def _direction(z: np.ndarray, p: np.ndarray, alpha: float) -> pd.arrays.StringArray:
    d = np.where(z > 0, "increasing", np.where(z < 0, "decreasing", "none")).astype(object)
    d[~(p < alpha)] = "none"
    d[~np.isfinite(p)] = None
    return pd.array(d, dtype="string")


def _no_duplicates(df: pd.DataFrame, cols: list[str], what: str) -> None:
    dup = df.duplicated(cols, keep=False).to_numpy()
    if dup.any():
        rows = df.index[dup][:20]
        raise DataError(
            f"{what}: duplicate {' × '.join(cols)} rows",
            [
                Problem(
                    f"row {i}", ", ".join(f"{c}={df.loc[i, c]!r}" for c in cols) + " appears more than once"
                )
                for i in rows
            ],
        )


def _years(df: pd.DataFrame, year: str, what: str) -> np.ndarray:
    y = pd.to_numeric(df[year], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(y)
    if bad.any():
        raise DataError(
            f"{what}: years must be numbers",
            [
                Problem(f"row {i}, column {year!r}", f"not a year: {df.loc[i, year]!r}")
                for i in df.index[bad][:20]
            ],
        )
    return y


# --------------------------------------------------------------------------------------------
# Cochran–Armitage
# --------------------------------------------------------------------------------------------
def cochran_armitage(
    df: pd.DataFrame,
    numerator: str,
    denominator: str,
    *,
    unit: str | None = "unit",
    year: str = "year",
    alternative: Alternative = "two-sided",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Cochran–Armitage test for a linear trend of a proportion over years.

    With year scores ``t`` (the years themselves, so unequal spacing counts), counts ``x_t`` out
    of ``n_t``, ``N = Σn``, and the pooled proportion ``p̄ = Σx/N``::

        T      = Σ t·(x_t − n_t·p̄)
        Var(T) = p̄(1 − p̄)·[Σ n_t·t² − (Σ n_t·t)² / N]
        z      = T / sqrt(Var(T)),   χ² = z²  (1 df)

    **Variance:** the standard one, computed under H0 from the *pooled* proportion p̄ (not the
    per-year proportions), with N rather than N − 1 — the statistic of R's
    ``prop.trend.test`` (which reports χ² = z²). It equals ``N/(N−1)`` times the
    linear-by-linear association statistic M² of
    ``statsmodels.stats.contingency_tables.Table.test_ordinal_association``.
    No continuity correction.

    Parameters
    ----------
    df : DataFrame
        One row per unit and year with the count columns. Not modified.
    numerator, denominator : str
        Count columns (e.g. ``"policy_births"``, ``"births"``).
    unit : str or None
        One test per unit; None sums the counts over all rows of each year and tests that
        single series (the "overall" trend — composition changes between units enter it; see
        :func:`logistic_trend` for a within-unit pooled slope).
    year : str
        The year column (the scores).
    alternative : {"two-sided", "increasing", "decreasing"}
    alpha : float
        Level for ``direction``.

    Returns
    -------
    DataFrame, one row per unit (sorted; a single row without a ``unit`` column when
    ``unit=None``), with columns: ``unit``; ``n_years`` (years with a positive denominator);
    ``first_year``, ``last_year``; ``successes``, ``trials`` (sums); ``pooled`` (p̄);
    ``statistic`` (T); ``variance`` (Var(T) under H0); ``z``; ``chi2`` (z²); ``p_value``
    (for ``alternative``); ``direction`` (``"increasing"`` / ``"decreasing"`` when p < alpha,
    else ``"none"``; ``<NA>`` when untested; string dtype); ``note`` ("" or why there is no test: fewer than two
    years, p̄ of 0 or 1; rows left out).
    """
    what = "cochran_armitage"
    alternative = _check_alternative(alternative)
    t = _ca_rows(df, numerator, denominator, unit, year, what)
    a = _ca_sums(t)
    sx, sn, sns, sns2, sxs = (a[c].to_numpy(dtype=float) for c in ("x", "n", "ns", "ns2", "xs"))
    with np.errstate(divide="ignore", invalid="ignore"):
        pbar = sx / sn
        T = sxs - pbar * sns
        var = pbar * (1 - pbar) * (sns2 - sns**2 / sn)
        ok = (a.k.to_numpy() >= 2) & (var > 0)
        z = np.where(ok, T / np.sqrt(var), np.nan)
    p = np.where(ok, _normal_p(np.nan_to_num(z), alternative), np.nan)
    k = a.k.to_numpy()
    dropped = a.dropped.to_numpy()
    note = _notes(
        len(a),
        (k < 2, "fewer than two years with a positive denominator: no trend to test"),
        ((k >= 2) & ((pbar <= 0) | (pbar >= 1)), "pooled proportion is 0 or 1: no variation to test"),
        (dropped > 0, np.char.add(dropped.astype(str), " row(s) without a positive denominator left out")),
    )
    out = pd.DataFrame({unit: a.index.to_numpy()}) if unit else pd.DataFrame(index=range(len(a)))
    return out.assign(
        n_years=k,
        first_year=a["first"].to_numpy(),
        last_year=a["last"].to_numpy(),
        successes=sx,
        trials=sn,
        pooled=pbar,
        statistic=np.where(ok, T, np.nan),
        variance=np.where(ok, var, np.nan),
        z=z,
        chi2=z**2,
        p_value=p,
        direction=_direction(z, p, alpha),
        note=note,
    )


def _ca_rows(
    df: pd.DataFrame, numerator: str, denominator: str, unit: str | None, year: str, what: str
) -> pd.DataFrame:
    """The checked counts by unit (``_u``; one pseudo-unit when ``unit`` is None) and year,
    rows without a positive denominator counted as ``dropped`` and their counts set to 0."""
    cols = [year] + ([unit] if unit else [])
    _require_columns(df, cols, what)
    x, n = _counts(df, numerator, denominator, what)
    y = _years(df, year, what)
    use = np.isfinite(x) & np.isfinite(n) & (n > 0)
    t = pd.DataFrame(
        {
            "_u": df[unit].to_numpy() if unit else np.zeros(len(df), dtype=int),
            "year": y,
            "x": np.where(use, x, 0.0),
            "n": np.where(use, n, 0.0),
            "used": use.astype(int),
            "dropped": (~use).astype(int),
        }
    )
    if unit:
        _no_duplicates(df, [unit, year], what)
    else:  # sum over units within each year
        t = t.groupby(["_u", "year"], as_index=False)[["x", "n", "used", "dropped"]].sum()
        t["used"] = (t["n"] > 0).astype(int)
    return t


def _ca_sums(t: pd.DataFrame) -> pd.DataFrame:
    """Per unit: Σx, Σn, Σn·s, Σn·s², Σx·s over year scores s, years used, rows dropped, first/last year."""
    # centre the scores on a constant (numerical stability; T and Var(T) do not change)
    s = t["year"] - t["year"].min()
    t = t.assign(
        ns=t.n * s,
        ns2=t.n * s * s,
        xs=t.x * s,
        first=np.where(t.n > 0, t.year, np.nan),
        last=np.where(t.n > 0, t.year, np.nan),
    )
    g = t.groupby("_u", sort=True)
    a = g.agg(
        x=("x", "sum"),
        n=("n", "sum"),
        ns=("ns", "sum"),
        ns2=("ns2", "sum"),
        xs=("xs", "sum"),
        k=("used", "sum"),
        dropped=("dropped", "sum"),
        first=("first", "min"),
        last=("last", "max"),
    )
    return a


# --------------------------------------------------------------------------------------------
# logistic regression on year
# --------------------------------------------------------------------------------------------
def logistic_trend(
    df: pd.DataFrame,
    numerator: str,
    denominator: str,
    *,
    unit: str = "unit",
    year: str = "year",
    pooled: bool = True,
    scale: Literal["binomial", "pearson"] = "binomial",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Logistic regression of a proportion on year: per unit, and pooled with a common slope.

    Per unit: ``logit P(success) = a + b·(year − mean year)``, a binomial GLM fitted to the
    grouped counts (``statsmodels`` ``GLM(successes/trials, family=Binomial(), var_weights=trials)``,
    the same likelihood as the two-column (successes, failures) form).
    The slope ``b`` is the change in log-odds per year; ``exp(b)`` the odds ratio per year.
    One model is fitted per unit — a loop over units, since each unit is its own model.

    Pooled (``pooled=True``): one model over all units with an intercept per unit and a common
    slope, ``logit P = a_unit + b·year`` — the average within-unit trend, unaffected by units
    of different levels entering or leaving. Units whose successes or failures are all zero
    carry no information on the slope and are left out of it (the note says how many).

    When a unit's data are separable (e.g. failures only in its first year and successes in
    every year), the maximum-likelihood slope is infinite: that row gets NaN and a note. This
    is detected before fitting, exactly: with one covariate the data are separable iff the
    years with failures all lie on or before (after) the years with successes.

    Parameters
    ----------
    df : DataFrame
        One row per unit and year with the count columns. Not modified.
    numerator, denominator : str
        Count columns.
    unit, year : str
        Identifying columns.
    pooled : bool
        Add the pooled row (``unit == "(pooled)"``).
    scale : {"binomial", "pearson"}
        ``"binomial"`` (default) takes the binomial variance at face value; ``"pearson"``
        estimates a dispersion factor (Pearson χ²/df, quasi-binomial standard errors) — use it
        when ``dispersion`` is well above 1, as it is for units with large counts.
    alpha : float
        1 − confidence level of the slope interval.

    Returns
    -------
    DataFrame, one row per unit (sorted), then the pooled row, with columns: ``unit``;
    ``n_years`` (years used); ``successes``, ``trials``; ``slope`` (log-odds per year), ``se``,
    ``slope_lower``, ``slope_upper``; ``odds_ratio`` (exp(slope)), ``or_lower``, ``or_upper``;
    ``z`` (slope/se), ``p_value`` (two-sided Wald); ``dispersion`` (Pearson χ²/residual df;
    NaN with no residual df); ``note`` ("" or why a slope is missing: fewer than two years, no
    variation, separation; units left out of the pooled model).
    """
    what = "logistic_trend"
    if scale not in ("binomial", "pearson"):
        raise ValueError(f"scale must be 'binomial' or 'pearson', not {scale!r}")
    _require_columns(df, [unit, year], what)
    x, n = _counts(df, numerator, denominator, what)
    y = _years(df, year, what)
    _no_duplicates(df, [unit, year], what)
    use = np.isfinite(x) & np.isfinite(n) & (n > 0)
    t = pd.DataFrame({"unit": df[unit].to_numpy()[use], "year": y[use], "x": x[use], "n": n[use]})
    t["fail"] = t.n - t.x
    t["c"] = t.year - t.year.mean() if len(t) else t.year
    s = _unit_facts(t, pd.Index(pd.unique(df[unit]), name="unit").sort_values())
    rows = _unit_slopes(t, s, scale)
    if pooled:
        rows = pd.concat([rows, _pooled_slope(t, s, scale)], ignore_index=True)
    return _with_wald(rows, alpha)


def _unit_facts(t: pd.DataFrame, all_units: pd.Index) -> pd.DataFrame:
    """Per-unit facts, vectorised: years used ``k``, totals, and the flags ``no_var``,
    ``separable`` and ``fit_ok``; one row per unit of ``all_units``."""
    g = t.groupby("unit", sort=True)
    s = g.agg(k=("year", "size"), x=("x", "sum"), n=("n", "sum"))
    s["fail"] = s.n - s.x
    ys = t.year.where(t.x > 0)
    yf = t.year.where(t.fail > 0)
    sep = (
        pd.DataFrame({"unit": t.unit, "ys": ys, "yf": yf})
        .groupby("unit", sort=True)
        .agg(smin=("ys", "min"), smax=("ys", "max"), fmin=("yf", "min"), fmax=("yf", "max"))
    )
    s = s.join(sep)
    s = s.reindex(all_units)
    s[["k", "x", "n", "fail"]] = s[["k", "x", "n", "fail"]].fillna(0)
    s["no_var"] = (s.x == 0) | (s.fail == 0)
    s["separable"] = ~s.no_var & ((s.fmax <= s.smin) | (s.smax <= s.fmin))
    s["fit_ok"] = (s.k >= 2) & ~s.no_var & ~s.separable
    return s


def _unit_slopes(t: pd.DataFrame, s: pd.DataFrame, scale: str) -> pd.DataFrame:
    """The per-unit rows: the slope, its standard error and the dispersion of each unit's GLM."""
    fitted: dict[object, tuple[float, float, float]] = {}
    # one GLM per unit: a model has to be fitted for each unit, so this loop is over units
    for u, d in t[t.unit.isin(s.index[s.fit_ok])].groupby("unit", sort=True):
        fitted[u] = _fit_binomial(d[["x", "fail"]].to_numpy(), sm.add_constant(d["c"].to_numpy()), scale)
    est = np.array([fitted.get(u, (np.nan, np.nan, np.nan)) for u in s.index], dtype=float).reshape(-1, 3)
    k = s.k.to_numpy()
    note = _notes(
        len(s),
        (k < 2, "fewer than two years with a positive denominator: no trend to estimate"),
        (
            (k >= 2) & s.no_var.to_numpy(dtype=bool),
            "no variation (all successes or all failures): the slope is not estimable",
        ),
        (
            (k >= 2) & s.separable.to_numpy(dtype=bool),
            "the years with failures and with successes do not overlap (separation): the slope is infinite",
        ),
    )
    return pd.DataFrame(
        {
            "unit": s.index.to_numpy(dtype=object),
            "n_years": k,
            "successes": s.x.to_numpy(),
            "trials": s.n.to_numpy(),
            "slope": est[:, 0],
            "se": est[:, 1],
            "dispersion": est[:, 2],
            "note": note,
        }
    )


def _pooled_slope(t: pd.DataFrame, s: pd.DataFrame, scale: str) -> pd.DataFrame:
    """The pooled row: a common slope with an intercept per unit, over the units with variation."""
    inform = s.index[(~s.no_var) & (s.k >= 1)]
    d = t[t.unit.isin(inform)]
    left_out = int(len(s) - len(inform))
    p_note = "" if not left_out else f"{left_out} unit(s) without variation (or data) left out"
    if d.year.nunique() >= 2 and len(d):
        dummies = pd.get_dummies(d.unit, dtype=float).to_numpy()
        X = np.column_stack([dummies, d.c.to_numpy()])
        slope, se, disp = _fit_binomial(d[["x", "fail"]].to_numpy(), X, scale)
    else:
        slope = se = disp = np.nan
        p_note = "; ".join(filter(None, [p_note, "fewer than two years: no trend to estimate"]))
    return pd.DataFrame(
        {
            "unit": [POOLED],
            "n_years": [d.year.nunique()],
            "successes": [d.x.sum()],
            "trials": [d.n.sum()],
            "slope": [slope],
            "se": [se],
            "dispersion": [disp],
            "note": [p_note],
        }
    )


def _with_wald(rows: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """The rows with the Wald interval, odds ratios, z and p, in the documented column order."""
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = rows.slope / rows.se
    lo = rows.slope - z * rows.se
    hi = rows.slope + z * rows.se
    return rows.assign(
        slope_lower=lo,
        slope_upper=hi,
        odds_ratio=np.exp(rows.slope),
        or_lower=np.exp(lo),
        or_upper=np.exp(hi),
        z=zval,
        p_value=2 * stats.norm.sf(np.abs(zval)),
    )[
        [
            "unit",
            "n_years",
            "successes",
            "trials",
            "slope",
            "se",
            "slope_lower",
            "slope_upper",
            "odds_ratio",
            "or_lower",
            "or_upper",
            "z",
            "p_value",
            "dispersion",
            "note",
        ]
    ]


def _fit_binomial(endog: np.ndarray, exog: np.ndarray, scale: str) -> tuple[float, float, float]:
    """(slope, se, dispersion) of a grouped binomial GLM whose last column is the year."""
    # proportions with the trials as var_weights: the same likelihood as the two-column
    # (successes, failures) endog, but statsmodels' Pearson scale (scale="X2") is only right in
    # this form (with the two-column endog it is computed on unweighted proportions)
    x, fail = endog[:, 0], endog[:, 1]
    n = x + fail
    model = sm.GLM(x / n, exog, family=sm.families.Binomial(), var_weights=n)
    res = model.fit(scale="X2" if scale == "pearson" else None)
    dfr = res.df_resid
    disp = float(res.pearson_chi2 / dfr) if dfr > 0 else np.nan
    return float(res.params[-1]), float(res.bse[-1]), disp


# --------------------------------------------------------------------------------------------
# Mann–Kendall
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def _inversion_counts(n: int, ties: tuple[int, ...]) -> tuple[int, ...]:
    """Number of distinct arrangements of a multiset with ``n`` items and tie sizes ``ties``,
    by their number of inversions (pairs i < j with x_i > x_j).

    The generating function is the q-multinomial coefficient ``[n]_q! / Π [t]_q!`` with
    ``[m]_q! = Π_{j=1..m} (1 + q + … + q^{j−1})``. Without ties this is Kendall's recurrence
    for the permutations of n with k inversions, ``I(n, k) = Σ_{j=0}^{min(k, n−1)} I(n−1, k−j)``.
    Exact integer arithmetic (Python ints).
    """
    poly = [1]
    for m in range(2, n + 1):  # multiply by 1 + q + … + q^(m−1): a running window sum
        new = [0] * (len(poly) + m - 1)
        run = 0
        for k in range(len(new)):
            run += poly[k] if k < len(poly) else 0
            run -= poly[k - m] if 0 <= k - m < len(poly) else 0
            new[k] = run
        poly = new
    for t in ties:
        for m in range(2, t + 1):  # exact division by 1 + q + … + q^(m−1)
            # new·(1 + … + q^(m−1)) = poly  ⇔  new[k] = poly[k] − poly[k−1] + new[k−m]
            size = len(poly) - (m - 1)
            new = [0] * size
            for k in range(size):
                new[k] = poly[k] - (poly[k - 1] if k >= 1 else 0) + (new[k - m] if k >= m else 0)
            poly = new
    return tuple(poly)


def mann_kendall_null(n: int, ties: Sequence[int] = ()) -> pd.DataFrame:
    """The exact null distribution of the Mann–Kendall statistic S for a series of length n.

    Under H0 (no trend; the values exchangeable) every distinct ordering of the observed
    values is equally likely. With ``P`` the number of untied pairs, ``S = P − 2·I`` where ``I``
    is the number of inversions, whose distribution is the q-multinomial coefficient (see
    ``_inversion_counts``); without ties this is the classic distribution of Kendall's S.

    Why hand-written: neither scipy nor statsmodels ships the Mann–Kendall null distribution.
    ``scipy.stats.kendalltau(method="exact")`` computes the untied case internally, for one
    series per call, and refuses ties; here the distribution is computed once per (n, tie
    pattern), cached, and shared by all units, and the tied case is exact too.

    Parameters
    ----------
    n : int
        Series length (practical up to about 30).
    ties : sequence of int
        Sizes of the groups of equal values (groups of 1 may be given or omitted).

    Returns
    -------
    DataFrame with columns ``S`` (ascending), ``count`` (orderings giving S) and ``probability``.
    """
    n = int(n)
    ties = tuple(sorted(int(t) for t in ties if int(t) > 1))
    if n < 1 or sum(ties) > n:
        raise ValueError(f"need n ≥ 1 and tie sizes summing to at most n (n={n}, ties={ties})")
    counts = np.array(_inversion_counts(n, ties), dtype=object)
    pairs = n * (n - 1) // 2 - sum(t * (t - 1) // 2 for t in ties)
    s = pairs - 2 * np.arange(len(counts))
    total = int(sum(counts))
    order = np.argsort(s)
    return pd.DataFrame(
        {
            "S": s[order].astype(int),
            "count": counts[order].astype(float),
            "probability": (counts[order] / total).astype(float),
        }
    )


def _exact_p(s_obs: int, n: int, ties: tuple[int, ...], alternative: str) -> float:
    null = mann_kendall_null(n, ties)
    S, prob = null.S.to_numpy(), null.probability.to_numpy()
    if alternative == "increasing":
        return float(prob[S >= s_obs].sum())
    if alternative == "decreasing":
        return float(prob[S <= s_obs].sum())
    return float(min(1.0, prob[np.abs(S) >= abs(s_obs)].sum()))


def mann_kendall(
    df: pd.DataFrame,
    value: str,
    *,
    unit: str | None = "unit",
    year: str = "year",
    alternative: Alternative = "two-sided",
    exact_max_n: int = 10,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Mann–Kendall trend test per unit, for short series of rates; with Sen's slope.

    ``S = Σ_{i<j} sign(x_j − x_i)`` over the series ordered by year. Its p-value is

    - **exact** for ``n ≤ exact_max_n`` (default 10): from the exact permutation distribution
      of S given the observed values (:func:`mann_kendall_null`; ties handled exactly);
    - **normal** otherwise: ``Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18`` (the tie
      correction sums over groups of t equal values) and the continuity-corrected
      ``z = (S − sign(S)) / sqrt(Var(S))``.

    Both p-values are reported whenever defined (``p_exact`` for n ≤ ``exact_max_n``);
    ``p_value`` is the one ``method`` names. For the official national SRB 2008–2014:
    S = −21, Var(S) = 44.333, z = −3.0038, normal p = 0.0026667, exact p = 2/7! = 0.00039683.

    Parameters
    ----------
    df : DataFrame
        One row per unit and year with the rate. Not modified. Missing values are dropped
        (and counted in ``note``).
    value : str
        The column tested (a rate, a ratio, a score).
    unit : str or None
        One test per unit; None: the whole table is one series.
    year : str
        Orders the series.
    alternative : {"two-sided", "increasing", "decreasing"}
    exact_max_n : int
        Largest n for which the exact distribution is used.
    alpha : float
        Level for ``direction``.

    Returns
    -------
    DataFrame, one row per unit (sorted), with columns: ``unit`` (absent when ``unit=None``);
    ``n`` (values used); ``first_year``, ``last_year``; ``S``; ``var_S`` (tie-corrected);
    ``tau`` (Kendall's τ-a, S / (n(n−1)/2)); ``z`` (continuity-corrected); ``p_normal``;
    ``p_exact`` (NaN when n > ``exact_max_n``); ``p_value``; ``method`` (``"exact"`` or
    ``"normal"``; ``<NA>`` untested); ``sen_slope`` (median of pairwise slopes, value units per year);
    ``direction`` (``"increasing"``/``"decreasing"`` when p < alpha, else ``"none"``; ``<NA>``
    untested; ``method`` and ``direction`` have the pandas string dtype); ``note`` ("" or why there is no test: fewer than two values, all values equal;
    ties; values dropped).
    """
    what = "mann_kendall"
    alternative = _check_alternative(alternative)
    t, u, dropped = _mk_series(df, value, unit, year, what)
    units = pd.Index(pd.unique(u)).sort_values()
    S, sen = _mk_pairs(t, units)
    g = t.groupby("u")
    nn = g.size().reindex(units, fill_value=0).to_numpy()
    first = g.year.min().reindex(units).to_numpy(dtype=float)
    last = g.year.max().reindex(units).to_numpy(dtype=float)
    tie_term, tie_pairs, ties_of = _mk_ties(t, units)

    var = (nn * (nn - 1) * (2 * nn + 5) - tie_term) / 18.0
    ok = (nn >= 2) & (var > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(ok, (S - np.sign(S)) / np.sqrt(var), np.nan)
        tau = np.where(nn >= 2, S / (nn * (nn - 1) / 2.0), np.nan)
    p_norm = np.where(ok, _normal_p(np.nan_to_num(z), alternative), np.nan)
    use_exact = ok & (nn <= exact_max_n)
    # exact p: one (cached) distribution per (n, tie pattern); this loops over units only for the lookup
    p_exact = np.array(
        [
            _exact_p(int(S[i]), int(nn[i]), ties_of[i], alternative) if use_exact[i] else np.nan
            for i in range(len(units))
        ],
        dtype=float,
    )
    p = np.where(use_exact, p_exact, p_norm)
    method = np.where(use_exact, "exact", np.where(ok, "normal", None)).astype(object)
    drop = dropped.reindex(units, fill_value=0).to_numpy().astype(int)
    note = _notes(
        len(units),
        (nn < 2, "fewer than two values: no trend to test"),
        ((nn >= 2) & ~(var > 0), "all values equal: no trend to test"),
        (ok & (tie_pairs > 0), np.char.add(tie_pairs.astype(str), " tied pair(s)")),
        (drop > 0, np.char.add(drop.astype(str), " missing value(s) dropped")),
    )
    out = pd.DataFrame({unit: units.to_numpy()}) if unit else pd.DataFrame(index=range(len(units)))
    return out.assign(
        n=nn,
        first_year=first,
        last_year=last,
        S=S,
        var_S=np.where(nn >= 2, var, np.nan),
        tau=tau,
        z=z,
        p_normal=p_norm,
        p_exact=p_exact,
        p_value=p,
        method=pd.array(method, dtype="string"),
        sen_slope=sen,
        direction=_direction(np.where(ok, np.sign(S), np.nan), p, alpha),
        note=note,
    )


def _mk_series(
    df: pd.DataFrame, value: str, unit: str | None, year: str, what: str
) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """The checked series, sorted by unit ``u`` and year with position ``i``; the unit of every
    row of ``df``; the missing values dropped per unit."""
    _require_columns(df, [year, value] + ([unit] if unit else []), what)
    y = _years(df, year, what)
    v = pd.to_numeric(df[value], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(v) & df[value].notna().to_numpy()
    if bad.any():
        raise DataError(
            f"{what}: {value!r} must be numeric",
            [
                Problem(f"row {i}, column {value!r}", f"not a number: {df.loc[i, value]!r}")
                for i in df.index[bad][:20]
            ],
        )
    _no_duplicates(df, [unit, year] if unit else [year], what)
    u = df[unit].to_numpy() if unit else np.zeros(len(df), dtype=int)
    keep = np.isfinite(v)
    dropped = pd.Series(~keep).groupby(u).sum()
    t = (
        pd.DataFrame({"u": u[keep], "year": y[keep], "v": v[keep]})
        .sort_values(["u", "year"], kind="stable")
        .reset_index(drop=True)
    )
    t["i"] = t.groupby("u").cumcount()
    return t, u, dropped


def _mk_pairs(t: pd.DataFrame, units: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: S (the sum of the signs of all later-minus-earlier differences) and Sen's slope."""
    # all pairs i < j within each unit (vectorised self-join; series are short)
    pr = t.merge(t, on="u", suffixes=("_a", "_b"))
    pr = pr[pr.i_a < pr.i_b]
    pr = pr.assign(sgn=np.sign(pr.v_b - pr.v_a), slope=(pr.v_b - pr.v_a) / (pr.year_b - pr.year_a))
    S = pr.groupby("u")["sgn"].sum().reindex(units, fill_value=0).to_numpy().astype(int)
    sen = pr.groupby("u")["slope"].median().reindex(units).to_numpy(dtype=float)
    return S, sen


def _mk_ties(t: pd.DataFrame, units: pd.Index) -> tuple[np.ndarray, np.ndarray, list[tuple[int, ...]]]:
    """Per unit: the tie term of Var(S), the number of tied pairs, and the tie sizes (sorted)."""
    # tie groups: sizes of groups of equal values within each unit
    tg = t.groupby(["u", "v"]).size().rename("t").reset_index()
    tg = tg[tg.t > 1]
    tie_term = (
        (tg.t * (tg.t - 1) * (2 * tg.t + 5)).groupby(tg.u).sum().reindex(units, fill_value=0).to_numpy()
    )
    tie_pairs = (tg.t * (tg.t - 1) // 2).groupby(tg.u).sum().reindex(units, fill_value=0).to_numpy()
    ties_of = tg.groupby("u")["t"].agg(lambda s: tuple(sorted(s))).reindex(units)
    ties_of = [tp if isinstance(tp, tuple) else () for tp in ties_of]
    return tie_term, tie_pairs, ties_of
