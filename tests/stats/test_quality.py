"""Data-quality diagnostics: bunching, internal inconsistency, digit heaping — by hand and on
what the demo generator plants."""

import re
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from assesskit import DataError
from assesskit.datasets.demo import make_demo_data
from assesskit.plotting import setup_cjk_font
from assesskit.plotting.funnel import plot_bunching
from assesskit.stats.quality import bunching, count_consistency, digit_heaping, rate_consistency


@pytest.fixture(scope="module")
def demo():
    return make_demo_data(0)


# --------------------------------------------------------------------------------------------
# bunching
# --------------------------------------------------------------------------------------------
def test_bunching_by_hand():
    # rates (per cent): 98.4 is outside both windows; 98.6, 98.9 below; 99.0 (exactly the target), 99.2,
    # 99.3, 99.49 above; 99.5 is the open end of the above-window, so outside
    births = np.full(8, 1000)
    policy = np.array([984, 986, 989, 990, 992, 993, 994.9, 995]) * 1.0
    d = pd.DataFrame(
        {"unit": list("abcdefgh"), "year": 2015, "births": births * 10, "policy_births": policy * 10}
    )
    r = bunching(d, target=99).iloc[0]
    assert (r["below_from"], r["below_to"], r["above_from"], r["above_to"]) == (98.5, 99, 99, 99.5)
    assert r["n_below"] == 2 and r["n_above"] == 4 and r["n_rated"] == 8
    # P(X ≥ 4 | Bin(6, ½)) = (15 + 6 + 1)/64
    assert r["p_value"] == pytest.approx(22 / 64)
    assert r["p_value"] == pytest.approx(stats.binomtest(4, 6, 0.5, alternative="greater").pvalue)
    assert r["units_below"] == "b 2015, c 2015" and r["year"] == 2015
    # unequal windows: p0 = 1/(1 + 0.5), stated
    u = bunching(d, target=99, window=(0.5, 1.0)).iloc[0]
    assert u["p0"] == pytest.approx(2 / 3) and u["above_to"] == 100 and u["n_above"] == 5
    assert u["p_value"] == pytest.approx(stats.binomtest(5, 7, 2 / 3, alternative="greater").pvalue)


def test_bunching_empty_windows_and_bad_counts():
    d = pd.DataFrame({"unit": ["a", "b"], "year": [2015, 2015], "births": [100, 0], "policy_births": [80, 0]})
    r = bunching(d, target=99).iloc[0]
    assert r["n_below"] == r["n_above"] == 0 and np.isnan(r["p_value"]) and "no unit-year" in r["note"]
    assert r["n_rated"] == 1  # zero births: no rate
    with pytest.raises(DataError, match="exceeds"):
        bunching(d.assign(policy_births=[101, 0]), target=99)
    with pytest.raises(ValueError):
        bunching(d, target=99, window=0)


def test_bunching_above_99_is_found_in_2014_2016_and_not_before(demo):
    p = demo["wujin_2016"]
    x = p.data
    late = bunching(x[x["year"].between(2014, 2016)], target=99, by=None).iloc[0]
    early = bunching(x[x["year"].between(2012, 2013)], target=99, by=None).iloc[0]
    assert late["years"] == "2014–2016" and early["years"] == "2012–2013"
    assert late["p_value"] < 0.001 and late["n_above"] >= 10 * late["n_below"]
    assert early["p_value"] > 0.5
    per_year = bunching(x, target=99).set_index("year")["p_value"]
    assert per_year[2014] < 0.05 and per_year[2015] < 0.05 and per_year[[2012, 2013]].gt(0.5).all()
    # the towns the generator names are among those just above
    line = next(s for s in p.planted if s.startswith("bunching just above"))
    named = re.search(r"giving 99\.0–99\.1% \((.+)\)$", line).group(1).split(", ")
    ids = dict(zip(p.units["name"], p.units["unit"]))
    above_units = {s.rsplit(" ", 1)[0] for s in late["units_above"].split(", ")}
    assert {ids[n] for n in named} <= above_units


# --------------------------------------------------------------------------------------------
# internal consistency
# --------------------------------------------------------------------------------------------
def test_rate_consistency_by_hand():
    d = pd.DataFrame(
        {
            "unit": list("abcde"),
            "year": 2016,
            "births": [3, 3, 1000, 0, 10],
            "policy_births": [2, 2, 990, 0, None],
            "policy_rate_reported": [66.67, 66.66, 99.5, 100.0, 90.0],
        }
    )
    r = rate_consistency(d)
    assert r["tolerance"].iloc[0] == pytest.approx(0.01)  # two decimals reported
    # 2/3 = 66.666…: 66.67 (rounded) and 66.66 (truncated) are both consistent; 99.5 ≠ 99.0 is not
    assert r["inconsistent"].tolist()[:3] == [False, False, True]
    assert r["difference"][2] == pytest.approx(0.5)
    assert pd.isna(r["inconsistent"][3]) and "births is 0" in r["note"][3]
    assert pd.isna(r["inconsistent"][4]) and "missing" in r["note"][4]
    assert rate_consistency(d, tolerance=0.6)["inconsistent"][2] == np.False_


