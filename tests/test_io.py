"""The file layer (assesskit._io) and the one scoring pipeline (assesskit.pipeline).

YAML keys given twice, spreadsheet formula cells, all-or-nothing file sets, the output
folder swapped as one unit, and every OS failure turned into one message naming the path.
"""

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import assesskit as ak
from assesskit import _io
from assesskit._io import (
    OutputError,
    check_replaceable,
    neutralise_formulas,
    read_yaml,
    replace_folder,
    unneutralise_formulas,
    write_outputs,
)
from assesskit.exceptions import ReportError, SchemeError
from assesskit.pipeline import (
    SCORE_FILES,
    load_inputs,
    resolve_scheme,
    score_files,
    write_score_outputs,
)

from .conftest import FIX

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- YAML


def test_duplicate_key_in_a_scheme_rule_is_refused_naming_file_line_and_key(tmp_path):
    text = (ROOT / "params/schemes/district_1000.yaml").read_text(encoding="utf-8")
    line = 'rule: {type: threshold, indicator: policy_rate, op: ">=", target:'
    assert line in text
    p = tmp_path / "district.yaml"
    p.write_text(text.replace(line, line.replace('op: ">=",', 'op: ">=", op: "<=",')), encoding="utf-8")
    with pytest.raises(SchemeError) as e:
        ak.load_scheme(p)
    lineno = text[: text.index(line)].count("\n") + 1  # 112 in the bundled file
    msg = str(e.value)
    assert msg.startswith(f"{p}: line {lineno}, column ")
    assert f"key 'op' is given twice in one mapping (first on line {lineno}, column " in msg


@pytest.mark.parametrize(
    "loader, rel, error",
    [
        ("assesskit.sensitivity.spec:load_spec", "params/sensitivity/wujin_2016.yaml", "SpecError"),
        ("assesskit.report.spec:load_run_spec", "params/runs/demo.yaml", "ReportError"),
    ],
)
def test_duplicate_keys_in_specs_are_refused(tmp_path, loader, rel, error):
    import importlib

    mod, fn = loader.split(":")
    load = getattr(importlib.import_module(mod), fn)
    text = (ROOT / rel).read_text(encoding="utf-8")
    lines = text.splitlines()
    seed = next(i for i, ln in enumerate(lines) if ln.startswith("seed:"))
    p = tmp_path / Path(rel).name
    p.write_text("\n".join(lines[: seed + 1] + ["seed: 7"] + lines[seed + 1 :]) + "\n", encoding="utf-8")
    with pytest.raises(Exception) as e:
        load(p)
    assert type(e.value).__name__ == error
    assert str(e.value) == (
        f"{p}: line {seed + 2}, column 1: key 'seed' is given twice in one mapping "
        f"(first on line {seed + 1}, column 1); give each key once"
    )


def test_yaml_merge_keys_may_be_overridden_and_other_breakage_is_located(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  x: 3\n", encoding="utf-8")
    assert read_yaml(p, SchemeError, "scheme") == {"base": {"x": 1, "y": 2}, "m": {"x": 3, "y": 2}}
    cases = {
        "empty.yaml": ("  \n", "the scheme file is empty"),
        "nul.yaml": ("id: a\x00b\n", "not a text file (it contains NUL bytes)"),
        "tab.yaml": ("a:\n\tb: 1\n", "broken YAML (line 2, column 1): found character '\\t'"),
        "quote.yaml": ('a: "x\n', "broken YAML (line 2, column 1)"),
    }
    for name, (text, expected) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(SchemeError) as e:
            read_yaml(tmp_path / name, SchemeError, "scheme")
        assert str(e.value).startswith(f"{tmp_path / name}: {expected}"), str(e.value)
    with pytest.raises(SchemeError, match="is a folder, not a scheme file"):
        read_yaml(tmp_path, SchemeError, "scheme")


# --------------------------------------------------------------------------- CSV cells


def test_formula_cells_are_neutralised_and_numbers_untouched():
    df = pd.DataFrame(
        {
            "unit": ["=1+1", "-A", "B", "@SUM(A1)", "\tx", "\ry", "+86", None],
            "value": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, -8.0],
            "mixed": pd.Series([-1, "-x", "ok", None, 2.5, "=", "a-b", "'q"], dtype=object),
        }
    )
    got = neutralise_formulas(df)
    assert got["unit"].tolist()[:7] == ["'=1+1", "'-A", "B", "'@SUM(A1)", "'\tx", "'\ry", "'+86"]
    assert pd.isna(got["unit"].iloc[7])
    assert got["value"].tolist() == df["value"].tolist() and got["value"].dtype == float
    assert got["mixed"].tolist() == [-1, "'-x", "ok", None, 2.5, "'=", "a-b", "'q"]
    assert df["unit"].iloc[0] == "=1+1"  # the caller's frame is not modified
    assert neutralise_formulas(df[["value"]]) is not None
    back = unneutralise_formulas(got["unit"])
    assert back.tolist()[:7] == df["unit"].tolist()[:7]
    assert unneutralise_formulas(got["mixed"]).tolist() == [-1, "-x", "ok", None, 2.5, "=", "a-b", "'q"]


