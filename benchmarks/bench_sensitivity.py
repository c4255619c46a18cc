"""Sensitivity throughput: 10,000 draws for 3,000 units × 60 items (synthetic).

Builds a 60-item point scheme (6 sections × 10 items: thresholds on rates from counts,
linear, bands, inspector grades, per-case deductions; two vetoes, three award tiers, a
yellow card, a bonus and a deduction), fills a random panel for it
(``benchmarks/synthetic.py``) and draws ten factors of every kind (weights, targets, rule
forms, vetoes, missing data, binomial and grading noise, leaving out a section).

Prints draws per second, the peak memory of the process, and the ratio to a loop that
materialises each draw as a scheme and panel and calls the main scoring function
(``score_panel``) once per draw — that loop is timed on a few hundred draws in the same
run and extrapolated. Goals (issue 15, on 2 cores): 10,000 draws × 3,000 units under 20 s;
1,000 draws × 41,000 units (a nation's towns) under 90 s and 4 GB. Figures only; no
assertion. CPU time is printed beside the wall time (the machine may be shared), with the
load average before and after.

    python benchmarks/bench_sensitivity.py [--units 3000] [--draws 10000] [--loop-draws 200]
    python benchmarks/bench_sensitivity.py --units 41000 --draws 1000 --loop-draws 0
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import random_panel  # noqa: E402

from assesskit import parse_scheme  # noqa: E402
from assesskit.data import Panel  # noqa: E402
from assesskit.scoring import score_panel  # noqa: E402
from assesskit.sensitivity import baseline, parse_spec, simulate  # noqa: E402
from assesskit.sensitivity.analysis import auto_chunk  # noqa: E402
from assesskit.sensitivity.engine import materialise  # noqa: E402
from assesskit.sensitivity.sampling import perturbation, realisation_ids, resolve  # noqa: E402


def bench_scheme(n_sections: int = 6, per_section: int = 10):
    """A synthetic 60-item point scheme using every common construct."""
    indicators: dict = {}
    sections = []
    for s in range(n_sections):
        items = []
        for i in range(per_section):
            iid = f"s{s}i{i}"
            kind = i % 5
            if kind in (0, 1):  # a share from counts, threshold
                indicators[f"r_{iid}"] = {
                    "numerator": f"num_{iid}",
                    "denominator": f"den_{iid}",
                    "scale": 100,
                    "min": 0,
                    "max": 100,
                }
                rule = {"type": "threshold", "indicator": f"r_{iid}", "op": ">=", "target": 90 + kind * 3}
            elif kind == 2:  # linear on a plain column
                indicators[f"v_{iid}"] = {"min": 0, "max": 200}
                rule = {"type": "linear", "indicator": f"v_{iid}", "floor": 50, "target": 95}
            elif kind == 3:  # inspectors' grade in points
                indicators[f"g_{iid}"] = {}
                rule = {"type": "graded", "indicator": f"g_{iid}"}
            else:  # per-case deduction
                indicators[f"c_{iid}"] = {"kind": "count"}
                rule = {"type": "per_case", "indicator": f"c_{iid}", "points_per_case": 1}
            items.append({"id": iid, "label": f"指标{s}-{i}", "points": 2.0, "rule": rule})
        sections.append({"id": f"s{s}", "label": f"部分{s}", "points": 2.0 * per_section, "items": items})
    total = 2.0 * per_section * n_sections
    indicators["bonus_cases"] = {"kind": "count"}
    indicators["falsified"] = {"kind": "count"}
    raw = {
        "id": "bench",
        "label": "基准",
        "source": "synthetic",
        "years": [2020, 2021],
        "kinds": {"town": {"label": "镇", "points": total}},
        "indicators": indicators,
        "lines": [{"id": "main", "label": "主线", "points": total, "unit_kind": "town", "items": sections}],
        "adjustments": [
            {"id": "bonus", "label": "加分", "kind": "bonus", "per_case": {"bonus_cases": 1}, "cap": 3},
            {"id": "ded", "label": "扣分", "kind": "deduction", "per_case": {"falsified": 5}},
        ],
        "vetoes": [
            {"id": "v_rate", "label": "否决", "effect": "veto", "when": {"missed": "s0i0"}},
            {"id": "v_fals", "label": "取消评优", "effect": "ineligible", "when": {"indicator": "falsified", "op": ">=", "value": 2}},
        ],
        "outcomes": {
            "tiers": [
                {"id": "first", "label": "一等", "count": 30},
                {"id": "second", "label": "二等", "count": 60},
                {"id": "third", "label": "三等", "count": 120},
            ],
            "warnings": [{"id": "yellow", "label": "黄牌", "bottom": 30}],
        },
    }  # fmt: skip
    return parse_scheme(raw, "bench")


SPEC = {
    "factors": [
        {"id": "section_weights", "type": "weights", "nodes": [f"s{s}" for s in range(6)], "dist": "dirichlet", "concentration": 50},
        {"id": "item_points", "type": "weights", "spread": 0.2},
        {"id": "thresholds", "type": "target", "rule_type": "threshold", "shift": [-2, 2]},
        {"id": "linear_targets", "type": "target", "rule_type": "linear", "relative": [-0.05, 0.05]},
        {"id": "proportional", "type": "rule_form", "items": ["s1", "s2"], "rule_type": "threshold", "floor": 50},
        {"id": "vetoes", "type": "veto", "p_off": 0.3},
        {"id": "missing", "type": "missing_policy"},
        {"id": "counts", "type": "data_noise", "indicators": ["r_s0i0", "r_s1i0", "r_s2i1", "r_s3i1"], "model": "binomial"},
        {"id": "grades", "type": "data_noise", "rule_type": "graded", "model": "normal", "rel_sd": 0.1},
        {"id": "leave_out", "type": "leave_out", "nodes": ["s4", "s5"]},
    ]
}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=3000)
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--loop-draws", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-kendall", action="store_true", help="skip Kendall's tau per draw")
    ap.add_argument("--chunk", type=int, default=None, help="draws per chunk (default: auto_chunk)")
    args = ap.parse_args()
    load0 = os.getloadavg()

    scheme = bench_scheme()
    data, targets = random_panel(scheme, args.units, 2, seed=1, kind="town")
    panel = Panel(data, targets)
    t0 = time.perf_counter()
    base = baseline(scheme, panel, year=2021)
    t_base = time.perf_counter() - t0
    spec = parse_spec(SPEC, "bench", scheme)
    factors = resolve(spec, base)
    print(
        f"scheme: {len(scheme.flat_items)} items in 6 sections, {len(scheme.vetoes)} vetoes, "
        f"{len(scheme.outcomes.tiers)} tiers; {base.n:,} units scored (year 2021; 2020 is history)"
    )
    print(f"factors: {len(factors)} ({', '.join(f.id for f in factors)})")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # ---- the vectorised engine: every draw, every summary
    t0, c0 = time.perf_counter(), time.process_time()
    sim = simulate(
        base, spec, draws=args.draws, seed=args.seed, kendall=not args.no_kendall, chunk=args.chunk
    )
    t_sim, c_sim = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = args.draws / t_sim
    goal = 20 if (args.units, args.draws) == (3000, 10_000) else 90 if args.units >= 40_000 else 60
    print(
        f"vectorised: {args.draws:,} draws × {base.n:,} units in {t_sim:.1f} s wall, {c_sim:.1f} s CPU "
        f"({args.chunk or auto_chunk(base)} draws a chunk) = {rate:,.0f} draws/s   "
        f"[goal < {goal} s: {'met' if t_sim < goal else 'NOT met'} on wall time, "
        f"{'met' if c_sim < goal else 'NOT met'} on CPU time]"
    )
    print(
        f"peak memory (max RSS of the process): {peak:,.0f} MB (before the draws: {rss0:,.0f} MB)   "
        f"[goal < 4 GB: {'met' if peak < 4096 else 'NOT met'}]"
    )
    load1 = os.getloadavg()
    print(f"load average (1 min) before / after: {load0[0]:.1f} / {load1[0]:.1f} on {os.cpu_count()} cores")
    if args.loop_draws <= 0:
        return

    # ---- the loop: one main-engine scoring per draw, on the same draws
    d = args.loop_draws
    u = sim.u[:d]
    pert = perturbation(base, factors, u, realisation_ids(factors, u, np.arange(d)), args.seed)
    t_mat = t_score = 0.0
    agree = 0
    for i in range(d):
        t0 = time.perf_counter()
        s_i, p_i = materialise(base, pert, i)
        t1 = time.perf_counter()
        res = score_panel(s_i, p_i, years=[2021])
        t2 = time.perf_counter()
        t_mat += t1 - t0
        t_score += t2 - t1
        ranks = res.summary.set_index("unit")["rank"].to_numpy(dtype=float, na_value=np.nan)
        mine = sim.ranks[i][np.argsort(base.table()["unit"].to_numpy())]
        agree += np.array_equal(np.sort(np.nan_to_num(ranks, nan=-1)), np.sort(np.nan_to_num(mine, nan=-1)))
    loop_rate = d / t_score
    loop_rate_all = d / (t_score + t_mat)
    print(f"baseline (nominal scoring + arrays): {t_base:.2f} s")
    print(
        f"loop over the main engine: {d} draws: score_panel {t_score:.1f} s ({loop_rate:.1f} draws/s), "
        f"building each draw's scheme and panel {t_mat:.1f} s more; the same rank multiset in {agree}/{d} draws"
    )
    print(
        f"  extrapolated to {args.draws:,} draws: {args.draws / loop_rate / 60:.1f} min (score_panel alone), "
        f"{args.draws / loop_rate_all / 60:.1f} min with the rebuilding"
    )
    print(
        f"ratio vectorised / loop: {rate / loop_rate:,.0f}× (score_panel alone), {rate / loop_rate_all:,.0f}× in all"
    )
    print(
        f"  summary: median 5–95% rank interval width {np.nanmedian(sim.units.rank_q95 - sim.units.rank_q05):.0f}, "
        f"mean Kendall tau {sim.draws.kendall_tau.mean():.3f}"
    )


if __name__ == "__main__":
    main()