@pytest.mark.parametrize("sid", ["wujin_2016", "district_1000", "xpcc_2015"])
def test_the_falsifying_unit_is_the_only_inconsistent_unit_year(demo, sid):
    p = demo[sid]
    line = next(s for s in p.planted if s.startswith("one data-falsification case"))
    unit, year = re.search(r"\((\w+)\) in (\d{4})", line).groups()
    r = rate_consistency(p.data)
    flagged = r[r["inconsistent"].fillna(False).astype(bool)]
    assert list(zip(flagged["unit"], flagged["year"])) == [(unit, int(year))]
    assert flagged["difference"].iloc[0] > 1.5


def test_count_consistency_finds_broken_arithmetic(demo):
    d = pd.DataFrame(
        {
            "unit": ["a", "b", "c", "d"],
            "year": 2016,
            "births": [100, 100, 100, None],
            "male_births": [52, 60, 50, 5],
            "female_births": [48, 30, 50, 5],
            "policy_births": [99, 101, 98, 9],
        }
    )
    c = count_consistency(d)
    bad = c[c["ok"].eq(False)]
    assert set(zip(bad["unit"], bad["check"])) == {
        ("b", "male_births + female_births = births"),
        ("b", "policy_births <= births"),
    }
    assert bad.loc[bad["check"].str.contains(r"\+"), "difference"].iloc[0] == -10
    assert c.loc[(c["unit"] == "d") & (c["check"] == "policy_births <= births"), "ok"].isna().all()
    neg = count_consistency(d.assign(male_births=[52, 60, 50, -5]))
    assert ("d", "male_births >= 0 and whole") in set(
        zip(neg.loc[neg["ok"].eq(False), "unit"], neg.loc[neg["ok"].eq(False), "check"])
    )
    with pytest.raises(DataError, match="missing column"):
        count_consistency(d, sums={"births": ["boys", "girls"]})
    # the demo panels add up
    for p in demo.values():
        assert not count_consistency(p.data)["ok"].eq(False).any()


# --------------------------------------------------------------------------------------------
# digit heaping
# --------------------------------------------------------------------------------------------
def test_digit_heaping_detects_rounded_counts_and_not_honest_ones():
    rng = np.random.default_rng(3)
    honest = rng.integers(100, 5000, 400)
    heaped = np.where(rng.random(400) < 0.4, np.round(honest, -1), honest)
    d = pd.DataFrame({"year": 2016, "honest": honest, "heaped": heaped, "few": np.arange(400) % 30})
    h = digit_heaping(d).set_index("column")
    assert "year" not in h.index
    assert h.loc["heaped", "p_value"] < 1e-10 and h.loc["heaped", "most_common"] == 0
    assert h.loc["heaped", "share_0_5"] > 0.4
    assert h.loc["honest", "p_value"] > 0.01
    assert h.loc["honest", [f"d{i}" for i in range(10)]].sum() == 400 == h.loc["honest", "n"]
    assert h.loc["few", "n"] == 260 and h.loc["few", "n_excluded"] == 140  # values < 10 left out
    small = digit_heaping(d.head(30), ["heaped"]).iloc[0]
    assert np.isnan(small["p_value"]) and "fewer than 50" in small["note"]
    with pytest.raises(DataError):
        digit_heaping(d.assign(heaped=heaped + 0.5), ["heaped"])


def test_digit_heaping_chi2_by_hand():
    # 100 values: 30 end in 0, 10 in 5, 8 in each of 1–4 and 7 in each of 6–9
    digits = [0] * 30 + [5] * 10 + [1, 2, 3, 4, 6, 7, 8, 9] * 7 + [1, 2, 3, 4]
    d = pd.DataFrame({"c": [100 + k for k in digits]})
    h = digit_heaping(d, ["c"]).iloc[0]
    observed = np.array([30, 8, 8, 8, 8, 10, 7, 7, 7, 7])
    assert h[[f"d{i}" for i in range(10)]].tolist() == observed.tolist()
    assert h["chi2"] == pytest.approx(((observed - 10) ** 2 / 10).sum())  # = 452/10 = 45.2
    assert h["p_value"] == pytest.approx(stats.chi2.sf(45.2, 9))


def test_demo_counts_show_no_heaping(demo):
    h = digit_heaping(demo["wujin_2016"].data, ["births", "male_births", "female_births", "policy_births"])
    assert (h["p_value"] > 0.01).all()


# --------------------------------------------------------------------------------------------
# the figure
# --------------------------------------------------------------------------------------------
def test_plot_bunching_renders(demo, tmp_path):
    if setup_cjk_font() is None:
        pytest.skip("no CJK font on this machine (make setup installs fonts-wqy-microhei)")
    x = demo["wujin_2016"].data
    ax = plot_bunching(x[x["year"] >= 2014], target=99)
    try:
        text = " ".join(t.get_text() for t in ax.texts)
        assert "下方 1，上方 17" in text and "2014–2016" in ax.get_title()
        heights = [patch.get_height() for patch in ax.patches if patch.get_width() == pytest.approx(0.25)]
        assert sum(heights) > 0
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*missing from font.*")
            ax.figure.savefig(tmp_path / "bunching.png")
    finally:
        plt.close(ax.figure)
    assert (tmp_path / "bunching.png").stat().st_size > 1000