def test_csv_written_by_write_outputs_is_neutralised_and_negative_numbers_stay_numbers(tmp_path):
    df = pd.DataFrame({"unit": ["=HYPERLINK(1)", "A"], "total": [-3.5, 2.0]})
    write_outputs(tmp_path, {"t.csv": df})
    raw = (tmp_path / "t.csv").read_bytes().decode("utf-8-sig")
    assert raw == "unit,total\n'=HYPERLINK(1),-3.5\nA,2.0\n"


# --------------------------------------------------------------------------- file sets


def _old_set(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    old = {"a.txt": "old a\n", "b.txt": "old b\n", "c.txt": "old c\n"}
    for k, v in old.items():
        (folder / k).write_text(v, encoding="utf-8")
    return old


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


NEW = {"a.txt": "new a\n", "b.txt": "new b\n", "c.txt": "new c\n"}


def test_write_outputs_disk_full_leaves_earlier_files(tmp_path, monkeypatch):
    old = _old_set(tmp_path / "o")
    real = _io._write_one

    def full(p, obj):
        if p.name == "b.txt":
            raise OSError(errno.ENOSPC, "No space left on device", str(p))
        real(p, obj)

    monkeypatch.setattr(_io, "_write_one", full)
    with pytest.raises(OutputError) as e:
        write_outputs(tmp_path / "o", NEW)
    msg = str(e.value)
    assert "b.txt: cannot write the outputs (No space left on device); free some space" in msg
    assert isinstance(e.value, ReportError)
    assert _contents(tmp_path / "o") == old


@pytest.mark.parametrize("exc", [OSError(errno.EIO, "Input/output error"), KeyboardInterrupt()])
def test_write_outputs_rolls_back_when_a_move_fails_midway(tmp_path, monkeypatch, exc):
    old = _old_set(tmp_path / "o")
    del old["c.txt"]
    (tmp_path / "o" / "c.txt").unlink()  # c.txt is new: a rollback removes it again
    real, calls = os.replace, []

    def flaky(src, dst):
        calls.append(Path(dst).name)
        if len(calls) == 3:  # a.txt and b.txt are in place; c.txt fails
            raise exc
        real(src, dst)

    monkeypatch.setattr(_io.os, "replace", flaky)
    with pytest.raises(OutputError if isinstance(exc, OSError) else KeyboardInterrupt):
        write_outputs(tmp_path / "o", NEW)
    monkeypatch.setattr(_io.os, "replace", real)
    assert _contents(tmp_path / "o") == old
    assert calls[:3] == ["a.txt", "b.txt", "c.txt"]


def test_replace_folder_swaps_the_whole_set(tmp_path):
    _old_set(tmp_path / "o")
    (tmp_path / "o" / "c.txt").unlink()
    replace_folder(tmp_path / "o", {"a.txt": "new a\n", "d.txt": "new d\n"})
    assert _contents(tmp_path / "o") == {"a.txt": "new a\n", "d.txt": "new d\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no temporary sibling left


@pytest.mark.parametrize("exc", [OSError(errno.EXDEV, "Invalid cross-device link"), KeyboardInterrupt()])
def test_replace_folder_failure_in_the_middle_of_the_swap_keeps_the_old_set(tmp_path, monkeypatch, exc):
    old = _old_set(tmp_path / "o")
    real, calls = os.rename, []

    def flaky(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 2:  # the old folder is aside; moving the new one in fails
            raise exc
        real(src, dst)

    monkeypatch.setattr(_io.os, "rename", flaky)
    with pytest.raises(OutputError if isinstance(exc, OSError) else KeyboardInterrupt) as e:
        replace_folder(tmp_path / "o", NEW)
    monkeypatch.setattr(_io.os, "rename", real)
    assert calls[1][1] == "o" and calls[2][1] == "o"  # the third rename put the old set back
    assert _contents(tmp_path / "o") == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]
    if isinstance(exc, OSError):
        assert "cannot swap the new outputs in (Invalid cross-device link)" in str(e.value)


def test_replace_folder_write_failure_keeps_the_old_set(tmp_path, monkeypatch):
    old = _old_set(tmp_path / "o")

    def full(p, obj):
        raise OSError(errno.ENOSPC, "No space left on device", str(p))

    monkeypatch.setattr(_io, "_write_one", full)
    with pytest.raises(OutputError, match="No space left on device"):
        replace_folder(tmp_path / "o", NEW)
    assert _contents(tmp_path / "o") == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_output_folder_checks(tmp_path):
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="f: exists and is not a folder"):
        write_outputs(tmp_path / "f", NEW)
    with pytest.raises(OutputError, match=r"f: is a file, so .*f[/\\]sub cannot be a folder"):
        replace_folder(tmp_path / "f" / "sub", NEW)
    d = tmp_path / "d"
    d.mkdir()
    (d / "mine.xlsx").write_text("x", encoding="utf-8")
    (d / "a.txt").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match=r"holds other files \(mine.xlsx\)"):
        check_replaceable(d, {"a.txt"})
    assert check_replaceable(tmp_path / "new", {"a.txt"}) == tmp_path / "new"
    with pytest.raises(OutputError, match="may not contain a folder"):
        write_outputs(tmp_path / "x", {"../escape.txt": "x"})
    assert not (tmp_path / "escape.txt").exists()


