"""Trends: Mann–Kendall (exact and normal), Cochran–Armitage, logistic regression on year."""

from __future__ import annotations

import itertools
import math
import warnings
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.contingency_tables import Table

from assesskit import DataError
from assesskit.datasets import load
from assesskit.datasets.demo import make_demo_data
from assesskit.plotting import setup_cjk_font
from assesskit.plotting.srb import plot_trend
from assesskit.stats.proportions import proportion_ci
from assesskit.stats.trends import cochran_armitage, logistic_trend, mann_kendall, mann_kendall_null


def official_2008_2014() -> pd.DataFrame:
    o = load("china_srb_official")
    o = o.assign(year=pd.to_numeric(o.period))
    return o[(o.year >= 2008) & (o.year <= 2014)][["year", "srb"]].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Mann–Kendall: the published result
# ---------------------------------------------------------------------------------------------
def test_mann_kendall_official_srb_2008_2014():
    o = official_2008_2014()
    assert o.srb.tolist() == [120.56, 119.45, 117.94, 117.78, 117.70, 117.60, 115.88]
    r = mann_kendall(o, "srb", unit=None).iloc[0]
    assert r.S == -21 and r.n == 7
    assert round(r.var_S, 3) == 44.333
    assert round(r.z, 4) == -3.0038
    assert round(r.p_normal, 7) == 0.0026667
    assert r.p_exact == pytest.approx(2 / math.factorial(7), rel=1e-12)
    assert round(r.p_exact, 8) == 0.00039683
    assert r.method == "exact" and r.p_value == r.p_exact
    assert r.direction == "decreasing" and r.tau == -1
    # one-sided: only the single all-decreasing ordering is as extreme
    dec = mann_kendall(o, "srb", unit=None, alternative="decreasing").iloc[0]
    assert dec.p_exact == pytest.approx(1 / 5040, rel=1e-12)
    inc = mann_kendall(o, "srb", unit=None, alternative="increasing").iloc[0]
    assert inc.p_exact == pytest.approx(1.0) and inc.direction == "none"


def test_sen_slope_is_the_median_pairwise_slope():
    o = official_2008_2014()
    r = mann_kendall(o, "srb", unit=None).iloc[0]
    pairs = [(o.srb[j] - o.srb[i]) / (o.year[j] - o.year[i]) for i in range(7) for j in range(i + 1, 7)]
    assert r.sen_slope == pytest.approx(np.median(pairs))
    assert r.sen_slope == pytest.approx(stats.theilslopes(o.srb, o.year)[0])


# ---------------------------------------------------------------------------------------------
# the exact null distribution
# ---------------------------------------------------------------------------------------------
def brute_force_null(values: list[int]) -> dict[int, Fraction]:
    """S over every distinct ordering of a multiset, by enumeration."""
    perms = set(itertools.permutations(values))
    counts: dict[int, int] = {}
    for p in perms:
        s = sum(int(np.sign(p[j] - p[i])) for i in range(len(p)) for j in range(i + 1, len(p)))
        counts[s] = counts.get(s, 0) + 1
    return {s: Fraction(c, len(perms)) for s, c in counts.items()}


@pytest.mark.parametrize(
    "values",
    [
        [1, 2, 3, 4, 5],
        [1, 2, 3, 4, 5, 6, 7],
        [1, 1, 2, 3, 3, 5],
        [1, 1, 1, 2, 3, 4, 5],
        [1, 1, 2, 2, 3, 3, 4],
        [2, 2, 2, 2, 3],
    ],
)
def test_exact_null_equals_enumeration(values):
    ties = [values.count(v) for v in set(values)]
    null = mann_kendall_null(len(values), ties)
    brute = brute_force_null(values)
    assert dict(zip(null.S, null["count"] / null["count"].sum())) == pytest.approx(
        {s: float(p) for s, p in brute.items()}, rel=1e-12
    )
    assert null.probability.sum() == pytest.approx(1.0)
    # its variance is the tie-corrected Var(S) of the normal approximation
    n = len(values)
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in ties)) / 18
    assert float((null.S**2 * null.probability).sum()) == pytest.approx(var, rel=1e-12)


