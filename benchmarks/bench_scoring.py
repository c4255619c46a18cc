"""Scoring throughput: 40,000 units × 10 years with the 1000-point three-line scheme.

Prints item evaluations per second for the vectorised engine and for the plain per-row
scorer (benchmarks/rowwise.py) measured in the same process, and their ratio. The per-row
scorer is timed on a subsample (it would take minutes on the whole panel); its rate is
per evaluation, so the ratio compares like with like. Both are checked to agree on the
subsample first. Goal (issue 2): the whole panel in under 2 s, ≥ 100× the per-row rate.

    python benchmarks/bench_scoring.py [--units 40000] [--years 10] [--scheme district_1000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rowwise import score_rows  # noqa: E402
from synthetic import random_panel  # noqa: E402

from assesskit import load_scheme  # noqa: E402
from assesskit.data import Panel, read_panel  # noqa: E402
from assesskit.scoring import score_panel  # noqa: E402


def best_of(fn, repeat: int) -> tuple[float, object, float]:
    """Best wall time of ``repeat`` runs, the last result, and the best CPU time (the machine
    may be shared: CPU time is the figure to compare between runs)."""
    times, cpu, out = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(times), out, min(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scheme", default="district_1000")
    ap.add_argument("--units", type=int, default=40_000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--baseline-units", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--kind", default="town", help="kind of unit for every synthetic unit")
    args = ap.parse_args()

    scheme = load_scheme(args.scheme)
    # widen the scheme's validity so that every synthetic year is scored
    scheme = scheme.model_copy(update={"years": (scheme.years[1] - args.years + 1, scheme.years[1])})
    data, targets = random_panel(scheme, args.units, args.years, seed=1, kind=args.kind)
    n_rows = len(data)
    kinds = data["kind"].value_counts().to_dict()
    n_evals = sum(
        int((data["kind"] == ln.unit_kind).sum()) * sum(1 for p, _ in scheme.flat_items if p[0] == ln.id)
        for ln in scheme.lines
    )
    print(
        f"scheme {scheme.id}: {len(scheme.flat_items)} items, {len(scheme.adjustments)} adjustments, "
        f"{len(scheme.vetoes)} vetoes"
    )
    print(
        f"panel: {args.units:,} units × {args.years} years = {n_rows:,} unit-years {kinds}; "
        f"{n_evals:,} item evaluations"
    )

    # ---- the engine on the whole panel
    panel = Panel(data, targets)
    t_engine, res, c_engine = best_of(lambda: score_panel(scheme, panel), args.repeat)
    t0, c0 = time.perf_counter(), time.process_time()
    n_items_rows = len(res.items)
    t_items, c_items = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    tgt = targets.reset_index()
    read_panel(
        scheme,
        data.drop(columns=["name"]),
        targets=tgt,
        units=None if len(scheme.kinds) == 1 else data[["unit", "kind", "category"]].drop_duplicates("unit"),
        allow_missing_columns=True,
    )
    t_validate = time.perf_counter() - t0

    # ---- the per-row baseline on a subsample, checked against the engine first
    sub_units = data["unit"].drop_duplicates().iloc[: args.baseline_units]
    sub = data[data["unit"].isin(sub_units)].reset_index(drop=True)
    sub_t = targets[targets.index.get_level_values("unit").isin(sub_units)]
    t_rows, ref, _c = best_of(lambda: score_rows(scheme, sub, sub_t), 1)
    got = score_panel(scheme, Panel(sub, sub_t)).summary.sort_values(["year", "unit"])
    assert np.allclose(got["total"].to_numpy(float), ref["total"].to_numpy(float), equal_nan=True), "disagree"
    sub_evals = n_evals * len(sub) / n_rows

    eng_rate = n_evals / t_engine
    row_rate = sub_evals / t_rows
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"engine: score {n_rows:,} unit-years in {t_engine:.3f} s (best of {args.repeat}) = "
        f"{eng_rate:,.0f} item evaluations/s   [goal < 2 s: {'met' if t_engine < 2 else 'NOT met'}]"
    )
    print(
        f"        CPU time of the scoring: {c_engine:.3f} s (best of {args.repeat}; wall time includes waiting)"
    )
    print(
        f"        + explanations: item table of {n_items_rows:,} rows with reasons in {t_items:.2f} s "
        f"(CPU {c_items:.2f} s)"
    )
    print(f"        + input validation of the whole panel (read_panel) in {t_validate:.2f} s")
    print(
        f"per-row baseline: {len(sub):,} unit-years in {t_rows:.2f} s = {row_rate:,.0f} item evaluations/s "
        f"(agrees with the engine on every total)"
    )
    print(
        f"ratio engine / per-row: {eng_rate / row_rate:,.0f}×   [goal ≥ 100×: "
        f"{'met' if eng_rate / row_rate >= 100 else 'NOT met'}]"
    )
    print(f"peak memory: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
