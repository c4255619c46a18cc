"""What a year's pages share is computed once per year, and changes nothing on the pages.

- a unit page built with cold caches is byte-identical to the same page built after another
  unit of the year warmed them (every block of the template, figures' PNGs included);
- the cached forest figure is byte-identical to plotting it directly with the public API;
- the context cache is keyed on the inputs' content: a changed file (same path) is read
  again, a copy under another path is not; both caches are bounded;
- the pages do not modify the shared context.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from assesskit import stats
from assesskit.datasets.demo import FILE_NAMES, write_demo_data
from assesskit.plotting.srb import _FLAG_COLOUR, plot_srb_intervals
from assesskit.report import load_context, pages, shared
from assesskit.report.tables import Html, figure_html

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SCHEME = "district_1000"
YEAR = 2013


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    d = write_demo_data(tmp_path_factory.mktemp("demo"), seed=0, schemes=[SCHEME]) / SCHEME
    out = {r: str(d / n) for r, n in FILE_NAMES.items() if r != "truth" and (d / n).exists()}
    out.setdefault("targets", None)
    return out


@pytest.fixture(autouse=True)
def _cold():
    shared.clear()
    yield
    shared.clear()


def _cells() -> list[str]:
    nb = json.loads((ROOT / "notebooks" / "unit_report.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return ["".join(c["source"]) for c in code if "parameters" not in c["metadata"].get("tags", [])]


def build_page(files: dict[str, str], unit: str, year: int = YEAR) -> list[str]:
    """The template's code cells run in this process (as a warm kernel does); every block it
    displays or ends a cell with, as HTML."""
    shown: list[str] = []

    def keep(obj: object) -> None:
        if isinstance(obj, Html):
            shown.append(obj.html)

    ns = {
        "display": keep,
        "scheme": SCHEME,
        **files,
        "unit": unit,
        "year": year,
        "seed": 0,
        "lang": "bilingual",
    }
    for src in _cells():
        tree = ast.parse(src)
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = ast.Module(body=tree.body[:-1] if last else tree.body, type_ignores=[])
        exec(compile(body, "<cell>", "exec"), ns)
        if last is not None:
            keep(eval(compile(ast.Expression(last.value), "<cell>", "eval"), ns))
    return shown


def _units(files: dict[str, str], year: int = YEAR) -> list[str]:
    d = pd.read_csv(files["data"])
    return sorted(d.loc[d["year"] == year, "unit"].astype(str).unique())


def test_page_is_byte_identical_cold_and_warm(files):
    a, b = _units(files)[:2]
    cold = build_page(files, b)
    shared.clear()
    build_page(files, a)  # warms the context and the year's figure
    assert len(shared._YEARS) == 1
    warm = build_page(files, b)
    assert len(cold) == len(warm) >= 8  # header, score card, items, sections, trend, srb, compliance, quality
    assert any("data:image/png" in block for block in cold)
    for x, y in zip(cold, warm):
        assert x == y
    assert build_page(files, a) != warm  # the highlight is the page's own


def test_cached_forest_equals_the_public_plot(files):
    ctx = load_context(
        SCHEME, files["data"], units=files["units"], targets=files["targets"], grades=files["grades"]
    )
    units = _units(files)[:4]
    for u in units + units[:1]:  # the first unit again, after others recoloured the figure
        direct = plot_srb_intervals(
            stats.sex_ratio(ctx.rows_of_year(YEAR)), year=YEAR, names=ctx.plot_names, highlight=[u], lang="en"
        )
        assert shared.srb_forest(ctx, YEAR, u, lang="en").html == figure_html(direct).html
    # one figure kept for the year and language; no highlight left behind on it
    (fig,) = shared._YEARS[ctx][YEAR].forests.values()
    colours = {t.get_color() for ax in fig.axes for t in ax.get_yticklabels()}
    assert _FLAG_COLOUR not in colours
    assert matplotlib.pyplot.fignum_exists(fig.number) is False  # not left open in pyplot


def test_sex_ratio_of_year_is_computed_once(files):
    ctx = load_context(
        SCHEME, files["data"], units=files["units"], targets=files["targets"], grades=files["grades"]
    )
    peers = shared.sex_ratio_of_year(ctx, YEAR)
    assert shared.sex_ratio_of_year(ctx, YEAR) is peers
    pd.testing.assert_frame_equal(peers, stats.sex_ratio(ctx.rows_of_year(YEAR)))


def test_changed_file_is_read_again_and_a_copy_is_not(files, tmp_path):
    data = tmp_path / "panel.csv"
    shutil.copy(files["data"], data)
    kw = {"units": files["units"], "targets": files["targets"], "grades": files["grades"]}
    first = load_context(SCHEME, data, **kw)
    copy = tmp_path / "elsewhere.csv"
    shutil.copy(data, copy)
    assert load_context(SCHEME, copy, **kw) is first  # same content, other path: cached
    unit = _units(files)[0]
    before = shared.sex_ratio_of_year(first, YEAR)
    # same path, new content: 600 boys and 500 girls for one unit-year
    d = pd.read_csv(data)
    row = (d["unit"].astype(str) == unit) & (d["year"] == YEAR)
    d.loc[row, ["male_births", "female_births"]] = [600, 500]
    if "births" in d.columns:
        d.loc[row, "births"] = 1100
    d.to_csv(data, index=False)
    second = load_context(SCHEME, data, **kw)
    assert second is not first
    after = shared.sex_ratio_of_year(second, YEAR)
    srb = after.loc[after["unit"] == unit, "srb"].item()
    assert srb == pytest.approx(120.0)  # 100 · 600 / 500
    assert before.loc[before["unit"] == unit, "srb"].item() != pytest.approx(120.0)


def test_caches_are_bounded(files, tmp_path):
    kw = {"units": files["units"], "targets": files["targets"], "grades": files["grades"]}
    ctxs = []
    for i in range(3):
        p = tmp_path / f"panel{i}.csv"
        d = pd.read_csv(files["data"])
        d.loc[0, "male_births"] += i + 1  # three different contents
        if "births" in d.columns:
            d.loc[0, "births"] += i + 1
        d.to_csv(p, index=False)
        ctxs.append(load_context(SCHEME, p, **kw))
    assert len(pages._CACHE) == pages._CACHE_SIZE == 2
    assert load_context(SCHEME, tmp_path / "panel2.csv", **kw) is ctxs[2]
    assert load_context(SCHEME, tmp_path / "panel0.csv", **kw) is not ctxs[0]  # evicted
    years = sorted(pd.read_csv(files["data"])["year"].unique())
    for y in years:
        shared.sex_ratio_of_year(ctxs[2], int(y))
    assert len(years) > shared.YEARS_PER_CONTEXT
    assert list(shared._YEARS[ctxs[2]]) == [int(y) for y in years[-shared.YEARS_PER_CONTEXT :]]


def test_pages_do_not_modify_the_shared_context(files):
    ctx = load_context(
        SCHEME, files["data"], units=files["units"], targets=files["targets"], grades=files["grades"]
    )
    data, summary, items = ctx.data.copy(), ctx.summary.copy(), ctx.result.items.copy()
    registry = ctx.registry.copy()
    for u in _units(files)[:2]:
        build_page(files, u)
    assert (
        load_context(
            SCHEME, files["data"], units=files["units"], targets=files["targets"], grades=files["grades"]
        )
        is ctx
    )
    pd.testing.assert_frame_equal(ctx.data, data)
    pd.testing.assert_frame_equal(ctx.summary, summary)
    pd.testing.assert_frame_equal(ctx.result.items, items)
    pd.testing.assert_frame_equal(ctx.registry, registry)
