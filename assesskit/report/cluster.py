"""Report pages on Dask distributed: a local cluster by default, any scheduler when given.

One code path for one machine and for many. Without a scheduler address the run starts a
``LocalCluster`` (worker processes, one thread each) and closes it at the end; with one it
connects to an existing cluster (Slurm through dask-jobqueue, Kubernetes, or a few
workstations running ``dask scheduler`` / ``dask worker``).

- **Warm kernels per worker.** :class:`WarmKernelPlugin`, a Dask ``WorkerPlugin``, keeps a
  :class:`~assesskit.report.kernel.KernelSession` per worker thread between pages (with the
  run's reset and ``restart_every``), each driven from its own thread, as the kernel client
  is bound to one thread's event loop.
- **No shared file system.** The client reads every input once (the scheme, panel,
  registry, targets, grades, sensitivity spec and template files the pages read; they are
  validated by the plan), scatters their bytes, and each task names the ones it needs. A
  worker writes them into a private folder with the same layout relative to the run's
  base folder and runs the kernel there, so the notebooks' relative paths resolve on any
  machine. Files outside the base folder (bundled schemes and sensitivity specs of the
  installed package) must be the same on the worker; it checks their SHA-256. Workers
  send back the executed notebook and the HTML as bytes; only the client writes files.
- **Resilience.** Tasks are submitted with ``retries``; the pages of a worker that dies are
  re-run on the others by the scheduler. Ctrl-C cancels what is left.
- **Versions.** Every worker reports the versions of the packages a page depends on; a
  worker whose versions differ from the client's is refused, naming it (up front, and for
  any page that comes back from a worker that joined later).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import logging
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin

from ..exceptions import ReportError
from .execute import JobResult, Outcome, PageOutput, build_page, died, write_page
from .job import Job

__all__ = [
    "PLUGIN_NAME",
    "RETRIES",
    "VERSION_KEYS",
    "WarmKernelPlugin",
    "check_versions",
    "execute_jobs",
    "local_cluster",
    "run_pages",
    "worker_versions",
]

PLUGIN_NAME = "assesskit-warm-kernel"
RETRIES = 2
"""Times a page's task is retried after an error outside its notebook (worker loss is handled
by the scheduler: its pages are re-run elsewhere, up to ``distributed.scheduler.allowed-failures``)."""

VERSION_KEYS = ("python", "assesskit", "papermill", "nbclient", "nbconvert", "matplotlib", "pandas", "numpy")
"""The packages a page's bytes depend on; every worker must have the client's versions."""


def worker_versions(code_paths: list[str] | None = None) -> dict[str, str]:
    """This process's versions of :data:`VERSION_KEYS` and the digest of assesskit's code.

    ``code_paths``: the client's list of code files (:func:`~assesskit.report.provenance.code_paths`),
    whose digest here equals the client's exactly when the code is the same; without it the
    list is found by walking the imports (~0.6 s the first time in a process).
    """
    from .provenance import code_sha256, versions

    v = versions()
    code = code_sha256(code_paths)
    return {**{k: v.get(k, "not installed") for k in VERSION_KEYS}, "assesskit_code": code}


def _digest(v: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(v, sort_keys=True).encode()).hexdigest()


def check_versions(mine: dict[str, str], theirs: dict[str, dict[str, str]]) -> None:
    """Refuse workers whose package versions differ from the client's, naming each."""
    bad = []
    for worker, v in sorted(theirs.items()):
        diff = [f"{k} {v.get(k)} (client {mine.get(k)})" for k in mine if v.get(k) != mine.get(k)]
        if diff:
            bad.append(f"worker {worker}: {', '.join(diff)}")
    if bad:
        raise ReportError(
            "the workers do not run the client's versions, so their pages would not match the others: "
            + "; ".join(bad)
            + ". Install the same assesskit and dependencies on every worker"
        )


