"""Report throughput: 100 unit reports with a fresh papermill kernel each vs the runner.

Both build the same 100 pages — district_1000's synthetic demo panel, 20 units × 5 years,
with the ``notebooks/unit_report.ipynb`` template — in the same run:

- **baseline**: for every page, ``papermill.execute_notebook`` (a fresh kernel per notebook,
  which imports everything and scores the panel again) and a new nbconvert exporter;
  ``--jobs`` pages at a time in separate processes;
- **runner**: :func:`assesskit.report.run_report` with ``--jobs`` worker processes, each
  keeping one warm kernel (reset between notebooks) and one exporter.

Prints both wall times and their ratio (goal: runner ≥ 4× faster on 2 cores). With
``--sequential`` it also times both with one process. No assertion: figures only.

    .venv/bin/python benchmarks/bench_reports.py [--n 100] [--jobs 2] [--sequential]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEME = "district_1000"


def _baseline_one(args: tuple[str, str, dict, str]) -> float:
    """One page the naive way: papermill with a fresh kernel, a fresh exporter."""
    import nbformat
    import papermill

    from assesskit.report.html import export_html, make_exporter

    template, out_nb, params, cwd = args
    t0 = time.perf_counter()
    papermill.execute_notebook(
        template,
        out_nb,
        parameters=params,
        kernel_name="python3",
        progress_bar=False,
        cwd=cwd,
        log_output=False,
    )
    html = export_html(make_exporter(), nbformat.read(out_nb, as_version=4), title=out_nb, synthetic=True)
    Path(out_nb).with_suffix(".html").write_text(html, encoding="utf-8")
    return time.perf_counter() - t0


def baseline(pages: list[tuple[str, int]], files: dict[str, str], out: Path, jobs: int) -> float:
    template = str(ROOT / "notebooks" / "unit_report.ipynb")
    tasks = [
        (template, str(out / f"{y}-{u}.ipynb"), {"scheme": SCHEME, **files, "unit": u, "year": y}, str(ROOT))
        for u, y in pages
    ]
    t0 = time.perf_counter()
    if jobs == 1:
        for t in tasks:
            _baseline_one(t)
    else:
        with cf.ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_baseline_one, tasks))
    return time.perf_counter() - t0


def runner(pages: list[tuple[str, int]], files: dict[str, str], out: Path, jobs: int) -> float:
    from assesskit.report import RunSpec, run_report

    years = sorted({y for _u, y in pages})
    units = sorted({u for u, _y in pages})
    spec = RunSpec.model_validate(
        {
            "name": "bench",
            "out": str(out),
            "schemes": [{"scheme": SCHEME, **files, "years": years, "units_only": units, "overview": False}],
        }
    )
    t0 = time.perf_counter()
    res = run_report(spec, jobs=jobs, force=True, progress=False, base=ROOT)
    dt = time.perf_counter() - t0
    if not res.ok or res.n_built != len(pages):
        sys.exit(f"runner: {res.n_failed} failed, {res.n_built} built: {res.failures[:3]}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="unit reports per method (default 100)")
    ap.add_argument("--jobs", type=int, default=2, help="processes for both methods (default 2)")
    ap.add_argument("--sequential", action="store_true", help="also time both with one process")
    args = ap.parse_args()

    from assesskit.datasets.demo import FILE_NAMES, write_demo_data

    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        tmp = Path(tmp)
        data = write_demo_data(tmp / "data", seed=0, schemes=[SCHEME]) / SCHEME
        files = {r: str(data / n) for r, n in FILE_NAMES.items() if r != "truth" and (data / n).exists()}
        import pandas as pd

        from assesskit import load_scheme, score

        s = score(load_scheme(SCHEME), **files).summary
        pages = list(zip(s["unit"].astype(str), s["year"].astype(int)))[: args.n]
        print(
            f"{len(pages)} unit reports of {SCHEME} ({s['unit'].nunique()} units × {s['year'].nunique()} years), "
            f"{os.cpu_count()} CPUs, pandas {pd.__version__}"
        )
        modes = [args.jobs] + ([1] if args.sequential and args.jobs != 1 else [])
        for jobs in modes:
            (tmp / f"base{jobs}").mkdir()
            t_base = baseline(pages, files, tmp / f"base{jobs}", jobs)
            t_run = runner(pages, files, tmp / f"run{jobs}", jobs)
            print(f"\n-j {jobs}")
            print(
                f"  fresh papermill kernel per notebook: {t_base:7.1f} s  ({t_base / len(pages):.2f} s/report)"
            )
            print(
                f"  runner (warm kernels, reused exporter): {t_run:7.1f} s  ({t_run / len(pages):.2f} s/report)"
            )
            print(f"  ratio: {t_base / t_run:.1f}×  (goal ≥ 4×)")


if __name__ == "__main__":
    main()
