"""What a user might send to the new features (explorer, report languages, funnel and α
options), found to fail or mislead in review; each test failed before its fix.

The explorer cases use the bundled ``xpcc_2015`` scheme, whose rate indicators run from 0 to
100 (%), and the tiny scheme of ``tests/test_explore.py``.
"""

from __future__ import annotations

import socket
import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml

from assesskit import SchemeError, load_scheme
from assesskit._io import load_yaml_text
from assesskit.exceptions import DataError, OutputError
from assesskit.explore import Design, explore
from assesskit.explore import design as design_mod
from assesskit.scheme import parse_scheme
from assesskit.stats import funnel_limits
from assesskit.stats.reliability import cronbach_alpha
from tests.faults.harness import assert_clean_failure, run_cli
from tests.test_explore import DATA, TINY, UNITS


@pytest.fixture(scope="module")
def xpcc():
    return Design(load_scheme("xpcc_2015"))


# --------------------------------------------------------------------------- Design API
@pytest.mark.parametrize("value", [-5, 150, 100.0001])
def test_a_target_outside_the_indicators_range_is_refused(xpcc, value):
    # before: accepted and saved; a target of 150 % is missed by every unit, silently
    with pytest.raises(SchemeError, match=r"pop_db_entry.*outside the range.*pop_db_rate.*0–100 %"):
        xpcc.set_target("pop_db_entry", value)
    with pytest.raises(SchemeError, match="policy_compliance.*outside the range"):
        xpcc.set_target("policy_compliance", value, "south")


def test_a_target_at_the_ends_of_the_range_is_kept(xpcc):
    d = xpcc.set_target("pop_db_entry", 100).set_target("birth_db_entry", 0)
    assert d.target("pop_db_entry") == 100.0 and d.target("birth_db_entry") == 0.0
    assert d.to_scheme().nodes["pop_db_entry"].rule.target == 100.0


def test_a_flag_is_not_a_target(xpcc):
    # before: True became a target of 1.0
    with pytest.raises(SchemeError, match="expected a number, got True"):
        xpcc.set_target("pop_db_entry", True)


def test_points_or_weight_of_an_unknown_node_name_it(xpcc):
    # before: set_points raised a bare KeyError('nope'); set_weight said the node "has points"
    with pytest.raises(SchemeError, match="no line, section or item 'nope' in scheme 'xpcc_2015'"):
        xpcc.set_points("nope", 5)
    with pytest.raises(SchemeError, match="no line, section or item 'nope'"):
        xpcc.set_weight("nope", 1)


@pytest.mark.parametrize("vid", ["../x", "x/y", "a b", "", ".hidden", "-x", "a\n"])
def test_a_variant_id_that_cannot_name_a_file_is_refused(xpcc, vid):
    d = xpcc.set_target("pop_db_entry", 60)
    with pytest.raises(SchemeError, match="variant id"):
        d.to_yaml(id=vid)


def test_a_variant_id_in_any_script_is_kept(xpcc):
    text = xpcc.set_target("pop_db_entry", 60).to_yaml(id="兵团_v2.1")
    assert parse_scheme(load_yaml_text(text)).id == "兵团_v2.1"
    assert design_mod.check_variant_id("my-variant") == "my-variant"


def test_a_label_with_a_line_break_stays_inside_the_comment_header():
    # before: the break ended the comment and the rest of the label became YAML ("oops: 1"
    # a key the scheme model rejects), so such a variant could not be saved
    raw = load_scheme("xpcc_2015").model_dump(mode="json", exclude_unset=True)
    raw["label"] = "兵团考核\noops: 1"
    raw["lines"][0]["items"][0]["items"][0]["label"] = "第一项\u2028second: 2"
    s = parse_scheme(raw)
    first = raw["lines"][0]["items"][0]["items"][0]["id"]
    text = Design(s).set_points(first, 3).to_yaml(id="v")
    head = text[: text.index("\nid:")].splitlines()
    assert all(line.startswith("#") for line in head), head
    assert "兵团考核 oops: 1" in head[0]
    saved = parse_scheme(load_yaml_text(text))
    assert saved.label == "兵团考核\noops: 1（变体）" and saved.nodes[first].points == 3


