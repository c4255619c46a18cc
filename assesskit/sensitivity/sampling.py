"""From factors and uniform numbers to :class:`~.engine.Perturbation` arrays.

Every factor reads one column of ``u`` (draws × factors, uniform in [0, 1)). Scalar
factors map it directly; random-vector factors (weights, data noise) read a *realisation
id* instead: the draw's index in Monte Carlo runs, ``floor(u × realizations)`` in Sobol
runs. A realisation is generated from ``(seed, factor, block)`` with blocks of
:data:`BLOCK` ids, so a draw's numbers never depend on the chunk it is evaluated in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scheme import Scheme
from .composite_spec import (
    aggregation_nodes,
    alternative_scale,
    items_under_nodes,
    normalised_items,
    weight_noise_nodes,
)
from .engine import Baseline, Perturbation, alternative_rule
from .spec import (
    AggregationFactor,
    LeaveOutFactor,
    MissingFactor,
    NoiseFactor,
    NormalisationFactor,
    RuleFormFactor,
    Spec,
    TargetFactor,
    VetoFactor,
    WeightNoiseFactor,
    WeightsFactor,
    _has_target,
    check_spec,
    expand,
    node_items,
    noise_indicators,
    selected_items,
)

BLOCK = 64
"""Realisations generated together (one seeded stream per factor and block)."""

_TAG = 0x5E75  # keeps these streams apart from the design's


def _pick(u: np.ndarray, m: int) -> np.ndarray:
    """Index of one of ``m`` equally likely alternatives."""
    return np.minimum((u * m).astype(np.int64), m - 1)


CACHE_BYTES = 512 << 20
"""Realisation blocks kept between chunks (data noise reused by later draws)."""


def _realise(seed: int, key: tuple[int, ...], rid: np.ndarray, gen, cache: dict | None = None) -> np.ndarray:
    """Rows ``rid`` of the realisation stream ``key``; ``gen(rng, BLOCK)`` makes one block.

    With ``cache`` (a dict kept for a whole run) generated blocks are kept, up to
    :data:`CACHE_BYTES`, and reused.
    """
    blocks = rid // BLOCK
    out = None
    for b in np.unique(blocks):
        ck = (key, int(b))
        block = cache.get(ck) if cache is not None else None
        if block is None:
            block = gen(np.random.default_rng([seed, _TAG, *key, int(b)]), BLOCK)
            block.flags.writeable = False  # shared by the chunks (and returned as it is below)
            if cache is not None and cache.get("_bytes", 0) + block.nbytes <= CACHE_BYTES:
                cache[ck] = block
                cache["_bytes"] = cache.get("_bytes", 0) + block.nbytes
        if rid.size == BLOCK and rid[0] == b * BLOCK and np.array_equal(rid, b * BLOCK + np.arange(BLOCK)):
            return block  # a chunk that is exactly one block (the usual Monte Carlo case): no copy
        if out is None:
            out = np.empty((rid.size,) + block.shape[1:], dtype=block.dtype)
        sel = blocks == b
        out[sel] = block[rid[sel] % BLOCK]
    return out


def _reuses_blocks(factors, draw_ids, chunk: int) -> bool:
    """A realisation block is read by more than one chunk: draws cycle through a data-noise
    factor's realisations, chunks cut blocks, or a Sobol design picks realisations at
    random. Only then are blocks kept between chunks."""
    if draw_ids is None or chunk % BLOCK:
        return True
    n = len(draw_ids)
    return any(rf.vector and rf.cycle and n > rf.realizations for rf in factors)


@dataclass(frozen=True)
class Resolved:
    """A factor bound to a scheme and panel: what :func:`perturbation` needs."""

    factor: object
    index: int
    vector: bool
    realizations: int
    cycle: bool = False  # Monte Carlo draws cycle through the realisations (data noise)
    items: np.ndarray | None = None  # item indices (target, form, missing)
    groups: list[np.ndarray] | None = None  # weights: items per node; leave_out: items per node
    group_points: np.ndarray | None = None
    vetoes: np.ndarray | None = None
    alts: dict | None = None
    noise: list[tuple[str, str]] | None = None  # (indicator, column) pairs to resample
    need_prev: bool = False
    nodes: tuple[str, ...] = ()  # composite: the nodes whose weight or aggregation varies
    rules: dict | None = None  # composite: item index → its rule in each alternative

    @property
    def id(self) -> str:
        return self.factor.id


def resolve(spec: Spec, base: Baseline) -> list[Resolved]:
    """Check the spec against the baseline's scheme and bind each (expanded) factor.

    Raises
    ------
    SpecError
        When the spec names what the scheme lacks, or data noise needs counts the panel
        does not have.
    """
    from ..exceptions import Problem
    from .spec import SpecError

    scheme: Scheme = base.scheme
    probs = check_spec(spec, scheme)
    if probs:
        raise SpecError(f"the spec does not fit scheme '{scheme.id}' ({len(probs)} problems)", probs)
    flat = scheme.flat_items
    change_inds = {it.rule.indicator for _p, it in flat if it.rule.type == "change"}
    out: list[Resolved] = []
    probs = []
    for idx, f in enumerate(expand(spec, scheme)):
        if isinstance(f, WeightsFactor):
            nodes = f.nodes if f.nodes is not None else [it.id for _p, it in flat]
            groups = [np.array(node_items(scheme, nid)) for nid in nodes]
            gp = np.array([base.points[g].sum() for g in groups])
            out.append(Resolved(f, idx, True, f.realizations, groups=groups, group_points=gp))
        elif isinstance(f, TargetFactor):
            sel = [j for j in selected_items(scheme, f) if _has_target(flat[j][1])]
            out.append(Resolved(f, idx, False, 0, items=np.array(sel, dtype=np.int64)))
        elif isinstance(f, RuleFormFactor):
            sel = selected_items(scheme, f)
            alts = {j: alternative_rule(flat[j][1], f.floor, f.ceiling) for j in sel}
            out.append(Resolved(f, idx, False, 0, items=np.array(sel, dtype=np.int64), alts=alts))
        elif isinstance(f, VetoFactor):
            ids = [v.id for v in scheme.vetoes]
            sel = [ids.index(v) for v in (f.vetoes or ids)]
            out.append(Resolved(f, idx, False, 0, vetoes=np.array(sel, dtype=np.int64)))
        elif isinstance(f, MissingFactor):
            if f.items is None:
                sel = [j for j, (_p, it) in enumerate(flat) if it.missing is None]
            else:
                sel = selected_items(scheme, f)
            out.append(Resolved(f, idx, False, 0, items=np.array(sel, dtype=np.int64)))
        elif isinstance(f, NoiseFactor):
            pairs = []
            for ind_id in noise_indicators(f, scheme):
                ind = scheme.indicators[ind_id]
                cols = base.ind_cols[ind_id]
                has_counts = ind.is_rate and cols != (ind.column or ind_id,)
                if f.model in ("binomial", "beta", "poisson") and ind.is_rate and not has_counts:
                    probs.append(
                        Problem(
                            f"factors › {f.id} › indicators",
                            f"'{ind_id}' is given as a rate without its counts in the data: "
                            f"{f.model} noise needs the counts ({', '.join(c.lstrip('-') for c in ind.numerator + ind.denominator)})",
                        )
                    )
                    continue
                if f.model == "binomial":
                    pairs.append((ind_id, ind.numerator[0]))
                elif f.model == "beta":
                    pairs.append((ind_id, ""))
                else:
                    pairs += [(ind_id, c) for c in cols if all(c != q for _i, q in pairs)]
            need_prev = any(i in change_inds for i, _c in pairs) or any(
                u in change_inds for _i, c in pairs if c for u in base.col_users.get(c, ())
            )
            out.append(Resolved(f, idx, True, f.realizations, cycle=True, noise=pairs, need_prev=need_prev))
        elif isinstance(f, LeaveOutFactor):
            groups = [np.array(node_items(scheme, nid)) for nid in f.nodes]
            out.append(Resolved(f, idx, False, 0, groups=groups))
        else:
            out.append(_resolve_composite(f, idx, scheme))
    if probs:
        raise SpecError(f"the spec does not fit the data ({len(probs)} problems)", probs)
    return out


def _resolve_composite(f, idx: int, scheme: Scheme) -> Resolved:
    """Bind a weight_noise, normalisation or aggregation factor to the scheme's tree."""
    flat = scheme.flat_items
    if isinstance(f, WeightNoiseFactor):
        return Resolved(f, idx, True, f.realizations, nodes=tuple(weight_noise_nodes(f, scheme)))
    if isinstance(f, NormalisationFactor):
        rules = {
            j: tuple(a.rule_for(flat[j][1].rule) for a in f.alternatives) for j in normalised_items(scheme, f)
        }
        return Resolved(f, idx, False, 0, rules=rules)
    nodes = aggregation_nodes(f, scheme)
    rules = {}
    if any(a.scale is not None for a in f.alternatives):
        rules = {
            j: tuple(alternative_scale(a, flat[j][1].rule) for a in f.alternatives)
            for j in items_under_nodes(scheme, nodes)
        }
    return Resolved(f, idx, False, 0, nodes=tuple(nodes), rules=rules)