# --------------------------------------------------------------------------- worker side
def _skip_iri_grammar() -> None:
    """Let this process import nbformat without compiling ``rfc3987_syntax``'s grammars.

    nbformat imports jsonschema, whose format module imports ``rfc3987_syntax`` when it is
    installed (jsonschema[format-nongpl], through Jupyter), and that package builds ~35 Lark
    parsers at import: ~1.3 s of CPU in every fresh process, more than a page takes
    (python-jsonschema/jsonschema#1428). jsonschema then checks the ``iri`` formats only,
    which no notebook schema uses, and it skips that check when the package is absent. So a
    worker process this run started marks the module absent before anything imports it; if
    jsonschema is already imported, nothing is changed.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


@dataclass
class _Slot:
    session: Any
    thread: cf.ThreadPoolExecutor


class WarmKernelPlugin(WorkerPlugin):
    """Per-worker state of a report run: warm kernels, HTML exporters, the staged inputs.

    Parameters
    ----------
    own_process : bool
        The worker process was started for this run (a local cluster). Then it ignores
        SIGINT (Ctrl-C belongs to the client, which cancels the run), imports nbformat
        without the IRI grammar of ``rfc3987_syntax`` (see ``_skip_iri_grammar``) and
        takes the client's environment variables (forked from the fork server, it has the
        environment the server started with; a spawned worker would have the client's).
        A process on someone else's cluster is left as it is.
    run_id, kernel, code : optional
        The run the plugin is set up for (its staging folder, kernel settings and code
        digest). Given, :meth:`setup` starts a kernel per worker thread in that folder and
        builds the HTML exporter in the background, so that both are ready (or nearly) when
        the first page arrives instead of starting then.
    code_paths : list of str, optional
        The client's code files (:func:`~assesskit.report.provenance.code_paths`), for the
        version check (:func:`worker_versions`).
    """

    name = PLUGIN_NAME
    idempotent = True  # registering it again (the next run) keeps the warm kernels

    def __init__(
        self,
        own_process: bool = False,
        *,
        run_id: str | None = None,
        kernel: dict[str, Any] | None = None,
        code: str | None = None,
        code_paths: list[str] | None = None,
    ) -> None:
        self.own_process = own_process
        self.environ = dict(os.environ) if own_process else None  # the client's, pickled with the plugin
        self.run_id, self.kernel, self.code, self.code_paths = run_id, kernel, code, code_paths

    def setup(self, worker) -> None:
        if self.own_process:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            _skip_iri_grammar()
            os.environ.update(self.environ or {})
        self.address = getattr(worker, "address", "?")
        self.root = Path(tempfile.mkdtemp(prefix="assesskit-worker-"))
        self.slots: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
        self.all: list[_Slot] = []
        self.lock = threading.Lock()
        self.export_lock = threading.Lock()
        self.exporters: dict[str, Any] = {}
        self.staged: dict[str, str] = {}  # path in the staging folder (or absolute) -> sha256
        # before any other thread imports: walking the imports without the client's list
        # parses with ast, which Python 3.11.7 cannot do while another thread compiles
        self.versions = worker_versions(self.code_paths)
        self.digest = _digest(self.versions)
        if self.run_id is not None and self.kernel is not None:
            for _ in range(max(1, getattr(getattr(worker, "state", None), "nthreads", 1) or 1)):
                self.slots.put(self._warm_slot())
            self.warming = threading.Thread(target=self._warm_exporter, name="assesskit-warm-up", daemon=True)
            self.warming.start()

    def _warm_slot(self) -> _Slot:
        """A slot whose thread starts its kernel in the run's folder now, before any page.

        A page sent to the slot runs after this on the same thread (the kernel client's). A
        failure is left for that page to meet again, and report: its ``prepare`` starts the
        kernel anew.
        """
        run_dir = self.root / self.run_id
        slot = self._new_slot(self.kernel, run_dir)

        def warm() -> None:
            try:
                run_dir.mkdir(parents=True, exist_ok=True)
                slot.session.prepare(reuse=self.kernel["reuse"], restart_every=self.kernel["restart_every"])
            except Exception:  # noqa: BLE001 - the first page starts it again and reports why
                slot.session.shutdown()

        slot.thread.submit(warm)
        return slot

    def _warm_exporter(self) -> None:
        """Build the HTML exporter and import what a page needs, while the kernels start."""
        try:
            import nbformat  # noqa: F401
            import papermill  # noqa: F401

            from . import execute, job  # noqa: F401 - what unpickling a page's task imports

            if self.code is not None:
                self._exporter(self.code)
        except Exception:  # noqa: BLE001 - the first page builds it again and reports why
            pass

    def teardown(self, worker) -> None:
        for s in self.all:
            try:
                s.thread.submit(s.session.shutdown).result(timeout=30)
            except Exception:  # noqa: BLE001 - closing anyway
                s.session.kill()
            s.thread.shutdown(wait=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def kill_kernels(self) -> int:
        """End every kernel at once (Ctrl-C on the client): the pages they run fail fast."""
        for s in self.all:
            s.session.kill()
        return len(self.all)

    # -- one page
    def _new_slot(self, kernel: dict[str, Any], base: Path) -> _Slot:
        from .kernel import KernelSession

        s = _Slot(
            KernelSession(str(base), timeout=kernel["timeout"], startup_timeout=kernel["startup_timeout"]),
            cf.ThreadPoolExecutor(1, thread_name_prefix="assesskit-notebook"),
        )
        with self.lock:
            self.all.append(s)
        return s

    def _slot(self, kernel: dict[str, Any]) -> _Slot:
        try:
            return self.slots.get_nowait()
        except queue.Empty:
            return self._new_slot(kernel, self.root)

    def _stage(self, run_id: str, files: dict[str, tuple[str | None, str, bytes]]) -> Path:
        """Write the run's inputs under the staging folder; check the absolute ones."""
        run_dir = self.root / run_id
        with self.lock:
            for client_path, (dest, sha, data) in files.items():
                if sha is None:  # absent on the client: the page knows how to do without it
                    continue
                if dest is None:  # outside the run's folder: must be here already, the same
                    if self.staged.get(client_path) != sha:
                        from .._io import sha256

                        try:
                            got = sha256(client_path)
                        except OSError:
                            got = None
                        if got != sha:
                            raise ReportError(
                                f"{client_path} is outside the run's folder and "
                                f"{'differs' if got else 'missing'} on worker {self.address}; "
                                "put the run's inputs under the folder the run starts from"
                            )
                        self.staged[client_path] = sha
                    continue
                target = run_dir / dest
                if self.staged.get(str(target)) == sha:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.part")
                tmp.write_bytes(data)
                os.replace(tmp, target)
                self.staged[str(target)] = sha
        return run_dir

    def _exporter(self, code: str):
        with self.export_lock:  # the warm-up thread may be building it
            if code not in self.exporters:
                from .html import make_exporter

                self.exporters[code] = make_exporter(code)
            return self.exporters[code]

    def build(self, job: Job, template: bytes, files: dict, run_id: str, kernel: dict, code: str):
        t0 = time.perf_counter()
        try:
            run_dir = self._stage(run_id, files)
        except (ReportError, OSError) as exc:
            msg = f"{job.label}: inputs: {exc}"
            error = {
                "cell": None,
                "source": "",
                "ename": type(exc).__name__,
                "evalue": str(exc),
                "message": msg,
            }
            return PageOutput(job.page, "failed", round(time.perf_counter() - t0, 3), b"", error=error)
        slot = self._slot(kernel)
        try:

            def work():
                slot.session.rebase(str(run_dir))
                slot.session.timeout = kernel["timeout"]
                slot.session.startup_timeout = kernel["startup_timeout"]
                return build_page(job, template, slot.session, self._exporter(code), kernel)

            out = slot.thread.submit(work).result()
        finally:
            self.slots.put(slot)
        return replace(out, worker=self.address, versions=self.digest)


def _page_task(job: Job, template: bytes, files: dict, run_id: str, kernel: dict, code: str):
    """A Dask task: build one page on this worker with its warm kernel plugin."""
    from distributed import get_worker

    w = get_worker()
    plugin = w.plugins.get(PLUGIN_NAME)
    if plugin is None:  # pragma: no cover - the client registers it before submitting
        raise RuntimeError(f"worker {w.address} has no {PLUGIN_NAME} plugin")
    return plugin.build(job, template, files, run_id, kernel, code)


def _plugin_versions(dask_worker=None) -> dict[str, str]:
    plugin = dask_worker.plugins.get(PLUGIN_NAME) if dask_worker is not None else None
    return plugin.versions if plugin is not None else worker_versions()


def _kill_kernels(dask_worker=None) -> int:
    plugin = dask_worker.plugins.get(PLUGIN_NAME) if dask_worker is not None else None
    return plugin.kill_kernels() if plugin is not None else 0


# --------------------------------------------------------------------------- client side
# Dask's housekeeping is set for a busy shared cluster with a dashboard. Idle, a
# 2-worker local cluster spent ~0.13 of a core on it (1.8–2.2 s of CPU in 15 s: the event-loop
# health check every 20 ms in the scheduler, each nanny and each worker; resource samples for
# the dashboard every 0.5 s; memory polls every 0.1 s), ~0.015 with these (measured by
# benchmarks/bench_cluster.py, "idle"). Pages keep every core busy, so that time came off the
# pages. The memory limits still hold, checked each second instead of ten times a second.
_HOUSEKEEPING = {
    # the workers' statistical profiler samples every thread's stack each 10 ms for a
    # dashboard this cluster does not have (the nannies hand the settings to the workers)
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.nanny.memory.monitor-interval": "1s",
}


def local_cluster(n_workers: int):
    """A quiet, fast local cluster: ``n_workers`` processes with one thread each, no dashboard
    and no statistical profiler, forked from a fork server that has imported what a worker
    needs (``assesskit.report._worker_start``) where the platform has one (else spawned)."""
    import dask
    from distributed import LocalCluster

    from . import forkserver

    settings = {
        "distributed.worker.multiprocessing-method": forkserver.start_method(),
        # the nanny sets this in the workers and in the process that runs it (the client's);
        # our workers export pages rather than hold data (see kernel.KERNEL_UNSET)
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        **_HOUSEKEEPING,
    }
    with dask.config.set(settings):
        forkserver.start()  # already running when the runner started it before planning
        return LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # no dashboard, and the scheduler's small HTTP server on a free port (not 8787)
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        )


