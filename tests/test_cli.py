"""The command line: exit codes, messages, and all-or-nothing outputs."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from assesskit.cli import main

from .conftest import FIX, write_yaml


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_validate_good_and_broken_files(tmp_path, mini_path, mini_raw):
    assert run("validate", mini_path).exit_code == 0
    broken_yaml = tmp_path / "broken.yaml"
    broken_yaml.write_text("id: [unclosed\n", encoding="utf-8")
    mini_raw["lines"][0]["items"][1]["rule"]["type"] = "magic"
    unknown_rule = write_yaml(tmp_path, mini_raw, "unknown_rule.yaml")
    mini_raw["lines"][0]["items"][1]["rule"] = {"type": "graded", "indicator": "no_such_indicator"}
    missing_ind = write_yaml(tmp_path, mini_raw, "missing_indicator.yaml")
    mini_raw["lines"][0]["items"][1]["points"] = 30
    bad_sum = write_yaml(tmp_path, mini_raw, "bad_sum.yaml")
    r = run("validate", mini_path, broken_yaml, unknown_rule, missing_ind, bad_sum)
    assert r.exit_code == 2
    assert "broken.yaml: broken YAML (line 2" in r.output
    assert "unknown rule type 'magic'" in r.output
    assert (
        "missing_indicator.yaml: main › gr: names indicator 'no_such_indicator', which is not defined"
        in r.output
    )
    assert "bad_sum.yaml: main: children add up to 90 (60 + 30) but the parent has 100 points" in r.output


def test_validate_data_against_a_scheme(tmp_path, mini_path):
    r = run("validate", "--scheme", mini_path, FIX / "mini.csv")
    assert r.exit_code == 0 and "5 unit-years" in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text(
        (FIX / "mini.csv").read_text().replace("A,2016,seat,100", "A,2016,seat,-100"), encoding="utf-8"
    )
    r = run("validate", "--scheme", mini_path, bad)
    assert r.exit_code == 2 and "row 3, column 'births': a count cannot be negative" in r.output


def test_score_writes_tables_and_provenance(tmp_path, mini_path):
    out = tmp_path / "out"
    r = run("score", "--scheme", mini_path, "--data", FIX / "mini.csv", "--year", 2016, "--out", out)
    assert r.exit_code == 0, r.output
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert {"unit", "year", "total", "rank", "veto", "award"} <= set(summary.columns)
    assert summary.set_index("unit").loc["A", "total"] == 90
    items = pd.read_csv(out / "items.csv", encoding="utf-8-sig")
    assert {
        "unit",
        "year",
        "line",
        "section",
        "item",
        "max_points",
        "points",
        "status",
        "value",
        "target",
        "reason",
    } <= set(items.columns)
    run_json = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert len(run_json["scheme"]["sha256"]) == 64 and run_json["years"] == [2016]
    assert (out / "summary.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel


def test_bad_input_exits_2_and_writes_nothing(tmp_path, mini_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("earlier run\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text((FIX / "mini.csv").read_text() + "A,2016,seat,100,54,46,100,35,1\n", encoding="utf-8")
    r = run("score", "--scheme", mini_path, "--data", bad, "--out", out)
    assert r.exit_code == 2
    assert "A / 2016 appears more than once (rows 3, 7)" in r.output
    assert sorted(p.name for p in out.iterdir()) == ["summary.csv"]
    assert (out / "summary.csv").read_text(encoding="utf-8") == "earlier run\n"


def test_missing_file_and_unknown_scheme(tmp_path, mini_path):
    r = run("score", "--scheme", mini_path, "--data", tmp_path / "nope.csv", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "nope.csv: no such file" in r.output
    r = run("score", "--scheme", "no_such_scheme", "--data", FIX / "mini.csv", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "no scheme file or bundled scheme named 'no_such_scheme'" in r.output
    assert not (tmp_path / "o").exists()


def test_json_schema_and_schemes_list(tmp_path):
    r = run("json-schema", "--out", tmp_path / "scheme.schema.json")
    assert r.exit_code == 0
    schema = json.loads((tmp_path / "scheme.schema.json").read_text(encoding="utf-8"))
    assert "lines" in schema["properties"]
    r = run("schemes")
    assert r.exit_code == 0


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version(flag):
    assert run(flag).exit_code == 0


def test_out_pointing_at_a_file(tmp_path, mini_path):
    f = tmp_path / "taken"
    f.write_text("x", encoding="utf-8")
    r = run("score", "--scheme", mini_path, "--data", FIX / "mini.csv", "--out", f)
    assert r.exit_code == 2 and "exists and is not a folder" in r.output
    assert f.read_text(encoding="utf-8") == "x"


def test_validate_data_with_registry_and_targets():
    from assesskit.datasets import example_paths

    p = example_paths("foshan_2006")
    r = run("validate", "--scheme", "foshan_2006", p["data"])
    assert r.exit_code == 2 and "give --targets" in r.output
    r = run(
        "validate", "--scheme", "foshan_2006", p["data"], "--units", p["units"], "--targets", p["targets"]
    )
    assert r.exit_code == 0, r.output


# ---- every error path: one message and an exit status, never a traceback (issue 16)


def _score_args(mini_path, out):
    return ("score", "--scheme", mini_path, "--data", FIX / "mini.csv", "--out", out)


def test_ctrl_c_while_writing_exits_130_and_keeps_the_earlier_set(tmp_path, mini_path, monkeypatch):
    from assesskit import _io

    out = tmp_path / "out"
    assert run(*_score_args(mini_path, out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = _io._write_one

    def interrupted(p, obj):
        if p.name == "lines.csv":
            raise KeyboardInterrupt
        real(p, obj)

    monkeypatch.setattr(_io, "_write_one", interrupted)
    r = run(*_score_args(mini_path, out))
    assert r.exit_code == 130 and r.stderr == "interrupted\n" and r.exception.code == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left


def test_disk_full_while_scoring_is_one_message_and_exit_2(tmp_path, mini_path, monkeypatch):
    import errno

    from assesskit import _io

    out = tmp_path / "out"

    def full(p, obj):
        raise OSError(errno.ENOSPC, "No space left on device", str(p))

    monkeypatch.setattr(_io, "_write_one", full)
    r = run(*_score_args(mini_path, out))
    assert r.exit_code == 2
    assert r.stderr == (
        f"error: {out / 'summary.csv'}: cannot write the outputs (No space left on device); free some "
        f"space on that disk, or write to another folder. Nothing was written: the files in {out} are as "
        "they were\n"
    )
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_an_unexpected_exception_is_a_short_internal_error(tmp_path, mini_path, monkeypatch):
    import assesskit.cli as cli

    def bug(*a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "score_files", bug)
    r = run(*_score_args(mini_path, tmp_path / "o"))
    assert r.exit_code == 1
    assert r.stderr.startswith("internal error: ZeroDivisionError: division by zero\nthis is a bug")
    assert "ASSESSKIT_DEBUG=1" in r.stderr and "Traceback" not in r.output
    r = CliRunner().invoke(
        main, [str(a) for a in _score_args(mini_path, tmp_path / "o")], env={"ASSESSKIT_DEBUG": "1"}
    )
    assert isinstance(r.exception, ZeroDivisionError)  # the traceback, when asked for


def test_an_os_error_outside_the_write_layer_is_exit_2(tmp_path, mini_path, monkeypatch):
    import assesskit.cli as cli

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied", "/srv/data/panel.csv")

    monkeypatch.setattr(cli, "score_files", denied)
    r = run(*_score_args(mini_path, tmp_path / "o"))
    assert r.exit_code == 2
    assert r.stderr == (
        "error: /srv/data/panel.csv: cannot read or write a file (Permission denied); "
        "check the folder's permissions, or write to another folder\n"
    )


def test_out_folder_with_other_files_is_refused_before_any_work(tmp_path, mini_path, monkeypatch):
    import assesskit.cli as cli

    out = tmp_path / "results"
    out.mkdir()
    (out / "my_notes.docx").write_text("mine", encoding="utf-8")
    monkeypatch.setattr(cli, "score_files", lambda *a, **k: pytest.fail("scored before checking --out"))
    r = run(*_score_args(mini_path, out))
    assert r.exit_code == 2 and f"{out}: holds other files (my_notes.docx)" in r.stderr
    assert [p.name for p in out.iterdir()] == ["my_notes.docx"]


@pytest.mark.parametrize("command", ["demo-data", "import-coinr", "report"])
def test_out_that_is_a_file_is_refused_before_any_work(tmp_path, monkeypatch, command):
    import assesskit.datasets.demo as demo
    import assesskit.pipeline as pipeline
    import assesskit.report as report

    for mod, name in ((demo, "write_demo_data"), (pipeline, "read_table"), (report, "run_report")):
        monkeypatch.setattr(mod, name, lambda *a, **k: pytest.fail("work done before checking --out"))
    f = tmp_path / "taken"
    f.write_text("x", encoding="utf-8")
    args = {
        "demo-data": ["demo-data", "--out", f],
        "import-coinr": [
            "import-coinr",
            "--idata",
            FIX / "mini.csv",
            "--imeta",
            FIX / "mini.csv",
            "--out",
            f,
        ],
        "report": ["report", "--run", tmp_path / "run.yaml", "--out", f],
    }[command]
    r = run(*args)
    assert (
        r.exit_code == 2
        and r.stderr == f"error: {f}: exists and is not a folder; give a folder for the outputs\n"
    )
    assert f.read_text(encoding="utf-8") == "x"


def test_json_schema_out_that_is_a_folder(tmp_path):
    r = run("json-schema", "--out", tmp_path)
    assert (
        r.exit_code == 2
        and r.stderr == f"error: {tmp_path}: is a folder; give the path of a file for the JSON Schema\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_formula_cells_in_unit_ids_and_names_are_neutralised_in_every_csv(tmp_path, mini_path):
    data = tmp_path / "panel.csv"
    data.write_text((FIX / "mini.csv").read_text().replace("\nB,", "\n=HYPERLINK(1),"), encoding="utf-8")
    units = tmp_path / "units.csv"
    units.write_text("unit,name\nA,-A town\n=HYPERLINK(1),@evil\nC,+86 C\nD,D\n", encoding="utf-8")
    out = tmp_path / "out"
    r = run("score", "--scheme", mini_path, "--data", data, "--units", units, "--out", out)
    assert r.exit_code == 0, r.output
    for name in ("summary.csv", "items.csv", "lines.csv"):
        text = (out / name).read_text(encoding="utf-8-sig")
        assert "'=HYPERLINK(1),'@evil," in text and ",'-A town," in text and ",'+86 C," in text, name
        assert "\n=" not in text and ",=" not in text and ",-A" not in text
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    assert summary["total"].dtype == float  # numbers stay numbers


def test_an_os_error_without_a_path(tmp_path, mini_path, monkeypatch):
    import errno

    import assesskit.cli as cli

    def broken(*a, **k):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(cli, "score_files", broken)
    r = run(*_score_args(mini_path, tmp_path / "o"))
    assert r.exit_code == 2
    assert (
        r.stderr == "error: cannot read or write a file (Input/output error); check the path and try again\n"
    )


def test_validate_tells_run_and_sensitivity_specs_from_schemes(tmp_path):
    """A run spec or a sensitivity spec is validated as what it is, not as a broken scheme."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    r = run("validate", root / "params/runs/demo.yaml", root / "params/sensitivity/district_1000.yaml")
    assert r.exit_code == 0, r.output
    assert "run spec 'demo', 6 scheme(s)" in r.output and "sensitivity spec, 10 factor(s)" in r.output
    bad = tmp_path / "run.yaml"
    bad.write_text("name: x\nschemes: 5\n", encoding="utf-8")
    r = run("validate", bad)
    assert r.exit_code == 2
    assert "run.yaml" in r.output and "not a valid scheme" not in r.output