# --------------------------------------------------------------------------- noise
def _noise_block(base: Baseline, f: NoiseFactor, ind_id: str, col: str, prev: bool):
    """A generator of one block of resampled values for one column (or Beta rate)."""
    scheme = base.scheme
    ind = scheme.indicators[ind_id]
    n = base.n
    if f.model == "binomial":
        num = base.column(col, prev)
        den = base.column(ind.denominator[0], prev)
        ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
        trials = np.where(ok, den, 0).astype(np.int64)
        p = np.where(ok, np.clip(num / np.where(ok, den, 1.0), 0.0, 1.0), 0.0)

        def gen(rng, size):
            return np.where(ok, rng.binomial(trials, p, size=(size, n)), num).astype(float)

    elif f.model == "poisson":
        lam = base.column(col, prev)
        ok = np.isfinite(lam) & (lam >= 0)
        lam0 = np.where(ok, lam, 0.0)

        def gen(rng, size):
            return np.where(ok, rng.poisson(lam0, size=(size, n)), lam).astype(float)

    elif f.model == "beta":
        num = base.column(ind.numerator[0], prev)
        den = base.column(ind.denominator[0], prev)
        nominal = base.values[ind_id] if not prev else None
        if prev:
            nominal = np.where(den > 0, num * ind.scale / np.where(den > 0, den, 1.0), np.nan)
        ok = np.isfinite(num) & np.isfinite(den) & (den > 0) & (num <= den) & (num >= 0)
        a = np.where(ok, num + f.prior, 1.0)
        b = np.where(ok, den - num + f.prior, 1.0)

        def gen(rng, size):
            return np.where(ok, rng.beta(a, b, size=(size, n)) * ind.scale, nominal)

    else:  # normal, on a plain column
        v = base.column(col, prev)
        lo = -np.inf if ind.min is None else ind.min
        hi = np.inf if ind.max is None else ind.max

        def gen(rng, size):
            eps = rng.standard_normal((size, n))
            new = v * (1 + f.rel_sd * eps) if f.rel_sd is not None else v + f.sd * eps
            return np.clip(new, lo, hi)

    return gen


