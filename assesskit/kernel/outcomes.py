"""The kernel's last stages: vetoes and eligibility, then ranks, award tiers and warnings.

Each outcome (award tier, single-item award, warning) applies to the kinds of unit it names
(``applies_to``), else to the scheme-level ``outcomes.applies_to``, else to every kind.
Fixed-count awards follow the scheme's ``outcomes.ties`` policy at their boundary
(:func:`allocate`); a ``decline`` warning compares each unit with its previous year's
result under the same scheme (:func:`previous_results`).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..exceptions import AssessKitWarning
from .core import MISSING, VETOED, Detail, Inputs, Outcome, Variation, eval_condition
from .items import ItemScores
from .rank import Ranking, group_codes


@dataclass(frozen=True)
class AwardDetail(Detail):
    """:class:`~.core.Detail` with the last award tier whose places a tied unit shares.

    ``tier_last`` (d, n) int8 equals ``Outcome.tier`` except under ``ties: split``, where
    units tied across tiers ``k … m`` have ``tier`` k and ``tier_last`` m.
    """

    tier_last: np.ndarray | None = None


@dataclass(frozen=True)
class Allocation:
    """Fixed-count places given in rank order (see :func:`allocate`); arrays (d, n)."""

    tier: np.ndarray  # int8: the first tier the unit gets (−1: none)
    tier_last: np.ndarray  # int8: the last tier whose places it shares (split), else ``tier``
    prize: np.ndarray  # float: the unit's prize money from these tiers
    unresolved: np.ndarray  # bool: tied across a tier's boundary after every ranking key


def allocate(
    ranking: Ranking,
    eligible: np.ndarray,
    total: np.ndarray,
    tiers: list[tuple[int | None, float | None, float, np.ndarray]],
    ties: str,
) -> Allocation:
    """Give tiers in rank order to the eligible units, with a policy for boundary ties.

    Parameters
    ----------
    ranking : Ranking
        The order (total, then the tie-break nodes; or a node's points for a single award).
    eligible : (d, n) bool
    total : (d, n) float
        Compared with each tier's ``min_total``.
    tiers : list of (count, min_total, prize, applies)
        In order; ``count`` None takes every remaining candidate; ``applies`` (n,) bool
        marks the rows of the kinds the tier is for.
    ties : {"share", "tiebreak", "split"}
        Units tied on every ranking key across a tier's boundary (``g`` units ranked ``r``
        with ``r ≤ count < r+g−1``): ``share`` and ``tiebreak`` give all of them the tier
        (``tiebreak`` flags them as ``unresolved``); ``split`` gives them the places
        ``r … r+g−1``, running on into the next tiers, and each gets the sum of those
        places' prizes divided by ``g`` (``tier`` its first tier, ``tier_last`` its last).

    Notes
    -----
    Vectorised over draws and groups: a loop over the (few) tiers only. Under ``split``
    at most one tied run per group carries places into the next tier; the places it
    still needs are kept on its members' cells (``owed``) and the group's share of the
    tier is found with :meth:`Ranking.group_sum`.
    """
    shape = np.shape(eligible)
    tier = np.full(shape, -1, dtype=np.int8)
    last = tier.copy()
    prize = np.zeros(shape)
    unresolved = np.zeros(shape, bool)
    free = np.array(eligible, dtype=bool)
    split = ties == "split"
    owed = np.zeros(shape)  # split: places still owed to a tied run carried from the last tier
    run_money = np.zeros(shape)  # split: prize money of the places the member's run holds
    run_size = np.ones(shape)
    for t_i, (count, min_total, t_prize, applies) in enumerate(tiers):
        meets = np.ones(shape, bool) & applies
        if min_total is not None:
            with np.errstate(invalid="ignore"):
                meets &= total >= min_total
        cap = np.full(shape, np.inf if count is None else float(count))
        if split and owed.any():
            take = np.where((owed > 0) & meets, np.minimum(owed, cap), 0.0)
            run_money += take * t_prize
            owed -= take
            last = np.where(take > 0, t_i, last).astype(np.int8)
            carriers = ranking.group_sum(take > 0)
            cap = cap - np.where(carriers > 0, ranking.group_sum(take) / np.maximum(carriers, 1), 0.0)
        cand = free & meets
        if count is None and not split:  # every candidate: no rank, no boundary
            r = g = np.ones(shape)
            got = cand
        else:
            r = ranking.better(cand)
            with np.errstate(invalid="ignore"):
                got = cand & (r <= cap)
            g = ranking.tied(cand) if ties != "share" else np.ones(shape)  # share needs no run sizes
        with np.errstate(invalid="ignore"):
            straddle = got & (r + g - 1 > cap)
        tier[got] = t_i
        last[got] = t_i
        free &= ~got
        if split:
            places = np.where(got, np.minimum(g, cap - r + 1), 0.0)
            run_money = np.where(got, places * t_prize, run_money)
            run_size = np.where(got, g, run_size)
            owed = np.where(got, g - places, owed)
        else:
            prize = np.where(got, t_prize, prize)
            unresolved |= straddle
    if split:
        prize = np.where(tier >= 0, run_money / run_size, 0.0)
    return Allocation(tier, last, prize, unresolved if ties == "tiebreak" else np.zeros(shape, bool))


def award_kinds(outcomes) -> list[str] | None:
    """The kinds of unit some tier or single-item award is for (None: every kind); with no
    awards at all, the scheme-level ``applies_to`` (the summary's ``eligible`` column)."""
    awards = [*outcomes.tiers, *outcomes.single_awards]
    kinds = [outcomes.kinds_of(a) for a in awards]
    if not awards or any(k is None for k in kinds):
        return outcomes.applies_to if not awards else None
    return list(dict.fromkeys(k for ks in kinds for k in ks))


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
    inp: Inputs,
    var: Variation,
    values,
    items: ItemScores,
    total,
    adjust,
    bonus,
    deduction,
    shape,
    detail,
    rerun: Callable[..., Outcome] | None = None,
) -> Outcome:
    """Vetoes, eligibility, ranks, tiers and warnings of every draw (see :func:`.pipeline.run`).

    ``rerun`` is the kernel's entry point (:func:`assesskit.kernel.run`, which passes
    itself): a ``decline`` warning scores the previous year's rows with it when they are
    not among the scored rows (without it those rows have no result).
    """
    s = inp.scheme
    by_effect = _vetoes(inp, var, values, items, shape, detail)

    def any_of(effect: str) -> np.ndarray:
        return np.logical_or.reduce([m for m, _ in by_effect[effect]] + [np.zeros(shape, bool)])

    not_scored = any_of("not_scored")
    vetoed = any_of("veto") | not_scored
    total = np.where(not_scored, np.nan, total)
    ranked = ~vetoed & ~np.isnan(total)
    out_cfg = s.outcomes
    may_win = ranked & ~any_of("ineligible")
    eligible = may_win & inp.of_kinds(award_kinds(out_cfg))

    tb = [np.broadcast_to(items.nodes[nid], shape) for nid in out_cfg.tie_break]
    ranking = Ranking(inp.group, [total] + tb, within=ranked)
    rank = ranking.better(ranked)
    spec = [(t.count, t.min_total, t.prize or 0.0, inp.of_kinds(out_cfg.kinds_of(t))) for t in out_cfg.tiers]
    alloc = allocate(ranking, may_win, total, spec, out_cfg.ties)
    if detail and alloc.unresolved.any():
        _warn_unresolved(inp, alloc.unresolved, alloc.tier, [t.id for t in out_cfg.tiers])
    warns = _warnings(inp, var, ranking, ranked, total, rank, shape, detail, rerun)
    more = None
    if detail:
        more = _detail(inp, items, total, tb, ranked, may_win, alloc, adjust, bonus, deduction, by_effect)
    return Outcome(
        total=total,
        rank=rank,
        ranked=ranked,
        vetoed=vetoed,
        not_scored=not_scored,
        eligible=eligible,
        tier=alloc.tier,
        warnings=warns,
        n_ranked=ranking.count(ranked),
        detail=more,
    )


