"""The rule registry: one vectorised function per rule type.

A rule function maps arrays over the scored rows (unit-years) to the *fraction* of the
item's points earned, in ``[0, 1]``, with NaN where the value (or the target, or the
previous year) is missing. The engine turns fractions into points and applies the
scheme's missing-data policy. A new rule type is one function here, one ``@register``
line, and one model in :mod:`assesskit.scheme`.

Each rule also has a *describer* that words the reason for lost points from the same
arrays, so the explanation can never disagree with the arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .composite import normalise as normalise_kernel
from .scheme import (
    BandsRule,
    ChangeRule,
    GradedRule,
    LinearRule,
    NormaliseRule,
    PerCaseRule,
    RangeRule,
    ThresholdRule,
)


@dataclass(frozen=True)
class RuleInput:
    """What a rule sees, as arrays over the scored rows.

    Attributes
    ----------
    value : ndarray
        The indicator's value (float; object for label grades).
    target : ndarray
        The item's target per row (NaN where the rule has none or it is unknown).
    prev : ndarray
        The indicator's value in the same unit's previous year (NaN when absent).
    points : float or None
        The item's maximum points (None for a ``normalise`` item without stated points).
    group : ndarray of int, optional
        Peer group of each row (year × kind of unit), for rules that compare a unit with
        its peers (``normalise``).
    """

    value: np.ndarray
    target: np.ndarray
    prev: np.ndarray
    points: float | None
    group: np.ndarray | None = None


RuleFn = Callable[[object, RuleInput], np.ndarray]
Describer = Callable[[object, dict], np.ndarray]

RULES: dict[str, RuleFn] = {}
DESCRIBERS: dict[str, Describer] = {}
SCORE_RULES: set[str] = set()
"""Rules that return the item's score itself (composite indices), not a share of its points."""


