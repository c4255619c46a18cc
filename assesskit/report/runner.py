"""The report runner: plan the pages of a run, build what changed, write index and manifest.

Layout of ``reports/<run>/`` (``<scheme>/`` only when the run has several schemes, since
their years and unit ids may overlap)::

    index.html                     units × years per scheme: totals, ranks, awards, links, failures
    manifest.json                  parameters, hashes, package versions, seed, timings, status of each page
    [<scheme>/]<year>/<unit>.html  unit report (+ <unit>.ipynb, the executed notebook)
    [<scheme>/]<year>/overview.html
    [<scheme>/]<year>/compare-<id>.html

The steps, each in its own module:

- :mod:`~assesskit.report.templates` — the spec's templates are checked when it is loaded;
- :mod:`~assesskit.report.plan` — every entry is loaded, validated and scored, and each page
  gets a key derived from what its template declares it reads (:mod:`~assesskit.report.keys`);
- :mod:`~assesskit.report.lock` — one run per output folder at a time;
- :mod:`~assesskit.report.execute` — the pages whose key, status or files changed are built
  in warm kernels (Ctrl-C stops promptly);
- :mod:`~assesskit.report.manifest` — each finished page is checkpointed; the index and the
  manifest are written at the end, atomically, also after Ctrl-C or a write error.

A page whose key, status and files are unchanged is skipped; ``force`` rebuilds everything.
Failed pages are always retried.
"""

from __future__ import annotations

import os
import signal
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from .._io import check_output_dir, sha256, write_outputs
from .._version import __version__
from ..exceptions import AssessKitError, ReportError
from ..i18n import check_lang
from .execute import JobResult, Outcome
from .index import index_pages, stale_index_pages
from .keys import code_files, code_sha256
from .lock import RunLock
from .manifest import Journal, page_entry, pages_frame, read_previous
from .plan import Job, plan_run
from .provenance import versions
from .spec import RunSpec, SchemeRun, load_run_spec
from .templates import NOTEBOOKS, TEMPLATE_FILES, Template, check_templates

