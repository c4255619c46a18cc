"""The kernel's last stages: vetoes and eligibility, then ranks, award tiers and warnings."""

from __future__ import annotations

import numpy as np

from .core import MISSING, VETOED, Detail, Inputs, Outcome, Variation, eval_condition
from .items import ItemScores
from .rank import Ranking, group_codes


def _vetoes(inp: Inputs, var: Variation, values, items: ItemScores, shape, detail: bool):
    """Each veto rule's mask per effect (with its label); marks the vetoing items' status."""
    s = inp.scheme
    cond_inds = {c.indicator for v in s.vetoes for c in v.when.walk() if c.indicator is not None}
    cond_values = {i: np.broadcast_to(values[i], shape) for i in cond_inds}
    by_effect: dict[str, list[tuple[np.ndarray, str]]] = {"veto": [], "not_scored": [], "ineligible": []}
    index = {it.id: j for j, (_p, it) in enumerate(s.flat_items)}
    for vi, v in enumerate(s.vetoes):
        m = eval_condition(v.when, items.missed, cond_values) & np.ones(shape, bool)
        if v.applies_to is not None:
            m = m & inp.of_kinds(v.applies_to)
        if var.veto_on is not None:
            m = m & var.veto_on[:, vi : vi + 1]
        by_effect[v.effect].append((m, v.label))
        if detail and v.effect in ("veto", "not_scored"):  # the items whose miss triggered it
            for c in v.when.walk():
                if c.missed is not None:
                    st = items.status[index[c.missed]]
                    st[m & items.missed[c.missed] & (st != MISSING)] = VETOED
    return by_effect


def decide(
    inp: Inputs, var: Variation, values, items: ItemScores, total, adjust, bonus, deduction, shape, detail
) -> Outcome:
    """Vetoes, eligibility, ranks, tiers and warnings of every draw (see :func:`.pipeline.run`)."""
    s = inp.scheme
    by_effect = _vetoes(inp, var, values, items, shape, detail)

    def any_of(effect: str) -> np.ndarray:
        return np.logical_or.reduce([m for m, _ in by_effect[effect]] + [np.zeros(shape, bool)])

    not_scored = any_of("not_scored")
    vetoed = any_of("veto") | not_scored
    total = np.where(not_scored, np.nan, total)
    ranked = ~vetoed & ~np.isnan(total)
    out_cfg = s.outcomes
    in_outcomes = inp.of_kinds(out_cfg.applies_to)
    eligible = ranked & ~any_of("ineligible") & in_outcomes

    tb = [np.broadcast_to(items.nodes[nid], shape) for nid in out_cfg.tie_break]
    ranking = Ranking(inp.group, [total] + tb, within=ranked)
    rank = ranking.better(ranked)
    tier = np.full(shape, -1, dtype=np.int8)
    free = eligible.copy()
    for t_i, t in enumerate(out_cfg.tiers):
        with np.errstate(invalid="ignore"):
            cand = free & (total >= t.min_total) if t.min_total is not None else free
        got = cand & (ranking.better(cand) <= t.count) if t.count is not None else cand
        tier[got] = t_i
        free &= ~got
    warns = np.zeros((len(out_cfg.warnings),) + shape, dtype=bool)
    pool = ranked & in_outcomes
    for w_i, w in enumerate(out_cfg.warnings):
        m = np.zeros(shape, bool)
        if w.bottom is not None:
            big_enough = ranking.count(pool) > w.bottom  # the only unit is not "last"
            m |= (ranking.worse(pool) <= w.bottom) & big_enough
        if w.below_total is not None:
            with np.errstate(invalid="ignore"):
                m |= pool & (total < w.below_total)
        warns[w_i] = m
    more = None
    if detail:
        more = _detail(inp, items, total, tb, ranked, eligible, tier, adjust, bonus, deduction, by_effect)
    return Outcome(
        total=total,
        rank=rank,
        ranked=ranked,
        vetoed=vetoed,
        not_scored=not_scored,
        eligible=eligible,
        tier=tier,
        warnings=warns,
        n_ranked=ranking.count(ranked),
        detail=more,
    )


def _detail(
    inp: Inputs, items: ItemScores, total, tb, ranked, eligible, tier, adjust, bonus, deduction, by_effect
):
    """Line totals and ranks, rank in category, single-item awards and prizes."""
    s = inp.scheme
    shape = total.shape
    lines, line_ranks = {}, {}
    for li, ln in enumerate(s.lines):
        lt = np.where(inp.kind == inp.line_kind[li], np.broadcast_to(items.lines[li], shape), np.nan)
        lines[ln.id] = lt
        in_line = ranked & ~np.isnan(lt)
        line_ranks[ln.id] = Ranking(inp.group, [lt], within=in_line).better(in_line)
    cat = inp.rows["category"].astype(object).fillna("").to_numpy()
    rank_in_category = Ranking(group_codes(inp.group, cat), [total] + tb, within=ranked).better(ranked)
    prizes = np.array([t.prize or 0.0 for t in s.outcomes.tiers] + [0.0])
    prize = prizes[tier]  # tier −1 → the trailing 0
    line_ids = [ln.id for ln in s.lines]
    singles = []
    for sa in s.outcomes.single_awards:
        li = line_ids.index(s.line_of(sa.rank_by).id)
        has_node = inp.kind == inp.line_kind[li]
        node = np.broadcast_to(items.nodes[sa.rank_by], shape)
        pool = eligible & has_node
        got = pool & (Ranking(inp.group, [node, total], within=pool).better(pool) <= sa.count)
        singles.append((got, sa.id))
        prize = prize + np.where(got, sa.prize or 0.0, 0.0)
    return Detail(
        points=items.points,
        status=items.status,
        lines=lines,
        line_ranks=line_ranks,
        rank_in_category=rank_in_category,
        adjustments=adjust,
        bonus=np.broadcast_to(bonus, shape),
        deduction=np.broadcast_to(deduction, shape),
        effects=by_effect,
        singles=singles,
        prize=prize,
    )