def _warnings(
    inp: Inputs, var: Variation, ranking: Ranking, ranked, total, rank, shape, detail, rerun
) -> np.ndarray:
    """One (d, n) layer per warning: the bottom ranks, totals below a line, declines."""
    out_cfg = inp.scheme.outcomes
    warns = np.zeros((len(out_cfg.warnings),) + shape, dtype=bool)
    prev = None
    for w_i, w in enumerate(out_cfg.warnings):
        pool = ranked & inp.of_kinds(out_cfg.kinds_of(w))
        m = np.zeros(shape, bool)
        if w.bottom is not None:
            big_enough = ranking.count(pool) > w.bottom  # the only unit is not "last"
            m |= (ranking.worse(pool) <= w.bottom) & big_enough
        if w.below_total is not None:
            with np.errstate(invalid="ignore"):
                m |= pool & (total < w.below_total)
        if w.decline is not None and not inp._cache.get("no_decline"):
            if prev is None:
                prev = previous_results(inp, var, total, rank, rerun)
            p_total, p_rank, in_span = prev
            dec = w.decline
            with np.errstate(invalid="ignore"):
                if dec.total is not None:
                    m |= pool & (p_total - total >= dec.total - 1e-9)
                if dec.rank is not None:
                    m |= pool & (rank - p_rank >= dec.rank)
            if detail:
                known = ~np.isnan(p_total if dec.rank is None else p_rank)
                _warn_not_applied(inp, w, pool & in_span & ~known)
        warns[w_i] = m
    return warns