def connect(scheduler: str | None, n_workers: int):
    """(client, cluster or None): a client of ``scheduler``, or of a new local cluster."""
    from distributed import Client

    if scheduler:
        try:
            return Client(scheduler, timeout="30s"), None
        except OSError as exc:
            raise ReportError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    cluster = local_cluster(n_workers)
    return Client(cluster), cluster


def _read_inputs(jobs: list[Job], base: Path) -> tuple[str, dict[str, tuple[str | None, str | None]], dict]:
    """Read every input file once: (run id, client path -> (dest, sha), client path -> bytes).

    ``dest`` is the path relative to the run's base folder (None outside it); ``sha`` is None
    for an optional input that is absent. The run id names the inputs' content.
    """
    paths = sorted({f for j in jobs for f in (*j.files, j.template)})
    meta: dict[str, tuple[str | None, str]] = {}
    blobs: dict[str, bytes] = {}
    for f in paths:
        p = Path(f)
        try:
            dest = p.resolve().relative_to(base).as_posix()
        except ValueError:
            dest = None
        if not p.exists():  # an optional input that is absent (a sensitivity spec): absent there too
            blobs[f], meta[f] = b"", (dest, None)
            continue
        try:
            blobs[f] = p.read_bytes()
        except OSError as exc:
            raise ReportError(
                f"{f}: cannot read it to send it to the workers ({exc.strerror or exc})"
            ) from None
        meta[f] = (dest, hashlib.sha256(blobs[f]).hexdigest())
    run_id = hashlib.sha256(json.dumps(sorted(meta.items())).encode()).hexdigest()[:16]
    return run_id, meta, blobs


