"""Executing a run's notebooks: warm kernels in worker processes, notebooks off the main thread.

Signals stay in the runner's hands. nbclient adds its own SIGINT handler while a notebook
runs (it shuts the kernel down, so an interrupted page used to be recorded as "Kernel
died") and resets SIGINT to Python's default afterwards; it does so only on the main
thread. So notebooks are executed on a dedicated thread — in the runner's process with one
job, in each worker process with several — and the main thread alone handles Ctrl-C:
worker processes ignore SIGINT, and on Ctrl-C the runner stops scheduling, interrupts or
ends what is running, and hands back the pages that finished. Kernels run in their own
session, so a terminal's Ctrl-C does not reach them either.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import write_outputs
from ..exceptions import AssessKitError
from .plan import Job

__all__ = ["JobResult", "execute_jobs"]

_WORKER: dict[str, Any] = {}
_STOP = threading.Event()  # set by the runner's main thread on Ctrl-C (one-job mode)


@dataclass(frozen=True)
class JobResult:
    """What executing one page gave: ``status`` ok | failed | interrupted."""

    page: str
    status: str
    seconds: float
    error: dict[str, Any] | None = None
    stderr: tuple[str, ...] = ()
    io_error: str | None = None  # the page's files could not be written (disk full, …)


@dataclass
class Outcome:
    """What :func:`execute_jobs` did: results of finished pages, and why it stopped early."""

    results: dict[str, JobResult]
    interrupted: bool = False
    io_error: str | None = None
    n_jobs: int = 0
    sigint: Any = None  # the SIGINT handler to restore once the record is written


# --------------------------------------------------------------------------- worker side
def _worker_init(base: str, kernel: dict[str, Any], code: str, in_process: bool = False) -> None:
    """Set up a worker: a kernel session (started lazily), one HTML exporter, one thread."""
    from .html import make_exporter
    from .kernel import KernelSession

    if not in_process:  # only the runner's main thread handles Ctrl-C
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STOP.clear()
    _WORKER.clear()
    _WORKER.update(
        session=KernelSession(base, timeout=kernel["timeout"], startup_timeout=kernel["startup_timeout"]),
        exporter=make_exporter(code),
        kernel=kernel,
        thread=cf.ThreadPoolExecutor(1, thread_name_prefix="assesskit-notebook"),
    )
    if mp.parent_process() is not None:  # a worker process: shut its kernel down when it exits
        mp.util.Finalize(None, _worker_close, exitpriority=10)


def _worker_close() -> None:
    s, t = _WORKER.get("session"), _WORKER.get("thread")
    if t is not None and s is not None:
        t.submit(s.shutdown).result()  # on the thread whose event loop the kernel client uses
        t.shutdown(wait=True)
    _WORKER.clear()


def _failing_cell(nb) -> tuple[int | None, str]:
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", [])):
            first = next((ln for ln in c.source.splitlines() if ln.strip()), "")
            return i + 1, first.strip()[:80]
    return None, ""


def _stderr(nb) -> tuple[str, ...]:
    return tuple(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stderr"
    )


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _parameterize(job: Job):
    import nbformat
    from papermill.parameterize import parameterize_notebook

    nb = nbformat.read(job.template, as_version=4)
    nb.metadata.setdefault("papermill", {})
    for c in nb.cells:
        c.metadata.setdefault("tags", [])
    nb = parameterize_notebook(nb, job.parameters, kernel_name="python3", language="python")
    for c in nb.cells:
        if "injected-parameters" in c.metadata.get("tags", []):
            c.id = "injected-parameters"
    meta = dict(nb.metadata.get("assesskit", {}))
    nb.metadata["assesskit"] = {**meta, "page": job.page, "key": job.key, "parameters": job.parameters}
    return nb


def _execute_notebook(job: Job) -> tuple[Any, dict[str, Any] | None]:
    """Run the parameterized notebook in the worker's kernel: (notebook, error or None)."""
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from .kernel import KernelError

    w = _WORKER
    opts = w["kernel"]
    nb = nbformat.v4.new_notebook()
    try:
        nb = _parameterize(job)
        w["session"].prepare(reuse=opts["reuse"], restart_every=opts["restart_every"])
        return w["session"].execute(nb), None
    except CellExecutionError as exc:
        cell, first = _failing_cell(nb)
        return nb, {"cell": cell, "source": first, "ename": exc.ename, "evalue": exc.evalue}
    except (CellTimeoutError, DeadKernelError, KernelError, RuntimeError, TimeoutError) as exc:
        cell, first = _failing_cell(nb)
        w["session"].shutdown()  # the kernel may be stuck or dead: the next notebook gets a fresh one
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return nb, {"cell": cell, "source": first, "ename": type(exc).__name__, "evalue": first_line}
    except Exception as exc:  # noqa: BLE001 - isolate any failure to its page
        w["session"].shutdown()
        error = {"cell": None, "source": "", "ename": type(exc).__name__, "evalue": str(exc)}
        return nb, {**error, "traceback": traceback.format_exc()}


