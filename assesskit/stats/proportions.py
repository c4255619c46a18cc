"""Sex ratio at birth and other proportions: intervals, exact tests, multiplicity, change, heterogeneity.

Everything here is a pure function of count columns, vectorised over units and years:

- :func:`binomial_interval` — the array-level interval (Wilson, Clopper–Pearson, logit/Katz);
- :func:`sex_ratio` — SRB = 100·M/F per row with its interval, the exact one-sided binomial
  test against the upper normal bound (107) and Holm / Benjamini–Hochberg flags;
- :func:`compare_with_national` — each unit-year against the official national SRB of that year;
- :func:`proportion_ci` — any numerator / denominator (policy compliance, entry rates …);
- :func:`proportion_change` — year-over-year change per unit with Newcombe's hybrid score interval;
- :func:`heterogeneity` — Pearson χ² on the k×2 table of units, its df, p and dispersion φ = χ²/df;
- :func:`adjust_pvalues` — Holm / BH (``statsmodels.stats.multitest.multipletests``) within
  families, ignoring missing p-values.

Impossible input (negative or fractional counts, numerator above denominator, missing
columns) raises :class:`~assesskit.exceptions.DataError` listing every problem. Rows that
cannot be estimated (zero births, a missing count) get NaN and a ``note`` saying why.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from ..exceptions import DataError, Problem

__all__ = [
    "FEW_BIRTHS",
    "NORMAL_SRB",
    "adjust_pvalues",
    "binomial_interval",
    "compare_with_national",
    "heterogeneity",
    "national_srb",
    "proportion_change",
    "proportion_ci",
    "sex_ratio",
    "share_from_srb",
    "srb_from_share",
]

#: The biologically normal range of the sex ratio at birth (boys per 100 girls).
NORMAL_SRB: tuple[float, float] = (103.0, 107.0)
#: Below this many births (or trials) a row's interval is flagged as very wide in ``note``.
FEW_BIRTHS = 50

# method name accepted -> canonical name
_METHODS = {
    "wilson": "wilson",
    "exact": "exact",
    "clopper-pearson": "exact",
    "beta": "exact",
    "logit": "logit",
    "katz": "logit",
}


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------
def srb_from_share(p: np.ndarray | float) -> np.ndarray | float:
    """Sex ratio at birth (boys per 100 girls) from the male share p: ``100·p/(1−p)``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * np.asarray(p, dtype=float) / (1.0 - np.asarray(p, dtype=float))


def share_from_srb(srb: np.ndarray | float) -> np.ndarray | float:
    """Male share p from a sex ratio at birth: ``srb/(100+srb)`` (103–107 ↔ 0.50739–0.51691)."""
    s = np.asarray(srb, dtype=float)
    return s / (100.0 + s)


def _canonical_method(method: str) -> str:
    try:
        return _METHODS[method.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"unknown interval method {method!r}; use one of {', '.join(_METHODS)}") from None


def _notes(n: int, *conds: tuple[np.ndarray, object]) -> np.ndarray:
    """Join messages row-wise: each (mask, message) adds ``message`` (a str or a per-row array)."""
    out = np.full(n, "", dtype=object)
    for mask, msg in conds:
        m = np.asarray(mask, dtype=bool)
        if not m.any():
            continue
        text = np.broadcast_to(np.asarray(msg, dtype=object), (n,))[m]
        cur = out[m]
        out[m] = np.where(cur == "", text, cur + "; " + text)
    return out


def _require_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"{what}: missing column(s) {', '.join(map(repr, missing))}",
            [Problem(f"column {c!r}", "required but absent from the table") for c in missing],
        )


def _count_column(df: pd.DataFrame, col: str, what: str, problems: list[Problem]) -> np.ndarray:
    """A count column as float (NaN where missing), recording non-numbers, negatives and fractions."""
    raw = df[col]
    values = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy(copy=True)
    bad = np.isnan(values) & raw.notna().to_numpy()
    with np.errstate(invalid="ignore"):
        neg = values < 0
        frac = np.isfinite(values) & (values != np.round(values))
    for mask, msg in (
        (bad, "not a number: {raw!r}"),
        (neg, "negative count {v:g}"),
        (frac, "a count must be a whole number, got {v:g}"),
    ):
        for i in np.flatnonzero(mask)[:20]:
            problems.append(
                Problem(
                    f"{what}, row {df.index[i]}, column {col!r}", msg.format(raw=raw.iloc[i], v=values[i])
                )
            )
    values[bad] = np.nan
    return values


