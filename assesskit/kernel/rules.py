"""The rule registry: everything about each rule type, in one entry.

A rule type is one :class:`RuleType` in :data:`RULE_TYPES` (the YAML ``type`` is its key):
its vectorised function, the describer that words the reason for lost points, its
parameter model (pydantic, validated when the scheme loads), the checks it needs against
the rest of the scheme, whether it compares a unit with its peers, whether it works on
arrays with a leading draws axis, its breakpoints (for counterfactuals), its alternative
form (for the ``rule_form`` sensitivity factor) and its direction. Everything else — the
scheme loader, the scoring engine, the sensitivity engine, counterfactuals, report
dependencies, the composite counterpart — asks the registry.

A rule function maps arrays over the scored rows (unit-years) to the *fraction* of the
item's points earned, in ``[0, 1]``, with NaN where the value (or the target, or the
previous year) is missing; a *score* rule (``normalise``) returns the item's score itself.
The engine turns fractions into points and applies the scheme's missing-data policy. The
describer words the reason from the same arrays, so the explanation can never disagree
with the arithmetic.

Adding a rule type: its model, function and describer here, one :func:`register` call
(see ``curve``), and its tests. The scheme's rule union is built from the registry when
:mod:`assesskit.scheme` is imported, so register in this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..exceptions import Problem
from .aggregate import normalise as normalise_kernel

if TYPE_CHECKING:
    from ..scheme import Item, Scheme

Op = Literal[">=", "<=", ">", "<"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- targets
class CategoryTarget(_Model):
    """One target per unit category (classified assessment, 分类考核)."""

    by_category: dict[str, float]
    default: float | None = None


class TableTarget(_Model):
    """One target per unit and year, read from a target table (column ``table``)."""

    table: str
    default: float | None = None


Target = Union[float, CategoryTarget, TableTarget]


# --------------------------------------------------------------------------- rules
class _Rule(_Model):
    indicator: str
    assumption: str | None = None


class ThresholdRule(_Rule):
    """Full points when ``value op target`` holds, none otherwise."""

    type: Literal["threshold"]
    op: Op = ">="
    target: Target


class LinearRule(_Rule):
    """Credit rising linearly from 0 at ``floor`` to full at ``target`` (either direction)."""

    type: Literal["linear"]
    floor: float
    target: Target
    op: Literal[">=", "<="] = ">="


class Band(_Model):
    at: float
    fraction: float = Field(ge=0, le=1)


class BandsRule(_Rule):
    """Tiers of credit: the first band whose bound the value meets gives its fraction.

    With ``relative: true`` the bounds are offsets from the target (``at: -2`` = two
    below the target for ``>=``).
    """

    type: Literal["bands"]
    op: Literal[">=", "<="] = ">="
    bands: list[Band] = Field(min_length=1)
    target: Target | None = None
    relative: bool = False

    @model_validator(mode="after")
    def _check(self) -> BandsRule:
        ats = [b.at for b in self.bands]
        fr = [b.fraction for b in self.bands]
        ordered = ats == sorted(ats, reverse=(self.op == ">="))
        if not ordered or fr != sorted(fr, reverse=True):
            raise ValueError(
                "bands must run from the best to the worst: bounds "
                f"{'falling' if self.op == '>=' else 'rising'} and fractions falling, got {ats} / {fr}"
            )
        if self.relative and self.target is None:
            raise ValueError("relative bands need a target")
        return self


class RangeRule(_Rule):
    """Full points inside ``[low, high]``; outside, credit falls linearly to 0 over
    ``tolerance`` (0 = none outside)."""

    type: Literal["range"]
    low: float
    high: float
    tolerance: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> RangeRule:
        if self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        return self


class ChangeRule(_Rule):
    """Change against the same unit's previous year.

    ``direction: decrease`` — met when ``previous − value ≥ min_change``;
    ``increase`` — met when ``value − previous ≥ min_change``;
    ``toward`` — met when the distance to the ``normal`` range shrinks by at least
    ``min_change``. With ``normal`` given, a value already inside it is met too
    (e.g. the sex ratio "falls clearly and trends toward normal"). No previous year →
    missing.
    """

    type: Literal["change"]
    direction: Literal["decrease", "increase", "toward"]
    min_change: float = Field(0.0, ge=0)
    normal: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _check(self) -> ChangeRule:
        if self.direction == "toward" and self.normal is None:
            raise ValueError("direction 'toward' needs a normal range [low, high]")
        return self


class GradedRule(_Rule):
    """Inspector grades: awarded points (``scale: points``), a fraction 0–1, a percent
    0–100, or labels mapped to fractions (``labels: {优: 1, 良: 0.8}``)."""

    type: Literal["graded"]
    scale: Literal["points", "fraction", "percent", "labels"] = "points"
    labels: dict[str, float] | None = None

    @model_validator(mode="after")
    def _check(self) -> GradedRule:
        if (self.scale == "labels") != (self.labels is not None):
            raise ValueError("labels are given exactly when scale is 'labels'")
        if self.labels and not all(0 <= v <= 1 for v in self.labels.values()):
            raise ValueError("label fractions must lie in [0, 1]")
        return self


class PerCaseRule(_Rule):
    """Points lost per case counted in ``indicator``, at most ``cap`` (default: the
    item's points)."""

    type: Literal["per_case"]
    points_per_case: float = Field(gt=0)
    cap: float | None = Field(None, gt=0)


class NormaliseRule(_Rule):
    """Composite-index normalisation against the peers (same year and kind of unit).

    The item's score is the normalised value itself, not a share of points: min-max onto
    ``scale`` = [l, u]; z-score with mean and sd ``mean_sd``; ``goalposts`` [low, high, a]
    (truncated to [0, 1], times a); ``rank`` (1 = lowest, ties share the lowest rank);
    ``percentile`` rank (rank − 1)/(n − 1); ``distance`` to ``target``,
    1 − (target − x)/(target − min x), capped at 1 when ``cap``. ``direction: -1`` reverses
    the indicator before normalising (the goalposts and target flip with it). The formulas
    are those of the JRC's COINr (``n_minmax``, ``n_zscore``, ``n_goalposts``, ``n_rank``,
    ``n_prank``, ``n_dist2targ``).
    """

    type: Literal["normalise"]
    method: Literal["minmax", "zscore", "goalposts", "rank", "percentile", "distance"] = "minmax"
    direction: Literal[1, -1] = 1
    scale: tuple[float, float] = (0.0, 100.0)
    mean_sd: tuple[float, float] = (0.0, 1.0)
    goalposts: tuple[float, float, float] | None = None
    target: float | None = None
    cap: bool = False

    @model_validator(mode="after")
    def _check(self) -> NormaliseRule:
        if self.method == "minmax" and not self.scale[0] < self.scale[1]:
            raise ValueError(f"scale {list(self.scale)} must rise (lower bound first)")
        if self.method == "zscore" and self.mean_sd[1] <= 0:
            raise ValueError("mean_sd: the standard deviation must be positive")
        if self.method == "goalposts":
            if self.goalposts is None:
                raise ValueError("method goalposts needs goalposts: [low, high, a]")
            if self.goalposts[0] == self.goalposts[1]:
                raise ValueError("goalposts: low and high must differ")
        if self.method == "distance" and self.target is None:
            raise ValueError("method distance needs a target")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """The lowest and highest score the method can give (NaN where unbounded)."""
        nan = float("nan")
        return {
            "minmax": self.scale,
            "zscore": (nan, nan),
            "goalposts": (0.0, self.goalposts[2]) if self.goalposts else (nan, nan),
            "rank": (1.0, nan),
            "percentile": (0.0, 1.0),
            "distance": (nan, 1.0 if self.cap else nan),
        }[self.method]


class Knot(_Model):
    at: float
    fraction: float = Field(ge=0, le=1)


class CurveRule(_Rule):
    """Piecewise-linear credit: the fraction is interpolated between ``knots`` [at,
    fraction] (bounds strictly rising) and flat beyond the first and the last knot.

    With ``relative: true`` the bounds are offsets from the target (``at: -5`` = five below
    it), so one curve serves per-unit or per-category targets. Two knots give ``linear``;
    a step needs two knots a hair apart (use ``bands`` for steps).
    """

    type: Literal["curve"]
    knots: list[Knot] = Field(min_length=2)
    target: Target | None = None
    relative: bool = False

    @model_validator(mode="after")
    def _check(self) -> CurveRule:
        ats = [k.at for k in self.knots]
        if any(b <= a for a, b in zip(ats, ats[1:])):
            raise ValueError(f"knot bounds must rise strictly, got {ats}")
        if self.relative and self.target is None:
            raise ValueError("a relative curve needs a target")
        return self


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


def _nan_where(out: np.ndarray, *arrays: np.ndarray) -> np.ndarray:
    """``out`` with NaN wherever one of ``arrays`` is NaN.

    ``out`` must be a fresh array of the rule's own making (never one of its inputs): it is
    written in place when its shape is the result's, which saves a pass over the rows.
    """
    bad = np.isnan(arrays[0])
    for a in arrays[1:]:
        bad = bad | np.isnan(a)
    if out.shape == np.broadcast_shapes(out.shape, bad.shape) and out.flags.writeable and out.dtype == float:
        np.copyto(out, np.nan, where=bad)
        return out
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
def threshold(rule: ThresholdRule, x: RuleInput) -> np.ndarray:
    """1 where ``value op target`` holds, else 0."""
    with np.errstate(invalid="ignore"):
        out = _CMP[rule.op](x.value, x.target).astype(float)
    return _nan_where(out, x.value, x.target)


def linear(rule: LinearRule, x: RuleInput) -> np.ndarray:
    """``(value − floor) / (target − floor)`` clipped to [0, 1]; the sign of the span
    gives the direction, so one formula serves ≥ and ≤ targets."""
    span = x.target - rule.floor
    # the span must point the way of `op`; a target at (or beyond) the floor degenerates to a
    # threshold on the target rather than inverting the credit (the loader rejects such
    # fixed and category targets; table targets can still arrive that way)
    with np.errstate(invalid="ignore", divide="ignore"):
        improper = span <= 0 if rule.op == ">=" else span >= 0  # NaN spans are neither
        if improper.any():
            proper = span > 0 if rule.op == ">=" else span < 0
            frac = (x.value - rule.floor) / np.where(proper, span, 1.0)
            frac = np.where(proper, frac, _CMP[rule.op](x.value, x.target))
        else:  # every span points the right way (or is NaN, which the mask below restores)
            frac = np.subtract(x.value, rule.floor)
            frac = np.divide(frac, span, out=frac) if frac.shape == np.shape(span) else frac / span
    np.clip(frac, 0.0, 1.0, out=frac)
    frac += 0.0  # no -0.0
    return _nan_where(frac, x.value, x.target)


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


def range_(rule: RangeRule, x: RuleInput) -> np.ndarray:
    """1 inside ``[low, high]``; outside, ``1 − distance / tolerance`` (0 without one)."""
    d = _distance(x.value, rule.low, rule.high)
    if rule.tolerance > 0:
        out = np.clip(1.0 - d / rule.tolerance, 0.0, 1.0)
    else:
        out = (d == 0).astype(float)
    return _nan_where(out, x.value)


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


def graded(rule: GradedRule, x: RuleInput) -> np.ndarray:
    """Inspector grades as fractions: points / max, fraction, percent / 100, or labels."""
    if rule.scale == "labels":
        lab = pd.Series(x.value, dtype=object)
        return lab.map(rule.labels).astype(float).to_numpy()
    v = np.asarray(x.value, dtype=float)
    div = {"points": x.points, "fraction": 1.0, "percent": 100.0}[rule.scale]
    out = np.divide(v, div)
    return np.clip(out, 0.0, 1.0, out=out)  # in place; NaN stays NaN, so no mask is needed


def per_case(rule: PerCaseRule, x: RuleInput) -> np.ndarray:
    """``1 − min(cases × points_per_case, cap) / points`` (cap defaults to the item)."""
    cap = rule.cap if rule.cap is not None else x.points
    lost = np.minimum(x.value * rule.points_per_case, cap)
    return _nan_where(1.0 - lost / x.points, x.value)


def normalise(rule: NormaliseRule, x: RuleInput) -> np.ndarray:
    """The normalised value among the row's peers (:func:`assesskit.kernel.aggregate.normalise`)."""
    group = x.group if x.group is not None else np.zeros(x.value.shape, dtype=np.int64)
    return normalise_kernel(x.value.astype(float), group, rule)


def _d_curve(rule: CurveRule, x: dict) -> np.ndarray:
    knots = ", ".join(
        f"{k.at:+g}→{k.fraction:g}" if rule.relative else f"{k.at:g}→{k.fraction:g}" for k in rule.knots
    )
    if rule.relative:
        return cat("value ", fmt(x["value"]), ", target ", fmt(x["target"]), f", credit curve {knots}")
    return cat("value ", fmt(x["value"]), f", credit curve {knots}")


def curve(rule: CurveRule, x: RuleInput) -> np.ndarray:
    """The fraction interpolated between the knots (flat beyond the ends); any array shape."""
    at = np.array([k.at for k in rule.knots])
    fr = np.array([k.fraction for k in rule.knots])
    v = x.value - x.target if rule.relative else x.value
    out = np.interp(np.where(np.isnan(v), at[0], v), at, fr)
    return _nan_where(out, x.value, x.target) if rule.relative else _nan_where(out, x.value)


# --------------------------------------------------------------------------- the registry
Breakpoints = Callable[..., list[float]]
"""``(rule, target, *, prev=nan, points=None) -> list[float]``: indicator values of one row
at which the rule's credit changes (kinks and steps), for counterfactual searches. ``target``
and ``prev`` are the row's target and previous-year value, ``points`` the item's maximum."""


@dataclass(frozen=True)
class RuleType:
    """Everything about one rule type (see the module docstring).

    Attributes
    ----------
    name : str
        The YAML ``type``.
    fn : callable
        ``fn(rule, RuleInput) -> ndarray``: the share of points earned (0–1, NaN = missing),
        or the score itself when ``score``.
    describe : callable
        ``describe(rule, {"value", "target", "prev"}) -> ndarray of text``: what the rule saw
        on the rows that lost points.
    model : type
        The pydantic model of the rule's parameters (``type: Literal[name]``).
    peer : bool
        True when a unit's credit depends on its peers (``RuleInput.group``), False when it
        depends on the unit's own row (and previous year) only.
    broadcasts : bool
        True when ``fn`` accepts arrays with a leading draws axis, ``(draws, rows)``;
        False when it needs 1-D arrays (the caller flattens).
    breakpoints : callable or None
        See :data:`Breakpoints`; None when the credit has no breakpoints to search.
    alternative : callable or None
        ``alternative(item, floor, ceiling) -> rule``: the rule's other form for the
        ``rule_form`` sensitivity factor (all-or-nothing ↔ proportional); it reads the
        item's target from the target array. None when the type has no other form.
    direction : callable or None
        ``direction(rule) -> int``: +1 when a higher value never earns less, −1 when a lower
        one never does, 0 when this rule is not monotone. None when no rule of this type
        has a direction (or, for ``normalise``, no point credit to turn into an index).
    check : callable or None
        ``check(item, scheme, where) -> list[Problem]``: checks of the item against the
        rest of the scheme (indicator kinds, points), run by ``check_scheme``.
    score : bool
        True when ``fn`` returns the item's score (composite indices), not a share of its
        points: such an item needs no points and has no target to miss.
    """

    name: str
    fn: Callable[[Any, RuleInput], np.ndarray]
    describe: Callable[[Any, dict], np.ndarray]
    model: type[BaseModel]
    peer: bool = False
    broadcasts: bool = True
    breakpoints: Breakpoints | None = None
    alternative: Callable[..., BaseModel] | None = None
    direction: Callable[[Any], int] | None = None
    check: Callable[[Item, Scheme, str], list[Problem]] | None = None
    score: bool = False


RULE_TYPES: dict[str, RuleType] = {}
"""Every rule type by name, in registration order (the order of the scheme's rule union)."""

# views kept for existing imports (RULE_TYPES is the registry): name → fn, name → describe,
# and the rules that return the item's score itself (composite indices)
RULES: dict[str, Callable] = {}
DESCRIBERS: dict[str, Callable] = {}
SCORE_RULES: set[str] = set()


def register(entry: RuleType) -> RuleType:
    """Add a rule type to the registry (its name must be new)."""
    if entry.name in RULE_TYPES:
        raise ValueError(f"rule type '{entry.name}' is already registered")
    if entry.model.model_fields["type"].annotation != Literal[entry.name]:
        raise ValueError(f"rule type '{entry.name}': its model's type must be Literal['{entry.name}']")
    RULE_TYPES[entry.name] = entry
    RULES[entry.name] = entry.fn
    DESCRIBERS[entry.name] = entry.describe
    if entry.score:
        SCORE_RULES.add(entry.name)
    return entry


def rule_type(name: str) -> RuleType:
    """The registry entry of rule type ``name`` (KeyError naming the known types)."""
    try:
        return RULE_TYPES[name]
    except KeyError:
        raise KeyError(f"unknown rule type '{name}'; known: {', '.join(RULE_TYPES)}") from None


def rule_union() -> Any:
    """The pydantic type of a rule: every registered model, told apart by ``type``."""
    return Annotated[Union[tuple(t.model for t in RULE_TYPES.values())], Field(discriminator="type")]


# --------------------------------------------------------------------------- entry helpers
_UP = {">=": 1, ">": 1, "<=": -1, "<": -1}


def _by_op(rule) -> int:
    return _UP[rule.op]


def _target_values(t) -> list[float]:
    """The numbers a target states in the scheme (fixed, per category, or a default)."""
    if isinstance(t, (int, float)):
        return [float(t)]
    return list(getattr(t, "by_category", {}).values()) + ([t.default] if t.default is not None else [])


def _need_kind(item: Item, scheme: Scheme, where: str, kind: str, why: str) -> list[Problem]:
    ind = scheme.indicators.get(item.rule.indicator)
    if ind is None or ind.kind == kind:
        return []
    return [
        Problem(
            where, f"{item.rule.type} reads '{item.rule.indicator}', which must be declared kind: {kind}{why}"
        )
    ]


def _as_linear(item, floor: float = 0.0, ceiling: float | None = None) -> LinearRule:
    r = item.rule
    up = r.op in (">=", ">")
    return LinearRule(
        type="linear",
        indicator=r.indicator,
        floor=floor if up else ceiling,
        target=0.0,
        op=">=" if up else "<=",
    )


def _as_threshold(item, floor: float = 0.0, ceiling: float | None = None) -> ThresholdRule:
    return ThresholdRule(type="threshold", indicator=item.rule.indicator, op=item.rule.op, target=0.0)


def _bp_change(rule: ChangeRule, target: float, *, prev: float = math.nan, points=None) -> list[float]:
    p, mc = prev, rule.min_change
    if rule.direction == "decrease":
        out = [p - mc, p]
    elif rule.direction == "increase":
        out = [p + mc, p]
    else:
        lo, hi = rule.normal
        dp = max(lo - p, p - hi, 0.0)
        out = [lo, hi, lo - (dp - mc), hi + (dp - mc), lo - dp, hi + dp]
    return out + (list(rule.normal) if rule.normal is not None else [])


def _check_linear(item: Item, scheme: Scheme, where: str) -> list[Problem]:
    r = item.rule
    up = r.op == ">="
    return [
        Problem(
            where,
            f"floor {r.floor:g} must lie {'below' if up else 'above'} the target {v:g} for op '{r.op}'",
        )
        for v in _target_values(r.target)
        if ((r.floor >= v) if up else (r.floor <= v))
    ]


def _check_graded(item: Item, scheme: Scheme, where: str) -> list[Problem]:
    r = item.rule
    ind = scheme.indicators.get(r.indicator)
    if ind is None or (r.scale == "labels") == (ind.kind == "label"):
        return []
    return [
        Problem(
            where,
            f"indicator '{r.indicator}' must be declared with kind: label exactly "
            "when the item's grades are labels (scale: labels)",
        )
    ]


def _check_per_case(item: Item, scheme: Scheme, where: str) -> list[Problem]:
    r = item.rule
    out = _need_kind(item, scheme, where, "count", "")
    if r.cap is not None and r.cap > item.points:
        out.append(Problem(where, f"cap {r.cap:g} exceeds the item's {item.points:g} points"))
    return out


def _check_normalise(item: Item, scheme: Scheme, where: str) -> list[Problem]:
    r = item.rule
    lo, hi = r.bounds
    policy = item.missing or scheme.missing
    out = []
    if item.points is not None and not (math.isfinite(hi) and abs(item.points - hi) <= 1e-9):
        top = f"its scale's maximum, {hi:g}" if math.isfinite(hi) else "nothing: the scale has no maximum"
        out.append(
            Problem(where, f"points {item.points:g} must state {top} (a normalised score is not scaled)")
        )
    if policy == "full" and not math.isfinite(hi):
        out.append(Problem(where, f"missing: full needs a scale with a maximum; '{r.method}' has none"))
    if not math.isfinite(lo) and scheme.floor is not None:
        out.append(
            Problem(
                where,
                f"'{r.method}' scores can be negative, but the scheme's floor {scheme.floor:g} would clip "
                "the totals; set floor: null",
            )
        )
    return out


def _curve_direction(rule: CurveRule) -> int:
    d = np.diff([k.fraction for k in rule.knots])
    return 1 if (d >= 0).all() and d.any() else -1 if (d <= 0).all() and d.any() else 0


# --------------------------------------------------------------------------- the entries
register(
    RuleType(
        "threshold", threshold, _d_cmp, ThresholdRule,
        breakpoints=lambda rule, target, **_: [target],
        alternative=_as_linear,
        direction=_by_op,
    )
)  # fmt: skip
register(
    RuleType(
        "linear", linear, _d_linear, LinearRule,
        breakpoints=lambda rule, target, **_: [rule.floor, target],
        alternative=_as_threshold,
        direction=_by_op,
        check=_check_linear,
    )
)  # fmt: skip
register(
    RuleType(
        "bands", bands, _d_bands, BandsRule,
        broadcasts=False,  # written for 1-D rows (bounds are rows × bands)
        breakpoints=lambda rule, target, **_: [b.at + (target if rule.relative else 0.0) for b in rule.bands],
        direction=_by_op,
    )
)  # fmt: skip
register(
    RuleType(
        "range", range_, _d_range, RangeRule,
        breakpoints=lambda r, target, **_: [r.low, r.high, r.low - r.tolerance, r.high + r.tolerance],
    )
)  # fmt: skip
register(RuleType("change", change, _d_change, ChangeRule, breakpoints=_bp_change))
register(
    RuleType(
        "graded", graded, _d_graded, GradedRule,  # label grades (object arrays) are always passed flat
        breakpoints=lambda rule, target, *, points=None, **_: [
            0.0, {"points": points, "fraction": 1.0, "percent": 100.0}.get(rule.scale, 1.0)
        ],
        direction=lambda rule: 0 if rule.scale == "labels" else 1,
        check=_check_graded,
    )
)  # fmt: skip
register(
    RuleType(
        "per_case", per_case, _d_per_case, PerCaseRule,
        breakpoints=lambda rule, target, *, points=None, **_: [
            0.0, (rule.cap if rule.cap is not None else points) / rule.points_per_case
        ],
        direction=lambda rule: -1,  # more cases never earn more
        check=_check_per_case,
    )
)  # fmt: skip
register(
    RuleType(
        "normalise", normalise, _d_normalise, NormaliseRule,
        peer=True, broadcasts=False, check=_check_normalise, score=True,
    )
)  # fmt: skip
register(
    RuleType(
        "curve", curve, _d_curve, CurveRule,
        breakpoints=lambda rule, target, **_: [k.at + (target if rule.relative else 0.0) for k in rule.knots],
        direction=_curve_direction,
    )
)  # fmt: skip
