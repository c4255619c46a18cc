"""Report pages on a real Dask cluster: same bytes as a local run, a lost worker, versions,
the papermill engine, progress lines.

The cluster (tests/dask_cluster.py) is a ``dask scheduler`` and two ``dask worker``
subprocesses on 127.0.0.1, working in a folder of their own: the run's relative paths do not
resolve there, so the pages can only be built from the inputs the client ships.
"""

from __future__ import annotations

import io
import json
import os
import subprocess as sp
import sys
import time
from pathlib import Path

import nbformat
import pytest

from assesskit.exceptions import ReportError
from assesskit.report import load_run_spec, plan_run, run_report
from assesskit.report.manifest import JOURNAL_NAME

from .dask_cluster import ROOT, _env, start_cluster
from .test_report import thin_template, write_panel, write_spec

TIMING = ("start_time", "end_time", "duration")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = start_cluster(tmp_path_factory.mktemp("workers-cwd"), n_workers=2)
    yield c
    c.close()


def _strip_timing(text: str) -> str:
    """A notebook without papermill's start/end times and durations (notebook and cells)."""
    nb = nbformat.reads(text, as_version=4)
    for meta in [nb.metadata, *(c.metadata for c in nb.cells)]:
        for k in TIMING:
            meta.get("papermill", {}).pop(k, None)
    return nbformat.writes(nb)


def _files(out: Path) -> dict[str, str]:
    got = {}
    for p in sorted(out.rglob("*")):
        name = p.relative_to(out).as_posix()
        if p.is_dir() or name == "manifest.json":
            continue
        text = p.read_text(encoding="utf-8")
        got[name] = _strip_timing(text) if name.endswith(".ipynb") else text
    return got


def _untimed_pages(manifest: dict) -> dict:
    return {
        k: {f: v for f, v in e.items() if f not in ("seconds", "built_at", "worker")}
        for k, e in manifest["pages"].items()
    }


