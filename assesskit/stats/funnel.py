"""Funnel plots: control limits for proportions and ratios, and the units outside them.

- :func:`binomial_limits` — exact binomial limits with Spiegelhalter's interpolation
  (Statistics in Medicine 2005;24:1185), vectorised over any number of denominators;
- :func:`normal_limits` — the normal-approximation limits θ ± z·√(θ(1−θ)/n) of PHE's
  Fingertips tools (``method="normal"``; exact is the default);
- :func:`poisson_limits` — exact Poisson limits for indirectly standardised ratios O/E
  (the χ² form used by R's FunnelPlotR);
- :func:`funnel_proportions` — per unit (and year): value, n, target, limits at 95% and 99.8%,
  which limits it falls outside, the z-score, and the over-dispersion φ and τ²;
- :func:`funnel_sex_ratio` — the same for the male share M/(M+F), with the limits also on the
  sex-ratio scale;
- :func:`funnel_ratios` — the same for observed/expected ratios with Poisson limits;
- :func:`overdispersion` — Spiegelhalter's winsorised φ and the DerSimonian–Laird-type τ²
  (in :mod:`.dispersion`, with the z-score scales: raw, the default, or FunnelPlotR's
  arcsine, ``z_scale="arcsine"``).

Impossible input (negative or fractional counts, a numerator above its denominator) raises
:class:`~assesskit.exceptions.DataError` listing every problem; rows that cannot be placed on
a funnel (no births, a missing count) get NaN and a ``note`` saying why.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import DataError, Problem
from .dispersion import check_z_scale, from_scale, on_scale, overdispersion
from .proportions import _notes, _require_columns

__all__ = [
    "LEVELS",
    "binomial_limits",
    "funnel_limits",
    "funnel_proportions",
    "funnel_ratios",
    "funnel_sex_ratio",
    "level_tag",
    "normal_limits",
    "overdispersion",
    "poisson_limits",
]

#: The two conventional funnel levels: 95% (≈2 SD) and 99.8% (≈3 SD).
LEVELS: tuple[float, ...] = (0.95, 0.998)
_ADJUSTMENTS = (None, "none", "multiplicative", "additive")
#: How the limits of a proportion are made when not widened for over-dispersion.
METHODS: tuple[str, ...] = ("exact", "normal")


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def level_tag(level: float) -> str:
    """The column suffix of a level: 0.95 → ``"95"``, 0.998 → ``"998"``, 0.9 → ``"90"``."""
    return f"{level * 100:g}".replace(".", "")


def _check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    levels = tuple(float(v) for v in levels)
    if not levels or any(not 0 < v < 1 for v in levels):
        raise ValueError(f"levels must be probabilities strictly between 0 and 1, got {levels}")
    tags = [level_tag(v) for v in levels]
    if len(set(tags)) != len(tags):
        raise ValueError(f"levels give duplicate column names: {tags}")
    return levels


def _numbers(df: pd.DataFrame, col: str, what: str, problems: list[Problem], *, whole: bool) -> np.ndarray:
    """A column as float (NaN where missing), recording non-numbers, negatives and fractions."""
    raw = df[col]
    v = pd.to_numeric(raw, errors="coerce").astype("float64").to_numpy().copy()
    bad = np.isnan(v) & raw.notna().to_numpy()
    with np.errstate(invalid="ignore"):
        neg = v < 0
        frac = np.isfinite(v) & (v != np.round(v)) if whole else np.zeros(len(v), bool)
    for mask, msg in ((bad, "not a number"), (neg, "negative"), (frac, "a count must be a whole number")):
        for i in np.flatnonzero(mask)[:20]:
            problems.append(Problem(f"{what}, row {df.index[i]}, column {col!r}", f"{msg}: {raw.iloc[i]!r}"))
    v[bad] = np.nan
    return v


def _group_column(df: pd.DataFrame, by: str | None) -> str | None:
    if by == "auto":
        return "year" if "year" in df.columns else None
    if by is not None:
        _require_columns(df, [by], "funnel")
    return by


def _id_columns(df: pd.DataFrame, unit: str, by: str | None) -> list[str]:
    """Columns copied to a funnel table: the unit, the year (if any) and the group column."""
    cols = [unit] + (["year"] if "year" in df.columns and unit != "year" else [])
    return cols + ([by] if by and by not in cols else [])


# --------------------------------------------------------------------------------------------
# limits
# --------------------------------------------------------------------------------------------
def _binomial_quantile(p: float, n: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Spiegelhalter's interpolated binomial quantile, as a proportion.

    Written by hand: no library offers the interpolation. ``r_p`` is the smallest r with
    ``F(r; n, θ) ≥ p`` (``scipy.stats.binom.ppf``, then checked against the cdf to guard
    against rounding), ``α = (F(r_p) − p) / (F(r_p) − F(r_p − 1))`` and the limit is
    ``(r_p − α)/n``.
    """
    r = stats.binom.ppf(p, n, theta)
    # ppf is defined as exactly this r; make sure floating point did not move it by one
    r = np.where(stats.binom.cdf(r, n, theta) < p, r + 1, r)
    r = np.where((r >= 1) & (stats.binom.cdf(r - 1, n, theta) >= p), r - 1, r)
    f_r = stats.binom.cdf(r, n, theta)
    f_r1 = stats.binom.cdf(r - 1, n, theta)  # 0 for r = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = (f_r - p) / (f_r - f_r1)
        return (r - alpha) / n


