"""The fork server a local cluster's workers start from (Linux and macOS).

A report run's worker imports Dask, papermill, nbformat, nbconvert, the kernel client and
the worker half of :mod:`assesskit.report` (~2 s of CPU). Spawned, as Dask does by
default, every worker pays that. A local cluster (:func:`~assesskit.report.cluster.local_cluster`)
starts its workers with Python's ``forkserver`` method instead: one server process imports
``assesskit.report._worker_start`` once and forks each worker from itself, so the workers
start with everything loaded, and a second run in the same process (a notebook, the tests)
starts its workers at once. Like ``spawn``, and unlike ``fork``, the server is a fresh
interpreter, not a copy of the client and its threads' locks.

The runner calls :func:`start` before it plans a run, so that the server imports while the
client scores and hashes the inputs (on another core). Where the platform has no fork
server (Windows), workers are spawned. A worker the nanny restarts after a crash starts
the same way while the cluster's settings are in force, else it is spawned (Dask's
default): slower, not different. This module imports only the standard library, so that
starting the server early costs the client nothing.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver

__all__ = ["PRELOAD", "start", "start_method"]

PRELOAD = "assesskit.report._worker_start"
"""The module the server imports before it forks any worker."""


def start_method() -> str:
    """``forkserver`` where the platform has it, else ``spawn``."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def start() -> None:
    """Start the fork server with :data:`PRELOAD` (a no-op where there is none, or when it runs).

    Dask sets the server's preload list once per process (its own packages) when it first
    asks for the ``forkserver`` context; a server started here has ours, and Dask's later
    setting changes nothing in a server that runs. The server ends with the client process.
    """
    if start_method() != "forkserver":
        return
    multiprocessing.get_context("forkserver").set_forkserver_preload([PRELOAD])
    multiprocessing.forkserver.ensure_running()