__all__ = [
    "Job",
    "JobResult",
    "ReportInterrupted",
    "RunResult",
    "code_files",
    "code_sha256",
    "demo_spec",
    "plan_run",
    "run_report",
]
_ = (NOTEBOOKS, TEMPLATE_FILES)  # kept importable from here (used by benchmarks and tests)


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_report` did.

    Attributes
    ----------
    out_dir : Path
    index, manifest : Path
    pages : DataFrame
        One row per page: ``page``, ``kind``, ``scheme``, ``year``, ``unit``, ``status``
        (``ok``/``failed``), ``rebuilt`` (bool), ``seconds``, ``error``. After Ctrl-C, the
        pages that did not finish are not listed.
    seconds : float
        Wall time of the run.
    warnings : tuple of str
        Problems that did not stop the run (e.g. no CJK font: English labels).
    interrupted : bool
        The run was stopped by Ctrl-C (``run_report`` then raises :class:`ReportInterrupted`).
    """

    out_dir: Path
    index: Path
    manifest: Path
    pages: pd.DataFrame
    seconds: float
    warnings: tuple[str, ...] = ()
    interrupted: bool = False

    @property
    def n_built(self) -> int:
        return int(self.pages["rebuilt"].sum())

    @property
    def n_failed(self) -> int:
        return int((self.pages["status"] == "failed").sum())

    @property
    def ok(self) -> bool:
        return self.n_failed == 0 and not self.interrupted

    @property
    def failures(self) -> list[str]:
        f = self.pages[self.pages["status"] == "failed"]
        return [str(e) for e in f["error"]]


class ReportInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a report run; the finished pages, the index and the manifest are written.

    Attributes
    ----------
    result : RunResult
        What was built before the interruption (``result.interrupted`` is True).
    exit_code : int
        130, the shell's status for a command ended by SIGINT.
    """

    exit_code = 130

    def __init__(self, result: RunResult) -> None:
        super().__init__(f"interrupted: {result.n_built} pages built and recorded in {result.manifest}")
        self.result = result

    def __reduce__(self):
        return (type(self), (self.result,))


# --------------------------------------------------------------------------- before any work
def _load(spec: str | os.PathLike | RunSpec, base: Path) -> tuple[RunSpec, Path | None, dict[str, Template]]:
    if isinstance(spec, RunSpec):
        return spec, None, check_templates(dict(spec.templates), base)
    path = Path(spec)
    loaded = load_run_spec(path, base=base)  # checks the templates too
    return loaded, path, check_templates(dict(loaded.templates), base, where=str(path))


def _write_demo(spec: RunSpec, base: Path) -> None:
    if spec.demo is None:
        return
    from ..datasets.demo import write_demo_data

    demo_out = Path(spec.demo.out)
    ids = [Path(e.scheme).stem for e in spec.schemes if e.data is None]
    write_demo_data(demo_out if demo_out.is_absolute() else base / demo_out, seed=spec.demo.seed, schemes=ids)


def _font() -> tuple[str | None, list[str]]:
    from ..plotting import setup_cjk_font

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        cjk_font = setup_cjk_font()
    if cjk_font is not None:
        return cjk_font, []
    return None, [
        "no CJK font found (install Debian's fonts-wqy-microhei, or set ASSESSKIT_CJK_FONT): "
        "the figures use English labels and unit ids"
    ]


def _stamp(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


# --------------------------------------------------------------------------- the run
def _other_versions(out_dir: Path) -> str | None:
    """Why the previous pages cannot be kept (built with other package versions), or None."""
    from .cluster import VERSION_KEYS
    from .manifest import read_manifest

    before = read_manifest(out_dir / "manifest.json").get("packages")
    if not isinstance(before, dict):
        return None
    now = versions()
    diff = [f"{k} {before.get(k)} → {now.get(k)}" for k in VERSION_KEYS if before.get(k) != now.get(k)]
    if not diff:
        return None
    return f"the previous pages were built with other versions ({', '.join(diff)}): every page is rebuilt"


def _split(jobs: list[Job], previous: dict[str, dict], out_dir: Path) -> tuple[list[Job], dict[str, dict]]:
    """The jobs to build, and the pages kept as they are (same key, ok, files present)."""
    todo, kept = [], {}
    for j in jobs:
        p = previous.get(j.page)
        if (
            p
            and p.get("key") == j.key
            and p.get("status") == "ok"
            and (out_dir / j.page).exists()
            and (out_dir / j.notebook).exists()
        ):
            kept[j.page] = {**p, "rebuilt": False}
        else:
            todo.append(j)
    return todo, kept


def _remove_obsolete(out_dir: Path, previous: dict[str, dict], jobs: list[Job]) -> None:
    """Remove the pages of an earlier run that this run no longer has."""
    current = {j.page for j in jobs}
    root = out_dir.resolve()
    for page in set(previous) - current:
        target = (out_dir / page).resolve()
        if root in target.parents:
            _remove(target)
            _remove(target.with_suffix(".ipynb"))


class _Recorder:
    """Records each finished page: checks its inputs did not change, checkpoints it."""

    def __init__(self, jobs: list[Job], journal: Journal) -> None:
        self.stamps = {f: _stamp(f) for j in jobs for f in j.files}
        self.journal = journal
        self.pages: dict[str, dict] = {}
        self.warnings: list[str] = []

    def __call__(self, job: Job, result: JobResult) -> None:
        if result.status == "interrupted":
            return
        changed = [f for f in job.files if _stamp(f) != self.stamps.get(f)]
        key = job.key
        if changed:  # built from inputs other than planned: record it so that it is rebuilt
            key = None
            self.warnings.append(
                f"{job.page}: {', '.join(changed)} changed while the page was built; it will be rebuilt next run"
            )
        built_at = datetime.now(UTC).isoformat(timespec="seconds")
        entry = page_entry(job, result, built_at, key)
        self.pages[job.page] = entry
        self.journal.append(entry)


def _manifest(spec, spec_path, entries, templates, pages, info: dict) -> dict:
    execution = info.pop("execution", {})
    return {
        "run": spec.name,
        "title": spec.title,
        "spec": {
            "path": str(spec_path) if spec_path else None,
            "sha256": sha256(spec_path) if spec_path else None,
            "parameters": spec.model_dump(mode="json"),
        },
        "seed": spec.seed,
        "synthetic": any(e.synthetic for e in entries),
        "cjk_font": info.pop("cjk_font"),
        "warnings": info.pop("warnings"),
        "interrupted": info.pop("interrupted"),
        "assesskit": __version__,
        "code_sha256": code_sha256(),
        "packages": versions(),
        "templates": {
            k: {"path": str(t.path), "sha256": t.sha256, "inputs": list(t.inputs), "declared": t.declared}
            for k, t in templates.items()
        },
        "schemes": {
            e.key: {
                "scheme": {"path": str(e.scheme_path), "sha256": e.scheme_sha},
                "inputs": {r: {"path": str(p), "sha256": sha256(p)} for r, p in e.files.items()},
                "sensitivity_spec": {"path": str(e.sensitivity_spec), "sha256": e.hashes.sensitivity_spec},
                "years": e.years,
                "synthetic": e.synthetic,
                "folder": e.folder or ".",
            }
            for e in entries
        },
        "timing": info,
        "kernel": spec.kernel.model_dump(),
        "execution": execution,
        "pages": pages,
    }


def _finish(rec: _Recorder, kept: dict, all_jobs: list[Job]) -> tuple[dict, list]:
    """The pages of the manifest (kept, built, in plan order) and the failure messages."""
    pages = {j.page: kept.get(j.page) or rec.pages.get(j.page) for j in all_jobs}
    pages = {k: v for k, v in pages.items() if v is not None}  # after Ctrl-C: only finished pages
    failures = [p["error"]["message"] for p in pages.values() if p["status"] == "failed"]
    return pages, failures


def _write_record(out_dir: Path, index: dict[str, str], manifest: dict) -> None:
    """The index page(s) and the manifest, atomically; then part pages of an earlier, larger run go."""
    try:
        write_outputs(out_dir, {**index, "manifest.json": manifest})
        for old in stale_index_pages(out_dir, list(index)):
            old.unlink(missing_ok=True)
    except (OSError, AssessKitError) as exc:
        why = exc.strerror or exc if isinstance(exc, OSError) else exc.message
        raise ReportError(
            f"{out_dir}: cannot write index.html and manifest.json ({why}); "
            "the pages built so far are kept and recorded in .manifest-journal.jsonl, so the next run "
            "builds only what is missing"
        ) from None


def _record(spec, spec_path, entries, templates, out_dir, rec, kept, all_jobs, outcome, run: dict) -> dict:
    """Write index.html and manifest.json (atomically) for the pages kept and built; the pages."""
    pages, failures = _finish(rec, kept, all_jobs)
    now = time.perf_counter()
    info = {
        "cjk_font": run["cjk_font"],
        "warnings": run["warnings"] + rec.warnings,
        "interrupted": outcome.interrupted,
        "started": run["started"],
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(now - run["t_start"], 2),
        "execution_seconds": round(now - run["t_exec"], 2),
        "jobs": outcome.n_jobs,
        "pages": len(pages),
        "rebuilt": len(rec.pages),
        "skipped": len(kept),
        "failed": len(failures),
        "execution": outcome.execution,
    }
    note = " (interrupted: the others were not built)" if outcome.interrupted else ""
    index = index_pages(spec, entries, pages, failures, note)  # one grid, or split at national scale
    rec.journal.close(remove=False)
    _write_record(out_dir, index, _manifest(spec, spec_path, entries, templates, pages, info))
    rec.journal.close(remove=True)  # the manifest now holds every finished page
    return pages


def run_report(
    spec: str | os.PathLike | RunSpec,
    *,
    jobs: int | None = None,
    force: bool = False,
    out: str | os.PathLike | None = None,
    progress: bool = True,
    base: str | os.PathLike | None = None,
    scheduler: str | None = None,
    lang: str | None = None,
) -> RunResult:
    """Build a run's reports: every (unit, year) page, every overview and comparison.

    Parameters
    ----------
    spec : path or RunSpec
        ``params/runs/NAME.yaml`` or an already validated spec.
    jobs : int, optional
        Worker processes, each with its own warm kernel (default: the spec's ``jobs``, else
        the number of CPUs).
    force : bool
        Rebuild every page, even those whose inputs did not change.
    out : path, optional
        Output folder (default: the spec's ``out``, else ``reports/<name>``).
    progress : bool
        Show a progress bar (tqdm, on standard error).
    base : path, optional
        Folder relative paths are taken from (default: the current directory).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``) to build the pages on
        (default: the spec's ``scheduler``, else a local cluster of ``jobs`` worker
        processes started for the run). The workers need no access to the client's files.
    lang : {"zh", "en", "bilingual"}, optional
        Language of the pages, the index and the overviews (default: the spec's ``lang``).

    Returns
    -------
    RunResult
        ``.ok`` is False when a page failed; ``.failures`` names unit, year, cell and error.

    Raises
    ------
    ReportError
        When the spec, a template, the output folder or an input is invalid (nothing is
        built then), when another run holds the output folder, or when a file cannot be
        written (the finished pages are kept and recorded).
    ReportInterrupted
        On Ctrl-C, after writing the index and manifest of the finished pages.
    """
    t_start = time.perf_counter()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    base_dir = Path(base or Path.cwd()).resolve()
    spec, spec_path, templates = _load(spec, base_dir)
    if lang is not None:  # the flag wins over the spec; the manifest still names the spec file
        spec = spec.model_copy(update={"lang": check_lang(lang)})
    out_dir = Path(out) if out is not None else spec.out_dir
    out_dir = out_dir if out_dir.is_absolute() else base_dir / out_dir
    check_output_dir(out_dir)  # before any work: not a file, not below one
    cjk_font, run_warnings = _font()
    n_jobs = jobs or spec.jobs or os.cpu_count() or 1
    address = scheduler or spec.scheduler
    if not address:  # a local cluster: its fork server imports the workers' modules meanwhile
        from . import forkserver

        forkserver.start()
    with RunLock(out_dir):
        # the lock comes first: a second run on this folder must not rewrite the demo data
        # or hash the inputs while this run's pages read them
        _write_demo(spec, base_dir)
        entries, all_jobs = plan_run(spec, base_dir, templates)
        previous = read_previous(out_dir)
        stale = _other_versions(out_dir)
        if stale:
            run_warnings = [*run_warnings, stale]
        todo, kept = _split(all_jobs, {} if force or stale else previous, out_dir)
        _remove_obsolete(out_dir, previous, all_jobs)
        journal = Journal(out_dir)
        rec = _Recorder(todo, journal)
        t_exec = time.perf_counter()
        try:
            outcome = _execute(todo, out_dir, base_dir, spec, n_jobs, progress, rec, address)
        except AssessKitError:
            journal.close(remove=False)
            raise
        try:
            run = {
                "started": started,
                "t_start": t_start,
                "t_exec": t_exec,
                "cjk_font": cjk_font,
                "warnings": run_warnings,
            }
            pages = _record(spec, spec_path, entries, templates, out_dir, rec, kept, all_jobs, outcome, run)
        finally:
            if outcome.sigint is not None:
                signal.signal(signal.SIGINT, outcome.sigint)
    if outcome.io_error is not None:
        n_ok = sum(p["status"] == "ok" for p in rec.pages.values())
        raise ReportError(
            f"{outcome.io_error}; the run stopped ({n_ok} pages built before it are kept and recorded)"
        )
    result = RunResult(
        out_dir=out_dir,
        index=out_dir / "index.html",
        manifest=out_dir / "manifest.json",
        pages=pages_frame(pages),
        seconds=round(time.perf_counter() - t_start, 2),
        warnings=tuple(run_warnings + rec.warnings),
        interrupted=outcome.interrupted,
    )
    if outcome.interrupted:
        raise ReportInterrupted(result)
    return result


def execute_jobs(*args, **kwargs) -> Outcome:
    """Build the pages on Dask (:func:`assesskit.report.cluster.execute_jobs`; imported when a
    run has pages to build, as importing Dask takes a moment)."""
    from .cluster import execute_jobs as run

    return run(*args, **kwargs)


def _execute(
    todo: list[Job],
    out_dir: Path,
    base: Path,
    spec: RunSpec,
    n_jobs: int,
    progress: bool,
    rec: _Recorder,
    scheduler: str | None = None,
) -> Outcome:
    from .cluster import Progress

    where = f" on {scheduler}" if scheduler else ""
    bar = Progress(len(todo), f"{spec.name}: pages{where}", enabled=progress)

    def on_result(job: Job, r: JobResult) -> None:
        rec(job, r)
        if r.status == "failed":
            bar.write(f"FAILED {r.error['message']}")

    try:
        return execute_jobs(
            todo,
            out_dir,
            base,
            kernel=spec.kernel.model_dump(),
            code=spec.code,
            n_jobs=n_jobs,
            on_result=on_result,
            scheduler=scheduler,
            progress=bar.update,
        )
    finally:
        bar.close()


def demo_spec(
    out: str | os.PathLike = "reports/demo", seed: int = 0, data_dir: str | os.PathLike | None = None
) -> RunSpec:
    """The demo run: ``params/runs/demo.yaml`` for every bundled scheme with demo data.

    Each bundled scheme the demo generator covers gets the demo spec's entry (or
    ``years: 2`` when the spec does not list it); the data come from ``data_dir`` (default
    ``<out>/data``, written by :func:`assesskit.datasets.demo.write_demo_data`).
    """
    from ..datasets.demo import FILE_NAMES, YEARS
    from ..scheme import bundled_schemes, schemes_dir

    path = schemes_dir().parent / "runs" / "demo.yaml"
    base = (
        load_run_spec(path)
        if path.exists()
        else RunSpec(name="demo", schemes=[SchemeRun(scheme="x", data="x")])
    )
    listed = {Path(e.scheme).stem: e for e in base.schemes}
    data = Path(data_dir) if data_dir is not None else Path(out) / "data"
    entries = []
    for sid in (p.stem for p in bundled_schemes()):
        if sid not in YEARS:
            continue
        e = listed.get(sid) or SchemeRun(scheme=sid, years=2)
        files = {
            r: data / sid / n for r, n in FILE_NAMES.items() if r != "truth" and (data / sid / n).exists()
        }
        entries.append(e.model_copy(update={r: p.as_posix() for r, p in files.items()}))
    return base.model_copy(update={"schemes": entries, "out": str(out), "seed": seed, "demo": None})
