"""Sex ratio at birth and proportions: published values, hand checks, properties, edge cases, demo data."""

from __future__ import annotations

import re
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats import chi2_contingency
from statsmodels.stats.multitest import multipletests

from assesskit import DataError
from assesskit.datasets import load
from assesskit.datasets.demo import make_demo_data
from assesskit.plotting import setup_cjk_font
from assesskit.plotting.srb import plot_srb_intervals, plot_srb_series
from assesskit.stats.proportions import (
    adjust_pvalues,
    binomial_interval,
    compare_with_national,
    heterogeneity,
    national_srb,
    proportion_change,
    proportion_ci,
    sex_ratio,
    share_from_srb,
    srb_from_share,
)

# ---------------------------------------------------------------------------------------------
# published values (../shared/reference/STATS_REFERENCE_VALUES.md)
# ---------------------------------------------------------------------------------------------
# R binom::binom.confint, as stored in statsmodels' tests: (x, n, method) -> (lower, upper)
R_BINOM = [
    (18, 20, "exact", 0.6830172860, 0.9876514728),
    (18, 20, "wilson", 0.6989663548, 0.9721335188),
    (18, 20, "logit", 0.6761979916, 0.9748664156),
    (4, 20, "exact", 0.0573339971, 0.4366140030),
    (4, 20, "wilson", 0.0806576626, 0.4160174323),
    (4, 20, "logit", 0.0771334547, 0.4278469015),
    (4, 200, "exact", 0.0054755659, 0.0504136091),
    (4, 200, "wilson", 0.0078044264, 0.0502870869),
    (4, 200, "logit", 0.0075266388, 0.0520602623),
]


@pytest.mark.parametrize(("x", "n", "method", "lo", "hi"), R_BINOM)
def test_binomial_interval_matches_r_binom(x, n, method, lo, hi):
    got_lo, got_hi = binomial_interval(x, n, method=method)
    assert abs(got_lo[0] - lo) < 5e-11 and abs(got_hi[0] - hi) < 5e-11
    # the same through the table function
    t = proportion_ci(pd.DataFrame({"x": [x], "n": [n]}), "x", "n", keys=(), method=method)
    assert abs(t.ci_lower[0] - lo) < 5e-11 and abs(t.ci_upper[0] - hi) < 5e-11


def test_sex_ratio_intervals_are_the_male_share_intervals_mapped():
    df = pd.DataFrame({"male_births": [18, 4, 4], "female_births": [2, 16, 196]})
    for method in ("exact", "wilson", "logit"):
        t = sex_ratio(df, keys=(), method=method)
        ref = [r for r in R_BINOM if r[2] == method]
        for i, (_x, _n, _m, lo, hi) in enumerate(ref):
            assert abs(t.male_share_lower[i] - lo) < 5e-11 and abs(t.male_share_upper[i] - hi) < 5e-11
            lo_, hi_ = t.male_share_lower[i], t.male_share_upper[i]
            assert t.srb_lower[i] == pytest.approx(100 * lo_ / (1 - lo_), rel=1e-12)
            assert t.srb_upper[i] == pytest.approx(100 * hi_ / (1 - hi_), rel=1e-12)


def test_katz_interval_for_18_boys_2_girls():
    t = sex_ratio(pd.DataFrame({"male_births": [18], "female_births": [2]}), keys=(), method="katz")
    assert round(t.srb_lower[0], 4) == 208.8307
    assert round(t.srb_upper[0], 4) == 3878.7401
    # the Katz formula written out: 100·exp(log(M/F) ± z·sqrt(1/M + 1/F))
    z = stats.norm.ppf(0.975)
    half = z * np.sqrt(1 / 18 + 1 / 2)
    assert t.srb_lower[0] == pytest.approx(100 * np.exp(np.log(9) - half), rel=1e-12)
    assert t.srb_upper[0] == pytest.approx(100 * np.exp(np.log(9) + half), rel=1e-12)
    assert t.method[0] == "logit"


def test_normal_range_as_male_share():
    lo, hi = share_from_srb([103, 107])
    assert round(lo, 5) == 0.50739 and round(hi, 5) == 0.51691
    assert srb_from_share(share_from_srb(107.0)) == pytest.approx(107.0, rel=1e-14)