# --------------------------------------------------------------------------- apply
def perturbation(
    base: Baseline,
    factors: list[Resolved],
    u: np.ndarray,
    rid: np.ndarray,
    seed: int,
    cache: dict | None = None,
) -> Perturbation:
    """The perturbation of ``len(u)`` draws.

    Parameters
    ----------
    u : (d, F) float
        One uniform number per draw and factor.
    rid : (d, F) int
        Realisation ids for the random-vector factors (ignored for the others).
    seed : int
        The seed of the realisation streams.
    cache : dict, optional
        Keeps generated realisation blocks for later chunks of the same run.
    """
    pert = Perturbation(u.shape[0])
    for c, rf in enumerate(factors):
        _APPLY[type(rf.factor)](pert, base, rf, u[:, c], rid[:, c], seed, cache)
    return pert


def _weights(pert: Perturbation, base: Baseline, rf: Resolved, uc, rid_c, seed: int, cache) -> None:
    f, gp, k = rf.factor, rf.group_points, len(base.items)
    g = len(rf.groups)
    if f.dist == "dirichlet":
        alpha = f.concentration * gp / gp.sum()

        def gen(rng, size, alpha=alpha):
            return rng.dirichlet(alpha, size=size)

        share = _realise(seed, (rf.index, 0), rid_c, gen)
        mult = share * gp.sum() / gp
    else:

        def gen(rng, size, g=g, spread=f.spread):
            return 1 + spread * (2 * rng.random((size, g)) - 1)

        mult = _realise(seed, (rf.index, 0), rid_c, gen)
        if f.keep_total:
            mult = mult * (gp.sum() / (mult * gp).sum(axis=1, keepdims=True))
    w = pert.ensure("weight", k, 1.0)
    for gi, items in enumerate(rf.groups):
        w[:, items] *= mult[:, gi : gi + 1]


def _target(pert: Perturbation, base: Baseline, rf: Resolved, uc, rid_c, seed: int, cache) -> None:
    f, items, k = rf.factor, rf.items, len(base.items)
    pert.target_items |= set(items.tolist())
    if f.values is not None:
        val = np.asarray(f.values, dtype=float)[_pick(uc, len(f.values))]
        ts = pert.ensure("target_set", k, np.nan)
        ts[:, items] = val[:, None]
    elif f.relative is not None:
        lo, hi = f.relative
        pert.ensure("target_rel", k, 0.0)[:, items] += (lo + uc * (hi - lo))[:, None]
    else:
        lo, hi = f.shift
        pert.ensure("target_add", k, 0.0)[:, items] += (lo + uc * (hi - lo))[:, None]


