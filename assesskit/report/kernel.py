"""Warm kernels: start once, run many notebooks, reset everything a notebook may change.

Two halves:

- **in the kernel** — :func:`init_kernel` imports the heavy modules, sets up the CJK font,
  moves to the run's folder and takes a snapshot of the state a notebook can change;
  :func:`reset_kernel` restores it between notebooks;
- **in the worker** — :class:`KernelSession` starts the venv's own Python as an ipykernel
  (never a kernelspec found elsewhere on the machine), runs the snapshot once, and executes
  notebooks with nbclient, resetting in between.

What the reset restores: the user namespace, history and execution counter (IPython
``reset(new_session=True)``); open figures, matplotlib rcParams and backend; pandas
options; the working directory; environment variables; ``sys.path``; warning filters and
the "already shown" registries; the numpy and ``random`` global generators and numpy's
error and print options; the root logger's level and handlers; IPython display formatters
and event callbacks. Modules a notebook imported stay imported, and attributes it set on
modules (monkeypatching) are not undone: the templates do neither, and
``kernel.restart_every`` bounds the damage of a notebook that does.
"""

from __future__ import annotations

import gc
import logging
import os
import queue
import random
import shutil
import sys
import tempfile
import time
import warnings
from typing import Any

__all__ = ["KernelSession", "init_kernel", "reset_kernel"]

_STATE: dict[str, Any] = {}

KERNEL_ENV = {
    "PYTHONHASHSEED": "0",  # set and dict orders of strings: same in every kernel
    "MPLBACKEND": "Agg",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}

KERNEL_UNSET = ("MALLOC_TRIM_THRESHOLD_",)
"""Variables a kernel never inherits from its worker.

Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in every worker it starts (and in the
process that runs the nanny), so that a worker holding data returns freed memory to the
system. Set at all, it also fixes glibc's mmap threshold at 128 KiB: every large array and
figure buffer of a page is then mapped and unmapped anew. A kernel holds one page's
figures, not a worker's data; with the setting its pages took ~10 % more CPU
(``benchmarks/bench_cluster.py``, the Guide's page on reports on Dask).
"""


# --------------------------------------------------------------------------- kernel side
def _pandas_options() -> dict[str, Any]:
    import pandas as pd
    from pandas._config import config as pdc

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key in pdc._registered_options:
            if key in pdc._deprecated_options:
                continue
            try:
                out[key] = pd.get_option(key)
            except Exception:  # noqa: BLE001 - an option that cannot be read is not restored
                pass
    return out


def _formatters() -> dict[str, tuple]:
    shell = _shell()
    if shell is None:
        return {}
    return {
        k: (dict(f.type_printers), dict(f.deferred_printers), f.enabled)
        for k, f in shell.display_formatter.formatters.items()
    }


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    return get_ipython()


