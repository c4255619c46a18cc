"""Monte Carlo rank intervals, Sobol indices, leave-one-out shifts and Kendall's τ.

All functions are pure: a :class:`~.engine.Baseline` and a :class:`~.spec.Spec` in,
frozen results with tidy tables out. Every random number comes from the ``seed``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..scheme import Section
from .cluster import current_client
from .engine import Baseline, Outcome, Perturbation, evaluate
from .sampling import BLOCK, _reuses_blocks, perturbation, realisation_ids, resolve
from .spec import Spec, node_items

ProgressFn = Callable[[int, int], None]
"""Called after each chunk with (draws done, draws in all)."""

_DESIGN_TAG = 0xD4A5
KENDALL_PAIRWISE_MAX = 400
"""Groups up to this size get Kendall's τ from a vectorised pairwise count, larger ones
from :func:`scipy.stats.kendalltau` draw by draw."""


MEMORY_BUDGET = 1 << 30
"""Bytes the arrays of one chunk of draws may take (see :func:`auto_chunk`)."""

LIVE_ARRAYS = 36
"""Float arrays of (draws × units) alive at once while a chunk is perturbed and scored:
the peak measured (tracemalloc) on the 60-item benchmark scheme of
benchmarks/bench_sensitivity.py with 41,000 units, 747 MB for 64 draws (its 16 resampled
columns, then items, line totals and the ranking's arrays)."""


def auto_chunk(base: Baseline, cells: int = 1 << 18, budget: int = MEMORY_BUDGET) -> int:
    """Draws per chunk: about ``cells`` draw × unit cells per array (a multiple of the
    realisation block of 64 draws, so that a chunk reads whole blocks), and never more
    than ``budget`` bytes of arrays (:data:`LIVE_ARRAYS` of them, 8 bytes a cell): with
    many units a chunk may hold fewer than 64 draws, so memory stays bounded whatever
    the number of units and draws."""
    n = max(base.n, 1)
    per = max(cells // n, 1)
    fit = max(budget // (n * 8 * LIVE_ARRAYS), 1)
    return int(max(min(max(per // BLOCK, 1) * BLOCK, 8192, fit), 1))


def _run(base, factors, u, draw_ids, seed, chunk, on_chunk, collect, client=None) -> None:
    total = u.shape[0]
    chunk = chunk or auto_chunk(base)
    client = client if client is not None else current_client()
    if client is not None:  # the chunks as Dask tasks (Dask is imported only there)
        from .cluster import run_chunks

        run_chunks(client, base, factors, u, draw_ids, seed, chunk, collect, on_chunk)
        return
    cache = {} if _reuses_blocks(factors, draw_ids, chunk) else None
    for start in range(0, total, chunk):
        stop = min(start + chunk, total)
        ids = None if draw_ids is None else draw_ids[start:stop]
        rid = realisation_ids(factors, u[start:stop], ids)
        pert = perturbation(base, factors, u[start:stop], rid, seed, cache)
        out = evaluate(base, pert)
        del pert  # the next chunk's perturbation never sits beside this one
        collect(start, stop, out)
        del out
        if on_chunk is not None:
            on_chunk(stop, total)


# --------------------------------------------------------------------------- Kendall
def kendall_tau(nominal: np.ndarray, draws: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Kendall's τ-b between a nominal ranking and each draw's, per group.

    Parameters
    ----------
    nominal : (n,) positions; draws : (d, n) positions; group : (n,) group codes.

    Returns
    -------
    (d, G) array, groups in ``np.unique(group)`` order (NaN when a ranking is all ties or
    the group has fewer than two units).
    """
    from scipy.stats import kendalltau

    d = draws.shape[0]
    gs = np.unique(group)
    out = np.full((d, gs.size), np.nan)
    for gi, g in enumerate(gs):
        cols = np.flatnonzero(group == g)
        m = cols.size
        if m < 2:
            continue
        x = nominal[cols]
        y = draws[:, cols]
        if m <= KENDALL_PAIRWISE_MAX:
            sx = np.sign(x[:, None] - x[None, :])
            ax = np.abs(sx).sum()
            step = max(1, (1 << 24) // (m * m))
            for s in range(0, d, step):
                yy = y[s : s + step]
                sy = np.sign(yy[:, :, None] - yy[:, None, :])
                num = np.einsum("ij,dij->d", sx, sy)
                den = np.sqrt(ax * np.abs(sy).sum(axis=(1, 2)))
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[s : s + step, gi] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        else:
            out[:, gi] = _kendall_large(x, y, kendalltau)
    return out


def _tied_pairs(sorted_rows: list[np.ndarray]) -> np.ndarray:
    """Pairs tied on every array (rows already sorted so that ties are adjacent)."""
    d, m = sorted_rows[0].shape
    new = np.zeros((d, m), dtype=bool)
    new[:, 0] = True
    for a in sorted_rows:
        new[:, 1:] |= a[:, 1:] != a[:, :-1]
    pos = np.arange(m)
    start = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    return (pos - start).sum(axis=1)  # Σ over runs of c (c − 1) / 2


def _kendall_large(x: np.ndarray, y: np.ndarray, fallback) -> np.ndarray:
    """τ-b of ``x`` against each row of ``y`` (integer positions), as scipy computes it.

    Sorting, tie counts and the formula are vectorised over the draws; the discordant
    pairs come from scipy's compiled merge count, one call per draw (O(m log m)).
    """
    try:
        from scipy.stats._stats import _kendall_dis
    except ImportError:  # pragma: no cover - scipy moved it: the public function, slower
        return np.array([fallback(x, row).statistic for row in y])
    d, m = y.shape
    xi = np.rint(x).astype(np.int64)
    yi = np.rint(y).astype(np.int64)
    big = int(yi.max()) + 2
    order = np.argsort(xi[None, :] * big + yi, axis=1)
    xs = xi[order]
    ys = np.take_along_axis(yi, order, axis=1)
    xd = np.ones((d, m), dtype=np.intp)
    xd[:, 1:] = xs[:, 1:] != xs[:, :-1]
    xd = np.cumsum(xd, axis=1)
    ysp = ys.astype(np.intp)
    dis = np.array([_kendall_dis(xd[i], ysp[i]) for i in range(d)], dtype=float)
    tot = m * (m - 1) / 2
    xtie = _tied_pairs([np.sort(xi)[None, :]])[0]
    ytie = _tied_pairs([np.sort(yi, axis=1)])
    ntie = _tied_pairs([xs, ys])
    den = np.sqrt((tot - xtie) * (tot - ytie))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (tot - xtie - ytie + ntie - 2 * dis) / np.where(den > 0, den, 1.0), np.nan)


# --------------------------------------------------------------------------- Monte Carlo
@dataclass(frozen=True)
class Simulation:
    """Monte Carlo draws of the ranking.

    Attributes
    ----------
    units : DataFrame
        One row per scored unit-year (summary order): ``unit``, ``name``, ``year``,
        ``kind``, ``category``; ``nominal_total``, ``nominal_rank``, ``nominal_award``,
        ``nominal_veto``; ``median_rank``, ``mean_rank``, ``rank_q05``, ``rank_q95``,
        ``rank_min``, ``rank_max`` (over the draws in which the unit is ranked; quantiles
        by the inverted empirical CDF, so they are ranks that occurred); ``p_ranked``,
        ``p_veto`` (vetoed or not scored); ``p_top<k>``; ``p_tier_<id>`` per award tier
        and ``p_no_award`` (when the scheme has tiers); ``p_warning_<id>`` per warning
        (e.g. ``p_warning_yellow_card``); ``mean_abs_shift`` (the mean of
        ``|position − nominal position|``, unranked units placed just below the last ranked unit).
    draws : DataFrame
        One row per draw and year × kind: ``draw``, ``year``, ``kind``, ``kendall_tau``
        (τ-b between the nominal and the draw's positions), ``mean_abs_shift``.
    ranks : ndarray (draws, units) float32
        Every draw's rank of every unit-year (summary order; NaN: not ranked).
    u : ndarray (draws, factors)
        The uniform numbers behind each draw's factor settings.
    factors : tuple of str
        Factor ids (after ``each: true`` expansion), the columns of ``u``.
    """

    units: pd.DataFrame
    draws: pd.DataFrame
    ranks: np.ndarray
    u: np.ndarray
    factors: tuple[str, ...]
    seed: int
    top_k: int

    def to_frame(self) -> pd.DataFrame:
        return self.units


def _quantile_sorted(sorted_: np.ndarray, count: np.ndarray, q: float) -> np.ndarray:
    idx = np.clip(np.ceil(q * count).astype(np.int64) - 1, 0, None)
    idx = np.minimum(idx, np.maximum(count - 1, 0))
    got = np.take_along_axis(sorted_, idx[None, :], axis=0)[0].astype(float)
    return np.where(count > 0, got, np.nan)


def simulate(
    base: Baseline,
    spec: Spec | None = None,
    *,
    draws: int | None = None,
    seed: int | None = None,
    top_k: int | None = None,
    chunk: int | None = None,
    kendall: bool = True,
    on_chunk: ProgressFn | None = None,
    client=None,
) -> Simulation:
    """Draw the factors ``draws`` times and score every draw.

    Parameters
    ----------
    base : Baseline
        From :func:`~.engine.baseline`.
    spec : Spec, optional
        The factors (none: every draw is the nominal scoring).
    draws, seed, top_k : int, optional
        Default: the spec's.
    chunk : int, optional
        Draws evaluated together (default: about a million cells per array). The result
        does not depend on it.
    kendall : bool
        Compute Kendall's τ per draw (the costliest summary for large groups).
    on_chunk : callable, optional
        Progress callback ``(done, total)``.
    client : distributed.Client, optional
        Score the chunks of draws as tasks on this Dask cluster
        (:mod:`assesskit.sensitivity.cluster`); the result is the same bit for bit.
        Default: in this process (or the client of
        :func:`assesskit.sensitivity.cluster.use_client`).
    """
    spec = spec or Spec()
    factors = resolve(spec, base)
    draws = spec.draws if draws is None else int(draws)
    seed = spec.seed if seed is None else int(seed)
    top_k = spec.top_k if top_k is None else int(top_k)
    u = np.random.default_rng([seed, _DESIGN_TAG]).random((draws, len(factors)))
    pos0 = base.nominal().position[0]
    tiers = base.scheme.outcomes.tiers
    ranks = np.empty((draws, base.n), dtype=np.float32)
    acc = _tallies(base)
    gs = np.unique(base.group)
    ginv = np.searchsorted(gs, base.group)
    gsize = np.bincount(ginv, minlength=gs.size)
    tau = np.full((draws, gs.size), np.nan)
    shift_g = np.zeros((draws, gs.size))

    def collect(start: int, stop: int, out: Outcome) -> None:
        ranks[start:stop] = out.rank
        acc["ranked"] += out.ranked.sum(axis=0)
        acc["vetoed"] += out.vetoed.sum(axis=0)
        acc["top"] += (out.ranked & (out.rank <= top_k)).sum(axis=0)
        for t in range(len(tiers)):
            acc["tier"][t] += (out.tier == t).sum(axis=0)
        acc["warn"] += out.warnings.sum(axis=1)
        pos = out.position
        ab = np.abs(pos - pos0)
        acc["shift"] += ab.sum(axis=0)
        for gi in range(gs.size):
            shift_g[start:stop, gi] = ab[:, ginv == gi].mean(axis=1)
        if kendall:
            tau[start:stop] = kendall_tau(pos0, pos, base.group)

    _run(base, factors, u, np.arange(draws), seed, chunk, on_chunk, collect, client)

    ranks = ranks[:, base.order]
    tab = _units_table(base, ranks, acc, draws, top_k)
    draws_tab = _draws_table(base, ginv, gsize, tau, shift_g, draws)
    return Simulation(
        units=tab,
        draws=draws_tab,
        ranks=ranks,
        u=u,
        factors=tuple(rf.id for rf in factors),
        seed=seed,
        top_k=top_k,
    )


def _tallies(base: Baseline) -> dict[str, np.ndarray]:
    """Per-unit counters over the draws: ranked, vetoed, in the top k, |shift|, tiers, warnings."""
    n, out = base.n, base.scheme.outcomes
    names = ("ranked", "vetoed", "top", "shift")
    return {
        **{x: np.zeros(n) for x in names},
        "tier": np.zeros((len(out.tiers), n)),
        "warn": np.zeros((len(out.warnings), n)),
    }


def _units_table(base: Baseline, ranks: np.ndarray, acc: dict, draws: int, top_k: int) -> pd.DataFrame:
    """:attr:`Simulation.units` from the draws' ranks (summary order) and the tallies."""
    order = base.order
    tiers = base.scheme.outcomes.tiers
    count = np.isfinite(ranks).sum(axis=0)
    sorted_ = np.sort(ranks, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.nansum(ranks, axis=0, dtype=float) / np.maximum(count, 1), np.nan)
    summ = base.result.summary
    tab = base.table()
    tab["nominal_total"] = summ["total"].to_numpy(dtype=float)
    tab["nominal_rank"] = summ["rank"].to_numpy(dtype=float, na_value=np.nan)
    tab["nominal_award"] = summ["award"].to_numpy()
    tab["nominal_veto"] = summ["veto"].to_numpy(dtype=bool)
    tab["median_rank"] = _quantile_sorted(sorted_, count, 0.5)
    tab["mean_rank"] = mean
    tab["rank_q05"] = _quantile_sorted(sorted_, count, 0.05)
    tab["rank_q95"] = _quantile_sorted(sorted_, count, 0.95)
    tab["rank_min"] = np.where(count > 0, sorted_[0], np.nan)
    tab["rank_max"] = _quantile_sorted(sorted_, count, 1.0)
    tab["p_ranked"] = acc["ranked"][order] / draws
    tab["p_veto"] = acc["vetoed"][order] / draws
    tab[f"p_top{top_k}"] = acc["top"][order] / draws
    for t_i, t in enumerate(tiers):
        tab[f"p_tier_{t.id}"] = acc["tier"][t_i][order] / draws
    if tiers:
        tab["p_no_award"] = 1.0 - acc["tier"].sum(axis=0)[order] / draws
    for w_i, w in enumerate(base.scheme.outcomes.warnings):
        tab[f"p_warning_{w.id}"] = acc["warn"][w_i][order] / draws
    tab["mean_abs_shift"] = acc["shift"][order] / draws
    return tab


def _draws_table(base: Baseline, ginv, gsize, tau, shift_g, draws: int) -> pd.DataFrame:
    """:attr:`Simulation.draws`: one row per draw and year × kind."""
    n_groups = gsize.size
    first = np.array([np.flatnonzero(ginv == gi)[0] for gi in range(n_groups)])
    return pd.DataFrame(
        {
            "draw": np.repeat(np.arange(draws), n_groups),
            "year": np.tile(base.rows["year"].to_numpy()[first], draws),
            "kind": np.tile(base.rows["kind"].to_numpy()[first], draws),
            "units": np.tile(gsize, draws),
            "kendall_tau": tau.ravel(),
            "mean_abs_shift": shift_g.ravel(),
        }
    )


# --------------------------------------------------------------------------- Sobol
@dataclass(frozen=True)
class SobolResult:
    """Sobol first-order (``S1``) and total (``ST``) indices of each factor.

    Attributes
    ----------
    indices : DataFrame
        ``output`` (``mean_abs_shift``: the mean absolute rank shift over all units; or
        ``rank``: one unit's position), ``unit``, ``name``, ``year``, ``kind`` (empty for
        ``mean_abs_shift``), ``factor``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (half
        widths of the bootstrap intervals at ``conf_level``). An output that never varies
        gets indices 0.
    n : int
        Base samples of the Saltelli design; ``evaluations = n × (factors + 2)``.
    """

    indices: pd.DataFrame
    n: int
    evaluations: int
    factors: tuple[str, ...]
    seed: int

    def to_frame(self) -> pd.DataFrame:
        return self.indices


SOBOL_COLUMNS = ["output", "unit", "name", "year", "kind", "factor", "S1", "S1_conf", "ST", "ST_conf"]


def _nonzero_seed(seed: int) -> int:
    # SALib treats seed=0 as "no seed": derive a positive one instead
    return int(np.random.SeedSequence([seed, 0x50B0]).generate_state(1)[0] % (2**31 - 1)) + 1


def sobol(
    base: Baseline,
    spec: Spec,
    *,
    n: int | None = None,
    seed: int | None = None,
    per_unit: bool = True,
    chunk: int | None = None,
    on_chunk: ProgressFn | None = None,
    client=None,
) -> SobolResult:
    """Sobol indices by Saltelli's design (:mod:`SALib.sample.sobol`, first and total
    order, no second order) and :mod:`SALib.analyze.sobol`.

    Each factor is one variable on [0, 1]; random-vector factors pick one of their
    ``realizations`` (see :mod:`.spec`). The outputs are the mean absolute rank shift
    (with SALib's bootstrap intervals) and, with ``per_unit``, every unit's position
    (SALib's estimators, vectorised over units, with the same bootstrap).

    Parameters
    ----------
    n : int, optional
        Base samples (a power of 2; default the spec's ``sobol.n``).
    client : distributed.Client, optional
        Score the design's chunks on this Dask cluster (see :func:`simulate`).
    """
    from SALib.sample import sobol as ss

    factors = resolve(spec, base)
    seed = spec.seed if seed is None else int(seed)
    n = spec.sobol.n if n is None else int(n)
    if n < 2 or n & (n - 1):
        raise ValueError(f"n must be a power of 2, got {n}")
    ids = tuple(rf.id for rf in factors)
    if not factors:
        return SobolResult(pd.DataFrame(columns=SOBOL_COLUMNS), n, 0, ids, seed)
    F = len(factors)
    problem = {"num_vars": F, "names": list(ids), "bounds": [[0.0, 1.0]] * F}
    X = ss.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    m = X.shape[0]
    pos0 = base.nominal().position[0]
    y_shift = np.empty(m)
    y_pos = np.empty((m, base.n), dtype=np.float64) if per_unit else None

    def collect(start: int, stop: int, out: Outcome) -> None:
        pos = out.position
        y_shift[start:stop] = np.abs(pos - pos0).mean(axis=1)
        if per_unit:
            y_pos[start:stop] = pos

    _run(base, factors, X, None, seed, chunk, on_chunk, collect, client)

    rows = _shift_indices(problem, y_shift, ids, spec, seed)
    tab = pd.DataFrame(rows)
    if per_unit:
        unit_tab = _per_unit(base, y_pos[:, base.order], F, n, ids, spec, seed)
        tab = pd.concat([tab, unit_tab], ignore_index=True)
    tab["year"] = tab["year"].astype("Int64")
    return SobolResult(tab[SOBOL_COLUMNS], n, m, ids, seed)


def _shift_indices(problem: dict, y_shift: np.ndarray, ids, spec: Spec, seed: int) -> list[dict]:
    """SALib's indices of the mean absolute rank shift, one row per factor (0 when it never varies)."""
    from SALib.analyze import sobol as sa

    F = len(ids)
    if np.ptp(y_shift) <= np.finfo(float).eps:
        s = {"S1": np.zeros(F), "S1_conf": np.zeros(F), "ST": np.zeros(F), "ST_conf": np.zeros(F)}
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = sa.analyze(
                problem,
                y_shift,
                calc_second_order=False,
                num_resamples=spec.sobol.num_resamples,
                conf_level=spec.sobol.conf_level,
                seed=_nonzero_seed(seed),
            )
    blank = {"output": "mean_abs_shift", "unit": "", "name": "", "year": pd.NA, "kind": ""}
    return [
        {**blank, "factor": fid, **{key: float(s[key][c]) for key in ("S1", "S1_conf", "ST", "ST_conf")}}
        for c, fid in enumerate(ids)
    ]


def _per_unit(base: Baseline, Y: np.ndarray, F: int, n: int, ids, spec: Spec, seed: int) -> pd.DataFrame:
    """S1 and ST of every unit's position, with bootstrap half-widths (SALib's estimators)."""
    from SALib.analyze.sobol import first_order, total_order
    from scipy.stats import norm

    step = F + 2
    sd = Y.std(axis=0)
    varies = sd > np.finfo(float).eps
    Z = np.where(varies, (Y - Y.mean(axis=0)) / np.where(varies, sd, 1.0), 0.0)
    A, B = Z[0::step], Z[step - 1 :: step]
    R = spec.sobol.num_resamples
    r = np.random.default_rng(_nonzero_seed(seed)).integers(n, size=(n, R))
    q = norm.ppf(0.5 + spec.sobol.conf_level / 2)
    u_count = Y.shape[1]
    S1 = np.zeros((F, u_count))
    ST = np.zeros((F, u_count))
    S1c = np.zeros((F, u_count))
    STc = np.zeros((F, u_count))
    width = max(1, (1 << 22) // (n * R))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(F):
            AB = Z[j + 1 :: step]
            S1[j] = first_order(A, AB, B)
            ST[j] = total_order(A, AB, B)
            for s in range(0, u_count, width):
                sl = slice(s, s + width)
                a, ab, b = A[:, sl][r], AB[:, sl][r], B[:, sl][r]  # (n, R, units)
                S1c[j, sl] = q * first_order(a, ab, b).std(axis=0, ddof=1)
                STc[j, sl] = q * total_order(a, ab, b).std(axis=0, ddof=1)
    S1[:, ~varies] = ST[:, ~varies] = S1c[:, ~varies] = STc[:, ~varies] = 0.0
    t = base.table()
    return pd.DataFrame(
        {
            "output": "rank",
            "unit": np.tile(t["unit"].to_numpy(), F),
            "name": np.tile(t["name"].to_numpy(), F),
            "year": np.tile(t["year"].to_numpy(), F),
            "kind": np.tile(t["kind"].to_numpy(), F),
            "factor": np.repeat(np.array(ids, dtype=object), u_count),
            "S1": S1.ravel(),
            "S1_conf": S1c.ravel(),
            "ST": ST.ravel(),
            "ST_conf": STc.ravel(),
        }
    )


# --------------------------------------------------------------------------- leave one out
@dataclass(frozen=True)
class LeaveOneOut:
    """The ranking with one section or item left out at a time.

    Attributes
    ----------
    shifts : DataFrame
        One row per node and unit-year: ``node``, ``node_label``, ``node_type``
        (``section``/``item``), ``unit``, ``name``, ``year``, ``kind``, ``nominal_rank``,
        ``rank`` (without the node; NaN: not ranked), ``shift`` (position − nominal
        position: positive = worse), ``vetoed``.
    summary : DataFrame
        One row per node and year × kind: ``node``, ``node_label``, ``node_type``,
        ``points``, ``year``, ``kind``, ``mean_abs_shift``, ``max_abs_shift``,
        ``n_moved``, ``kendall_tau``.
    """

    shifts: pd.DataFrame
    summary: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.summary


LOO_SHIFT_COLUMNS = [
    "node", "node_label", "node_type", "unit", "name", "year", "kind", "nominal_rank", "rank", "shift", "vetoed",
]  # fmt: skip
LOO_SUMMARY_COLUMNS = [
    "node", "node_label", "node_type", "points", "year", "kind", "mean_abs_shift", "max_abs_shift", "n_moved",
    "kendall_tau",
]  # fmt: skip


def _loo_nodes(scheme, nodes: list[str] | str | None) -> list[str]:
    lines = {ln.id for ln in scheme.lines}
    every = [nid for nid in scheme.nodes if nid not in lines]
    if nodes is None:
        return every
    if nodes == "items":
        return [it.id for _p, it in scheme.flat_items]
    if nodes == "sections":
        return [nid for nid in every if isinstance(scheme.nodes[nid], Section)]
    bad = [x for x in nodes if x not in scheme.nodes or x in lines]
    if bad:
        raise ValueError(f"not a section or item of scheme '{scheme.id}': {', '.join(bad)}")
    return list(nodes)


def leave_one_out(base: Baseline, nodes: list[str] | str | None = None) -> LeaveOneOut:
    """Leave out each node in turn (it earns nothing and is never missed) and re-rank.

    Parameters
    ----------
    nodes : list of str, or "items", "sections", or None
        The nodes to leave out; None: every section and item (not the lines).
    """
    scheme = base.scheme
    nodes = _loo_nodes(scheme, nodes)
    k = len(scheme.flat_items)
    shift_parts, summ_parts = [], []
    for s in range(0, len(nodes), 256):
        chunk_nodes = nodes[s : s + 256]
        pert = Perturbation(len(chunk_nodes), drop=np.zeros((len(chunk_nodes), k), dtype=bool))
        for i, nid in enumerate(chunk_nodes):
            pert.drop[i, node_items(scheme, nid)] = True
        shifts, summ = _loo_tables(base, chunk_nodes, evaluate(base, pert))
        shift_parts.append(shifts)
        summ_parts += summ
    shifts = (
        pd.concat(shift_parts, ignore_index=True) if shift_parts else pd.DataFrame(columns=LOO_SHIFT_COLUMNS)
    )
    summary = (
        pd.concat(summ_parts, ignore_index=True) if summ_parts else pd.DataFrame(columns=LOO_SUMMARY_COLUMNS)
    )
    # nodes that do not apply to a kind (another kind's line) move nobody there: keep only
    # the rows of the kinds the node belongs to
    kind_of_node = {nid: scheme.line_of(nid).unit_kind for nid in nodes}
    summary = summary[summary["kind"] == summary["node"].map(kind_of_node)].reset_index(drop=True)
    shifts = shifts[shifts["kind"] == shifts["node"].map(kind_of_node)].reset_index(drop=True)
    return LeaveOneOut(shifts[LOO_SHIFT_COLUMNS], summary[LOO_SUMMARY_COLUMNS])


def _loo_tables(
    base: Baseline, chunk_nodes: list[str], out: Outcome
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Every unit's rank without each node, and per node and year × kind the summary rows."""
    scheme = base.scheme
    t = base.table()
    nom = base.nominal()
    pos0 = nom.position[0]
    gs = np.unique(base.group)
    ginv = np.searchsorted(gs, base.group)
    first = np.array([np.flatnonzero(ginv == gi)[0] for gi in range(gs.size)])
    pos = out.position
    sh = pos - pos0
    o = base.order
    labels = [scheme.nodes[x].label for x in chunk_nodes]
    types = ["section" if isinstance(scheme.nodes[x], Section) else "item" for x in chunk_nodes]
    dd = len(chunk_nodes)
    shifts = pd.DataFrame(
        {
            "node": np.repeat(chunk_nodes, base.n),
            "node_label": np.repeat(labels, base.n),
            "node_type": np.repeat(types, base.n),
            **{c: np.tile(t[c].to_numpy(), dd) for c in ("unit", "name", "year", "kind")},
            "nominal_rank": np.tile(nom.rank[0][o], dd),
            "rank": out.rank[:, o].ravel(),
            "shift": sh[:, o].ravel(),
            "vetoed": out.vetoed[:, o].ravel(),
        }
    )
    tau = kendall_tau(pos0, pos, base.group)
    summ = []
    for gi in range(gs.size):
        a = np.abs(sh[:, ginv == gi])
        summ.append(
            pd.DataFrame(
                {
                    "node": chunk_nodes,
                    "node_label": labels,
                    "node_type": types,
                    "points": [scheme.nodes[x].points for x in chunk_nodes],
                    "year": base.rows["year"].to_numpy()[first[gi]],
                    "kind": base.rows["kind"].to_numpy()[first[gi]],
                    "mean_abs_shift": a.mean(axis=1),
                    "max_abs_shift": a.max(axis=1),
                    "n_moved": (a > 0).sum(axis=1),
                    "kendall_tau": tau[:, gi],
                }
            )
        )
    return shifts, summ


# --------------------------------------------------------------------------- the whole analysis
RANK_FIRST = [
    "unit",
    "name",
    "year",
    "kind",
    "category",
    "nominal_rank",
    "median_rank",
    "rank_q05",
    "rank_q95",
]


@dataclass(frozen=True)
class Analysis:
    """A spec's whole analysis of one baseline: what ``assesskit sensitivity`` writes.

    Attributes
    ----------
    simulation : Simulation
    sobol : DataFrame
        :data:`SOBOL_COLUMNS` (empty when no Sobol design was asked for or no factor varies).
    sobol_evaluations : int
    loo : LeaveOneOut
    draws, seed, sobol_n : int
        The settings used (the spec's unless overridden).
    """

    simulation: Simulation
    sobol: pd.DataFrame
    sobol_evaluations: int
    loo: LeaveOneOut
    draws: int
    seed: int
    sobol_n: int

    @property
    def ranks(self) -> pd.DataFrame:
        """One row per unit: identity, nominal and median rank, the 5–95 % interval, tier
        probabilities first, then every other column of ``simulation.units``."""
        units = self.simulation.units
        first = RANK_FIRST + [c for c in units.columns if c.startswith("p_tier_") or c == "p_no_award"]
        return units[first + [c for c in units.columns if c not in first]]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The output files' tables: ranks.csv, sobol.csv, loo.csv, draws.csv."""
        return {
            "ranks.csv": self.ranks,
            "sobol.csv": self.sobol,
            "loo.csv": self.loo.summary,
            "draws.csv": self.simulation.draws,
        }


def analyse(
    base: Baseline,
    spec: Spec,
    *,
    draws: int | None = None,
    seed: int | None = None,
    sobol_n: int | None = None,
    progress: Callable[[str, int], ProgressFn] | None = None,
    client=None,
) -> Analysis:
    """Monte Carlo rank intervals, Sobol indices (when ``sobol_n`` > 0) and leave-one-out.

    Parameters
    ----------
    base : Baseline
    spec : Spec
    draws, seed, sobol_n : int, optional
        Override the spec's ``draws``, ``seed`` and ``sobol.n``.
    progress : callable, optional
        ``progress(stage, total) -> on_chunk`` for the "draws" and "sobol" stages.
    client : distributed.Client, optional
        Score the Monte Carlo and Sobol draws on this Dask cluster (see :func:`simulate`);
        leave-one-out (one draw per node) runs here.
    """
    draws = spec.draws if draws is None else draws
    seed = spec.seed if seed is None else seed
    n_sobol = spec.sobol.n if sobol_n is None else sobol_n
    sim = simulate(
        base,
        spec,
        draws=draws,
        seed=seed,
        on_chunk=progress("draws", draws) if progress else None,
        client=client,
    )
    if n_sobol and sim.factors:
        n_runs = n_sobol * (len(sim.factors) + 2)
        sob = sobol(
            base,
            spec,
            n=n_sobol,
            seed=seed,
            on_chunk=progress("sobol", n_runs) if progress else None,
            client=client,
        )
        tab, n_eval = sob.indices, sob.evaluations
    else:
        tab, n_eval = pd.DataFrame(columns=SOBOL_COLUMNS), 0
    return Analysis(sim, tab, n_eval, leave_one_out(base), draws, seed, n_sobol)