def _rule_form(pert: Perturbation, base: Baseline, rf: Resolved, uc, rid_c, seed: int, cache) -> None:
    use = uc < rf.factor.p_alternative
    for j, alt in rf.alts.items():
        pert.forms[j] = (alt, use)


def _veto(pert: Perturbation, base: Baseline, rf: Resolved, uc, rid_c, seed: int, cache) -> None:
    on = pert.ensure("veto_on", len(base.scheme.vetoes), True)
    on[:, rf.vetoes] &= ~(uc < rf.factor.p_off)[:, None]


def _missing(pert: Perturbation, base: Baseline, rf: Resolved, uc, rid_c, seed: int, cache) -> None:
    alts = rf.factor.alternatives
    full = np.array([a == "full" for a in alts])[_pick(uc, len(alts))]
    mf = pert.missing_full
    if mf is None:
        mf = pert.missing_full = np.broadcast_to(base.full, (pert.size, len(base.items))).copy()
    mf[:, rf.items] = full[:, None]


def _noise(pert: Perturbation, base: Baseline, rf: Resolved, uc, rid_c, seed: int, cache) -> None:
    f = rf.factor
    for p_i, (ind_id, col) in enumerate(rf.noise):
        for prev in (False, True) if rf.need_prev else (False,):
            gen = _noise_block(base, f, ind_id, col, prev)
            arr = _realise(seed, (rf.index, 1 + p_i, int(prev)), rid_c, gen, cache)
            if f.model == "beta":
                (pert.values_prev if prev else pert.values)[ind_id] = arr
            else:
                (pert.cols_prev if prev else pert.cols)[col] = arr


def _leave_out(pert: Perturbation, base: Baseline, rf: Resolved, uc, rid_c, seed: int, cache) -> None:
    f, m = rf.factor, len(rf.groups)
    p_keep = f.p_keep if f.p_keep is not None else 1.0 / (m + 1)
    drop = pert.ensure("drop", len(base.items), False)
    if p_keep < 1:
        which = _pick(np.clip((uc - p_keep) / (1 - p_keep), 0.0, 1.0), m)
        for gi, items in enumerate(rf.groups):
            drop[:, items] |= ((uc >= p_keep) & (which == gi))[:, None]


def _weight_noise(pert: Perturbation, base: Baseline, rf: Resolved, uc, rid_c, seed: int, cache) -> None:
    """COINr's noisy weights: each node's relative weight × U(1 − noise, 1 + noise)."""
    g, noise = len(rf.nodes), rf.factor.noise

    def gen(rng, size):
        return 1 + noise * (2 * rng.random((size, g)) - 1)

    mult = _realise(seed, (rf.index, 0), rid_c, gen)
    for i, nid in enumerate(rf.nodes):
        old = pert.node_weight.get(nid)
        pert.node_weight[nid] = mult[:, i] if old is None else old * mult[:, i]


def _normalisation(pert: Perturbation, base: Baseline, rf: Resolved, uc, rid_c, seed: int, cache) -> None:
    code = _pick(uc, len(rf.factor.alternatives))
    for j, rules in rf.rules.items():
        pert.rule_choice[j] = (rules, code)


def _aggregation(pert: Perturbation, base: Baseline, rf: Resolved, uc, rid_c, seed: int, cache) -> None:
    alts = rf.factor.alternatives
    code = _pick(uc, len(alts))
    methods = tuple(a.aggregate for a in alts)
    for nid in rf.nodes:
        pert.aggregation[nid] = (methods, code)
    for j, rules in rf.rules.items():
        pert.rule_choice[j] = (rules, code)


_APPLY = {
    WeightsFactor: _weights,
    TargetFactor: _target,
    RuleFormFactor: _rule_form,
    VetoFactor: _veto,
    MissingFactor: _missing,
    NoiseFactor: _noise,
    LeaveOutFactor: _leave_out,
    WeightNoiseFactor: _weight_noise,
    NormalisationFactor: _normalisation,
    AggregationFactor: _aggregation,
}
"""How each factor kind sets its part of a chunk's :class:`Perturbation`."""


def realisation_ids(factors: list[Resolved], u: np.ndarray, draw_ids: np.ndarray | None) -> np.ndarray:
    """Realisation ids: in Monte Carlo runs the draw index (data noise: modulo its
    ``realizations``), in Sobol runs ``floor(u × realizations)``."""
    rid = np.zeros(u.shape, dtype=np.int64)
    for c, rf in enumerate(factors):
        if rf.vector:
            if draw_ids is None:
                rid[:, c] = _pick(u[:, c], rf.realizations)
            else:
                rid[:, c] = draw_ids % rf.realizations if rf.cycle else draw_ids
    return rid