# --------------------------------------------------------------------------- where a variant is saved
def test_variant_path_checks(tmp_path):
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile.csv").write_text("x")
    with pytest.raises(OutputError, match="adir: is a folder"):
        design_mod.check_variant_path(tmp_path / "adir")
    with pytest.raises(OutputError, match="nofolder: no such folder"):
        design_mod.check_variant_path(tmp_path / "nofolder" / "v.yaml")
    with pytest.raises(OutputError, match=r"v\.txt: .*ending in \.yaml"):
        design_mod.check_variant_path(tmp_path / "v.txt")
    with pytest.raises(OutputError, match="afile.csv"):
        design_mod.check_variant_path(tmp_path / "afile.csv" / "v.yaml")
    with pytest.raises(SchemeError, match="variant id 'my variant'"):
        design_mod.check_variant_path(tmp_path / "my variant.yaml")
    assert design_mod.check_variant_path(tmp_path / "v.YML") == tmp_path / "v.YML"


def test_explore_refuses_a_folder_as_save_to_before_building(tmp_path):
    with pytest.raises(OutputError, match="is a folder"):
        explore(parse_scheme(TINY), DATA, units=UNITS, save_to=tmp_path)


def test_saving_onto_a_folder_from_the_widget_says_why_and_keeps_the_folder(tmp_path):
    app = explore(parse_scheme(TINY), DATA, units=UNITS, save_to=tmp_path / "v.yaml")
    app.design = app.design.set_target("q", 70)
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "inside.txt").write_text("mine")
    app.save_path.value = str(tmp_path / "keep")
    app._save_clicked()
    assert "is a folder" in app.status.value
    assert (tmp_path / "keep" / "inside.txt").read_text() == "mine"
    app.save_path.value = str(tmp_path / "two words.yaml")
    app._save_clicked()
    assert "variant id" in app.status.value and not (tmp_path / "two words.yaml").exists()


# --------------------------------------------------------------------------- assesskit explore
@pytest.fixture()
def tiny_files(tmp_path, monkeypatch):
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY, allow_unicode=True), encoding="utf-8")
    DATA.to_csv(tmp_path / "d.csv", index=False)
    UNITS.to_csv(tmp_path / "u.csv", index=False)
    started: list = []
    monkeypatch.setattr(subprocess, "call", lambda *a, **k: started.append(a) or 0)
    monkeypatch.chdir(tmp_path)
    return tmp_path, started


BASE = ["explore", "--scheme", "tiny.yaml", "--data", "d.csv", "--units", "u.csv"]


def test_cli_explore_refuses_a_port_in_use(tiny_files):
    # before: announced http://127.0.0.1:PORT/ and started Voilà, which moves to another port
    _, started = tiny_files
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = run_cli([*BASE, "--port", port])
    assert_clean_failure(out, names=[f"port {port}", "--port"])
    assert started == [] and "explorer: http" not in out.text


@pytest.mark.parametrize("port", [0, 70000, -1])
def test_cli_explore_refuses_an_impossible_port(tiny_files, port):
    _, started = tiny_files
    out = run_cli([*BASE, "--port", port])
    assert_clean_failure(out, names=[f"port {port}", "1 to 65535"])
    assert started == []


@pytest.mark.parametrize(
    ("save_to", "says"),
    [
        ("adir", "is a folder"),
        ("nofolder/v.yaml", "no such folder"),
        ("v.txt", "ending in .yaml"),
        ("../v w.yaml", "variant id 'v w'"),
    ],
)
def test_cli_explore_refuses_a_save_to_it_cannot_write(tiny_files, save_to, says):
    # before: the server started, and "save variant" failed (or wrote a surprise) later
    tmp, started = tiny_files
    (tmp / "adir").mkdir()
    out = run_cli([*BASE, "--save-to", save_to])
    assert_clean_failure(out, names=[says])
    assert started == [] and not (tmp / "nofolder").exists()


# --------------------------------------------------------------------------- statistics
def test_funnel_limits_refuse_phi_and_tau2_together():
    # a funnel table holds both estimates; passing both widened the curve twice, silently
    with pytest.raises(ValueError, match="not both"):
        funnel_limits([100, 200], 0.1, phi=2.0, tau2=0.001)
    # one at a time still works: phi = 4 doubles the normal half-width at n = 100, θ = 0.1
    c = funnel_limits([100], 0.1, phi=4.0, tau2=0.0, levels=[0.95])
    half = 1.959963984540054 * np.sqrt(4 * 0.1 * 0.9 / 100)
    assert c["upper_95"].iloc[0] == pytest.approx(0.1 + half)


