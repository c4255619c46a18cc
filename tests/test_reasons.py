"""Reasons as a template plus values (assesskit.reasons): the templates, their rendering,
and that the rendered words are the registry describers' words."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from assesskit import load_scheme, score
from assesskit.kernel import rules as kr
from assesskit.reasons import (
    TEMPLATE_COLUMN,
    adjustment_templates,
    describer_template,
    fmt_text,
    render,
    render_reasons,
    scheme_templates,
)
from assesskit.rules import RULE_TYPES, fmt, rule_type

from .conftest import FIX

# one rule of every registered type, with constants that show in the words
RULES = {
    "threshold": kr.ThresholdRule(type="threshold", indicator="x", op="<=", target=95),
    "linear": kr.LinearRule(type="linear", indicator="x", floor=80, target=95),
    "bands": kr.BandsRule(
        type="bands",
        indicator="x",
        target=90,
        relative=True,
        bands=[{"at": 0, "fraction": 1}, {"at": -2, "fraction": 0.5}],
    ),
    "range": kr.RangeRule(type="range", indicator="x", low=103, high=107, tolerance=2),
    "change": kr.ChangeRule(
        type="change", indicator="x", direction="toward", min_change=1, normal=(103, 107)
    ),
    "graded": kr.GradedRule(type="graded", indicator="x", scale="percent"),
    "per_case": kr.PerCaseRule(type="per_case", indicator="x", points_per_case=2, cap=6),
    "normalise": kr.NormaliseRule(type="normalise", indicator="x", method="goalposts", goalposts=(0, 100, 1)),
    "curve": kr.CurveRule(
        type="curve", indicator="x", knots=[{"at": 0, "fraction": 0}, {"at": 10.5, "fraction": 1}]
    ),
}


def test_every_registered_rule_type_is_covered_here():
    assert set(RULES) == set(RULE_TYPES)


@pytest.mark.parametrize("name", sorted(RULES))
def test_template_renders_the_describers_words(name):
    """The contract: for any row, the rendered template equals the describer's text."""
    rule = RULES[name]
    rng = np.random.default_rng(1)
    x = {
        "value": np.round(rng.uniform(-5, 200, 50) * 10.0 ** (d := rng.integers(0, 6, 50))) / 10.0**d,
        "target": np.round(rng.uniform(0, 100, 50), 3),
        "prev": np.round(rng.uniform(0, 100, 50), 1),
    }
    x["value"][:3] = [np.nan, 1e-7, -0.00004]  # '—', '0', '0' (rounded to 4 decimals)
    want = rule_type(name).describe(rule, {**x, "points": np.zeros(50), "status": np.zeros(50)})
    tmpl = describer_template(SimpleNamespace(rule=rule))
    got = render(tmpl, {"value": x["value"], "target": x["target"], "previous": x["prev"]})
    assert got.to_pylist() == [str(w) for w in want]


def test_templates_by_hand():
    # threshold ≤ 95: 'value {value}, target <= {target}'
    assert describer_template(SimpleNamespace(rule=RULES["threshold"])) == "value {value}, target <= {target}"
    assert (
        describer_template(SimpleNamespace(rule=RULES["change"]))
        == "value {value}, previous year {previous}, needs moving at least 1 toward 103–107 (or inside it)"
    )
    labels = kr.GradedRule(type="graded", indicator="g", scale="labels", labels={"达标": 1, "未达标": 0})
    assert describer_template(SimpleNamespace(rule=labels), label_values=True) == (
        "inspector grade {value!s} (labels)"
    )


def test_mini_scheme_templates_and_rendering_by_hand():
    s = load_scheme(FIX / "mini.yaml")
    tm = scheme_templates(s)
    pr = [it.id for _p, it in s.flat_items].index("pr")
    texts = [tm.texts[c] for c in tm.items[pr]]
    assert texts[:5] == [
        "met",
        "missed: value {value}, target >= {target} → {points}/40",
        "partial credit: value {value}, target >= {target} → {points}/40",
        "vetoed — missed: value {value}, target >= {target} → {points}/40",
        "vetoed — partial credit: value {value}, target >= {target} → {points}/40",
    ]
    assert texts[5] == "no value (or a zero denominator) → scored 0 (missing-data policy 'zero')"
    # C's row of the mini panel (tests/test_scoring.py): 180/200 = 90 % < 95, vetoed
    t = pd.DataFrame(
        {
            TEMPLATE_COLUMN: pd.Categorical.from_codes(
                [tm.items[pr][3], tm.items[pr][0], -1], dtype=tm.dtype
            ),
            "value": [90.0, 100.0, np.nan],
            "target": [95.0, 99.0, np.nan],
            "points": [0.0, 40.0, np.nan],
        }
    )
    assert render_reasons(t).tolist() == ["vetoed — missed: value 90, target >= 95 → 0/40", "met", None]


def test_rendered_reasons_equal_the_result_items():
    res = score(FIX / "mini.yaml", FIX / "mini.csv", year=2016)
    table = res.item_table()
    assert isinstance(table[TEMPLATE_COLUMN].dtype, pd.CategoricalDtype)
    assert render_reasons(table).tolist() == res.items["reason"].tolist()
    # the deduction of A: 1 falsification case × 5 (tests/test_scoring.py)
    a = table[(table["unit"] == "A") & (table["status"] == "deduction")]
    assert a["term_1"].tolist() == [1.0] and a["points"].tolist() == [-5.0]
    assert render_reasons(a).tolist() == res.items.loc[a.index, "reason"].tolist()
    # templates stored as plain text (not categorical) render the same
    plain = table.assign(**{TEMPLATE_COLUMN: table[TEMPLATE_COLUMN].astype(str)})
    assert render_reasons(plain).tolist() == res.items["reason"].tolist()


def test_adjustment_templates_per_combination_of_terms_and_braces_kept():
    adj = SimpleNamespace(
        label="创新{奖}",
        per_case={"innovation": 20.0, "awards": 5.0},
        assessed=SimpleNamespace(indicator="extra", min=0.0, max=10.0),
        cap=30.0,
    )
    t = adjustment_templates(adj)
    assert len(t) == 8  # 2**3 combinations of the three terms
    assert t[0b011] == "创新{{奖}}: innovation {term_1} × 20 + awards {term_2} × 5, capped at 30 → {points}"
    assert t[0b100] == "创新{{奖}}: assessed (0–10) {term_3}, capped at 30 → {points}"
    got = render(t[0b101], {"term_1": np.array([2.0]), "term_3": np.array([7.5]), "points": np.array([30.0])})
    assert got.to_pylist() == ["创新{奖}: innovation 2 × 20 + assessed (0–10) 7.5, capped at 30 → 30"]


def test_fmt_text_equals_fmt():
    rng = np.random.default_rng(3)
    v = rng.uniform(-1, 1, 20000) * 10.0 ** rng.integers(-8, 14, 20000)  # fmt: |v| < 9e14
    v[::9] = np.round(v[::9], 2)
    v[:8] = [np.nan, np.inf, -np.inf, -0.0, -0.00004, 0.00005, 123456789012.34567, 0.99995]
    assert fmt_text(v).to_pylist() == [str(s) for s in fmt(v)]


def test_label_values_render_as_text():
    got = render("inspector grade {value!s} (labels)", {"value": np.array(["达标", None, 1.5], dtype=object)})
    assert got.to_pylist() == [
        "inspector grade 达标 (labels)",
        "inspector grade — (labels)",
        "inspector grade 1.5 (labels)",
    ]
