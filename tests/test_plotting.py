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
