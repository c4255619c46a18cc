"""Funnel limits: published Poisson values, hand-checked binomial limits, properties,
over-dispersion, the demo panel's planted sex ratios, and the figure."""

import re
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from assesskit import DataError
from assesskit.datasets.demo import make_demo_data
from assesskit.plotting import setup_cjk_font
from assesskit.plotting.funnel import plot_funnel
from assesskit.stats.funnel import (
    binomial_limits,
    funnel_limits,
    funnel_proportions,
    funnel_ratios,
    funnel_sex_ratio,
    level_tag,
    overdispersion,
    poisson_limits,
)


@pytest.fixture(scope="module")
def demo():
    return make_demo_data(0)


def planted_srb_units(p) -> list[str]:
    line = next(s for s in p.planted if s.startswith("sex ratio at birth stays far above 107"))
    return re.findall(r"\((\w+)\)", line.split(" in: ", 1)[1])


# --------------------------------------------------------------------------------------------
# Poisson limits: R FunnelPlotR's own test values (STATS_REFERENCE_VALUES.md), to the 7 decimals given
# --------------------------------------------------------------------------------------------
def test_poisson_limits_match_funnelplotr():
    f = poisson_limits([15, 20, 30])
    assert f["lower_95"].round(7).tolist() == [0.5596924, 0.6108260, 0.6746958]
    assert f["upper_95"].round(6).tolist() == [1.649348, 1.544419, 1.427562]
    assert f["lower_998"].round(7).tolist() == [0.3862650, 0.4479107, 0.5289724]
    assert f["upper_998"].round(6).tolist() == [2.082907, 1.902094, 1.702771]
    assert (f["note"] == "").all()


def test_poisson_limits_target_scales_and_bad_expected_gets_a_note():
    f = poisson_limits([0, np.nan, 20], target=1.0)
    assert f["lower_95"].isna().tolist() == [True, True, False]
    assert "not positive" in f["note"][0] and "missing" in f["note"][1]
    # with target t the null is Poisson(t·E): for t = 2, E = 10 the lower limit is chi2_{0.025}(40)/20
    assert poisson_limits([10], target=2.0)["lower_95"][0] == pytest.approx(stats.chi2.ppf(0.025, 40) / 20)


# --------------------------------------------------------------------------------------------
# exact binomial limits with Spiegelhalter's interpolation, checked by hand
# --------------------------------------------------------------------------------------------
def test_binomial_limits_by_hand():
    # n = 20, θ = 0.3 (scipy.stats.binom.cdf):
    #   p = 0.025: F(1) = 0.0076372598 < 0.025 ≤ F(2) = 0.0354831323 → r_p = 2,
    #              α = (0.0354831323 − 0.025)/(0.0354831323 − 0.0076372598) = 0.37647,
    #              lower_95 = (2 − 0.37647)/20 = 0.0811765
    #   p = 0.975: F(9) = 0.9520381027 < 0.975 ≤ F(10) = 0.9828551836 → r_p = 10,
    #              α = (0.9828551836 − 0.975)/(0.9828551836 − 0.9520381027) = 0.25490,
    #              upper_95 = (10 − 0.25490)/20 = 0.4872551
    # n = 100, θ = 0.9:
    #   p = 0.001: F(79) = 0.0008075739 < 0.001 ≤ F(80) = 0.0019785609 → r_p = 80,
    #              α = (0.0019785609 − 0.001)/(0.0019785609 − 0.0008075739) = 0.83567, lower_998 = 0.7916433
    #   p = 0.999: F(97) = 0.9980551153 < 0.999 ≤ F(98) = 0.9996783119 → r_p = 98,
    #              α = (0.9996783119 − 0.999)/(0.9996783119 − 0.9980551153) = 0.41789, upper_998 = 0.9758211
    def lim(r, f_r, f_r1, p, n):
        return (r - (f_r - p) / (f_r - f_r1)) / n

    f = binomial_limits([20, 100], [0.3, 0.9])
    assert f["lower_95"][0] == pytest.approx(lim(2, 0.0354831323, 0.0076372598, 0.025, 20), abs=1e-9)
    assert f["upper_95"][0] == pytest.approx(lim(10, 0.9828551836, 0.9520381027, 0.975, 20), abs=1e-9)
    assert f["lower_998"][1] == pytest.approx(lim(80, 0.0019785609, 0.0008075739, 0.001, 100), abs=1e-9)
    assert f["upper_998"][1] == pytest.approx(lim(98, 0.9996783119, 0.9980551153, 0.999, 100), abs=1e-9)
    assert round(f["lower_95"][0], 7) == 0.0811765 and round(f["upper_95"][0], 7) == 0.4872551
    # the cdf values quoted above are scipy's
    assert stats.binom.cdf([1, 2, 9, 10], 20, 0.3) == pytest.approx(
        [0.0076372598, 0.0354831323, 0.9520381027, 0.9828551836], abs=1e-10
    )


