"""Odd data never fails a figure (issue 16): each figure draws what it can and names, through
:func:`assesskit.plotting.left_out`, every row it left out and why.

Each case here failed (an exception) or dropped rows silently before the fix.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from assesskit.plotting import left_out
from assesskit.plotting.funnel import plot_bunching, plot_funnel
from assesskit.plotting.srb import plot_srb_intervals, plot_srb_series, plot_trend
from assesskit.stats import funnel_proportions, funnel_sex_ratio, proportion_ci, sex_ratio


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def births(rows: list[tuple[str, int, float, float]]) -> pd.DataFrame:
    d = pd.DataFrame(rows, columns=["unit", "year", "male_births", "female_births"])
    return d.assign(births=d["male_births"] + d["female_births"])


# a large unit without girls: its SRB lower limit (~125 000) lies far beyond every other interval
YEAR_2010 = births([("many_boys", 2010, 4807, 0), ("b", 2010, 500, 480), ("c", 2010, 520, 470)])


def test_forest_plot_with_a_big_unit_without_girls_draws_the_others_and_says_why():
    t = sex_ratio(YEAR_2010)
    ax = plot_srb_intervals(t, national=False)  # before the fix: "'xerr' must not contain negative values"
    assert [x.get_text() for x in ax.get_yticklabels()] == ["b", "c", "many_boys"]  # by SRB, undefined last
    lines = left_out(ax)
    assert len(lines) == 1
    assert lines[0].startswith("many_boys 2010 — no female births: the sex ratio is undefined")
    # drawn from the right edge: 1.05 × the largest finite upper limit of the others
    edge = 1.05 * float(t.loc[t.unit != "many_boys", "srb_upper"].max())
    marker = [ln for ln in ax.lines if ln.get_marker() == ">"][0]
    assert marker.get_xdata()[0] == pytest.approx(edge)
    assert lines[0].endswith(f"lies beyond the axis: drawn at the right edge {edge:.1f})")


def test_forest_plot_names_rows_without_an_interval():
    t = sex_ratio(births([("none", 2010, 0, 0), ("b", 2010, 500, 480), ("gap", 2010, np.nan, 30)]))
    ax = plot_srb_intervals(t, national=False)
    assert [x.get_text() for x in ax.get_yticklabels()] == ["b"]
    assert left_out(ax) == ["none 2010 — no births", "gap 2010 — births by sex missing"]


def test_forest_plot_with_nothing_to_draw_says_so():
    ax = plot_srb_intervals(sex_ratio(births([("none", 2010, 0, 0)])), national=False)
    assert left_out(ax) == ["none 2010 — no births"]
    assert any("nothing to draw" in t.get_text() or "无可绘制" in t.get_text() for t in ax.texts)


def test_forest_plot_highlights_the_page_unit():
    ax = plot_srb_intervals(sex_ratio(YEAR_2010), national=False, highlight=["c"])
    colours = {t.get_text(): t.get_color() for t in ax.get_yticklabels()}
    assert colours["c"] == "#c0392b" and colours["b"] != "#c0392b"


def test_srb_series_leaves_out_years_without_an_srb():
    rows = births([("a", 2009, 500, 490), ("a", 2010, 4807, 0), ("a", 2011, 0, 0), ("a", 2012, 510, 470)])
    ax = plot_srb_series(sex_ratio(rows, family=None), national=False)
    assert left_out(ax) == [
        "a 2010 — no female births: the sex ratio is undefined",
        "a 2011 — no births",
    ]
    xs = ax.containers[0].lines[0].get_xdata()  # the errorbar's data line
    assert list(np.round(xs)) == [2009, 2012]


def test_funnel_of_a_year_without_counts_by_sex_draws_nothing_and_says_so():
    rows = births([("a", 2010, np.nan, np.nan), ("b", 2010, np.nan, np.nan)])
    f = funnel_sex_ratio(rows.assign(male_births=0.0, female_births=0.0))
    ax = plot_funnel(f)  # before the fix: DataError "no unit with a value to plot"
    assert [line.split(" — ")[0] for line in left_out(ax)] == ["a 2010", "b 2010"]
    assert any("nothing to draw" in t.get_text() or "无可绘制" in t.get_text() for t in ax.texts)


def test_sex_ratio_funnel_leaves_out_a_unit_without_girls():
    ax = plot_funnel(funnel_sex_ratio(YEAR_2010))
    lines = left_out(ax)
    assert len(lines) == 1 and lines[0].startswith("many_boys 2010 — no girls")
    assert len(ax.collections[0].get_offsets()) == 2  # b and c


def test_proportion_funnel_with_a_single_unit():
    d = pd.DataFrame({"unit": ["a"], "year": [2010], "policy_births": [90], "births": [100]})
    ax = plot_funnel(funnel_proportions(d, "policy_births", "births"))
    assert left_out(ax) == [] and len(ax.collections[0].get_offsets()) == 1


def test_trend_of_an_all_missing_series_says_so():
    d = pd.DataFrame({"unit": ["a", "a"], "year": [2009, 2010], "policy_births": [0, 0], "births": [0, 0]})
    rates = proportion_ci(d, "policy_births", "births", scale=100)
    ax = plot_trend(rates)
    assert left_out(ax) == ["a 2009 — births is 0: no proportion", "a 2010 — births is 0: no proportion"]
    assert any("nothing to draw" in t.get_text() or "无可绘制" in t.get_text() for t in ax.texts)


def test_bunching_names_unit_years_without_a_rate():
    d = pd.DataFrame(
        {"unit": ["a", "b", "c"], "year": [2010] * 3, "policy_births": [99, 0, 97], "births": [100, 0, 100]}
    )
    ax = plot_bunching(d, target=98)
    assert left_out(ax) == ["b 2010 — no rate"]


def test_forest_plot_draws_a_small_unit_without_girls_from_its_lower_limit():
    t = sex_ratio(births([("three_boys", 2010, 3, 0), ("b", 2010, 500, 480)]))
    ax = plot_srb_intervals(t, national=False)
    # Wilson lower limit of 3/3 at 95%: n / (n + z²) = 3 / (3 + 1.959964²) = 0.438494 → SRB 78.09
    z2 = 1.959964**2
    p = 3 / (3 + z2)
    marker = [ln for ln in ax.lines if ln.get_marker() == ">"][0]
    assert marker.get_xdata()[0] == pytest.approx(100 * p / (1 - p), rel=1e-5)
    assert left_out(ax) == [
        "three_boys 2010 — no female births: the sex ratio is undefined "
        f"(drawn as its lower limit {100 * p / (1 - p):,.1f}, open to the right)"
    ]