def test_exact_null_counts_are_mahonian_numbers():
    # permutations of 4 by inversions: 1, 3, 5, 6, 5, 3, 1 (OEIS A008302)
    assert mann_kendall_null(4)["count"].tolist() == [1, 3, 5, 6, 5, 3, 1]
    assert mann_kendall_null(10)["count"].sum() == math.factorial(10)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=3, max_size=10, unique=True)
)
def test_exact_p_matches_scipy_kendalltau_without_ties(values):
    years = np.arange(2000, 2000 + len(values))
    r = mann_kendall(pd.DataFrame({"year": years, "v": values}), "v", unit=None).iloc[0]
    ref = stats.kendalltau(years, values, method="exact")
    assert r.p_exact == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)
    assert r.tau == pytest.approx(ref.statistic)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=4), min_size=2, max_size=10))
def test_exact_p_is_a_probability_and_at_least_the_observed_ordering(values):
    r = mann_kendall(pd.DataFrame({"year": range(len(values)), "v": values}), "v", unit=None).iloc[0]
    if r.note.startswith("all values equal") or r.n < 2:
        assert np.isnan(r.p_value)
        return
    assert 0 < r.p_exact <= 1
    assert abs(r.S) <= len(values) * (len(values) - 1) // 2


# ---------------------------------------------------------------------------------------------
# the normal approximation
# ---------------------------------------------------------------------------------------------
def test_normal_approximation_beyond_ten_with_ties():
    v = [1, 2, 2, 3, 4, 5, 5, 5, 6, 7, 8, 9]  # n = 12, ties of 2 and 3
    r = mann_kendall(pd.DataFrame({"year": range(2001, 2013), "v": v}), "v", unit=None).iloc[0]
    s = sum(int(np.sign(v[j] - v[i])) for i in range(12) for j in range(i + 1, 12))
    var = (12 * 11 * 29 - (2 * 1 * 9) - (3 * 2 * 11)) / 18
    assert r.S == s == 62 and r.var_S == pytest.approx(var)
    assert r.z == pytest.approx((s - 1) / math.sqrt(var))
    assert r.p_normal == pytest.approx(2 * stats.norm.sf((s - 1) / math.sqrt(var)))
    assert r.method == "normal" and np.isnan(r.p_exact) and r.p_value == r.p_normal
    assert r.note == "4 tied pair(s)"


def test_exact_max_n_switches_method():
    o = official_2008_2014()
    r = mann_kendall(o, "srb", unit=None, exact_max_n=5).iloc[0]
    assert r.method == "normal" and r.p_value == pytest.approx(0.0026667, abs=5e-8)


# ---------------------------------------------------------------------------------------------
# Mann–Kendall: several units at once, edge cases
# ---------------------------------------------------------------------------------------------
def test_mann_kendall_per_unit_equals_one_series_at_a_time():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "unit": np.repeat(["a", "b", "c"], 6),
            "year": np.tile(range(2010, 2016), 3),
            "rate": rng.normal(size=18).round(1),
        }
    )
    allu = mann_kendall(df, "rate").set_index("unit")
    for u in "abc":
        one = mann_kendall(df[df.unit == u], "rate", unit=None).iloc[0]
        assert allu.loc[u, "S"] == one.S and allu.loc[u, "p_value"] == pytest.approx(one.p_value)
    # row order does not matter: the series is ordered by year
    shuffled = mann_kendall(df.sample(frac=1, random_state=3), "rate").set_index("unit")
    pd.testing.assert_frame_equal(allu, shuffled)