# --------------------------------------------------------------------------- previous year
def _history(inp: Inputs) -> dict:
    """Where each scored row's previous year is: among the scored rows, or in history rows
    scored on their own (kept on the inputs: computed once for many draws)."""
    if "history" in inp._cache:
        return inp._cache["history"]
    from .core import with_credit
    from .inputs import prepare

    lo, hi = inp.scheme.years
    prev_year = inp.rows["year"].to_numpy(dtype=np.int64) - 1
    in_span = (prev_year >= lo) & (prev_year <= hi)
    prev_row = inp.prev_row
    pos = np.full(len(inp.panel.data), -1, dtype=np.int64)
    pos[inp.data_row] = np.arange(inp.n)
    same = np.where(in_span & (prev_row >= 0), pos[np.maximum(prev_row, 0)], -1)
    need = in_span & (prev_row >= 0) & (same < 0)
    info = {"in_span": in_span, "same": same, "hist": None, "hist_at": np.full(inp.n, -1)}
    if need.any():
        years = sorted({int(y) for y in prev_year[need]})
        hinp = prepare(inp.scheme, inp.panel, years)
        hinp._cache["no_decline"] = True  # its totals and ranks only: no recursion
        if inp.credit is not None:
            hinp = with_credit(hinp)
        hpos = np.full(len(inp.panel.data), -1, dtype=np.int64)
        hpos[hinp.data_row] = np.arange(hinp.n)
        info["hist"] = hinp
        info["hist_at"] = np.where(need, hpos[np.maximum(prev_row, 0)], -1)
    inp._cache["history"] = info
    return info


def previous_results(
    inp: Inputs, var: Variation, total: np.ndarray, rank: np.ndarray, rerun: Callable[..., Outcome] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each scored row's total and rank in its previous year under the same scheme.

    The previous year counts only inside the scheme's years (an earlier year was not
    assessed under this scheme). A previous year scored in the same run gives the same
    draw's total and rank; one outside the run is scored here from the panel, with the
    draws' changes to the scheme (weights, targets, rules, vetoes) but its own nominal
    data (``Variation.values`` run over the scored rows only), by ``rerun`` (the kernel's
    :func:`~assesskit.kernel.run`; None leaves those previous years without a result).

    Returns
    -------
    total, rank : (d, n) float
        NaN where there is no previous-year result (no row, not scored, not ranked).
    in_span : (n,) bool
        The previous year lies inside the scheme's years.
    """
    info = _history(inp)
    same, hist_at = info["same"], info["hist_at"]
    p_total = np.where(same >= 0, total[:, np.maximum(same, 0)], np.nan)
    p_rank = np.where(same >= 0, rank[:, np.maximum(same, 0)], np.nan)
    if info["hist"] is not None and rerun is not None:
        structural = dataclasses.replace(var, values={}, values_prev={})
        if _changes_nothing(structural):  # data draws only: the history's nominal result, once
            if "nominal" not in info:
                info["nominal"] = rerun(info["hist"])
            hout = info["nominal"]
        else:
            hout = rerun(info["hist"], structural)
        at = np.maximum(hist_at, 0)
        p_total = np.where(hist_at >= 0, hout.total[:, at], p_total)
        p_rank = np.where(hist_at >= 0, hout.rank[:, at], p_rank)
    return p_total, p_rank, info["in_span"]


def _changes_nothing(var: Variation) -> bool:
    """True when every draw of ``var`` is the nominal scoring (no field set but the size)."""
    return all(
        getattr(var, f.name) is None
        or (isinstance(getattr(var, f.name), (dict, set)) and not getattr(var, f.name))
        for f in dataclasses.fields(var)
        if f.name != "size"
    )


def _listing(inp: Inputs, mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask.any(axis=0))
    units = inp.rows["unit"].to_numpy()[rows]
    years = inp.rows["year"].to_numpy()[rows]
    text = ", ".join(f"{u} {y}" for u, y in zip(units[:10], years[:10]))
    return text + (f" and {rows.size - 10} more" if rows.size > 10 else "")


def _warn_not_applied(inp: Inputs, w, mask: np.ndarray) -> None:
    """AssessKitWarning: a decline rule that could not be applied to some ranked units."""
    if mask.any():
        warnings.warn(
            f"warning '{w.id}' ({w.label}) could not be applied to {_listing(inp, mask)}: the "
            "previous year is inside the scheme's years but has no result for the unit (no "
            "panel row, or not scored or ranked); they get no such warning",
            AssessKitWarning,
            stacklevel=2,
        )


def _warn_unresolved(inp: Inputs, unresolved: np.ndarray, tier: np.ndarray, ids: list[str]) -> None:
    """AssessKitWarning: ties the tie-break order could not break at a tier's boundary."""
    got = sorted({ids[t] for t in np.unique(tier[unresolved])})
    warnings.warn(
        f"ties: tiebreak could not break the tie of {_listing(inp, unresolved)} at the boundary "
        f"of award tier {', '.join(got)} (equal on the total and every tie_break node); they "
        "share the better tier, more units than its count: decide by hand or add a tie_break node",
        AssessKitWarning,
        stacklevel=2,
    )


