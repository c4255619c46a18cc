"""Executing one page: on a worker, papermill in a warm kernel; on the client, its files.

The two halves of a page's life, on two sides of the network:

- **on a worker** — :func:`build_page` parameterizes the template (from its bytes), runs it
  with ``papermill.execute_notebook(..., engine_name="assesskit")`` in the worker's warm
  kernel (:class:`~assesskit.report.engine.WarmEngine`), renders the HTML, and returns the
  executed notebook and the page as bytes (:class:`PageOutput`); it writes nothing the
  client will read;
- **on the client** — :func:`write_page` writes those bytes into the run's folder,
  all-or-nothing (``write_outputs``), and turns them into a :class:`JobResult`.

:func:`assesskit.report.cluster.execute_jobs` runs a list of pages on Dask.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import AssessKitError
from .job import Job

__all__ = ["JobResult", "Outcome", "PageOutput", "build_page", "write_page"]


@dataclass(frozen=True)
class JobResult:
    """What executing one page gave: ``status`` ok | failed | interrupted."""

    page: str
    status: str
    seconds: float
    error: dict[str, Any] | None = None
    stderr: tuple[str, ...] = ()
    io_error: str | None = None  # the page's files could not be written (disk full, …)
    worker: str | None = None  # the Dask worker that built it


@dataclass
class Outcome:
    """What :func:`.cluster.execute_jobs` did: results of finished pages, and why it stopped early."""

    results: dict[str, JobResult]
    interrupted: bool = False
    io_error: str | None = None
    n_jobs: int = 0
    sigint: Any = None  # the SIGINT handler to restore once the record is written
    execution: dict[str, Any] = field(default_factory=dict)  # scheduler, workers, versions, startup


@dataclass(frozen=True)
class PageOutput:
    """What a worker sends back for one page: status, error and the files as bytes."""

    page: str
    status: str  # ok | failed
    seconds: float
    notebook: bytes
    html: bytes | None = None
    error: dict[str, Any] | None = None
    stderr: tuple[str, ...] = ()
    worker: str | None = None
    versions: str | None = None  # digest of the worker's package versions


# --------------------------------------------------------------------------- worker side
def _failing_cell(nb) -> tuple[int | None, str]:
    from papermill.execute import ERROR_MARKER_TAG

    cells = [c for c in nb.cells if ERROR_MARKER_TAG not in c.metadata.get("tags", [])]
    for i, c in enumerate(cells):
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


def parameterize(job: Job, template: bytes):
    """The page's notebook: the template with the job's parameters injected (papermill).

    The injected cell gets a fixed id, so that the same page gives the same notebook.
    """
    import nbformat
    from papermill.parameterize import parameterize_notebook

    nb = nbformat.reads(template.decode("utf-8"), as_version=4)
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


def _run_notebook(job: Job, template: bytes, session, kernel: dict[str, Any]):
    """Run the page's notebook through papermill in ``session``: (notebook, error or None)."""
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from .engine import ENGINE_NAME, register
    from .kernel import KernelError

    register()  # an installed package has it through the entry point; a source tree may not
    nb = nbformat.v4.new_notebook()
    session.last_nb = None
    try:
        nb = parameterize(job, template)
        out = papermill.execute_notebook(
            nb,
            None,
            engine_name=ENGINE_NAME,
            kernel_name="python3",
            language="python",
            progress_bar=False,
            request_save_on_cell_execute=False,
            start_timeout=kernel["startup_timeout"],
            execution_timeout=kernel["timeout"],
            session=session,
            reuse=kernel["reuse"],
            restart_every=kernel["restart_every"],
        )
        return _provenance(out, job), None
    except PapermillExecutionError as exc:
        nb = session.last_nb or nb  # papermill marked the error in it (error cells at the top)
        first = next((ln for ln in exc.source.splitlines() if ln.strip()), "").strip()[:80]
        return _provenance(nb, job), {
            "cell": exc.cell_index + 1,
            "source": first,
            "ename": exc.ename,
            "evalue": exc.evalue,
        }
    except (CellTimeoutError, DeadKernelError, KernelError, RuntimeError, TimeoutError) as exc:
        nb = session.last_nb or nb
        cell, first = _failing_cell(nb)
        session.shutdown()  # the kernel may be stuck or dead: the next notebook gets a fresh one
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return _provenance(nb, job), {
            "cell": cell,
            "source": first,
            "ename": type(exc).__name__,
            "evalue": first_line,
        }
    except Exception as exc:  # noqa: BLE001 - isolate any failure to its page
        session.shutdown()
        error = {"cell": None, "source": "", "ename": type(exc).__name__, "evalue": str(exc)}
        return nb, {**error, "traceback": traceback.format_exc()}