def _brute_force(p, n, theta):
    """The definition, literally: F(r) for every r = 0 … n, and the first r with F(r) ≥ p."""
    cdf = stats.binom.cdf(np.arange(n + 1), n, theta)
    r = int(np.argmax(cdf >= p))
    f_r, f_r1 = cdf[r], (cdf[r - 1] if r > 0 else 0.0)
    return max(0.0, (r - (f_r - p) / (f_r - f_r1)) / n)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3000), theta=st.floats(0.005, 0.995))
def test_binomial_limits_equal_the_definition(n, theta):
    f = binomial_limits(n, theta).iloc[0]
    for p, col in ((0.025, "lower_95"), (0.975, "upper_95"), (0.001, "lower_998"), (0.999, "upper_998")):
        assert f[col] == pytest.approx(_brute_force(p, n, theta), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 20000), theta=st.floats(0.0, 1.0))
def test_limits_ordered_and_within_unit_interval(n, theta):
    f = binomial_limits(n, theta).iloc[0]
    assert 0 <= f["lower_998"] <= f["lower_95"] <= f["upper_95"] <= f["upper_998"] <= 1
    if n * min(theta, 1 - theta) >= 5:
        assert f["lower_95"] <= theta <= f["upper_95"]
        assert f["lower_998"] < f["lower_95"] and f["upper_95"] < f["upper_998"]  # 99.8% strictly wider


@settings(max_examples=100, deadline=None)
@given(n=st.integers(2, 10000), theta=st.floats(0.01, 0.99))
def test_limits_narrow_as_n_grows(n, theta):
    # for n·θ < 1 the lower limit is clipped at 0 and the width can grow with n (discreteness)
    assume(n * min(theta, 1 - theta) >= 1)
    f = binomial_limits([n, 2 * n, 8 * n], theta)
    for tag in ("95", "998"):
        width = (f[f"upper_{tag}"] - f[f"lower_{tag}"]).to_numpy()
        assert width[0] > width[1] > width[2]


def test_binomial_limits_vectorised_and_edge_cases():
    n = np.arange(1, 2001)
    f = binomial_limits(n, 0.2)
    assert len(f) == 2000 and f["lower_95"].notna().all()
    # n = 5, θ = 0.5: F(0) = 1/32 ≥ 0.025 so r_p = 0 and the interpolation gives −0.04: clipped to 0, noted
    g = binomial_limits([5, 0, 100, 100], [0.5, 0.5, 0.0, 1.0])
    assert g["lower_95"][0] == 0 and "set to the bound" in g["note"][0]
    assert np.isnan(g["lower_95"][1]) and "n is 0" in g["note"][1]
    assert g["lower_95"][2] == g["upper_998"][2] == 0 and g["upper_95"][3] == 1 and "collapse" in g["note"][3]
    with pytest.raises(DataError):
        binomial_limits([-1], 0.5)
    with pytest.raises(DataError):
        binomial_limits([10], 1.5)
    assert level_tag(0.95) == "95" and level_tag(0.998) == "998"


# --------------------------------------------------------------------------------------------
# over-dispersion
# --------------------------------------------------------------------------------------------
def test_overdispersion_by_hand():
    z = [-3, -1, -0.5, 0, 0.2, 0.4, 0.8, 1, 2, 5]
    # 10th percentile (linear, R type 7): position 0.9 → −3 + 0.9·2 = −1.2; 90th: position 8.1 → 2 + 0.1·3 = 2.3
    # winsorised z² = 1.44 + 1 + .25 + 0 + .04 + .16 + .64 + 1 + 4 + 5.29 = 13.82, φ = 13.82/10 = 1.382
    # w = 1/s² = 100 (×5) and 25 (×5): Σw = 625, Σw² = 53125, Σw²/Σw = 85
    # τ² = (10·1.382 − 9)/(625 − 85) = 4.82/540
    var = [0.01] * 5 + [0.04] * 5
    od = overdispersion(z, var).iloc[0]
    assert od["units"] == 10 and od["phi"] == pytest.approx(1.382)
    assert od["tau2"] == pytest.approx(4.82 / 540)
    # I·φ ≤ I − 1 → τ² = 0
    assert overdispersion([0.1, -0.1, 0.2, -0.2], [0.01] * 4).iloc[0]["tau2"] == 0
    one = overdispersion([1.0], [0.01]).iloc[0]
    assert np.isnan(one["phi"]) and "fewer than 2" in one["note"]


