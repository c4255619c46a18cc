"""What the pages of one year share, computed once per year in a process (a warm kernel).

A unit's page shows figures that are the same for every unit of its year except for the
highlighted unit: the forest plot of the year's sex ratios at birth, with the page's unit
written in red. A report runner's warm kernel builds many pages of one year one after the
other, so this module keeps, per scored context (:func:`assesskit.report.load_context`, itself
cached on its inputs' content) and per year:

- the year's statistics: :func:`sex_ratio_of_year` is ``stats.sex_ratio(ctx.rows_of_year(year))``;
- the year's forest figure, built and laid out once: :func:`srb_forest` recolours one tick
  label (the page's unit), renders the PNG and puts the colour back.

A page is byte-identical whether its year was cached or computed fresh: the first page of a
year builds the figure exactly as :func:`~assesskit.plotting.srb.plot_srb_intervals` with
``highlight=[unit]`` would, renders it (the constrained layout runs then, as always), and only
afterwards freezes the layout, which a tick label's colour cannot change. Tested in
``tests/test_shared_figures.py``.

The caches are bounded: per context, the :data:`YEARS_PER_CONTEXT` most recently used years;
contexts are held weakly (they live in :func:`load_context`'s own two-entry cache or in the
caller's variables). :func:`clear` empties everything. The plotting functions stay pure: the
caching lives here, in the report layer.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .pages import ReportContext
    from .tables import Html

__all__ = ["YEARS_PER_CONTEXT", "clear", "sex_ratio_of_year", "srb_forest"]

YEARS_PER_CONTEXT = 3
"""Years kept per context (the runner sends a kernel a year's pages one after the other)."""

_FLAG_COLOUR = "#c0392b"  # plotting.srb's highlight colour (checked by the tests)


@dataclass
class _Year:
    peers: pd.DataFrame | None = None
    forests: dict[str, Any] = field(default_factory=dict)  # lang → laid-out Figure


_YEARS: weakref.WeakKeyDictionary[ReportContext, OrderedDict[int, _Year]] = weakref.WeakKeyDictionary()


def _year(ctx: ReportContext, year: int) -> _Year:
    years = _YEARS.get(ctx)
    if years is None:
        years = _YEARS[ctx] = OrderedDict()
    if year in years:
        years.move_to_end(year)
        return years[year]
    entry = years[year] = _Year()
    while len(years) > YEARS_PER_CONTEXT:
        years.popitem(last=False)
    return entry


def clear() -> None:
    """Forget every cached year and every cached context (:func:`load_context`'s too)."""
    from . import pages

    _YEARS.clear()
    pages._CACHE.clear()


def sex_ratio_of_year(ctx: ReportContext, year: int) -> pd.DataFrame:
    """``stats.sex_ratio(ctx.rows_of_year(year))``, computed once per context and year.

    The same DataFrame is handed to every page of the year: read it, do not modify it.
    """
    from .. import stats

    entry = _year(ctx, int(year))
    if entry.peers is None:
        entry.peers = stats.sex_ratio(ctx.rows_of_year(int(year)))
    return entry.peers


def srb_forest(ctx: ReportContext, year: int, unit: str, *, lang: str | None = None) -> Html:
    """The forest plot of the year's sex ratios with ``unit`` highlighted, as page HTML.

    The same bytes as ``figure_html(plot_srb_intervals(sex_ratio_of_year(ctx, year),
    year=year, names=ctx.plot_names, highlight=[unit], lang=lang))``; the figure is built and
    laid out once per context, year and language.
    """
    import matplotlib.pyplot as plt

    from ..i18n import check_lang
    from ..plotting.srb import plot_srb_intervals
    from .tables import figure_html

    year, lang = int(year), check_lang(lang)
    entry = _year(ctx, year)
    fig = entry.forests.get(lang)
    fresh = fig is None
    if fresh:
        ax = plot_srb_intervals(sex_ratio_of_year(ctx, year), year=year, names=ctx.plot_names, lang=lang)
        fig = ax.figure
        plt.close(fig)  # out of pyplot's figure list (still drawable); this module holds it
    labels = [t for ax in fig.axes for t in ax.get_yticklabels() if t.get_gid() == f"unit:{unit}"]
    before = [t.get_color() for t in labels]
    for t in labels:
        t.set_color(_FLAG_COLOUR)
    try:
        html = figure_html(fig, close=False)
    finally:
        for t, c in zip(labels, before):
            t.set_color(c)
    if fresh:
        fig.set_layout_engine("none")  # keep the positions the first rendering computed
        entry.forests[lang] = fig
    return html
