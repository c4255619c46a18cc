"""Sensitivity draws on a Dask cluster give the local run's results, bit for bit.

An in-process cluster (threads) checks the Python API (``simulate``/``sobol``/``analyse``
with ``client=``); a real ``dask scheduler`` with two ``dask worker`` processes
(tests/cluster_fixtures.py) checks the command line's ``--scheduler``: the CSV files are
byte-identical to a local run's.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import assesskit as ak
from assesskit import sensitivity as sa
from assesskit.cli import main

from .cluster_fixtures import dask_cluster  # noqa: F401  (the fixture)
from .conftest import FIX

distributed = pytest.importorskip("distributed")

EX = FIX.parents[1] / "assesskit" / "datasets" / "examples" / "district_1000"


@pytest.fixture(scope="module")
def district():
    return sa.baseline(
        ak.load_scheme("district_1000"),
        EX / "panel.csv",
        units=EX / "units.csv",
        targets=EX / "targets.csv",
        grades=EX / "grades.csv",
        year=2012,
    )


@pytest.fixture(scope="module")
def client():
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as c:
        yield c


def test_simulate_on_a_cluster_equals_the_local_run(district, client):
    spec = sa.load_spec("district_1000", district.scheme)
    # 150 draws in chunks of 64, 64, 22: the last chunk and the data noise's realisation
    # blocks cut across chunks; the tasks may finish in any order
    local = sa.simulate(district, spec, draws=150, seed=7, chunk=64)
    remote = sa.simulate(district, spec, draws=150, seed=7, chunk=64, client=client)
    assert np.array_equal(local.ranks, remote.ranks, equal_nan=True)
    assert not np.isnan(local.ranks).all() and np.nanstd(local.ranks, axis=0).max() > 0  # the draws vary
    pd.testing.assert_frame_equal(local.units, remote.units, check_exact=True)
    pd.testing.assert_frame_equal(local.draws, remote.draws, check_exact=True)
    assert np.array_equal(local.u, remote.u)


def test_sobol_on_a_cluster_equals_the_local_run(district, client):
    spec = sa.load_spec("district_1000", district.scheme)
    local = sa.sobol(district, spec, n=16, seed=2, chunk=50)
    remote = sa.sobol(district, spec, n=16, seed=2, chunk=50, client=client)
    pd.testing.assert_frame_equal(local.indices, remote.indices, check_exact=True)


def test_progress_comes_in_draw_order_from_the_cluster(district, client):
    spec = sa.load_spec("district_1000", district.scheme)
    seen = []
    sa.simulate(
        district, spec, draws=100, seed=1, chunk=30, client=client, on_chunk=lambda d, t: seen.append((d, t))
    )
    assert seen == [(30, 100), (60, 100), (90, 100), (100, 100)]


def test_use_client_sends_analyse_to_the_cluster_without_client_argument(district, client):
    from assesskit.sensitivity import cluster

    spec = sa.load_spec("district_1000", district.scheme)
    cluster._WORKER_CACHE.clear()  # the in-process workers share this module with the test
    with cluster.use_client(client):
        run = sa.analyse(district, spec, draws=40, seed=3, sobol_n=0)
    assert cluster.current_client() is None  # reset on leaving the block
    assert len(cluster._WORKER_CACHE) == 1  # a worker ran the draws' chunks (evaluate_chunk)
    local = sa.analyse(district, spec, draws=40, seed=3, sobol_n=0)
    pd.testing.assert_frame_equal(run.ranks, local.ranks, check_exact=True)


def test_local_run_does_not_import_dask(tmp_path):
    """Without a client the sensitivity path never loads Dask (a fresh interpreter)."""
    import subprocess

    code = (
        "import sys, assesskit as ak; from assesskit import sensitivity as sa; "
        f"b = sa.baseline(ak.load_scheme({str(FIX / 'mini.yaml')!r}), {str(FIX / 'mini.csv')!r}, year=2016); "
        "sa.simulate(b, sa.parse_spec({'factors': [{'id': 'v', 'type': 'veto', 'p_off': 0.5}]}, 's', b.scheme), draws=5); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _cli_args(out, *extra):
    return [
        "sensitivity", "--scheme", "district_1000", "--data", str(EX / "panel.csv"),
        "--units", str(EX / "units.csv"), "--targets", str(EX / "targets.csv"), "--grades", str(EX / "grades.csv"),
        "--year", "2012", "--spec", "district_1000", "--draws", "150", "--seed", "5", "--sobol-n", "8",
        "--out", str(out), *extra,
    ]  # fmt: skip


def test_cli_scheduler_writes_the_local_runs_files_byte_for_byte(tmp_path, dask_cluster):  # noqa: F811
    local, remote = tmp_path / "local", tmp_path / "remote"
    r = CliRunner().invoke(main, _cli_args(local))
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, _cli_args(remote, "--scheduler", dask_cluster))
    assert r.exit_code == 0, r.output
    for name in ("ranks.csv", "sobol.csv", "loo.csv", "draws.csv"):
        assert (local / name).read_bytes() == (remote / name).read_bytes(), name
    man_l = json.loads((local / "manifest.json").read_text(encoding="utf-8"))
    man_r = json.loads((remote / "manifest.json").read_text(encoding="utf-8"))
    assert man_l == man_r  # settings, inputs and versions: the same run
    # and the worker processes did the work: they keep the last run's realisation cache
    with distributed.Client(dask_cluster) as c:
        runs = c.run(lambda: len(__import__("assesskit.sensitivity.cluster", fromlist=["x"])._WORKER_CACHE))
    assert len(runs) == 2 and sum(runs.values()) >= 1


def test_cli_unreachable_scheduler_is_a_clear_error(tmp_path):
    from .cluster_fixtures import free_port

    out = tmp_path / "out"
    r = CliRunner().invoke(main, _cli_args(out, "--scheduler", f"tcp://127.0.0.1:{free_port()}"))
    assert r.exit_code != 0 and "cannot reach the Dask scheduler" in r.output
    assert not out.exists()
