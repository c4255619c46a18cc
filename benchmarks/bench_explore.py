"""Explorer latency: from a control change to the updated league table, 3,000 units × 60+ items.

Builds the explorer (assesskit.explore) on a synthetic panel (benchmarks/synthetic.py) of
one year, then moves one lever of each kind — an item's target, a line's points, an item's
rule form, a veto, a bonus — by setting the control's value as the browser would, and
prints the time until the league table's HTML is set (rescore + table) and the time of
the rest of the callback (changed units, unit card, chart). The baseline, measured in the
same run: scoring the variant from scratch (`score_panel`: prepare + kernel + tables), as
a YAML edit and rerun would (without reading the files). The synthetic panel is used as
it is (like bench_scoring.py), not read from files: its random values do not all pass
the input checks. Goal (issue 13): < 200 ms to the table.

    python benchmarks/bench_explore.py [--units 3000] [--scheme wujin_2016] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import random_panel  # noqa: E402

from assesskit import load_scheme, score_panel  # noqa: E402
from assesskit.data import Panel  # noqa: E402
from assesskit.explore import Rescorer  # noqa: E402
from assesskit.explore.app import Explorer  # noqa: E402
from assesskit.explore.design import form_of, target_lever  # noqa: E402


def levers(app) -> list[tuple[str, object, list]]:
    """One control of each kind and the values it is moved through."""
    s = app.scheme
    by_class = {cls: c for c, _r in app._controls for cls in c._dom_classes}
    out = []
    it = next(it for _p, it in s.flat_items if target_lever(it) == "number")
    box = by_class[f"ak-target-{it.id}"]
    out.append((f"target of {it.id}", box, [box.value - 3, box.value - 6, box.value]))
    ln = s.lines[0]
    box = by_class[f"ak-points-{ln.id}"]
    out.append((f"points of line {ln.id}", box, [box.value * 0.8, box.value * 0.9, box.value]))
    it = next((it for _p, it in s.flat_items if form_of(s, it)), None)
    if it is not None:
        box = by_class[f"ak-form-{it.id}"]
        other = "linear" if box.value == "threshold" else "threshold"
        out.append((f"rule form of {it.id}", box, [other, box.value]))
    if s.vetoes:
        box = by_class[f"ak-veto-{s.vetoes[0].id}"]
        out.append((f"veto {s.vetoes[0].id}", box, ["off", "on"]))
    if s.adjustments:
        box = by_class[f"ak-adjustment-{s.adjustments[0].id}"]
        out.append((f"adjustment {s.adjustments[0].id}", box, [False, True]))
    return out


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scheme", default="wujin_2016")
    ap.add_argument("--units", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    scheme = load_scheme(args.scheme)
    data, targets = random_panel(scheme, args.units, 1, seed=1, kind=list(scheme.kinds)[0])
    panel = Panel(data, targets)
    year = int(data["year"].max())
    t_full = min(_timed(lambda: score_panel(scheme, panel, years=[year])) for _ in range(3))
    t0 = time.perf_counter()
    app = Explorer(Rescorer(scheme, panel, [year]))
    t_build = time.perf_counter() - t0
    res = app.result
    n_items = len(scheme.flat_items)
    print(
        f"scheme {scheme.id}: {n_items} items, {len(scheme.vetoes)} vetoes, {len(scheme.adjustments)} adjustments"
    )
    print(f"panel: {args.units:,} units × 1 year ({len(res.summary):,} unit-years); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"baseline: score_panel from scratch (best of 3)     {t_full * 1e3:8.0f} ms")
    print(f"explorer built (prepare once, widgets, first draw) {t_build * 1e3:8.0f} ms")
    print(f"{'lever':<40} {'to table':>9} {'rescore':>8} {'views':>8}   (median of {args.repeat}, ms)")
    worst, worst_rescore = 0.0, 0.0
    for name, box, values in levers(app):
        to_table, rescore, views = [], [], []
        for _ in range(args.repeat):
            for v in values:
                box.value = v
                t = app.timings
                to_table.append(t["to_table"] * 1e3)
                rescore.append(t["rescore"] * 1e3)
                views.append(t["views"] * 1e3)
        med = statistics.median(to_table)
        worst = max(worst, med)
        worst_rescore = max(worst_rescore, statistics.median(rescore))
        print(f"{name:<40} {med:9.1f} {statistics.median(rescore):8.1f} {statistics.median(views):8.1f}")
    assert app.design.is_original, "the levers did not come back"
    verdict = "met" if worst < 200 else "NOT met"
    print(f"slowest lever to the table: {worst:.1f} ms   [goal < 200 ms: {verdict}]; "
          f"slowest rescore {worst_rescore:.1f} ms, {t_full * 1e3 / worst_rescore:.1f}× faster than "
          "scoring from scratch")  # fmt: skip


if __name__ == "__main__":
    main()
