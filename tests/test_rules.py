"""Every rule type on hand-computed cases (values chosen so the arithmetic is by eye)."""

import numpy as np
import pytest
from pydantic import TypeAdapter

from assesskit.rules import RULES, RuleInput
from assesskit.scheme import Rule

nan = np.nan


def run(rule: dict, value, target=None, prev=None, points=10.0):
    r = TypeAdapter(Rule).validate_python(rule)
    v = np.asarray(value, dtype=object if rule.get("scale") == "labels" else float)
    n = len(v)
    t = np.full(n, nan) if target is None else np.asarray(target, float)
    p = np.full(n, nan) if prev is None else np.asarray(prev, float)
    return RULES[r.type](r, RuleInput(v, t, p, points))


def test_threshold_at_or_above():
    f = run(
        {"type": "threshold", "indicator": "x", "op": ">=", "target": 99}, [98.99, 99, 100, nan], [99] * 4
    )
    np.testing.assert_array_equal(f, [0, 1, 1, nan])


def test_threshold_at_or_below_and_strict():
    f = run({"type": "threshold", "indicator": "x", "op": "<=", "target": 11}, [10.9, 11.0, 11.01], [11] * 3)
    np.testing.assert_array_equal(f, [1, 1, 0])
    f = run({"type": "threshold", "indicator": "x", "op": ">", "target": 5}, [5, 5.1], [5, 5])
    np.testing.assert_array_equal(f, [0, 1])


def test_threshold_without_target_is_missing():
    f = run({"type": "threshold", "indicator": "x", "target": 1}, [5.0], [nan])
    assert np.isnan(f[0])


def test_linear_rising():
    # floor 80, target 95: 87.5 is halfway → 0.5; below the floor 0; above the target 1
    f = run({"type": "linear", "indicator": "x", "floor": 80, "target": 95}, [87.5, 79, 96, 80], [95] * 4)
    np.testing.assert_allclose(f, [0.5, 0, 1, 0])


def test_linear_falling():
    # lower is better: 0 credit at 20, full at 10; 12.5 → (12.5-20)/(10-20) = 0.75
    f = run(
        {"type": "linear", "indicator": "x", "floor": 20, "target": 10, "op": "<="}, [12.5, 25, 9], [10] * 3
    )
    np.testing.assert_allclose(f, [0.75, 0, 1])


def test_bands_absolute():
    rule = {
        "type": "bands",
        "indicator": "x",
        "bands": [{"at": 99, "fraction": 1}, {"at": 97, "fraction": 0.6}, {"at": 95, "fraction": 0.3}],
    }
    np.testing.assert_allclose(run(rule, [99.5, 98, 95, 94.9, nan]), [1, 0.6, 0.3, 0, nan])


def test_bands_relative_to_target():
    rule = {
        "type": "bands",
        "indicator": "x",
        "relative": True,
        "target": 90,
        "bands": [{"at": 0, "fraction": 1}, {"at": -5, "fraction": 0.5}],
    }
    # targets differ per row: 90 and 80; value 86 → −4 vs 90 (0.5), +6 vs 80 (1)
    np.testing.assert_allclose(run(rule, [86, 86, 84], [90, 80, 90]), [0.5, 1, 0])


def test_bands_must_run_best_to_worst():
    with pytest.raises(ValueError, match="best to the worst"):
        TypeAdapter(Rule).validate_python(
            {
                "type": "bands",
                "indicator": "x",
                "bands": [{"at": 95, "fraction": 0.3}, {"at": 99, "fraction": 1}],
            }
        )


def test_range_hard_and_tolerant():
    np.testing.assert_array_equal(
        run({"type": "range", "indicator": "x", "low": 103, "high": 107}, [102.9, 103, 107, 107.1]),
        [0, 1, 1, 0],
    )
    # tolerance 4: 109 is 2 outside → 0.5; 111 → 0
    np.testing.assert_allclose(
        run({"type": "range", "indicator": "x", "low": 103, "high": 107, "tolerance": 4}, [109, 111, 101]),
        [0.5, 0, 0.5],
    )


def test_change_decrease():
    rule = {"type": "change", "indicator": "x", "direction": "decrease", "min_change": 1}
    # 118→116 fell 2 (met); 118→117.5 fell 0.5 (missed); 118→119 rose (missed); no previous → missing
    np.testing.assert_array_equal(
        run(rule, [116, 117.5, 119, 116], prev=[118, 118, 118, nan]), [1, 0, 0, nan]
    )


def test_change_with_zero_min_change_needs_a_real_move():
    rule = {"type": "change", "indicator": "x", "direction": "increase"}
    np.testing.assert_array_equal(run(rule, [5, 5.1], prev=[5, 5]), [0, 1])


