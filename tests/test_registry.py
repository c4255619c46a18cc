"""The rule registry: each entry's knowledge (peer, broadcasting, breakpoints, alternative
form, direction, checks) on hand-computed cases, and that the rest of the package asks it."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter

from assesskit import parse_scheme, score
from assesskit.rules import RULE_TYPES, RuleInput, register, rule_type
from assesskit.scheme import Item, Rule, check_scheme

nan = np.nan
R = TypeAdapter(Rule).validate_python

# one example rule per type, with a target (or previous year) to read, for the generic tests
EXAMPLES = {
    "threshold": ({"type": "threshold", "indicator": "x", "op": ">=", "target": 90}, 90.0, nan),
    "linear": ({"type": "linear", "indicator": "x", "floor": 60, "target": 90}, 90.0, nan),
    "bands": (
        {
            "type": "bands",
            "indicator": "x",
            "bands": [{"at": 95, "fraction": 1}, {"at": 85, "fraction": 0.5}],
        },
        nan,
        nan,
    ),
    "range": ({"type": "range", "indicator": "x", "low": 103, "high": 107, "tolerance": 4}, nan, nan),
    "change": ({"type": "change", "indicator": "x", "direction": "decrease", "min_change": 2}, nan, 110.0),
    "graded": ({"type": "graded", "indicator": "x", "scale": "percent"}, nan, nan),
    "per_case": ({"type": "per_case", "indicator": "x", "points_per_case": 2, "cap": 6}, nan, nan),
    "normalise": ({"type": "normalise", "indicator": "x"}, nan, nan),
    "curve": (
        {
            "type": "curve",
            "indicator": "x",
            "knots": [{"at": 80, "fraction": 0}, {"at": 90, "fraction": 0.6}, {"at": 95, "fraction": 1}],
        },
        nan,
        nan,
    ),
}


def frac(name: str, values, target=nan, prev=nan, points=10.0) -> np.ndarray:
    rule, _t, _p = EXAMPLES[name]
    v = np.asarray(values, dtype=float)
    full = np.full(v.shape, 1.0)
    return rule_type(name).fn(R(rule), RuleInput(v, full * target, full * prev, points))


def test_every_registered_type_has_an_example_here():
    assert set(EXAMPLES) == set(RULE_TYPES)


def test_rule_type_names_the_known_types_when_asked_for_an_unknown_one():
    assert rule_type("curve") is RULE_TYPES["curve"]
    with pytest.raises(KeyError, match="unknown rule type 'ratio'; known: threshold, linear"):
        rule_type("ratio")


def test_register_refuses_a_second_entry_and_a_mismatched_model():
    t = RULE_TYPES["range"]
    with pytest.raises(ValueError, match="already registered"):
        register(t)
    with pytest.raises(ValueError, match="Literal\\['ratio'\\]"):
        register(dataclasses.replace(t, name="ratio"))
    assert "ratio" not in RULE_TYPES


def test_peer_and_score_flags():
    # only the normalisation compares a unit with its peers (and returns a score, not a share);
    # this is the set report/pages.PER_UNIT_RULES is to be derived from
    assert {n for n, t in RULE_TYPES.items() if t.peer} == {"normalise"}
    assert {n for n, t in RULE_TYPES.items() if t.score} == {"normalise"}
    per_unit = {n for n, t in RULE_TYPES.items() if not t.peer}
    assert per_unit == {"threshold", "linear", "bands", "range", "change", "graded", "per_case", "curve"}


@pytest.mark.parametrize("name", [n for n, t in RULE_TYPES.items() if t.broadcasts])
def test_broadcasting_rules_give_row_by_row_results_on_a_draws_axis(name):
    rule, t, p = EXAMPLES[name]
    r = R(rule)
    v = np.array([[70.0, 85, 92.5, 96, nan], [100, 104, 108, 112, 0]])  # 2 draws × 5 rows
    full = np.ones(v.shape)
    two_d = rule_type(name).fn(r, RuleInput(v, full * t, full * p, 10.0))
    rows = [rule_type(name).fn(r, RuleInput(v[i], full[i] * t, full[i] * p, 10.0)) for i in range(2)]
    np.testing.assert_array_equal(two_d, np.vstack(rows))


def test_which_types_broadcast():
    assert {n for n, t in RULE_TYPES.items() if not t.broadcasts} == {"bands", "normalise"}


# --------------------------------------------------------------------------- breakpoints
def bp(name, rule=None, target=nan, **kw):
    r = R(rule or EXAMPLES[name][0])
    return rule_type(name).breakpoints(r, target, **kw)


def test_breakpoints_by_hand():
    assert bp("threshold", target=90) == [90]
    assert bp("linear", target=90) == [60, 90]
    assert bp("bands") == [95, 85]
    rel = {
        "type": "bands",
        "indicator": "x",
        "relative": True,
        "target": 0,
        "bands": [{"at": -2, "fraction": 1}],
    }
    assert bp("bands", rel, target=50) == [48]
    assert bp("range") == [103, 107, 99, 111]
    assert bp("change", prev=110.0) == [108, 110]  # a fall of 2 from 110
    up = {"type": "change", "indicator": "x", "direction": "increase", "min_change": 1, "normal": [1, 2]}
    assert bp("change", up, prev=5.0) == [6, 5, 1, 2]
    # toward [103, 107] by at least 1 from 110 (3 outside): met from 108 down, inside 103–107
    tw = {"type": "change", "indicator": "x", "direction": "toward", "normal": [103, 107], "min_change": 1}
    assert bp("change", tw, prev=110.0) == [103, 107, 101, 109, 100, 110, 103, 107]
    assert bp("graded") == [0, 100]
    assert bp("graded", {"type": "graded", "indicator": "x"}, points=8.0) == [0, 8]
    assert bp("per_case") == [0, 3]  # cap 6 / 2 points a case
    assert bp("per_case", {"type": "per_case", "indicator": "x", "points_per_case": 2}, points=10.0) == [0, 5]
    assert bp("curve") == [80, 90, 95]
    assert rule_type("normalise").breakpoints is None


@pytest.mark.parametrize("name", [n for n, t in RULE_TYPES.items() if t.breakpoints is not None])
def test_credit_is_linear_between_breakpoints(name):
    # the breakpoints are every kink and step: between neighbours (and beyond the ends) the
    # credit is linear, so its value at a midpoint is the mean of the values at quarter points
    rule, t, p = EXAMPLES[name]
    pts = sorted(set(bp(name, rule, target=t, prev=p, points=10.0)))
    edges = [pts[0] - 7.0, *pts, pts[-1] + 7.0]
    a, b = np.array(edges[:-1]), np.array(edges[1:])
    q1, mid, q3 = a + (b - a) / 4, (a + b) / 2, a + 3 * (b - a) / 4
    f = {k: frac(name, x, t, p) for k, x in (("q1", q1), ("mid", mid), ("q3", q3))}
    np.testing.assert_allclose(f["mid"], (f["q1"] + f["q3"]) / 2, atol=1e-12)


# --------------------------------------------------------------------------- alternative form, direction
def item(rule: dict, points: float = 10.0) -> Item:
    return Item(id="i", label="i", points=points, rule=rule)


def test_alternative_forms():
    alt = rule_type("threshold").alternative(item(EXAMPLES["threshold"][0]), 0.0, None)
    assert (alt.type, alt.floor, alt.op) == ("linear", 0.0, ">=")
    low = item({"type": "threshold", "indicator": "x", "op": "<", "target": 11})
    alt = rule_type("threshold").alternative(low, 0.0, 30.0)
    assert (alt.type, alt.floor, alt.op) == ("linear", 30.0, "<=")
    lin = {"type": "linear", "indicator": "x", "floor": 20, "target": 10, "op": "<="}
    alt = rule_type("linear").alternative(item(lin), 0.0, None)
    assert (alt.type, alt.op, alt.indicator) == ("threshold", "<=", "x")
    assert {n for n, t in RULE_TYPES.items() if t.alternative is not None} == {"threshold", "linear"}


def test_directions_by_hand():
    def d(rule):
        return rule_type(rule["type"]).direction(R(rule))

    assert d(EXAMPLES["threshold"][0]) == 1
    assert d({"type": "threshold", "indicator": "x", "op": "<", "target": 1}) == -1
    assert d({"type": "linear", "indicator": "x", "floor": 20, "target": 10, "op": "<="}) == -1
    assert d({"type": "bands", "indicator": "x", "op": "<=", "bands": [{"at": 1, "fraction": 1}]}) == -1
    assert d(EXAMPLES["per_case"][0]) == -1
    assert d(EXAMPLES["graded"][0]) == 1
    assert d({"type": "graded", "indicator": "x", "scale": "labels", "labels": {"a": 1}}) == 0
    assert d(EXAMPLES["curve"][0]) == 1
    hump = {
        "type": "curve",
        "indicator": "x",
        "knots": [{"at": 1, "fraction": 0}, {"at": 2, "fraction": 1}, {"at": 3, "fraction": 0}],
    }
    assert d(hump) == 0
    falling = {
        "type": "curve",
        "indicator": "x",
        "knots": [{"at": 1, "fraction": 1}, {"at": 2, "fraction": 0}],
    }
    assert d(falling) == -1
    assert {n for n, t in RULE_TYPES.items() if t.direction is None} == {"range", "change", "normalise"}


@pytest.mark.parametrize("name", [n for n, t in RULE_TYPES.items() if t.direction is not None])
def test_direction_agrees_with_the_credit(name):
    rule, t, p = EXAMPLES[name]
    sign = rule_type(name).direction(R(rule))
    grid = np.linspace(0.0, 120.0, 241)
    f = frac(name, grid, t, p)
    step = np.diff(f[~np.isnan(f)])
    assert (sign * step >= 0).all() and (step != 0).any()


# --------------------------------------------------------------------------- checks: check_scheme asks the registry
MINI = {
    "id": "m",
    "label": "m",
    "source": "test",
    "years": [2020, 2020],
    "kinds": {"town": {"label": "镇"}},
    "indicators": {"x": {}, "c": {"kind": "count"}},
    "lines": [
        {
            "id": "L",
            "label": "L",
            "points": 10,
            "unit_kind": "town",
            "items": [
                {
                    "id": "a",
                    "label": "a",
                    "points": 10,
                    "rule": {"type": "range", "indicator": "x", "low": 1, "high": 2},
                }
            ],
        }
    ],
}


def test_check_scheme_runs_each_rule_types_own_check(monkeypatch):
    s = parse_scheme(copy.deepcopy(MINI))
    assert check_scheme(s) == []
    seen = []

    def fake(it, scheme, where):
        seen.append((it.id, scheme.id, where))
        from assesskit import Problem

        return [Problem(where, "range says no")]

    monkeypatch.setitem(RULE_TYPES, "range", dataclasses.replace(RULE_TYPES["range"], check=fake))
    probs = check_scheme(s)
    assert seen == [("a", "m", "L › a")]
    assert [(p.where, p.message) for p in probs] == [("L › a", "range says no")]


def test_rule_specific_checks_by_hand():
    def probs(rule, points=10):
        raw = copy.deepcopy(MINI)
        raw["lines"][0]["items"][0] |= {"rule": rule, "points": points}
        s = parse_scheme(MINI)  # a sound scheme, then the item swapped in without re-validation
        it = Item.model_validate(raw["lines"][0]["items"][0])
        return [p.message for p in rule_type(rule["type"]).check(it, s, "here")]

    assert probs({"type": "per_case", "indicator": "x", "points_per_case": 2, "cap": 12}) == [
        "per_case reads 'x', which must be declared kind: count",
        "cap 12 exceeds the item's 10 points",
    ]
    assert probs({"type": "linear", "indicator": "x", "floor": 95, "target": 90}) == [
        "floor 95 must lie below the target 90 for op '>='"
    ]
    assert probs({"type": "graded", "indicator": "x", "scale": "labels", "labels": {"优": 1}})[0].startswith(
        "indicator 'x' must be declared with kind: label"
    )
    assert probs({"type": "normalise", "indicator": "x", "method": "zscore"}, points=10) == [
        "points 10 must state nothing: the scale has no maximum (a normalised score is not scaled)",
        "'zscore' scores can be negative, but the scheme's floor 0 would clip the totals; set floor: null",
    ]


# --------------------------------------------------------------------------- the composite counterpart asks the registry
def test_composite_counterpart_takes_a_curves_direction_from_the_registry():
    from assesskit.analyses.composite import composite_counterpart

    raw = copy.deepcopy(MINI)
    raw["lines"][0]["items"] = [
        {"id": "up", "label": "up", "points": 6, "rule": EXAMPLES["curve"][0]},
        {
            "id": "down",
            "label": "down",
            "points": 4,
            "rule": {
                "type": "curve",
                "indicator": "c",
                "knots": [{"at": 0, "fraction": 1}, {"at": 3, "fraction": 0}],
            },
        },
    ]
    comp, kept = composite_counterpart(parse_scheme(raw))
    rules = {it.id: it.rule for _p, it in comp.flat_items}
    assert kept == []
    assert (rules["up"].type, rules["up"].direction) == ("normalise", 1)
    assert (rules["down"].type, rules["down"].direction) == ("normalise", -1)
    # scored: min-max onto 0–100 within the year, weights 6 : 4
    res = score(comp, pd.DataFrame({"unit": ["p", "q"], "year": 2020, "x": [80.0, 90], "c": [0.0, 2]}))
    # p: up 0, down 100 → (0·6 + 100·4)/10 = 40; q: up 100, down 0 → 60
    np.testing.assert_allclose(res.summary.sort_values("unit")["total"], [40, 60])


def test_sensitivity_specs_ask_the_registry_for_rule_types_and_alternative_forms(monkeypatch):
    from pydantic import ValidationError

    from assesskit.sensitivity.spec import RuleFormFactor, Spec, check_spec

    s = parse_scheme(copy.deepcopy(MINI))  # one item: a range rule
    spec = Spec(factors=[RuleFormFactor(id="f", type="rule_form", items=["a"])])
    assert [p.message for p in check_spec(spec, s)] == [
        "item(s) a are neither threshold nor linear: rule_form switches threshold ↔ proportional credit"
    ]
    # give range an alternative form in the registry: the spec accepts it
    monkeypatch.setitem(
        RULE_TYPES, "range", dataclasses.replace(RULE_TYPES["range"], alternative=lambda *a: None)
    )
    assert check_spec(spec, s) == []
    # a factor may select the new rule type by name, but not a score rule
    RuleFormFactor(id="g", type="rule_form", rule_type="curve")
    with pytest.raises(ValidationError, match="'curve'"):
        RuleFormFactor(id="g", type="rule_form", rule_type="normalise")