def init_kernel(base_dir: str) -> None:
    """Warm the kernel up and snapshot the state :func:`reset_kernel` restores.

    Runs once per kernel, before its first notebook, in both the warm and the fresh-kernel
    mode, so the two see the same starting state.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: F401
    import numpy as np
    import pandas as pd  # noqa: F401

    from .. import plotting
    from ..plotting import diagnostics, funnel, srb  # noqa: F401
    from ..stats import diagnostics as _d  # noqa: F401
    from . import pages  # noqa: F401

    plotting.setup_cjk_font()
    os.chdir(base_dir)
    shell = _shell()
    root = logging.getLogger()
    _STATE.update(
        cwd=os.getcwd(),
        environ=dict(os.environ),
        sys_path=list(sys.path),
        rc={k: v for k, v in matplotlib.rcParams.items() if k != "backend"},
        backend=matplotlib.get_backend(),
        pandas=_pandas_options(),
        np_err=np.geterr(),
        np_print=np.get_printoptions(),
        np_random=np.random.get_state(),  # noqa: NPY002 - the global generator is state to restore
        py_random=random.getstate(),
        warn_filters=list(warnings.filters),
        showwarning=warnings.showwarning,
        log_level=root.level,
        log_handlers=list(root.handlers),
        formatters=_formatters(),
        events={k: list(v) for k, v in shell.events.callbacks.items()} if shell is not None else {},
    )
    gc.collect()
    gc.freeze()


def reset_kernel() -> None:
    """Restore the state snapshot taken by :func:`init_kernel` (see the module docstring)."""
    if not _STATE:
        raise RuntimeError("reset_kernel() before init_kernel()")
    import matplotlib
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    shell = _shell()
    if shell is not None:
        shell.reset(new_session=True)
        for k, v in _STATE["events"].items():
            shell.events.callbacks[k][:] = v
        for k, (tp, dp, enabled) in _STATE["formatters"].items():
            f = shell.display_formatter.formatters.get(k)
            if f is not None:
                f.type_printers.clear()
                f.type_printers.update(tp)
                f.deferred_printers.clear()
                f.deferred_printers.update(dp)
                f.enabled = enabled
    plt.close("all")
    if matplotlib.get_backend() != _STATE["backend"]:
        plt.switch_backend(_STATE["backend"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matplotlib.rcParams.update(_STATE["rc"])
        current = _pandas_options()
        for key, value in _STATE["pandas"].items():
            try:
                if current.get(key) != value:
                    pd.set_option(key, value)
            except (ValueError, TypeError, KeyError):  # an option pandas no longer accepts
                pass
    os.chdir(_STATE["cwd"])
    if dict(os.environ) != _STATE["environ"]:
        os.environ.clear()
        os.environ.update(_STATE["environ"])
    sys.path[:] = _STATE["sys_path"]
    warnings.filters[:] = _STATE["warn_filters"]
    warnings._filters_mutated()  # forget which warnings were already shown
    warnings.onceregistry.clear()
    warnings.showwarning = _STATE["showwarning"]
    np.seterr(**_STATE["np_err"])
    np.set_printoptions(**_STATE["np_print"])
    np.random.set_state(_STATE["np_random"])  # noqa: NPY002
    random.setstate(_STATE["py_random"])
    root = logging.getLogger()
    root.setLevel(_STATE["log_level"])
    root.handlers[:] = _STATE["log_handlers"]
    gc.collect()
    gc.freeze()


INIT_CODE = "import assesskit.report.kernel as _akk\n_akk.init_kernel({base!r})\ndel _akk"
RESET_CODE = "import assesskit.report.kernel as _akk\n_akk.reset_kernel()"


# --------------------------------------------------------------------------- worker side
def _spec_manager():
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class VenvKernelSpecManager(KernelSpecManager):
        """Every kernel name resolves to this interpreter's ipykernel."""

        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:  # noqa: ARG002
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=f"Python {sys.version_info.major}.{sys.version_info.minor} (assesskit)",
                language="python",
                metadata={"debugger": False},
            )

    return VenvKernelSpecManager()


class KernelError(RuntimeError):
    """The kernel could not be started, initialised or reset."""


