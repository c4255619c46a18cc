"""Analyses of composite indices: node scores, leave-a-level-out, α of a group, uncertainty,
and the composite counterpart of a point scheme (effective weights of an index:
:func:`assesskit.stats.diagnostics.effective_weights`).

They re-aggregate the normalised scores of a :class:`~assesskit.scoring.ScoreResult` for
many weight sets at once: draws × units × children arrays through the same
:func:`~assesskit.kernel.aggregate.aggregate` kernel the engine uses.

:func:`uncertainty` and :func:`leave_level_out` are deprecated wrappers of the sensitivity
engine (:mod:`assesskit.sensitivity`), which takes composite schemes with the factor kinds
``weight_noise``, ``normalisation`` and ``aggregation``: they build the perturbation, call
the engine and keep their old tables for one release.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..kernel.aggregate import (
    SEP,
    TreeNode,
    aggregate_tree,
    path_weights,
    tree_nodes,
)
from ..kernel.rank import rank_within
from ..kernel.rules import rule_type
from ..scheme import Section, parse_scheme
from ..stats.reliability import cronbach_alpha as alpha

if TYPE_CHECKING:
    from ..scheme import Scheme
    from ..scoring import ScoreResult


# --------------------------------------------------------------------------- reading a result
@dataclass(frozen=True)
class _Arrays:
    rows: pd.DataFrame  # one row per scored unit-year: unit, name, year, kind, …
    applies: np.ndarray  # (flat items, rows): the item applies to the row
    points: np.ndarray  # (flat items, rows): the item's points or score
    values: dict[str, np.ndarray]  # indicator → value per row


def _arrays(res: ScoreResult) -> _Arrays:
    """The one place that reads a result's arrays (its public attributes)."""
    return _Arrays(res.rows, res.applies, res.item_points, res.values)


def _need_weighted(nodes: list[TreeNode], what: str, instead: str) -> None:
    """These analyses vary weights; a node that adds up points has none to vary."""
    summed = [nd.path for nd in nodes if nd.item < 0 and nd.aggregate == "sum"]
    if summed:
        raise ValueError(
            f"{what} varies weights of weighted means, but {', '.join(summed[:3])} add up points "
            f"(aggregate: sum); for point schemes use {instead}"
        )


# --------------------------------------------------------------------------- analyses
def _line(res: ScoreResult, line: str | None) -> Section:
    lines = res.scheme.lines
    if line is None:
        if len(lines) != 1:
            raise ValueError(f"the scheme has {len(lines)} lines; name one: {[ln.id for ln in lines]}")
        return lines[0]
    return next(ln for ln in lines if ln.id == line)


def _peer_groups(res: ScoreResult, ln: Section) -> tuple[np.ndarray, pd.DataFrame]:
    """Internal rows of the line's kind and their (year) groups."""
    rows = _arrays(res).rows
    sel = np.flatnonzero((rows["kind"] == ln.unit_kind).to_numpy())
    return sel, rows.iloc[sel].reset_index(drop=True)


def _item_scores(res: ScoreResult, sel: np.ndarray) -> np.ndarray:
    a = _arrays(res)
    return np.where(a.applies[:, sel], a.points[:, sel], np.nan).T  # rows × flat items


def node_scores(res: ScoreResult, *, line: str | None = None) -> pd.DataFrame:
    """Every node's score (items, sections, the line) per unit-year: COINr's "Aggregated" set.

    Columns: ``unit``, ``name``, ``year``, then one column per node id (children before
    parents), the line's last.
    """
    ln = _line(res, line)
    sel, rows = _peer_groups(res, ln)
    index = {it.id: j for j, (_p, it) in enumerate(res.scheme.flat_items)}
    nodes = tree_nodes(ln, index)
    out = aggregate_tree(nodes, _item_scores(res, sel), units=rows["unit"].to_numpy())[0]
    return pd.concat(
        [rows[["unit", "name", "year"]], pd.DataFrame(out, columns=[nd.id for nd in nodes])], axis=1
    )


