"""Per-page cost of the unit template, run in one process as a warm kernel would.

Writes district_1000's synthetic demo data to a temporary folder, then runs the code cells
of ``notebooks/unit_report.ipynb`` for ``--units`` units of one year in this process (the
imported modules and the report layer's caches stay warm between pages, as in the runner's
kernels) and prints each cell's wall and CPU time per page, split into the year's first page
and the later ones. ``--cold`` clears the report caches before every page. Figures only.

    .venv/bin/python benchmarks/bench_pages.py [--units 6] [--year 2013] [--cold] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEME = "district_1000"


def cells() -> list[str]:
    """The template's code cells after the parameter cell."""
    nb = json.loads((ROOT / "notebooks" / "unit_report.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return ["".join(c["source"]) for c in code if "parameters" not in c["metadata"].get("tags", [])]


def run_page(sources: list[str], params: dict, times: list[list[float]]) -> None:
    """Run one page's cells in a fresh namespace, adding each cell's (wall, cpu) to ``times``."""
    import matplotlib

    matplotlib.use("Agg")
    ns: dict = {"display": lambda *a, **k: None, **params}
    for i, src in enumerate(sources):
        w0, c0 = time.perf_counter(), time.process_time()
        exec(compile(src, f"<cell {i}>", "exec"), ns)
        times[i].append((time.perf_counter() - w0, time.process_time() - c0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=6)
    ap.add_argument("--year", type=int, default=2013)
    ap.add_argument("--cold", action="store_true", help="clear the report caches before each page")
    ap.add_argument("--profile", action="store_true", help="cProfile the later pages")
    args = ap.parse_args()

    from assesskit.datasets.demo import FILE_NAMES, write_demo_data

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        data = write_demo_data(Path(tmp) / "data", seed=0, schemes=[SCHEME]) / SCHEME
        files = {r: str(data / n) for r, n in FILE_NAMES.items() if r != "truth" and (data / n).exists()}
        files.setdefault("targets", None)
        import pandas as pd

        panel = pd.read_csv(files["data"])
        units = sorted(panel.loc[panel["year"] == args.year, "unit"].astype(str).unique())[: args.units]
        sources = cells()
        base = {"scheme": SCHEME, **files, "year": args.year, "seed": 0, "lang": "bilingual"}
        times: list[list[tuple[float, float]]] = [[] for _ in sources]
        run_page(sources, {**base, "unit": units[0]}, times)  # imports, first scoring
        times = [[] for _ in sources]
        prof = cProfile.Profile() if args.profile else None
        for u in units:
            if args.cold:
                from assesskit.report import shared

                shared.clear()
            if prof and u != units[0]:
                prof.enable()
            run_page(sources, {**base, "unit": u}, times)
            if prof:
                prof.disable()
        print(f"{len(units)} pages of {SCHEME} {args.year} ({'cold' if args.cold else 'warm'} caches)")
        print(f"{'cell':>4} {'first wall':>10} {'later wall':>10} {'later cpu':>10}  source")
        tot = [0.0, 0.0, 0.0]
        for i, (src, t) in enumerate(zip(sources, times)):
            later = t[1:] or t
            row = (t[0][0], sum(x[0] for x in later) / len(later), sum(x[1] for x in later) / len(later))
            tot = [a + b for a, b in zip(tot, row)]
            print(f"{i:>4} {row[0]:10.3f} {row[1]:10.3f} {row[2]:10.3f}  {src.splitlines()[0][:50]}")
        print(f" sum {tot[0]:10.3f} {tot[1]:10.3f} {tot[2]:10.3f}")
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
