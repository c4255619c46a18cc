"""Fault corpus for the command line (issue 16): bad YAML, scheme names, output locations,
full disks, failed swaps, Ctrl-C, and hostile cells.

Every case asserts the exit status, that no traceback reached the user, that the message
names the place (file, line, key or path), and that the output folder holds the previous
complete result or nothing.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from assesskit import _io
from tests.faults.harness import (
    assert_clean_failure,
    assert_previous_or_nothing,
    assert_success,
    run_cli,
    snapshot,
)

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"
MINI = FIX / "mini.yaml"
MINI_CSV = FIX / "mini.csv"
OUTPUTS = ["summary.csv", "items.csv", "lines.csv", "run.json"]


def score(out: Path, scheme: object = MINI, data: object = MINI_CSV, *extra: object, **kw):
    return run_cli(["score", "--scheme", scheme, "--data", data, "--out", out, *extra], **kw)


@pytest.fixture
def previous(tmp_path) -> tuple[Path, dict[str, str]]:
    """An output folder holding a complete earlier result, and its snapshot."""
    out = tmp_path / "out"
    assert_success(score(out))
    before = snapshot(out)
    assert sorted(before) == sorted(OUTPUTS)
    return out, before


def no_leftovers(out: Path) -> None:
    """No temporary sibling of the output folder is left behind."""
    left = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    assert not left, left


# ---- duplicate keys: the last one must not silently win


def test_duplicate_key_in_a_scheme_rule(tmp_path, previous):
    out, before = previous
    text = (ROOT / "params/schemes/district_1000.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "district.yaml"
    bad.write_text(text.replace('op: ">=",', 'op: ">=", op: "<=",', 1), encoding="utf-8")
    lineno = text[: text.index('op: ">=",')].count("\n") + 1
    r = score(out, bad)
    assert_clean_failure(r, code=2, names=[str(bad), f"line {lineno}", "key 'op' is given twice"])
    assert_previous_or_nothing(out, before)
    r = run_cli(["validate", bad])  # validate says so too (it said "ok" before)
    assert_clean_failure(r, code=2, names=[str(bad), f"line {lineno}", "'op'"])


def test_duplicate_key_in_a_sensitivity_spec(tmp_path):
    from assesskit.datasets.demo import FILE_NAMES, write_demo_data

    data = write_demo_data(tmp_path / "demo", schemes=["wujin_2016"]) / "wujin_2016"
    lines = (ROOT / "params/sensitivity/wujin_2016.yaml").read_text(encoding="utf-8").splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("draws:"))
    spec = tmp_path / "spec.yaml"
    spec.write_text("\n".join(lines[: i + 1] + ["draws: 10"] + lines[i + 1 :]) + "\n", encoding="utf-8")
    out = tmp_path / "sa"
    r = run_cli(
        ["sensitivity", "--scheme", "wujin_2016", "--data", data / FILE_NAMES["data"], "--units"]
        + [data / FILE_NAMES["units"], "--grades", data / FILE_NAMES["grades"], "--year", 2016]
        + ["--spec", spec, "--out", out]
    )
    assert_clean_failure(r, code=2, names=[str(spec), f"line {i + 2}", "key 'draws' is given twice"])
    assert_previous_or_nothing(out, None)


def test_duplicate_key_in_a_run_spec(tmp_path):
    spec = tmp_path / "run.yaml"
    spec.write_text("name: x\ntitle: t\nname: y\nschemes:\n  - scheme: wujin_2016\n", encoding="utf-8")
    out = tmp_path / "reports"
    r = run_cli(["report", "--run", spec, "--out", out])
    assert_clean_failure(r, code=2, names=[str(spec), "line 3", "key 'name' is given twice"])
    assert_previous_or_nothing(out, None)


# ---- broken YAML


@pytest.mark.parametrize(
    "name, content, names",
    [
        ("tabs.yaml", "id: x\nlines:\n\t- id: a\n", ["line 3, column 1", "'\\t'"]),
        ("quote.yaml", 'id: "unclosed\nlabel: x\n', ["broken YAML (line"]),
        ("list.yaml", "- id: x\n- id: y\n", ["must be a mapping of keys, got list"]),
        ("empty.yaml", "", ["the scheme file is empty"]),
        ("binary.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["UTF-8"]),
        ("nul.yaml", b"id: x\x00\n", ["not a text file (it contains NUL bytes)"]),
    ],
)
def test_broken_scheme_yaml(tmp_path, previous, name, content, names):
    out, before = previous
    bad = tmp_path / name
    (bad.write_bytes if isinstance(content, bytes) else bad.write_text)(content)
    r = score(out, bad)
    assert_clean_failure(r, code=2, names=[str(bad), *names])
    assert_previous_or_nothing(out, before)


# ---- scheme names


def test_unknown_scheme_id(tmp_path):
    out = tmp_path / "out"
    r = score(out, "no_such_scheme")
    assert_clean_failure(r, code=2, names=["no_such_scheme", "district_1000"])  # lists the bundled ids
    assert_previous_or_nothing(out, None)


def test_scheme_id_with_a_folder_part_does_not_escape(tmp_path):
    out = tmp_path / "out"
    r = score(out, "../runs/demo")  # params/runs/demo.yaml exists next to the schemes
    assert_clean_failure(r, code=2, names=["../runs/demo", "a bundled scheme id has no folder part"])
    assert_previous_or_nothing(out, None)
    r = score(out, tmp_path / ".." / "missing.yaml")
    assert_clean_failure(r, code=2, names=["missing.yaml", "no such scheme file"])
    assert_previous_or_nothing(out, None)


# ---- full disk and failed swaps


def _enospc_at(monkeypatch, name: str) -> None:
    real = _io._write_one

    def full(p, obj):
        if p.name == name:
            raise OSError(errno.ENOSPC, "No space left on device", str(p))
        real(p, obj)

    monkeypatch.setattr(_io, "_write_one", full)


@pytest.mark.parametrize("name", OUTPUTS)
def test_disk_full_at_each_output_file(previous, monkeypatch, name):
    out, before = previous
    _enospc_at(monkeypatch, name)
    r = score(out)
    assert_clean_failure(r, code=2, names=[str(out / name), "No space left on device", "free some space"])
    assert_previous_or_nothing(out, before)
    no_leftovers(out)


def test_disk_full_on_a_first_run_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _enospc_at(monkeypatch, "lines.csv")
    assert_clean_failure(score(out), code=2, names=[str(out / "lines.csv"), "No space left on device"])
    assert_previous_or_nothing(out, None)
    no_leftovers(out)


@pytest.mark.parametrize("command", ["demo-data", "import-coinr", "json-schema"])
def test_disk_full_in_the_other_writing_commands(tmp_path, monkeypatch, command):
    real = _io._write_one
    calls = []

    def full(p, obj):
        calls.append(p.name)
        if len(calls) == 2 or command == "json-schema":
            raise OSError(errno.ENOSPC, "No space left on device", str(p))
        real(p, obj)

    monkeypatch.setattr(_io, "_write_one", full)
    out = tmp_path / "out"
    if command == "demo-data":
        args = ["demo-data", "--out", out, "--scheme", "wujin_2016"]
    elif command == "import-coinr":
        ref = ROOT / "assesskit/datasets/reference"
        args = ["import-coinr", "--idata", ref / "asem_idata.csv", "--imeta", ref / "asem_imeta.csv"]
        args += ["--out", out, "--id", "asem"]
    else:
        out.mkdir()
        args = ["json-schema", "--out", out / "scheme.schema.json"]
    r = run_cli(args)
    assert_clean_failure(r, code=2, names=[str(out), "No space left on device"])
    assert_previous_or_nothing(out, None)
    no_leftovers(out)


def test_failed_rename_in_the_middle_of_the_swap(previous, monkeypatch):
    out, before = previous
    real, calls = os.rename, []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the earlier folder is aside; moving the new one in fails
            raise OSError(errno.EIO, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(_io.os, "rename", flaky)
    r = score(out)
    assert_clean_failure(r, code=2, names=[str(out), "swap the new outputs in", "Input/output error"])
    assert len(calls) == 3  # the third rename put the earlier folder back
    monkeypatch.setattr(_io.os, "rename", real)
    assert_previous_or_nothing(out, before)
    no_leftovers(out)


def test_real_full_disk_on_a_small_tmpfs(tmp_path, monkeypatch):
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _mount(disk, "size=16k"):
        pytest.skip("mounting a tmpfs is not allowed here; the injected ENOSPC cases cover this")
    try:
        out = disk / "out"
        r = score(out)  # a 16 KiB disk holds the mini result ...
        assert_success(r)
        before = snapshot(out)
        big = tmp_path / "big.csv"  # ... but not the result of 300 units
        rows = ["unit,year,category,births,male_births,female_births,policy_births,g1,fals"]
        rows += [f"U{i:04d},2016,rural,200,103,97,199,20,0" for i in range(300)]
        big.write_text("\n".join(rows) + "\n", encoding="utf-8")
        r = score(out, MINI, big)
        assert_clean_failure(r, code=2, names=[str(out), "No space left on device"])
        assert_previous_or_nothing(out, before)
        no_leftovers(out)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


# ---- output locations


@pytest.mark.parametrize("command", ["score", "demo-data", "import-coinr"])
def test_out_is_a_file(tmp_path, command):
    f = tmp_path / "taken.txt"
    f.write_text("keep me", encoding="utf-8")
    args = {
        "score": ["score", "--scheme", MINI, "--data", MINI_CSV, "--out", f],
        "demo-data": ["demo-data", "--out", f],
        "import-coinr": ["import-coinr", "--idata", MINI_CSV, "--imeta", MINI_CSV, "--out", f],
    }[command]
    assert_clean_failure(run_cli(args), code=2, names=[str(f), "exists and is not a folder"])
    assert f.read_text(encoding="utf-8") == "keep me"


def test_out_below_a_file(tmp_path):
    f = tmp_path / "taken.txt"
    f.write_text("keep me", encoding="utf-8")
    r = score(f / "sub")
    assert_clean_failure(r, code=2, names=[str(f), "is a file"])
    assert f.read_text(encoding="utf-8") == "keep me"


def test_out_holding_other_files_is_refused(previous):
    out, _ = previous
    (out / "mine.xlsx").write_bytes(b"PK")
    before = snapshot(out)
    assert_clean_failure(score(out), code=2, names=[str(out), "holds other files (mine.xlsx)"])
    assert_previous_or_nothing(out, before)


def _mount(folder: Path, options: str) -> bool:
    if shutil.which("mount") is None:
        return False
    cmd = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)]
    return subprocess.run(cmd, capture_output=True).returncode == 0


def test_out_in_a_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    mounted = False
    try:
        if os.access(ro, os.W_OK):  # root: permissions are not enforced; try a read-only mount
            ro.chmod(0o755)
            mounted = _mount(ro, "ro,size=16k")
            if not mounted:
                pytest.skip("permissions are not enforced for this user and mounting is not allowed")
        out = ro / "out"
        r = score(out)
        reason = "Read-only file system" if mounted else "Permission denied"
        assert_clean_failure(r, code=2, names=[str(out), reason, "another folder"])
        assert_previous_or_nothing(out, None)
    finally:
        if mounted:
            subprocess.run(["umount", str(ro)], check=False)
        ro.chmod(0o755)


# ---- Ctrl-C


def test_ctrl_c_while_writing(previous, monkeypatch):
    out, before = previous
    real = _io._write_one

    def interrupted(p, obj):
        if p.name == "items.csv":
            raise KeyboardInterrupt
        real(p, obj)

    monkeypatch.setattr(_io, "_write_one", interrupted)
    r = score(out)
    assert_clean_failure(r, code=130, names=["interrupted"])
    assert_previous_or_nothing(out, before)
    no_leftovers(out)


def test_ctrl_c_during_the_swap(previous, monkeypatch):
    out, before = previous
    real, calls = os.rename, []

    def interrupted(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(_io.os, "rename", interrupted)
    assert_clean_failure(score(out), code=130, names=["interrupted"])
    monkeypatch.setattr(_io.os, "rename", real)
    assert_previous_or_nothing(out, before)
    no_leftovers(out)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_real_sigint_while_reading_the_panel(tmp_path, previous):
    """A real process gets a real SIGINT while blocked reading its panel (a named pipe)."""
    out, before = previous
    fifo = tmp_path / "panel.csv"
    os.mkfifo(fifo)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "assesskit.cli", "score", "--scheme", MINI, "--data", fifo, "--out", out]
    p = subprocess.Popen(
        [str(c) for c in cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    writer = None
    try:
        deadline = time.monotonic() + 120
        while writer is None:  # opening the write end succeeds once the process reads the pipe
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO or time.monotonic() > deadline or p.poll() is not None:
                    raise
                time.sleep(0.05)
        time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        stdout, stderr = p.communicate(timeout=60)
    finally:
        if writer is not None:
            os.close(writer)
        if p.poll() is None:
            p.kill()
    from tests.faults.harness import CliOutcome

    assert_clean_failure(CliOutcome(p.returncode, stdout, stderr), code=130, names=["interrupted"])
    assert_previous_or_nothing(out, before)


# ---- hostile cells


def test_formula_cells_in_unit_ids_and_names_are_accepted_and_neutralised(tmp_path):
    data = tmp_path / "panel.csv"
    data.write_text(MINI_CSV.read_text().replace("\nC,", "\n=1+1,").replace("\nD,", "\n@SUM(A1),"))
    units = tmp_path / "units.csv"
    units.write_text("unit,name\nA,+A\nB,-cmd|' /C calc'!A0\n=1+1,=HYPERLINK(\"x\")\n@SUM(A1),D\n")
    out = tmp_path / "out"
    assert_success(score(out, MINI, data, "--units", units))
    raw = (out / "summary.csv").read_text(encoding="utf-8-sig")
    for cell in ("'=1+1", "'@SUM(A1)", "'+A", "'-cmd|' /C calc'!A0", '\'=HYPERLINK(""x"")'):
        assert cell in raw, cell
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert all(not str(v).startswith(tuple("=+-@")) for v in summary[["unit", "name"]].to_numpy().ravel())
    assert summary["total"].dtype == float and (summary["total"].dropna() >= 0).all()


def test_unit_name_with_html_script_is_kept_as_text(tmp_path):
    units = tmp_path / "units.csv"
    units.write_text('unit,name\nA,<script>alert("x")</script>\nB,B\nC,C\nD,D\n')
    out = tmp_path / "out"
    r = score(out, MINI, MINI_CSV, "--units", units)
    assert_success(r)
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig").set_index(["unit", "year"])
    assert summary.loc[("A", 2016), "name"] == '<script>alert("x")</script>'  # data in a CSV: kept as is
    assert summary.loc[("A", 2016), "total"] == 90  # and scored like any other name


def test_internal_error_is_short_and_exit_1(tmp_path, monkeypatch):
    import assesskit.cli as cli

    monkeypatch.setattr(cli, "score_files", lambda *a, **k: {}["boom"])
    r = score(tmp_path / "out")
    assert_clean_failure(r, code=1, names=["internal error: KeyError: 'boom'", "ASSESSKIT_DEBUG=1"])
    assert_previous_or_nothing(tmp_path / "out", None)


def test_a_real_process_prints_no_traceback(tmp_path):
    bad = tmp_path / "dup.yaml"
    bad.write_text(MINI.read_text(encoding="utf-8") + "id: again\n", encoding="utf-8")
    out = tmp_path / "out"
    r = score(out, bad, subprocess=True)
    assert_clean_failure(r, code=2, names=[str(bad), "key 'id' is given twice", "first on line 1"])
    assert_previous_or_nothing(out, None)
