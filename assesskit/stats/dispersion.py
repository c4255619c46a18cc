"""Over-dispersion of funnel z-scores (Spiegelhalter 2005), on the raw or the arcsine scale.

- :func:`overdispersion` — the winsorised φ and the DerSimonian–Laird-type τ² per group;
- :func:`on_scale` — a unit's indicator, the target and the null variance on the scale the
  z-scores are taken on: the proportion itself (``"raw"``, assesskit's default) or
  ``asin(√p)`` with variance ``1/(4n)`` (``"arcsine"``, what R's FunnelPlotR does for
  proportions);
- :func:`from_scale` — limits on that scale back to proportions.

Both scales use the same φ and τ² formulas; they differ in what a z-score is, so φ, τ²,
the adjusted z-scores and the widened limits differ too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .proportions import _notes

__all__ = ["WINSOR", "Z_SCALES", "check_z_scale", "from_scale", "on_scale", "overdispersion"]

#: Winsorising percentiles for the over-dispersion estimate (Spiegelhalter 2005: 10% each tail).
WINSOR = 0.10
#: The scales z-scores can be taken on (see :func:`on_scale`).
Z_SCALES: tuple[str, ...] = ("raw", "arcsine")


def check_z_scale(z_scale: str) -> str:
    """``z_scale`` itself, or ValueError naming the choices."""
    if z_scale not in Z_SCALES:
        raise ValueError(f"z_scale must be 'raw' or 'arcsine', got {z_scale!r}")
    return z_scale


def on_scale(
    value: np.ndarray, target: np.ndarray, n: np.ndarray, variance: np.ndarray, z_scale: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The indicator ``y``, the target ``t`` and the null variance ``s²`` on the z-score scale.

    - ``"raw"``: ``y = p``, ``t = θ``, ``s² = variance`` (θ(1−θ)/n for a proportion, θ/E for
      a ratio), as given;
    - ``"arcsine"`` (proportions only): ``y = asin(√p)``, ``t = asin(√θ)``, ``s² = 1/(4n)`` —
      the variance-stabilising transform of Spiegelhalter (2005, "Handling over-dispersion
      of performance indicators", Table 1) that R's FunnelPlotR uses for proportions
      (``transformed_zscore``, data type "PR").

    The z-score is then ``(y − t)/s``. NaN in, NaN out.
    """
    if check_z_scale(z_scale) == "raw":
        return value, target, variance
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.arcsin(np.sqrt(value)), np.arcsin(np.sqrt(target)), 1.0 / (4.0 * n)


def from_scale(limit: np.ndarray, z_scale: str, hi_clip: float = 1.0) -> np.ndarray:
    """A limit on the z-score scale back on the indicator's scale, clipped to its range.

    ``"raw"``: clipped to ``[0, hi_clip]``. ``"arcsine"``: the angle is clipped to
    ``[0, π/2]`` and mapped back by ``sin²`` (so a limit below 0 becomes 0 rather than
    folding back up; FunnelPlotR truncates such limits the same way).
    """
    if check_z_scale(z_scale) == "raw":
        return np.clip(limit, 0.0, hi_clip)
    return np.sin(np.clip(limit, 0.0, np.pi / 2)) ** 2


def overdispersion(
    z: np.ndarray | Sequence[float],
    variance: np.ndarray | Sequence[float],
    groups: np.ndarray | Sequence | None = None,
) -> pd.DataFrame:
    """Spiegelhalter's (2005) over-dispersion estimates from z-scores, per group.

    The z-scores of each group are winsorised at its 10th and 90th percentiles (``numpy.quantile``,
    linear interpolation = R's type 7): values below the 10th are set to it, above the 90th to it.
    ``φ = Σ z_w² / I`` — the divisor is I, the number of units with a z-score in the group.
    ``τ² = (I·φ − (I − 1)) / (Σw − Σw²/Σw)`` with ``w = 1/s²`` (s² the null variance of each
    unit's indicator) when ``I·φ > I − 1``, else 0 (the DerSimonian–Laird-type estimate).

    Under no over-dispersion winsorising biases φ down (to about 0.68 for normal z), so φ < 1
    is usual and means "no evidence of over-dispersion"; τ² is then 0.

    Parameters
    ----------
    z : array-like
        z-scores ``(y − θ)/s``; NaN entries are ignored.
    variance : array-like
        The null variance s² of each indicator (``θ(1−θ)/n`` for a proportion).
    groups : array-like, optional
        Group labels (e.g. years); one group when omitted.

    Returns
    -------
    DataFrame, one row per group, with columns ``group``, ``units`` (I), ``phi``, ``tau2`` and
    ``note`` (φ and τ² are NaN when fewer than 2 units have a z-score).
    """
    z = np.asarray(z, dtype=float).ravel()
    var = np.asarray(variance, dtype=float).ravel()
    g = np.zeros(z.size, dtype=int) if groups is None else np.asarray(groups).ravel()
    df = pd.DataFrame({"g": g, "z": z, "w": 1.0 / np.where(var > 0, var, np.nan)})
    df = df[np.isfinite(df["z"]) & np.isfinite(df["w"])]
    grp = df.groupby("g", sort=True)
    q_lo = grp["z"].transform("quantile", WINSOR)
    q_hi = grp["z"].transform("quantile", 1 - WINSOR)
    df = df.assign(zw2=df["z"].clip(q_lo, q_hi) ** 2, w2=df["w"] ** 2)
    agg = df.groupby("g", sort=True).agg(
        units=("z", "size"), zw2=("zw2", "sum"), s1=("w", "sum"), s2=("w2", "sum")
    )
    all_groups = pd.Index(pd.unique(g), name="g")
    agg = agg.reindex(all_groups).fillna({"units": 0}).astype({"units": int})
    units = agg["units"].to_numpy()
    enough = units >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(enough, agg["zw2"].to_numpy() / units, np.nan)
        denom = agg["s1"].to_numpy() - agg["s2"].to_numpy() / agg["s1"].to_numpy()
        excess = units * phi - (units - 1)
        tau2 = np.where(enough, np.where(excess > 0, excess / denom, 0.0), np.nan)
    note = _notes(len(agg), (~enough, "over-dispersion not estimated: fewer than 2 units with a z-score"))
    return pd.DataFrame(
        {"group": agg.index.to_numpy(), "units": units, "phi": phi, "tau2": tau2, "note": note}
    )