P10 = [0.001, 0.002, 0.003, 0.004, 0.005, 0.05, 0.06, 0.07, 0.08, 0.09]


def test_holm_and_bh_match_r():
    holm = adjust_pvalues(P10, method="holm")
    assert holm == pytest.approx([0.01, 0.018, 0.024, 0.028, 0.03, 0.25, 0.25, 0.25, 0.25, 0.25], abs=1e-12)
    bh = adjust_pvalues(P10, method="bh")
    assert list(bh[:5]) == pytest.approx([0.01] * 5, abs=1e-12)
    assert [round(v, 7) for v in bh[5:]] == [0.0833333, 0.0857143, 0.0875, 0.0888889, 0.09]


def test_adjustment_within_families_ignores_missing():
    p = np.array(P10 + [np.nan, 0.04, 0.01])
    g = np.array(["a"] * 10 + ["b"] * 3)
    adj = adjust_pvalues(p, method="holm", groups=g)
    assert adj[:10] == pytest.approx(multipletests(P10, method="holm")[1])
    assert np.isnan(adj[10])
    assert adj[11:] == pytest.approx([0.04, 0.02])  # a family of two: Holm on (0.04, 0.01)


@pytest.mark.parametrize(
    ("region", "srb", "lo", "hi"),
    [
        ("Hangzhou (Zhejiang)", 110.99, 110.53, 111.45),
        ("China (441 facilities)", 109.27, 109.08, 109.45),
    ],
)
def test_real_pooled_counts(region, srb, lo, hi):
    pooled = load("china_srb_pooled")
    t = sex_ratio(pooled, keys=("region",))
    row = t[t.region == region].iloc[0]
    assert round(row.srb, 2) == srb
    assert (round(row.srb_lower, 2), round(row.srb_upper, 2)) == (lo, hi)
    assert row.above_holm  # both far above 107 with millions of births
    assert row.note == ""


# ---------------------------------------------------------------------------------------------
# hand-checkable cases
# ---------------------------------------------------------------------------------------------
def test_exact_test_is_scipy_binomtest_against_107():
    df = pd.DataFrame({"male_births": [18, 346, 53, 0], "female_births": [2, 254, 47, 5]})
    t = sex_ratio(df, keys=())
    for i, (m, f) in enumerate(zip(df.male_births, df.female_births)):
        ref = stats.binomtest(m, m + f, 107 / 207, alternative="greater").pvalue
        assert t.p_above[i] == pytest.approx(ref, rel=1e-10)
    # 10 boys and no girls: P(X >= 10) = (107/207)^10
    t = sex_ratio(pd.DataFrame({"male_births": [10], "female_births": [0]}), keys=())
    assert t.p_above[0] == pytest.approx((107 / 207) ** 10, rel=1e-12)


def test_holm_and_bh_are_applied_within_each_year():
    df = pd.DataFrame(
        {
            "unit": ["a", "b", "c", "a", "b", "c"],
            "year": [2015, 2015, 2015, 2016, 2016, 2016],
            "male_births": [560, 520, 540, 600, 530, 515],
            "female_births": [440, 480, 460, 400, 470, 485],
        }
    )
    t = sex_ratio(df)
    for y in (2015, 2016):
        s = t[t.year == y]
        assert s.p_holm.to_numpy() == pytest.approx(multipletests(s.p_above, method="holm")[1])
        assert s.p_bh.to_numpy() == pytest.approx(multipletests(s.p_above, method="fdr_bh")[1])
    assert t.above_holm.tolist() == (t.p_holm < 0.05).tolist()
    # one family over everything
    t_all = sex_ratio(df, family=None)
    assert t_all.p_holm.to_numpy() == pytest.approx(multipletests(t.p_above, method="holm")[1])
    assert t.attrs["bound"] == 107.0 and t.attrs["family"] == ["year"]


def test_bound_is_a_parameter():
    df = pd.DataFrame({"male_births": [520], "female_births": [480]})  # SRB 108.3
    assert sex_ratio(df, keys=(), bound=103).p_above[0] < sex_ratio(df, keys=()).p_above[0]


