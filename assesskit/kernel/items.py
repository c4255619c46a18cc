"""The kernel's item stage: every item's credit, points and status, and the node totals.

One pass per item over ``(d, n)`` arrays. Items whose credit cannot change in these draws
(no new target, rule form or data) keep the nominal credit kept in the inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scheme import Item
from .aggregate import aggregate_tree, tree_nodes
from .core import EPS, MET, MISSED, MISSING, PARTIAL, Inputs, Variation, apply_rule
from .rulecall import score_rule


@dataclass
class ItemScores:
    """Node totals and what the later stages read from the items."""

    lines: list[np.ndarray]  # per line of the scheme: its total for every row
    nodes: dict[str, np.ndarray]  # tie-break (and single-award) nodes: their scores
    missed: dict[str, np.ndarray]  # items named by veto conditions: not met (and applying)
    points: np.ndarray | None  # (k, d, n) with ``detail`` (or for composite nodes)
    status: np.ndarray | None  # (k, d, n) int8 with ``detail``


def _add(acc: np.ndarray | None, x: np.ndarray) -> np.ndarray:
    """``acc + x``, in place when the shapes allow (the scheme's order of summation)."""
    if acc is None:
        return x.copy()  # never shared: lines and tie-break nodes accumulate the same items
    if acc.shape == np.broadcast_shapes(acc.shape, x.shape) and acc.flags.writeable and acc.flags.owndata:
        acc += x
        return acc
    return acc + x


def _nan_row(inp: Inputs) -> np.ndarray:
    """A read-only (1, n) row of NaN, made once per inputs (no target, no previous year)."""
    row = inp._cache.get("nan_row")
    if row is None:
        row = np.full((1, inp.n), np.nan)
        row.flags.writeable = False
        inp._cache["nan_row"] = row
    return row


def _target(inp: Inputs, var: Variation, j: int, item: Item) -> np.ndarray:
    tg = inp.targets.get(item.id)
    tg = _nan_row(inp) if tg is None else tg[None, :]
    if j in var.target_items:
        if var.target_set is not None:
            s = var.target_set[:, j : j + 1]
            tg = np.where(np.isnan(s), tg, s)
        # a column of zeros changes nothing (t × 1 is t): skip the pass over draws × rows
        if var.target_rel is not None and var.target_rel[:, j].any():
            tg = tg * (1 + var.target_rel[:, j : j + 1])
        if var.target_add is not None and _adds(var.target_add[:, j], tg):
            tg = tg + var.target_add[:, j : j + 1]
    return tg


def _adds(add: np.ndarray, tg: np.ndarray) -> bool:
    """Adding ``add`` (per draw) changes ``tg``: some shift is not zero, or one is and a
    target is −0.0 (−0.0 + 0.0 is +0.0; kept, to stay bit for bit)."""
    return bool(add.any()) or bool(np.signbit(tg).any())


def _choice(var: Variation, j: int, rule) -> tuple[tuple[object, ...], np.ndarray] | None:
    """Item ``j``'s rule per draw: ``(rules, (d,) codes)`` (None: its own rule in every draw)."""
    if j in var.rule_choice:
        return var.rule_choice[j]
    if j in var.forms:
        alt_rule, use = var.forms[j]
        return (rule, alt_rule), np.asarray(use, dtype=np.int64)
    return None


def _credit(
    inp: Inputs, var: Variation, j: int, values, prev_values, affected, shape
) -> tuple[np.ndarray, np.ndarray | None]:
    """Item ``j``'s credit in every draw (NaN where missing): nominal unless something changed.

    With a per-draw choice of rule on unchanged inputs, also the draws' choice codes (the
    credit depends on nothing else); else None.
    """
    item = inp.items[j][1]
    r = item.rule
    ind = r.indicator
    new_prev = r.type == "change" and ind in prev_values
    choice = _choice(var, j, r)
    if inp.credit is not None and not (j in var.target_items or choice or ind in affected or new_prev):
        return inp.credit[j][None, :], None
    tg = _target(inp, var, j, item)
    v = values[ind]
    v = v[None, :] if np.ndim(v) == 1 else v
    prev = inp.previous.get(item.id)
    pv = prev_values[ind] if new_prev else (_nan_row(inp) if prev is None else prev[None, :])
    d, n = shape
    if choice is None:
        return apply_rule(r, v, tg, pv, item.points, inp.group, shape), None
    rules, codes = choice
    shared = all(np.ndim(a) < 2 or np.shape(a)[0] == 1 for a in (v, tg, pv))
    f = np.empty(shape)
    for c, rule_ in enumerate(rules):  # each rule only on the draws that use it (a few rules)
        idx = np.flatnonzero(codes == c)
        if not idx.size:
            continue
        if shared:  # the same inputs in every draw: score once per run, copy to the draws
            key = ("rule_credit", j, rule_)
            if key not in inp._cache:
                inp._cache[key] = apply_rule(rule_, v, tg, pv, item.points, inp.group, (1, n))
            f[idx] = inp._cache[key]
            continue

        def sub(a, idx=idx):
            a = np.asarray(a)
            return a[idx] if a.ndim == 2 and a.shape[0] == d else a

        f[idx] = apply_rule(rule_, sub(v), sub(tg), sub(pv), item.points, inp.group, (idx.size, n))
    return f, (np.asarray(codes) if shared else None)


def _fill_missing(inp: Inputs, var: Variation, j: int, f: np.ndarray, is_missing: np.ndarray):
    """The credit with the missing-data policy applied; the level of full credit."""
    item = inp.items[j][1]
    policy = item.missing or inp.scheme.missing
    if score_rule(item.rule.type):  # the score itself (composite indices), bounded or not
        if j in var.rule_choice:  # each draw's rule has its own scale: (d, 1) levels
            rules, codes = var.rule_choice[j]
            lo, hi = (np.array([r.bounds[b] for r in rules])[codes][:, None] for b in (0, 1))
        else:
            lo, hi = item.rule.bounds
        bottom = np.where(np.isfinite(lo), lo, 0.0)  # "zero": the bottom of the scale
        levels = (bottom, hi, lo, hi)
    else:
        levels = (0.0, 1.0, 0.0, 1.0)
    if is_missing.any():
        if var.missing_full is None:
            fill = {"zero": levels[0], "full": levels[1], "drop": np.nan}[policy]
        else:
            fill = np.where(var.missing_full[:, j : j + 1], levels[1], levels[0])
        f = np.where(is_missing, fill, f)
    return f, levels[2], levels[3]


def _status(
    f: np.ndarray, is_missing: np.ndarray, low: float, full: float, shape, out: np.ndarray | None = None
) -> np.ndarray:
    """Status codes (written into ``out`` if given): missing, else missed, else met, else partial.

    Bit arithmetic on int8 rather than masked assignments, which branch on every row:
    ``missed << 1 | (neither missed nor met)`` gives missed 2, met 0, partial 1, and
    ``| missing × 3`` gives missing 3.
    """
    assert (MET, PARTIAL, MISSED, MISSING) == (0, 1, 2, 3)  # the arithmetic below relies on them
    st = np.empty(shape, dtype=np.int8) if out is None else out
    met = f >= full - EPS
    missed = f <= low + EPS
    np.left_shift(missed.view(np.int8), 1, out=st)
    np.bitwise_or(st, (~(missed | met)).view(np.int8), out=st)
    np.bitwise_or(st, np.multiply(is_missing.view(np.int8), np.int8(MISSING)), out=st)
    return st


def _applies_everywhere(inp: Inputs) -> np.ndarray:
    """(k,) bool: the item applies to every row (computed once per inputs)."""
    if "applies_all" not in inp._cache:
        inp._cache["applies_all"] = inp.applies.all(axis=1)
    return inp._cache["applies_all"]


def _simple(inp: Inputs, node) -> bool:
    """A node whose score is the plain sum of its items' points (added as they come)."""
    return isinstance(node, Item) or (node.is_sum_tree and not inp.scheme.may_drop)


def score_items(
    inp: Inputs, var: Variation, values, prev_values, affected, shape, detail: bool
) -> ItemScores:
    """Credit → points of every item in every draw; line and node totals; misses for vetoes."""
    s = inp.scheme
    flat = s.flat_items
    k = len(flat)
    wanted = list(
        dict.fromkeys(
            list(s.outcomes.tie_break) + ([a.rank_by for a in s.outcomes.single_awards] if detail else [])
        )
    )
    simple_lines = [_simple(inp, ln) for ln in s.lines]
    simple_nodes = {nid: _simple(inp, s.nodes[nid]) for nid in wanted}
    keep_all = detail or not all(simple_lines) or not all(simple_nodes.values())
    kept = _Kept([None] * k, [None] * k) if keep_all else None
    status = np.empty((k,) + shape, dtype=np.int8) if detail else None
    points = np.empty((k,) + shape) if detail else None  # written item by item, not stacked
    direct = [False] * k  # the item's points were computed straight into ``points``
    veto_items = {c.missed for v in s.vetoes for c in v.when.walk() if c.missed is not None}
    everywhere = _applies_everywhere(inp)
    node_of_item = [[nid for nid in wanted if simple_nodes[nid] and nid in p] for p, _it in flat]
    lines: list[np.ndarray | None] = [None] * len(s.lines)
    nodes: dict[str, np.ndarray | None] = {nid: None for nid in wanted}
    missed: dict[str, np.ndarray] = {}
    for j, (_path, item) in enumerate(flat):
        f, codes = _credit(inp, var, j, values, prev_values, affected, shape)
        is_missing = np.isnan(f)
        f, low, full = _fill_missing(inp, var, j, f, is_missing)
        keep = inp.applies[j][None, :]
        dropped = var.drop is not None and var.drop[:, j].any()
        if dropped:
            keep = keep & ~var.drop[:, j : j + 1]
        if score_rule(item.rule.type):
            pts = np.where(keep, f, 0.0)
        else:
            w = item.points if var.weight is None else item.points * var.weight[:, j : j + 1]
            direct[j] = points is not None and np.broadcast_shapes(f.shape, np.shape(w)) == shape
            pts = np.multiply(f, w, out=points[j] if direct[j] else None)
            if dropped or not everywhere[j]:
                if pts.shape == shape:  # a fresh product of its own: zeroed in place
                    np.copyto(pts, 0.0, where=~keep)
                else:
                    pts = np.where(keep, pts, 0.0)
        if kept is not None:
            kept.points[j] = pts
            # the points depend on the draw only through its choice of rule
            if codes is not None and not dropped and var.missing_full is None and var.weight is None:
                kept.codes[j] = codes
        if status is not None:
            _status(f, is_missing, low, full, shape, out=status[j])
        li = inp.line_of_item[j]
        if simple_lines[li]:
            lines[li] = _add(lines[li], pts)
        for nid in node_of_item[j]:
            nodes[nid] = _add(nodes[nid], pts)
        if item.id in veto_items:
            missed[item.id] = np.broadcast_to((~(f >= full - EPS) | is_missing) & keep, shape)
    for li, ln in enumerate(s.lines):
        if not simple_lines[li]:
            lines[li] = _tree_scores(inp, var, kept, ln.id, shape)
    for nid in wanted:
        if not simple_nodes[nid]:
            nodes[nid] = _tree_scores(inp, var, kept, nid, shape)
        elif nodes[nid] is None:
            nodes[nid] = np.zeros(shape)  # every item of the node left out
    if points is not None:
        for j in range(k):
            if not direct[j]:
                points[j] = kept.points[j]
    return ItemScores(lines, nodes, missed, points, status)


@dataclass
class _Kept:
    """Every item's points as computed — (1, n) when the same in every draw, else (d, n) —
    and, where they vary only with the draw's choice of rule, the choice codes."""

    points: list
    codes: list


def _tree_scores(inp: Inputs, var: Variation, kept: _Kept, node_id: str, shape) -> np.ndarray:
    """A composite node's score per draw and row: weighted means up the tree
    (:func:`assesskit.kernel.aggregate.aggregate_tree`), items that do not apply (or are
    left out) dropping out, with each draw's weights and aggregations (``var.node_weight``,
    ``var.aggregation``).

    The draws are grouped by their combination of aggregations and rule choices; inside a
    group the items' scores are one row shared by every draw (unless they vary otherwise,
    e.g. with data noise), so the group is one array op over (draws, units, nodes).
    """
    s = inp.scheme
    d, n = shape
    js = [j for j, (p, _it) in enumerate(s.flat_items) if node_id in p]
    a, b = js[0], js[-1] + 1  # a node's items are contiguous
    tree = tree_nodes(s.nodes[node_id], {it.id: j - a for j, (_p, it) in enumerate(s.flat_items[a:b], a)})
    weights = np.array([[nd.weight for nd in tree]])
    noisy = [(i, var.node_weight[nd.id]) for i, nd in enumerate(tree) if nd.id in var.node_weight]
    if noisy:
        weights = np.repeat(weights, d, axis=0)
        for i, mult in noisy:
            weights[:, i] = weights[:, i] * mult
    units = inp.rows["unit"].to_numpy()
    pts, codes = kept.points[a:b], kept.codes[a:b]
    per_draw = any(p.shape[0] > 1 and c is None for p, c in zip(pts, codes)) or (
        var.drop is not None and var.drop[:, a:b].any()
    )
    keys = [
        codes_
        for _id, (_m, codes_) in ((nd.id, var.aggregation[nd.id]) for nd in tree if nd.id in var.aggregation)
    ]
    chosen = [(nd.id, var.aggregation[nd.id][0]) for nd in tree if nd.id in var.aggregation]
    shared_codes = {} if per_draw else {id(c): c for c in codes if c is not None}
    keys += list(shared_codes.values())
    if keys:
        combos, which = np.unique(np.stack(keys, axis=1), axis=0, return_inverse=True)
        which = which.reshape(-1)
    else:
        combos, which = np.zeros((1, 0), dtype=np.int64), np.zeros(d, dtype=np.int64)
    applies = inp.applies[a:b]
    if per_draw:
        keep = applies[:, None, :]
        if var.drop is not None:
            keep = keep & ~var.drop[:, a:b].T[:, :, None]
        full = np.stack([np.broadcast_to(p, shape) for p in pts])
        sub_all = np.where(keep, full, np.nan).transpose(1, 2, 0)  # d × n × items
    out = np.empty(shape)
    for ci, combo in enumerate(combos):  # a few combinations; every draw inside is one array op
        idx = np.flatnonzero(which == ci)
        methods = {nid: alts[c] for (nid, alts), c in zip(chosen, combo)}
        if per_draw:
            sub = sub_all[idx]
        else:  # one row of item scores for the whole group
            rep = idx[0]
            rows = np.stack([p[rep] if c is not None else p[0] for p, c in zip(pts, codes)])
            sub = np.where(applies, rows, np.nan).T[None, :, :]  # 1 × n × items
        w = weights[idx] if weights.shape[0] > 1 else weights
        out[idx] = aggregate_tree(tree, sub, w, methods=methods, units=units, top_only=True)
    return out