def binomial_limits(
    n: np.ndarray | Sequence[float] | float,
    target: np.ndarray | Sequence[float] | float,
    *,
    levels: Sequence[float] = LEVELS,
) -> pd.DataFrame:
    """Exact binomial funnel limits with Spiegelhalter's interpolation, for many n at once.

    For a level L the lower limit uses ``p = (1 − L)/2`` and the upper ``p = (1 + L)/2``
    (95%: 0.025 / 0.975; 99.8%: 0.001 / 0.999). With ``r_p`` the smallest r such that
    ``F(r; n, θ) ≥ p`` (F the binomial cdf), ``α = (F(r_p) − p)/(F(r_p) − F(r_p − 1))`` and the
    limit is ``(r_p − α)/n``. For very small n the interpolated lower limit can fall below 0
    (when ``r_p = 0``); it is then set to 0 (a proportion cannot be negative) and ``note``
    says so.

    Parameters
    ----------
    n : array-like of whole numbers
        Denominators (births …); broadcast against ``target``.
    target : array-like of float in [0, 1]
        The target proportion θ.
    levels : sequence of float
        Coverage levels; default 0.95 and 0.998.

    Returns
    -------
    DataFrame, one row per broadcast element, with columns:

    - ``n``, ``target``: the inputs;
    - ``lower_<tag>``, ``upper_<tag>`` for each level (tag: 0.95 → ``95``, 0.998 → ``998``):
      the limits as proportions in [0, 1], NaN when n is 0 or missing;
    - ``note``: why a limit is NaN, clipped or degenerate ("" otherwise).
    """
    levels = _check_levels(levels)
    n_arr, theta = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(target, dtype=float))
    n_arr, theta = n_arr.ravel(), theta.ravel()
    with np.errstate(invalid="ignore"):
        if np.any(n_arr < 0) or np.any(np.isfinite(n_arr) & (n_arr != np.round(n_arr))):
            raise DataError("binomial_limits: n must be whole numbers ≥ 0")
        if np.any((theta < 0) | (theta > 1)):
            raise DataError("binomial_limits: the target must be a proportion in [0, 1]")
    ok = np.isfinite(n_arr) & (n_arr > 0) & np.isfinite(theta)
    degenerate = ok & ((theta == 0) | (theta == 1))
    interior = ok & ~degenerate
    out = {"n": n_arr, "target": theta}
    clipped = np.zeros(n_arr.size, bool)
    nn = np.where(interior, n_arr, 1.0)
    tt = np.where(interior, theta, 0.5)
    for level in levels:
        lo = _binomial_quantile((1 - level) / 2, nn, tt)
        hi = _binomial_quantile((1 + level) / 2, nn, tt)
        clipped |= interior & ((lo < 0) | (hi > 1))
        tag = level_tag(level)
        out[f"lower_{tag}"] = np.where(interior, np.clip(lo, 0, 1), np.where(degenerate, theta, np.nan))
        out[f"upper_{tag}"] = np.where(interior, np.clip(hi, 0, 1), np.where(degenerate, theta, np.nan))
    out["note"] = _notes(
        n_arr.size,
        (~np.isfinite(n_arr), "n is missing"),
        (n_arr == 0, "n is 0: no limits"),
        (~np.isfinite(theta), "target is missing"),
        (degenerate, "target is 0 or 1: every unit must equal it, the limits collapse onto it"),
        (clipped, "interpolated limit fell outside [0, 1] (r_p = 0); set to the bound"),
    )
    return pd.DataFrame(out)