def test_newcombe_change_matches_newcombe_1998_table_ii():
    # Newcombe (1998) Stat Med 17:873, Table II, method 10 (hybrid score): p1 - p2
    cases = [
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((6, 7, 2, 7), (0.0582, 0.8062)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ]
    rows = []
    for i, ((x1, n1, x2, n2), _) in enumerate(cases):
        rows += [{"unit": i, "year": 2015, "x": x2, "n": n2}, {"unit": i, "year": 2016, "x": x1, "n": n1}]
    t = proportion_change(pd.DataFrame(rows), "x", "n")
    cur = t[t.year == 2016].reset_index(drop=True)
    for i, ((x1, n1, x2, n2), (lo, hi)) in enumerate(cases):
        assert cur.change[i] == pytest.approx(x1 / n1 - x2 / n2)
        assert (round(cur.change_lower[i], 4), round(cur.change_upper[i], 4)) == (lo, hi)
    first = t[t.year == 2015]
    assert first.change.isna().all() and (first.note == "first year of the unit: no previous year").all()


def test_change_gap_zero_trials_and_scale():
    df = pd.DataFrame(
        {
            "unit": ["a", "a", "a", "b", "b"],
            "year": [2012, 2013, 2015, 2012, 2013],
            "x": [90, 95, 98, 0, 5],
            "n": [100, 100, 100, 0, 10],
        }
    )
    t = proportion_change(df, "x", "n", scale=100).set_index(["unit", "year"])
    assert t.loc[("a", 2015), "prev_year"] == 2013 and "compared with 2013" in t.loc[("a", 2015), "note"]
    assert t.loc[("a", 2013), "change"] == pytest.approx(5.0)
    assert t.loc[("a", 2013), "change_lower"] < 5.0 < t.loc[("a", 2013), "change_upper"]
    assert np.isnan(t.loc[("b", 2013), "change"])
    assert "previous year" in t.loc[("b", 2013), "note"]


def test_heterogeneity_is_pearson_chi2_of_the_k_by_2_table():
    # R: prop.test(c(83, 90, 129, 70), c(86, 93, 136, 82)) -> X-squared = 12.6, df = 3, p = 0.005585
    df = pd.DataFrame({"x": [83, 90, 129, 70], "n": [86, 93, 136, 82]})
    h = heterogeneity(df, "x", "n", by=None)
    assert round(h.chi2[0], 1) == 12.6 and h.df[0] == 3 and round(h.p_value[0], 6) == 0.005585
    assert h.phi[0] == pytest.approx(h.chi2[0] / 3)
    ref = chi2_contingency(np.column_stack([df.x, df.n - df.x]), correction=False)
    assert h.chi2[0] == pytest.approx(ref[0], rel=1e-12) and h.p_value[0] == pytest.approx(ref[1], rel=1e-10)
    # identical units: chi2 = 0, phi = 0
    same = heterogeneity(pd.DataFrame({"x": [50, 50], "n": [100, 100]}), "x", "n", by=None)
    assert same.chi2[0] == 0 and same.phi[0] == 0 and same.p_value[0] == 1


def test_heterogeneity_per_year_and_degenerate_groups():
    df = pd.DataFrame({"year": [1, 1, 2, 2, 3], "x": [5, 9, 10, 10, 3], "n": [10, 10, 10, 10, 4]})
    h = heterogeneity(df, "x", "n").set_index("year")
    assert h.loc[1, "df"] == 1 and h.loc[1, "chi2"] == pytest.approx(
        chi2_contingency([[5, 5], [9, 1]], correction=False)[0]
    )
    assert "below 5" in h.loc[1, "note"]
    assert np.isnan(h.loc[2, "chi2"]) and "0 or 1" in h.loc[2, "note"]
    assert np.isnan(h.loc[3, "chi2"]) and "fewer than two units" in h.loc[3, "note"]


def test_compare_with_national():
    nat = national_srb()
    assert (
        nat.set_index("year").national_srb[2008] == 120.56
        and nat.set_index("year").national_srb[2014] == 115.88
    )
    t = pd.DataFrame(
        {
            "unit": list("abcd"),
            "year": [2014, 2014, 2014, 2016],
            "srb_lower": [116.0, 100.0, 110.0, 100.0],
            "srb_upper": [130.0, 115.0, 120.0, 130.0],
        }
    )
    out = compare_with_national(t)
    assert out.national_srb[:3].tolist() == [115.88] * 3
    assert out.vs_national[:3].tolist() == ["above", "below", "covers"]
    assert pd.isna(out.vs_national[3]) and np.isnan(out.national_srb[3])
    assert out.note[3] == "no national SRB figure for 2016"
    interp = compare_with_national(t, interpolate=True)
    assert interp.national_srb[3] == pytest.approx((113.50 + 111.90) / 2)
    assert interp.vs_national[3] == "covers" and "interpolated" in interp.note[3]
    assert "national_srb" not in t.columns  # input untouched


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------
counts = st.integers(min_value=1, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@settings(max_examples=200, deadline=None)
@given(counts, st.sampled_from(["wilson", "exact", "logit"]))
def test_interval_contains_estimate(xn, method):
    x, n = xn
    lo, hi = binomial_interval(x, n, method=method)
    if method == "logit" and x in (0, n):
        assert np.isnan(lo[0]) and np.isnan(hi[0])
        return
    assert 0 <= lo[0] <= x / n <= hi[0] <= 1


@settings(max_examples=200, deadline=None)
@given(counts, st.integers(min_value=2, max_value=20), st.sampled_from(["wilson", "exact", "logit"]))
def test_interval_narrows_with_more_trials(xn, k, method):
    x, n = xn
    if method == "logit" and x in (0, n):
        return
    lo1, hi1 = binomial_interval(x, n, method=method)
    lo2, hi2 = binomial_interval(k * x, k * n, method=method)
    assert hi2[0] - lo2[0] < hi1[0] - lo1[0]


@settings(max_examples=100, deadline=None)
@given(counts, st.sampled_from(["wilson", "exact", "logit"]))
def test_interval_widens_with_confidence(xn, method):
    x, n = xn
    if method == "logit" and x in (0, n):
        return
    lo95, hi95 = binomial_interval(x, n, method=method, alpha=0.05)
    lo99, hi99 = binomial_interval(x, n, method=method, alpha=0.01)
    assert lo99[0] <= lo95[0] and hi95[0] <= hi99[0]


births = st.tuples(
    st.integers(min_value=1, max_value=3000),
    st.integers(min_value=1, max_value=3000),
    st.integers(min_value=2, max_value=10),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(births, min_size=1, max_size=25), st.sampled_from(["wilson", "exact", "katz"]))
def test_srb_interval_contains_srb_and_narrows_with_births(rows, method):
    # many (M, F) pairs per call, each also with k times the births at the same ratio
    m = np.array([r[0] for r in rows])
    f = np.array([r[1] for r in rows])
    k = np.array([r[2] for r in rows])
    df = pd.DataFrame({"male_births": np.r_[m, k * m], "female_births": np.r_[f, k * f]})
    t = sex_ratio(df, keys=(), method=method, family=None)
    assert (t.srb_lower <= t.srb).all() and (t.srb <= t.srb_upper).all()
    assert t.srb.to_numpy() == pytest.approx(100 * df.male_births / df.female_births)
    width = (t.srb_upper - t.srb_lower).to_numpy()
    assert (width[len(rows) :] < width[: len(rows)]).all()


# ---------------------------------------------------------------------------------------------
# edge cases
# ---------------------------------------------------------------------------------------------
def edge_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": ["no_girls", "no_births", "five", "no_boys", "missing"],
            "year": [2016, 2016, 2016, 2016, 2016],
            "male_births": [12, 0, 3, 0, None],
            "female_births": [0, 0, 2, 9, 40],
        }
    )