def test_change_toward_normal():
    rule = {"type": "change", "indicator": "x", "direction": "toward", "normal": [103, 107], "min_change": 1}
    # 118→116: distance 11→9 (met); 118→117.5: 11→10.5 (missed); 105 inside normal (met, even without history);
    # 100→102: distance 3→1 (met from below); 116 with no previous year → missing
    f = run(rule, [116, 117.5, 105, 102, 116], prev=[118, 118, nan, 100, nan])
    np.testing.assert_array_equal(f, [1, 0, 1, 1, nan])


def test_graded_points_fraction_percent():
    np.testing.assert_allclose(
        run({"type": "graded", "indicator": "g"}, [7.5, 10, nan], points=10), [0.75, 1, nan]
    )
    np.testing.assert_allclose(run({"type": "graded", "indicator": "g", "scale": "fraction"}, [0.4]), [0.4])
    np.testing.assert_allclose(run({"type": "graded", "indicator": "g", "scale": "percent"}, [85]), [0.85])


def test_graded_labels():
    rule = {"type": "graded", "indicator": "g", "scale": "labels", "labels": {"优": 1, "良": 0.8, "差": 0}}
    np.testing.assert_allclose(run(rule, ["良", "优", None, "差"]), [0.8, 1, nan, 0])


def test_per_case_with_and_without_cap():
    # 2 points per case on a 10-point item: 0 cases → 1, 3 cases → 4/10 left, 7 cases → capped at 10 lost
    np.testing.assert_allclose(
        run({"type": "per_case", "indicator": "c", "points_per_case": 2}, [0, 3, 7, nan]), [1, 0.4, 0, nan]
    )
    # cap 5: at most 5 of 10 points lost
    np.testing.assert_allclose(
        run({"type": "per_case", "indicator": "c", "points_per_case": 2, "cap": 5}, [1, 4]), [0.8, 0.5]
    )


def test_every_registered_rule_is_tested():
    assert set(RULES) == {
        "threshold",
        "linear",
        "bands",
        "range",
        "change",
        "graded",
        "per_case",
        "normalise",
        "curve",
    }


def test_normalise_scores_against_the_peers():
    # one peer group: min-max onto 0–100 (more cases in tests/test_composite.py)
    f = run({"type": "normalise", "indicator": "x"}, [2, 4, 6, nan])
    np.testing.assert_allclose(f, [0, 50, 100, nan])


# --------------------------------------------------------------------------- curve (piecewise linear)
CURVE = {
    "type": "curve",
    "indicator": "x",
    "knots": [{"at": 80, "fraction": 0}, {"at": 90, "fraction": 0.6}, {"at": 95, "fraction": 1}],
}


def test_curve_interpolates_between_knots_and_is_flat_beyond():
    # 85: halfway 80→90 → 0.3; 92.5: halfway 90→95 → 0.8; 70 below the first knot → 0;
    # 99 beyond the last → 1; exactly on a knot → its fraction
    f = run(CURVE, [85, 92.5, 70, 99, 90, nan])
    np.testing.assert_allclose(f, [0.3, 0.8, 0, 1, 0.6, nan])


def test_curve_falling_for_lower_is_better():
    # full credit at 5 or below, half at 10, none from 20: 7.5 → 0.75, 15 → 0.25
    rule = {
        "type": "curve",
        "indicator": "x",
        "knots": [{"at": 5, "fraction": 1}, {"at": 10, "fraction": 0.5}, {"at": 20, "fraction": 0}],
    }
    np.testing.assert_allclose(run(rule, [7.5, 15, 3, 25]), [0.75, 0.25, 1, 0])


def test_curve_relative_to_each_rows_target():
    rule = {
        "type": "curve",
        "indicator": "x",
        "relative": True,
        "target": 90,
        "knots": [{"at": -10, "fraction": 0}, {"at": 0, "fraction": 1}],
    }
    # value 86: −4 from target 90 → 0.6; +6 above target 80 → 1; target missing → missing
    np.testing.assert_allclose(run(rule, [86, 86, 86], [90, 80, nan]), [0.6, 1, nan])


def test_curve_works_on_a_draws_axis():
    from assesskit.rules import rule_type

    r = TypeAdapter(Rule).validate_python(CURVE)
    v = np.array([[85.0, 92.5], [70.0, 99.0]])  # 2 draws × 2 rows
    out = rule_type("curve").fn(r, RuleInput(v, np.full(v.shape, nan), np.full(v.shape, nan), 10.0))
    np.testing.assert_allclose(out, [[0.3, 0.8], [0, 1]])


def test_curve_knots_must_rise_and_relative_needs_a_target():
    with pytest.raises(ValueError, match="rise strictly"):
        TypeAdapter(Rule).validate_python(
            {**CURVE, "knots": [{"at": 90, "fraction": 0}, {"at": 90, "fraction": 1}]}
        )
    with pytest.raises(ValueError, match="needs a target"):
        TypeAdapter(Rule).validate_python({**CURVE, "relative": True})
    with pytest.raises(ValueError, match="at least 2"):
        TypeAdapter(Rule).validate_python({**CURVE, "knots": [{"at": 90, "fraction": 1}]})
