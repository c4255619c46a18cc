"""The composite-index factors of a sensitivity spec: what they select, and their checks.

``weight_noise``, ``normalisation`` and ``aggregation`` (models in :mod:`.spec`) act on the
tree of a composite line — relative weights, ``normalise`` items, weighted means — read
here with :func:`assesskit.kernel.aggregate.tree_nodes`, the tree the kernel aggregates.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from ..exceptions import Problem
from ..kernel.aggregate import SEP, TreeNode, tree_nodes
from ..kernel.rules import NormaliseRule
from ..scheme import Scheme, Section
from .factor_base import _Factor, _Model


class WeightNoiseFactor(_Factor):
    """Composite indices: the relative weight of every node at COINr ``level`` (1 =
    indicators, 2 = the groups above them, …) multiplied by its own U(1 − ``noise``,
    1 + ``noise``) in each draw — COINr's ``get_noisy_weights``. ``line`` restricts it to
    one line. Nodes under a parent that adds up points have no relative weight and are not
    perturbed (a level with no other node is an error)."""

    type: Literal["weight_noise"]
    level: int = Field(ge=1)
    noise: float = Field(gt=0, le=1)
    line: str | None = None
    realizations: int = Field(64, ge=2)


class NormalisationAlternative(_Model):
    """One normalisation: the keys of a ``normalise`` rule that change (the rest stay the item's)."""

    method: Literal["minmax", "zscore", "goalposts", "rank", "percentile", "distance"] | None = None
    scale: tuple[float, float] | None = None
    mean_sd: tuple[float, float] | None = None
    goalposts: tuple[float, float, float] | None = None
    target: float | None = None
    cap: bool | None = None

    def rule_for(self, rule: NormaliseRule) -> NormaliseRule:
        """The item's rule with these keys changed (raises ValueError when invalid)."""
        return NormaliseRule.model_validate({**rule.model_dump(), **self.model_dump(exclude_none=True)})


class NormalisationFactor(_Factor):
    """Composite indices: the normalisation of the ``normalise`` items (``items:`` to choose
    them; default every one), one of ``alternatives`` per draw, equally likely (list the
    nominal too if it is to be drawn)."""

    type: Literal["normalisation"]
    alternatives: list[NormalisationAlternative] = Field(min_length=2)
    items: list[str] | None = None


class AggregationAlternative(_Model):
    """One aggregation; with ``scale``, min-max items under the nodes are normalised onto
    it in the draws that use this alternative (a geometric mean needs positive scores)."""

    aggregate: Literal["mean", "geometric", "harmonic"]
    scale: tuple[float, float] | None = None

    @model_validator(mode="before")
    @classmethod
    def _word(cls, raw: Any) -> Any:
        return {"aggregate": raw} if isinstance(raw, str) else raw


class AggregationFactor(_Factor):
    """Composite indices: how the ``nodes`` (default: every section under a weighted mean)
    aggregate their children, one of ``alternatives`` per draw, equally likely — e.g.
    ``[mean, {aggregate: geometric, scale: [1, 100]}]``."""

    type: Literal["aggregation"]
    alternatives: list[AggregationAlternative] = Field(min_length=2)
    nodes: list[str] | None = None


def composite_trees(scheme: Scheme, line: str | None = None) -> list[tuple[Section, list[TreeNode], dict]]:
    """Each line (or the one named) as kernel tree nodes, with each node's parent index."""
    index = {it.id: j for j, (_p, it) in enumerate(scheme.flat_items)}
    out = []
    for ln in scheme.lines:
        if line is None or ln.id == line:
            nodes = tree_nodes(ln, index)
            parent = {c: i for i, nd in enumerate(nodes) for c in nd.children}
            out.append((ln, nodes, parent))
    return out


def weight_noise_nodes(f: WeightNoiseFactor, scheme: Scheme) -> list[str]:
    """Ids of the nodes at ``f.level`` whose parent is a weighted mean (their weights vary)."""
    return [
        nd.id
        for _ln, nodes, parent in composite_trees(scheme, f.line)
        for i, nd in enumerate(nodes)
        if nd.level == f.level and i in parent and nodes[parent[i]].aggregate != "sum"
    ]


def aggregation_nodes(f: AggregationFactor, scheme: Scheme) -> list[str]:
    """Ids of the sections whose aggregation varies (listed, or every weighted mean)."""
    if f.nodes is not None:
        return list(f.nodes)
    return [
        nd.id
        for _ln, nodes, _p in composite_trees(scheme)
        for nd in nodes
        if nd.item < 0 and nd.aggregate != "sum"
    ]


def normalised_items(scheme: Scheme, f: NormalisationFactor) -> list[int]:
    """Indices of the ``normalise`` items a normalisation factor selects."""
    flat = scheme.flat_items
    return [
        j
        for j, (p, it) in enumerate(flat)
        if isinstance(it.rule, NormaliseRule) and (f.items is None or any(nid in p for nid in f.items))
    ]


def items_under_nodes(scheme: Scheme, ids: list[str]) -> list[int]:
    """Indices of the ``normalise`` items under any of the nodes."""
    flat = scheme.flat_items
    return [
        j
        for j, (p, it) in enumerate(flat)
        if isinstance(it.rule, NormaliseRule) and any(nid in p for nid in ids)
    ]


def alternative_scale(alt: AggregationAlternative, rule: NormaliseRule) -> NormaliseRule:
    """The item's rule in the draws of an aggregation alternative (its ``scale`` for min-max)."""
    if alt.scale is None or rule.method != "minmax":
        return rule
    return rule.model_copy(update={"scale": tuple(alt.scale)})


def _where(f, key: str | None = None) -> str:
    return SEP.join(["factors", f.id] + ([key] if key else []))


def _check_weight_noise(f: WeightNoiseFactor, scheme: Scheme, taken: dict) -> list[Problem]:
    if f.line is not None and all(ln.id != f.line for ln in scheme.lines):
        return [Problem(_where(f, "line"), f"'{f.line}' is not a line of scheme '{scheme.id}'")]
    if weight_noise_nodes(f, scheme):
        return []
    top = max(nd.level for _ln, nodes, _p in composite_trees(scheme, f.line) for nd in nodes)
    return [
        Problem(
            _where(f, "level"),
            f"no node at level {f.level} has a relative weight (a child of a weighted mean); "
            f"levels run from 1 (indicators) to {top - 1} below the line",
        )
    ]


def _check_normalisation(f: NormalisationFactor, scheme: Scheme, taken: dict) -> list[Problem]:
    if f.items is not None:
        unknown = [nid for nid in f.items if nid not in scheme.nodes]
        if unknown:
            return [
                Problem(_where(f, "items"), f"'{nid}' is not a line, section or item of scheme '{scheme.id}'")
                for nid in unknown
            ]
    sel = normalised_items(scheme, f)
    if not sel:
        return [Problem(_where(f), "selects no normalise item (normalisation varies composite indicators)")]
    flat = scheme.flat_items
    probs = []
    for a, alt in enumerate(f.alternatives):
        for j in sel:
            try:
                alt.rule_for(flat[j][1].rule)
            except ValidationError as exc:
                msg = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
                probs.append(Problem(_where(f, f"alternatives › {a}"), f"item '{flat[j][1].id}': {msg}"))
                break
    for j in sel:
        claimed = taken["norm_items"].setdefault(j, f.id)
        if claimed != f.id:
            probs.append(
                Problem(
                    _where(f, "items"),
                    f"item '{flat[j][1].id}' already has its normalisation varied by factor '{claimed}'",
                )
            )
    return probs


def _valid(alt: NormalisationAlternative, rule: NormaliseRule) -> NormaliseRule | None:
    """The alternative's rule, or None when invalid (reported by the normalisation factor)."""
    try:
        return alt.rule_for(rule)
    except ValueError:
        return None


def _lowest(rule: NormaliseRule) -> float:
    """The lowest score a normalisation can give (−inf where unbounded)."""
    lo = rule.bounds[0]
    return -math.inf if math.isnan(lo) else lo


def _check_aggregation(f: AggregationFactor, scheme: Scheme, taken: dict) -> list[Problem]:
    ids = aggregation_nodes(f, scheme)
    probs = []
    for nid in ids:
        node = scheme.nodes.get(nid)
        if not isinstance(node, Section):
            probs.append(
                Problem(_where(f, "nodes"), f"'{nid}' is not a section or line of scheme '{scheme.id}'")
            )
        elif node.aggregate == "sum":
            probs.append(
                Problem(
                    _where(f, "nodes"), f"'{nid}' adds up points (aggregate: sum); only weighted means vary"
                )
            )
    if probs:
        return probs
    if not ids:
        return [Problem(_where(f), f"scheme '{scheme.id}' has no weighted mean to aggregate otherwise")]
    flat = scheme.flat_items
    items = items_under_nodes(scheme, ids)
    spec = taken["spec"]
    norm_alts = {
        j: g.alternatives
        for g in spec.factors
        if isinstance(g, NormalisationFactor)
        for j in normalised_items(scheme, g)
    }
    for a, alt in enumerate(f.alternatives):
        if alt.aggregate == "mean":
            continue
        for j in items:
            rule = alternative_scale(alt, flat[j][1].rule)
            rules = [rule] + [r for n in norm_alts.get(j, []) if (r := _valid(n, rule)) is not None]
            if alt.scale is not None and j in norm_alts and rule.method == "minmax":
                probs.append(
                    Problem(
                        _where(f, f"alternatives › {a} › scale"),
                        f"item '{flat[j][1].id}' has its normalisation varied by a normalisation factor too",
                    )
                )
                break
            if any(_lowest(r) <= 0 for r in rules):
                probs.append(
                    Problem(
                        _where(f, f"alternatives › {a}"),
                        f"a {alt.aggregate} mean needs positive scores, but item '{flat[j][1].id}' can score "
                        f"{_lowest(rule):g} or less; give the alternative a min-max scale above 0 "
                        "(e.g. {aggregate: geometric, scale: [1, 100]})",
                    )
                )
                break
    return probs


COMPOSITE_CHECKS = {
    WeightNoiseFactor: _check_weight_noise,
    NormalisationFactor: _check_normalisation,
    AggregationFactor: _check_aggregation,
}