# --------------------------------------------------------------------------- detail
def award_ids(scheme, out: Outcome, draw: int = 0) -> np.ndarray:
    """The award column of one draw: each row's tier id ('' for none); under
    ``ties: split``, the ids of every tier whose places a tied unit shares, joined by '; '."""
    ids = [t.id for t in scheme.outcomes.tiers]
    tier = out.tier[draw]
    one = np.array(ids + [""], dtype=object)[tier]
    tier_last = getattr(out.detail, "tier_last", None)
    if tier_last is None or not np.any(tier_last[draw] != tier):
        return one
    last = tier_last[draw]
    for a, b in {(int(a), int(b)) for a, b in zip(tier, last) if a != b}:
        one[(tier == a) & (last == b)] = "; ".join(ids[a : b + 1])
    return one


def _detail(
    inp: Inputs,
    items: ItemScores,
    total,
    tb,
    ranked,
    may_win,
    alloc: Allocation,
    adjust,
    bonus,
    deduction,
    by_effect,
):
    """Line totals and ranks, rank in category, single-item awards and prizes."""
    s = inp.scheme
    o = s.outcomes
    shape = total.shape
    lines, line_ranks = {}, {}
    for li, ln in enumerate(s.lines):
        lt = np.where(inp.kind == inp.line_kind[li], np.broadcast_to(items.lines[li], shape), np.nan)
        lines[ln.id] = lt
        in_line = ranked & ~np.isnan(lt)
        line_ranks[ln.id] = Ranking(inp.group, [lt], within=in_line).better(in_line)
    cat = inp.rows["category"].astype(object).fillna("").to_numpy()
    rank_in_category = Ranking(group_codes(inp.group, cat), [total] + tb, within=ranked).better(ranked)
    prize = alloc.prize
    line_ids = [ln.id for ln in s.lines]
    singles = []
    for sa in o.single_awards:
        li = line_ids.index(s.line_of(sa.rank_by).id)
        has_node = inp.kind == inp.line_kind[li]
        node = np.broadcast_to(items.nodes[sa.rank_by], shape)
        pool = may_win & has_node & inp.of_kinds(o.kinds_of(sa))
        keys = [node, total] + (tb if o.ties == "tiebreak" else [])
        one = allocate(
            Ranking(inp.group, keys, within=pool),
            pool,
            total,
            [(sa.count, None, sa.prize or 0.0, True)],
            o.ties,
        )
        if one.unresolved.any():
            _warn_unresolved(inp, one.unresolved, one.tier, [sa.id])
        singles.append((one.tier >= 0, sa.id))
        prize = prize + one.prize
    return AwardDetail(
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
        tier_last=alloc.tier_last,
    )