def _write(out: Path, files: dict[str, str]) -> str | None:
    """Write a page's files all-or-nothing; the OS error's description, or None."""
    try:
        write_outputs(out, files)
    except OSError as exc:
        return f"{out}: cannot write {', '.join(files)} ({exc.strerror or exc})"
    except AssessKitError as exc:
        return str(exc)
    return None


def _run_job(job: Job, out_dir: str) -> JobResult:
    """Execute one notebook in the worker's kernel and write its page (atomically)."""
    import nbformat

    from .html import export_html

    t0 = time.perf_counter()
    page = Path(out_dir) / job.page
    nb, error = _execute_notebook(job)
    if _STOP.is_set():  # Ctrl-C while it ran: it did not finish, leave its files alone
        return JobResult(page=job.page, status="interrupted", seconds=round(time.perf_counter() - t0, 3))
    nb_text = nbformat.writes(nb)
    io_error = None
    if error is None:
        try:
            body = export_html(
                _WORKER["exporter"],
                nb,
                title=job.title,
                synthetic=job.synthetic,
                crumbs=job.crumbs,
                footer=job.footer,
            )
        except Exception as exc:  # noqa: BLE001
            error = {
                "cell": None,
                "source": "",
                "ename": type(exc).__name__,
                "evalue": f"rendering HTML: {exc}",
            }
        else:
            io_error = _write(page.parent, {page.name: body, Path(job.notebook).name: nb_text})
    if error is not None:
        where = f"cell {error['cell']} (`{error['source']}`)" if error.get("cell") else "outside the cells"
        error["message"] = f"{job.label}: {where}: {error['ename']}: {error['evalue']}"
        io_error = _write(page.parent, {Path(job.notebook).name: nb_text})
        _remove(page)  # never leave a stale page for a failed notebook
    if io_error is not None:
        error = {"cell": None, "source": "", "ename": "OSError", "evalue": io_error}
        error["message"] = f"{job.label}: {io_error}"
    return JobResult(
        page=job.page,
        status="ok" if error is None else "failed",
        seconds=round(time.perf_counter() - t0, 3),
        error=error,
        stderr=_stderr(nb),
        io_error=io_error,
    )


def _run_job_in_worker(job: Job, out_dir: str) -> JobResult:
    """In a worker process: run the job on the worker's notebook thread (not the main thread)."""
    return _WORKER["thread"].submit(_run_job, job, out_dir).result()


# --------------------------------------------------------------------------- runner side
def _died(job: Job, exc: BaseException) -> JobResult:
    msg = f"{job.label}: worker failed: {type(exc).__name__}: {exc}"
    error = {"cell": None, "source": "", "ename": type(exc).__name__, "evalue": str(exc), "message": msg}
    return JobResult(page=job.page, status="failed", seconds=0.0, error=error)