def poisson_limits(
    expected: np.ndarray | Sequence[float] | float,
    *,
    target: float = 1.0,
    levels: Sequence[float] = LEVELS,
) -> pd.DataFrame:
    """Exact Poisson funnel limits for an indirectly standardised ratio O/E.

    With q = (1 + L)/2 and the null ``O ~ Poisson(target·E)``:
    ``lower = χ²_{1−q}(2·target·E) / (2E)`` and ``upper = χ²_q(2·(target·E + 1)) / (2E)``
    (``scipy.stats.chi2.ppf``) — for target 1 exactly the limits of R's FunnelPlotR.

    Parameters
    ----------
    expected : array-like of float > 0
        Expected counts E.
    target : float
        The target ratio (1 for indirect standardisation).
    levels : sequence of float
        Coverage levels; default 0.95 and 0.998.

    Returns
    -------
    DataFrame with columns ``expected``, ``target``, ``lower_<tag>``, ``upper_<tag>`` per level
    (ratios; NaN when E ≤ 0 or missing) and ``note``.
    """
    levels = _check_levels(levels)
    if not np.isfinite(target) or target <= 0:
        raise ValueError(f"the target ratio must be positive, got {target}")
    e = np.atleast_1d(np.asarray(expected, dtype=float)).ravel()
    ok = np.isfinite(e) & (e > 0)
    ee = np.where(ok, e, 1.0)
    out: dict[str, np.ndarray] = {"expected": e, "target": np.full(e.size, float(target))}
    for level in levels:
        q = (1 + level) / 2
        tag = level_tag(level)
        out[f"lower_{tag}"] = np.where(ok, stats.chi2.ppf(1 - q, 2 * target * ee) / (2 * ee), np.nan)
        out[f"upper_{tag}"] = np.where(ok, stats.chi2.ppf(q, 2 * (target * ee + 1)) / (2 * ee), np.nan)
    out["note"] = _notes(
        e.size,
        (~np.isfinite(e), "expected count is missing"),
        (np.isfinite(e) & (e <= 0), "expected count is not positive: no limits"),
    )
    return pd.DataFrame(out)


def normal_limits(
    n: np.ndarray | Sequence[float] | float,
    target: np.ndarray | Sequence[float] | float,
    *,
    levels: Sequence[float] = LEVELS,
) -> pd.DataFrame:
    """Normal-approximation funnel limits for a proportion, for many n at once.

    ``θ ± z_q·sqrt(θ(1−θ)/n)`` with ``z_q`` the normal quantile at ``q = (1 + L)/2``
    (1.959964 at 95%, 3.090232 at 99.8%), clipped to [0, 1]. These are the limits of PHE's
    Fingertips tools (R package PHEindicatormethods, ``calculate_funnel_limits`` with
    ``statistic = "proportion"``, labelled "Wilson": the proportions whose Wilson score
    interval just reaches θ, which are exactly θ ± z·sqrt(θ(1−θ)/n)). For small n they are
    symmetric and can pass 0 or 1, where the exact limits (:func:`binomial_limits`, the
    default of the funnels) are not; a clipped limit is named in ``note``.

    Parameters and returned columns are those of :func:`binomial_limits`.
    """
    levels = _check_levels(levels)
    n_arr, theta = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(target, dtype=float))
    n_arr, theta = n_arr.ravel(), theta.ravel()
    with np.errstate(invalid="ignore"):
        if np.any(n_arr < 0):
            raise DataError("normal_limits: n must be ≥ 0")
        if np.any((theta < 0) | (theta > 1)):
            raise DataError("normal_limits: the target must be a proportion in [0, 1]")
    ok = np.isfinite(n_arr) & (n_arr > 0) & np.isfinite(theta)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(theta * (1 - theta) / np.where(ok, n_arr, np.nan))
    out: dict[str, np.ndarray] = {"n": n_arr, "target": theta}
    clipped = np.zeros(n_arr.size, bool)
    for level in levels:
        half = stats.norm.ppf((1 + level) / 2) * sd
        lo, hi = theta - half, theta + half
        with np.errstate(invalid="ignore"):
            clipped |= ok & ((lo < 0) | (hi > 1))
        tag = level_tag(level)
        out[f"lower_{tag}"] = np.where(ok, np.clip(lo, 0, 1), np.nan)
        out[f"upper_{tag}"] = np.where(ok, np.clip(hi, 0, 1), np.nan)
    degenerate = ok & ((theta == 0) | (theta == 1))
    out["note"] = _notes(
        n_arr.size,
        (~np.isfinite(n_arr), "n is missing"),
        (n_arr == 0, "n is 0: no limits"),
        (~np.isfinite(theta), "target is missing"),
        (degenerate, "target is 0 or 1: every unit must equal it, the limits collapse onto it"),
        (clipped, "normal-approximation limit fell outside [0, 1]; set to the bound"),
    )
    return pd.DataFrame(out)


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be 'exact' or 'normal', got {method!r}")
    return method


