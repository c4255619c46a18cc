"""The scheme loader: what it accepts, and the messages for what it refuses."""

import copy
import json

import pytest
import yaml
from pydantic import ValidationError

from assesskit import SchemeError, bundled_schemes, load_scheme, parse_scheme, scheme_json_schema
from assesskit.scheme import SEP

from .conftest import write_yaml


def test_mini_loads_and_is_frozen(mini_path):
    s = load_scheme(mini_path)
    assert [p for p, _ in s.flat_items] == [("main", "basic", "pr"), ("main", "basic", "sr"), ("main", "gr")]
    assert s.max_by_kind == {"town": 100}
    with pytest.raises(ValidationError):
        s.id = "other"


def test_broken_yaml_names_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("id: x\nlines: [\n  - a: 1\n", encoding="utf-8")
    with pytest.raises(SchemeError, match=r"bad.yaml: broken YAML \(line \d+, column \d+\)"):
        load_scheme(p)


def test_points_that_do_not_add_up_name_path_and_numbers(mini_raw):
    mini_raw["lines"][0]["items"][0]["items"][1]["points"] = 25  # 40 + 25 ≠ 60
    with pytest.raises(SchemeError) as e:
        parse_scheme(mini_raw, "s.yaml")
    msg = str(e.value)
    assert f"main{SEP}basic" in msg
    assert "add up to 65 (40 + 25) but the parent has 60 points" in msg
    # the line adds its sections' declared points (60 + 40 = 100), so only the section is wrong
    assert len(e.value.problems) == 1


def test_check_sum_false_allows_a_declared_mismatch(mini_raw):
    sec = mini_raw["lines"][0]["items"][0]
    sec["points"] = 50
    sec["check_sum"] = False
    mini_raw["lines"][0]["check_sum"] = False
    mini_raw["kinds"]["town"]["points"] = 100
    s = parse_scheme(mini_raw)
    assert s.nodes["basic"].points == 50


def test_kind_total_checked(mini_raw):
    mini_raw["kinds"]["town"]["points"] = 1000
    with pytest.raises(
        SchemeError, match=r"kinds › town: lines add up to 100 \(main 100\) but the kind has 1000"
    ):
        parse_scheme(mini_raw)


def test_unknown_rule_type_lists_the_known_ones(mini_raw):
    mini_raw["lines"][0]["items"][1]["rule"]["type"] = "magic"
    with pytest.raises(
        SchemeError, match=r"gr › rule: unknown rule type 'magic'; expected one of .*threshold"
    ):
        parse_scheme(mini_raw)


def test_rule_naming_a_missing_indicator(mini_raw):
    mini_raw["lines"][0]["items"][1]["rule"]["indicator"] = "nonexistent"
    with pytest.raises(SchemeError, match=r"main › gr: names indicator 'nonexistent', which is not defined"):
        parse_scheme(mini_raw)


def test_unknown_key_is_rejected(mini_raw):
    mini_raw["lines"][0]["items"][1]["pionts"] = 3
    with pytest.raises(SchemeError, match=r"main › gr › pionts: unknown key 'pionts'"):
        parse_scheme(mini_raw)


def test_every_problem_reported_at_once(mini_raw):
    raw = copy.deepcopy(mini_raw)
    raw["lines"][0]["items"][1]["rule"]["indicator"] = "nope"
    raw["vetoes"][0]["when"] = {"missed": "no_such_item"}
    raw["lines"][0]["items"][0]["items"][0]["rule"]["target"] = {"by_category": {"mountain": 90}}
    with pytest.raises(SchemeError) as e:
        parse_scheme(raw)
    assert len(e.value.problems) == 3


def test_duplicate_ids(mini_raw):
    mini_raw["lines"][0]["items"][1]["id"] = "pr"
    with pytest.raises(SchemeError, match="id 'pr' is used twice"):
        parse_scheme(mini_raw)


def test_condition_needs_exactly_one_form(mini_raw):
    mini_raw["vetoes"][0]["when"] = {"missed": "pr", "indicator": "fals", "op": ">=", "value": 1}
    with pytest.raises(SchemeError, match="exactly one of"):
        parse_scheme(mini_raw)


def test_label_grades_need_label_indicator(mini_raw):
    mini_raw["lines"][0]["items"][1]["rule"] = {
        "type": "graded",
        "indicator": "g1",
        "scale": "labels",
        "labels": {"优": 1},
    }
    with pytest.raises(SchemeError, match="kind: label"):
        parse_scheme(mini_raw)
    mini_raw["indicators"]["g1"] = {"kind": "label"}
    assert parse_scheme(mini_raw).indicators["g1"].kind == "label"


def test_unknown_bundled_name_lists_bundled():
    with pytest.raises(SchemeError, match="no scheme file or bundled scheme named 'nope'"):
        load_scheme("nope")


def test_json_schema_export_validates_a_scheme(mini_raw):
    jsonschema = pytest.importorskip("jsonschema")
    schema = scheme_json_schema()
    json.dumps(schema)
    jsonschema.validate(mini_raw, schema)
    bad = copy.deepcopy(mini_raw)
    bad["lines"][0]["points"] = "many"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