def test_mann_kendall_edge_cases():
    df = pd.DataFrame(
        {
            "unit": ["one", "flat", "flat", "flat", "gap", "gap", "gap", "gap"],
            "year": [2016, 2014, 2015, 2016, 2013, 2014, 2015, 2016],
            "rate": [0.9, 0.5, 0.5, 0.5, 0.1, None, 0.3, 0.4],
        }
    )
    r = mann_kendall(df, "rate").set_index("unit")
    assert (
        np.isnan(r.loc["one", "p_value"])
        and r.loc["one", "note"] == "fewer than two values: no trend to test"
    )
    assert pd.isna(r.loc["one", "direction"]) and pd.isna(r.loc["one", "method"])
    assert (
        np.isnan(r.loc["flat", "p_value"]) and r.loc["flat", "note"] == "all values equal: no trend to test"
    )
    assert (
        r.loc["gap", "n"] == 3
        and r.loc["gap", "S"] == 3
        and r.loc["gap", "note"] == "1 missing value(s) dropped"
    )
    assert r.loc["gap", "p_exact"] == pytest.approx(2 / 6)
    with pytest.raises(DataError, match="duplicate"):
        mann_kendall(pd.concat([df, df.head(1)]), "rate")
    with pytest.raises(DataError, match="missing column"):
        mann_kendall(df, "nope")
    with pytest.raises(ValueError, match="alternative"):
        mann_kendall(df, "rate", alternative="up")


# ---------------------------------------------------------------------------------------------
# Cochran–Armitage
# ---------------------------------------------------------------------------------------------
SMOKERS = pd.DataFrame({"year": [1, 2, 3, 4], "x": [83, 90, 129, 70], "n": [86, 93, 136, 82]})


def test_cochran_armitage_matches_r_prop_trend_test():
    # R: prop.trend.test(c(83, 90, 129, 70), c(86, 93, 136, 82)) -> X-squared = 8.2249, p = 0.004132
    r = cochran_armitage(SMOKERS, "x", "n", unit=None).iloc[0]
    assert round(r.chi2, 4) == 8.2249 and round(r.p_value, 6) == 0.004132
    assert r.direction == "decreasing" and r.z < 0
    # the pooled-proportion variance written out
    p = 372 / 397
    t = SMOKERS.year
    T = (t * (SMOKERS.x - SMOKERS.n * p)).sum()
    var = p * (1 - p) * ((SMOKERS.n * t**2).sum() - (SMOKERS.n * t).sum() ** 2 / 397)
    assert r.statistic == pytest.approx(T) and r.variance == pytest.approx(var)


def test_cochran_armitage_is_n_over_n_minus_1_times_linear_by_linear():
    tab = np.column_stack([SMOKERS.x, SMOKERS.n - SMOKERS.x])
    res = Table(tab).test_ordinal_association(row_scores=np.arange(4.0), col_scores=np.array([0.0, 1.0]))
    m2 = res.zscore**2
    r = cochran_armitage(SMOKERS, "x", "n", unit=None).iloc[0]
    assert r.chi2 * (397 - 1) / 397 == pytest.approx(m2, rel=1e-10)


def test_cochran_armitage_scores_are_years_and_shift_invariant():
    a = cochran_armitage(SMOKERS.assign(year=SMOKERS.year + 2010), "x", "n", unit=None).iloc[0]
    b = cochran_armitage(SMOKERS, "x", "n", unit=None).iloc[0]
    assert a.z == pytest.approx(b.z, rel=1e-10)
    gap = cochran_armitage(SMOKERS.assign(year=[1, 2, 3, 10]), "x", "n", unit=None).iloc[0]
    assert gap.z != pytest.approx(b.z)  # unequal spacing counts
    one = cochran_armitage(SMOKERS, "x", "n", unit=None, alternative="decreasing").iloc[0]
    assert one.p_value == pytest.approx(b.p_value / 2)


def test_cochran_armitage_per_unit_and_pooled():
    df = pd.concat([SMOKERS.assign(unit="a"), SMOKERS.assign(unit="b", x=SMOKERS.n - SMOKERS.x)])
    r = cochran_armitage(df, "x", "n").set_index("unit")
    assert r.loc["a", "z"] == pytest.approx(-r.loc["b", "z"])
    pooled = cochran_armitage(df, "x", "n", unit=None).iloc[0]
    assert pooled.trials == 2 * 397 and pooled.pooled == pytest.approx(0.5)