def _scatter(client, meta: dict, blobs: dict) -> dict[str, tuple[str | None, str | None, Any]]:
    """Send the inputs to the cluster: client path -> (dest, sha, future of the bytes)."""
    paths = sorted(meta)
    futures = client.scatter([blobs[f] for f in paths], hash=True)
    return {f: (*meta[f], fut) for f, fut in zip(paths, futures)}


class Progress:
    """Pages done / total and the workers in use: a tqdm bar on a terminal, else plain lines
    every ~5 % (CI logs)."""

    def __init__(self, total: int, desc: str, enabled: bool = True, file=None) -> None:
        self.file = file or sys.stderr
        self.total, self.desc, self.done = total, desc, 0
        self.enabled = enabled and total > 0
        self.tty = bool(getattr(self.file, "isatty", lambda: False)())
        self.next_line = 0
        self.workers = ""
        self.bar = None
        if self.enabled and self.tty:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="page", file=self.file)

    def update(self, done: int, busy: int | None = None, n_workers: int | None = None) -> None:
        self.done = done
        if busy is not None:
            self.workers = f"{busy}/{n_workers} workers"
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.n = done
            self.bar.set_postfix_str(self.workers, refresh=False)
            self.bar.refresh()
            return
        pct = 100 * done // self.total
        if done == self.total or pct >= self.next_line:
            print(
                f"{self.desc}: {done}/{self.total} pages ({pct}%), {self.workers}", file=self.file, flush=True
            )
            self.next_line = pct - pct % 5 + 5

    def write(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.file)
        else:
            print(text, file=self.file, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _busy(client) -> int | None:
    try:
        return sum(1 for keys in client.processing().values() if keys)
    except Exception:  # noqa: BLE001 - the count is only shown
        return None


def _versions(client, outcome, code_paths: list[str]) -> str:
    """Check every worker's versions against ours; record them; the expected digest."""
    from .._version import __version__

    mine = worker_versions(code_paths)
    theirs = client.run(_plugin_versions)  # computed once, when the plugin was set up
    check_versions(mine, theirs)
    outcome.execution["workers"] = {w: {"versions": v} for w, v in sorted(theirs.items())}
    outcome.execution["client_assesskit"] = __version__
    return _digest(mine)


def run_pages(
    jobs: list[Job],
    base: Path,
    *,
    kernel: dict[str, Any],
    code: str,
    n_workers: int,
    scheduler: str | None,
    on_page: Callable,
    on_failure: Callable,
    outcome,
    progress=None,
) -> None:
    """Build ``jobs`` on Dask; ``on_page(job, PageOutput)`` (True: stop) as each comes back."""
    from distributed import as_completed

    from .provenance import code_paths

    run_id, meta, blobs = _read_inputs(jobs, base)  # an unreadable input stops the run here
    paths = code_paths()
    t0 = time.perf_counter()
    client, cluster = connect(scheduler, n_workers)
    futures: dict = {}
    try:
        outcome.execution["scheduler"] = scheduler or "local"
        outcome.execution["address"] = client.scheduler.address
        plugin = WarmKernelPlugin(
            own_process=cluster is not None, run_id=run_id, kernel=kernel, code=code, code_paths=paths
        )
        client.register_plugin(plugin, name=PLUGIN_NAME)  # the workers' kernels start now
        outcome.execution["startup_seconds"] = round(time.perf_counter() - t0, 2)
        t1 = time.perf_counter()
        expected = _versions(client, outcome, paths)
        outcome.execution["check_seconds"] = round(time.perf_counter() - t1, 2)
        n = len(client.scheduler_info(n_workers=-1)["workers"])
        outcome.execution["n_workers"] = n
        files = _scatter(client, meta, blobs)
        for j in jobs:
            need = {f: files[f] for f in (*j.files, j.template)}
            args = (j, files[j.template][2], need, run_id, kernel, code)
            futures[client.submit(_page_task, *args, retries=RETRIES, pure=False, key=_key(j))] = j
        done, last = 0, 0.0
        for fut in as_completed(list(futures)):
            job = futures.pop(fut)
            done += 1
            if fut.status == "finished":
                built = fut.result()
                if built.versions not in (None, expected):  # a worker that joined after the check
                    late = client.run(worker_versions, paths, workers=[built.worker])
                    check_versions(worker_versions(paths), late)
                if on_page(job, built):
                    return
            elif fut.status == "error":
                on_failure(job, fut.exception())
            if progress is not None:
                now = time.perf_counter()
                busy = _busy(client) if now - last > 1 or not futures else None
                last = now if busy is not None else last
                progress(done, busy, n)
    except KeyboardInterrupt:
        outcome.interrupted = True
        outcome.sigint = _ignore_sigint()  # a second Ctrl-C does not break the clean-up
    finally:
        t2 = time.perf_counter()
        _close(client, cluster, list(futures), outcome.interrupted)
        outcome.execution["close_seconds"] = round(time.perf_counter() - t2, 2)


def _key(job: Job) -> str:
    import uuid

    return f"assesskit-page-{job.key[:12]}-{uuid.uuid4().hex[:8]}"


def _ignore_sigint() -> Any:
    if threading.current_thread() is threading.main_thread():
        return signal.signal(signal.SIGINT, signal.SIG_IGN)
    return None


def _close(client, cluster, pending: list, interrupted: bool) -> None:
    try:
        if pending:
            client.cancel(pending)
            if interrupted:
                client.run(_kill_kernels)  # the pages in flight are dropped, not finished
    except Exception:  # noqa: BLE001 - closing anyway
        pass
    try:
        client.close(timeout=10)
    finally:
        if cluster is not None:
            cluster.close(timeout=30)


def execute_jobs(
    jobs: list[Job],
    out_dir: Path,
    base: Path,
    *,
    kernel: dict[str, Any],
    code: str,
    n_jobs: int,
    on_result: Callable[[Job, JobResult], None],
    scheduler: str | None = None,
    progress: Any = None,
) -> Outcome:
    """Execute the jobs on Dask; ``on_result`` is called on the main thread as each page is written.

    Without ``scheduler``, a local cluster of ``n_jobs`` worker processes is started for the
    run. Stops early (without raising) on Ctrl-C (``interrupted``) and when a page's files
    could not be written (``io_error``): the pages that finished are in ``results``.
    """
    outcome = Outcome(results={}, n_jobs=max(1, min(n_jobs, len(jobs))) if jobs else 0)

    def record(j: Job, built: PageOutput) -> bool:
        r = write_page(out_dir, j, built)
        outcome.results[j.page] = r
        on_result(j, r)
        if r.io_error is not None:
            outcome.io_error = r.io_error
            return True
        return False

    def record_failure(j: Job, exc: BaseException) -> None:
        r = died(j, exc)
        outcome.results[j.page] = r
        on_result(j, r)

    if not jobs:
        return outcome
    try:
        run_pages(
            jobs,
            base,
            kernel=kernel,
            code=code,
            n_workers=outcome.n_jobs,
            scheduler=scheduler,
            on_page=record,
            on_failure=record_failure,
            outcome=outcome,
            progress=progress,
        )
    except KeyboardInterrupt:  # while the cluster started or closed: nothing was lost
        outcome.interrupted = True
        outcome.sigint = outcome.sigint or _ignore_sigint()
    return outcome
