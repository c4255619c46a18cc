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
