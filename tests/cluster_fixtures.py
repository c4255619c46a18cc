"""A real Dask cluster for tests: one ``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1, on free ports, torn down when the test ends.

The workers import this checkout's assesskit (``PYTHONPATH`` is set to the repository), so
the tasks run the code under test. Used by tests/test_sensitivity_cluster.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0  # seconds for the scheduler and both workers to be up


def free_port() -> int:
    """A TCP port nobody listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask_command() -> list[str]:
    """The ``dask`` command of this environment (beside its Python)."""
    exe = Path(sys.executable).with_name("dask")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dask")
    if found is None:
        pytest.skip("the dask command-line tool is not installed")
    return [found]


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


def _wait_for_workers(address: str, n: int, procs: list[subprocess.Popen], logs: list[Path]) -> None:
    from distributed import Client

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break
        try:
            with Client(address, timeout="5s") as c:
                c.wait_for_workers(n, timeout=max(deadline - time.monotonic(), 1))
                return
        except (OSError, TimeoutError):
            time.sleep(0.5)
    text = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}" for log in logs)
    raise RuntimeError(f"the test cluster did not start at {address}:\n{text}")


@pytest.fixture
def dask_cluster(tmp_path_factory):
    """Yield the scheduler's address (``tcp://127.0.0.1:PORT``) of a cluster with two
    single-threaded workers, started in their own working directory."""
    work = tmp_path_factory.mktemp("dask-cluster")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    dask = _dask_command()
    procs: list[subprocess.Popen] = []
    logs: list[Path] = []

    def start(name: str, args: list[str]) -> None:
        log = work / f"{name}.log"
        logs.append(log)
        with open(log, "wb") as fh:
            procs.append(
                subprocess.Popen(dask + args, cwd=work, env=env, stdout=fh, stderr=subprocess.STDOUT)
            )

    try:
        start(
            "scheduler",
            ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
        )
        for i in range(2):
            start(
                f"worker{i}",
                [
                    "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1",
                    "--dashboard-address", ":0", "--local-directory", str(work / f"w{i}"),
                ],
            )  # fmt: skip
        _wait_for_workers(address, 2, procs, logs)
        yield address
    finally:
        _stop(procs[::-1])  # workers first, then the scheduler