def test_edge_cases_give_clear_results():
    df = edge_frame()
    before = df.copy()
    t = sex_ratio(df).set_index("unit")
    pd.testing.assert_frame_equal(df, before)  # not mutated
    # zero girls: SRB infinite -> NaN with a note; the lower limit is informative, the test works
    r = t.loc["no_girls"]
    assert np.isnan(r.srb) and np.isinf(r.srb_upper) and r.srb_lower > 100
    assert "no female births" in r.note
    assert r.p_above == pytest.approx((107 / 207) ** 12)
    # zero births: nothing to estimate, not tested, not in the adjustment
    r = t.loc["no_births"]
    assert np.isnan([r.srb, r.srb_lower, r.srb_upper, r.p_above, r.p_holm]).all()
    assert pd.isna(r.above_holm) and r.note == "no births: nothing to estimate"
    # five births: a valid but very wide interval
    r = t.loc["five"]
    assert r.srb == 150 and r.srb_lower < 50 and r.srb_upper > 500
    assert r.note == "only 5 births: the interval is very wide" and not r.above_holm
    # zero boys
    r = t.loc["no_boys"]
    assert r.srb == 0 and r.srb_lower == 0 and "no male births" in r.note
    # a missing count
    r = t.loc["missing"]
    assert np.isnan(r.srb) and "missing male or female count" in r.note
    # the Holm family holds the three testable rows only
    tested = t.p_above.notna()
    assert tested.sum() == 3
    assert t.p_holm[tested].to_numpy() == pytest.approx(multipletests(t.p_above[tested], method="holm")[1])
    # Katz cannot do zero cells: NaN limits and the note says what to use
    k = sex_ratio(df, method="katz").set_index("unit")
    assert np.isnan(k.loc["no_girls", "srb_lower"]) and "method='wilson'" in k.loc["no_girls", "note"]