def _in_process(jobs: list[Job], out_dir: Path, init: tuple, on_result: Callable, outcome: Outcome) -> None:
    """One job at a time on a notebook thread of this process; Ctrl-C on the main thread."""
    _worker_init(*init, in_process=True)
    pool: cf.ThreadPoolExecutor = _WORKER["thread"]
    current: tuple[Job, cf.Future] | None = None
    try:
        for j in jobs:
            current = (j, pool.submit(_run_job, j, str(out_dir)))
            while not cf.wait([current[1]], timeout=0.25).done:
                pass
            r = current[1].result()
            current = None
            if on_result(j, r, outcome):
                return
    except KeyboardInterrupt:
        outcome.interrupted = True
        outcome.sigint = _ignore_sigint()  # a second Ctrl-C does not break the clean-up
        _STOP.set()
        _WORKER["session"].kill()  # the page in flight is dropped, not recorded as failed
        if current is not None and cf.wait([current[1]], timeout=30).done:
            r = current[1].result()
            if r.status != "interrupted":  # it finished before the kill
                on_result(current[0], r, outcome)
    finally:
        _worker_close()
        _STOP.clear()


def _ignore_sigint() -> Any:
    """Ignore further SIGINTs (main thread only); the previous handler, to restore."""
    if threading.current_thread() is threading.main_thread():
        return signal.signal(signal.SIGINT, signal.SIG_IGN)
    return None


def _end_workers(pool: cf.ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor has no public way to stop a running task; terminating its
    # processes is the documented effect of a worker dying (their kernels exit with them:
    # ipykernel polls its parent)
    for p in list(getattr(pool, "_processes", {}).values()):
        if p.is_alive():
            p.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _in_pool(
    jobs: list[Job], out_dir: Path, init: tuple, n_jobs: int, on_result: Callable, outcome: Outcome
) -> None:
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    pool = cf.ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_worker_init, initargs=init)
    pending = {pool.submit(_run_job_in_worker, j, str(out_dir)): j for j in jobs}
    try:
        while pending:
            done, _ = cf.wait(pending, timeout=0.25, return_when=cf.FIRST_COMPLETED)
            for f in done:
                j = pending.pop(f)
                try:
                    r = f.result()
                except Exception as exc:  # noqa: BLE001 - a worker died: isolate it to this page
                    r = _died(j, exc)
                if on_result(j, r, outcome):
                    _end_workers(pool)
                    return
    except KeyboardInterrupt:
        outcome.interrupted = True
        outcome.sigint = _ignore_sigint()
        _end_workers(pool)
        return
    except BaseException:
        _end_workers(pool)
        raise
    pool.shutdown(wait=True)


def execute_jobs(
    jobs: list[Job],
    out_dir: Path,
    base: Path,
    *,
    kernel: dict[str, Any],
    code: str,
    n_jobs: int,
    on_result: Callable[[Job, JobResult], None],
) -> Outcome:
    """Execute the jobs; ``on_result`` is called on the main thread as each page finishes.

    Stops early (without raising) on Ctrl-C (``interrupted``) and when a page's files
    could not be written (``io_error``): the pages that finished are in ``results``.
    """
    outcome = Outcome(results={}, n_jobs=max(1, min(n_jobs, len(jobs))) if jobs else 0)

    def record(j: Job, r: JobResult, out: Outcome) -> bool:
        out.results[j.page] = r
        on_result(j, r)
        if r.io_error is not None:
            out.io_error = r.io_error
            return True
        return False

    if not jobs:
        return outcome
    init = (str(base), kernel, code)
    try:
        if outcome.n_jobs == 1:
            _in_process(jobs, out_dir, init, record, outcome)
        else:
            _in_pool(jobs, out_dir, init, outcome.n_jobs, record, outcome)
    except KeyboardInterrupt:  # between two pages
        outcome.interrupted = True
        outcome.sigint = outcome.sigint or _ignore_sigint()
    return outcome


def default_jobs() -> int:
    return os.cpu_count() or 1