@pytest.mark.parametrize("path", bundled_schemes(), ids=lambda p: p.stem)
def test_json_schema_validates_every_bundled_scheme_and_knows_the_outcome_keys(path):
    jsonschema = pytest.importorskip("jsonschema")
    schema = scheme_json_schema()
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.validate(raw, schema)
    bad = copy.deepcopy(raw)
    bad.setdefault("outcomes", {})["ties"] = "lottery"  # not share, tiebreak or split
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad = copy.deepcopy(raw)
    bad["outcomes"]["warnings"] = [{"id": "w", "label": "滑坡", "decline": {"totl": 10}}]  # a typo
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_every_bundled_scheme_states_its_ties_policy():
    """The policy is written in each bundled file (with a comment saying why), not left to
    the default: xpcc fixes its prize counts (tiebreak); the others share."""
    want = {
        "district_1000": "share",
        "floating_inflow_2007": "share",
        "floating_outflow_2007": "share",
        "foshan_2006": "share",
        "wujin_2016": "share",
        "xpcc_2015": "tiebreak",
    }
    got = {}
    for path in bundled_schemes():
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        got[path.stem] = raw["outcomes"]["ties"]
        assert "# ties: " + got[path.stem] in path.read_text(encoding="utf-8")
    assert got == want


@pytest.mark.parametrize("path", bundled_schemes(), ids=lambda p: p.stem)
def test_bundled_schemes_load(path):
    s = load_scheme(path)
    assert s.id == path.stem
    assert s.source and s.flat_items


def test_write_and_reload(tmp_path, mini_raw):
    p = write_yaml(tmp_path, mini_raw)
    assert load_scheme(p) == load_scheme(p)


def test_per_case_needs_a_count_and_conditions_need_numbers(mini_raw):
    raw = copy.deepcopy(mini_raw)
    raw["lines"][0]["items"][1]["rule"] = {"type": "per_case", "indicator": "g1", "points_per_case": 2}
    with pytest.raises(SchemeError, match="per_case reads 'g1', which must be declared kind: count"):
        parse_scheme(raw)
    raw = copy.deepcopy(mini_raw)
    raw["indicators"]["fals"] = {}
    with pytest.raises(SchemeError, match="per_case counts 'fals', which must be declared kind: count"):
        parse_scheme(raw)
    raw = copy.deepcopy(mini_raw)
    raw["indicators"]["lab"] = {"kind": "label"}
    raw["vetoes"].append(
        {"id": "v2", "label": "x", "effect": "veto", "when": {"indicator": "lab", "op": ">=", "value": 1}}
    )
    with pytest.raises(SchemeError, match="condition on 'lab', a label"):
        parse_scheme(raw)


def test_a_curve_item_loads_scores_and_explains_itself(mini_raw):
    import numpy as np
    import pandas as pd

    from assesskit import score

    # the graded item becomes a piecewise-linear credit curve relative to a per-category target:
    # full credit at the target, 0.5 at 10 below, none from 20 below
    raw = copy.deepcopy(mini_raw)
    raw["lines"][0]["items"][1] = {
        "id": "gr",
        "label": "曲线",
        "points": 40,
        "rule": {
            "type": "curve",
            "indicator": "g1",
            "relative": True,
            "target": {"by_category": {"seat": 40, "rural": 30}},
            "knots": [{"at": -20, "fraction": 0}, {"at": -10, "fraction": 0.5}, {"at": 0, "fraction": 1}],
        },
    }
    s = parse_scheme(raw)
    data = pd.DataFrame(
        {
            "unit": ["A", "B", "C"],
            "year": 2016,
            "category": ["seat", "rural", "rural"],
            "births": 100,
            "male_births": 52,
            "female_births": 48,
            "policy_births": 100,
            "g1": [35.0, 15.0, 31.0],
            "fals": 0,
        }
    )
    it = score(s, data).items.set_index("unit").query("item == 'gr'")
    # A: 35 vs 40 → −5, halfway −10…0 → 0.75 × 40 = 30; B: 15 vs 30 → −15 → 0.25 × 40 = 10;
    # C: 31 vs 30 → above the last knot → 40
    np.testing.assert_allclose(it.loc[["A", "B", "C"], "points"], [30, 10, 40])
    assert list(it.loc[["A", "B", "C"], "status"]) == ["partial", "partial", "met"]
    assert "value 35, target 40, credit curve -20→0, -10→0.5, +0→1" in it.loc["A", "reason"]
    assert "curve" in json.dumps(scheme_json_schema())


def test_a_curve_with_falling_knots_or_a_relative_curve_without_target_is_refused(mini_raw):
    raw = copy.deepcopy(mini_raw)
    raw["lines"][0]["items"][1]["rule"] = {
        "type": "curve",
        "indicator": "g1",
        "relative": True,
        "knots": [{"at": 5, "fraction": 1}, {"at": 1, "fraction": 0}],
    }
    with pytest.raises(SchemeError) as e:
        parse_scheme(raw)
    assert "main › gr › rule" in str(e.value.problems[0].where)
    assert "knot bounds must rise strictly, got [5.0, 1.0]" in e.value.problems[0].message