def _simulate(rng, units, shares):
    n = rng.integers(500, 5000, units)
    return pd.DataFrame({"unit": [f"u{i}" for i in range(units)], "x": rng.binomial(n, shares), "n": n})


def test_no_overdispersion_in_binomial_data():
    rng = np.random.default_rng(1)
    d = _simulate(rng, 200, 0.3)
    f = funnel_proportions(d, "x", "n", overdispersion="additive", by=None)
    assert f["phi"].iloc[0] < 1  # winsorising pulls φ below 1 (≈ 0.68) when there is none
    assert f["tau2"].iloc[0] == 0
    assert (f["adjustment"] == "none").all() and "exact limits kept" in f["note"][0]
    exact = funnel_proportions(d, "x", "n", by=None)
    assert np.allclose(f["upper_95"], exact["upper_95"])
    # about 5% outside 95% and almost none outside 99.8%
    assert 0.01 < (exact["outside_95"] != "within").mean() < 0.1
    assert (exact["outside_998"] != "within").sum() <= 3


def test_overdispersion_in_beta_binomial_data():
    rng = np.random.default_rng(2)
    mean, sd = 0.3, 0.03  # between-unit variance of the true shares: 0.0009
    k = mean * (1 - mean) / sd**2 - 1
    d = _simulate(rng, 200, rng.beta(mean * k, (1 - mean) * k, 200))
    add = funnel_proportions(d, "x", "n", overdispersion="additive", by=None)
    phi, tau2 = add["phi"].iloc[0], add["tau2"].iloc[0]
    assert phi > 1 and tau2 > 0
    assert 0.25 * sd**2 < tau2 < 2 * sd**2
    exact = funnel_proportions(d, "x", "n", by=None)
    assert (exact["outside_998"] != "within").mean() > 0.1  # ignoring it flags many units
    assert (add["outside_998"] != "within").mean() < 0.03
    row = add.iloc[0]
    s2 = row["target"] * (1 - row["target"]) / row["n"]
    assert row["upper_95"] == pytest.approx(row["target"] + stats.norm.ppf(0.975) * np.sqrt(s2 + tau2))
    mult = funnel_proportions(d, "x", "n", overdispersion="multiplicative", by=None).iloc[0]
    assert mult["upper_998"] == pytest.approx(mult["target"] + stats.norm.ppf(0.999) * np.sqrt(phi * s2))
    assert mult["adjustment"] == "multiplicative" and mult["z_adjusted"] == pytest.approx(
        mult["z"] / np.sqrt(phi)
    )
    # the plotted curve agrees with the table
    curve = funnel_limits([row["n"]], row["target"], tau2=tau2)
    assert curve["upper_95"][0] == pytest.approx(row["upper_95"])


# --------------------------------------------------------------------------------------------
# per-unit funnels
# --------------------------------------------------------------------------------------------
def test_funnel_proportions_columns_and_pooled_target():
    d = pd.DataFrame(
        {
            "unit": list("abcd") * 2,
            "year": [2015] * 4 + [2016] * 4,
            "x": [90, 95, 99, 50, 10, 20, 30, 40],
            "n": [100, 100, 100, 100, 50, 50, 50, 50],
        }
    )
    f = funnel_proportions(d, "x", "n")
    assert list(f.columns[:8]) == ["unit", "year", "count", "measure", "n", "value", "target", "z"]
    assert f["target"][:4].eq(334 / 400).all() and f["target"][4:].eq(100 / 200).all()
    assert f.loc[3, "outside_998"] == "below" and f.loc[2, "outside_95"] == "above"
    g = funnel_proportions(d, "x", "n", target=0.9, by=None)
    assert g["target"].eq(0.9).all() and "year" in g.columns  # by=None: the year is still not a group
    assert g["phi"].nunique() == 1
    assert d.equals(
        pd.DataFrame(
            {
                "unit": list("abcd") * 2,
                "year": [2015] * 4 + [2016] * 4,
                "x": [90, 95, 99, 50, 10, 20, 30, 40],
                "n": [100, 100, 100, 100, 50, 50, 50, 50],
            }
        )
    )


