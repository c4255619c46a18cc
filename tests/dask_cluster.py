"""A real Dask cluster for the tests: ``dask scheduler`` and ``dask worker`` subprocesses.

Everything on 127.0.0.1 with free ports, torn down at the end. The workers run in a working
directory of their own (so a run's relative paths do not resolve there: nothing may rely on
a shared file system) with ``PYTHONPATH`` set to this worktree, so that they import the
assesskit under test. Each worker is started without a nanny (``--no-nanny``), so that
killing its process is a worker lost for good, as when a machine goes away.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess as sp
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DASK = str(Path(sys.executable).with_name("dask"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["DASK_DISTRIBUTED__LOGGING__DISTRIBUTED"] = "error"
    return env


@dataclass
class DaskCluster:
    """A running scheduler and its workers (``address``, ``workers``: the worker processes)."""

    address: str
    scheduler: sp.Popen
    workers: list[sp.Popen] = field(default_factory=list)
    cwd: Path | None = None

    def worker_addresses(self) -> dict[int, str]:
        """Worker process id -> its address, from the scheduler."""
        from distributed import Client

        with Client(self.address, timeout="30s") as c:
            return {int(w["pid"]): a for a, w in c.scheduler_info(n_workers=-1)["workers"].items()}

    def kill_worker(self, proc: sp.Popen) -> None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def close(self) -> None:
        for p in [*self.workers, self.scheduler]:
            if p.poll() is None:
                p.terminate()
        for p in [*self.workers, self.scheduler]:
            try:
                p.wait(timeout=20)
            except sp.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


def start_cluster(cwd: Path, n_workers: int = 2, timeout: float = 180) -> DaskCluster:
    """Start ``dask scheduler`` and ``n_workers`` × ``dask worker --nworkers 1 --nthreads 1``."""
    from distributed import Client

    cwd.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": sp.DEVNULL, "stderr": sp.DEVNULL}
    sched = sp.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        cwd=cwd,
        env=_env(),
        **quiet,
    )
    cluster = DaskCluster(address, sched, cwd=cwd)
    try:
        for _ in range(n_workers):
            cluster.workers.append(
                sp.Popen(
                    [DASK, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-nanny"]
                    + ["--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0"],
                    cwd=cwd,
                    env=_env(),
                    **quiet,
                )
            )
        t0 = time.monotonic()
        while True:  # the scheduler may not listen yet
            try:
                with Client(address, timeout="10s") as c:
                    c.wait_for_workers(n_workers, timeout=max(1.0, timeout - (time.monotonic() - t0)))
                break
            except OSError:
                if time.monotonic() - t0 > timeout or sched.poll() is not None:
                    raise
                time.sleep(0.5)
    except BaseException:
        cluster.close()
        raise
    return cluster