def register(name: str, describe: Describer, *, score: bool = False) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function and its describer under ``name`` (the YAML ``type``).

    A rule returns the share of the item's points earned (0–1, NaN = missing); with
    ``score=True`` it returns the item's score itself (a normalised value).
    """

    def deco(fn: RuleFn) -> RuleFn:
        RULES[name] = fn
        DESCRIBERS[name] = describe
        if score:
            SCORE_RULES.add(name)
        return fn

    return deco


def _nan_where(out: np.ndarray, *arrays: np.ndarray) -> np.ndarray:
    bad = np.zeros(out.shape, dtype=bool)
    for a in arrays:
        bad |= np.isnan(a)
    return np.where(bad, np.nan, out)


_CMP = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less}


TEXT = np.dtypes.StringDType()


def fmt(v: np.ndarray, digits: int = 4) -> np.ndarray:
    """Numbers as short text — up to ``digits`` decimals, no trailing zeros, '—' for NaN.

    Vectorised through integers: numpy's float-to-text is ~1 µs a value, integer-to-text
    and numpy string ufuncs a tenth of that, which matters for millions of reasons.
    """
    v = np.asarray(v, dtype=float)
    bad = ~np.isfinite(v)
    scale = 10**digits
    q = np.round(np.abs(np.where(bad, 0.0, v)) * scale).astype(np.int64)
    whole, part = np.divmod(q, scale)
    txt = whole.astype(TEXT)
    decimals = np.strings.rstrip(np.strings.zfill(part.astype(TEXT), digits), "0")
    txt = np.where(part > 0, cat(txt, ".", decimals), txt)
    txt = np.where((v < 0) & (q > 0), cat("-", txt), txt)
    return np.where(bad, "—", txt).astype(TEXT)


def cat(*parts) -> np.ndarray:
    """Concatenate strings and arrays of strings element-wise."""
    out = parts[0]
    for p in parts[1:]:
        out = np.strings.add(np.asarray(out, dtype=TEXT), np.asarray(p, dtype=TEXT))
    return np.asarray(out, dtype=TEXT)


# --------------------------------------------------------------------------- describers
# A describer gets the rows that lost points as arrays (value, target, prev) and words
# what the rule saw; the engine adds "missed:" / "partial credit:" and the points.
def _d_cmp(rule, x: dict) -> np.ndarray:
    op = getattr(rule, "op", ">=")
    return cat("value ", fmt(x["value"]), f", target {op} ", fmt(x["target"]))


def _d_linear(rule: LinearRule, x: dict) -> np.ndarray:
    return cat(
        "value ",
        fmt(x["value"]),
        f", linear credit from {rule.floor:g} (none) to ",
        fmt(x["target"]),
        " (full)",
    )


def _d_bands(rule: BandsRule, x: dict) -> np.ndarray:
    bands = ", ".join(
        f"{rule.op} {b.at:+g}→{b.fraction:g}" if rule.relative else f"{rule.op} {b.at:g}→{b.fraction:g}"
        for b in rule.bands
    )
    if rule.relative:
        return cat("value ", fmt(x["value"]), ", target ", fmt(x["target"]), f", bands {bands}")
    return cat("value ", fmt(x["value"]), f", bands {bands}")


def _d_range(rule: RangeRule, x: dict) -> np.ndarray:
    tol = f" (credit falls to 0 within {rule.tolerance:g} outside)" if rule.tolerance else ""
    return cat("value ", fmt(x["value"]), f", normal range {rule.low:g}–{rule.high:g}{tol}")


def _d_change(rule: ChangeRule, x: dict) -> np.ndarray:
    least = f" of at least {rule.min_change:g}" if rule.min_change > 0 else ""
    need = {
        "decrease": f"a fall{least}",
        "increase": f"a rise{least}",
        "toward": f"moving{least.replace(' of', '')} toward",
    }[rule.direction]
    normal = f" (or inside {rule.normal[0]:g}–{rule.normal[1]:g})" if rule.normal else ""
    if rule.direction == "toward":
        normal = f" {rule.normal[0]:g}–{rule.normal[1]:g} (or inside it)"
    return cat("value ", fmt(x["value"]), ", previous year ", fmt(x["prev"]), f", needs {need}{normal}")


def _d_graded(rule: GradedRule, x: dict) -> np.ndarray:
    v = x["value"]
    shown = fmt(v) if v.dtype != object else np.array(["—" if g is None else str(g) for g in v], dtype=TEXT)
    return cat("inspector grade ", shown, f" ({rule.scale})")


def _d_per_case(rule: PerCaseRule, x: dict) -> np.ndarray:
    cap = f", at most {rule.cap:g}" if rule.cap else ""
    return cat(fmt(x["value"]), f" cases × {rule.points_per_case:g} points{cap}")


def _d_normalise(rule: NormaliseRule, x: dict) -> np.ndarray:
    how = {
        "minmax": f"min-max onto {rule.scale[0]:g}–{rule.scale[1]:g}",
        "zscore": f"z-score (mean {rule.mean_sd[0]:g}, sd {rule.mean_sd[1]:g})",
        "goalposts": "goalposts "
        + (f"{rule.goalposts[0]:g}–{rule.goalposts[1]:g} × {rule.goalposts[2]:g}" if rule.goalposts else ""),
        "rank": "rank (1 = lowest)",
        "percentile": "percentile rank",
        "distance": f"distance to target {rule.target:g}" if rule.target is not None else "",
    }[rule.method]
    flip = ", direction reversed" if rule.direction == -1 else ""
    return cat("value ", fmt(x["value"]), f", {how} among its peers{flip}")


# --------------------------------------------------------------------------- rules
@register("threshold", _d_cmp)
def threshold(rule: ThresholdRule, x: RuleInput) -> np.ndarray:
    """1 where ``value op target`` holds, else 0."""
    with np.errstate(invalid="ignore"):
        out = _CMP[rule.op](x.value, x.target).astype(float)
    return _nan_where(out, x.value, x.target)


@register("linear", _d_linear)
def linear(rule: LinearRule, x: RuleInput) -> np.ndarray:
    """``(value − floor) / (target − floor)`` clipped to [0, 1]; the sign of the span
    gives the direction, so one formula serves ≥ and ≤ targets."""
    span = x.target - rule.floor
    # the span must point the way of `op`; a target at (or beyond) the floor degenerates to a
    # threshold on the target rather than inverting the credit (the loader rejects such
    # fixed and category targets; table targets can still arrive that way)
    proper = span > 0 if rule.op == ">=" else span < 0
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (x.value - rule.floor) / np.where(proper, span, 1.0)
        frac = np.where(proper, frac, _CMP[rule.op](x.value, x.target))
    return _nan_where(np.clip(frac, 0.0, 1.0) + 0.0, x.value, x.target)  # + 0.0: no -0.0


@register("bands", _d_bands)
def bands(rule: BandsRule, x: RuleInput) -> np.ndarray:
    """The fraction of the first (best) band whose bound the value meets, else 0."""
    at = np.array([b.at for b in rule.bands])
    fr = np.array([b.fraction for b in rule.bands])
    bounds = at[None, :] + (x.target[:, None] if rule.relative else 0.0)
    with np.errstate(invalid="ignore"):
        ok = _CMP[rule.op](x.value[:, None], bounds)
    first = ok.argmax(axis=1)
    out = np.where(ok.any(axis=1), fr[first], 0.0)
    return _nan_where(out, x.value, x.target) if rule.relative else _nan_where(out, x.value)


def _distance(v: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.maximum(np.maximum(low - v, v - high), 0.0)


@register("range", _d_range)
def range_(rule: RangeRule, x: RuleInput) -> np.ndarray:
    """1 inside ``[low, high]``; outside, ``1 − distance / tolerance`` (0 without one)."""
    d = _distance(x.value, rule.low, rule.high)
    if rule.tolerance > 0:
        out = np.clip(1.0 - d / rule.tolerance, 0.0, 1.0)
    else:
        out = (d == 0).astype(float)
    return _nan_where(out, x.value)


@register("change", _d_change)
def change(rule: ChangeRule, x: RuleInput) -> np.ndarray:
    """Met (1) when the value moved the required way by at least ``min_change`` since
    the previous year (and by more than nothing), or sits inside ``normal``; else 0."""
    v, p = x.value, x.prev
    if rule.direction == "decrease":
        gain = p - v
    elif rule.direction == "increase":
        gain = v - p
    else:
        lo, hi = rule.normal
        gain = _distance(p, lo, hi) - _distance(v, lo, hi)
    with np.errstate(invalid="ignore"):
        met = (gain >= rule.min_change) & (gain > 0)
        out = met.astype(float)
        out = _nan_where(out, v, p)
        if rule.normal is not None:
            inside = _distance(v, *rule.normal) == 0
            out = np.where(inside, 1.0, out)
    return _nan_where(out, v)


@register("graded", _d_graded)
def graded(rule: GradedRule, x: RuleInput) -> np.ndarray:
    """Inspector grades as fractions: points / max, fraction, percent / 100, or labels."""
    if rule.scale == "labels":
        lab = pd.Series(x.value, dtype=object)
        return lab.map(rule.labels).astype(float).to_numpy()
    v = x.value.astype(float)
    div = {"points": x.points, "fraction": 1.0, "percent": 100.0}[rule.scale]
    return _nan_where(np.clip(v / div, 0.0, 1.0), v)


@register("per_case", _d_per_case)
def per_case(rule: PerCaseRule, x: RuleInput) -> np.ndarray:
    """``1 − min(cases × points_per_case, cap) / points`` (cap defaults to the item)."""
    cap = rule.cap if rule.cap is not None else x.points
    lost = np.minimum(x.value * rule.points_per_case, cap)
    return _nan_where(1.0 - lost / x.points, x.value)


@register("normalise", _d_normalise, score=True)
def normalise(rule: NormaliseRule, x: RuleInput) -> np.ndarray:
    group = x.group if x.group is not None else np.zeros(x.value.shape, dtype=np.int64)
    return normalise_kernel(x.value.astype(float), group, rule)
