"""Report pages per second on Dask (1 and 2 local workers) against the previous runner.

In the same run, on the same pages (district_1000's synthetic demo panel, the
``notebooks/unit_report.ipynb`` template, ``--n`` unit pages):

- **pool**: the runner as it was before Dask — its home-made process pool of warm kernels
  (``assesskit/report/execute.py`` of commit ``6db72dc``, loaded from git, only here);
- **dask**: :func:`assesskit.report.run_report`, a ``LocalCluster`` of ``-j`` workers started
  for the run (its start-up is included, and also printed alone);
- **idle**: the CPU a 2-worker local cluster uses doing nothing for 15 s, with Dask's default
  housekeeping (event-loop checks, resource and memory polls, the profiler) and with
  :func:`~assesskit.report.cluster.local_cluster`'s settings;
- **overhead**: the per-task cost of going through the scheduler (``--tasks`` no-op tasks
  on a 2-worker local cluster), per page with a template that only prints (pool vs
  dask), which leaves the scheduler, the shipping of inputs and of the page's bytes, and
  per sensitivity draw (2,048 draws of 3,000 units with ``bench_sensitivity.py``'s scheme
  and factors, in the process against 1 and 2 local workers, the results compared).

Each measurement is one report run in a **fresh Python process**, as ``assesskit report``
runs: a run in a process where an earlier run already imported papermill, nbconvert and the
kernel's modules (and, for the pool, forks its workers from that process) would be measured
without costs a user's run pays. The two runners alternate, ``--repeat`` times each, and
the median is printed with the spread.

Then a projection of the time for 41,000 town pages on 8, 32 and 128 worker cores:
``start-up + pages × (seconds per page on one worker) / cores``, the scheduler's per-task
cost added serially (it is one process). No assertion: figures only.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_cluster.py [--n 20] [--tasks 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess as sp
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEME = "district_1000"
OLD_COMMIT = "6db72dc"
TOWNS = 41_000
IDLE_SECONDS = 15.0
DRAW_UNITS, DRAWS = 3000, 2048


def _old_pool():
    """The previous runner's execute module (a process pool of warm kernels), from git."""
    src = sp.run(
        ["git", "show", f"{OLD_COMMIT}:assesskit/report/execute.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    name = "assesskit.report._execute_before_dask"
    spec = importlib.util.spec_from_loader(name, loader=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "assesskit.report"
    sys.modules[name] = mod
    exec(compile(src, f"{OLD_COMMIT}:execute.py", "exec"), mod.__dict__)  # noqa: S102 - our own code
    return mod


def _spec(files: dict, pages: list, out: Path, template: str | None = None):
    from assesskit.report import RunSpec

    years = sorted({y for _u, y in pages})
    units = sorted({u for u, _y in pages})
    raw = {
        "name": "bench",
        "out": str(out),
        "schemes": [{"scheme": SCHEME, **files, "years": years, "units_only": units, "overview": False}],
    }
    if template:
        raw["templates"] = {"unit": template}
    return RunSpec.model_validate(raw)


def timed_run(spec, jobs: int, mode: str) -> tuple[float, dict, int]:
    """Wall time, the cluster's fixed costs (dask only: start-up, version check, close), pages built."""
    import json

    import assesskit.report.runner as runner

    real = runner.execute_jobs
    if mode == "pool":
        old = _old_pool()

        def pool(todo, out_dir, base, *, kernel, code, n_jobs, on_result, **_ignored):
            outcome = old.execute_jobs(
                todo, out_dir, base, kernel=kernel, code=code, n_jobs=n_jobs, on_result=on_result
            )
            outcome.execution = {}
            return outcome

        runner.execute_jobs = pool
    try:
        t0 = time.perf_counter()
        res = runner.run_report(spec, jobs=jobs, force=True, progress=False, base=ROOT)
        dt = time.perf_counter() - t0
    finally:
        runner.execute_jobs = real
    if not res.ok:
        sys.exit(f"{mode}: {res.n_failed} failed: {res.failures[:3]}")
    m = json.loads(res.manifest.read_text(encoding="utf-8"))
    e = m.get("execution", {})
    fixed = {k: e[k] for k in ("startup_seconds", "check_seconds", "close_seconds") if k in e}
    return dt, fixed, res.n_built


def noop_overhead(n_tasks: int) -> tuple[float, float]:
    """(start-up of a 2-worker LocalCluster, seconds per no-op task through its scheduler)."""
    from distributed import Client, as_completed

    from assesskit.report.cluster import local_cluster

    t0 = time.perf_counter()
    cluster = local_cluster(2)
    client = Client(cluster)
    startup = time.perf_counter() - t0
    try:
        client.submit(int, 0, pure=False).result()  # warm
        t0 = time.perf_counter()
        futs = [client.submit(int, i, pure=False) for i in range(n_tasks)]
        for _f in as_completed(futs):
            pass
        return startup, (time.perf_counter() - t0) / n_tasks
    finally:
        client.close()
        cluster.close()


def idle_cpu(seconds: float, dask_defaults: bool) -> float:
    """CPU seconds a 2-worker local cluster (client, scheduler, nannies, workers) uses while idle.

    ``dask_defaults`` undoes :func:`~assesskit.report.cluster.local_cluster`'s housekeeping
    settings (its clocks and the profiler), to show what they save.
    """
    import psutil
    from distributed import Client

    from assesskit.report import cluster

    if dask_defaults:
        cluster._HOUSEKEEPING = {}
    lc = cluster.local_cluster(2)
    client = Client(lc)
    try:
        client.submit(int, 0, pure=False).result()
        time.sleep(1.0)
        me = psutil.Process()
        procs = [me, *me.children(recursive=True)]
        t0 = [sum(p.cpu_times()[:2]) for p in procs]
        time.sleep(seconds)
        return sum(sum(p.cpu_times()[:2]) - t for p, t in zip(procs, t0))
    finally:
        client.close()
        lc.close()


def draw_overhead(units: int, draws: int) -> dict[str, float]:
    """Seconds for ``draws`` sensitivity draws of ``units`` units: in this process, and as
    Dask tasks on a local cluster of 1 and of 2 workers (started and warmed up first)."""
    import numpy as np
    from bench_sensitivity import SPEC, bench_scheme
    from distributed import Client
    from synthetic import random_panel

    from assesskit.data import Panel
    from assesskit.report.cluster import local_cluster
    from assesskit.sensitivity import baseline, parse_spec, simulate

    scheme = bench_scheme()
    data, targets = random_panel(scheme, units, 2, seed=1, kind="town")
    base = baseline(scheme, Panel(data, targets), year=2021)
    spec = parse_spec(SPEC, "bench", scheme)
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    local = simulate(base, spec, draws=draws, seed=0, kendall=False)
    out["local"] = time.perf_counter() - t0
    for n in (1, 2):
        cluster = local_cluster(n)
        client = Client(cluster)
        try:
            simulate(base, spec, draws=64, seed=0, kendall=False, client=client)  # imports on the workers
            t0 = time.perf_counter()
            sim = simulate(base, spec, draws=draws, seed=0, kendall=False, client=client)
            out[f"dask{n}"] = time.perf_counter() - t0
        finally:
            client.close()
            cluster.close()
        if not np.array_equal(sim.ranks, local.ranks, equal_nan=True):
            sys.exit("the draws on the cluster differ from the local ones")
    return out


def _child(mode: str, jobs: int, spec_file: str) -> None:
    """One measurement in this (fresh) process; prints it as JSON on the last line."""
    import json

    if mode == "idle":  # jobs: 1 = Dask's default housekeeping, 0 = the local cluster's
        print(json.dumps({"seconds": idle_cpu(float(spec_file), dask_defaults=bool(jobs))}))
        return
    from assesskit.report import RunSpec

    spec = RunSpec.model_validate(json.loads(Path(spec_file).read_text(encoding="utf-8")))
    dt, fixed, n = timed_run(spec, jobs, mode)
    print(json.dumps({"seconds": dt, "fixed": fixed, "n": n}))


def _in_fresh_process(mode: str, jobs: int, arg: str) -> dict:
    """``_child(mode, jobs, arg)`` in a fresh interpreter; its JSON result."""
    import json

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    cmd = [sys.executable, __file__, "--child", mode, str(jobs), arg]
    out = sp.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{mode} -j {jobs} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(mode: str, jobs: int, spec, spec_file: Path) -> tuple[float, dict, int]:
    """Run one report measurement in a fresh interpreter (see the module's docstring)."""
    import json

    spec_file.write_text(json.dumps(spec.model_dump(mode="json")), encoding="utf-8")
    r = _in_fresh_process(mode, jobs, str(spec_file))
    return r["seconds"], r["fixed"], r["n"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="unit pages per measurement (default 20)")
    ap.add_argument("--tasks", type=int, default=200, help="no-op tasks for the scheduler overhead")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each runner per measurement (default 3)")
    ap.add_argument("--child", nargs=3, metavar=("MODE", "JOBS", "SPEC"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, jobs, spec_file = args.child
        _child(mode, int(jobs), spec_file)
        return

    import statistics

    from assesskit import load_scheme, score
    from assesskit.datasets.demo import FILE_NAMES, write_demo_data
    from tests.test_report import thin_template

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        tmp = Path(tmp)
        data = write_demo_data(tmp / "data", seed=0, schemes=[SCHEME]) / SCHEME
        files = {r: str(data / n) for r, n in FILE_NAMES.items() if r != "truth" and (data / n).exists()}
        s = score(load_scheme(SCHEME), **files).summary
        pages = list(zip(s["unit"].astype(str), s["year"].astype(int)))[: args.n]
        thin = str(thin_template(tmp / "thin.ipynb", "print(unit, year)"))
        print(
            f"{len(pages)} unit pages of {SCHEME}; each figure the median of {args.repeat} runs in fresh processes\n"
        )
        per_page, walls = {}, {}
        for label, template in (("unit_report", None), ("thin (print only)", thin)):
            print(label)
            for jobs in (1, 2):
                runs: dict[str, list] = {"pool": [], "dask": []}
                for r in range(args.repeat):  # alternate the order, so neither runner always goes first
                    for mode in ("pool", "dask") if r % 2 == 0 else ("dask", "pool"):
                        spec = _spec(files, pages, tmp / f"{mode}{jobs}{bool(template)}", template)
                        runs[mode].append(measure(mode, jobs, spec, tmp / "spec.json"))
                for mode in ("pool", "dask"):
                    dts = [dt for dt, _f, _n in runs[mode]]
                    dt = statistics.median(dts)
                    n = runs[mode][0][2]
                    fixed = {
                        k: statistics.median(f.get(k, 0.0) for _d, f, _n in runs[mode])
                        for k in runs[mode][0][1]
                    }
                    steady = dt - sum(fixed.values())  # without the cluster's start-up, check and close
                    per_page[(label, mode, jobs)] = steady / n
                    walls[(label, mode, jobs)] = dt
                    extra = ", ".join(f"{k.removesuffix('_seconds')} {v:.1f} s" for k, v in fixed.items())
                    print(
                        f"  {mode:4} -j {jobs}: {dt:6.1f} s ({min(dts):.1f}–{max(dts):.1f}), {n / dt:5.2f} pages/s"
                        + (f" ({n / steady:.2f} pages/s without the cluster's {extra})" if fixed else "")
                    )
                ratio = walls[(label, "dask", jobs)] / walls[(label, "pool", jobs)]
                print(f"  dask / pool at -j {jobs}: {ratio:.2f}")
        idle = {d: _in_fresh_process("idle", int(d), str(IDLE_SECONDS))["seconds"] for d in (True, False)}
        print(
            f"\nidle LocalCluster(2), CPU of all its processes over {IDLE_SECONDS:.0f} s: "
            f"{idle[True]:.2f} s with Dask's default housekeeping, {idle[False]:.2f} s with local_cluster's"
        )
        startup, per_task = noop_overhead(args.tasks)
        print(
            f"LocalCluster(2) start-up: {startup:.2f} s; scheduler round trip per no-op task: {per_task * 1e3:.1f} ms"
        )
        d = draw_overhead(DRAW_UNITS, DRAWS)
        print(
            f"sensitivity, {DRAWS:,} draws × {DRAW_UNITS:,} units (bench_sensitivity's scheme and factors): "
            f"{d['local']:.1f} s in the process, {d['dask1']:.1f} s on 1 Dask worker, {d['dask2']:.1f} s on 2; "
            f"overhead of the scheduler per draw {(d['dask1'] - d['local']) / DRAWS * 1e3:.2f} ms "
            f"(1 worker against the process; results identical)"
        )
        thin_gap = per_page[("thin (print only)", "dask", 1)] - per_page[("thin (print only)", "pool", 1)]
        print(f"per-page overhead of the Dask path over the pool (thin pages, -j 1): {thin_gap * 1e3:.0f} ms")
        one = per_page[
            ("unit_report", "dask", 1)
        ]  # seconds per page on one worker (its kernel start included)
        print(f"\nprojection for {TOWNS:,} town pages at {one:.2f} s per page per worker core:")
        for cores in (8, 32, 128):
            hours = (startup + TOWNS * one / cores + TOWNS * per_task) / 3600
            print(f"  {cores:4} cores: {hours:5.2f} h")


if __name__ == "__main__":
    main()