def test_edge_cases_for_proportions():
    df = pd.DataFrame({"unit": list("abcd"), "year": 2016, "x": [0, 5, 0, 7], "n": [0, 5, 3, 7]})
    t = proportion_ci(df, "x", "n", scale=100).set_index("unit")
    assert np.isnan(t.loc["a", "estimate"]) and t.loc["a", "note"] == "n is 0: no proportion"
    assert t.loc["b", "estimate"] == 100 and t.loc["b", "ci_upper"] == 100 and t.loc["b", "ci_lower"] < 100
    assert "very wide" in t.loc["b", "note"]
    assert t.loc["c", "ci_lower"] == 0
    lt = proportion_ci(df, "x", "n", method="logit").set_index("unit")
    assert np.isnan(lt.loc["b", "ci_lower"]) and "undefined at 0% or 100%" in lt.loc["b", "note"]


def test_single_year_change_and_heterogeneity():
    df = pd.DataFrame({"unit": ["a"], "year": [2016], "x": [90], "n": [100]})
    assert proportion_change(df, "x", "n").note[0] == "first year of the unit: no previous year"
    h = heterogeneity(df, "x", "n")
    assert np.isnan(h.chi2[0]) and "fewer than two units" in h.note[0]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"male_births": [-1], "female_births": [3]}), "negative count"),
        (pd.DataFrame({"male_births": [1.5], "female_births": [3]}), "whole number"),
        (pd.DataFrame({"male_births": ["many"], "female_births": [3]}), "not a number"),
        (pd.DataFrame({"female_births": [3]}), "missing column"),
    ],
)
def test_impossible_sex_counts_raise(frame, message):
    with pytest.raises(DataError, match=message if message == "missing column" else "impossible counts") as e:
        sex_ratio(frame, keys=())
    assert message in str(e.value)


def test_numerator_above_denominator_raises_listing_every_row():
    df = pd.DataFrame({"x": [5, 11, 12], "n": [10, 10, 10]})
    with pytest.raises(DataError) as e:
        proportion_ci(df, "x", "n", keys=())
    assert len(e.value.problems) == 2 and "x = 11 exceeds n = 10" in str(e.value)
    with pytest.raises(DataError):
        proportion_change(df.assign(unit="a", year=2016), "x", "n")
    with pytest.raises(DataError):
        heterogeneity(df, "x", "n", by=None)


def test_duplicate_unit_years_refused_by_change():
    df = pd.DataFrame({"unit": ["a", "a"], "year": [2016, 2016], "x": [1, 2], "n": [5, 5]})
    with pytest.raises(DataError, match="duplicate"):
        proportion_change(df, "x", "n")


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown interval method"):
        binomial_interval(1, 2, method="wald")


