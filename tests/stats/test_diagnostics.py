"""Indicator diagnostics (assesskit.stats.diagnostics) and their figures.

The tiny scheme below is scored by hand. One 10-point town line:
  A (6): a1 inspector points 0–3, a2 inspector points 0–3
  B (4): b1 rate ≥ 90 (threshold, 2 points), b2 inspector points 0–2 (everyone gets 2: constant)
  bonus: 1 point per case of c.

Five units in 2016:
  unit   a1 a2 b1(rate) b2 bonus | lines total
  u1      3  3  2 (95)   2   0   |   10    10
  u2      2  1  0 (80)   2   0   |    5     5
  u3      1  2  2 (92)   2   0   |    7     7
  u4      0  0  0 (50)   2   1   |    2     3
  u5      3  2  2 (90)   2   0   |    9     9
Deviations of the total T (mean 6.8): 3.2, −1.8, 0.2, −3.8, 2.2; Σ² = 32.8 (var 8.2).
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from assesskit import load_scheme, parse_scheme, score
from assesskit.plotting import setup_cjk_font
from assesskit.plotting.diagnostics import plot_ceiling_floor, plot_effective_weights, plot_item_correlations
from assesskit.stats.diagnostics import (
    ALPHA_COLUMNS,
    ATTAINABILITY_COLUMNS,
    CORRELATION_COLUMNS,
    EFFECTIVE_WEIGHT_COLUMNS,
    ITEM_DIAGNOSTIC_COLUMNS,
    correlation_matrix,
    cronbach_alpha,
    effective_weights,
    item_correlations,
    item_diagnostics,
    section_alpha,
    target_attainability,
)

# no 0/0 or x/0 anywhere: undefined values are NaN by decision, with a note
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def tiny_raw() -> dict:
    return {
        "id": "tiny",
        "label": "小方案",
        "source": "test",
        "years": [2015, 2016],
        "kinds": {"town": {"label": "镇", "points": 10}},
        "indicators": {
            "g1": {},
            "g2": {},
            "g3": {},
            "rate": {"numerator": "num", "denominator": "den", "scale": 100},
            "c": {"kind": "count"},
        },
        "lines": [
            {
                "id": "main",
                "label": "主线",
                "points": 10,
                "unit_kind": "town",
                "items": [
                    {
                        "id": "A",
                        "label": "甲类",
                        "points": 6,
                        "items": [
                            {
                                "id": "a1",
                                "label": "领导重视",
                                "points": 3,
                                "rule": {"type": "graded", "indicator": "g1"},
                            },
                            {
                                "id": "a2",
                                "label": "队伍建设",
                                "points": 3,
                                "rule": {"type": "graded", "indicator": "g2"},
                            },
                        ],
                    },
                    {
                        "id": "B",
                        "label": "乙类",
                        "points": 4,
                        "items": [
                            {
                                "id": "b1",
                                "label": "出生政策符合率",
                                "points": 2,
                                "rule": {"type": "threshold", "indicator": "rate", "op": ">=", "target": 90},
                            },
                            {
                                "id": "b2",
                                "label": "台账",
                                "points": 2,
                                "rule": {"type": "graded", "indicator": "g3"},
                            },
                        ],
                    },
                ],
            }
        ],
        "adjustments": [{"id": "bonus", "label": "亮点加分", "kind": "bonus", "per_case": {"c": 1}}],
    }


def tiny_data(year: int = 2016) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": ["u1", "u2", "u3", "u4", "u5"],
            "year": year,
            "g1": [3, 2, 1, 0, 3],
            "g2": [3, 1, 2, 0, 2],
            "g3": [2, 2, 2, 2, 2],
            "num": [95, 80, 92, 50, 90],
            "den": 100,
            "c": [0, 0, 0, 1, 0],
        }
    )


@pytest.fixture(scope="module")
def tiny():
    return score(parse_scheme(tiny_raw()), tiny_data())


@pytest.fixture(scope="module")
def wujin():
    from assesskit.datasets.demo import make_demo_data

    p = make_demo_data(0, schemes=["wujin_2016"])["wujin_2016"]
    return score(load_scheme("wujin_2016"), **p.tables())


def by_item(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_index("item")


# --------------------------------------------------------------------------- hand-computed
def test_columns_are_the_documented_ones(tiny):
    assert list(item_diagnostics(tiny).columns) == ITEM_DIAGNOSTIC_COLUMNS
    assert list(effective_weights(tiny).columns) == EFFECTIVE_WEIGHT_COLUMNS
    assert list(target_attainability(tiny).columns) == ATTAINABILITY_COLUMNS
    assert list(item_correlations(tiny).columns) == CORRELATION_COLUMNS
    assert list(section_alpha(tiny).columns) == ALPHA_COLUMNS


def test_ceiling_floor_and_spread_by_hand(tiny):
    d = by_item(item_diagnostics(tiny))
    assert list(d.index) == ["a1", "a2", "b1", "b2"]  # items only: the bonus has no row
    # a1 = 3,2,1,0,3: full marks (3) for u1,u5 → 2/5; zero for u4 → 1/5
    assert d.loc["a1", ["ceiling_share", "floor_share"]].tolist() == [0.4, 0.2]
    assert d.loc["a2", ["ceiling_share", "floor_share"]].tolist() == [0.2, 0.2]
    assert d.loc["b1", ["ceiling_share", "floor_share"]].tolist() == [0.6, 0.4]
    assert d.loc["b2", ["ceiling_share", "floor_share"]].tolist() == [1.0, 0.0]
    # a1: mean 1.8, Σ(x−x̄)² = 6.8 → sample var 1.7; as a fraction of 3 points, sd/3
    assert d.loc["a1", "mean_points"] == pytest.approx(1.8)
    assert d.loc["a1", "sd_points"] == pytest.approx(np.sqrt(1.7))
    assert d.loc["a1", "sd_fraction"] == pytest.approx(np.sqrt(1.7) / 3)
    assert d.loc["b2", "sd_points"] == 0.0 and d.loc["b2", "sd_fraction"] == 0.0
    # nominal weights: max points / 10
    assert d["nominal_weight"].tolist() == [0.3, 0.3, 0.2, 0.2]
    assert (d["n_units"] == 5).all() and (d["year"] == 2016).all() and (d["kind"] == "town").all()


def test_corrected_item_total_correlation_by_hand(tiny):
    d = by_item(item_diagnostics(tiny))
    # a1 vs T − a1 = 7,3,6,3,6: Σ cross-products 6.0, Σ² 6.8 and 14 → 6/√95.2
    assert d.loc["a1", "item_total_r"] == pytest.approx(6 / np.sqrt(6.8 * 14), abs=1e-12)
    # a2 vs T − a2 = 7,4,5,3,7: 7.4 / √(5.2 × 12.8)
    assert d.loc["a2", "item_total_r"] == pytest.approx(7.4 / np.sqrt(5.2 * 12.8), abs=1e-12)
    # it is Pearson's r on points, the total including the bonus (u4's total is 3, not 2)
    total = np.array([10, 5, 7, 3, 9.0])
    b1 = np.array([2, 0, 2, 0, 2.0])
    assert d.loc["b1", "item_total_r"] == pytest.approx(sps.pearsonr(b1, total - b1).statistic, abs=1e-12)


def test_constant_item_gives_nan_with_a_note_not_a_crash(tiny):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a RuntimeWarning from a 0/0
        d = by_item(item_diagnostics(tiny))
        c = item_correlations(tiny)
        a = section_alpha(tiny)
    assert np.isnan(d.loc["b2", "item_total_r"])
    assert "constant item" in d.loc["b2", "note"]
    assert d.loc["b2", "effective_weight"] == 0.0
    assert d.loc[["a1", "a2", "b1"], "note"].eq("").all()
    pair = c[(c.item_a == "a1") & (c.item_b == "b2")].iloc[0]
    assert np.isnan(pair.rho) and pair.note == "b2 is constant: correlation undefined"
    b = a.set_index("node").loc["B"]
    assert np.isnan(b.alpha) and "fewer than 2 items vary" in b.note and "b2" in b.note


def test_effective_weights_by_hand_and_they_sum_to_one(tiny):
    w = by_item(effective_weights(tiny))
    # Σ cross-products with T: a1 12.8, a2 12.6, b1 11.2, b2 0, bonus −3.8; Σ² of T 32.8
    assert w.loc["a1", "effective_weight"] == pytest.approx(16 / 41, abs=1e-12)
    assert w.loc["a2", "effective_weight"] == pytest.approx(63 / 164, abs=1e-12)
    assert w.loc["b1", "effective_weight"] == pytest.approx(14 / 41, abs=1e-12)
    assert w.loc["b2", "effective_weight"] == 0.0
    assert w.loc["bonus", "effective_weight"] == pytest.approx(-19 / 164, abs=1e-12)
    assert w.loc["bonus", "component"] == "bonus" and np.isnan(w.loc["bonus", "nominal_weight"])
    assert w.loc["a1", "cov_total"] == pytest.approx(3.2) and w.loc["a1", "var_total"] == pytest.approx(8.2)
    # items and adjustments together: exactly 1; the items alone: 1 minus the bonus's share
    assert w["effective_weight"].sum() == pytest.approx(1.0, abs=1e-12)
    d = by_item(item_diagnostics(tiny))
    assert d["effective_weight"].sum() == pytest.approx(183 / 164, abs=1e-12)
    assert np.allclose(d["effective_weight"], w.loc[d.index, "effective_weight"])


def test_cronbach_alpha_by_hand_and_by_the_textbook_formula(tiny):
    a = section_alpha(tiny).set_index("node")
    # section A: item vars 1.7 + 1.3 = 3.0; A's points 6,3,3,0,5 → var 5.3; α = 2 (1 − 3/5.3) = 46/53
    assert a.loc["A", "alpha"] == pytest.approx(46 / 53, abs=1e-12)
    assert a.loc["A", ["sum_item_var", "total_var"]].tolist() == pytest.approx([3.0, 5.3])
    # the line: 4 items (b2 constant, kept in k), vars 1.7+1.3+1.2+0 = 4.2; lines 10,5,7,2,9 → 10.3
    # (the bonus is not part of the line): α = 4/3 (1 − 4.2/10.3) = 244/309
    assert a.loc["main", "alpha"] == pytest.approx(244 / 309, abs=1e-12)
    assert a.loc["main", ["n_items", "n_constant", "depth"]].tolist() == [4, 1, 0]
    assert "b2" in a.loc["main", "note"]
    # textbook k/(k−1)(1 − Σσᵢ²/σ²_total) with population variances gives the same value
    x = tiny.points.to_numpy()
    k = x.shape[1]
    textbook = k / (k - 1) * (1 - x.var(axis=0, ddof=0).sum() / x.sum(axis=1).var(ddof=0))
    assert a.loc["main", "alpha"] == pytest.approx(textbook, abs=1e-12)
    assert cronbach_alpha(tiny.points) == pytest.approx(textbook, abs=1e-12)
    assert cronbach_alpha(tiny.points[["a1", "a2"]]) == pytest.approx(46 / 53, abs=1e-12)


# mtcars (R datasets): cyl, gear, carb, hp for the 32 cars, in R's row order
MTCARS = np.array(
    [
        [6, 4, 4, 110],
        [6, 4, 4, 110],
        [4, 4, 1, 93],
        [6, 3, 1, 110],
        [8, 3, 2, 175],
        [6, 3, 1, 105],
        [8, 3, 4, 245],
        [4, 4, 2, 62],
        [4, 4, 2, 95],
        [6, 4, 4, 123],
        [6, 4, 4, 123],
        [8, 3, 3, 180],
        [8, 3, 3, 180],
        [8, 3, 3, 180],
        [8, 3, 4, 205],
        [8, 3, 4, 215],
        [8, 3, 4, 230],
        [4, 4, 1, 66],
        [4, 4, 2, 52],
        [4, 4, 1, 65],
        [4, 3, 1, 97],
        [8, 3, 2, 150],
        [8, 3, 2, 150],
        [8, 3, 4, 245],
        [8, 3, 2, 175],
        [4, 4, 1, 66],
        [4, 5, 2, 91],
        [4, 5, 2, 113],
        [8, 5, 4, 264],
        [6, 5, 6, 175],
        [8, 5, 8, 335],
        [4, 4, 2, 109],
    ],
    dtype=float,
)


def test_cronbach_alpha_matches_r():
    # R: performance::cronbachs_alpha(mtcars[, c("cyl", "gear", "carb", "hp")]) = 0.09463206
    # (easystats/performance, tests/testthat/test-cronbachs_alpha.R)
    assert MTCARS.sum(axis=0).tolist() == [198, 118, 90, 4694]  # the data are R's
    assert round(cronbach_alpha(MTCARS), 8) == 0.09463206


def test_cronbach_alpha_edge_cases():
    assert np.isnan(cronbach_alpha(np.array([[1.0], [2.0], [3.0]])))  # one item
    assert np.isnan(cronbach_alpha(np.array([[1.0, 2.0]])))  # one unit
    assert np.isnan(cronbach_alpha(np.array([[1.0, 5], [2, 5], [3, 5]])))  # one item varies
    # listwise deletion of a unit with a missing value
    x = np.array([[1.0, 2, 2], [2, 3, 2], [3, 3, 4], [np.nan, 1, 1], [4, 5, 4]])
    assert cronbach_alpha(x) == pytest.approx(cronbach_alpha(x[[0, 1, 2, 4]]))
    assert np.isnan(cronbach_alpha(np.array([[3.0, 0], [2, 1], [1, 2]])))  # items offset: constant sum
    with pytest.raises(ValueError, match="2-d"):
        cronbach_alpha(np.arange(3.0))


def test_items_that_offset_each_other_give_nan_alpha_with_a_note():
    # a1 + a2 = 3 for every unit: section A's points have no variance
    df = tiny_data().assign(g1=[3, 2, 1, 0, 3], g2=[0, 1, 2, 3, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = section_alpha(score(parse_scheme(tiny_raw()), df)).set_index("node")
    assert np.isnan(a.loc["A", "alpha"]) and a.loc["A", "total_var"] == 0
    assert "offset each other" in a.loc["A", "note"]
    assert np.isfinite(a.loc["main", "alpha"])


def test_spearman_correlations_by_hand(tiny):
    c = item_correlations(tiny)
    # 4 items: 4 × 5 / 2 = 10 rows, the diagonal included
    assert len(c) == 10 and (c.method == "spearman").all()
    # a1 ranks 4.5,3,2,1,4.5; a2 ranks 5,2,3.5,1,3.5: Σ cross 7.25, Σ² 9.5 each → 7.25/9.5
    pair = c[(c.item_a == "a1") & (c.item_b == "a2")].iloc[0]
    assert pair.rho == pytest.approx(7.25 / 9.5, abs=1e-12)
    assert pair.same_section and pair.label_a == "领导重视" and pair.n_units == 5
    p = tiny.points
    ab = c[(c.item_a == "a2") & (c.item_b == "b1")].iloc[0]
    assert ab.rho == pytest.approx(sps.spearmanr(p["a2"], p["b1"]).statistic, abs=1e-12)
    assert not ab.same_section
    m = correlation_matrix(c)
    assert list(m.index) == ["a1", "a2", "b1", "b2"]
    assert np.allclose(m.to_numpy(), m.to_numpy().T, equal_nan=True)
    assert np.diag(m)[:3].tolist() == [1.0, 1.0, 1.0] and np.isnan(m.loc["b2", "b2"])
    k = item_correlations(tiny, method="kendall")
    kp = k[(k.item_a == "a1") & (k.item_b == "a2")].iloc[0]
    assert kp.rho == pytest.approx(sps.kendalltau(p["a1"], p["a2"]).statistic, abs=1e-12)
    with pytest.raises(ValueError, match="method"):
        item_correlations(tiny, method="distance")


def test_target_attainability_by_hand(tiny):
    t = by_item(target_attainability(tiny))
    # b1: rates 95, 80, 92, 50, 90 against ≥ 90 → 3 of 5 (90 itself meets it)
    b1 = t.loc["b1"]
    assert (b1.has_target, b1.target_min, b1.target_max) == (True, 90, 90)
    assert (b1.n_met, b1.n_missed, b1.n_units, b1.share_met) == (3, 2, 5, 0.6)
    assert b1.median_value == 90
    assert not t.loc["a1", "has_target"] and "no target" in t.loc["a1", "note"]
    assert t.loc["b2", "share_met"] == 1.0 and t.loc["a1", "n_partial"] == 2


def test_category_targets_and_missing_values(mini_raw):
    # mini scheme: pr ≥ 99 for the seat, ≥ 95 for rural; a missing policy value is never met
    df = pd.DataFrame(
        {
            "unit": ["s", "r1", "r2", "r3"],
            "year": 2016,
            "category": ["seat", "rural", "rural", "rural"],
            "births": [100, 100, 100, 0],
            "male_births": [51, 51, 51, 0],
            "female_births": [49, 49, 49, 0],
            "policy_births": [98, 96, 90, 0],
            "g1": 30,
            "fals": 0,
        }
    )
    r = score(parse_scheme(mini_raw), df)
    pr = by_item(target_attainability(r)).loc["pr"]
    assert (pr.target_min, pr.target_max) == (95, 99)
    # s: 98 < 99 missed (vetoed); r1: 96 ≥ 95 met; r2 missed (vetoed); r3: 0/0 births → missing
    assert (pr.n_met, pr.n_missed, pr.n_missing, pr.share_met) == (1, 2, 1, 0.25)
    assert "1 missing value(s), counted as not met" in pr.note
    d = by_item(item_diagnostics(r)).loc["pr"]
    assert d.n_missing == 1 and d.floor_share == 0.75 and "missing" in d.note


def test_years_are_separate_unless_pooled():
    later = tiny_data(2015).assign(g1=[0, 1, 3, 3, 2], c=0)
    both = score(parse_scheme(tiny_raw()), pd.concat([later, tiny_data()], ignore_index=True))
    alone = score(parse_scheme(tiny_raw()), tiny_data(), year=2016)
    d = item_diagnostics(both)
    assert len(d) == 8 and d.year.tolist() == [2015] * 4 + [2016] * 4
    y16 = d[d.year == 2016].reset_index(drop=True)
    pd.testing.assert_frame_equal(y16, item_diagnostics(alone))
    w = effective_weights(both)
    assert w.groupby("year")["effective_weight"].sum().tolist() == pytest.approx([1.0, 1.0])
    t = target_attainability(both)
    assert len(t) == 8
    pooled = item_diagnostics(both, by_year=False)
    assert len(pooled) == 4 and pooled.year.isna().all() and (pooled.n_units == 10).all()
    # pooled a1 over ten unit-years: 0,1,3,3,2,3,2,1,0,3 → full marks 4/10
    assert by_item(pooled).loc["a1", "ceiling_share"] == 0.4
    assert section_alpha(both, by_year=False).year.isna().all()
    assert len(item_correlations(both)) == 20 and len(item_correlations(both, by_year=False)) == 10


def test_small_groups_say_why():
    one = score(parse_scheme(tiny_raw()), tiny_data().iloc[:1])
    d = item_diagnostics(one)
    assert d.item_total_r.isna().all() and d.sd_points.isna().all() and d.effective_weight.isna().all()
    assert d.note.str.contains("a single unit").all()
    two = score(parse_scheme(tiny_raw()), tiny_data().iloc[:2])
    d2 = by_item(item_diagnostics(two))
    assert np.isnan(d2.loc["a1", "item_total_r"]) and "fewer than 3 units" in d2.loc["a1", "note"]
    assert np.isfinite(d2.loc["a1", "effective_weight"])
    c2 = item_correlations(two)
    assert c2[c2.item_a != c2.item_b].rho.isna().all()
    assert section_alpha(one).alpha.isna().all() and section_alpha(one).note.str.contains("units").all()
    with pytest.raises(TypeError, match="ScoreResult"):
        item_diagnostics(tiny_data())


def test_a_section_with_one_item(mini_raw):
    # mini: section 'basic' has pr and sr; make it a single-item section
    mini_raw["lines"][0]["items"][0]["items"] = [mini_raw["lines"][0]["items"][0]["items"][0]]
    mini_raw["lines"][0]["items"][0]["points"] = 40
    mini_raw["lines"][0]["points"] = 80
    mini_raw["kinds"]["town"]["points"] = 80
    df = pd.DataFrame(
        {
            "unit": list("abc"),
            "year": 2016,
            "category": "rural",
            "births": 100,
            "male_births": 51,
            "female_births": 49,
            "policy_births": [99, 90, 96],
            "g1": [10, 20, 40],
            "fals": 0,
        }
    )
    a = section_alpha(score(parse_scheme(mini_raw), df)).set_index("node")
    assert np.isnan(a.loc["basic", "alpha"]) and a.loc["basic", "note"] == "fewer than 2 items: α undefined"
    assert a.loc["basic", "n_items"] == 1


def test_inputs_are_not_mutated(tiny):
    before = tiny.items.copy(), tiny.summary.copy()
    item_diagnostics(tiny), effective_weights(tiny), item_correlations(tiny), section_alpha(tiny)
    target_attainability(tiny)
    pd.testing.assert_frame_equal(tiny.items, before[0])
    pd.testing.assert_frame_equal(tiny.summary, before[1])


# --------------------------------------------------------------------------- properties
TINY = parse_scheme(tiny_raw())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(3, 8).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
            st.lists(st.integers(0, 2), min_size=n, max_size=n),
            st.lists(st.integers(60, 100), min_size=n, max_size=n),
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
        )
    )
)
def test_properties(cols):
    g1, g2, g3, num, c = cols
    n = len(g1)
    df = pd.DataFrame(
        {
            "unit": [f"u{i}" for i in range(n)],
            "year": 2016,
            "g1": g1,
            "g2": g2,
            "g3": g3,
            "num": num,
            "den": 100,
            "c": c,
        }
    )
    r = score(TINY, df)
    d = item_diagnostics(r)
    assert len(d) == 4
    assert ((d.ceiling_share + d.floor_share) <= 1 + 1e-12).all()
    assert (d.item_total_r.dropna().abs() <= 1).all()
    varies = d.sd_points > 0
    assert (
        d.loc[~varies, "item_total_r"].isna().all() and d.loc[~varies, "note"].str.contains("constant").all()
    )
    w = effective_weights(r)
    total = r.summary["total"]
    if total.max() > total.min():
        assert w.effective_weight.sum() == pytest.approx(1.0, abs=1e-9)
    else:
        assert w.effective_weight.isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sa = section_alpha(r)
    assert np.isfinite(sa.alpha.dropna()).all() and (sa.alpha.dropna() <= 1 + 1e-12).all()
    assert (sa.alpha.isna() == (sa.note.str.contains("undefined"))).all()
    x = r.points
    if (x.std() > 0).sum() >= 2 and x.sum(axis=1).std() > 0:
        k = x.shape[1]
        textbook = k / (k - 1) * (1 - x.var(ddof=0).sum() / x.sum(axis=1).var(ddof=0))
        assert section_alpha(r).set_index("node").loc["main", "alpha"] == pytest.approx(textbook)


# --------------------------------------------------------------------------- demo data
def test_demo_one_row_per_item_and_finite_where_items_vary(wujin):
    d = item_diagnostics(wujin)
    flat = [it.id for _p, it in wujin.scheme.flat_items]
    assert d.item.tolist() == flat  # one row per item, scheme order (one year, one kind)
    varies = d.sd_points > 0
    assert varies.sum() >= 70
    for col in ("sd_points", "sd_fraction", "item_total_r", "effective_weight", "mean_points"):
        assert np.isfinite(d.loc[varies, col]).all(), col
    assert d.loc[~varies, "item_total_r"].isna().all() and d.loc[~varies, "effective_weight"].eq(0).all()
    w = effective_weights(wujin)
    assert w.effective_weight.sum() == pytest.approx(1.0, abs=1e-9)
    # the demo's bonuses carry a real share of the variance of the total
    assert w.loc[w.component == "bonus", "effective_weight"].sum() > 0.1
    assert len(item_correlations(wujin)) == len(flat) * (len(flat) + 1) // 2
    a = section_alpha(wujin)
    assert len(a) == sum(1 for nd in wujin.scheme.nodes.values() if hasattr(nd, "items"))  # lines + sections
    assert np.isfinite(a.set_index("node").loc["post_responsibility", "alpha"])


def test_demo_targets_nearly_everyone_meets_show_a_ceiling(wujin):
    # independently of the scores: the share of towns whose value meets a threshold target
    ops = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less}
    it = wujin.items
    d = by_item(item_diagnostics(wujin))
    checked = 0
    for _p, item in wujin.scheme.flat_items:
        if item.rule.type != "threshold":
            continue
        rows = it[it.item == item.id]
        v = pd.to_numeric(rows["value"]).to_numpy(dtype=float)
        meets = ops[item.rule.op](v, rows["target"].to_numpy(dtype=float))
        if meets.mean() >= 0.9:
            checked += 1
            assert d.loc[item.id, "ceiling_share"] >= 0.9, item.id
            assert d.loc[item.id, "ceiling_share"] == pytest.approx(meets.mean())
    assert checked >= 10
    # and those everyone meets are constant: no discrimination at all, effective weight 0
    top = d[(d.rule == "threshold") & (d.ceiling_share == 1)]
    assert len(top) >= 2 and top.item_total_r.isna().all() and (top.effective_weight == 0).all()


def test_demo_several_years():
    from assesskit.datasets.demo import make_demo_data

    p = make_demo_data(0, schemes=["foshan_2006"])["foshan_2006"]
    r = score(load_scheme("foshan_2006"), **p.tables())
    d = item_diagnostics(r)
    years = sorted(r.summary.year.unique())
    assert len(d) == len(r.scheme.flat_items) * len(years)
    assert d.groupby("year").size().tolist() == [len(r.scheme.flat_items)] * len(years)
    t = target_attainability(r)
    assert t.share_met.between(0, 1).all() and t.groupby("year").size().eq(len(r.scheme.flat_items)).all()


# --------------------------------------------------------------------------- figures
@pytest.fixture
def cjk():
    if setup_cjk_font() is None:
        pytest.skip("no CJK font on this machine (make setup installs fonts-wqy-microhei)")


def _render(ax, tmp_path, name):
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        ax.figure.savefig(tmp_path / f"{name}.png")
    plt.close(ax.figure)
    assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_heat_map_has_chinese_labels_and_the_values(cjk, tiny, tmp_path):
    c = item_correlations(tiny)
    ax = plot_item_correlations(c)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["领导重视", "队伍建设", "出生政策符合率", "台账"]
    img = ax.images[0].get_array()
    assert img[0, 1] == pytest.approx(7.25 / 9.5) and np.ma.is_masked(img[3, 3])
    assert "指标间相关" in ax.get_title()
    _render(ax, tmp_path, "corr")


def test_effective_weight_bars(cjk, tiny, tmp_path):
    ax = plot_effective_weights(effective_weights(tiny))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["领导重视", "队伍建设", "出生政策符合率", "台账", "亮点加分"]
    nominal, effective = ax.containers
    assert [b.get_width() for b in nominal] == pytest.approx([0.3, 0.3, 0.2, 0.2, 0.0])
    assert [b.get_width() for b in effective] == pytest.approx([16 / 41, 63 / 164, 14 / 41, 0, -19 / 164])
    _render(ax, tmp_path, "weights")


def test_ceiling_floor_chart(cjk, tiny, tmp_path):
    ax = plot_ceiling_floor(item_diagnostics(tiny))
    floor, mid, ceil = ax.containers
    assert [b.get_width() for b in floor] == pytest.approx([0.2, 0.2, 0.4, 0.0])
    assert [b.get_width() for b in ceil] == pytest.approx([0.4, 0.2, 0.6, 1.0])
    assert [b.get_width() for b in mid] == pytest.approx([0.4, 0.6, 0.0, 0.0])
    _render(ax, tmp_path, "ceiling")


def test_figures_on_the_demo_render_every_label(cjk, wujin, tmp_path):
    for name, ax in [
        ("corr", plot_item_correlations(item_correlations(wujin))),
        ("weights", plot_effective_weights(effective_weights(wujin))),
        ("ceiling", plot_ceiling_floor(item_diagnostics(wujin), sort=True)),
    ]:
        assert any("\u4e00" <= ch <= "\u9fff" for t in ax.get_yticklabels() for ch in t.get_text())
        _render(ax, tmp_path, name)


def test_figures_need_a_group_when_there_are_several(tiny):
    both = score(parse_scheme(tiny_raw()), pd.concat([tiny_data(2015), tiny_data()], ignore_index=True))
    d = item_diagnostics(both)
    with pytest.raises(ValueError, match="year"):
        plot_ceiling_floor(d)
    with pytest.raises(ValueError, match="no rows"):
        plot_ceiling_floor(d, year=2014)
    ax = plot_ceiling_floor(d, year=2015)
    assert len(ax.get_yticklabels()) == 4
    plt.close(ax.figure)


# --------------------------------------------------------------------------- composite schemes
def test_effective_weights_of_a_composite_index_by_hand():
    # index = 0.75·a + 0.25·b, both min-max onto 0–100 among three units:
    #   a: 0, 50, 100; b: 0, 100, 50 → index 0, 62.5, 87.5 (mean 50, var 2031.25)
    #   cov(a, index) = (2500 + 0 + 1875)/2 = 2187.5 → × 0.75 = 1640.625 → share 21/26
    #   cov(b, index) = (2500 + 625 + 0)/2 = 1562.5 → × 0.25 = 390.625 → share 5/26
    raw = {
        "id": "ix",
        "label": "指数",
        "source": "test",
        "years": [2020, 2020],
        "kinds": {"town": {"label": "镇"}},
        "missing": "drop",
        "indicators": {"a": {}, "b": {}},
        "lines": [
            {
                "id": "L",
                "label": "L",
                "points": 100,
                "unit_kind": "town",
                "aggregate": "mean",
                "items": [
                    {
                        "id": "ia",
                        "label": "A",
                        "weight": 3,
                        "points": 100,
                        "rule": {"type": "normalise", "indicator": "a"},
                    },
                    {
                        "id": "ib",
                        "label": "B",
                        "weight": 1,
                        "points": 100,
                        "rule": {"type": "normalise", "indicator": "b"},
                    },
                ],
            }
        ],
    }
    data = pd.DataFrame({"unit": ["u1", "u2", "u3"], "year": 2020, "a": [0.0, 5, 10], "b": [0.0, 10, 5]})
    w = effective_weights(score(parse_scheme(raw), data))
    assert list(w.columns) == EFFECTIVE_WEIGHT_COLUMNS
    w = w.set_index("item")
    np.testing.assert_allclose(w.loc[["ia", "ib"], "nominal_weight"], [0.75, 0.25])
    np.testing.assert_allclose(w.loc[["ia", "ib"], "cov_total"], [1640.625, 390.625])
    np.testing.assert_allclose(w.loc[["ia", "ib"], "var_total"], [2031.25, 2031.25])
    np.testing.assert_allclose(w.loc[["ia", "ib"], "effective_weight"], [21 / 26, 5 / 26])
    assert list(w["component"]) == ["item", "item"] and list(w["max_points"]) == [100, 100]
    assert (w["year"] == 2020).all() and (w["n_units"] == 3).all() and (w["note"] == "").all()
    # one unit: no variance, said so
    one = effective_weights(score(parse_scheme(raw), data.iloc[:1])).set_index("item")
    assert one["effective_weight"].isna().all() and (one["note"] == "a single unit: no variance").all()
