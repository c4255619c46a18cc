"""Peers' funnel conventions, as options beside assesskit's defaults.

- ``method="normal"``: PHE Fingertips' limits θ ± z·√(θ(1−θ)/n), checked against the
  published output of R PHEindicatormethods (its test table
  ``tests/testthat/testdata_funnel_prop_outputs.csv``, ukhsa-collaboration/PHEindicatormethods);
- ``z_scale="arcsine"``: R FunnelPlotR's z-scores for proportions. No published numeric
  value for proportions was found (FunnelPlotR's tests check a φ only for standardised ratios
  with its log "SHMI" method), so the reference is FunnelPlotR's code for data type "PR"
  (``transformed_zscore``, ``winsorisation``, ``phi_func``, ``tau_func`` in R/od_adjustment.R,
  and ``calculate_limits`` in R/calculate_limits.R) computed step by step in the test on a
  small table, and one unit worked with literal numbers.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from assesskit import DataError
from assesskit.stats.dispersion import from_scale, on_scale
from assesskit.stats.funnel import (
    binomial_limits,
    funnel_limits,
    funnel_proportions,
    funnel_ratios,
    funnel_sex_ratio,
    normal_limits,
)

# PHEindicatormethods' published proportion funnel (multiplier 100): the baseline is the
# pooled proportion of its 303 test areas, 80.642448%; rows are (population, lower 95%,
# upper 95%, lower 99.8%, upper 99.8%) in percent.
PHE_BASELINE = 0.80642448
PHE_ROWS = [
    (1, 3.204264, 100, 0, 100),
    (10, 56.154344, 100, 42.03259, 100),
    (30, 66.504234, 94.780661, 58.351036, 100),
    (68, 71.251689, 90.033207, 65.836243, 95.448652),
    (102, 72.974925, 88.309971, 68.553233, 92.731663),
    (321, 76.32027, 84.964626, 73.827764, 87.457131),
    (1531, 78.663349, 82.621547, 77.522045, 83.76285),
    (7312, 79.736846, 81.548049, 79.214606, 82.07029),
    (34936, 80.228144, 81.056751, 79.989225, 81.295671),
]


def test_normal_limits_match_phe_fingertips_published_values():
    ref = pd.DataFrame(PHE_ROWS, columns=["n", "lower_95", "upper_95", "lower_998", "upper_998"])
    got = normal_limits(ref["n"], PHE_BASELINE)
    for col in ["lower_95", "upper_95", "lower_998", "upper_998"]:
        # the published figures have 6 decimals (in percent) and a baseline rounded to 8
        np.testing.assert_allclose(got[col] * 100, ref[col], atol=2e-6, err_msg=col)
    assert "set to the bound" in got["note"][0] and got["note"].iloc[-1] == ""


def test_normal_limits_by_hand_and_edge_cases():
    f = normal_limits([100, 0, np.nan, 50], [0.5, 0.5, 0.5, 0.0])
    # 0.5 ± 1.959964·sqrt(0.25/100) = 0.5 ± 0.0979982; 99.8%: ± 3.090232·0.05
    assert f["lower_95"][0] == pytest.approx(0.5 - 1.959963985 * 0.05, abs=1e-9)
    assert f["upper_998"][0] == pytest.approx(0.5 + 3.090232306 * 0.05, abs=1e-9)
    assert np.isnan(f["lower_95"][1]) and "n is 0" in f["note"][1]
    assert np.isnan(f["upper_95"][2]) and "missing" in f["note"][2]
    assert f["lower_95"][3] == 0 and f["upper_95"][3] == 0 and "collapse" in f["note"][3]
    with pytest.raises(DataError, match="proportion"):
        normal_limits([10], 1.2)


@pytest.fixture
def table() -> pd.DataFrame:
    """Ten units of one year; counts chosen so that several lie outside and φ > 1."""
    return pd.DataFrame(
        {
            "unit": [f"u{i}" for i in range(10)],
            "x": [45, 60, 150, 30, 88, 200, 12, 75, 140, 33],
            "n": [50, 80, 170, 45, 100, 210, 20, 90, 180, 40],
        }
    )


def test_funnel_proportions_with_normal_limits(table):
    exact = funnel_proportions(table, "x", "n")
    normal = funnel_proportions(table, "x", "n", method="normal")
    theta = table["x"].sum() / table["n"].sum()
    sd = np.sqrt(theta * (1 - theta) / table["n"])
    np.testing.assert_allclose(normal["lower_95"], np.clip(theta - 1.959963985 * sd, 0, 1), atol=1e-9)
    np.testing.assert_allclose(normal["upper_998"], np.clip(theta + 3.090232306 * sd, 0, 1), atol=1e-9)
    # the z-scores and φ do not depend on the limits; the default stays exact
    np.testing.assert_allclose(normal["z"], exact["z"])
    assert (exact["method"] == "exact").all() and (normal["method"] == "normal").all()
    assert exact["lower_95"].to_numpy() == pytest.approx(binomial_limits(table["n"], theta)["lower_95"])
    assert not np.allclose(exact["lower_95"], normal["lower_95"])
    outside = np.where(
        normal["value"] > normal["upper_95"],
        "above",
        np.where(normal["value"] < normal["lower_95"], "below", "within"),
    )
    assert (normal["outside_95"].to_numpy() == outside).all()
    # the plotted curve for the table agrees with it
    curve = funnel_limits(table["n"], theta, method="normal")
    np.testing.assert_allclose(curve["upper_95"], normal["upper_95"])


def _funnelplotr_pr(x: np.ndarray, n: np.ndarray, level: float = 0.95):
    """FunnelPlotR's data type "PR" (R/od_adjustment.R, R/calculate_limits.R), line by line."""
    target_transformed = np.arcsin(np.sqrt(x.sum() / n.sum()))  # pooled proportion
    y = np.arcsin(np.sqrt(x / n))
    s = 1 / (2 * np.sqrt(n))
    uz = (y - target_transformed) / s
    lz, uz_hi = np.quantile(uz, 0.1), np.quantile(uz, 0.9)  # R quantile type 7
    wuz = np.where(uz < lz, lz, np.where(uz > uz_hi, uz_hi, uz))
    k = len(uz)
    phi = (1 / k) * np.sum(wuz**2)
    w = 1 / s**2
    tau2 = 0.0 if k * phi < k - 1 else max(0.0, (k * phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    z = stats.norm.ppf((1 + level) / 2)
    theta = x.sum() / n.sum()
    lower = np.sin(np.arcsin(np.sqrt(theta)) - z * np.sqrt(s**2 + tau2)) ** 2
    upper = np.sin(np.arcsin(np.sqrt(theta)) + z * np.sqrt(s**2 + tau2)) ** 2
    return uz, phi, tau2, lower, upper


def test_arcsine_z_scores_phi_tau2_and_limits_as_funnelplotr(table):
    x, n = table["x"].to_numpy(float), table["n"].to_numpy(float)
    uz, phi, tau2, lower, upper = _funnelplotr_pr(x, n)
    assert phi > 1 and tau2 > 0  # the table is over-dispersed on this scale
    f = funnel_proportions(table, "x", "n", z_scale="arcsine", overdispersion="additive")
    np.testing.assert_allclose(f["z"], uz, rtol=1e-12)
    assert f["phi"].iloc[0] == pytest.approx(phi, rel=1e-12)
    assert f["tau2"].iloc[0] == pytest.approx(tau2, rel=1e-12)
    np.testing.assert_allclose(f["lower_95"], lower, rtol=1e-12)
    np.testing.assert_allclose(f["upper_95"], upper, rtol=1e-12)
    assert (f["z_scale"] == "arcsine").all() and (f["adjustment"] == "additive").all()
    assert "sin²(asin√target" in f["note"].iloc[0]
    # the raw scale (the default) gives other z-scores and another φ
    raw = funnel_proportions(table, "x", "n", overdispersion="additive")
    assert not np.allclose(raw["z"], f["z"]) and raw["phi"].iloc[0] != pytest.approx(phi)
    # z_adjusted on the arcsine scale: (y − t)/sqrt(s² + τ²)
    y_t = uz / (2 * np.sqrt(n))
    np.testing.assert_allclose(f["z_adjusted"], y_t / np.sqrt(1 / (4 * n) + tau2), rtol=1e-12)
    # the plotted curve through the table's n agrees with the table
    curve = funnel_limits(n, f["target"].iloc[0], tau2=tau2, z_scale="arcsine")
    np.testing.assert_allclose(curve["lower_95"], f["lower_95"], rtol=1e-12)


def test_arcsine_one_unit_by_hand():
    # p = 81/100, θ = 0.64: y = asin(0.9) = 1.1197695, t = asin(0.8) = 0.9272952, s = 0.05
    y, t, s2 = on_scale(np.array([0.81]), np.array([0.64]), np.array([100.0]), None, "arcsine")
    assert y[0] == pytest.approx(1.1197695149986342) and t[0] == pytest.approx(0.9272952180016123)
    assert s2[0] == pytest.approx(0.0025)
    assert (y[0] - t[0]) / np.sqrt(s2[0]) == pytest.approx(3.849485939940438)
    # back: sin²(0.9272952 ± 1.959964·0.05) = 0.5613 … 0.7569; below 0 is 0, not folded
    lo = from_scale(t - 1.959963985 * 0.05, "arcsine")[0]
    assert lo == pytest.approx(np.sin(0.9272952180016123 - 0.09799819925) ** 2)
    assert from_scale(np.array([-0.1, 2.0]), "arcsine").tolist() == [0.0, 1.0]


def test_arcsine_multiplicative_widening_and_sex_ratio(table):
    f = funnel_proportions(table, "x", "n", z_scale="arcsine", overdispersion="multiplicative")
    phi = f["phi"].iloc[0]
    t = np.arcsin(np.sqrt(f["target"].iloc[0]))
    s2 = 1 / (4 * table["n"].to_numpy(float))
    # an angle past π/2 is the bound 1, not folded back down by sin²
    angle = np.minimum(t + 3.090232306 * np.sqrt(phi * s2), np.pi / 2)
    np.testing.assert_allclose(f["upper_998"], np.sin(angle) ** 2, rtol=1e-9)
    assert (f["upper_998"] == 1).sum() == 2
    births = pd.DataFrame(
        {
            "unit": list("abcdef"),
            "male_births": [520, 610, 300, 800, 150, 450],
            "female_births": [480, 500, 290, 640, 140, 420],
        }
    )
    g = funnel_sex_ratio(births, z_scale="arcsine", method="normal")
    theta = 107 / 207
    share = births["male_births"] / (births["male_births"] + births["female_births"])
    expected_z = (
        (np.arcsin(np.sqrt(share)) - np.arcsin(np.sqrt(theta)))
        * 2
        * np.sqrt(births["male_births"] + births["female_births"])
    )
    np.testing.assert_allclose(g["z"], expected_z, rtol=1e-12)
    assert (g["method"] == "normal").all()


def test_conventions_are_checked_and_ratios_keep_theirs(table):
    with pytest.raises(ValueError, match="method must be 'exact' or 'normal'"):
        funnel_proportions(table, "x", "n", method="wilson")
    with pytest.raises(ValueError, match="z_scale must be 'raw' or 'arcsine'"):
        funnel_proportions(table, "x", "n", z_scale="log")
    with pytest.raises(ValueError, match="ratios have exact Poisson limits"):
        funnel_limits([10, 20], 1.0, measure="ratio", method="normal")
    r = funnel_ratios(pd.DataFrame({"unit": ["a", "b"], "o": [12, 30], "e": [10.0, 25.0]}), "o", "e")
    assert (r["method"] == "exact").all() and (r["z_scale"] == "raw").all()