def test_cochran_armitage_edge_cases():
    df = pd.DataFrame(
        {
            "unit": ["one", "all", "all", "zero", "zero", "zero"],
            "year": [2016, 2015, 2016, 2014, 2015, 2016],
            "x": [5, 10, 20, 0, 3, 4],
            "n": [5, 10, 20, 0, 10, 10],
        }
    )
    r = cochran_armitage(df, "x", "n").set_index("unit")
    assert np.isnan(r.loc["one", "p_value"]) and "fewer than two years" in r.loc["one", "note"]
    assert np.isnan(r.loc["all", "p_value"]) and "0 or 1" in r.loc["all", "note"]
    assert (
        r.loc["zero", "n_years"] == 2 and "1 row(s) without a positive denominator" in r.loc["zero", "note"]
    )
    assert np.isfinite(r.loc["zero", "p_value"])
    with pytest.raises(DataError, match="impossible counts"):
        cochran_armitage(df.assign(x=df.n + 1), "x", "n")


# ---------------------------------------------------------------------------------------------
# logistic regression on year
# ---------------------------------------------------------------------------------------------
def trend_panel() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": ["a"] * 4 + ["b"] * 4,
            "year": [2013, 2014, 2015, 2016] * 2,
            "x": [40, 45, 52, 60, 70, 72, 71, 80],
            "n": [100, 100, 100, 100, 100, 100, 100, 100],
        }
    )


def test_logistic_per_unit_equals_logit_on_individual_records():
    df = trend_panel()
    r = logistic_trend(df, "x", "n").set_index("unit")
    for u in ("a", "b"):
        d = df[df.unit == u]
        # expand to one record per birth: an independent route to the same likelihood
        yv = np.concatenate([np.r_[np.ones(x), np.zeros(n - x)] for x, n in zip(d.x, d.n)])
        year = np.repeat(d.year.to_numpy(float), d.n)
        fit = sm.Logit(yv, sm.add_constant(year)).fit(disp=0)
        assert r.loc[u, "slope"] == pytest.approx(fit.params[1], rel=1e-6)
        assert r.loc[u, "se"] == pytest.approx(fit.bse[1], rel=1e-6)
        assert r.loc[u, "p_value"] == pytest.approx(fit.pvalues[1], rel=1e-5)
    assert r.loc["a", "odds_ratio"] == pytest.approx(np.exp(r.loc["a", "slope"]))
    assert r.loc["a", "or_lower"] < r.loc["a", "odds_ratio"] < r.loc["a", "or_upper"]


def test_logistic_pooled_is_a_common_slope_with_unit_intercepts():
    df = trend_panel()
    r = logistic_trend(df, "x", "n").set_index("unit")
    ref = smf.glm(
        "p ~ C(unit) + year", data=df.assign(p=df.x / df.n), family=sm.families.Binomial(), var_weights=df.n
    ).fit()
    assert r.loc["(pooled)", "slope"] == pytest.approx(ref.params["year"], rel=1e-7)
    assert r.loc["(pooled)", "se"] == pytest.approx(ref.bse["year"], rel=1e-6)
    assert r.loc["(pooled)", "n_years"] == 4 and r.loc["(pooled)", "trials"] == 800


def test_logistic_pearson_scale_inflates_se_by_the_dispersion():
    df = trend_panel()
    b = logistic_trend(df, "x", "n").set_index("unit")
    q = logistic_trend(df, "x", "n", scale="pearson").set_index("unit")
    assert q.slope.to_numpy() == pytest.approx(b.slope.to_numpy(), rel=1e-8)
    ratio = q.se / b.se
    assert ratio.to_numpy() == pytest.approx(np.sqrt(b.dispersion.to_numpy()), rel=1e-6)


def test_logistic_edge_cases():
    df = pd.DataFrame(
        {
            "unit": ["one", "sep", "sep", "sep", "full", "full", "ok", "ok", "ok"],
            "year": [2016, 2014, 2015, 2016, 2015, 2016, 2014, 2015, 2016],
            "x": [5, 90, 100, 100, 10, 10, 80, 85, 88],
            "n": [5, 100, 100, 100, 10, 10, 100, 100, 100],
        }
    )
    r = logistic_trend(df, "x", "n").set_index("unit")
    assert np.isnan(r.loc["one", "slope"]) and "fewer than two years" in r.loc["one", "note"]
    # failures only in the first year, successes every year: the slope is +infinite
    assert np.isnan(r.loc["sep", "slope"]) and "separation" in r.loc["sep", "note"]
    assert np.isnan(r.loc["full", "slope"]) and "no variation" in r.loc["full", "note"]
    assert r.loc["ok", "slope"] > 0 and r.loc["ok", "note"] == ""
    assert "2 unit(s) without variation" in r.loc["(pooled)", "note"]  # one and full
    assert np.isfinite(r.loc["(pooled)", "slope"])


