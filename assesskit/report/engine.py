"""A papermill engine that runs notebooks in a warm kernel: ``papermill --engine assesskit``.

papermill executes a notebook through a named *engine* (``papermill.engines``); its default
starts a fresh kernel for every notebook. :class:`WarmEngine` runs the notebook instead in
a :class:`~assesskit.report.kernel.KernelSession` that is kept alive between notebooks and
reset to the state it had after start-up (see :mod:`assesskit.report.kernel`), so the
imports, the CJK font set-up and the scored panels of a run are paid for once per kernel.
Everything else is papermill's own: parameter injection, the ``papermill`` metadata of the
notebook and its cells (parameters, start/end times, durations, status, exception markers)
and the error cell added at the top of a failed notebook.

The engine is registered through papermill's ``papermill.engine`` entry point (see
``pyproject.toml``), so after ``pip install assesskit``::

    papermill --engine assesskit in.ipynb out.ipynb -p year 2016

and, in Python, ``papermill.execute_notebook(..., engine_name="assesskit")``. From one
Python process, successive calls share one warm kernel (started in the working directory
of the first call; a call from another directory starts a new one). The report runner
passes each worker's own session as ``session=``, with ``reuse`` and ``restart_every``
from the run spec.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine
from papermill.log import logger

from .kernel import KernelSession

__all__ = ["ENGINE_NAME", "WarmEngine", "default_session", "register"]

ENGINE_NAME = "assesskit"
"""The name the engine is registered under (``papermill --engine assesskit``)."""

_DEFAULT: dict[str, KernelSession] = {}
_DEFAULT_LOCK = threading.Lock()


def default_session(cwd: str | None = None) -> KernelSession:
    """The process's shared warm session for ``cwd`` (default: the current directory).

    A session's kernel works in one folder (its reset restores it), so a call from another
    folder gets a session of its own; the previous one is shut down.
    """
    cwd = os.path.abspath(cwd or os.getcwd())
    with _DEFAULT_LOCK:
        s = _DEFAULT.get("session")
        if s is None or s.base_dir != cwd:
            if s is not None:
                s.shutdown()
            s = KernelSession(cwd)
            _DEFAULT["session"] = s
        return s


class WarmEngine(NBClientEngine):
    """papermill's nbclient engine, run in a kernel kept warm between notebooks.

    Extra keyword arguments (through ``papermill.execute_notebook(..., **engine_kwargs)``):

    session : KernelSession, optional
        The warm kernel to use (default: :func:`default_session` of the current directory).
    reuse : bool
        Reset and reuse the kernel after a notebook (default True); False starts a fresh
        kernel for every notebook.
    restart_every : int
        Start a fresh kernel every K notebooks (0 = never).
    """

    @classmethod
    def execute_managed_notebook(  # noqa: PLR0913 - papermill's signature
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        session: KernelSession | None = None,
        reuse: bool = True,
        restart_every: int = 0,
        **kwargs: Any,
    ):
        """Run papermill's managed notebook in the warm kernel (the class's extra arguments)."""
        session = session or default_session()
        session.prepare(reuse=reuse, restart_every=restart_every)
        kwargs.pop("input_path", None)
        kwargs.pop("startup_timeout", None)
        timeout = execution_timeout or kwargs.pop("timeout", None) or session.timeout
        client = PapermillNotebookClient(
            nb_man,
            km=session.km,
            kernel_name=kernel_name,
            timeout=timeout,
            startup_timeout=session.startup_timeout,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            record_timing=False,  # papermill's own metadata has the times
            resources={"metadata": {"path": session.base_dir}},
            **kwargs,
        )
        client.kc = session.kc  # the warm kernel's client: nbclient neither starts nor stops it
        session.runs += 1
        session.last_nb = nb_man.nb  # what ran so far, also when the kernel dies under it
        return client.execute()


def register() -> None:
    """Register :class:`WarmEngine` as ``assesskit`` with papermill in this process.

    Installing the package does this through the ``papermill.engine`` entry point; this is
    for a process where the package is used from a source tree without being installed.
    """
    from papermill.engines import papermill_engines

    papermill_engines.register(ENGINE_NAME, WarmEngine)
