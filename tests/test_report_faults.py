"""Report runner faults (issue 16) and page keys from declared inputs (issue 11).

Planning-only tests run no kernel. The few that build pages use a thin template (a
parameters cell and a print) and two units of one year, so that each takes seconds.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from assesskit.exceptions import ReportError
from assesskit.report import load_run_spec, plan_run, run_report
from assesskit.report.keys import DEFAULT_INPUTS, INPUTS
from assesskit.report.lock import LOCK_NAME, RunLock
from assesskit.report.manifest import JOURNAL_NAME, read_previous
from assesskit.report.templates import load_template

from .test_report import thin_template, write_panel, write_spec

ROOT = Path(__file__).resolve().parents[1]
TWO = ["nanhai", "sanshui"]


@pytest.fixture
def small(tmp_path):
    """Foshan's synthetic panel; a run of the latest year, two units, no overview."""
    write_panel(tmp_path / "data")
    tpl = thin_template(tmp_path / "thin.ipynb", "print(unit, year)")
    entry = {"years": "latest", "overview": False, "units_only": TWO}
    spec = write_spec(tmp_path, entry=entry, templates={"unit": str(tpl)})
    return tmp_path, spec


def keys_of(spec, base) -> dict[str, str]:
    return {j.page: j.key for j in plan_run(spec, base)[1]}


# --------------------------------------------------------------------------- templates at spec load
def test_template_that_is_not_a_notebook_is_refused_at_load_without_its_content(tmp_path):
    write_panel(tmp_path / "data")
    spec = write_spec(tmp_path, templates={"unit": "/etc/passwd"})
    with pytest.raises(ReportError) as e:
        load_run_spec(spec, base=tmp_path)
    text = str(e.value)
    assert str(spec) in text and "templates › unit" in text and "/etc/passwd" in text
    assert "not a Jupyter notebook" in text
    first_line = Path("/etc/passwd").read_text(encoding="utf-8").splitlines()[0]
    assert first_line not in text and "root:" not in text


def test_template_without_a_parameters_cell_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("unit = 'x'")]  # the defaults, but not tagged
    nbformat.write(nb, tmp_path / "untagged.ipynb")
    spec = write_spec(tmp_path, templates={"overview": "untagged.ipynb"})
    with pytest.raises(ReportError, match=r"templates › overview.*no code cell tagged `parameters`"):
        load_run_spec(spec, base=tmp_path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{}", "not a Jupyter notebook"),  # JSON, but not a notebook
        (
            '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": 3}]}',
            "not a (valid|Jupyter) notebook",  # nbformat may refuse it when reading or validating
        ),
        ("\x00\x01binary", "not a Jupyter notebook"),
    ],
)
def test_template_with_wrong_content_is_refused(tmp_path, content, expected):
    (tmp_path / "t.ipynb").write_text(content, encoding="utf-8")
    with pytest.raises(ReportError, match=expected):
        load_template(tmp_path / "t.ipynb", "unit")


def test_template_declarations_are_checked(tmp_path):
    tpl = thin_template(tmp_path / "t.ipynb", "print(unit)")
    nb = nbformat.read(tpl, as_version=4)
    nb.metadata["assesskit"] = {"inputs": ["scheme", "rows:everything"]}
    nbformat.write(nb, tpl)
    with pytest.raises(ReportError, match=r"unknown \['rows:everything'\]"):
        load_template(tpl, "unit")
    nb.metadata["assesskit"] = {"inputs": ["rows:unit"]}  # an overview has no unit
    nbformat.write(nb, tpl)
    with pytest.raises(ReportError, match=r"\['rows:unit'\] cannot be read by overview pages"):
        load_template(tpl, "overview")
    nb.metadata["assesskit"] = {}
    nbformat.write(nb, tpl)
    t = load_template(tpl, "unit")
    assert not t.declared and t.inputs == DEFAULT_INPUTS["unit"]
    assert "rows:all" in t.inputs and "seed" in t.inputs and "sensitivity_spec" in t.inputs


def test_bundled_templates_declare_their_inputs():
    expected = {
        "unit_report": ("rows:unit", "rows:year", "scheme", "units"),
        "annual_overview": ("rows:to_year", "scheme", "sensitivity_spec", "units"),
        "scheme_comparison": ("rows:year", "scheme", "scheme_b", "units"),
    }
    kinds = {"unit_report": "unit", "annual_overview": "overview", "scheme_comparison": "comparison"}
    for name, inputs in expected.items():
        t = load_template(ROOT / "notebooks" / f"{name}.ipynb", kinds[name])
        assert t.declared and t.inputs == inputs
        assert set(t.inputs) <= set(INPUTS)