class KernelSession:
    """One ipykernel kept warm across notebooks.

    Parameters
    ----------
    base_dir : str
        Working directory of the kernel (restored by every reset).
    timeout : int
        Seconds one cell may run.
    startup_timeout : int
        Seconds the kernel may take to start.
    """

    def __init__(self, base_dir: str, *, timeout: int = 600, startup_timeout: int = 120) -> None:
        self.base_dir = str(base_dir)
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.km = None
        self.kc = None
        self.runs = 0  # notebooks run since the kernel started
        self.last_nb = None  # the notebook being (or last) executed, set by the papermill engine

    def rebase(self, base_dir: str) -> None:
        """Work in ``base_dir`` from the next notebook on (a running kernel elsewhere is ended)."""
        if str(base_dir) != self.base_dir:
            self.shutdown()
            self.base_dir = str(base_dir)

    @property
    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def start(self) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        # IPC sockets in a private temporary folder (removed at shutdown): faster than TCP,
        # reachable by nobody else, and no socket files left in the working directory
        self._ipc_dir = tempfile.mkdtemp(prefix="assesskit-kernel-")
        self.km = AsyncKernelManager(
            kernel_spec_manager=_spec_manager(),
            kernel_name="python3",
            transport="ipc",
            ip=os.path.join(self._ipc_dir, "kernel"),
        )
        env = {k: v for k, v in os.environ.items() if k not in KERNEL_UNSET} | KERNEL_ENV
        run_sync(self.km.start_kernel)(
            cwd=self.base_dir, env=env, extra_arguments=["--HistoryManager.hist_file=:memory:"]
        )
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
        except RuntimeError as exc:
            self.shutdown()
            raise KernelError(f"the kernel did not start: {exc}") from None
        self.kc.allow_stdin = False
        self.runs = 0
        self._exec(INIT_CODE.format(base=self.base_dir), "initialise the kernel")

    def _exec(self, code: str, what: str) -> None:
        from jupyter_core.utils import run_sync

        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:  # in short waits, so that a kernel that died (or was killed) is noticed at once
                reply = run_sync(self.kc.get_shell_msg)(timeout=0.5)
            except queue.Empty:
                if self._process() is None or time.monotonic() > deadline:
                    raise KernelError(f"could not {what}: no reply (the kernel died or hangs)") from None
                continue
            except Exception as exc:  # noqa: BLE001 - a dead channel
                raise KernelError(f"could not {what}: no reply ({type(exc).__name__})") from None
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content.get("status") != "ok":
            tb = "\n".join(content.get("traceback", [])) or f"{content.get('ename')}: {content.get('evalue')}"
            raise KernelError(f"could not {what}: {content.get('ename')}: {content.get('evalue')}\n{tb}")

    def reset(self) -> None:
        self._exec(RESET_CODE, "reset the kernel")

    def prepare(self, *, reuse: bool = True, restart_every: int = 0) -> None:
        """Make the kernel ready for the next notebook: start, restart or reset it."""
        fresh_needed = (
            self.km is None
            or not self.alive
            or (self.runs > 0 and not reuse)
            or (restart_every and self.runs >= restart_every)
        )
        if fresh_needed:
            self.shutdown()
            self.start()
        elif self.runs > 0:
            self.reset()

    def execute(self, nb):
        """Execute a notebook in this kernel (nbclient); raises nbclient's errors."""
        from nbclient import NotebookClient

        client = NotebookClient(
            nb,
            km=self.km,
            kernel_name="python3",
            timeout=self.timeout,
            startup_timeout=self.startup_timeout,
            allow_errors=False,
            record_timing=False,
            resources={"metadata": {"path": self.base_dir}},
        )
        client.kc = self.kc
        self.runs += 1
        return client.execute()

    def _process(self):
        """The kernel's process while it runs, else None."""
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        return proc if proc is not None and proc.poll() is None else None

    def kill(self) -> None:
        """End the kernel process at once (SIGKILL); what it was running is lost.

        Safe to call from another thread than the one executing a notebook: it only signals
        a pid, and that thread's nbclient notices the dead kernel within a second. The
        runner uses it on Ctrl-C (an interrupt request can be lost while the kernel is
        between messages, which would leave the run waiting for a reply).
        """
        import signal

        proc = self._process()
        if proc is not None:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except OSError:  # already gone
                pass

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:  # noqa: BLE001
                pass
        if self.km is not None:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001 - already dead
                pass
            try:
                run_sync(self.km.cleanup_resources)()
            except Exception:  # noqa: BLE001
                pass
        self.km = self.kc = None
        self.runs = 0
        if getattr(self, "_ipc_dir", None):
            shutil.rmtree(self._ipc_dir, ignore_errors=True)
            self._ipc_dir = None
