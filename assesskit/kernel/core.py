"""The kernel: items → node totals → vetoes and eligibility → ranks, awards and warnings,
over arrays shaped (draws × unit-years).

:func:`run` scores ``d`` draws of one scheme on one panel at once: item by item (a scheme
has tens of items), never unit by unit or draw by draw. With no :class:`Variation` it is
the nominal scoring (``d = 1``): :func:`assesskit.scoring.score_panel` is this function
wrapped in a :class:`~assesskit.scoring.ScoreResult`, and the sensitivity engine calls it
with perturbed inputs, so both share every rule, sum, condition and rank.

Order of application:

1. each item: indicator value → rule → fraction of its points (the registry's function);
   missing values follow the item's (or the scheme's) ``missing`` policy;
2. node totals: lines (and tie-break nodes) are sums of their items, added in the scheme's
   order; composite nodes are weighted means up the tree;
3. bonuses, then deductions; total = lines + bonuses − deductions, raised to the floor;
4. vetoes (``not_scored`` blanks the total; ``not_scored`` and ``veto`` unrank;
   ``ineligible`` keeps the rank, no award);
5. competition ranks within year × kind (:mod:`.rank`), award tiers, warnings.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..scheme import Condition
from .inputs import Inputs
from .rulecall import RuleInput, rule_info

EPS = 1e-12  # the tolerance for "full credit"

# Item status codes (int8 in the arrays, words in the tables).
STATUS = np.array(["met", "partial", "missed", "missing", "vetoed"], dtype=object)
MET, PARTIAL, MISSED, MISSING, VETOED = range(5)


@dataclass
class Variation:
    """What changes in each of ``size`` draws (None: nothing of that kind changes).

    Attributes
    ----------
    size : int
        The number of draws *d*.
    weight : (d, k) float
        Multiplier of each item's points.
    drop : (d, k) bool
        Items left out (no points, never missed).
    target_set, target_rel, target_add : (d, k) float
        New target = (``target_set`` where not NaN, else the item's target)
        × (1 + ``target_rel``) + ``target_add``, for the items in ``target_items``.
    forms : dict item index → (rule, (d,) bool)
        An alternative rule and the draws that use it.
    veto_on : (d, V) bool
        Which veto rules are in force.
    missing_full : (d, k) bool
        Missing-data policy per item ('full' where True, else 'zero').
    values, values_prev : dict indicator → (d, n) float
        Indicator values replaced (on the scored rows, on their previous years).
    node_weight : dict node id → (d,) float
        Composite indices: multiplier of a node's relative weight within its parent
        (sections and items under a weighted mean; COINr's noisy weights, or 0 to leave
        the node out).
    aggregation : dict node id → (methods, (d,) int)
        Composite indices: the node's aggregation in each draw, ``methods[code]``.
    rule_choice : dict item index → (rules, (d,) int)
        The item's rule in each draw, ``rules[code]`` (e.g. another normalisation).
    """

    size: int
    weight: np.ndarray | None = None
    drop: np.ndarray | None = None
    target_set: np.ndarray | None = None
    target_rel: np.ndarray | None = None
    target_add: np.ndarray | None = None
    target_items: set[int] = field(default_factory=set)
    forms: dict[int, tuple[object, np.ndarray]] = field(default_factory=dict)
    veto_on: np.ndarray | None = None
    missing_full: np.ndarray | None = None
    values: dict[str, np.ndarray] = field(default_factory=dict)
    values_prev: dict[str, np.ndarray] = field(default_factory=dict)
    node_weight: dict[str, np.ndarray] = field(default_factory=dict)
    aggregation: dict[str, tuple[tuple[str, ...], np.ndarray]] = field(default_factory=dict)
    rule_choice: dict[int, tuple[tuple[object, ...], np.ndarray]] = field(default_factory=dict)

    def ensure(self, name: str, k: int, fill) -> np.ndarray:
        """The (d, k) array ``name``, created filled with ``fill`` when absent."""
        arr = getattr(self, name)
        if arr is None:
            arr = np.full((self.size, k), fill)
            setattr(self, name, arr)
        return arr


@dataclass(frozen=True)
class Detail:
    """What the summary and item tables need beyond :class:`Outcome` (one draw, ``detail=True``).

    Arrays are (d, n) unless noted; ``points`` and ``status`` are (k, d, n).
    """

    points: np.ndarray  # 0 where the item does not apply
    status: np.ndarray  # int8 codes (STATUS)
    lines: dict[str, np.ndarray]  # line id → total (NaN for rows of another kind)
    line_ranks: dict[str, np.ndarray]
    rank_in_category: np.ndarray
    adjustments: dict[str, np.ndarray]
    bonus: np.ndarray
    deduction: np.ndarray
    effects: dict[str, list[tuple[np.ndarray, str]]]  # veto effect → (mask, label) per rule
    singles: list[tuple[np.ndarray, str]]  # single-item award → (mask, id)
    prize: np.ndarray


@dataclass(frozen=True)
class Outcome:
    """The scoring of *d* draws: arrays ``(d, n)`` over the scored rows (the inputs' order).

    Attributes
    ----------
    total : float
        Lines + bonus − deduction, raised to the floor; NaN when not scored.
    rank : float
        Competition rank within year × kind (NaN: not ranked).
    ranked, vetoed, not_scored, eligible : bool
    tier : int8
        Index of the award tier in ``scheme.outcomes.tiers`` (−1: none).
    warnings : (W, d, n) bool
        One layer per ``scheme.outcomes.warnings``.
    n_ranked : int
        Ranked units in the row's year × kind, in that draw.
    detail : Detail or None
        Item points and status, line totals and ranks, reasons (``run(..., detail=True)``).
    """

    total: np.ndarray
    rank: np.ndarray
    ranked: np.ndarray
    vetoed: np.ndarray
    not_scored: np.ndarray
    eligible: np.ndarray
    tier: np.ndarray
    warnings: np.ndarray
    n_ranked: np.ndarray
    detail: Detail | None = None

    @property
    def position(self) -> np.ndarray:
        """The rank, with unranked units tied just below the last ranked unit."""
        return np.where(self.ranked, self.rank, self.n_ranked + 1.0)


# --------------------------------------------------------------------------- rules
def apply_rule(rule, value, target, prev, points, group: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A registry rule over ``(d, n)`` inputs (or broadcastable ones) → credit ``shape``.

    Rules that broadcast get 2-D arrays; the others (and label grades) get flat arrays;
    rules that compare peers get each draw's own groups.
    """
    info = rule_info(rule.type)
    d, n = shape
    if info.peer or not info.broadcasts or np.asarray(value).dtype == object:

        def flat(a):
            return np.broadcast_to(a, shape).ravel()

        g = None
        if info.peer:
            span = int(group.max()) + 1 if group.size else 1
            g = (np.arange(d)[:, None] * span + group[None, :]).ravel()
        f = info.fn(rule, RuleInput(flat(value), flat(target), flat(prev), points, g))
        return np.asarray(f, dtype=float).reshape(shape)
    v, t, p = (np.asarray(a, dtype=float).reshape((-1, n)) for a in (value, target, prev))
    f = info.fn(rule, RuleInput(v, t, p, points, None))
    return np.broadcast_to(np.asarray(f, dtype=float), shape)


def item_credit(inp: Inputs, j: int) -> np.ndarray:
    """The nominal credit of item ``j`` over the scored rows (NaN where missing)."""
    _p, it = inp.items[j]
    r = it.rule
    nan = np.full(inp.n, np.nan)
    f = apply_rule(
        r,
        inp.values[r.indicator][None, :],
        inp.targets.get(it.id, nan)[None, :],
        inp.previous.get(it.id, nan)[None, :],
        it.points,
        inp.group,
        (1, inp.n),
    )
    return f[0]


# --------------------------------------------------------------------------- conditions
_OPS = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less, "==": np.equal}


def eval_condition(c: Condition, missed: dict[str, np.ndarray], values: dict[str, np.ndarray]) -> np.ndarray:
    """Boolean array: where the condition holds (a missing indicator value never holds)."""
    if c.missed is not None:
        return missed[c.missed]
    if c.indicator is not None:
        v = values[c.indicator].astype(float)
        with np.errstate(invalid="ignore"):
            return _OPS[c.op](v, c.value) & ~np.isnan(v)
    parts = [eval_condition(x, missed, values) for x in (c.all or c.any)]
    return np.logical_and.reduce(parts) if c.all is not None else np.logical_or.reduce(parts)


def with_credit(inp: Inputs) -> Inputs:
    """The same inputs with every rule's nominal credit computed once (for many draws)."""
    if inp.credit is not None:
        return inp
    credit = np.empty((len(inp.items), inp.n))
    for j in range(len(inp.items)):
        credit[j] = item_credit(inp, j)
    return dataclasses.replace(inp, credit=credit, _cache=dict(inp._cache))