# --------------------------------------------------------------------------- keys from declarations
def test_seed_is_in_the_key_of_pages_that_declare_it_only(tmp_path):
    write_panel(tmp_path / "data")
    spec = load_run_spec(write_spec(tmp_path, entry={"years": [2009, 2010]}, seed=0))
    keys = keys_of(spec, tmp_path)
    reseeded = spec.model_copy(update={"seed": 7})
    assert keys_of(reseeded, tmp_path) == keys  # no bundled template reads the seed
    assert all("seed" not in j.parameters for j in plan_run(reseeded, tmp_path)[1])
    tpl = thin_template(tmp_path / "t.ipynb", "print(seed)")
    nb = nbformat.read(tpl, as_version=4)
    nb.metadata["assesskit"] = {"inputs": ["scheme", "rows:unit", "seed"]}
    nbformat.write(nb, tpl)
    with_seed = spec.model_copy(update={"templates": {"unit": str(tpl)}})
    a = {j.page: j for j in plan_run(with_seed, tmp_path)[1]}
    b = {j.page: j for j in plan_run(with_seed.model_copy(update={"seed": 7}), tmp_path)[1]}
    changed = {p for p in a if a[p].key != b[p].key}
    assert changed == {p for p, j in a.items() if j.kind == "unit"} and len(changed) == 10
    assert b["2010/nanhai.html"].parameters["seed"] == 7


def test_editing_the_sensitivity_spec_rebuilds_the_overviews_only(tmp_path, monkeypatch):
    from assesskit.sensitivity import spec as sens

    specs = tmp_path / "sensitivity"
    specs.mkdir()
    monkeypatch.setattr(sens, "specs_dir", lambda: specs)
    write_panel(tmp_path / "data")
    spec = load_run_spec(write_spec(tmp_path, entry={"years": [2009, 2010]}))
    absent = keys_of(spec, tmp_path)
    shutil.copy(ROOT / "params" / "sensitivity" / "district_1000.yaml", specs / "foshan_2006.yaml")
    written = keys_of(spec, tmp_path)
    overviews = {"2009/overview.html", "2010/overview.html"}
    assert {p for p in absent if absent[p] != written[p]} == overviews
    with open(specs / "foshan_2006.yaml", "a", encoding="utf-8") as f:
        f.write("# draws changed\n")
    edited = keys_of(spec, tmp_path)
    assert {p for p in written if written[p] != edited[p]} == overviews


def test_unit_registry_is_read_by_every_bundled_page(tmp_path):
    write_panel(tmp_path / "data")
    spec = load_run_spec(write_spec(tmp_path, entry={"years": "latest"}))
    keys = keys_of(spec, tmp_path)
    reg = pd.read_csv(tmp_path / "data" / "units.csv")
    reg["remark"] = "x"  # a column no title shows
    reg.to_csv(tmp_path / "data" / "units.csv", index=False)
    new = keys_of(spec, tmp_path)
    assert all(keys[p] != new[p] for p in keys) and len(keys) == 6


# --------------------------------------------------------------------------- output folder
def test_out_that_is_a_file_is_refused_before_any_notebook_runs(small, monkeypatch):
    base, spec = small
    import assesskit.report.runner as runner

    def boom(*a, **k):
        raise AssertionError("a notebook ran")

    monkeypatch.setattr(runner, "execute_jobs", boom)
    monkeypatch.setattr(runner, "plan_run", boom)
    f = base / "taken.txt"
    f.write_text("keep me", encoding="utf-8")
    with pytest.raises(ReportError, match=r"taken.txt: exists and is not a folder"):
        run_report(spec, out=f, base=base, progress=False)
    with pytest.raises(ReportError, match=r"taken.txt: is a file, so .*taken.txt/sub cannot be a folder"):
        run_report(spec, out=f / "sub", base=base, progress=False)
    assert f.read_text(encoding="utf-8") == "keep me"


def test_a_second_run_on_a_locked_folder_is_refused(small, monkeypatch):
    base, spec = small
    import assesskit.report.runner as runner

    monkeypatch.setattr(runner, "execute_jobs", lambda *a, **k: pytest.fail("a notebook ran"))
    # nor may it rewrite demo data or hash inputs while the first run's pages read them
    monkeypatch.setattr(runner, "_write_demo", lambda *a, **k: pytest.fail("demo data written"))
    monkeypatch.setattr(runner, "plan_run", lambda *a, **k: pytest.fail("inputs planned"))
    with RunLock(base / "out") as lock:
        assert lock.path.read_text(encoding="ascii").strip() == str(os.getpid())
        with pytest.raises(ReportError) as e:
            run_report(spec, base=base, progress=False)
        assert f"{base / 'out'}: another report run (pid {os.getpid()})" in str(e.value)
    assert not (base / "out" / LOCK_NAME).exists()  # released and removed
    assert os.listdir(base / "out") == []


