"""The draws engine: one scheme and panel, many perturbed scorings at once.

:func:`baseline` scores the panel once with the main engine
(:func:`assesskit.scoring.score_panel`) and keeps what every draw shares: per item the
indicator values, targets, previous-year values and nominal credit over the scored
unit-years. :func:`evaluate` then scores a chunk of *d* draws as ``d × units`` arrays —
item by item (a scheme has tens of items), never unit by unit or draw by draw — with the
engine's own rule functions, condition evaluator and rank semantics:

1. items whose credit can change in this chunk (a shifted target, another rule form,
   resampled data) are re-evaluated with the registry's rule function over the flattened
   ``d × units`` arrays; the others keep their nominal credit;
2. the missing-data policy, item points × weight, line totals (summed in the engine's
   order, so the nominal draw reproduces its totals bit for bit), adjustments, floor;
3. vetoes (each may be switched off per draw), eligibility, competition ranks within
   year × kind, award tiers, warnings.

:func:`materialise` turns one draw back into a scheme and a panel, so that the main
engine can score it: the oracle of the tests and the baseline loop of the benchmark.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data import Panel, read_panel
from ..exceptions import DataError, SchemeError
from ..rules import RULES, SCORE_RULES, RuleInput
from ..scheme import LinearRule, Scheme, ThresholdRule
from ..scoring import ScoreResult, _eval_condition, _fill_nan, _group_codes, indicator_values, score_panel

EPS = 1e-12  # the engine's tolerance for "full credit"


# --------------------------------------------------------------------------- baseline
@dataclass(frozen=True, eq=False)
class Baseline:
    """A scheme and panel scored once, with the arrays every draw starts from.

    Arrays run over the scored unit-years in the engine's internal order (``rows``); the
    nominal summary is ``result.summary`` (its row ``i`` is internal row ``order[i]``).

    Attributes
    ----------
    scheme, panel : Scheme, Panel
    years : list of int or None
        The scored years (None: every year inside the scheme's years).
    result : ScoreResult
        The main engine's nominal result.
    rows : DataFrame
        ``unit``, ``name``, ``year``, ``kind``, ``category`` of the scored unit-years.
    """

    scheme: Scheme
    panel: Panel
    years: list[int] | None
    result: ScoreResult
    rows: pd.DataFrame
    order: np.ndarray
    kind: np.ndarray
    group: np.ndarray
    points: np.ndarray  # (k,)
    applies: np.ndarray  # (k, n)
    line_of_item: np.ndarray  # (k,)
    line_kind: np.ndarray  # (L,)
    values: dict[str, np.ndarray]
    targets: np.ndarray  # (k, n)
    prev: np.ndarray  # (k, n)
    frac: np.ndarray  # (k, n) nominal credit, NaN where missing
    full: np.ndarray  # (k,) missing-data policy 'full'
    has_nan: np.ndarray  # (k,) some nominal credit is missing
    all_apply: np.ndarray  # (k,) the item applies to every scored row
    bonus: np.ndarray
    deduction: np.ndarray
    data_row: np.ndarray  # panel.data position of each scored row
    prev_row: np.ndarray  # panel.data position of its previous year (−1: none)
    ind_cols: dict[str, tuple[str, ...]]  # columns each indicator is computed from
    col_users: dict[str, tuple[str, ...]]  # indicators computed from each column
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def items(self):
        return self.scheme.flat_items

    def column(self, name: str, prev: bool = False) -> np.ndarray:
        """A panel column over the scored rows (or their previous years; NaN where none)."""
        key = (name, prev)
        if key not in self._cache:
            data = self.panel.data
            where = self.prev_row if prev else self.data_row
            col = data[name].to_numpy(dtype=float) if name in data.columns else np.full(len(data), np.nan)
            self._cache[key] = np.where(where >= 0, col[np.maximum(where, 0)], np.nan)
        return self._cache[key]

    def nominal(self) -> Outcome:
        """The nominal scoring as a one-draw :class:`Outcome` (computed once)."""
        if "nominal" not in self._cache:
            self._cache["nominal"] = evaluate(self, Perturbation(1))
        return self._cache["nominal"]

    def table(self) -> pd.DataFrame:
        """The scored unit-years (unit, name, year, kind, category) in summary order."""
        return self.rows.iloc[self.order].reset_index(drop=True)


def baseline(
    scheme: Scheme,
    data,
    *,
    units=None,
    targets=None,
    grades=None,
    year: int | list[int] | None = None,
    allow_missing_columns: bool = False,
) -> Baseline:
    """Validate the inputs (or take a :class:`~assesskit.data.Panel`) and score them once.

    Parameters
    ----------
    scheme : Scheme
    data : Panel, path or DataFrame
        A validated panel, or the panel table (then ``units``, ``targets`` and ``grades``
        are read with it, as in :func:`assesskit.score`).
    year : int or list of int, optional
        The year(s) to score; ranks are within year and kind.

    Returns
    -------
    Baseline
    """
    years = (
        [int(year)]
        if isinstance(year, numbers.Integral)
        else ([int(y) for y in year] if year is not None else None)
    )
    if years == []:
        raise DataError("year: an empty list of years; give at least one, or None for every year")
    if isinstance(data, Panel):
        panel = data
    else:
        panel = read_panel(
            scheme,
            data,
            units=units,
            targets=targets,
            grades=grades,
            years=years,
            allow_missing_columns=allow_missing_columns,
        )
    return from_result(score_panel(scheme, panel, years=years), panel, years)


def from_result(res: ScoreResult, panel: Panel, years: list[int] | None = None) -> Baseline:
    """A :class:`Baseline` from the main engine's result on ``panel``.

    Raises
    ------
    SchemeError
        For composite-index schemes (normalised items, weighted means, missing values
        that drop out): their uncertainty analysis is :func:`assesskit.composite.uncertainty`.
    """
    scheme = res.scheme
    composite = [
        it.id for _p, it in scheme.flat_items if it.rule.type in SCORE_RULES or it.points is None
    ] + [ln.id for ln in scheme.lines if not getattr(ln, "is_sum_tree", True)]
    if composite or getattr(scheme, "may_drop", False):
        raise SchemeError(
            f"scheme '{scheme.id}' is a composite index ({', '.join(composite[:5]) or 'missing: drop'}): "
            "the sensitivity engine covers point schemes; use assesskit.composite.uncertainty"
        )
    rows = res._rows
    n = len(rows)
    kind_names = list(scheme.kinds)
    kind = pd.Categorical(rows["kind"], categories=kind_names).codes.astype(np.int64)
    group = _group_codes(rows["year"].to_numpy(), kind)
    flat = scheme.flat_items
    line_ids = [ln.id for ln in scheme.lines]
    nan = np.full(n, np.nan)
    values = res._values
    targets = np.array([res._targets.get(it.id, nan) for _p, it in flat]).reshape(len(flat), n)
    prev = np.array([res._prev.get(it.id, nan) for _p, it in flat]).reshape(len(flat), n)
    frac = np.empty((len(flat), n))
    for j, (_p, it) in enumerate(flat):
        r = it.rule
        frac[j] = RULES[r.type](r, RuleInput(values[r.indicator], targets[j], prev[j], it.points))
    bonus = np.zeros(n)
    deduction = np.zeros(n)
    for adj in scheme.adjustments:  # the engine's order of summation
        if adj.kind == "bonus":
            bonus += res._adjust[adj.id]
        else:
            deduction += res._adjust[adj.id]

    data = panel.data
    key = pd.MultiIndex.from_arrays([data["unit"].to_numpy(), data["year"].to_numpy(dtype=np.int64)])
    units_ = rows["unit"].to_numpy()
    yrs = rows["year"].to_numpy(dtype=np.int64)
    data_row = key.get_indexer(pd.MultiIndex.from_arrays([units_, yrs]))
    prev_row = key.get_indexer(pd.MultiIndex.from_arrays([units_, yrs - 1]))

    cols = set(data.columns)
    ind_cols: dict[str, tuple[str, ...]] = {}
    for ind_id, ind in scheme.indicators.items():
        terms = [t.lstrip("-") for t in (ind.numerator or []) + (ind.denominator or [])]
        if ind.is_rate and all(t in cols for t in terms):
            ind_cols[ind_id] = tuple(dict.fromkeys(terms))
        else:
            ind_cols[ind_id] = (ind.column or ind_id,)
    users: dict[str, list[str]] = {}
    for ind_id, cs in ind_cols.items():
        for c in cs:
            users.setdefault(c, []).append(ind_id)

    return Baseline(
        scheme=scheme,
        panel=panel,
        years=years,
        result=res,
        rows=rows,
        order=res._order,
        kind=kind,
        group=group,
        points=np.array([it.points for _p, it in flat], dtype=float),
        applies=res._applies,
        line_of_item=np.array([line_ids.index(p[0]) for p, _it in flat], dtype=np.int64),
        line_kind=np.array([kind_names.index(ln.unit_kind) for ln in scheme.lines], dtype=np.int64),
        values=values,
        targets=targets,
        prev=prev,
        frac=frac,
        full=np.array([(it.missing or scheme.missing) == "full" for _p, it in flat]),
        has_nan=np.isnan(frac).any(axis=1),
        all_apply=res._applies.all(axis=1),
        bonus=bonus,
        deduction=deduction,
        data_row=data_row,
        prev_row=prev_row,
        ind_cols=ind_cols,
        col_users={c: tuple(u) for c, u in users.items()},
    )


# --------------------------------------------------------------------------- perturbation
@dataclass
class Perturbation:
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
    cols, cols_prev : dict column → (d, n) float
        Panel columns replaced on the scored rows (and on their previous years); every
        indicator computed from them is recomputed.
    values, values_prev : dict indicator → (d, n) float
        Indicator values replaced directly (Beta noise).
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
    cols: dict[str, np.ndarray] = field(default_factory=dict)
    cols_prev: dict[str, np.ndarray] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)
    values_prev: dict[str, np.ndarray] = field(default_factory=dict)

    def ensure(self, name: str, k: int, fill) -> np.ndarray:
        """The (d, k) array ``name``, created filled with ``fill`` when absent."""
        arr = getattr(self, name)
        if arr is None:
            arr = np.full((self.size, k), fill)
            setattr(self, name, arr)
        return arr


@dataclass(frozen=True)
class Outcome:
    """The scoring of *d* draws: arrays ``(d, n)`` over the scored rows (internal order).

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

    @property
    def position(self) -> np.ndarray:
        """The rank, with unranked units tied just below the last ranked unit."""
        return np.where(self.ranked, self.rank, self.n_ranked + 1.0)


# --------------------------------------------------------------------------- ranks
def rank_draws(group: np.ndarray, keys: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    """:func:`assesskit.scoring.competition_rank` along the last axis of ``(d, n)`` arrays.

    Every draw (row) is ranked on its own, within the groups ``group`` (n,) that all draws
    share. Keys: higher is better, the first key first; ties on every key share the best
    rank (1, 2, 2, 4); rows outside ``mask`` get NaN. One sort per key and group.
    """
    d, n = mask.shape
    out = np.full((d, n), np.nan)
    for g in np.unique(group):
        cols = np.flatnonzero(group == g)
        m = mask[:, cols]
        if not m.any():
            continue
        ks = [_fill_nan(np.broadcast_to(k, (d, n))[:, cols], -np.inf) for k in keys]
        # sort ascending by −key; masked rows last (+inf on the first key)
        neg = [-k for k in ks]
        neg[0] = np.where(m, neg[0], np.inf)
        order = np.argsort(neg[-1], axis=1)
        for nk in reversed(neg[:-1]):
            order = np.take_along_axis(
                order, np.argsort(np.take_along_axis(nk, order, axis=1), axis=1, kind="stable"), axis=1
            )
        pos = np.broadcast_to(np.arange(cols.size), (d, cols.size))
        new = np.zeros((d, cols.size), dtype=bool)
        new[:, 0] = True
        for nk in neg:
            s = np.take_along_axis(nk, order, axis=1)
            new[:, 1:] |= s[:, 1:] != s[:, :-1]
        start = np.maximum.accumulate(np.where(new, pos, 0), axis=1) + 1.0
        sub = np.empty((d, cols.size))
        np.put_along_axis(sub, order, start, axis=1)
        out[:, cols] = np.where(m, sub, np.nan)
    return out


def _count_in_group(group: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """For each (draw, row): how many rows of the row's group are in ``mask`` in that draw."""
    out = np.zeros(mask.shape)
    for g in np.unique(group):
        cols = group == g
        out[:, cols] = mask[:, cols].sum(axis=1, keepdims=True)
    return out


class _Ranking:
    """One sort of every draw's rows (per group) by the ranking keys, reused for every
    competition rank the engine needs: among the ranked, the eligible, each tier's
    candidates (:meth:`better`) and from the bottom (:meth:`worse`), for subsets of
    ``mask``. Equivalent to :func:`rank_draws` on each subset (a test checks it), with one
    sort instead of one per subset; gathers and scatters use flat indices.
    """

    def __init__(self, group: np.ndarray, keys: list[np.ndarray], mask: np.ndarray):
        d, n = mask.shape
        self.shape = (d, n)
        self.parts = []
        for g in np.unique(group):
            cols = np.flatnonzero(group == g)
            m = cols.size
            neg = [-_fill_nan(np.broadcast_to(k, (d, n))[:, cols], -np.inf) for k in keys]
            neg[0] = np.where(mask[:, cols], neg[0], np.inf)
            order = np.argsort(neg[-1], axis=1)
            for nk in reversed(neg[:-1]):
                order = np.take_along_axis(
                    order, np.argsort(np.take_along_axis(nk, order, axis=1), axis=1, kind="stable"), axis=1
                )
            flat = (order + (np.arange(d) * m)[:, None]).ravel()  # sorted → (draw, column) in the group
            new = np.zeros((d, m + 1), dtype=bool)
            new[:, 0] = new[:, m] = True
            for nk in neg:
                sk = nk.reshape(-1)[flat].reshape(d, m)
                new[:, 1:m] |= sk[:, 1:] != sk[:, :-1]
            pos = np.arange(m + 1)
            start = np.maximum.accumulate(np.where(new, pos, 0), axis=1)[:, :m]
            nxt = np.minimum.accumulate(np.where(new, pos, m)[:, ::-1], axis=1)[:, ::-1]
            base = (np.arange(d) * (m + 1))[:, None]
            self.parts.append((cols, flat, (start + base).ravel(), (nxt[:, 1:] + base).ravel()))

    def _rank(self, sub: np.ndarray, worse: bool) -> np.ndarray:
        d = self.shape[0]
        out = np.full(self.shape, np.nan)
        for cols, flat, start, after in self.parts:
            m = cols.size
            s = np.ascontiguousarray(sub[:, cols]).reshape(-1)[flat].reshape(d, m)
            c = np.zeros((d, m + 1), dtype=np.int32)
            np.cumsum(s, axis=1, out=c[:, 1:])  # c[:, p]: members among the first p sorted rows
            cf = c.reshape(-1)
            if worse:  # 1 + members after the run
                r = (np.repeat(c[:, m], m) - cf[after] + 1).astype(float)
            else:  # 1 + members before the run
                r = cf[start] + 1.0
            tmp = np.empty(d * m)
            tmp[flat] = r
            out[:, cols] = np.where(sub[:, cols], tmp.reshape(d, m), np.nan)
        return out

    def better(self, sub: np.ndarray) -> np.ndarray:
        """Competition rank among ``sub`` (⊆ mask): 1 + members of sub strictly better."""
        return self._rank(sub, False)

    def worse(self, sub: np.ndarray) -> np.ndarray:
        """Rank from the bottom among ``sub``: 1 + members of sub strictly worse."""
        return self._rank(sub, True)


# --------------------------------------------------------------------------- evaluate
def _recompute(base: Baseline, inds: set[str], over: dict[str, np.ndarray], prev: bool, d: int):
    """Indicator values from (partly replaced) panel columns, with the engine's formula."""
    scheme = base.scheme
    light = scheme.model_copy(update={"indicators": {i: scheme.indicators[i] for i in sorted(inds)}})
    shape = (d, base.n)
    need = dict.fromkeys(c for i in sorted(inds) for c in base.ind_cols[i])
    frame = pd.DataFrame(
        {
            c: np.broadcast_to(over[c] if c in over else base.column(c, prev), shape).ravel()
            for c in need
            if c in over or c in base.panel.data.columns
        },
        copy=False,
    )
    vals = indicator_values(light, frame)
    return {i: vals[i].reshape(shape) for i in inds}


_FLAT_RULES = {"bands"}  # rules written for 1-D arrays (the others broadcast over draws)


def _rule(rule, value, target, prev, points: float, shape) -> np.ndarray:
    """A registry rule over ``(d, n)`` inputs: 2-D where the rule broadcasts, else flattened."""
    if rule.type in _FLAT_RULES or np.asarray(value).dtype == object:

        def flat(a):
            return np.broadcast_to(a, shape).ravel()

        f = RULES[rule.type](rule, RuleInput(flat(value), flat(target), flat(prev), points))
        return np.asarray(f, dtype=float).reshape(shape)
    v, t, p = (np.asarray(a, dtype=float).reshape((-1, shape[1])) for a in (value, target, prev))
    f = RULES[rule.type](rule, RuleInput(v, t, p, points))
    return np.broadcast_to(np.asarray(f, dtype=float), shape)


def _add(acc: np.ndarray | None, x: np.ndarray) -> np.ndarray:
    """``acc + x``, in place when the shapes allow (the engine's order of summation)."""
    if acc is None:
        return x.copy()  # never shared: lines and tie-break nodes accumulate the same items
    if acc.shape == np.broadcast_shapes(acc.shape, x.shape) and acc.flags.writeable and acc.flags.owndata:
        acc += x
        return acc
    return acc + x


def evaluate(base: Baseline, pert: Perturbation) -> Outcome:
    """Score ``pert.size`` draws at once (see the module docstring for the steps).

    With an empty :class:`Perturbation` every draw is the nominal scoring, bit for bit.
    """
    scheme = base.scheme
    d, n = pert.size, base.n
    shape = (d, n)
    flat = scheme.flat_items
    kind_names = list(scheme.kinds)

    def of_kinds(names):
        return np.ones(n, bool) if names is None else np.isin(base.kind, [kind_names.index(x) for x in names])

    # ---- data: replaced columns → recomputed indicators
    values: dict[str, np.ndarray] = dict(base.values)
    affected: set[str] = set()
    if pert.cols:
        inds = {i for c in pert.cols for i in base.col_users.get(c, ())}
        values.update(_recompute(base, inds, pert.cols, False, d))
        affected |= inds
    if pert.values:
        values.update(pert.values)
        affected |= set(pert.values)
    prev_values: dict[str, np.ndarray] = {}
    if pert.cols_prev:
        inds = {i for c in pert.cols_prev for i in base.col_users.get(c, ())}
        prev_values.update(_recompute(base, inds, pert.cols_prev, True, d))
    prev_values.update(pert.values_prev)

    # ---- items
    veto_items = {c.missed for v in scheme.vetoes for c in v.when.walk() if c.missed is not None}
    tb_nodes = list(scheme.outcomes.tie_break)
    tb_acc: dict[str, np.ndarray | None] = {nid: None for nid in tb_nodes}
    tb_of_item = [[nid for nid in tb_nodes if nid in p] for p, _it in flat]
    lines_acc: list[np.ndarray | None] = [None] * len(scheme.lines)
    missed: dict[str, np.ndarray] = {}
    for j, (_path, item) in enumerate(flat):
        r = item.rule
        ind = r.indicator
        retarget = j in pert.target_items
        reform = j in pert.forms
        new_value = ind in affected
        new_prev = r.type == "change" and ind in prev_values
        reeval = retarget or reform or new_value or new_prev
        if reeval:
            tg = base.targets[j][None, :]
            if retarget:
                if pert.target_set is not None:
                    s = pert.target_set[:, j : j + 1]
                    tg = np.where(np.isnan(s), tg, s)
                if pert.target_rel is not None:
                    tg = tg * (1 + pert.target_rel[:, j : j + 1])
                if pert.target_add is not None:
                    tg = tg + pert.target_add[:, j : j + 1]
            v = values[ind]
            pv = prev_values[ind] if new_prev else base.prev[j]
            if reform:  # each form only on the draws that use it
                alt_rule, use = pert.forms[j]
                f = np.empty(shape)
                for rule_, rows in ((r, ~use), (alt_rule, use)):
                    idx = np.flatnonzero(rows)
                    if idx.size:

                        def sub(a, idx=idx):
                            a = np.asarray(a)
                            return a[idx] if a.ndim == 2 and a.shape[0] == d else a

                        f[idx] = _rule(rule_, sub(v), sub(tg), sub(pv), item.points, (idx.size, n))
            else:
                f = _rule(r, v, tg, pv, item.points, shape)
        else:
            f = base.frac[j][None, :]
        if reeval or base.has_nan[j]:
            is_missing = np.isnan(f)
            if pert.missing_full is None:
                f = np.where(is_missing, 1.0 if base.full[j] else 0.0, f)
            else:
                f = np.where(is_missing, np.where(pert.missing_full[:, j : j + 1], 1.0, 0.0), f)
        else:
            is_missing = False
        pts_j = item.points if pert.weight is None else item.points * pert.weight[:, j : j + 1]
        keep = base.applies[j][None, :]
        dropped = pert.drop is not None and pert.drop[:, j].any()
        if dropped:
            keep = keep & ~pert.drop[:, j : j + 1]
        pts = f * pts_j
        if dropped or not base.all_apply[j]:
            pts = np.where(keep, pts, 0.0)
        li = base.line_of_item[j]
        lines_acc[li] = _add(lines_acc[li], pts)
        for nid in tb_of_item[j]:
            tb_acc[nid] = _add(tb_acc[nid], pts)
        if item.id in veto_items:
            missed[item.id] = np.broadcast_to(((f < 1 - EPS) | is_missing) & keep, shape)

    lines_total = np.zeros(shape)
    for li in range(len(scheme.lines)):
        lines_total += np.where(base.kind == base.line_kind[li], lines_acc[li], 0.0)

    # ---- adjustments (recomputed only when their counts were resampled)
    adj_inds = {i for a in scheme.adjustments for i in a.per_case} | {
        a.assessed.indicator for a in scheme.adjustments if a.assessed
    }
    if adj_inds & affected:
        bonus = np.zeros(shape)
        deduction = np.zeros(shape)
        for adj in scheme.adjustments:
            amt = np.zeros(shape)
            for ind, per in adj.per_case.items():
                amt += _fill_nan(values[ind], 0.0) * per
            if adj.assessed:
                amt += _fill_nan(values[adj.assessed.indicator], 0.0)
            if adj.cap is not None:
                amt = np.minimum(amt, adj.cap)
            if adj.applies_to is not None:
                amt = np.where(of_kinds(adj.applies_to), amt, 0.0)
            if adj.kind == "bonus":
                bonus += amt
            else:
                deduction += amt
    else:
        bonus, deduction = base.bonus, base.deduction
    total = lines_total + bonus - deduction
    if scheme.floor is not None:
        total = np.maximum(total, scheme.floor)

    # ---- vetoes and eligibility
    cond_inds = {c.indicator for v in scheme.vetoes for c in v.when.walk() if c.indicator is not None}
    cond_values = {i: np.broadcast_to(values[i], shape) for i in cond_inds}
    by_effect: dict[str, list[np.ndarray]] = {"veto": [], "not_scored": [], "ineligible": []}
    for vi, v in enumerate(scheme.vetoes):
        m = _eval_condition(v.when, missed, cond_values) & np.ones(shape, bool)
        if v.applies_to is not None:
            m = m & of_kinds(v.applies_to)
        if pert.veto_on is not None:
            m = m & pert.veto_on[:, vi : vi + 1]
        by_effect[v.effect].append(m)

    def any_of(effect: str) -> np.ndarray:
        return np.logical_or.reduce(by_effect[effect] + [np.zeros(shape, bool)])

    not_scored = any_of("not_scored")
    vetoed = any_of("veto") | not_scored
    total = np.where(not_scored, np.nan, total)
    ranked = ~vetoed & ~np.isnan(total)
    out_cfg = scheme.outcomes
    in_outcomes = of_kinds(out_cfg.applies_to)
    eligible = ranked & ~any_of("ineligible") & in_outcomes

    # ---- ranks, tiers, warnings (the engine's semantics, per draw)
    tb = [np.zeros(shape) if tb_acc[nid] is None else np.broadcast_to(tb_acc[nid], shape) for nid in tb_nodes]
    grp = base.group
    ranking = _Ranking(grp, [total] + tb, ranked)
    rank = ranking.better(ranked)
    tier = np.full(shape, -1, dtype=np.int8)
    free = eligible.copy()
    for t_i, t in enumerate(out_cfg.tiers):
        with np.errstate(invalid="ignore"):
            cand = free & (total >= t.min_total) if t.min_total is not None else free
        got = cand & (ranking.better(cand) <= t.count) if t.count is not None else cand
        tier[got] = t_i
        free &= ~got
    warns = np.zeros((len(out_cfg.warnings), d, n), dtype=bool)
    pool = ranked & in_outcomes
    for w_i, w in enumerate(out_cfg.warnings):
        m = np.zeros(shape, bool)
        if w.bottom is not None:
            big_enough = _count_in_group(grp, pool) > w.bottom
            m |= (ranking.worse(pool) <= w.bottom) & big_enough
        if w.below_total is not None:
            with np.errstate(invalid="ignore"):
                m |= pool & (total < w.below_total)
        warns[w_i] = m
    return Outcome(
        total=total,
        rank=rank,
        ranked=ranked,
        vetoed=vetoed,
        not_scored=not_scored,
        eligible=eligible,
        tier=tier,
        warnings=warns,
        n_ranked=_count_in_group(grp, ranked),
    )


# --------------------------------------------------------------------------- alternatives
def alternative_rule(item, floor: float = 0.0, ceiling: float | None = None):
    """The other rule form of a threshold or linear item, for :func:`evaluate`.

    Threshold → proportional credit (linear from 0 at ``floor`` — ``ceiling`` for ``<=``
    — to full at the target); linear → all-or-nothing at the target. The returned rule
    reads the item's target from the target array (its own ``target`` is a placeholder).
    """
    r = item.rule
    if r.type == "threshold":
        up = r.op in (">=", ">")
        return LinearRule(
            type="linear",
            indicator=r.indicator,
            floor=floor if up else ceiling,
            target=0.0,
            op=">=" if up else "<=",
        )
    if r.type == "linear":
        return ThresholdRule(type="threshold", indicator=r.indicator, op=r.op, target=0.0)
    raise ValueError(f"item '{item.id}': no alternative form for a {r.type} rule")


# --------------------------------------------------------------------------- materialise
def _find_items(raw: dict) -> dict[str, dict]:
    out: dict[str, dict] = {}

    def visit(node: dict) -> None:
        if "rule" in node and node.get("rule") is not None and "items" not in node:
            out[node["id"]] = node
        for child in node.get("items") or []:
            visit(child)

    for line in raw["lines"]:
        visit(line)
    return out


def _prune(node: dict, dropped: set[str]) -> dict | None:
    """The node without dropped items; None when nothing is left."""
    if "items" not in node or node.get("items") is None:
        return None if node["id"] in dropped else node
    kids = [c for c in (_prune(c, dropped) for c in node["items"]) if c is not None]
    if not kids:
        return None
    return {**node, "items": kids}


def _simplify(cond: dict, dropped: set[str]):
    """A condition where 'missed: X' of a dropped item never holds (False: never holds)."""
    c = {key: val for key, val in cond.items() if val is not None}
    if "missed" in c:
        return False if c["missed"] in dropped else c
    if "all" in c:
        parts = [_simplify(x, dropped) for x in c["all"]]
        return False if any(p is False for p in parts) else {"all": parts}
    if "any" in c:
        parts = [p for p in (_simplify(x, dropped) for x in c["any"]) if p is not False]
        return {"any": parts} if parts else False
    return c


def _transform_target(t, set_, rel, add):
    def tr(x):
        if x is None:
            return None
        x = set_ if not np.isnan(set_) else x
        return float(np.float64(x) * (1 + np.float64(rel)) + np.float64(add))

    if isinstance(t, dict) and "by_category" in t:
        return {
            "by_category": {c: tr(v) for c, v in t["by_category"].items()},
            "default": tr(t.get("default")),
        }
    return tr(t)


def materialise(base: Baseline, pert: Perturbation, i: int) -> tuple[Scheme, Panel]:
    """Draw ``i`` of ``pert`` as a scheme and a panel for the main engine.

    Item points become ``points × weight``, left-out items are removed (with the veto
    conditions and tie-breaks that name them), switched-off vetoes are removed, targets
    and rule forms are rewritten, the missing-data policy is set on every item, and
    replaced panel columns are written into a copy of the panel. The result is scored by
    :func:`assesskit.scoring.score_panel`; weights aside (points × weight is rounded once
    more), it reproduces :func:`evaluate` exactly. Beta noise (a rate, not counts) is
    written as a fractional numerator, which is close but not exact.
    """
    scheme = base.scheme
    flat = scheme.flat_items
    raw = scheme.model_dump()
    items = _find_items(raw)
    targets = base.panel.targets.copy()
    rescale: dict[str, float] = {}  # grade columns read as a fraction of the nominal points
    for j, (_p, it) in enumerate(flat):
        node = items[it.id]
        if pert.weight is not None:
            # a weight scales what the item is worth, not the credit it earns: rules that
            # read the item's points (graded points, per_case) keep their nominal fraction
            w = float(pert.weight[i, j])
            node["points"] = it.points * w
            r = node["rule"]
            if r["type"] == "graded" and r["scale"] == "points":
                r["scale"] = "fraction"
                rescale[r["indicator"]] = it.points
            elif r["type"] == "per_case":
                r["points_per_case"] = r["points_per_case"] * w
                r["cap"] = (r["cap"] if r["cap"] is not None else it.points) * w
        if pert.missing_full is not None:
            node["missing"] = "full" if pert.missing_full[i, j] else "zero"
        if j in pert.forms and pert.forms[j][1][i]:
            alt = pert.forms[j][0]
            new = alt.model_dump()
            new["target"] = node["rule"]["target"]
            node["rule"] = new
        if j in pert.target_items:
            s = np.nan if pert.target_set is None else pert.target_set[i, j]
            rel = 0.0 if pert.target_rel is None else pert.target_rel[i, j]
            add = 0.0 if pert.target_add is None else pert.target_add[i, j]
            t = node["rule"]["target"]
            if isinstance(t, dict) and "table" in t:
                name = f"{t['table']}__{it.id}"
                src = (
                    targets[t["table"]].to_numpy(dtype=float)
                    if t["table"] in targets.columns
                    else np.full(len(targets), np.nan)
                )
                if t.get("default") is not None:
                    src = np.where(np.isnan(src), t["default"], src)
                if not np.isnan(s):
                    src = np.full(len(targets), s)
                targets[name] = src * (1 + rel) + add
                node["rule"]["target"] = {
                    "table": name,
                    "default": _transform_target(t.get("default"), s, rel, add),
                }
            else:
                node["rule"]["target"] = _transform_target(t, s, rel, add)
    dropped = {flat[j][1].id for j in np.flatnonzero(pert.drop[i])} if pert.drop is not None else set()
    if dropped:
        lines = []
        for ln in raw["lines"]:
            pruned = _prune(ln, dropped)
            if pruned is None:
                raise ValueError(f"draw {i} leaves line '{ln['id']}' without items")
            lines.append(pruned)
        raw["lines"] = lines
    vetoes = []
    for vi, v in enumerate(raw["vetoes"]):
        if pert.veto_on is not None and not pert.veto_on[i, vi]:
            continue
        when = _simplify(v["when"], dropped)
        if when is not False:
            vetoes.append({**v, "when": when})
    raw["vetoes"] = vetoes
    gone = {nid for nid in scheme.nodes if set(_items_of(scheme, nid)) <= dropped} if dropped else set()
    raw["outcomes"]["tie_break"] = [x for x in raw["outcomes"]["tie_break"] if x not in gone]
    raw["outcomes"]["single_awards"] = [
        a for a in raw["outcomes"]["single_awards"] if a["rank_by"] not in gone
    ]
    new_scheme = Scheme.model_validate(raw)

    data = base.panel.data
    if pert.cols or pert.cols_prev or pert.values or rescale:
        data = data.copy()
        for over, rows in ((pert.cols, base.data_row), (pert.cols_prev, base.prev_row)):
            for c, arr in over.items():
                ok = rows >= 0
                col = data[c].to_numpy(dtype=float, copy=True)
                col[rows[ok]] = np.broadcast_to(arr, (pert.size, base.n))[i][ok]
                data[c] = col
        for ind_id, arr in pert.values.items():
            ind = scheme.indicators[ind_id]
            num, den = ind.numerator[0], ind.denominator[0]
            col = data[num].to_numpy(dtype=float, copy=True)
            dv = data[den].to_numpy(dtype=float)[base.data_row]
            col[base.data_row] = arr[i] * dv / ind.scale
            data[num] = col
        for ind_id, pts in rescale.items():
            col = scheme.indicators[ind_id].column or ind_id
            data[col] = data[col].to_numpy(dtype=float) / pts
    return new_scheme, dataclasses.replace(base.panel, data=data, targets=targets)


def _items_of(scheme: Scheme, node_id: str) -> list[str]:
    return [it.id for p, it in scheme.flat_items if node_id in p]
