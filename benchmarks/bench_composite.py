"""Uncertainty analysis of the ASEM composite index: replications per second.

The analysis of issue 5: section weights (COINr levels 2 and 3) perturbed by ±25% and the
aggregation drawn between the arithmetic mean (min-max onto [0, 100]) and the geometric
mean (min-max onto [1, 100]), 10,000 replications, with the sensitivity engine and the
bundled spec ``params/sensitivity/asem.yaml`` (``assesskit.sensitivity.simulate``: all draws
as arrays through the scoring kernel; Kendall's τ per draw left out, as the old
``composite.uncertainty`` had none). The baseline, timed in the same run, is what a COINr-style analysis
does: rebuild the scheme with each draw's weights and aggregation and score it with the
main engine, once per replication (timed on a subsample and extrapolated). The reference
implementation (COINr's ``get_sensitivity``) takes about 15 ms per replication on this kind
of machine; the goal is at least 100× faster, i.e. ≥ 6,700 replications per second.

    python benchmarks/bench_composite.py [--draws 10000] [--loop 100]
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np

from assesskit import score
from assesskit import sensitivity as sa
from assesskit.datasets import load
from assesskit.importers.coinr import import_coinr
from assesskit.scheme import parse_scheme

COINR_MS_PER_REP = 15.0


def loop_baseline(raw: dict, data, reps: int, seed: int) -> float:
    """Seconds per replication when every draw rebuilds and rescores the scheme."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    for _ in range(reps):
        r = copy.deepcopy(raw)
        geometric = rng.integers(0, 2) == 1

        def visit(node: dict, depth: int, geometric: bool = geometric) -> None:
            if "items" in node:
                node["aggregate"] = "geometric" if geometric else "mean"
                if depth in (1, 2):  # Conn/Sust and the eight groups: levels 3 and 2
                    node["weight"] = node.get("weight", 1.0) * (1 + rng.uniform(-0.25, 0.25))
                for c in node["items"]:
                    visit(c, depth + 1)
            elif geometric:
                node["rule"]["scale"] = [1.0, 100.0]

        visit(r["lines"][0], 0)
        score(parse_scheme(r), data)
    return (time.perf_counter() - t0) / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--loop", type=int, default=100, help="replications of the per-draw loop baseline")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    raw, data = import_coinr(load("asem_idata"), load("asem_imeta"), scheme_id="asem")
    res = score(parse_scheme(raw), data)
    base = sa.from_result(res)
    spec = sa.load_spec("asem", base.scheme)
    sa.simulate(base, spec, draws=200, seed=a.seed, kendall=False)  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    sim = sa.simulate(base, spec, draws=a.draws, seed=a.seed, kendall=False)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    per_rep = dt / a.draws
    base = loop_baseline(raw, data, a.loop, a.seed)

    print(
        f"ASEM: {len(res.summary)} units × {len(res.scheme.flat_items)} indicators, {a.draws:,} replications"
    )
    print(
        f"vectorised (sensitivity engine): {dt:.2f} s wall, {cpu:.2f} s CPU, "
        f"{a.draws / dt:,.0f} replications/s ({per_rep * 1e3:.3f} ms each)"
    )
    print(f"loop baseline (rebuild + score per draw, {a.loop} draws): {base * 1e3:.1f} ms per replication")
    print(f"ratio vectorised / loop baseline: {base / per_rep:,.0f}×")
    print(
        f"against COINr's ~{COINR_MS_PER_REP:g} ms per replication: {COINR_MS_PER_REP / 1e3 / per_rep:,.0f}× "
        "(goal ≥ 100×)"
    )
    widest = sim.units.assign(width=sim.units.rank_q95 - sim.units.rank_q05).nlargest(3, "width")
    print(
        "widest 5–95% rank intervals:",
        ", ".join(f"{r.unit} {r.rank_q05:g}–{r.rank_q95:g}" for r in widest.itertuples()),
    )


if __name__ == "__main__":
    main()