def _counts(df: pd.DataFrame, numerator: str, denominator: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Validated (numerator, denominator) float arrays, NaN where a count is missing; a
    :class:`DataError` lists non-numbers, negatives, fractions and numerators above denominators."""
    problems: list[Problem] = []
    _require_columns(df, [numerator, denominator], what)
    x = _count_column(df, numerator, what, problems)
    n = _count_column(df, denominator, what, problems)
    with np.errstate(invalid="ignore"):
        over = x > n
    for i in np.flatnonzero(over)[:20]:
        problems.append(
            Problem(f"{what}, row {df.index[i]}", f"{numerator} = {x[i]:g} exceeds {denominator} = {n[i]:g}")
        )
    if problems:
        raise DataError(f"{what}: impossible counts", problems)
    return x, n


def _sex_counts(df: pd.DataFrame, male: str, female: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    problems: list[Problem] = []
    _require_columns(df, [male, female], what)
    m = _count_column(df, male, what, problems)
    f = _count_column(df, female, what, problems)
    if problems:
        raise DataError(f"{what}: impossible counts", problems)
    return m, f


def _keys(df: pd.DataFrame, keys: Sequence[str] | str | None, what: str) -> list[str]:
    keys = [keys] if isinstance(keys, str) else list(keys or ())
    _require_columns(df, keys, what)
    return keys


# --------------------------------------------------------------------------------------------
# intervals
# --------------------------------------------------------------------------------------------
def binomial_interval(
    successes: np.ndarray | Sequence[float] | float,
    trials: np.ndarray | Sequence[float] | float,
    *,
    method: str = "wilson",
    alpha: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided ``1 − alpha`` confidence limits for binomial proportions, element-wise.

    Parameters
    ----------
    successes, trials : array-like
        Counts (already validated); rows with ``trials == 0`` or a missing count give NaN.
    method : {"wilson", "exact", "logit"}
        ``wilson`` (score interval, the default) and ``exact`` (Clopper–Pearson; aliases
        ``clopper-pearson``, ``beta``) come from ``statsmodels.stats.proportion.proportion_confint``.
        ``logit`` (alias ``katz``) is ``expit(logit(p̂) ± z·sqrt(1/x + 1/(n−x)))`` — the interval of
        R ``binom.confint(method="logit")``, and on the male share it is exactly the Katz
        log-ratio interval of the sex ratio. statsmodels does not offer it, so it is written here;
        it is undefined (NaN) when ``x = 0`` or ``x = n``.
    alpha : float
        1 − confidence level.

    Returns
    -------
    (lower, upper) : tuple of float arrays
    """
    method = _canonical_method(method)
    x = np.atleast_1d(np.asarray(successes, dtype=float))
    n = np.atleast_1d(np.asarray(trials, dtype=float))
    x, n = np.broadcast_arrays(x, n)
    ok = np.isfinite(x) & np.isfinite(n) & (n > 0)
    lower = np.full(x.shape, np.nan)
    upper = np.full(x.shape, np.nan)
    if not ok.any():
        return lower, upper
    xo, no = x[ok], n[ok]
    if method == "wilson":
        lo, up = proportion_confint(xo, no, alpha=alpha, method="wilson")
    elif method == "exact":
        lo, up = proportion_confint(xo, no, alpha=alpha, method="beta")
    else:  # logit / Katz: hand-written (not in statsmodels), see docstring
        z = stats.norm.ppf(1 - alpha / 2)
        inner = (xo > 0) & (xo < no)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            centre = np.log(xo / (no - xo))
            half = z * np.sqrt(1.0 / xo + 1.0 / (no - xo))
            lo = np.where(inner, 1.0 / (1.0 + np.exp(-(centre - half))), np.nan)
            up = np.where(inner, 1.0 / (1.0 + np.exp(-(centre + half))), np.nan)
    if method != "logit":
        # at x = 0 (x = n) the lower (upper) limit is exactly 0 (1); remove round-off like 2.8e-17
        lo = np.where(xo == 0, 0.0, lo)
        up = np.where(xo == no, 1.0, up)
    lower[ok] = np.clip(lo, 0.0, 1.0)
    upper[ok] = np.clip(up, 0.0, 1.0)
    return lower, upper


# --------------------------------------------------------------------------------------------
# multiplicity
# --------------------------------------------------------------------------------------------
def adjust_pvalues(
    pvalues: np.ndarray | Sequence[float] | pd.Series,
    *,
    method: str = "holm",
    groups: np.ndarray | Sequence | pd.Series | None = None,
) -> np.ndarray:
    """P-values adjusted for multiplicity within each family, missing values left out.

    Parameters
    ----------
    pvalues : array-like
        Raw p-values; NaN entries are not tests and stay NaN.
    method : str
        Any ``statsmodels.stats.multitest.multipletests`` method: ``"holm"`` (family-wise error,
        for statements about individual units), ``"fdr_bh"`` (Benjamini–Hochberg false
        discovery rate, for screening); ``"bh"`` is accepted for ``"fdr_bh"``.
    groups : array-like, optional
        Family labels (e.g. the year): adjustment happens within each family. None = one family.

    Returns
    -------
    numpy.ndarray of adjusted p-values, aligned with the input.
    """
    method = "fdr_bh" if method.lower() in ("bh", "fdr_bh", "benjamini-hochberg") else method
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    g = (
        np.zeros(p.shape, dtype=int)
        if groups is None
        else pd.factorize(np.asarray(groups), use_na_sentinel=False)[0]
    )
    valid = np.isfinite(p)
    # multipletests adjusts one family at a time; the loop runs over families (e.g. years), not units
    for fam in np.unique(g[valid]):
        m = valid & (g == fam)
        out[m] = multipletests(p[m], method=method)[1]
    return out


# --------------------------------------------------------------------------------------------
# sex ratio at birth
# --------------------------------------------------------------------------------------------
def sex_ratio(
    df: pd.DataFrame,
    *,
    male: str = "male_births",
    female: str = "female_births",
    keys: Sequence[str] | str | None = ("unit", "year"),
    method: str = "wilson",
    alpha: float = 0.05,
    bound: float = NORMAL_SRB[1],
    family: str | Sequence[str] | None = "auto",
) -> pd.DataFrame:
    """Sex ratio at birth per row, its interval, and the exact test against the upper normal bound.

    The interval is computed on the male share ``p = M/(M+F)`` and mapped through
    ``SRB = 100·p/(1−p)`` (monotone, so the limits map to limits). The test is the exact
    one-sided binomial test of ``H0: p ≤ bound/(100+bound)`` (SRB ≤ 107) against
    ``p > bound/(100+bound)``: ``P(X ≥ M)`` for ``X ~ Bin(M+F, 107/207)`` (``scipy.stats.binom.sf``,
    identical to ``scipy.stats.binomtest(M, M+F, 107/207, alternative="greater")``). The p-values
    are then adjusted within each family (by default each year: the units compared that year)
    by Holm (for statements about individual units) and Benjamini–Hochberg (for screening).

    Parameters
    ----------
    df : DataFrame
        One row per unit-year (or any rows) with male and female birth counts. Not modified.
    male, female : str
        Count columns.
    keys : sequence of str
        Identifying columns copied to the result (must exist); ``()`` for none.
    method : {"wilson", "exact", "katz"}
        Interval on the male share: Wilson score (default), Clopper–Pearson (``"exact"``,
        alias ``"clopper-pearson"``), or the Katz log-ratio ``100·exp(log(M/F) ± z·sqrt(1/M+1/F))``
        (``"katz"``, alias ``"logit"``), which is the logit interval on p.
    alpha : float
        1 − confidence level of the interval, and the level of the ``above_*`` flags.
    bound : float
        The SRB tested against (default 107, the upper end of the normal range 103–107).
    family : str, sequence of str, None or "auto"
        Column(s) defining the families for the multiplicity adjustment. ``"auto"`` (default):
        ``"year"`` if the table has it, else all rows form one family. None: one family.

    Returns
    -------
    DataFrame, one row per input row, in input order, with columns:

    - the ``keys`` columns;
    - ``male_births``, ``female_births``, ``births`` (float; ``births = male + female``);
    - ``male_share``, ``male_share_lower``, ``male_share_upper`` — p̂ = M/(M+F) and its interval;
    - ``srb``, ``srb_lower``, ``srb_upper`` — 100·M/F and its interval (``srb_upper`` is
      ``inf`` when the upper share limit is 1, e.g. with no girls);
    - ``method`` — the canonical interval method (``wilson``, ``exact`` or ``logit``);
    - ``p_above`` — one-sided exact p-value for H0: SRB ≤ ``bound``;
    - ``p_holm``, ``p_bh`` — ``p_above`` adjusted by Holm / Benjamini–Hochberg within the family;
    - ``above_holm``, ``above_bh`` — nullable booleans: adjusted p < ``alpha`` (``<NA>`` untested);
    - ``note`` — "" or why a value is missing or fragile (no births, no girls, few births …).

    ``attrs`` records ``bound``, ``alpha``, ``method`` and ``family``.

    Examples
    --------
    >>> t = sex_ratio(pd.DataFrame({"unit": ["a"], "year": [2016], "male_births": [346],
    ...                             "female_births": [254]}))
    >>> round(float(t.srb.iloc[0]), 2), bool(t.above_holm.iloc[0])
    (136.22, True)
    """
    what = "sex_ratio"
    keys = _keys(df, keys, what)
    m, f = _sex_counts(df, male, female, what)
    canon = _canonical_method(method)
    n = m + f
    valid = np.isfinite(n) & (n > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(valid, m / n, np.nan)
    lo, up = binomial_interval(m, n, method=canon, alpha=alpha)
    srb = np.where(valid & (f > 0), srb_from_share(share), np.nan)
    p0 = bound / (100.0 + bound)
    p_above = np.full(len(df), np.nan)
    # P(X >= m) = sf(m - 1): the exact one-sided binomial test, vectorised
    p_above[valid] = stats.binom.sf(m[valid] - 1, n[valid], p0)

    fam_cols, groups = _family_groups(df, family, what)
    p_holm = adjust_pvalues(p_above, method="holm", groups=groups)
    p_bh = adjust_pvalues(p_above, method="fdr_bh", groups=groups)

    note = _srb_notes(m, f, n, valid, canon)

    out = df[keys].copy() if keys else pd.DataFrame(index=df.index)
    out = out.assign(
        male_births=m,
        female_births=f,
        births=n,
        male_share=share,
        male_share_lower=lo,
        male_share_upper=up,
        srb=srb,
        srb_lower=srb_from_share(lo),
        srb_upper=srb_from_share(up),
        method=canon,
        p_above=p_above,
        p_holm=p_holm,
        p_bh=p_bh,
        above_holm=pd.array(np.where(np.isfinite(p_holm), p_holm < alpha, False), dtype="boolean"),
        above_bh=pd.array(np.where(np.isfinite(p_bh), p_bh < alpha, False), dtype="boolean"),
        note=note,
    )
    untested = ~np.isfinite(p_above)
    out.loc[untested, ["above_holm", "above_bh"]] = pd.NA
    out = out.reset_index(drop=True)
    out.attrs.update(bound=bound, alpha=alpha, method=canon, family=fam_cols or None)
    return out


def _family_groups(
    df: pd.DataFrame, family: str | Sequence[str] | None, what: str
) -> tuple[list[str], np.ndarray | None]:
    """The columns that define a family of tests ("auto": the year, if any) and each row's family."""
    if family == "auto":
        fam_cols = ["year"] if "year" in df.columns else []
    elif family is None:
        fam_cols = []
    else:
        fam_cols = [family] if isinstance(family, str) else list(family)
        _require_columns(df, fam_cols, what)
    groups = df.groupby(fam_cols, sort=False, dropna=False).ngroup().to_numpy() if fam_cols else None
    return fam_cols, groups


def _srb_notes(m: np.ndarray, f: np.ndarray, n: np.ndarray, valid: np.ndarray, canon: str) -> np.ndarray:
    """Why a row's sex ratio, interval or test is missing or weak ("" when nothing to say)."""
    missing = ~(np.isfinite(m) & np.isfinite(f))
    few = valid & (n < FEW_BIRTHS)
    return _notes(
        len(m),
        (missing, "missing male or female count"),
        (~missing & (n == 0), "no births: nothing to estimate"),
        (valid & (f == 0), "no female births: SRB is infinite, only the lower limit is informative"),
        (valid & (m == 0), "no male births: SRB is 0"),
        (
            valid & (canon == "logit") & ((m == 0) | (f == 0)),
            "the Katz (logit) interval is undefined with zero boys or girls; use method='wilson' or 'exact'",
        ),
        (
            few,
            np.char.add(
                np.char.add("only ", np.nan_to_num(n).astype(int).astype(str)),
                " births: the interval is very wide",
            ),
        ),
    )


def national_srb(national: pd.DataFrame | None = None) -> pd.DataFrame:
    """The national SRB series as ``year`` (int) and ``national_srb`` (float), one row per year.

    Default: ``assesskit.datasets.load("china_srb_official")`` (its ``period`` column holds the
    year). A custom frame needs ``srb`` and either ``year`` or a single-year ``period``.
    """
    if national is None:
        from ..datasets import load

        national = load("china_srb_official")
    _require_columns(national, ["srb"], "national series")
    if "year" in national.columns:
        year = pd.to_numeric(national["year"], errors="coerce")
    else:
        _require_columns(national, ["period"], "national series")
        year = pd.to_numeric(national["period"], errors="coerce")  # ranges like 2012-2015 drop out
    out = (
        pd.DataFrame({"year": year, "national_srb": pd.to_numeric(national["srb"], errors="coerce")})
        .dropna()
        .astype({"year": int})
        .drop_duplicates("year", keep="first")
        .sort_values("year")
        .reset_index(drop=True)
    )
    return out


def compare_with_national(
    table: pd.DataFrame,
    national: pd.DataFrame | None = None,
    *,
    year: str = "year",
    interpolate: bool = False,
) -> pd.DataFrame:
    """Join each unit-year's SRB interval with the national figure of that year.

    Parameters
    ----------
    table : DataFrame
        A :func:`sex_ratio` result (needs ``year``, ``srb_lower``, ``srb_upper``). Not modified.
    national : DataFrame, optional
        The national series (see :func:`national_srb`); default the shipped official series
        ``china_srb_official`` (annual figures 2008–2015, then 2017, 2019, 2021).
    year : str
        The year column of ``table``.
    interpolate : bool
        Years without a national figure (e.g. 2016) get a linear interpolation between the
        neighbouring published years when True (and the note says so); NaN otherwise.

    Returns
    -------
    A copy of ``table`` with added columns

    - ``national_srb`` — the national SRB of that year (NaN when none is available);
    - ``vs_national`` — ``"above"`` (the unit's lower limit exceeds it), ``"below"`` (upper limit
      under it), ``"covers"`` (the interval contains it), or ``<NA>`` when either side is missing;

    and ``note`` extended with the reason for a missing or interpolated national figure.
    """
    _require_columns(table, [year, "srb_lower", "srb_upper"], "compare_with_national")
    nat = national_srb(national)
    years = pd.to_numeric(table[year], errors="coerce").to_numpy(dtype=float)
    exact = pd.Series(nat.national_srb.to_numpy(), index=nat.year.to_numpy())
    value = exact.reindex(years).to_numpy(dtype=float, copy=True)
    inside = (years >= nat.year.min()) & (years <= nat.year.max())
    interp = np.isnan(value) & inside & np.isfinite(years) & interpolate
    if interp.any():
        value[interp] = np.interp(years[interp], nat.year.to_numpy(float), nat.national_srb.to_numpy(float))
    lo = table["srb_lower"].to_numpy(dtype=float)
    up = table["srb_upper"].to_numpy(dtype=float)
    known = np.isfinite(value) & ~np.isnan(lo) & ~np.isnan(up)
    pos = np.where(lo > value, "above", np.where(up < value, "below", "covers")).astype(object)
    pos[~known] = None
    year_txt = np.where(np.isfinite(years), np.nan_to_num(years).astype(int).astype(str), "?")
    base = (
        table["note"].to_numpy(dtype=object) if "note" in table.columns else np.full(len(table), "", object)
    )
    extra = _notes(
        len(table),
        (np.isnan(value), np.char.add("no national SRB figure for ", year_txt)),
        (interp, np.char.add("national SRB interpolated for ", year_txt)),
    )
    note = np.where(base == "", extra, np.where(extra == "", base, base + "; " + extra))
    return table.assign(national_srb=value, vs_national=pd.array(pos, dtype="string"), note=note)


# --------------------------------------------------------------------------------------------
# general proportions
# --------------------------------------------------------------------------------------------
def proportion_ci(
    df: pd.DataFrame,
    numerator: str,
    denominator: str,
    *,
    keys: Sequence[str] | str | None = ("unit", "year"),
    method: str = "wilson",
    alpha: float = 0.05,
    scale: float = 1.0,
) -> pd.DataFrame:
    """A proportion and its confidence interval per row (compliance, entry rates, any x / n).

    Parameters
    ----------
    df : DataFrame
        Rows with a numerator and a denominator count. Not modified.
    numerator, denominator : str
        Count columns (e.g. ``"policy_births"``, ``"births"``); ``numerator ≤ denominator``.
    keys : sequence of str
        Identifying columns copied to the result.
    method : {"wilson", "exact", "logit"}
        Wilson score (default), Clopper–Pearson, or the logit interval — see
        :func:`binomial_interval`.
    alpha : float
        1 − confidence level.
    scale : float
        Multiplier for ``estimate``, ``ci_lower`` and ``ci_upper`` (100 for percentages).

    Returns
    -------
    DataFrame, one row per input row, in input order, with columns: the ``keys``;
    ``successes``, ``trials`` (float); ``estimate`` (x/n × scale); ``ci_lower``, ``ci_upper``;
    ``method`` (canonical: ``wilson``, ``exact``, ``logit``); ``note`` ("" or why a value is
    missing or fragile: no trials, a missing count, fewer than 50 trials, logit at 0 % or 100 %).
    """
    what = "proportion_ci"
    keys = _keys(df, keys, what)
    x, n = _counts(df, numerator, denominator, what)
    canon = _canonical_method(method)
    valid = np.isfinite(x) & np.isfinite(n) & (n > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(valid, x / n, np.nan)
    lo, up = binomial_interval(x, n, method=canon, alpha=alpha)
    missing = ~(np.isfinite(x) & np.isfinite(n))
    note = _notes(
        len(df),
        (missing, f"missing {numerator} or {denominator}"),
        (~missing & (n == 0), f"{denominator} is 0: no proportion"),
        (
            valid & (canon == "logit") & ((x == 0) | (x == n)),
            "the logit interval is undefined at 0% or 100%; use method='wilson' or 'exact'",
        ),
        (
            valid & (n < FEW_BIRTHS),
            np.char.add(
                np.char.add(f"small denominator ({denominator} = ", np.nan_to_num(n).astype(int).astype(str)),
                "): the interval is very wide",
            ),
        ),
    )
    out = df[keys].copy() if keys else pd.DataFrame(index=df.index)
    out = out.assign(
        successes=x,
        trials=n,
        estimate=est * scale,
        ci_lower=lo * scale,
        ci_upper=up * scale,
        method=canon,
        note=note,
    )
    return out.reset_index(drop=True)


def proportion_change(
    df: pd.DataFrame,
    numerator: str,
    denominator: str,
    *,
    unit: str = "unit",
    year: str = "year",
    alpha: float = 0.05,
    scale: float = 1.0,
) -> pd.DataFrame:
    """Year-over-year change of a proportion per unit, with Newcombe's hybrid score interval.

    Each unit-year is compared with the same unit's previous available year. The interval for
    the difference ``p_year − p_previous`` is Newcombe's (1998) method 10, the "hybrid score"
    interval built from the two Wilson intervals (``statsmodels.stats.proportion.
    confint_proportions_2indep(..., method="newcomb", compare="diff")``); it stays inside
    [−1, 1] and behaves at 0 % and 100 %, unlike the Wald interval.

    Parameters
    ----------
    df : DataFrame
        One row per unit and year with the two count columns. Not modified.
    numerator, denominator : str
        Count columns.
    unit, year : str
        Identifying columns; a unit-year may appear once.
    alpha : float
        1 − confidence level.
    scale : float
        Multiplier for the proportions and the change (100 for percentage points).

    Returns
    -------
    DataFrame sorted by unit and year, one row per input row, with columns: ``unit``, ``year``,
    ``prev_year`` (the year compared with; NaN for a unit's first year); ``successes``,
    ``trials``, ``estimate``; ``prev_successes``, ``prev_trials``, ``prev_estimate``;
    ``change`` (estimate − prev_estimate), ``change_lower``, ``change_upper``; ``note`` (""
    or why the change is missing — first year, zero trials — or that the previous year is not
    the year before).
    """
    what = "proportion_change"
    _require_columns(df, [unit, year], what)
    x, n = _counts(df, numerator, denominator, what)
    t = _with_previous(df, x, n, unit, year, what)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(t.trials > 0, t.successes / t.trials, np.nan)
        pest = np.where(t.prev_trials > 0, t.prev_successes / t.prev_trials, np.nan)
    ok = np.isfinite(est) & np.isfinite(pest)
    lo = np.full(len(t), np.nan)
    up = np.full(len(t), np.nan)
    if ok.any():
        lo[ok], up[ok] = confint_proportions_2indep(
            t.successes.to_numpy()[ok],
            t.trials.to_numpy()[ok],
            t.prev_successes.to_numpy()[ok],
            t.prev_trials.to_numpy()[ok],
            method="newcomb",
            compare="diff",
            alpha=alpha,
        )
    first = t.prev_year.isna().to_numpy()
    gap = ~first & (pd.to_numeric(t[year], errors="coerce").to_numpy(float) - t.prev_year.to_numpy() > 1)
    note = _notes(
        len(t),
        (first, "first year of the unit: no previous year"),
        (~first & ~np.isfinite(est), f"no proportion this year ({denominator} 0 or missing)"),
        (
            ~first & np.isfinite(est) & ~np.isfinite(pest),
            f"no proportion in the previous year ({denominator} 0 or missing)",
        ),
        (gap, np.char.add("compared with ", np.nan_to_num(t.prev_year.to_numpy()).astype(int).astype(str))),
    )
    return t.assign(
        estimate=est * scale,
        prev_estimate=pest * scale,
        change=(est - pest) * scale,
        change_lower=lo * scale,
        change_upper=up * scale,
        note=note,
    )[
        [
            unit,
            year,
            "prev_year",
            "successes",
            "trials",
            "estimate",
            "prev_successes",
            "prev_trials",
            "prev_estimate",
            "change",
            "change_lower",
            "change_upper",
            "note",
        ]
    ]


def _with_previous(
    df: pd.DataFrame, x: np.ndarray, n: np.ndarray, unit: str, year: str, what: str
) -> pd.DataFrame:
    """The counts sorted by unit and year, each row with the unit's previous available year
    (``prev_year``, ``prev_successes``, ``prev_trials``); duplicate unit-years refused."""
    dup = df.duplicated([unit, year], keep=False).to_numpy()
    if dup.any():
        raise DataError(
            f"{what}: duplicate unit-years",
            [
                Problem(
                    f"row {i}",
                    f"{unit}={df[unit].iloc[j]!r}, {year}={df[year].iloc[j]!r} appears more than once",
                )
                for j, i in enumerate(df.index)
                if dup[j]
            ][:20],
        )
    t = (
        pd.DataFrame({unit: df[unit].to_numpy(), year: df[year].to_numpy(), "successes": x, "trials": n})
        .sort_values([unit, year], kind="stable")
        .reset_index(drop=True)
    )
    g = t.groupby(unit, sort=False)
    prev = g[[year, "successes", "trials"]].shift(1)
    t = t.assign(
        prev_year=prev[year].astype(float), prev_successes=prev["successes"], prev_trials=prev["trials"]
    )
    return t


def heterogeneity(
    df: pd.DataFrame,
    numerator: str,
    denominator: str,
    *,
    by: str | Sequence[str] | None = "year",
) -> pd.DataFrame:
    """Do the units differ by more than binomial noise? Pearson χ² on the k×2 table, per group.

    For the k units of a group (rows with a positive denominator) and the pooled proportion
    ``p̄ = Σx/Σn``, ``χ² = Σ (x − n p̄)² / (n p̄ (1 − p̄))`` — the Pearson statistic of the k×2
    table (successes, failures) without continuity correction, as
    ``scipy.stats.chi2_contingency(table, correction=False)`` gives it — on ``k − 1`` degrees
    of freedom. The dispersion ``φ = χ²/df`` is about 1 when the units differ only by chance
    and well above 1 when they really differ (over-dispersion; the funnel plot's φ).

    Parameters
    ----------
    df : DataFrame
        Rows (units) with a numerator and a denominator count. Not modified.
    numerator, denominator : str
        Count columns.
    by : str, sequence of str or None
        Group columns: one test per group (default per ``year``). None: all rows, one test.

    Returns
    -------
    DataFrame, one row per group (sorted), with columns: the ``by`` columns; ``units`` (k, rows
    with a positive denominator); ``successes``, ``trials`` (sums); ``pooled`` (p̄); ``chi2``;
    ``df`` (k − 1); ``p_value`` (upper tail of χ²_df); ``phi`` (χ²/df); ``min_expected``
    (smallest expected cell count); ``note`` ("" or why the test is missing or doubtful: fewer
    than two units, p̄ of 0 or 1, expected counts below 5, rows left out).
    """
    what = "heterogeneity"
    by_cols = [by] if isinstance(by, str) else list(by or [])
    _require_columns(df, by_cols, what)
    x, n = _counts(df, numerator, denominator, what)
    use = np.isfinite(x) & np.isfinite(n) & (n > 0)
    t = pd.DataFrame(
        {"_g": np.zeros(len(df), dtype=int)} if not by_cols else {c: df[c].to_numpy() for c in by_cols}
    )
    gcols = by_cols or ["_g"]
    t = t.assign(
        x=np.where(use, x, 0.0), n=np.where(use, n, 0.0), k=use.astype(int), dropped=(~use).astype(int)
    )
    g = t.groupby(gcols, sort=True, dropna=False)
    tot = g[["x", "n", "k", "dropped"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pbar_row = g["x"].transform("sum") / g["n"].transform("sum")
        e1 = t.n * pbar_row
        e0 = t.n * (1 - pbar_row)
        contrib = np.where(t.n > 0, (t.x - e1) ** 2 / (t.n * pbar_row * (1 - pbar_row)), 0.0)
        t = t.assign(c=contrib, emin=np.where(t.n > 0, np.minimum(e1, e0), np.inf))
        g = t.groupby(gcols, sort=True, dropna=False)
        chi2 = g["c"].sum().to_numpy()
        emin = g["emin"].min().to_numpy()
        pbar = (tot.x / tot.n).to_numpy()
    k = tot.k.to_numpy()
    dof = k - 1
    degenerate = (dof < 1) | ~np.isfinite(pbar) | (pbar <= 0) | (pbar >= 1)
    chi2 = np.where(degenerate, np.nan, chi2)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(degenerate, np.nan, chi2 / dof)
    pval = np.where(degenerate, np.nan, stats.chi2.sf(chi2, np.maximum(dof, 1)))
    dropped = tot.dropped.to_numpy()
    note = _notes(
        len(tot),
        (dof < 1, "fewer than two units with a positive denominator"),
        (
            (dof >= 1) & np.isfinite(pbar) & ((pbar <= 0) | (pbar >= 1)),
            "pooled proportion is 0 or 1: no variation to test",
        ),
        (~degenerate & (emin < 5), "some expected counts are below 5: the χ² approximation is doubtful"),
        (dropped > 0, np.char.add(dropped.astype(str), " row(s) without a positive denominator left out")),
    )
    out = tot.reset_index()[by_cols] if by_cols else pd.DataFrame(index=range(len(tot)))
    return out.assign(
        units=k,
        successes=tot.x.to_numpy(),
        trials=tot.n.to_numpy(),
        pooled=pbar,
        chi2=chi2,
        df=dof,
        p_value=pval,
        phi=phi,
        min_expected=np.where(degenerate, np.nan, emin),
        note=note,
    ).reset_index(drop=True)