def test_pages_built_on_the_cluster_equal_the_local_run(cluster, tmp_path):
    from click.testing import CliRunner

    from assesskit.cli import main

    base = tmp_path / "project"
    write_panel(base / "data")
    entry = {
        "years": "latest",
        "units_only": ["nanhai", "sanshui"],
        "compare": [{"id": "nv", "set": {"vetoes": []}}],
    }
    spec = write_spec(base, entry=entry)
    local = run_report(spec, jobs=1, base=base, out=base / "local", progress=False)
    assert local.ok, local.failures
    assert not (cluster.cwd / "data").exists()  # the workers cannot read the spec's paths
    cwd = os.getcwd()
    os.chdir(base)
    try:
        res = CliRunner().invoke(
            main, ["report", "--run", "run.yaml", "--scheduler", cluster.address, "--out", "remote"]
        )
    finally:
        os.chdir(cwd)
    assert res.exit_code == 0, res.output
    want, got = _files(base / "local"), _files(base / "remote")
    assert sorted(got) == sorted(want)
    # 2 unit pages, the overview, the comparison: html + ipynb each, and the index
    assert len([n for n in want if n.endswith(".html")]) == 5 and len(want) == 9, sorted(want)
    for name in want:
        assert got[name] == want[name], name
    m_local = json.loads((base / "local" / "manifest.json").read_text(encoding="utf-8"))
    m_remote = json.loads((base / "remote" / "manifest.json").read_text(encoding="utf-8"))
    assert _untimed_pages(m_remote) == _untimed_pages(m_local)
    assert m_remote["execution"]["scheduler"] == cluster.address
    assert m_local["execution"]["scheduler"] == "local"
    assert len(m_remote["execution"]["workers"]) == 2
    for v in m_remote["execution"]["workers"].values():
        assert v["versions"]["assesskit"] == m_remote["assesskit"]
    workers = {e["worker"] for e in m_remote["pages"].values()}
    assert workers <= set(m_remote["execution"]["workers"])
    # papermill's own metadata is in the notebooks: parameters, and where they came from
    nb = nbformat.read(base / "remote" / "2010" / "nanhai.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters["unit"] == "nanhai"
    assert nb.metadata.papermill.input_path == "unit_report.ipynb"
    assert nb.metadata.papermill.output_path == "2010/nanhai.ipynb"
    assert nb.metadata.papermill.exception is None and nb.metadata.papermill.duration > 0


def _journal_lines(out: Path) -> int:
    try:
        return (out / JOURNAL_NAME).read_text(encoding="utf-8").count("\n")
    except OSError:
        return 0


def _busy_worker(c) -> tuple[tuple[int, str], list[str]]:
    """A worker building a page now: ((pid, address), the keys it is processing)."""
    from distributed import Client

    t0 = time.monotonic()
    with Client(c.address, timeout="30s") as client:
        while True:
            for addr, keys in client.processing().items():
                pages = [k for k in keys if str(k).startswith("assesskit-page-")]
                if pages:
                    pid = client.run(os.getpid, workers=[addr])[addr]
                    return (pid, addr), [str(k) for k in pages]
            assert time.monotonic() - t0 < 120, "no worker is building a page"
            time.sleep(0.05)


def test_a_worker_killed_mid_run_has_its_pages_rebuilt_elsewhere(tmp_path):
    c = start_cluster(tmp_path / "workers-cwd", n_workers=2)
    try:
        base = tmp_path / "project"
        write_panel(base / "data")
        thin_template(base / "slow.ipynb", "import time\ntime.sleep(3)\nprint(unit, year)")
        write_spec(base, entry={"years": "latest", "overview": False}, templates={"unit": "slow.ipynb"})
        proc = sp.Popen(
            [sys.executable, "-m", "assesskit.cli", "report", "--run", "run.yaml", "--scheduler", c.address],
            cwd=base,
            env=_env(),
            stdout=sp.PIPE,
            stderr=sp.PIPE,
            text=True,
        )
        t0 = time.monotonic()
        while _journal_lines(base / "out") < 1:  # pages are being built now
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() - t0 < 300, "no page finished"
            time.sleep(0.1)
        victim, in_flight = _busy_worker(c)
        c.kill_worker(next(p for p in c.workers if p.pid == victim[0]))
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, out + err
        m = json.loads((base / "out" / "manifest.json").read_text(encoding="utf-8"))
        assert sorted(m["pages"]) == [
            f"2010/{u}.html" for u in ("chancheng", "gaoming", "nanhai", "sanshui", "shunde")
        ]
        assert all(e["status"] == "ok" for e in m["pages"].values())
        assert all((base / "out" / p).exists() for p in m["pages"])
        # the page the killed worker was building was built by the other one
        rebuilt = [
            e
            for e in m["pages"].values()
            if any(k.startswith(f"assesskit-page-{e['key'][:12]}") for k in in_flight)
        ]
        assert rebuilt and all(e["worker"] not in (None, victim[1]) for e in rebuilt), (rebuilt, victim)
    finally:
        c.close()


def test_a_worker_with_other_versions_is_refused_by_name(cluster, tmp_path, monkeypatch):
    import assesskit.report.provenance as provenance

    real = provenance.versions
    monkeypatch.setattr(provenance, "versions", lambda: {**real(), "pandas": "0.0-fake"})  # the client's
    write_panel(tmp_path / "data")
    tpl = thin_template(tmp_path / "t.ipynb", "print(unit)")
    spec = write_spec(tmp_path, entry={"years": "latest", "overview": False}, templates={"unit": str(tpl)})
    with pytest.raises(ReportError) as e:
        run_report(spec, base=tmp_path, scheduler=cluster.address, progress=False)
    msg = str(e.value)
    assert "worker tcp://127.0.0.1:" in msg and f"pandas {real()['pandas']} (client 0.0-fake)" in msg
    assert not list((tmp_path / "out").rglob("*.html"))


def test_check_versions_names_every_differing_worker():
    from assesskit.report.cluster import check_versions

    mine = {"assesskit": "1", "numpy": "2"}
    check_versions(mine, {"tcp://a": dict(mine)})  # the same: accepted
    with pytest.raises(ReportError) as e:
        check_versions(mine, {"tcp://a": dict(mine), "tcp://b": {"assesskit": "0", "numpy": "2"}})
    assert "worker tcp://b: assesskit 0 (client 1)" in str(e.value) and "tcp://a" not in str(e.value)


def test_progress_prints_a_line_every_five_percent_without_a_terminal():
    from assesskit.report.cluster import Progress

    buf = io.StringIO()  # not a terminal
    p = Progress(40, "run", file=buf)
    for i in range(1, 41):
        p.update(i, 2, 2)
    p.close()
    lines = buf.getvalue().splitlines()
    # the first page (the run has started), then every 2 pages = 5 %: 1 + 20 lines
    assert len(lines) == 21 and "\r" not in buf.getvalue()
    assert lines[0] == "run: 1/40 pages (2%), 2/2 workers" and lines[1] == "run: 2/40 pages (5%), 2/2 workers"
    assert lines[-1] == "run: 40/40 pages (100%), 2/2 workers"


def test_engine_is_registered_as_papermill_entry_point_and_keeps_its_kernel_warm(tmp_path, monkeypatch):
    import papermill
    from papermill.engines import papermill_engines

    from assesskit.report import engine, papermill_entry

    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert (
        '[project.entry-points."papermill.engine"]\n'
        'assesskit = "assesskit.report.papermill_entry:WarmEngine"' in text
    )
    # what the entry point does when installed: the stand-in, which hands over to the engine
    papermill_engines.register("assesskit", papermill_entry.WarmEngine)
    thin_template(tmp_path / "t.ipynb", "import os\nprint(os.getpid(), 'leak' in globals())\nleak = 1")
    monkeypatch.chdir(tmp_path)
    seen = []
    try:
        for i in range(2):
            nb = papermill.execute_notebook(
                "t.ipynb",
                f"o{i}.ipynb",
                parameters={"unit": f"u{i}"},
                engine_name="assesskit",
                progress_bar=False,
            )
            seen.append(nb.cells[-1].outputs[0]["text"].split())
    finally:
        engine.default_session().shutdown()
    assert seen[0][0] == seen[1][0]  # the same kernel process ran both notebooks
    assert seen[0][1] == seen[1][1] == "False"  # and the second did not see the first's variables
    assert nbformat.read(tmp_path / "o1.ipynb", as_version=4).metadata.papermill.parameters == {"unit": "u1"}


def test_pages_of_other_package_versions_are_rebuilt_not_mixed(cluster, tmp_path):
    write_panel(tmp_path / "data")
    tpl = thin_template(tmp_path / "t.ipynb", "print(unit)")
    entry = {"years": "latest", "overview": False, "units_only": ["nanhai", "sanshui"]}
    spec = write_spec(tmp_path, entry=entry, templates={"unit": str(tpl)})
    first = run_report(spec, base=tmp_path, scheduler=cluster.address, progress=False)
    assert first.ok and first.n_built == 2
    again = run_report(spec, base=tmp_path, scheduler=cluster.address, progress=False)
    assert again.n_built == 0  # same versions: kept
    path = tmp_path / "out" / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m["packages"]["numpy"] = "0.0-old"  # as if built before an upgrade
    path.write_text(json.dumps(m), encoding="utf-8")
    third = run_report(spec, base=tmp_path, scheduler=cluster.address, progress=False)
    assert third.n_built == 2
    assert any("numpy 0.0-old →" in w and "every page is rebuilt" in w for w in third.warnings)


def test_engine_module_imports_first_in_a_fresh_interpreter():
    """Importing the engine before papermill must work: papermill loads its entry points while
    it is imported, and an entry point naming the engine module itself would be circular."""
    import subprocess
    import sys

    code = (
        "import assesskit.report.engine as e, papermill.engines as pe; "
        "print(pe.papermill_engines.get_engine('assesskit').__name__, e.WarmEngine.__name__)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["WarmEngine", "WarmEngine"]


def _plugin_and_job(tmp_path: Path, **plugin_args):
    """A warm-kernel plugin set up for a one-template run, outside Dask, and that run's jobs."""
    from types import SimpleNamespace

    from assesskit.report.cluster import WarmKernelPlugin, _read_inputs
    from assesskit.report.keys import code_paths

    write_panel(tmp_path / "data")
    tpl = thin_template(tmp_path / "t.ipynb", "print(unit, year)")
    spec = load_run_spec(
        write_spec(tmp_path, entry={"years": "latest", "overview": False}, templates={"unit": str(tpl)})
    )
    _, jobs = plan_run(spec, tmp_path)
    run_id, meta, blobs = _read_inputs(jobs, tmp_path)
    kernel = spec.kernel.model_dump()
    plugin = WarmKernelPlugin(
        run_id=run_id, kernel=kernel, code=spec.code, code_paths=code_paths(), **plugin_args
    )
    plugin.setup(SimpleNamespace(address="in-process", state=SimpleNamespace(nthreads=1)))
    job = jobs[0]

    def build():
        files = {f: (*meta[f], blobs[f]) for f in (*job.files, job.template)}
        return plugin.build(job, blobs[job.template], files, run_id, kernel, spec.code)

    return plugin, run_id, build


def test_a_plugin_set_up_for_a_run_starts_the_kernel_its_first_page_uses(tmp_path):
    """The worker's kernel starts when the plugin is set up (while the client checks versions
    and ships the inputs), in the run's staging folder, and the first page runs in it."""
    from assesskit.report.provenance import code_sha256

    plugin, run_id, build = _plugin_and_job(tmp_path)
    try:
        (slot,) = plugin.all  # one slot per worker thread, made at set-up
        slot.thread.submit(lambda: None).result(timeout=300)  # the warm-up has run
        assert slot.session.alive and slot.session.base_dir == str(plugin.root / run_id)
        pid = slot.session._process().pid
        out = build()
        assert out.status == "ok", out.error
        assert slot.session._process().pid == pid and slot.session.runs == 1
        assert plugin.versions["assesskit_code"] == code_sha256()
    finally:
        plugin.teardown(None)


def test_a_kernel_that_fails_to_warm_up_is_started_by_the_first_page(tmp_path, monkeypatch):
    from assesskit.report.kernel import KernelError, KernelSession

    real, calls = KernelSession.start, []

    def start(self):
        calls.append(self.base_dir)
        if len(calls) == 1:
            raise KernelError("the kernel did not start: simulated")
        real(self)

    monkeypatch.setattr(KernelSession, "start", start)
    plugin, _run_id, build = _plugin_and_job(tmp_path)
    try:
        out = build()
        assert out.status == "ok", out.error
        assert len(calls) == 2 and calls[0] == calls[1]
    finally:
        plugin.teardown(None)


def test_worker_processes_of_a_local_cluster_import_nbformat_without_the_iri_grammar():
    """A process the run started skips rfc3987_syntax's grammars (~1.3 s per process);
    nbformat still reads, validates and writes notebooks there. A process that already
    imported jsonschema (someone else's) is left as it is."""
    code = (
        "import sys, signal\n"
        "from types import SimpleNamespace\n"
        "from assesskit.report.cluster import WarmKernelPlugin\n"
        "p = WarmKernelPlugin(own_process=True)\n"
        "p.setup(SimpleNamespace(address='x', state=SimpleNamespace(nthreads=1)))\n"
        "import nbformat\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')])\n"
        "nbformat.validate(nbformat.reads(nbformat.writes(nb), as_version=4))\n"
        "print(sys.modules['rfc3987_syntax'] is None, signal.getsignal(signal.SIGINT) is signal.SIG_IGN)\n"
        "p.teardown(None)\n"
    )
    other = (
        "import sys, jsonschema\n"
        "from assesskit.report.cluster import _skip_iri_grammar\n"
        "before = sys.modules.get('rfc3987_syntax')\n"
        "_skip_iri_grammar()\n"
        "print(sys.modules.get('rfc3987_syntax') is before)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for src, expected in ((code, ["True", "True"]), (other, ["True"])):
        r = sp.run([sys.executable, "-c", src], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == expected


@pytest.mark.skipif(
    "forkserver" not in __import__("multiprocessing").get_all_start_methods(), reason="no fork server here"
)
def test_a_local_cluster_forks_its_workers_from_a_server_that_imported_their_modules(monkeypatch):
    """The workers' imports are paid once per client process (by the fork server), the IRI
    grammar is skipped there, the profiler is off, a worker warmed up for a run loads no
    pandas, and none of it leaks into the client's Dask settings. Dask's malloc setting
    reaches neither the client nor a kernel (a worker elsewhere may have it: here the
    client's environment brings it to the worker, as a remote nanny would)."""
    import dask
    import psutil
    from distributed import Client

    from assesskit.report.cluster import PLUGIN_NAME, WarmKernelPlugin, local_cluster

    def probe(dask_worker):
        import os
        import sys

        import dask

        plugin = dask_worker.plugins[PLUGIN_NAME]
        plugin.warming.join(120)  # the exporter and the modules a page needs
        for slot in plugin.all:
            slot.thread.submit(lambda: None).result(120)  # the kernel has started
        return (
            "assesskit.report._worker_start" in sys.modules,
            sys.modules.get("rfc3987_syntax", "absent") is None,
            dask.config.get("distributed.worker.profile.enabled"),
            os.environ.get("AK_SET_AFTER_THE_SERVER"),
            all(slot.session.alive for slot in plugin.all),
            os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            [
                psutil.Process(s.session._process().pid).environ().get("MALLOC_TRIM_THRESHOLD_")
                for s in plugin.all
            ],
            sorted(
                m
                for m in ("pandas", "scipy", "assesskit.report.pages", "assesskit.report.plan")
                if m in sys.modules
            ),
        )

    before = dask.config.get("distributed.worker.multiprocessing-method")
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    cluster = local_cluster(2)  # the fork server runs from here on (or from an earlier test)
    try:
        # Dask's nanny sets it in its own process (the client's) unless told not to
        assert "MALLOC_TRIM_THRESHOLD_" not in os.environ
        with Client(cluster) as client:
            monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
            os.environ["AK_SET_AFTER_THE_SERVER"] = "seen"  # the plugin brings the client's environment
            try:
                kernel = {"reuse": True, "restart_every": 0, "timeout": 600, "startup_timeout": 120}
                plugin = WarmKernelPlugin(own_process=True, run_id="r", kernel=kernel, code="folded")
                client.register_plugin(plugin, name=PLUGIN_NAME)
            finally:
                del os.environ["AK_SET_AFTER_THE_SERVER"]
            seen = client.run(probe)
    finally:
        cluster.close()
    # a worker warmed up for a run has its kernel, and neither pandas nor the page helpers
    expected = [True, True, False, "seen", True, "65536", [None], []]  # (tuples come back as lists)
    assert len(seen) == 2 and all(list(v[:7]) + [list(v[7])] == expected for v in seen.values()), seen
    assert dask.config.get("distributed.worker.multiprocessing-method") == before
    assert dask.config.get("distributed.worker.profile.enabled") is True