# ---------------------------------------------------------------------------------------------
# demo data: compliance improves overall
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo():
    return make_demo_data(0)


@pytest.mark.parametrize("scheme", ["wujin_2016", "xpcc_2015"])
def test_demo_compliance_trends_upward_overall(demo, scheme):
    d = demo[scheme].data
    ca = cochran_armitage(d, "policy_births", "births", unit=None).iloc[0]
    assert ca.direction == "increasing" and ca.p_value < 1e-4
    lt = logistic_trend(d, "policy_births", "births", scale="pearson").set_index("unit")
    pooled = lt.loc["(pooled)"]
    # quasi-binomial (Pearson-scaled) standard errors: the panels are over-dispersed (φ ≈ 2.7)
    assert pooled.dispersion > 1.5
    assert pooled.slope > 0 and pooled.p_value < 0.01 and pooled.or_lower > 1
    rate = d.groupby("year", as_index=False)[["policy_births", "births"]].sum()
    rate = rate.assign(r=rate.policy_births / rate.births)
    mk = mann_kendall(rate, "r", unit=None).iloc[0]
    assert mk.tau == 1 and mk.method == "exact"  # the overall rate rises every year
    # and the truth agrees: the generator's compliance rises on average
    tr = demo[scheme].truth.groupby("year").compliance_true.mean()
    assert tr.iloc[-1] > tr.iloc[0]


def test_demo_wujin_overall_mann_kendall_is_significant(demo):
    d = demo["wujin_2016"].data
    rate = d.groupby("year", as_index=False)[["policy_births", "births"]].sum()
    mk = mann_kendall(rate.assign(r=rate.policy_births / rate.births), "r", unit=None).iloc[0]
    assert mk.S == 10 and mk.p_exact == pytest.approx(2 / 120)  # 5 years, all increasing
    # per unit, five years rarely reach significance: the test is weak for short series
    per_unit = mann_kendall(d.assign(r=d.policy_births / d.births), "r")
    assert len(per_unit) == 17 and (per_unit.p_value.dropna() >= 2 / 120 - 1e-12).all()


# ---------------------------------------------------------------------------------------------
# plot
# ---------------------------------------------------------------------------------------------
def test_trend_plot_shows_the_test(demo, tmp_path):
    if setup_cjk_font() is None:
        pytest.skip("no CJK font on this machine (make setup installs fonts-wqy-microhei)")
    p = demo["wujin_2016"]
    names = dict(zip(p.units.unit, p.units.name))
    rates = proportion_ci(p.data, "policy_births", "births", scale=100)
    mk = mann_kendall(rates, "estimate")
    ax = plot_trend(rates, mk, units=["xihu_jiedao", "luoyang"], names=names, ylabel="政策符合率（%）")
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert len(legend) == 2 and legend[0].startswith("西湖街道: S=") and "(exact)" in legend[0]
    assert "Mann–Kendall" in ax.get_title()
    assert len(ax.collections) == 2  # the interval bands
    overall = proportion_ci(
        p.data.groupby("year", as_index=False)[["policy_births", "births"]].sum(),
        "policy_births",
        "births",
        keys="year",
        scale=100,
    )
    ca = cochran_armitage(p.data, "policy_births", "births", unit=None)
    ax2 = plot_trend(overall, ca, unit=None)
    assert "z=8.54" in ax2.get_legend().get_texts()[0].get_text()
    assert "Cochran–Armitage" in ax2.get_title()
    for a, name in ((ax, "mk.png"), (ax2, "ca.png")):
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*missing from font.*")
            a.figure.savefig(tmp_path / name)
        plt.close(a.figure)
        assert (tmp_path / name).stat().st_size > 5000