# ---------------------------------------------------------------------------------------------
# demo data: what the generator plants
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo():
    return make_demo_data(0)


def planted_high_srb(panel) -> list[str]:
    text = next(s for s in panel.planted if "far above 107" in s)
    return re.findall(r"\((\w+)\)", text.split(" in: ", 1)[1])


@pytest.mark.parametrize(
    "scheme",
    [
        "district_1000",
        "wujin_2016",
        "xpcc_2015",
        "foshan_2006",
        "floating_inflow_2007",
        "floating_outflow_2007",
    ],
)
def test_demo_planted_high_srb_units_are_found(demo, scheme):
    p = demo[scheme]
    planted = planted_high_srb(p)
    assert len(planted) == 2
    t = sex_ratio(p.data)
    last = t[t.year == t.year.max()].set_index("unit")
    # Every planted unit (true SRB 125–132 in a unit of at least median size) is above 107 in
    # the last year even after Holm's adjustment over all units of that year.
    flagged = set(last.index[last.above_holm.fillna(False).to_numpy(bool)])
    assert set(planted) <= flagged
    assert (last.loc[planted, "srb_lower"] > 107).all()
    # No false alarm: every unit Holm flags truly exceeds 107 in the generator's truth.
    truth = p.truth[p.truth.year == p.truth.year.max()].set_index("unit").srb_true
    assert (truth[list(flagged)] > 107).all()
    # BH (screening) flags at least as many units as Holm.
    assert last.above_bh.fillna(False).sum() >= last.above_holm.fillna(False).sum()


def test_demo_compliance_differs_between_units(demo):
    d = demo["wujin_2016"].data
    h = heterogeneity(d, "policy_births", "births")
    assert len(h) == 5 and (h.units == 17).all()
    assert (h.p_value < 1e-6).all() and (h.phi > 3).all()  # real differences, far beyond binomial noise
    ci = proportion_ci(d, "policy_births", "births", scale=100)
    assert ci.estimate.between(90, 100).all() and (ci.ci_lower < ci.estimate).all()


def test_demo_national_comparison(demo):
    t = compare_with_national(sex_ratio(demo["wujin_2016"].data))
    assert set(t.vs_national.dropna()) <= {"above", "below", "covers"}
    assert t.loc[t.year == 2016, "vs_national"].isna().all()  # no official figure for 2016
    assert t.loc[t.year == 2014, "national_srb"].eq(115.88).all()


# ---------------------------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------------------------
def _render(ax, tmp_path, name):
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        ax.figure.savefig(tmp_path / name)
    plt.close(ax.figure)
    assert (tmp_path / name).stat().st_size > 5000


def test_srb_plots_render_chinese(demo, tmp_path):
    if setup_cjk_font() is None:
        pytest.skip("no CJK font on this machine (make setup installs fonts-wqy-microhei)")
    p = demo["wujin_2016"]
    names = dict(zip(p.units.unit, p.units.name))
    t = sex_ratio(p.data)
    ax = plot_srb_intervals(t, names=names, year=2014)
    ticks = [x.get_text() for x in ax.get_yticklabels()]
    assert len(ticks) == 17 and "西湖街道" in ticks
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert any("103–107" in s for s in legend) and any("115.88" in s for s in legend)
    _render(ax, tmp_path, "forest.png")
    ax = plot_srb_intervals(t, names=names)  # 2016: interpolated national figure
    assert any("插值" in x.get_text() for x in ax.get_legend().get_texts())
    _render(ax, tmp_path, "forest2016.png")
    ax = plot_srb_series(t, units=["xihu_jiedao", "luoyang"], names=names)
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert "西湖街道" in legend and "全国（官方）" in legend
    _render(ax, tmp_path, "series.png")


def test_forest_plot_copes_with_zero_girls_and_no_births():
    ax = plot_srb_intervals(sex_ratio(edge_frame()), national=False)
    assert len(ax.get_yticklabels()) == 3  # no_girls, five, no_boys (no_births and missing have no interval)
    plt.close(ax.figure)
