"""Report pages with odd data (issue 16) and the presentation helpers (issue 11).

One unit-year without female births (or a year without counts by sex) must not fail the
pages of the other units: each figure draws what it can and the page says, under the
figure, what it left out and why. Before the fix every unit page of that year failed in
the sex-ratio plot ("'xerr' must not contain negative values") and the overview failed in
its funnel plot ("no unit with a value to plot").
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml

from assesskit import sensitivity, stats
from assesskit.datasets.demo import make_demo_data
from assesskit.plotting.funnel import plot_funnel
from assesskit.plotting.scores import plot_rank_changes, plot_section_shares, plot_total_trend
from assesskit.plotting.srb import plot_srb_intervals
from assesskit.report import ComparisonPage, OverviewPage, UnitPage, load_context, page_stem, run_report
from assesskit.report.tables import Html, figure_html, show

SCHEME = "foshan_2006"


def odd_panel(folder: Path) -> Path:
    """Foshan's demo panel; nanhai 2010 has no female births, 2009 has no counts by sex."""
    p = make_demo_data(0, [SCHEME])[SCHEME]
    folder.mkdir(parents=True, exist_ok=True)
    for role, df in p.tables().items():
        if role == "data":
            df = df.copy()
            m = (df["unit"] == "nanhai") & (df["year"] == 2010)
            df.loc[m, "births"] = df.loc[m, "male_births"]
            df.loc[m, "female_births"] = 0
            df.loc[m, "policy_births"] = np.minimum(df.loc[m, "policy_births"], df.loc[m, "births"])
            df.loc[df["year"] == 2009, ["male_births", "female_births"]] = np.nan
        df.to_csv(folder / f"{role}.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    d = odd_panel(tmp_path_factory.mktemp("odd") / "data")
    return load_context(SCHEME, d / "data.csv", units=d / "units.csv", targets=d / "targets.csv")


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_a_peer_without_female_births_is_named_under_the_srb_figure(ctx):
    peers = stats.sex_ratio(ctx.rows_of_year(2010))
    page = UnitPage(ctx, "shunde", 2010)
    html = show(plot_srb_intervals(peers, year=2010, names=ctx.plot_names, highlight=["shunde"])).html
    caption = re.search(r'<figcaption class="ak-note ak-left-out">(.*?)</figcaption>', html).group(1)
    assert caption.startswith("left out: nanhai 2010 — no female births: the sex ratio is undefined")
    assert "(its lower limit 125,134.8 lies beyond the axis: drawn at the right edge " in caption
    assert "2010: SRB" in page.srb_verdict(peers).html


def test_a_year_without_counts_by_sex_gives_an_empty_funnel_that_says_so(ctx):
    f = stats.funnel_sex_ratio(ctx.rows_of_year(2009))
    html = figure_html(plot_funnel(f, names=ctx.plot_names)).html
    units = sorted(ctx.rows_of_year(2009)["unit"])
    assert html.count(" 2009 — ") == len(units) == 5
    assert all(f"{u} 2009 — " in html for u in units)
    assert (
        OverviewPage(ctx, 2009).outside_limits(f).html
        == '<p class="ak-note">Outside the 99.8% limits: none.</p>'
    )


def test_show_lays_out_in_order_and_refuses_what_it_cannot_show():
    ax = plt.figure().subplots()
    out = show(Html("<h3>a</h3>"), None, "a note <b>", pd.DataFrame({"x": [1.5]}), ax)
    assert re.fullmatch(
        r'<h3>a</h3><p class="ak-note">a note &lt;b&gt;</p><table class="ak-table">.*</table>'
        r'<figure class="ak-fig"><img alt="figure" src="data:image/png;base64,[A-Za-z0-9+/=]+"></figure>',
        out.html,
    )
    assert not plt.get_fignums()  # the figure was closed
    with pytest.raises(TypeError, match="cannot show a int"):
        show(3)


def test_section_shares_by_hand(ctx):
    page = UnitPage(ctx, "shunde", 2010)
    shares = page.section_shares()
    it = ctx.result.items
    it = it[(it["year"] == 2010) & (it["kind"] == page.row["kind"]) & (it["section"] != "adjustments")]
    # every point of the unit is in exactly one section (or item directly under a line)
    assert shares["points"].sum() == pytest.approx(it.loc[it["unit"] == "shunde", "points"].sum())
    first = shares.iloc[0]
    of_first = (it["item"] == first["node"]) | it["section"].str.startswith(first["node"])
    mine = it[(it["unit"] == "shunde") & of_first]
    assert first["points"] == pytest.approx(mine["points"].sum())
    assert first["share"] == pytest.approx(mine["points"].sum() / mine["max_points"].sum())
    per_unit = it[of_first].groupby("unit")[["points", "max_points"]].sum()
    assert first["share_peer_median"] == pytest.approx((per_unit["points"] / per_unit["max_points"]).median())
    ax = plot_section_shares(shares, unit_label="shunde")
    assert len(ax.patches) == 2 * len(shares)
    assert ax.patches[0].get_width() == pytest.approx(100 * first["share"])


def test_total_trend_marks_the_year_and_names_unscored_years(ctx):
    s = ctx.summary.copy()
    s.loc[(s["unit"] == "shunde") & (s["year"] == 2008), "total"] = np.nan
    ax = plot_total_trend(s, unit="shunde", year=2010)
    from assesskit.plotting import left_out

    assert left_out(ax) == ["shunde 2008 — no total (not scored)"]
    d = s[s["unit"] == "shunde"].sort_values("year")
    y = ax.lines[0].get_ydata()
    assert y[-1] == pytest.approx(100 * d["total"].iloc[-1] / d["max_total"].iloc[-1])
    assert list(ax.lines[1].get_xdata()) == [2010]


def test_comparison_page_shows_compare_schemes(ctx, tmp_path):
    d = odd_panel(tmp_path / "data")
    b = load_context(
        SCHEME, d / "data.csv", units=d / "units.csv", targets=d / "targets.csv", variant={"vetoes": []}
    )
    cmp = sensitivity.compare_schemes(ctx.result, b.result, names=("A", "B"))
    page = ComparisonPage(ctx, b, 2010, "A", "B", comparison=cmp)
    expected = cmp.units[cmp.units["year"] == 2010]
    assert len(page.units) == len(expected) == 5
    html = page.movers().html
    # "moved up by" is minus compare_schemes' shift, row by row in rank-b order
    first = expected.sort_values(["kind", "rank_b"]).iloc[0]
    assert f"<td>{first['name']}</td>" in html
    agreement = page.agreement().html
    s = cmp.summary[cmp.summary["year"] == 2010].iloc[0]
    assert f"<td>{int(s['n_moved'])}</td>" in agreement
    ax = plot_rank_changes(cmp, year=2010, labels=("A", "B"))
    assert len(ax.lines) == 5 - int((expected["rank_a"].isna() & expected["rank_b"].isna()).sum())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B"]


def test_rank_changes_draw_moves_in_red_and_leave_out_the_unranked():
    units = pd.DataFrame(
        {
            "unit": ["a", "b", "c", "d"],
            "year": 2010,
            "kind": "town",
            "rank_a": [1.0, 2.0, 3.0, np.nan],
            "rank_b": [2.0, 1.0, np.nan, np.nan],
            "shift": [1.0, -1.0, 1.0, 0.0],
        }
    )
    ax = plot_rank_changes(units)
    from assesskit.plotting import left_out

    assert left_out(ax) == ["d 2010 — ranked under neither scheme"]
    assert [ln.get_color() for ln in ax.lines] == ["#c0392b"] * 3
    assert list(ax.lines[2].get_xdata()) == [0.0]  # c: ranked under a only


def test_overview_and_unit_pages_build_with_odd_data(tmp_path):
    """End to end: the runner builds every page of a year with a peer without female births."""
    odd_panel(tmp_path / "data")
    spec = {
        "name": "odd",
        "out": "out",
        "schemes": [
            {
                "scheme": SCHEME,
                "data": "data/data.csv",
                "units": "data/units.csv",
                "targets": "data/targets.csv",
                "years": [2009, 2010],
                "units_only": ["shunde", "nanhai"],
            }
        ],
    }
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = run_report(tmp_path / "run.yaml", jobs=1, base=tmp_path, progress=False)
    assert result.ok, result.failures  # before the fix: every 2010 unit page and the 2009 overview failed
    shunde = (tmp_path / "out" / "2010" / f"{page_stem('shunde')}.html").read_text(encoding="utf-8")
    assert "left out: nanhai 2010 — no female births: the sex ratio is undefined" in shunde
    overview = (tmp_path / "out" / "2009" / "overview.html").read_text(encoding="utf-8")
    assert "left out: chancheng 2009 — " in overview


@pytest.mark.parametrize(
    ("page", "method", "images"),
    [
        ("unit", "sections", 1),
        ("unit", "trend", 1),
        ("unit", "srb", 2),
        ("unit", "compliance", 1),
        ("unit", "quality", 0),
        ("overview", "funnels", 2),
        ("overview", "heterogeneity", 0),
        ("overview", "trends", 0),
        ("overview", "quality", 1),
        ("overview", "diagnostics", None),
        ("compare", "correlation", 0),
    ],
)
def test_old_page_methods_are_deprecated_aliases(ctx, page, method, images):
    if page == "unit":
        obj = UnitPage(ctx, "shunde", 2010)
    elif page == "overview":
        obj = OverviewPage(ctx, 2010)
    else:
        obj = ComparisonPage(ctx, ctx, 2010)
    with pytest.warns(DeprecationWarning, match=rf"\.{method}\(\) is deprecated"):
        html = getattr(obj, method)().html
    assert html.count("<img ") == images if images is not None else "<h3>Targets</h3>" in html


def test_the_code_hash_covers_what_the_templates_compute_and_draw_with():
    from assesskit.report.pages import template_modules
    from assesskit.report.runner import code_files

    names = {m.__name__ for m in template_modules()}
    assert {"assesskit.stats", "assesskit.sensitivity", "assesskit.plotting.scores"} <= names
    root = Path(__file__).resolve().parents[1] / "assesskit"
    files = {p.relative_to(root).as_posix() for p in code_files()}
    expected = {
        "plotting/scores.py",
        "report/tables.py",
        "report/present_unit.py",
        "report/present_compare.py",
    }
    assert expected | {"report/present_overview.py", "sensitivity/compare.py", "stats/trends.py"} <= files


def test_scheme_variant_refuses_duplicate_keys(tmp_path):
    """A variant reads its scheme file through the one YAML reader: a key given twice is an error."""
    from assesskit.exceptions import ReportError
    from assesskit.report.pages import load_scheme_variant

    src = Path(__file__).parent / "fixtures" / "mini.yaml"
    text = src.read_text(encoding="utf-8")
    bad = tmp_path / "dup.yaml"
    bad.write_text("floor: 0\nfloor: 1\n" + text, encoding="utf-8")
    with pytest.raises(ReportError, match="floor"):
        load_scheme_variant(bad, {"vetoes": []})
    assert not load_scheme_variant(src, {"vetoes": []}).vetoes