def _proportion_limits(n, target, *, method: str, levels) -> pd.DataFrame:
    """The limits of a proportion by ``method``: exact binomial or the normal approximation."""
    if _check_method(method) == "normal":
        return normal_limits(n, target, levels=levels)
    return binomial_limits(n, target, levels=levels)


def _widened_limits(t, s2, levels, phi, tau2, *, hi_clip=1.0, z_scale="raw") -> dict[str, np.ndarray]:
    """Spiegelhalter's over-dispersed limits ``t ± z_q·sqrt(φ·s² + τ²)`` on the z-score scale
    (``t`` and ``s²`` from :func:`~.dispersion.on_scale`), back on the indicator's scale."""
    out = {}
    for level in levels:
        z = stats.norm.ppf((1 + level) / 2)
        half = z * np.sqrt(phi * s2 + tau2)
        tag = level_tag(level)
        out[f"lower_{tag}"] = from_scale(t - half, z_scale, hi_clip)
        out[f"upper_{tag}"] = from_scale(t + half, z_scale, hi_clip)
    return out


def funnel_limits(
    size: np.ndarray | Sequence[float] | float,
    target: float,
    *,
    measure: str = "proportion",
    levels: Sequence[float] = LEVELS,
    phi: float = 1.0,
    tau2: float = 0.0,
    method: str = "exact",
    z_scale: str = "raw",
) -> pd.DataFrame:
    """Funnel limits along a range of sizes, as drawn on a funnel plot.

    The limits of ``method`` (:func:`binomial_limits` or :func:`normal_limits` for ``measure``
    ``"proportion"``/``"male_share"``; :func:`poisson_limits` for ``"ratio"``) unless
    ``phi > 1`` or ``tau2 > 0``, in which case the over-dispersed normal limits
    ``t ± z_q·sqrt(phi·s² + tau2)`` of Spiegelhalter (2005) on the ``z_scale`` (raw: t = θ,
    s² = θ(1−θ)/n for proportions, θ/E for ratios; arcsine: t = asin√θ, s² = 1/(4n), mapped
    back by sin²). Pass ``phi`` for the multiplicative adjustment or ``tau2`` for the additive
    one (not both), and ``method``/``z_scale`` — the ``phi``, ``tau2``, ``adjustment``, ``method`` and
    ``z_scale`` columns of a funnel table — so that the curve matches the table.

    Returns
    -------
    DataFrame with columns ``size`` (n or E), ``target``, ``lower_<tag>``, ``upper_<tag>`` per level.

    Raises
    ------
    ValueError
        A target that is not a finite number (a proportion outside [0, 1] raises
        :class:`~assesskit.exceptions.DataError`), an unknown measure, method or scale, or both
        ``phi > 1`` and ``tau2 > 0``.
    """
    levels = _check_levels(levels)
    size = np.atleast_1d(np.asarray(size, dtype=float)).ravel()
    if measure not in ("proportion", "male_share", "ratio"):
        raise ValueError(f"measure must be 'proportion', 'male_share' or 'ratio', got {measure!r}")
    _check_method(method)
    check_z_scale(z_scale)
    if not np.isfinite(target):
        # a curve around NaN is a plot with no funnel and no error; a funnel table's target is
        # NaN when none of its units had a valid count
        raise ValueError(f"funnel_limits: the target must be a finite number, got {target!r}")
    phi = 1.0 if not np.isfinite(phi) or phi < 1 else float(phi)
    tau2 = 0.0 if not np.isfinite(tau2) or tau2 < 0 else float(tau2)
    if phi > 1 and tau2 > 0:
        # a funnel table holds both estimates whatever its adjustment: passing both would
        # widen the curve twice, a silently wrong picture
        raise ValueError(
            "give phi (multiplicative adjustment) or tau2 (additive), not both; a funnel "
            "table's `adjustment` column says which of its phi and tau2 was used"
        )
    theta = np.full(size.size, float(target))
    if measure == "ratio":
        if method != "exact" or z_scale != "raw":
            raise ValueError("ratios have exact Poisson limits on the raw scale only")
        base = poisson_limits(size, target=target, levels=levels)
        var = target / size
        hi_clip = np.inf
    else:
        base = _proportion_limits(np.round(size), target, method=method, levels=levels)
        var = target * (1 - target) / np.round(size)
        hi_clip = 1.0
    cols = [c for c in base.columns if c.startswith(("lower_", "upper_"))]
    out = pd.DataFrame({"size": size, "target": float(target)})
    if phi > 1 or tau2 > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            _y, t, s2 = on_scale(theta, theta, np.round(size), var, z_scale)
            widened = _widened_limits(t, s2, levels, phi, tau2, hi_clip=hi_clip, z_scale=z_scale)
        return out.assign(**{c: widened[c] for c in cols})
    return out.assign(**{c: base[c].to_numpy() for c in cols})


