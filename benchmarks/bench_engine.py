"""Engine speed: the scoring kernel on 40,000 towns × 10 years (400,000 unit-years) of
``district_1000`` with inspector grades, stage by stage.

Prints the CPU and wall time (best of ``--repeat``) of

- ``prepare``: scheme × panel → the kernel's arrays (assesskit.kernel.prepare);
- ``run``: items → totals → vetoes → ranks, one draw (assesskit.kernel.run), as the
  sensitivity engine calls it, and with ``detail=True`` (item points and status, line
  ranks, awards), as ``score_panel`` calls it;
- ``result_of``: the summary table from the kernel's arrays (assesskit.scoring);
- ``score_panel``: all of the above (the goal of issue 15: < 0.5 s);

and, as the baseline measured in the same run, the plain per-row scorer
(benchmarks/rowwise.py, one Python loop over unit-years and items) on ``--baseline-units``
units, extrapolated per unit-year to the whole panel, after checking it agrees with the
engine there. CPU time is the figure to compare between runs on a shared machine; the
load average is printed with it.

    python benchmarks/bench_engine.py [--units 40000] [--years 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rowwise import score_rows  # noqa: E402
from synthetic import random_panel  # noqa: E402

from assesskit import load_scheme  # noqa: E402
from assesskit.data import Panel  # noqa: E402
from assesskit.kernel import prepare, run  # noqa: E402
from assesskit.scoring import result_of, score_panel  # noqa: E402


def best(fn, repeat: int) -> tuple[float, float, object]:
    """Best CPU and wall time of ``repeat`` calls, and the last result."""
    cpu, wall, out = [], [], None
    for _ in range(repeat):
        out = None
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(cpu), min(wall), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scheme", default="district_1000")
    ap.add_argument("--units", type=int, default=40_000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline-units", type=int, default=200)
    args = ap.parse_args()
    load0 = os.getloadavg()

    scheme = load_scheme(args.scheme)
    scheme = scheme.model_copy(update={"years": (scheme.years[1] - args.years + 1, scheme.years[1])})
    data, targets = random_panel(scheme, args.units, args.years, seed=1, kind="town")
    panel = Panel(data, targets)
    n = len(data)
    graded = sum(it.rule.type == "graded" for _p, it in scheme.flat_items)
    print(
        f"scheme {scheme.id}: {len(scheme.flat_items)} items ({graded} inspector grades); "
        f"{args.units:,} towns × {args.years} years = {n:,} unit-years"
    )
    score_panel(scheme, panel)  # warm: imports, registry, caches of the scheme model

    c_prep, w_prep, inp = best(lambda: prepare(scheme, panel), args.repeat)
    c_run, w_run, _ = best(lambda: run(inp), args.repeat)
    c_det, w_det, out = best(lambda: run(inp, detail=True), args.repeat)
    c_res, w_res, _ = best(lambda: result_of(inp, out), args.repeat)
    c_all, w_all, res = best(lambda: score_panel(scheme, panel), args.repeat)
    rows = [
        ("prepare (scheme × panel → arrays)", c_prep, w_prep),
        ("run, one draw (as sensitivity calls it)", c_run, w_run),
        ("run with detail (as score_panel calls it)", c_det, w_det),
        ("result_of (summary table, assesskit.scoring)", c_res, w_res),
        ("score_panel (all of it)", c_all, w_all),
    ]
    print(f"best of {args.repeat}:                                   CPU s    wall s")
    for label, c, w in rows:
        print(f"  {label:<48} {c:7.3f}  {w:7.3f}")
    print(f"  kernel (prepare + run with detail)               {c_prep + c_det:7.3f}")
    print(f"  [goal score_panel < 0.5 s: {'met' if c_all < 0.5 else 'NOT met'} on CPU time]")

    # ---- the baseline: the per-row scorer on a slice, checked against the engine first
    units = data["unit"].drop_duplicates().iloc[: args.baseline_units]
    sub = data[data["unit"].isin(units)].reset_index(drop=True)
    sub_t = targets[targets.index.get_level_values("unit").isin(units)]
    c0 = time.process_time()
    ref = score_rows(scheme, sub, sub_t)
    c_row = time.process_time() - c0
    got = score_panel(scheme, Panel(sub, sub_t)).summary.sort_values(["year", "unit"])
    agree = np.allclose(got["total"].to_numpy(float), ref["total"].to_numpy(float), equal_nan=True)
    per_row = c_row / len(sub)
    print(
        f"baseline, the per-row scorer (benchmarks/rowwise.py) on {len(sub):,} unit-years: {c_row:.2f} s CPU "
        f"({'agrees with' if agree else 'DISAGREES with'} the engine on every total); "
        f"extrapolated to {n:,} unit-years: {per_row * n:,.0f} s CPU = {per_row * n / c_all:,.0f}× score_panel"
    )
    print(f"checked: {len(res.summary):,} summary rows")
    load1 = os.getloadavg()
    print(f"load average (1 min) before / after: {load0[0]:.1f} / {load1[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