def _mount_tmpfs(folder: Path) -> bool:
    if shutil.which("mount") is None:
        return False
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True, text=True
    )
    return r.returncode == 0


def test_real_full_disk_on_a_small_tmpfs(tmp_path):
    """A real ENOSPC: a 64 KiB tmpfs; skipped where mounting is not allowed."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _mount_tmpfs(disk):
        pytest.skip("mounting a tmpfs is not allowed here; the injected ENOSPC tests cover this")
    try:
        old = _old_set(disk / "o")
        big = "x" * 200_000  # larger than the file system
        with pytest.raises(OutputError, match="No space left on device"):
            replace_folder(disk / "o", {"a.txt": "new a\n", "big.txt": big})
        assert _contents(disk / "o") == old
        assert sorted(p.name for p in disk.iterdir()) == ["o"]
        with pytest.raises(OutputError, match="No space left on device"):
            write_outputs(disk / "o", {"a.txt": "new a\n", "big.txt": big})
        assert _contents(disk / "o") == old
    finally:
        subprocess.run(["umount", str(disk)], check=False)


# --------------------------------------------------------------------------- pipeline


def test_pipeline_scores_like_the_api_and_records_provenance(mini_path):
    scored = score_files(mini_path, FIX / "mini.csv", years=2016)
    ref = ak.score(ak.load_scheme(mini_path), FIX / "mini.csv", year=2016)
    pd.testing.assert_frame_equal(scored.result.summary, ref.summary)
    pd.testing.assert_frame_equal(scored.result.items, ref.items)
    assert scored.result.summary.set_index("unit").loc["A", "total"] == 90
    run = scored.run
    assert run["scheme"]["id"] == "t1" and run["scheme"]["path"] == str(mini_path)
    assert run["scheme"]["sha256"] == _io.sha256(mini_path)
    assert run["inputs"]["data"] == {
        "path": str(FIX / "mini.csv"),
        "sha256": _io.sha256(FIX / "mini.csv"),
        "encoding": "utf-8-sig",
    }
    assert run["years"] == [2016] and scored.inputs.years == (2016,)
    # a Scheme object works too; then there is no scheme file to hash
    inputs = load_inputs(ak.load_scheme(mini_path), FIX / "mini.csv")
    assert inputs.scheme_path is None and inputs.provenance()["scheme"] == {"id": "t1"}


def test_write_score_outputs_replaces_the_folder(tmp_path, mini_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "items.csv").write_text("earlier\n", encoding="utf-8")
    files = write_score_outputs(score_files(mini_path, FIX / "mini.csv"), out)
    assert [f.name for f in files] == list(SCORE_FILES)
    assert sorted(p.name for p in out.iterdir()) == sorted(SCORE_FILES)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match=r"holds other files \(notes.txt\)"):
        write_score_outputs(score_files(mini_path, FIX / "mini.csv"), out)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_scheme_ids_have_no_folder_part():
    # params/runs/demo.yaml exists beside the bundled schemes: an id may not reach it
    with pytest.raises(SchemeError, match=r"\.\./runs/demo: no such scheme file, and a bundled scheme id"):
        resolve_scheme("../runs/demo")
    assert resolve_scheme("district_1000").name == "district_1000.yaml"
    with pytest.raises(ak.DataError, match="empty list of years"):
        load_inputs("district_1000", FIX / "mini.csv", years=[])


def test_pipeline_takes_dataframes_without_recording_a_file(mini_path):
    df = pd.read_csv(FIX / "mini.csv", dtype=str)
    scored = score_files(mini_path, df, years=[2016])
    assert scored.run["inputs"] == {}
    assert scored.result.summary.set_index("unit").loc["A", "total"] == 90


def test_replace_folder_through_a_symlink_keeps_the_link(tmp_path):
    real = tmp_path / "real"
    _old_set(real)
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    replace_folder(tmp_path / "link", {"a.txt": "new a\n"})
    assert (tmp_path / "link").is_symlink()
    assert _contents(real) == {"a.txt": "new a\n"}