def _ranks_by_year(scores: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Competition ranks of (draws × units) scores within each year (NaN unranked)."""
    return rank_within(pd.factorize(year)[0], [scores], ~np.isnan(scores))


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"assesskit.analyses.composite.{old} is deprecated; use {new}", DeprecationWarning, stacklevel=3
    )


@dataclass(frozen=True)
class LeaveOneOut:
    """Ranks with each node of one level removed (weight 0) in turn.

    Attributes
    ----------
    summary : DataFrame
        One row per removed node: ``removed``, ``label``, ``level``, ``mean_abs_rank_change``
        (over the units ranked both ways, per year then averaged), ``max_abs_rank_change``.
    ranks : DataFrame
        Long: ``removed``, ``unit``, ``year``, ``score``, ``rank``, ``nominal_rank``, ``rank_change``.
    """

    summary: pd.DataFrame
    ranks: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.summary


def leave_level_out(res: ScoreResult, level: int, *, line: str | None = None) -> LeaveOneOut:
    """Deprecated: remove each node of ``level`` in turn (weight 0) and re-rank (COINr's
    ``remove_elements``), through the sensitivity engine.

    Each removal is one draw of :func:`assesskit.sensitivity.evaluate` with that node's
    relative weight multiplied by 0; ranks are competition ranks of the unit's total
    within each year. For point schemes use :func:`assesskit.sensitivity.leave_one_out`.

    Parameters
    ----------
    res : ScoreResult
        A composite scheme's scores.
    level : int
        COINr's level: 1 = indicators, 2 = the groups above them, …, the line highest.
    """
    _deprecated("leave_level_out", "assesskit.sensitivity.evaluate with node_weight 0 (one draw per node)")
    from .. import sensitivity as sa

    ln = _line(res, line)
    sel, rows = _peer_groups(res, ln)
    index = {it.id: j for j, (_p, it) in enumerate(res.scheme.flat_items)}
    nodes = tree_nodes(ln, index)
    _need_weighted(nodes, "leave_level_out", "assesskit.sensitivity.leave_one_out")
    at = [i for i, nd in enumerate(nodes) if nd.level == level and i != len(nodes) - 1]
    if not at:
        raise ValueError(f"no node at level {level}; levels run from 1 to {nodes[-1].level - 1}")
    pert = sa.Perturbation(len(at) + 1)  # draw 0: nominal
    for d, i in enumerate(at, 1):
        pert.node_weight[nodes[i].id] = np.where(np.arange(len(at) + 1) == d, 0.0, 1.0)
    top = sa.evaluate(sa.from_result(res), pert).total[:, sel]
    units = rows["unit"].to_numpy()
    year = rows["year"].to_numpy()
    ranks = _ranks_by_year(top, year)
    change = ranks[1:] - ranks[0]
    removed = np.repeat([nodes[i].id for i in at], len(rows))
    long = pd.DataFrame(
        {
            "removed": removed,
            "unit": np.tile(units, len(at)),
            "year": np.tile(year, len(at)),
            "score": top[1:].ravel(),
            "rank": ranks[1:].ravel(),
            "nominal_rank": np.tile(ranks[0], len(at)),
            "rank_change": change.ravel(),
        }
    )
    per_year = long.assign(a=long["rank_change"].abs()).groupby(["removed", "year"], sort=False)["a"]
    summary = (
        per_year.mean()
        .groupby(level=0, sort=False)
        .mean()
        .rename("mean_abs_rank_change")
        .to_frame()
        .join(per_year.max().groupby(level=0, sort=False).max().rename("max_abs_rank_change"))
        .reset_index()
    )
    labels = {nd.id: res.scheme.nodes[nd.id].label for nd in nodes}
    summary.insert(1, "label", summary["removed"].map(labels))
    summary.insert(2, "level", level)
    return LeaveOneOut(summary=summary, ranks=long)


def _legacy_effective_weights(res: ScoreResult, *, line: str | None = None) -> pd.DataFrame:
    """The deprecated ``assesskit.composite.effective_weights`` (its old columns, one release).

    Use :func:`assesskit.stats.diagnostics.effective_weights`, which takes point and
    composite schemes alike: its ``nominal_weight`` is the ``effective_weight`` below, its
    ``effective_weight`` the ``variance_share`` (over the units with both values).

    ``effective_weight`` is the product of the relative weights from the item up to the line
    (COINr's ``get_eff_weights``: the indicator's share of an arithmetic index when no value
    is missing); ``variance_share`` = effective_weight · cov(score, index) / var(index) per
    year — the indicator's share of the index's variance; over the items these add up to 1
    for a complete arithmetic index. NaN for a year with fewer than 3 units or no variance.
    Columns: ``year``, ``item``, ``label``, ``path``, ``weight``, ``effective_weight``,
    ``variance_share``.
    """
    ln = _line(res, line)
    sel, rows = _peer_groups(res, ln)
    index = {it.id: j for j, (_p, it) in enumerate(res.scheme.flat_items)}
    nodes = tree_nodes(ln, index)
    share = path_weights(nodes)
    scores = aggregate_tree(nodes, _item_scores(res, sel), units=rows["unit"].to_numpy())[0]
    leaves = [i for i, nd in enumerate(nodes) if nd.item >= 0]
    frames = []
    for y, g in rows.groupby("year", sort=True):  # a few years; the items are one array op
        x = scores[g.index]
        x = x[~np.isnan(x[:, -1])]  # units with an index
        v = np.var(x[:, -1], ddof=1) if len(x) >= 3 else np.nan
        # cov(item, index) over the units that have both (pairwise complete, as pandas)
        cov = pd.DataFrame(x[:, leaves + [len(nodes) - 1]]).cov(min_periods=3).to_numpy()[:-1, -1]
        frames.append(
            pd.DataFrame(
                {
                    "year": y,
                    "item": [nodes[i].id for i in leaves],
                    "path": [nodes[i].path for i in leaves],
                    "weight": [nodes[i].weight for i in leaves],
                    "effective_weight": share[leaves],
                    "variance_share": share[leaves] * cov / v if v > 0 else np.nan,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    df.insert(2, "label", df["item"].map(lambda k: res.scheme.nodes[k].label))
    return df


def node_alpha(
    res: ScoreResult, node: str, *, line: str | None = None, use: str = "pairwise"
) -> pd.DataFrame:
    """Cronbach's α of the children of ``node`` (their scores across units), per year.

    Parameters
    ----------
    res : ScoreResult
        A composite scheme's result.
    node : str
        A section (a group of indicators or of aggregates).
    line : str, optional
        The line, when the scheme has several.
    use : {"pairwise", "listwise"}
        How missing children are handled (:func:`assesskit.stats.reliability.cronbach_alpha`).
        Default ``"pairwise"``, COINr's choice (``get_cronbach``'s
        ``use = "pairwise.complete.obs"``), so a COINr user gets COINr's number;
        ``"listwise"`` uses the units with every child only (assesskit's choice for point
        schemes, and this function's before version 0.2).

    Returns
    -------
    DataFrame
        One row per year: ``year``, ``node``, ``n_children``, ``n_units`` (the units that
        enter α: with every child for listwise, with any child for pairwise), ``use``,
        ``alpha``.
    """
    table = node_scores(res, line=line)
    target = res.scheme.nodes[node]
    if not isinstance(target, Section):
        raise ValueError(f"'{node}' is an item; α needs a group of indicators")
    kids = [c.id for c in target.items]
    rows = []
    for y, g in table.groupby("year", sort=True):
        x = g[kids].to_numpy(dtype=float)
        present = ~np.isnan(x)
        n_units = int((present.all(axis=1) if use == "listwise" else present.any(axis=1)).sum())
        rows.append((y, node, len(kids), n_units, use, alpha(x, use=use)))
    return pd.DataFrame(rows, columns=["year", "node", "n_children", "n_units", "use", "alpha"])


@dataclass(frozen=True)
class Uncertainty:
    """Ranks of a composite index under noisy weights and alternative aggregations.

    Attributes
    ----------
    ranks : DataFrame
        One row per unit-year: ``unit``, ``name``, ``year``, ``nominal_score``,
        ``nominal_rank``, ``mean_rank``, ``median_rank``, ``rank_q05``, ``rank_q95`` (R's
        default quantiles, as COINr's ``get_sensitivity``).
    draws : int
    seed : int
    alternatives : tuple
        The (aggregation, min-max scale) alternatives drawn from, equally likely.
    """

    ranks: pd.DataFrame
    draws: int
    seed: int
    alternatives: tuple

    def to_frame(self) -> pd.DataFrame:
        return self.ranks


def uncertainty(
    res: ScoreResult,
    *,
    weight_noise: dict[int, float] | None = None,
    alternatives: Sequence[tuple[str, tuple[float, float] | None]] = (("mean", None),),
    draws: int = 1000,
    seed: int = 0,
    chunk: int = 2000,
    line: str | None = None,
) -> Uncertainty:
    """Deprecated: uncertainty analysis of a composite index, through the sensitivity engine.

    Builds the spec a ``params/sensitivity`` file would give — one ``weight_noise`` factor
    per level of ``weight_noise`` (COINr's ``get_noisy_weights``: each relative weight
    × U(1 − f, 1 + f)) and an ``aggregation`` factor drawing one of ``alternatives``
    (aggregation of every section of the line, and the min-max scale of its items; ``None``
    keeps the scheme's) — and runs :func:`assesskit.sensitivity.simulate`. Use that with a
    spec (e.g. ``params/sensitivity/asem.yaml``) instead: it adds Sobol indices.

    Parameters
    ----------
    res : ScoreResult
        Scores of a composite scheme (the nominal case).
    weight_noise : dict, optional
        COINr level → relative noise, e.g. ``{2: 0.25, 3: 0.25}``.
    alternatives : sequence of (aggregation, scale)
        E.g. ``[("mean", (0, 100)), ("geometric", (1, 100))]``.
    draws, seed, chunk : int
    """
    _deprecated("uncertainty", "assesskit.sensitivity.simulate with a composite spec")
    from .. import sensitivity as sa

    ln = _line(res, line)
    nodes = tree_nodes(ln, {it.id: j for j, (_p, it) in enumerate(res.scheme.flat_items)})
    _need_weighted(nodes, "uncertainty", "assesskit.sensitivity.simulate")
    alts = tuple((a, tuple(sc) if sc is not None else None) for a, sc in alternatives)
    spec = sa.Spec(draws=draws, seed=seed, factors=_uncertainty_factors(ln, nodes, weight_noise or {}, alts))
    base = sa.from_result(res)
    sim = sa.simulate(base, spec, chunk=chunk, kendall=False)
    table = base.table()
    sel = np.flatnonzero((table["kind"] == ln.unit_kind).to_numpy())
    ranks = sim.ranks[:, sel].astype(float)
    out = table.iloc[sel][["unit", "name", "year"]].reset_index(drop=True)
    out = out.assign(
        nominal_score=res.summary["total"].to_numpy()[sel],
        nominal_rank=base.nominal().rank[0][base.order][sel],
        mean_rank=np.nanmean(ranks, axis=0),
        median_rank=np.nanmedian(ranks, axis=0),
        rank_q05=np.nanquantile(ranks, 0.05, axis=0),
        rank_q95=np.nanquantile(ranks, 0.95, axis=0),
    )
    return Uncertainty(ranks=out, draws=draws, seed=seed, alternatives=alts)


def _uncertainty_factors(ln: Section, nodes: list[TreeNode], noise: dict[int, float], alts: tuple) -> list:
    """The factors of the old ``uncertainty`` arguments (for the sensitivity engine)."""
    from ..sensitivity import AggregationFactor, WeightNoiseFactor

    factors: list = [
        WeightNoiseFactor(id=f"weights_level_{lv}", type="weight_noise", level=lv, noise=f, line=ln.id)
        for lv, f in sorted(noise.items())
        if f > 0
    ]
    nominal = {nd.aggregate for nd in nodes if nd.item < 0}
    if len(alts) > 1 or alts[0][1] is not None or {alts[0][0]} != nominal:
        # one alternative that is not the scheme's: listed twice, so every draw uses it
        choices = [{"aggregate": a, "scale": sc} for a, sc in alts] * (2 if len(alts) == 1 else 1)
        factors.append(
            AggregationFactor(
                id="aggregation",
                type="aggregation",
                alternatives=choices,
                nodes=[nd.id for nd in nodes if nd.item < 0],
            )
        )
    return factors


# --------------------------------------------------------------------------- counterparts
def composite_counterpart(
    scheme: Scheme,
    *,
    normalisation: str = "minmax",
    scale: tuple[float, float] = (0.0, 100.0),
    aggregation: str = "mean",
) -> tuple[Scheme, list[str]]:
    """The composite-index counterpart of a point scheme, for scoring both on the same data.

    Every item whose rule has a direction (:attr:`assesskit.rules.RuleType.direction`)
    becomes a ``normalise`` item on the same indicator, weighted by its points:
    ``threshold``, ``linear`` and ``bands`` take the direction of their ``op``; ``per_case``
    is −1 (more cases are worse); numeric ``graded`` is +1; a ``curve`` its slope. Items
    whose credit is not monotone in the indicator (``range``, ``change``, label grades, a
    curve that rises and falls) keep their own rule, its credit put on the index's scale
    (× 100 for min-max onto [0, 100]; listed in the second return value). Every section
    aggregates by ``aggregation`` with its points as its weight. Categories, vetoes and
    outcomes are kept (tiers by count, warnings by rank), except vetoes on a missed item
    that was normalised (such an item is "met" only at the top of the scale) and point
    thresholds; adjustments (points added to the total) are left out; missing indicators
    drop out (``missing: drop``).

    Returns
    -------
    (Scheme, list of str)
        The counterpart, and the items that kept their own credit rule.
    """
    raw = scheme.model_dump(mode="json", exclude_none=True)
    kept_credit: list[str] = []
    how = _Counterpart(scheme, normalisation, tuple(scale), aggregation, kept_credit)
    lines = [ln for ln in (how.convert(ln, ()) for ln in raw["lines"]) if ln is not None]
    for ln in lines:
        ln.pop("weight", None)
    kinds = {k: {kk: vv for kk, vv in v.items() if kk != "points"} for k, v in raw["kinds"].items()}
    new = raw | {
        "id": f"{scheme.id}_composite",
        "label": f"{scheme.label}（综合指数对照）",
        "label_en": f"{scheme.label_en or scheme.id} (composite-index counterpart)",
        "assumptions": [
            *raw.get("assumptions", []),
            f"composite counterpart: items normalised by {normalisation} and aggregated by the weighted "
            f"{aggregation} with their points as weights; adjustments left out",
        ],
        "kinds": kinds,
        "missing": "drop",
        "floor": None,
        "lines": lines,
        "adjustments": [],
        **_kept_conditions(raw, lines),
    }
    return parse_scheme(new, where=f"{scheme.id} (composite counterpart)"), kept_credit


@dataclass(frozen=True)
class _Counterpart:
    """How :func:`composite_counterpart` turns a point scheme's nodes (as dicts) into an index's."""

    scheme: Scheme
    normalisation: str
    scale: tuple[float, float]
    aggregation: str
    kept_credit: list[str]

    def convert(self, node: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
        here = path + (node["id"],)
        if "items" not in node:
            return self.item(node, here)
        kids = [c for c in (self.convert(c, here) for c in node["items"]) if c is not None]
        if not kids:
            return None
        out = {k: v for k, v in node.items() if k not in ("items", "points", "check_sum", "aggregate")}
        out |= {"weight": node["points"], "aggregate": self.aggregation, "items": kids}
        if self.normalisation == "minmax" and self.aggregation != "sum":
            out["points"] = self.scale[1]
        return out

    def item(self, node: dict[str, Any], here: tuple[str, ...]) -> dict[str, Any]:
        r = node["rule"]
        how = rule_type(r["type"]).direction
        direction = how(self.scheme.nodes[node["id"]].rule) if how is not None else 0
        if direction == 0:  # no direction: keep the item's own credit, on the index's scale
            top = self.scale[1] if self.normalisation == "minmax" else 1.0
            self.kept_credit.append(f"{SEP.join(here)} ({r['type']}: its credit × {top:g})")
            return {**node, "points": top, "weight": node["points"]}
        rule: dict[str, Any] = {
            "type": "normalise",
            "indicator": r["indicator"],
            "method": self.normalisation,
        }
        if direction == -1:
            rule["direction"] = -1
        if self.normalisation == "minmax":
            rule["scale"] = list(self.scale)
        out = {k: node[k] for k in ("id", "label", "label_en") if k in node}
        return (
            out
            | {"weight": node["points"], "rule": rule}
            | ({"points": self.scale[1]} if self.normalisation == "minmax" else {})
        )


def _kept_conditions(raw: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The vetoes and outcomes that keep their meaning in the counterpart."""
    kept = {it["id"] for ln in lines for it in _walk(ln)}
    # a veto on a missed item keeps its meaning only where the item kept its credit rule:
    # a normalised item is "met" only at the top of the scale
    credit = {
        it["id"]
        for ln in lines
        for it in _walk(ln)
        if it.get("rule", {}).get("type", "normalise") != "normalise"
    }
    vetoes = [
        v
        for v in raw.get("vetoes", [])
        if all(c.get("missed") in (None, *credit) for c in _conditions(v["when"]))
    ]
    outcomes = raw.get("outcomes", {})
    outcomes["tie_break"] = [n for n in outcomes.get("tie_break", []) if n in kept]
    if not outcomes["tie_break"] and outcomes.get("ties") == "tiebreak":
        outcomes["ties"] = "share"  # no tie-break order left: tied units share the better tier
    outcomes["single_awards"] = [a for a in outcomes.get("single_awards", []) if a["rank_by"] in kept]
    for w in outcomes.get("warnings", []):
        w.pop("below_total", None)  # point thresholds mean nothing on the index's scale
    outcomes["warnings"] = [w for w in outcomes.get("warnings", []) if w.get("bottom")]
    for t in outcomes.get("tiers", []):
        t.pop("min_total", None)
    outcomes["tiers"] = [t for t in outcomes.get("tiers", []) if t.get("count")]
    return {"vetoes": vetoes, "outcomes": outcomes}


def _walk(node: dict[str, Any]):
    yield node
    for c in node.get("items", []):
        yield from _walk(c)


def _conditions(c: dict[str, Any]):
    yield c
    for sub in (c.get("all") or []) + (c.get("any") or []):
        yield from _conditions(sub)
