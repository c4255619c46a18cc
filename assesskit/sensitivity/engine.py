"""The draws engine: one scheme and panel, many perturbed scorings at once.

:func:`baseline` prepares the kernel's inputs once (:func:`assesskit.kernel.prepare`),
scores them (:func:`assesskit.scoring.score_panel` is the kernel's nominal draw) and keeps
the rules' nominal credit. :func:`evaluate` turns a :class:`Perturbation` of *d* draws into
the kernel's :class:`~assesskit.kernel.Variation` — replaced panel columns become
recomputed indicator values — and calls the same kernel (:func:`assesskit.kernel.run`)
over ``d × units`` arrays: the nominal draw is the main scoring, bit for bit, because it
*is* the main scoring.

:func:`materialise` turns one draw back into a scheme and a panel, so that
:func:`~assesskit.scoring.score_panel` can score it from the scheme's own text: the
oracle of the tests and the baseline loop of the benchmark.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data import Panel
from ..kernel import (
    Inputs,
    Outcome,
    Ranking,
    Variation,
    indicator_values,
    prepare,
    rank_within,
    run,
    with_credit,
)
from ..rules import rule_type
from ..scheme import Scheme
from ..scoring import ScoreResult, result_of

EPS = 1e-12  # the engine's tolerance for "full credit"


# --------------------------------------------------------------------------- baseline
@dataclass(frozen=True, eq=False)
class Baseline:
    """A scheme and panel scored once, with the kernel's inputs every draw starts from.

    Arrays run over the scored unit-years in the kernel's order (``rows``); the nominal
    summary is ``result.summary`` (its row ``i`` is row ``order[i]``).

    Attributes
    ----------
    scheme, panel : Scheme, Panel
    years : list of int or None
        The scored years (None: every year inside the scheme's years).
    result : ScoreResult
        The nominal result (the kernel's one draw).
    inputs : assesskit.kernel.Inputs
        The kernel's inputs, with the rules' nominal credit.
    ind_cols, col_users : dict
        The panel columns each indicator is computed from, and the reverse.
    """

    scheme: Scheme
    panel: Panel
    years: list[int] | None
    result: ScoreResult
    inputs: Inputs
    ind_cols: dict[str, tuple[str, ...]]
    col_users: dict[str, tuple[str, ...]]
    _cache: dict = field(default_factory=dict, repr=False)

    # ---- views of the kernel's inputs (n rows, k items)
    n = property(lambda self: self.inputs.n)
    items = property(lambda self: self.scheme.flat_items)
    rows = property(lambda self: self.inputs.rows, doc="unit, name, year, kind, category (kernel order)")
    order = property(lambda self: self.result.order, doc="summary row i is row order[i]")
    kind = property(lambda self: self.inputs.kind, doc="(n,) kind of unit (index into scheme.kinds)")
    group = property(lambda self: self.inputs.group, doc="(n,) year × kind code")
    points = property(lambda self: self.inputs.points, doc="(k,) item points")
    applies = property(lambda self: self.inputs.applies, doc="(k, n) the item applies")
    line_of_item = property(lambda self: self.inputs.line_of_item)
    line_kind = property(lambda self: self.inputs.line_kind)
    values = property(lambda self: self.inputs.values, doc="indicator → (n,) values")
    frac = property(lambda self: self.inputs.credit, doc="(k, n) nominal credit, NaN where missing")
    bonus = property(lambda self: self.inputs.bonus)
    deduction = property(lambda self: self.inputs.deduction)
    data_row = property(lambda self: self.inputs.data_row, doc="panel.data position of each row")
    prev_row = property(
        lambda self: self.inputs.prev_row, doc="panel.data position of its previous year (−1)"
    )

    @property
    def full(self) -> np.ndarray:
        """(k,) bool: the item's missing-data policy is 'full'."""
        return np.array([(it.missing or self.scheme.missing) == "full" for _p, it in self.items])

    def _dense(self, source: dict[str, np.ndarray]) -> np.ndarray:
        nan = np.full(self.n, np.nan)
        return np.array([source.get(it.id, nan) for _p, it in self.items]).reshape(len(self.items), self.n)

    @property
    def targets(self) -> np.ndarray:
        """(k, n) each item's target (NaN where it has none)."""
        if "targets" not in self._cache:
            self._cache["targets"] = self._dense(self.inputs.targets)
        return self._cache["targets"]

    @property
    def prev(self) -> np.ndarray:
        """(k, n) each change item's previous-year value (NaN elsewhere)."""
        if "prev" not in self._cache:
            self._cache["prev"] = self._dense(self.inputs.previous)
        return self._cache["prev"]

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
    from ..loading import load_inputs, years_of  # the one load → validate sequence

    ys = years_of(year)
    years = list(ys) if ys else None
    if isinstance(data, Panel):
        panel = data
    else:
        panel = load_inputs(
            scheme,
            data,
            units=units,
            targets=targets,
            grades=grades,
            years=years,
            allow_missing_columns=allow_missing_columns,
        ).panel
    return _from_inputs(result_of(prepare(scheme, panel, years)))


def from_result(res: ScoreResult, panel: Panel | None = None, years: list[int] | None = None) -> Baseline:
    """A :class:`Baseline` from a nominal result (its kernel inputs are reused).

    ``panel`` and ``years`` are those of ``res`` (kept for callers that pass them).
    Point schemes and composite indices alike (composite factors: ``weight_noise``,
    ``normalisation``, ``aggregation`` in :mod:`.spec`).
    """
    return _from_inputs(res)


def _from_inputs(res: ScoreResult) -> Baseline:
    inp = with_credit(res.inputs)
    scheme, data = inp.scheme, inp.panel.data
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
        panel=inp.panel,
        years=inp.years,
        result=res,
        inputs=inp,
        ind_cols=ind_cols,
        col_users={c: tuple(u) for c, u in users.items()},
    )


# --------------------------------------------------------------------------- perturbation
@dataclass
class Perturbation(Variation):
    """What changes in each of ``size`` draws: the kernel's :class:`~assesskit.kernel.Variation`
    (weights, left-out items, targets, rule forms, vetoes, missing-data policy, replaced
    indicator values) plus replaced panel columns.

    Attributes
    ----------
    cols, cols_prev : dict column → (d, n) float
        Panel columns replaced on the scored rows (and on their previous years); every
        indicator computed from them is recomputed.
    """

    cols: dict[str, np.ndarray] = field(default_factory=dict)
    cols_prev: dict[str, np.ndarray] = field(default_factory=dict)


# --------------------------------------------------------------------------- ranks
def rank_draws(group: np.ndarray, keys: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    """Deprecated: :func:`assesskit.kernel.rank_within` (the same ranks)."""
    warnings.warn(
        "assesskit.sensitivity.rank_draws is deprecated; use assesskit.kernel.rank_within",
        DeprecationWarning,
        stacklevel=2,
    )
    return rank_within(group, keys, mask)


def _Ranking(group: np.ndarray, keys: list[np.ndarray], mask: np.ndarray | None = None) -> Ranking:  # noqa: N802
    """The old private name of :class:`assesskit.kernel.Ranking` (``mask`` is not needed)."""
    return Ranking(group, keys)


# --------------------------------------------------------------------------- evaluate
def _recompute(base: Baseline, inds: set[str], over: dict[str, np.ndarray], prev: bool, d: int):
    """Indicator values from (partly replaced) panel columns, with the kernel's formula."""
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


def evaluate(base: Baseline, pert: Perturbation) -> Outcome:
    """Score ``pert.size`` draws at once with the kernel (:func:`assesskit.kernel.run`).

    Replaced panel columns (``cols``, ``cols_prev``) become recomputed indicator values;
    everything else is the kernel's. With an empty :class:`Perturbation` every draw is the
    nominal scoring, bit for bit.
    """
    d = pert.size
    values: dict[str, np.ndarray] = {}
    if pert.cols:
        inds = {i for c in pert.cols for i in base.col_users.get(c, ())}
        values.update(_recompute(base, inds, pert.cols, False, d))
    values.update(pert.values)
    prev: dict[str, np.ndarray] = {}
    if pert.cols_prev:
        inds = {i for c in pert.cols_prev for i in base.col_users.get(c, ())}
        prev.update(_recompute(base, inds, pert.cols_prev, True, d))
    prev.update(pert.values_prev)
    var = Variation(**{f.name: getattr(pert, f.name) for f in dataclasses.fields(Variation)})
    var.values, var.values_prev = values, prev
    return run(base.inputs, var)


# --------------------------------------------------------------------------- alternatives
def alternative_rule(item, floor: float = 0.0, ceiling: float | None = None):
    """The other rule form of an item (the registry's ``alternative``), for the ``rule_form`` factor.

    Threshold → proportional credit (linear from 0 at ``floor`` — ``ceiling`` for ``<=``
    — to full at the target); linear → all-or-nothing at the target. The returned rule
    reads the item's target from the target array (its own ``target`` is a placeholder).
    """
    alt = rule_type(item.rule.type).alternative
    if alt is None:
        raise ValueError(f"item '{item.id}': no alternative form for a {item.rule.type} rule")
    return alt(item, floor, ceiling)


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
    and rule forms are rewritten, the missing-data policy is set on every item, composite
    nodes get the draw's relative weight, aggregation and normalisation, and replaced
    panel columns are written into a copy of the panel. The result is scored by
    :func:`assesskit.scoring.score_panel`; weights aside (points × weight is rounded once
    more), it reproduces :func:`evaluate` exactly. Beta noise (a rate, not counts) is
    written as a fractional numerator, which is close but not exact.
    """
    scheme = base.scheme
    raw = scheme.model_dump()
    targets = base.panel.targets.copy()
    rescale = _rewrite_items(base, pert, i, raw, targets)
    dropped = {
        it.id for j, (_p, it) in enumerate(scheme.flat_items) if pert.drop is not None and pert.drop[i, j]
    }
    _rewrite_structure(base, pert, i, raw, dropped)
    _rewrite_composite(base, pert, i, raw)
    new_scheme = Scheme.model_validate(raw)
    data = _rewrite_data(base, pert, i, rescale)
    return new_scheme, dataclasses.replace(base.panel, data=data, targets=targets)


def _rewrite_items(base: Baseline, pert: Perturbation, i: int, raw: dict, targets: pd.DataFrame) -> dict:
    """Draw ``i``'s points, missing-data policy, rule forms and targets written into the
    raw scheme (and new target-table columns); returns the grade columns to rescale."""
    items = _find_items(raw)
    rescale: dict[str, float] = {}  # grade columns read as a fraction of the nominal points
    for j, (_p, it) in enumerate(base.scheme.flat_items):
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
            new = pert.forms[j][0].model_dump()
            new["target"] = node["rule"]["target"]
            node["rule"] = new
        if j in pert.target_items:
            _rewrite_target(pert, i, j, it.id, node, targets)
    return rescale


def _rewrite_target(
    pert: Perturbation, i: int, j: int, item_id: str, node: dict, targets: pd.DataFrame
) -> None:
    s = np.nan if pert.target_set is None else pert.target_set[i, j]
    rel = 0.0 if pert.target_rel is None else pert.target_rel[i, j]
    add = 0.0 if pert.target_add is None else pert.target_add[i, j]
    t = node["rule"]["target"]
    if isinstance(t, dict) and "table" in t:
        name = f"{t['table']}__{item_id}"
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
        node["rule"]["target"] = {"table": name, "default": _transform_target(t.get("default"), s, rel, add)}
    else:
        node["rule"]["target"] = _transform_target(t, s, rel, add)


def _rewrite_structure(base: Baseline, pert: Perturbation, i: int, raw: dict, dropped: set[str]) -> None:
    """Left-out items removed (with the conditions, tie-breaks and awards naming them) and
    switched-off vetoes removed, in the raw scheme."""
    scheme = base.scheme
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
    if not raw["outcomes"]["tie_break"] and raw["outcomes"].get("ties") == "tiebreak":
        raw["outcomes"]["ties"] = "share"  # no tie-break order left: tied units share the better tier
    raw["outcomes"]["single_awards"] = [
        a for a in raw["outcomes"]["single_awards"] if a["rank_by"] not in gone
    ]


def _rewrite_composite(base: Baseline, pert: Perturbation, i: int, raw: dict) -> None:
    """Draw ``i``'s relative weights, aggregations and item rules written into the raw scheme."""
    flat = base.scheme.flat_items
    rules = {flat[j][1].id: rs[int(codes[i])] for j, (rs, codes) in pert.rule_choice.items()}

    def visit(node: dict) -> None:
        nid = node["id"]
        if nid in pert.node_weight:
            node["weight"] = node.get("weight", 1.0) * float(pert.node_weight[nid][i])
        if nid in pert.aggregation:
            methods, codes = pert.aggregation[nid]
            node["aggregate"] = methods[int(codes[i])]
        if nid in rules:
            node["rule"] = rules[nid].model_dump()
        for child in node.get("items") or []:
            visit(child)

    for line in raw["lines"]:
        visit(line)


def _rewrite_data(base: Baseline, pert: Perturbation, i: int, rescale: dict[str, float]) -> pd.DataFrame:
    """The panel with draw ``i``'s replaced columns, Beta-noise rates and rescaled grades."""
    scheme = base.scheme
    data = base.panel.data
    if not (pert.cols or pert.cols_prev or pert.values or rescale):
        return data
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
    return data


def _items_of(scheme: Scheme, node_id: str) -> list[str]:
    return [it.id for p, it in scheme.flat_items if node_id in p]