def test_funnel_edge_cases_give_notes_not_crashes():
    d = pd.DataFrame(
        {
            "unit": ["zero", "tiny", "missing", "big", "mid"],
            "x": [0, 3, None, 500, 300],
            "n": [0, 5, 100, 1000, 600],
        }
    )
    f = funnel_proportions(d, "x", "n", by=None)
    assert np.isnan(f["value"][0]) and "n is 0" in f["note"][0] and pd.isna(f["outside_95"][0])
    assert f["value"][1] == 0.6 and f["outside_95"][1] == "within"  # 5 births: wide limits, still a result
    assert "missing" in f["note"][2] and pd.isna(f["outside_998"][2])
    assert f["target"].iloc[0] == pytest.approx(803 / 1605)  # pooled over the rows with both counts
    with pytest.raises(DataError, match="exceeds"):
        funnel_proportions(pd.DataFrame({"unit": ["a"], "x": [6], "n": [5]}), "x", "n")
    with pytest.raises(DataError, match="negative"):
        funnel_proportions(pd.DataFrame({"unit": ["a"], "x": [-1], "n": [5]}), "x", "n")
    with pytest.raises(ValueError, match="percentage"):
        funnel_proportions(d, "x", "n", target=99)


def test_funnel_ratios_use_poisson_limits():
    d = pd.DataFrame({"unit": ["a", "b", "c"], "obs": [15, 40, 30], "exp": [15.0, 20.0, 30.0]})
    f = funnel_ratios(d, "obs", "exp", by=None)
    assert f["lower_95"].round(7).tolist() == [0.5596924, 0.6108260, 0.6746958]
    assert f["outside_998"].tolist() == ["within", "above", "within"] and (f["measure"] == "ratio").all()


def test_sex_ratio_funnel_zero_girls_and_srb_scale():
    d = pd.DataFrame({"unit": ["a", "b"], "male_births": [5, 520], "female_births": [0, 480]})
    f = funnel_sex_ratio(d, by=None)
    assert f["value"][0] == 1 and np.isnan(f["srb"][0]) and "no girls" in f["note"][0]
    assert f["srb"][1] == pytest.approx(520 / 480 * 100) and f["target_srb"][0] == pytest.approx(107)
    p = f["upper_95"][1]
    assert f["srb_upper_95"][1] == pytest.approx(100 * p / (1 - p))


# --------------------------------------------------------------------------------------------
# the demo panel: planted high sex ratios
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sid", "limit"),
    [
        ("wujin_2016", "outside_998"),
        ("xpcc_2015", "outside_998"),
        ("foshan_2006", "outside_998"),
        ("floating_inflow_2007", "outside_998"),
        ("floating_outflow_2007", "outside_998"),
        # T02 (2,153 births) observes 120.1 against a true 130.3 in the last year: z = 2.7, above
        # the 95% limit but not the 99.8% one — one year of a town is noisy.
        ("district_1000", "outside_95"),
    ],
)
def test_planted_high_srb_units_above_the_funnel_in_the_last_year(demo, sid, limit):
    p = demo[sid]
    last = p.data[p.data["year"] == p.data["year"].max()]
    f = funnel_sex_ratio(last)
    above = set(f.loc[f[limit] == "above", "unit"])
    planted = planted_srb_units(p)
    assert len(planted) == 2 and set(planted) <= above


# --------------------------------------------------------------------------------------------
# the figure
# --------------------------------------------------------------------------------------------
def test_plot_funnel_renders_chinese_names(demo, tmp_path):
    if setup_cjk_font() is None:
        pytest.skip("no CJK font on this machine (make setup installs fonts-wqy-microhei)")
    p = demo["foshan_2006"]
    f = funnel_sex_ratio(p.data)
    ax = plot_funnel(f, names=p.units)
    try:
        texts = {t.get_text() for t in ax.texts}
        names = p.units.set_index("unit")["name"]
        assert set(names[planted_srb_units(p)]) <= texts  # outliers labelled with their names
        assert ax.get_title().startswith("出生人口性别比漏斗图") and "2010" in ax.get_title()
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*missing from font.*")
            ax.figure.savefig(tmp_path / "funnel.png")
    finally:
        plt.close(ax.figure)
    assert (tmp_path / "funnel.png").stat().st_size > 1000


def test_plot_funnel_with_overdispersion_draws_both_sets_of_limits(demo, tmp_path):
    p = demo["wujin_2016"]
    f = funnel_proportions(p.data, "policy_births", "births", overdispersion="multiplicative")
    ax = plot_funnel(f, year=2016, names=dict(zip(p.units["unit"], p.units["name"])))
    try:
        n_lines = len(ax.get_lines())
        assert n_lines == 2 * 2 + 2 * 2 + 1 + 1  # adjusted, exact (dashed), legend stub, target
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*missing from font.*")
            ax.figure.savefig(tmp_path / "funnel.png")
    finally:
        plt.close(ax.figure)
    with pytest.raises(DataError, match="more than one funnel"):
        plot_funnel(
            funnel_proportions(p.data, "policy_births", "births", by=None)
            .drop(columns="year")
            .assign(target=np.tile([0.97, 0.98], len(p.data))[: len(p.data)])
        )