@pytest.mark.parametrize("target", [np.nan, np.inf])
def test_funnel_limits_refuse_a_target_that_is_not_a_number(target):
    # before: a frame of NaN limits, i.e. a funnel plot with no funnel and no error
    with pytest.raises(ValueError, match="target must be a finite number"):
        funnel_limits([100, 200], target)
    with pytest.raises(ValueError, match="target must be a finite number"):
        funnel_limits([10.0], target, measure="ratio")


def test_alpha_refuses_infinite_points_naming_the_cell():
    # before: NaN, as if the data were merely short
    pts = pd.DataFrame({"x": [1.0, 2, 3], "y": [2.0, np.inf, 3]}, index=["a", "b", "c"])
    with pytest.raises(DataError, match="row b, column y"):
        cronbach_alpha(pts)


def test_alpha_names_a_column_that_is_not_numbers():
    # before: "could not convert string to float: 'a'"
    pts = pd.DataFrame({"unit": ["a", "b", "c"], "x": [1, 2, 3], "y": [2, 1, 3]})
    with pytest.raises(DataError, match="column.s. unit hold values that are not numbers"):
        cronbach_alpha(pts)
    # numbers stored as objects are numbers: var x = var y = 1, var(x + y) = 3 → α = 2·(1 − 2/3)
    ok = pts.drop(columns="unit").astype({"y": object})
    assert cronbach_alpha(ok) == pytest.approx(2 / 3)


def test_a_target_of_zero_is_kept():
    # before: set_target(item, 0) dropped the override (`new or None`): the variant kept the
    # original target, silently, and the saved file said nothing had changed
    d = Design(load_scheme("xpcc_2015")).set_target("pop_db_entry", 0)
    assert d.target("pop_db_entry") == 0.0 and not d.is_original
    assert d.to_scheme().nodes["pop_db_entry"].rule.target == 0.0
    assert "目标 target of 全员人口信息入库率 (pop_db_entry): 95 → 0" in d.to_yaml(id="v")


def test_a_per_category_target_without_its_category_says_so():
    # before: "no target for category 'None'"
    with pytest.raises(SchemeError, match="its target is per category; give one of: rural, urban"):
        Design(parse_scheme(TINY)).set_target("compliance", 80)


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"top": 0}, "top: the rows shown at first"),
        ({"top": -1}, "top: the rows shown at first"),  # before: every row but the last, silently
        ({"top": "5"}, "top: the rows shown at first"),
        ({"year": True}, "year: the explorer shows one year"),  # before: "year 1 is outside …"
    ],
)
def test_explore_refuses_odd_top_and_year(kwargs, says):
    with pytest.raises(DataError, match=says):
        explore(parse_scheme(TINY), DATA, units=UNITS, **kwargs)


def test_explore_takes_a_numpy_year():
    # before: DataError "the explorer shows one year; got np.int64(2020)" — a year read from a frame
    app = explore(parse_scheme(TINY), DATA, units=UNITS, year=np.int64(2020))
    assert set(app.table["year"]) == {2020}


def test_the_original_scheme_file_is_never_overwritten(tiny_files):
    # before: --save-to tiny.yaml (or typing the scheme's path in the save box) replaced the
    # original scheme by the variant, silently
    tmp, started = tiny_files
    before = (tmp / "tiny.yaml").read_bytes()
    out = run_cli([*BASE, "--save-to", "tiny.yaml"])
    assert_clean_failure(out, names=["tiny.yaml", "not overwritten"])
    assert started == []
    app = explore(tmp / "tiny.yaml", DATA, units=UNITS, save_to=tmp / "v.yaml")
    app.design = app.design.set_target("q", 70)
    app.save_path.value = str(tmp / "tiny.yaml")
    app._save_clicked()
    assert "not overwritten" in app.status.value
    assert (tmp / "tiny.yaml").read_bytes() == before
    # a variant saved earlier is replaced by the next save
    assert app.save(tmp / "v.yaml") == (tmp / "v.yaml").resolve()
    app.design = app.design.set_target("q", 75)
    app.save(tmp / "v.yaml")
    assert parse_scheme(load_yaml_text((tmp / "v.yaml").read_text("utf-8"))).nodes["q"].rule.target == 75
