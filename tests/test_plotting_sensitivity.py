"""Sensitivity figures: Axes back, no files, Chinese unit names that render."""

import warnings

import matplotlib.pyplot as plt
import pytest

import assesskit as ak
from assesskit import sensitivity as sa
from assesskit.plotting import setup_cjk_font
from assesskit.plotting.sensitivity import plot_rank_intervals, plot_sobol, plot_tier_probabilities

from .conftest import FIX

EX = FIX.parents[1] / "assesskit" / "datasets" / "examples" / "xpcc_2015"


@pytest.fixture(scope="module")
def results():
    scheme = ak.load_scheme("xpcc_2015")
    base = sa.baseline(scheme, EX / "panel.csv", units=EX / "units.csv", grades=EX / "grades.csv", year=2015)
    spec = sa.parse_spec(
        {
            "factors": [
                {"id": "w", "type": "weights", "spread": 0.3, "label": "各项分值"},
                {"id": "v", "type": "veto", "label": "一票否决"},
                {"id": "t", "type": "target", "rule_type": "threshold", "shift": [-2, 2], "label": "达标线"},
            ]
        },
        "<test>",
        scheme,
    )
    return scheme, spec, sa.simulate(base, spec, draws=200, seed=0), sa.sobol(base, spec, n=16, seed=0)


def test_sensitivity_figures_render_chinese_names_and_write_nothing(results, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scheme, spec, sim, sob = results
    unit = sim.units["unit"].iloc[0]
    axes = [
        plot_rank_intervals(sim),
        plot_tier_probabilities(sim, labels=scheme),
        plot_sobol(sob, labels=spec),
        plot_sobol(sob, output="rank", unit=unit, labels=spec),
    ]
    assert list(tmp_path.iterdir()) == []  # no file written
    names = set(sim.units["name"])
    for ax in axes[:2]:
        ticks = {t.get_text() for t in ax.get_yticklabels()}
        assert len(ticks) == len(names)
        if setup_cjk_font() is not None:
            assert ticks == names
    assert len(axes[2].patches) == 2 * len(sob.factors)
    if setup_cjk_font() is not None:
        assert {t.get_text() for t in axes[2].get_yticklabels()} == {"各项分值", "一票否决", "达标线"}
        legend = {t.get_text() for t in axes[1].get_legend().get_texts()}
        assert {t.label for t in scheme.outcomes.tiers} <= legend
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*missing from font.*")
            for i, ax in enumerate(axes):
                ax.figure.savefig(tmp_path / f"f{i}.png")
    for ax in axes:
        plt.close(ax.figure)


def test_tier_plot_without_tiers_shows_top_k_veto_and_warnings(results):
    _scheme, _spec, sim, _sob = results
    tab = sim.units.drop(columns=[c for c in sim.units.columns if c.startswith("p_tier_")] + ["p_no_award"])
    ax = plot_tier_probabilities(tab)
    assert len(ax.get_legend().get_texts()) == 3  # p_top3, p_veto and p_warning_rectification
    plt.close(ax.figure)


def test_sobol_plot_needs_a_unit_for_ranks(results):
    with pytest.raises(ValueError, match="unit"):
        plot_sobol(results[3], output="rank")