def _provenance(nb, job: Job):
    """papermill records where the notebook came from; say it as the run sees it."""
    pm = nb.metadata.get("papermill")
    if isinstance(pm, dict) or hasattr(pm, "keys"):
        pm["input_path"] = Path(job.template).name
        pm["output_path"] = job.notebook
    return nb


def build_page(job: Job, template: bytes, session, exporter, kernel: dict[str, Any]) -> PageOutput:
    """Execute one page's notebook in ``session`` and render it; everything as bytes.

    Runs on a worker (on the thread that owns the session's kernel client).
    """
    import nbformat

    from .html import export_html

    t0 = time.perf_counter()
    nb, error = _run_notebook(job, template, session, kernel)
    html = None
    if error is None:
        try:
            html = export_html(
                exporter,
                nb,
                title=job.title,
                synthetic=job.synthetic,
                crumbs=job.crumbs,
                footer=job.footer,
            ).encode("utf-8")
        except Exception as exc:  # noqa: BLE001
            error = {
                "cell": None,
                "source": "",
                "ename": type(exc).__name__,
                "evalue": f"rendering HTML: {exc}",
            }
    if error is not None:
        where = f"cell {error['cell']} (`{error['source']}`)" if error.get("cell") else "outside the cells"
        error["message"] = f"{job.label}: {where}: {error['ename']}: {error['evalue']}"
    return PageOutput(
        page=job.page,
        status="ok" if error is None else "failed",
        seconds=round(time.perf_counter() - t0, 3),
        notebook=nbformat.writes(nb).encode("utf-8"),
        html=html,
        error=error,
        stderr=_stderr(nb),
    )


# --------------------------------------------------------------------------- client side
def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _write(out: Path, files: dict[str, bytes]) -> str | None:
    """Write a page's files all-or-nothing; the OS error's description, or None."""
    from .._io import write_outputs  # the client's side: a worker does not load pandas for it

    try:
        write_outputs(out, files)
    except OSError as exc:
        return f"{out}: cannot write {', '.join(files)} ({exc.strerror or exc})"
    except AssessKitError as exc:
        return str(exc)
    return None


def write_page(out_dir: Path, job: Job, built: PageOutput) -> JobResult:
    """Write what a worker built into the run's folder (atomically); what it gave.

    A failed page keeps its executed notebook (with the error) and never a stale HTML page.
    """
    page = Path(out_dir) / job.page
    error = dict(built.error) if built.error else None
    if error is None and built.html is not None:
        io_error = _write(page.parent, {page.name: built.html, Path(job.notebook).name: built.notebook})
    else:
        io_error = _write(page.parent, {Path(job.notebook).name: built.notebook}) if built.notebook else None
        _remove(page)
    if io_error is not None:
        error = {"cell": None, "source": "", "ename": "OSError", "evalue": io_error}
        error["message"] = f"{job.label}: {io_error}"
    return JobResult(
        page=job.page,
        status="ok" if error is None else "failed",
        seconds=built.seconds,
        error=error,
        stderr=built.stderr,
        io_error=io_error,
        worker=built.worker,
    )


def died(job: Job, exc: BaseException) -> JobResult:
    """The result of a page whose task failed outside the notebook (e.g. workers kept dying)."""
    msg = f"{job.label}: worker failed: {type(exc).__name__}: {exc}"
    error = {"cell": None, "source": "", "ename": type(exc).__name__, "evalue": str(exc), "message": msg}
    return JobResult(page=job.page, status="failed", seconds=0.0, error=error)


def default_jobs() -> int:
    import os

    return os.cpu_count() or 1
