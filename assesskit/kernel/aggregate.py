"""Normalisation and aggregation kernels for composite indices, and the scheme tree as arrays.

Pure array functions with no validation of their own (the scheme loader checks the
parameters): the scoring engine and the composite analyses both call them. The semantics
follow the OECD/JRC Handbook on Constructing Composite Indicators (2008) and its reference
implementation, the JRC's COINr:

- the indicator's direction is applied first (values × −1), then the normaliser runs over
  the unit's peers (the units of the same kind in the same year);
- weights are relative within a parent; a child missing for a unit drops out and the
  remaining weights are rescaled (COINr's ``a_amean``/``a_gmean``/``a_hmean``);
- ranks are competition ranks, ties sharing the best rank (R's ``rank(-x, ties = "min")``).

This module imports nothing from the rest of the package but :mod:`assesskit.exceptions`
(and :mod:`.rank`, in the deprecated :func:`competition_ranks`),
so every layer above may use it.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..exceptions import DataError, Problem

if TYPE_CHECKING:
    from ..scheme import Section
    from .rules import NormaliseRule

SEP = " › "
"""Separator of the parts of a path (``line › section › item``) in messages and tables."""

AGGREGATES = ("sum", "mean", "geometric", "harmonic")


def _group_stat(x: np.ndarray, group: np.ndarray, how: str) -> np.ndarray:
    """A per-group statistic of ``x`` (NaN skipped) broadcast back to every row."""
    return pd.Series(x).groupby(group).transform(how).to_numpy(dtype=float)


def normalise(value: np.ndarray, group: np.ndarray, rule: NormaliseRule) -> np.ndarray:
    """Normalise ``value`` within each peer group (COINr's ``n_*`` functions, vectorised).

    Parameters
    ----------
    value : ndarray of float
        The indicator's values, NaN where missing.
    group : ndarray of int
        Peer-group code of each row (the engine uses year × kind of unit).
    rule : NormaliseRule

    Returns
    -------
    ndarray of float
        The scores; NaN where the value is missing, and for a whole group whose range is 0
        under min-max, goalposts-free distance or z-score (COINr returns NaN there too).
    """
    x = np.asarray(value, dtype=float) * rule.direction
    m = rule.method
    if m == "minmax":
        lo, hi = _group_stat(x, group, "min"), _group_stat(x, group, "max")
        span = np.where(hi > lo, hi - lo, np.nan)
        return (x - lo) / span * (rule.scale[1] - rule.scale[0]) + rule.scale[0]
    if m == "zscore":
        mean, sd = _group_stat(x, group, "mean"), _group_stat(x, group, "std")  # sd with n − 1, as R
        sd = np.where(sd > 0, sd, np.nan)
        return (x - mean) / sd * rule.mean_sd[1] + rule.mean_sd[0]
    if m == "goalposts":
        lo, hi, a = rule.goalposts
        if rule.direction == -1:  # the posts flip with the values (COINr n_goalposts)
            y = (x + hi) / (hi - lo)
        else:
            y = (x - lo) / (hi - lo)
        return np.clip(y, 0.0, 1.0) * a
    if m in ("rank", "percentile"):
        r = pd.Series(x).groupby(group).rank(method="min").to_numpy(dtype=float)  # NaN stays NaN
        if m == "rank":
            return r
        n = pd.Series(~np.isnan(x)).groupby(group).transform("sum").to_numpy(dtype=float)
        return (r - 1) / np.where(n > 1, n - 1, np.nan)
    # distance to target: 1 − (target − x)/(target − min x), target in the indicator's units
    t = rule.target * rule.direction
    lo = _group_stat(x, group, "min")
    y = 1 - (t - x) / np.where(t != lo, t - lo, np.nan)
    return np.minimum(y, 1.0) if rule.cap else y


def aggregate(values: np.ndarray, weights: np.ndarray, method: str) -> np.ndarray:
    """Aggregate children along the last axis with relative weights; NaN children drop out.

    Parameters
    ----------
    values : ndarray (..., children)
        Children's scores; NaN where missing for that unit.
    weights : ndarray broadcastable to ``values``
        Relative weights (≥ 0). For ``sum`` they are ignored: points are absolute.
    method : {"sum", "mean", "geometric", "harmonic"}
        ``mean``: Σ w x / Σ w; ``geometric``: exp(Σ w log x / Σ w), needs x > 0;
        ``harmonic``: Σ w / Σ (w / x), needs x ≠ 0 — each over the children present.

    Returns
    -------
    ndarray (...)
        NaN where no child is present (or every present child has weight 0).
    """
    ok = ~np.isnan(values)
    if method == "sum":
        out = np.where(ok, values, 0.0).sum(axis=-1)
        return np.where(ok.any(axis=-1), out, np.nan)
    w = np.where(ok, weights, 0.0)
    wsum = w.sum(axis=-1)
    safe = np.where(ok, values, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "mean":
            num = (w * np.where(ok, values, 0.0)).sum(axis=-1)
            out = num / wsum
        elif method == "geometric":
            out = np.exp((w * np.log(safe)).sum(axis=-1) / wsum)
        elif method == "harmonic":
            out = wsum / (w / safe).sum(axis=-1)
        else:
            raise ValueError(f"unknown aggregation '{method}'; expected one of {AGGREGATES}")
    return np.where(wsum > 0, out, np.nan)


def check_aggregable(values: np.ndarray, method: str, where: str, units: Sequence[str]) -> None:
    """Refuse values a geometric (≤ 0) or harmonic (0) mean cannot take, naming the units."""
    if method == "geometric":
        bad = (values <= 0) & ~np.isnan(values)
        need = "positive scores (normalise onto e.g. [1, 100])"
    elif method == "harmonic":
        bad = (values == 0) & ~np.isnan(values)
        need = "non-zero scores (normalise onto e.g. [1, 100])"
    else:
        return
    if bad.any():
        per_unit = bad.any(axis=-1) if bad.ndim > 1 else bad
        while per_unit.ndim > 1:  # draws × units → units
            per_unit = per_unit.any(axis=0)
        rows = np.flatnonzero(per_unit)
        names = ", ".join(str(units[i]) for i in rows[:10])
        raise DataError(
            f"cannot aggregate {where}:",
            [Problem(where, f"a {method} mean needs {need}; units with a score ≤ 0 or 0: {names}")],
        )


# --------------------------------------------------------------------------- the tree as arrays
@dataclass(frozen=True)
class TreeNode:
    """One node of a line as arrays see it (see :func:`tree_nodes`)."""

    id: str
    path: str
    depth: int  # 0 = the line
    level: int  # COINr's level: 1 = indicators, the line highest
    aggregate: str
    weight: float
    children: tuple[int, ...]  # indices into the node list
    item: int  # index into the scheme's flat items, −1 for sections


def tree_nodes(line: Section, item_index: dict[str, int]) -> list[TreeNode]:
    """Nodes of one line, children before parents (so a single pass aggregates)."""
    out: list[TreeNode] = []

    def visit(node, path: tuple[str, ...], depth: int) -> tuple[int, int]:
        here = path + (node.id,)
        if getattr(node, "items", None) is None:  # an item (sections have children)
            out.append(TreeNode(node.id, SEP.join(here), depth, 1, "", node.weight, (), item_index[node.id]))
            return len(out) - 1, 1
        kids = [visit(c, here, depth + 1) for c in node.items]
        level = 1 + max(lv for _i, lv in kids)
        out.append(
            TreeNode(
                node.id,
                SEP.join(here),
                depth,
                level,
                node.aggregate,
                node.weight,
                tuple(i for i, _lv in kids),
                -1,
            )
        )
        return len(out) - 1, level

    visit(line, (), 0)
    return out


def path_weights(nodes: list[TreeNode]) -> np.ndarray:
    """Each node's share of the line: the product of its relative weights up the tree.

    A child's relative weight is its weight over its siblings' (1 under a node that adds up
    points, where weights mean nothing); the line's share is 1. This is COINr's
    ``get_eff_weights``: an indicator's share of an arithmetic index with nothing missing.
    """
    parent = {c: i for i, nd in enumerate(nodes) for c in nd.children}
    share = np.ones(len(nodes))
    for i in range(len(nodes) - 2, -1, -1):  # parents come after children; the line is last
        p = nodes[parent[i]]
        total = sum(nodes[c].weight for c in p.children)
        rel = nodes[i].weight / total if total > 0 else np.nan
        share[i] = share[parent[i]] * (rel if p.aggregate != "sum" else 1.0)
    return share


def aggregate_tree(
    nodes: list[TreeNode],
    item_scores: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    methods: dict[str, str] | None = None,
    units: Sequence[str] = (),
    top_only: bool = False,
) -> np.ndarray:
    """Scores of every node, from the items up, for one or many weight sets at once.

    Parameters
    ----------
    nodes : list
        From :func:`tree_nodes` (children before parents).
    item_scores : ndarray (units, flat items) or (draws, units, flat items)
        The items' scores (NaN = missing, drops out of means), the same in every draw or
        one set per draw.
    weights : ndarray (draws, nodes), optional
        One weight per node and draw; default the scheme's weights (one draw).
    methods : dict, optional
        Aggregation per node id overriding the scheme's (e.g. every mean → geometric).
    top_only : bool
        Return only the last node's scores, (draws, units): children stay as small as
        they come (an item's scores shared by every draw are not copied into each draw).

    Returns
    -------
    ndarray (draws, units, nodes), or (draws, units) with ``top_only``
    """
    n_units = item_scores.shape[-2]
    scores3 = item_scores if item_scores.ndim == 3 else item_scores[None]
    if weights is None:
        weights = np.array([[nd.weight for nd in nodes]])
    d = max(weights.shape[0], scores3.shape[0])
    vals_of: list[np.ndarray | None] = [None] * len(nodes)
    for i, nd in enumerate(nodes):
        if nd.item >= 0:
            vals_of[i] = scores3[:, :, nd.item]  # (1 or d, units)
            continue
        kids = list(nd.children)
        method = (methods or {}).get(nd.id, nd.aggregate)
        rows = max(vals_of[c].shape[0] for c in kids)
        vals = np.stack([np.broadcast_to(vals_of[c], (rows, n_units)) for c in kids], axis=-1)
        check_aggregable(vals, method, nd.path, units)
        vals_of[i] = aggregate(vals, weights[:, None, kids], method)
        if top_only:
            for c in kids:  # a child is read only by its parent
                vals_of[c] = None
    if top_only:
        return np.broadcast_to(vals_of[-1], (d, n_units))
    return np.stack([np.broadcast_to(v, (d, n_units)) for v in vals_of], axis=-1)


def competition_ranks(scores: np.ndarray) -> np.ndarray:
    """Deprecated: :func:`assesskit.kernel.rank.rank_within` (the package's one ranking).

    Ranks along the last axis, highest first, ties sharing the best rank; NaN unranked.
    """
    from .rank import rank_within

    warnings.warn(
        "assesskit.kernel.aggregate.competition_ranks is deprecated; use assesskit.kernel.rank.rank_within",
        DeprecationWarning,
        stacklevel=2,
    )
    scores = np.asarray(scores, dtype=float)
    flat = scores.reshape(-1, scores.shape[-1]) if scores.ndim else scores.reshape(1, 1)
    out = rank_within(np.zeros(flat.shape[-1], dtype=np.int64), [flat], ~np.isnan(flat))
    return out.reshape(scores.shape)
