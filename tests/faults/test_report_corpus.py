"""Fault corpus, report runs (issue 16): bad run specs and templates, output locations,
hostile ids, Ctrl-C, SIGKILL and rerun, two runs at once, a full disk.

Each case checks the exit status, that no traceback reached the user, that the message
names the place, and that the output folder holds the previous complete result or nothing.
Runs that execute notebooks use a thin template (a short sleep and a print), one year and
two or three units of Foshan's synthetic panel.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess as sp
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from assesskit.report.lock import LOCK_NAME
from assesskit.report.manifest import JOURNAL_NAME

from ..test_report import thin_template, write_panel
from .harness import _env, assert_clean_failure, assert_previous_or_nothing, assert_success, run_cli, snapshot

THREE = ["nanhai", "sanshui", "shunde"]


def spec_file(base: Path, templates: dict | None = None, **entry) -> Path:
    raw = {
        "name": "c",
        "out": "out",
        "schemes": [
            {
                "scheme": "foshan_2006",
                "data": "data/data.csv",
                "units": "data/units.csv",
                "targets": "data/targets.csv",
                "years": "latest",
                "overview": False,
                "units_only": THREE,
                **entry,
            }
        ],
    }
    if templates:
        raw["templates"] = templates
    path = base / "run.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def base(tmp_path) -> Path:
    write_panel(tmp_path / "data")
    thin_template(tmp_path / "slow.ipynb", "import time\ntime.sleep(0.5)\nprint(unit, year)")
    return tmp_path


def report(base: Path, *args: object, **kw):
    return run_cli(["report", "--run", base / "run.yaml", "-j", "1", *args], cwd=base, **kw)


# --------------------------------------------------------------------------- refused before any work
def test_unknown_key_in_run_spec(base):
    path = spec_file(base)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["schemes"][0]["unit_only"] = ["nanhai"]
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    out = report(base)
    assert_clean_failure(out, code=2, names=["run.yaml", "schemes › [0] › unit_only", "unknown key"])
    assert_previous_or_nothing(base / "out", None)


def test_template_etc_passwd(base):
    spec_file(base, templates={"unit": "/etc/passwd"})
    out = report(base)
    assert_clean_failure(
        out, code=2, names=["run.yaml", "templates › unit", "/etc/passwd", "not a Jupyter notebook"]
    )
    assert "root:" not in out.text
    assert_previous_or_nothing(base / "out", None)


def test_template_is_a_folder(base):
    (base / "tpl").mkdir()
    spec_file(base, templates={"overview": "tpl"})
    assert_clean_failure(
        report(base), code=2, names=["run.yaml", "templates › overview", "not a regular file"]
    )
    assert_previous_or_nothing(base / "out", None)


def test_template_missing(base):
    spec_file(base, templates={"comparison": "absent.ipynb"})
    assert_clean_failure(
        report(base), code=2, names=["templates › comparison", "absent.ipynb", "no such notebook"]
    )


def test_template_json_but_not_a_notebook(base):
    (base / "t.ipynb").write_text('{"cells": "<script>alert(1)</script>"}', encoding="utf-8")
    spec_file(base, templates={"unit": "t.ipynb"})
    out = report(base)
    assert_clean_failure(out, code=2, names=["templates › unit", "t.ipynb", "notebook"])
    assert "<script>" not in out.text  # the content is never echoed


def test_template_without_parameters_cell(base):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("unit = None\nyear = 0\nprint(unit)")]
    nbformat.write(nb, base / "untagged.ipynb")
    spec_file(base, templates={"unit": "untagged.ipynb"})
    assert_clean_failure(report(base), code=2, names=["templates › unit", "untagged.ipynb", "`parameters`"])
    assert_previous_or_nothing(base / "out", None)


def test_template_declares_unknown_input(base):
    nb = nbformat.read(base / "slow.ipynb", as_version=4)
    nb.metadata["assesskit"] = {"inputs": ["scheme", "weather"]}
    nbformat.write(nb, base / "declared.ipynb")
    spec_file(base, templates={"unit": "declared.ipynb"})
    assert_clean_failure(
        report(base), code=2, names=["declared.ipynb", "metadata.assesskit.inputs", "weather"]
    )


def test_out_option_is_an_existing_file(base):
    spec_file(base, templates={"unit": "slow.ipynb"})
    (base / "taken").write_text("precious", encoding="utf-8")
    t0 = time.perf_counter()
    out = report(base, "--out", base / "taken")
    assert_clean_failure(out, code=2, names=["taken", "exists and is not a folder"])
    assert (base / "taken").read_text(encoding="utf-8") == "precious"
    assert time.perf_counter() - t0 < 30  # refused before any kernel started


def test_spec_out_is_below_a_file(base):
    path = spec_file(base, templates={"unit": "slow.ipynb"})
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    (base / "file").write_text("x", encoding="utf-8")
    raw["out"] = "file/reports"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert_clean_failure(report(base), code=2, names=["file", "is a file", "cannot be a folder"])


def test_missing_data_file(base):
    path = spec_file(base)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["schemes"][0]["data"] = "data/absent.csv"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert_clean_failure(report(base), code=2, names=["absent.csv", "schemes › [0] (foshan_2006)"])
    assert_previous_or_nothing(base / "out", None)


def test_units_only_names_no_unit(base):
    spec_file(base, units_only=["nanhai", "atlantis"])
    assert_clean_failure(report(base), code=2, names=["units_only", "atlantis"])
    assert_previous_or_nothing(base / "out", None)


def test_year_not_scored(base):
    spec_file(base, years=[1999])
    assert_clean_failure(report(base), code=2, names=["1999", "not scored"])
    assert_previous_or_nothing(base / "out", None)


def test_failed_spec_leaves_previous_result(base):
    spec_file(base, templates={"unit": "slow.ipynb"})
    assert_success(report(base))
    before = snapshot(base / "out")
    spec_file(base, templates={"unit": "/etc/passwd"})
    assert_clean_failure(report(base), code=2, names=["/etc/passwd"])
    assert_previous_or_nothing(base / "out", before)


# --------------------------------------------------------------------------- runs
def test_hostile_unit_ids_stay_inside_the_output(tmp_path):
    write_panel(tmp_path / "data", rename={"nanhai": "../../x", "sanshui": "<b onmouseover=alert(1)>"})
    thin_template(tmp_path / "t.ipynb", "print(unit)")
    path = spec_file(
        tmp_path, templates={"unit": "t.ipynb"}, units_only=["../../x", "<b onmouseover=alert(1)>"]
    )
    assert_success(report(tmp_path))
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html"))
    assert all(f.startswith("out/") for f in files) and len(files) == 3, files
    assert not (tmp_path.parent / "x.html").exists()
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<b onmouseover" not in index and "&lt;b onmouseover=alert(1)&gt;" in index
    assert path.exists()


def test_disk_full_in_a_run_exits_2(base, monkeypatch):
    import assesskit._io as io  # a page's files go through it (report.execute._write)

    def full(folder, files):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(io, "write_outputs", full)
    spec_file(base, templates={"unit": "slow.ipynb"})
    out = report(base)
    assert_clean_failure(out, code=2, names=["No space left on device", "out/2010", "run stopped"])
    m = json.loads((base / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert [p["status"] for p in m["pages"].values()] == ["failed"]  # the first page, then it stopped
    assert not (base / "out" / "2010").exists() or not list((base / "out" / "2010").iterdir())


def _popen(base: Path, *args: str) -> sp.Popen:
    return sp.Popen(
        [sys.executable, "-m", "assesskit.cli", "report", "--run", "run.yaml", *args],
        cwd=base,
        env=_env(None),
        stdout=sp.PIPE,
        stderr=sp.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for(pred, proc: sp.Popen, timeout: float = 300) -> None:
    t0 = time.monotonic()
    while not pred():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early ({proc.returncode}): {proc.communicate()}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError("timed out")
        time.sleep(0.05)


def _journal_lines(out: Path) -> int:
    try:
        return (out / JOURNAL_NAME).read_text(encoding="utf-8").count("\n")
    except OSError:
        return 0


@pytest.fixture(scope="module", params=["1", "2"], ids=["one-job", "two-workers"])
def interrupted(request, tmp_path_factory):
    """A real `assesskit report` sent SIGINT after its first page (notebooks on a thread of
    the runner's process with one job; in worker processes with two)."""
    base = tmp_path_factory.mktemp("sigint")
    write_panel(base / "data")
    thin_template(base / "slow.ipynb", "import time\ntime.sleep(2)\nprint(unit, year)")
    spec_file(base, templates={"unit": "slow.ipynb"})
    proc = _popen(base, "-j", request.param)
    _wait_for(lambda: _journal_lines(base / "out") >= 1, proc)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    return base, proc.returncode, stdout + stderr, time.monotonic() - t0


def test_sigint_keeps_finished_pages_and_writes_the_record(interrupted):
    base, _code, text, seconds = interrupted
    out = base / "out"
    assert seconds < 60, seconds  # promptly: not after building the other pages
    assert "Traceback (most recent call last)" not in text
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["interrupted"] is True
    status = {p: e["status"] for p, e in m["pages"].items()}
    assert 1 <= len(status) < 3 and set(status.values()) == {"ok"}, status
    assert "Kernel died" not in json.dumps(m) and "DeadKernelError" not in json.dumps(m)
    built = {p.relative_to(out).as_posix() for p in out.rglob("*.html")} - {"index.html"}
    assert built == set(status)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{p}"' in index for p in status) and "interrupted" in index
    assert not (out / LOCK_NAME).exists() and not (out / JOURNAL_NAME).exists()


def test_sigint_exits_130(interrupted):
    _base, code, text, _seconds = interrupted
    assert code == 130 and "interrupted" in text


def test_sigkill_then_rerun_builds_only_what_is_missing(base):
    from assesskit.report import run_report

    spec = spec_file(base, templates={"unit": "slow.ipynb"})
    proc = _popen(base, "-j", "1")
    _wait_for(lambda: _journal_lines(base / "out") >= 1, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    done = {
        json.loads(x)["page"] for x in (base / "out" / JOURNAL_NAME).read_text(encoding="utf-8").splitlines()
    }
    assert 1 <= len(done) < 3 and not (base / "out" / "manifest.json").exists()
    rerun = run_report(spec, jobs=1, base=base, progress=False)
    rebuilt = set(rerun.pages.loc[rerun.pages["rebuilt"], "page"])
    assert rebuilt == {f"2010/{u}.html" for u in THREE} - done
    clean = run_report(spec, jobs=1, base=base, out=base / "clean", progress=False)
    assert clean.n_built == 3
    got, want = snapshot(base / "out"), snapshot(base / "clean")
    assert set(got) == set(want)
    for name in want:
        if name.endswith(".html") and name != "index.html":
            assert got[name] == want[name], name


def test_two_runs_on_one_folder(base):
    spec_file(base, templates={"unit": "slow.ipynb"})
    first = _popen(base, "-j", "1")
    _wait_for(lambda: (base / "out" / LOCK_NAME).exists(), first)
    second = report(base)
    assert_clean_failure(second, code=2, names=[str(base / "out"), f"pid {first.pid}", "another report run"])
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stdout + stderr
    m = json.loads((base / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(m["pages"]) == [f"2010/{u}.html" for u in THREE]
    assert all(e["status"] == "ok" and e["key"] for e in m["pages"].values())
    assert_success(report(base))  # the lock is gone with the first run