# --------------------------------------------------------------------------- checkpoints
def test_previous_pages_are_the_manifest_updated_by_the_journal(tmp_path):
    m = {"pages": {"a.html": {"page": "a.html", "key": "1"}, "b.html": {"page": "b.html", "key": "1"}}}
    (tmp_path / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    lines = [json.dumps({"page": "b.html", "key": "2"}), json.dumps({"page": "c.html", "key": "2"})]
    (tmp_path / JOURNAL_NAME).write_text("\n".join(lines) + '\n{"page": "d.ht', encoding="utf-8")  # torn
    prev = read_previous(tmp_path)
    assert {p: e["key"] for p, e in prev.items()} == {"a.html": "1", "b.html": "2", "c.html": "2"}


def test_a_page_whose_input_changed_while_built_is_recorded_without_key(tmp_path):
    from assesskit.report.execute import JobResult
    from assesskit.report.manifest import Journal
    from assesskit.report.plan import Job
    from assesskit.report.runner import _Recorder

    data = tmp_path / "data.csv"
    data.write_text("unit,year\n", encoding="utf-8")
    job = Job(
        "2010/a.html", "unit", "s", 2010, "a", "t.ipynb", {}, "k1", "t", False, (), "", (), (str(data),)
    )
    rec = _Recorder([job], Journal(tmp_path))
    data.write_text("unit,year\nb,2010\n", encoding="utf-8")  # changed after planning
    rec(job, JobResult(page=job.page, status="ok", seconds=1.0))
    rec.journal.close(remove=False)
    assert rec.pages["2010/a.html"]["key"] is None and "data.csv changed" in rec.warnings[0]
    assert read_previous(tmp_path)["2010/a.html"]["key"] is None


# --------------------------------------------------------------------------- disk full
def _enospc(*_a, **_k):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_while_writing_index_keeps_the_previous_record(small, monkeypatch):
    base, spec = small
    first = run_report(spec, jobs=1, base=base, progress=False)
    assert first.ok and first.n_built == 2
    out = base / "out"
    before = {n: (out / n).read_bytes() for n in ("index.html", "manifest.json")}
    import assesskit._io as io
    import assesskit.report.runner as runner

    real = io.write_outputs

    def full(folder, files):
        if "manifest.json" in files:
            _enospc()
        return real(folder, files)

    monkeypatch.setattr(runner, "write_outputs", full)
    with pytest.raises(ReportError) as e:
        run_report(spec, jobs=1, base=base, progress=False, force=True)
    assert "No space left on device" in str(e.value) and str(out) in str(e.value)
    assert {n: (out / n).read_bytes() for n in before} == before  # the old record, whole
    assert not list(out.glob(".assesskit-*")) and not (out / LOCK_NAME).exists()
    assert len((out / JOURNAL_NAME).read_text(encoding="utf-8").splitlines()) == 2  # checkpointed
    monkeypatch.setattr(runner, "write_outputs", real)
    again = run_report(spec, jobs=1, base=base, progress=False)
    assert again.ok and again.n_built == 0  # the journal's pages are up to date
    assert not (out / JOURNAL_NAME).exists()


def test_disk_full_while_writing_a_page_stops_the_run(small, monkeypatch):
    base, spec = small
    import assesskit._io as io  # a page's files go through it (report.execute._write)

    real = io.write_outputs
    calls = []

    def full_on_second(folder, files):
        calls.append(sorted(files))
        if len(calls) == 2:
            _enospc()
        return real(folder, files)

    monkeypatch.setattr(io, "write_outputs", full_on_second)
    with pytest.raises(ReportError, match=r"cannot write .*No space left on device.*run stopped \(1 pages"):
        run_report(spec, jobs=1, base=base, progress=False)
    out = base / "out"
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {p: e["status"] for p, e in m["pages"].items()} == {
        "2010/nanhai.html": "ok",
        "2010/sanshui.html": "failed",
    }
    assert not (out / "2010" / "sanshui.html").exists() and not list(out.rglob(".assesskit-*"))
    assert m["timing"]["rebuilt"] == 2 and m["timing"]["failed"] == 1


# --------------------------------------------------------------------------- a fresh machine
def test_make_setup_installs_what_the_tests_need():
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(["make", "-n", "-B", "setup"], cwd=ROOT, capture_output=True, text=True, check=True)
    cmds = dry.stdout
    for pkgs in ("fonts-wqy-microhei", "chromium chromium-driver"):
        assert f"apt-get install -y -q {pkgs}" in cmds, pkgs
    assert cmds.index("chromium-driver") < cmds.index("-m venv")  # before the tests' environment
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci and "apt-get" not in ci  # CI runs exactly what the README gives