# --------------------------------------------------------------------------------------------
# per-unit funnels
# --------------------------------------------------------------------------------------------
def _outside(value: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    out = np.where(value > hi, "above", np.where(value < lo, "below", "within")).astype(object)
    out[~(np.isfinite(value) & np.isfinite(lo) & np.isfinite(hi))] = pd.NA
    return out


def _assemble(
    base: pd.DataFrame,
    *,
    value: np.ndarray,
    size: np.ndarray,
    var_unit: np.ndarray,
    exact: pd.DataFrame,
    groups: np.ndarray,
    levels: tuple[float, ...],
    adjustment: str | None,
    hi_clip: float,
    notes: list[tuple[np.ndarray, object]],
    measure: str,
    method: str = "exact",
    z_scale: str = "raw",
) -> pd.DataFrame:
    """Common tail of the funnels: z, φ/τ², (adjusted) limits, outside flags, note.

    ``exact`` holds the limits of ``method``; z, φ, τ² and the widened limits are taken on
    ``z_scale`` (:func:`~.dispersion.on_scale`).
    """
    theta = exact["target"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        y, t, s2 = on_scale(value, theta, size, var_unit, z_scale)
        z = (y - t) / np.sqrt(s2)
    z[~np.isfinite(z)] = np.nan
    od = overdispersion(z, s2, groups).set_index("group")
    phi = od["phi"].reindex(groups).to_numpy()
    tau2 = od["tau2"].reindex(groups).to_numpy()
    od_note = od["note"].reindex(groups).to_numpy()

    adj = "none" if adjustment in (None, "none") else adjustment
    phi_used = np.ones(value.size)
    tau2_used = np.zeros(value.size)
    if adj == "multiplicative":
        phi_used = np.where(np.isfinite(phi) & (phi > 1), phi, 1.0)
    elif adj == "additive":
        tau2_used = np.where(np.isfinite(tau2), tau2, 0.0)
    inflated = (phi_used > 1) | (tau2_used > 0)
    limits = {c: exact[c].to_numpy() for c in exact.columns if c.startswith(("lower_", "upper_"))}
    if inflated.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            widened = _widened_limits(t, s2, levels, phi_used, tau2_used, hi_clip=hi_clip, z_scale=z_scale)
        limits = {c: np.where(inflated, widened[c], v) for c, v in limits.items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        z_adj = (y - t) / np.sqrt(phi_used * s2 + tau2_used)
    z_adj[~np.isfinite(z_adj)] = np.nan

    out = base.assign(measure=measure, n=size, value=value, target=theta, z=z, z_adjusted=z_adj)
    for level in levels:
        tag = level_tag(level)
        out[f"lower_{tag}"] = limits[f"lower_{tag}"]
        out[f"upper_{tag}"] = limits[f"upper_{tag}"]
    for level in levels:
        tag = level_tag(level)
        out[f"outside_{tag}"] = pd.array(
            _outside(value, limits[f"lower_{tag}"], limits[f"upper_{tag}"]), dtype="string"
        )
    n_rows = len(out)
    not_adj = adj != "none"
    out["phi"] = phi
    out["tau2"] = tau2
    out["adjustment"] = np.where(inflated, adj, "none")
    out["method"] = method
    out["z_scale"] = z_scale
    out["note"] = _notes(
        n_rows,
        *notes,
        (exact["note"].to_numpy() != "", exact["note"].to_numpy()),
        (od_note != "", od_note),
        (
            not_adj & ~inflated & np.isfinite(value),
            f"no over-dispersion found for the {adj} adjustment: exact limits kept",
        ),
        (inflated, f"limits widened for over-dispersion ({adj}): {_WIDENED[z_scale]}"),
    )
    return out


_WIDENED = {
    "raw": "target ± z·sqrt(phi·s² + tau2)",
    "arcsine": "sin²(asin√target ± z·sqrt(phi·s² + tau2)), s² = 1/(4n)",
}


def _check_adjustment(overdispersion_: str | None) -> str | None:
    if overdispersion_ not in _ADJUSTMENTS:
        raise ValueError(
            f"overdispersion must be None, 'multiplicative' or 'additive', got {overdispersion_!r}"
        )
    return overdispersion_


def funnel_proportions(
    data: pd.DataFrame,
    numerator: str,
    denominator: str,
    *,
    target: float | None = None,
    levels: Sequence[float] = LEVELS,
    overdispersion: str | None = None,
    unit: str = "unit",
    by: str | None = "auto",
    method: str = "exact",
    z_scale: str = "raw",
) -> pd.DataFrame:
    """A funnel for a proportion: per unit its value, the limits at its n, and whether it is outside.

    Limits are exact binomial with Spiegelhalter's interpolation (:func:`binomial_limits`)
    around the target θ. With ``overdispersion`` the limits are widened as in Spiegelhalter
    (2005): z-scores ``(y − θ)/sqrt(θ(1−θ)/n)`` are winsorised at the 10th/90th percentiles of
    their group, ``φ = mean of the squared winsorised z`` (divisor: the number of units I), and

    - ``"multiplicative"``: limits ``θ ± z_q·sqrt(φ·θ(1−θ)/n)`` when φ > 1;
    - ``"additive"`` (random effects): ``τ² = (Iφ − (I−1))/(Σw − Σw²/Σw)``, ``w = n/(θ(1−θ))``,
      when ``Iφ > I − 1`` (else τ² = 0), limits ``θ ± z_q·sqrt(θ(1−θ)/n + τ²)``.

    When the requested adjustment finds no over-dispersion (φ ≤ 1 or τ² = 0) the exact limits
    are kept. Adjusted limits are clipped to [0, 1].

    Parameters
    ----------
    data : DataFrame
        One row per unit (per group); not modified.
    numerator, denominator : str
        Count columns (e.g. ``"policy_births"``, ``"births"``).
    target : float, optional
        θ as a proportion in [0, 1]. Default: the pooled proportion Σnumerator/Σdenominator of
        each group (over rows with both counts).
    levels : sequence of float
        Funnel levels; default 0.95 and 0.998.
    overdispersion : {None, "multiplicative", "additive"}
        Whether and how to widen the limits for over-dispersion. φ and τ² are reported either way.
    unit : str
        The unit column (copied to the result).
    by : str, None or "auto"
        Group column: one funnel (one θ, one φ) per group. ``"auto"`` (default): ``"year"`` if
        present, else one funnel for all rows.
    method : {"exact", "normal"}
        The limits when not widened: exact binomial with Spiegelhalter's interpolation
        (default), or the normal approximation ``θ ± z·sqrt(θ(1−θ)/n)`` of PHE's Fingertips
        tools (:func:`normal_limits`).
    z_scale : {"raw", "arcsine"}
        The scale of the z-scores, of φ and τ² and of the widened limits: the proportion
        (default, as above), or R FunnelPlotR's arcsine scale for proportions — ``y = asin(√p)``,
        target ``asin(√θ)``, ``s = 1/(2√n)``, z = (y − target)/s, φ and τ² from those z with
        ``w = 4n``, widened limits ``sin²(asin√θ ± z_q·sqrt(φ·s² + τ²))``.

    Returns
    -------
    DataFrame, one row per input row, in input order, with columns:

    - ``unit``, ``year`` (when the table has one) and the group column (if another);
    - ``measure``: ``"proportion"`` (``"male_share"`` from :func:`funnel_sex_ratio`, ``"ratio"``
      from :func:`funnel_ratios`), so that a plot knows which limits to draw;
    - ``count``: the numerator; ``n``: the denominator;
    - ``value``: count/n (NaN when n is 0 or a count is missing);
    - ``target``: θ of the row's group;
    - ``z``: ``(value − θ)/sqrt(θ(1−θ)/n)``; ``z_adjusted``: the same with the adjusted variance
      (equal to ``z`` without adjustment);
    - ``lower_<tag>``, ``upper_<tag>``: limits per level (tag ``95``, ``998``), proportions;
    - ``outside_<tag>``: ``"above"``, ``"below"`` or ``"within"`` the limits at that level
      (strictly outside; NA when the value or limits are missing);
    - ``phi``: the group's winsorised φ; ``tau2``: its τ² (reported whatever the adjustment);
    - ``adjustment``: the adjustment applied to this row's limits (``"none"``,
      ``"multiplicative"``, ``"additive"``);
    - ``method``, ``z_scale``: the ``method`` and ``z_scale`` the table was made with (for
      drawing matching curves with :func:`funnel_limits`);
    - ``note``: why something is missing or how the limits were made ("" otherwise).

    Examples
    --------
    >>> f = funnel_proportions(panel, "policy_births", "births")          # doctest: +SKIP
    >>> f[f["outside_998"] != "within"][["unit", "year", "value", "lower_998", "upper_998"]]  # doctest: +SKIP
    """
    return _funnel_binomial(
        data,
        numerator,
        denominator,
        target=target,
        levels=levels,
        overdispersion=overdispersion,
        unit=unit,
        by=by,
        what="funnel_proportions",
        measure="proportion",
        method=method,
        z_scale=z_scale,
    )


def _funnel_binomial(
    data, numerator, denominator, *, target, levels, overdispersion, unit, by, what, measure, x=None, n=None,
    method="exact", z_scale="raw",
) -> pd.DataFrame:  # fmt: skip
    levels = _check_levels(levels)
    adjustment = _check_adjustment(overdispersion)
    _check_method(method)
    check_z_scale(z_scale)
    by = _group_column(data, by)
    _require_columns(data, [unit], what)
    if x is None:
        _require_columns(data, [numerator, denominator], what)
        problems: list[Problem] = []
        x = _numbers(data, numerator, what, problems, whole=True)
        n = _numbers(data, denominator, what, problems, whole=True)
        with np.errstate(invalid="ignore"):
            over = x > n
        for i in np.flatnonzero(over)[:20]:
            problems.append(
                Problem(
                    f"{what}, row {data.index[i]}", f"{numerator} = {x[i]:g} exceeds {denominator} = {n[i]:g}"
                )
            )
        if problems:
            raise DataError(f"{what}: impossible counts", problems)
    if target is not None and not (np.isfinite(target) and 0 <= target <= 1):
        raise ValueError(
            f"target must be a proportion in [0, 1], got {target!r} (a percentage? divide by 100)"
        )
    groups = data[by].to_numpy() if by else np.zeros(len(data), dtype=int)
    valid = np.isfinite(x) & np.isfinite(n) & (n > 0)
    if target is None:
        sums = pd.DataFrame({"g": groups, "x": np.where(valid, x, 0.0), "n": np.where(valid, n, 0.0)})
        tot = sums.groupby("g", sort=False)[["x", "n"]].transform("sum")
        with np.errstate(invalid="ignore", divide="ignore"):
            theta = (tot["x"] / tot["n"]).to_numpy()
    else:
        theta = np.full(len(data), float(target))
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(valid, x / np.where(valid, n, 1.0), np.nan)
        var = np.where(valid, theta * (1 - theta) / np.where(valid, n, 1.0), np.nan)
    exact = _proportion_limits(np.where(valid, n, np.nan), theta, method=method, levels=levels)
    base = data[_id_columns(data, unit, by)].reset_index(drop=True).assign(count=x)
    notes = [
        (np.isnan(x) | np.isnan(n), "a count is missing"),
        (n == 0, f"{denominator} is 0: no proportion"),
        (~np.isfinite(theta), "no valid rows in the group to pool a target from"),
    ]
    # the exact-limit notes on n repeat the two above; keep only the target-related ones
    exact = exact.assign(note=np.where(valid, exact["note"], ""))
    return _assemble(
        base,
        value=value,
        size=n,
        var_unit=var,
        exact=exact,
        groups=groups,
        levels=levels,
        adjustment=adjustment,
        hi_clip=1.0,
        notes=notes,
        measure=measure,
        method=method,
        z_scale=z_scale,
    )


def funnel_sex_ratio(
    data: pd.DataFrame,
    *,
    male: str = "male_births",
    female: str = "female_births",
    target_srb: float | None = 107.0,
    levels: Sequence[float] = LEVELS,
    overdispersion: str | None = None,
    unit: str = "unit",
    by: str | None = "auto",
    method: str = "exact",
    z_scale: str = "raw",
) -> pd.DataFrame:
    """A funnel for the sex ratio at birth, built on the male share ``p = M/(M+F)``.

    :func:`funnel_proportions` with ``n = M + F`` and target ``θ = SRB/(100 + SRB)``; the
    limits are also given on the sex-ratio scale (``100·p/(1−p)``, monotone, so limits map to
    limits).

    Parameters
    ----------
    data : DataFrame
        Rows with male and female birth counts; not modified.
    male, female : str
        Count columns.
    target_srb : float or None
        The sex ratio at the funnel's centre. Default 107, the upper end of the normal range
        103–107 (so a unit above the upper limit is significantly above even the most generous
        normal value, as in the exact test of :func:`assesskit.stats.proportions.sex_ratio`);
        105 centres it on the middle of the normal range; None uses each group's pooled ratio
        (comparing units with one another rather than with biology).
    levels, overdispersion, unit, by, method, z_scale
        As in :func:`funnel_proportions` (on the male share).

    Returns
    -------
    DataFrame with every column of :func:`funnel_proportions` (``count`` = boys, ``n`` = boys +
    girls, ``value`` = male share, limits on the share) plus ``srb`` (100·M/F; NaN with a note
    when there are no girls), ``target_srb``, and ``srb_lower_<tag>``, ``srb_upper_<tag>``.
    """
    what = "funnel_sex_ratio"
    _require_columns(data, [male, female], what)
    problems: list[Problem] = []
    m = _numbers(data, male, what, problems, whole=True)
    f = _numbers(data, female, what, problems, whole=True)
    if problems:
        raise DataError(f"{what}: impossible counts", problems)
    theta = None if target_srb is None else float(target_srb) / (100.0 + float(target_srb))
    out = _funnel_binomial(
        data,
        male,
        "births (boys + girls)",
        target=theta,
        levels=_check_levels(levels),
        overdispersion=overdispersion,
        unit=unit,
        by=by,
        what=what,
        measure="male_share",
        x=m,
        n=m + f,
        method=method,
        z_scale=z_scale,
    )

    def srb(p):
        p = np.asarray(p, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(p < 1, 100 * p / (1 - p), np.where(p == 1, np.inf, np.nan))

    value = out["value"].to_numpy()
    no_girls = (f == 0) & (m > 0)
    extra = {"srb": np.where(no_girls, np.nan, srb(value)), "target_srb": srb(out["target"].to_numpy())}
    for level in _check_levels(levels):
        tag = level_tag(level)
        extra[f"srb_lower_{tag}"] = srb(out[f"lower_{tag}"].to_numpy())
        extra[f"srb_upper_{tag}"] = srb(out[f"upper_{tag}"].to_numpy())
    note = _notes(
        len(out),
        (out["note"].to_numpy() != "", out["note"].to_numpy()),
        (no_girls, "no girls: the sex ratio is undefined (male share 1)"),
    )
    return out.assign(**extra, note=note)


def funnel_ratios(
    data: pd.DataFrame,
    observed: str,
    expected: str,
    *,
    target: float = 1.0,
    levels: Sequence[float] = LEVELS,
    overdispersion: str | None = None,
    unit: str = "unit",
    by: str | None = "auto",
) -> pd.DataFrame:
    """A funnel for indirectly standardised ratios O/E, with exact Poisson limits.

    Limits from :func:`poisson_limits` around ``target``; z-scores ``(O/E − target)/sqrt(target/E)``;
    over-dispersion as in :func:`funnel_proportions` with ``s² = target/E``.

    Parameters
    ----------
    data : DataFrame
        Rows with an observed count and an expected count; not modified.
    observed : str
        Observed counts (whole numbers ≥ 0).
    expected : str
        Expected counts (> 0; need not be whole).
    target, levels, overdispersion, unit, by
        As in :func:`funnel_proportions`; the target is a ratio (default 1).

    Returns
    -------
    DataFrame with the columns of :func:`funnel_proportions`, where ``count`` is O, ``n`` is E
    and ``value`` is O/E.
    """
    what = "funnel_ratios"
    levels = _check_levels(levels)
    adjustment = _check_adjustment(overdispersion)
    by = _group_column(data, by)
    _require_columns(data, [unit, observed, expected], what)
    problems: list[Problem] = []
    o = _numbers(data, observed, what, problems, whole=True)
    e = _numbers(data, expected, what, problems, whole=False)
    if problems:
        raise DataError(f"{what}: impossible counts", problems)
    valid = np.isfinite(o) & np.isfinite(e) & (e > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(valid, o / np.where(valid, e, 1.0), np.nan)
        var = np.where(valid, target / np.where(valid, e, 1.0), np.nan)
    exact = poisson_limits(np.where(valid, e, np.nan), target=target, levels=levels)
    exact = exact.assign(note=np.where(valid, exact["note"], ""))
    groups = data[by].to_numpy() if by else np.zeros(len(data), dtype=int)
    base = data[_id_columns(data, unit, by)].reset_index(drop=True).assign(count=o)
    notes = [
        (np.isnan(o) | np.isnan(e), "a count is missing"),
        (np.isfinite(e) & (e == 0), f"{expected} is 0: no ratio"),
    ]
    return _assemble(
        base,
        value=value,
        size=e,
        var_unit=var,
        exact=exact,
        groups=groups,
        levels=levels,
        adjustment=adjustment,
        hi_clip=np.inf,
        notes=notes,
        measure="ratio",
    )
