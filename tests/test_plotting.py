"""Chinese text renders: a CJK font is registered and no glyph is missing."""

import warnings

import matplotlib.pyplot as plt
import pytest

from assesskit.plotting import label, new_axes, setup_cjk_font


def test_chinese_labels_render_without_missing_glyphs(tmp_path):
    if setup_cjk_font() is None:
        pytest.skip("no CJK font on this machine (make setup installs fonts-wqy-microhei)")
    ax = new_axes()
    ax.set_title(label("出生人口性别比", "Sex ratio at birth"))
    ax.set_xlabel("禅城区 南海区 顺德区 高明区 三水区 — 武进区湖塘镇")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        ax.figure.savefig(tmp_path / "cjk.png")
    plt.close(ax.figure)
    assert (tmp_path / "cjk.png").stat().st_size > 1000


def test_funnel_plot_draws_the_limits_of_the_tables_method():
    """A table made with PHE's normal limits is drawn with them: the 95% upper line at n
    equals θ + 1.959964·sqrt(θ(1−θ)/n), not the exact binomial limit."""
    import matplotlib
    import numpy as np
    import pandas as pd

    matplotlib.use("Agg")
    from assesskit.plotting.funnel import plot_funnel
    from assesskit.stats.funnel import funnel_proportions

    data = pd.DataFrame({"unit": list("abcd"), "x": [45, 80, 150, 310], "n": [50, 100, 200, 400]})
    theta = 0.8
    for method in ("normal", "exact"):
        f = funnel_proportions(data, "x", "n", target=theta, method=method, by=None)
        ax = plot_funnel(f, scale=1.0, lang="en")
        line = next(ln for ln in ax.get_lines() if ln.get_label().startswith("95%"))
        xs, ys = line.get_data()
        i = int(np.argmin(np.abs(xs - 100)))
        normal = theta - 1.959964 * np.sqrt(theta * (1 - theta) / xs[i])  # the lower line is drawn first
        if method == "normal":
            assert ys[i] == pytest.approx(normal, abs=1e-6)
        else:
            assert abs(ys[i] - normal) > 1e-3  # the exact limit differs from the normal one at n = 100
        plt.close(ax.figure)
