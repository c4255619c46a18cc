"""Figures of scores: sections against peers, a unit's total over the years, rank changes.

``plot_x(data, *, ax=None) -> Axes``; no file writes. Text goes through
:func:`assesskit.plotting.label` (Chinese when a CJK font exists).

- :func:`plot_section_shares` — each section's share of its maximum, against the peers' median;
- :func:`plot_total_trend` — a unit's total in % of its maximum over the scored years;
- :func:`plot_rank_changes` — ranks under two schemes (a :func:`assesskit.sensitivity.compare_schemes`
  result), movers in red.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import label, new_axes, note_left_out, nothing_to_draw, row_label

__all__ = ["plot_rank_changes", "plot_section_shares", "plot_total_trend"]

_OWN = "#2c6fbb"
_PEER = "#bbbbbb"
_MOVED = "#c0392b"
_STILL = "#999999"


def _safe(text: object) -> str:
    return str(text).replace("$", r"\$")


def plot_section_shares(
    table: pd.DataFrame,
    *,
    unit_label: str = "unit",
    title: str | None = None,
    ax=None,
    lang: str | None = None,
):
    """Bars of each section's share of its maximum (%), the unit against the peers' median.

    Parameters
    ----------
    table : DataFrame
        One row per section: ``label`` (and ``label_en``), ``share`` and
        ``share_peer_median`` (fractions of the section's maximum), e.g.
        :meth:`assesskit.report.UnitPage.section_shares`.
    unit_label : str
        Legend text of the unit's bars (matplotlib text: escape ``$``, e.g. use
        :attr:`ReportContext.plot_names <assesskit.report.ReportContext.plot_names>`).
    title : str, optional
    ax : matplotlib Axes, optional
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.

    Returns
    -------
    matplotlib Axes
        Sections without a share (no maximum) are left out and listed by
        :func:`assesskit.plotting.left_out`.
    """
    ax = new_axes(ax, figsize=(7, 0.32 * len(table) + 1.3))
    share = table["share"].to_numpy(dtype=float)
    bad = ~np.isfinite(share)
    note_left_out(ax, [f"section {lab} — no maximum to share" for lab in table["label"][bad]])
    y = np.arange(len(table))[::-1]
    ax.barh(y + 0.2, np.nan_to_num(share) * 100, height=0.4, color=_OWN, label=unit_label)
    peer = np.nan_to_num(table["share_peer_median"].to_numpy(dtype=float)) * 100
    ax.barh(y - 0.2, peer, height=0.4, color=_PEER, label=label("同类中位数", "peer median", lang=lang))
    en = table["label_en"] if "label_en" in table.columns else table["label"]
    ax.set_yticks(y, [_safe(label(zh, en_, lang=lang)) for zh, en_ in zip(table["label"], en)])
    ax.set_xlabel(label("得分率 %", "share of maximum, %", lang=lang))
    ax.set_xlim(0, 105)
    if not len(table):
        nothing_to_draw(ax, "no section", lang=lang)
    else:
        ax.legend(loc="lower right", fontsize="small")
    ax.set_title(title or label("各部分得分率", "Sections", lang=lang))
    return ax


def plot_total_trend(
    summary: pd.DataFrame, *, unit: str, year: int | None = None, ax=None, lang: str | None = None
):
    """A unit's total in % of its maximum over the scored years.

    Parameters
    ----------
    summary : DataFrame
        A :attr:`ScoreResult.summary <assesskit.scoring.ScoreResult.summary>` (``unit``,
        ``year``, ``total``, ``max_total``); other units' rows are ignored.
    unit : str
    year : int, optional
        A year to mark (the page's year).
    ax : matplotlib Axes, optional
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.

    Returns
    -------
    matplotlib Axes
        Years without a total (not scored) are gaps, listed by
        :func:`assesskit.plotting.left_out`.
    """
    ax = new_axes(ax, figsize=(6, 3))
    d = summary[summary["unit"] == unit].sort_values("year")
    share = d["total"].to_numpy(dtype=float) / d["max_total"].to_numpy(dtype=float) * 100
    years = d["year"].to_numpy(dtype=int)
    bad = ~np.isfinite(share)
    note_left_out(ax, [f"{row_label(unit, y)} — no total (not scored)" for y in years[bad]])
    ax.plot(years, share, "o-", color=_OWN)
    if year is not None and (years == year).any():
        ax.plot([year], share[years == year], "o", color=_MOVED, ms=8, zorder=3)
    if years.size:
        ax.set_xticks(years.tolist())
    if not (~bad).any():
        nothing_to_draw(ax, "no scored year", lang=lang)
    ax.set_ylabel(label("总分占满分 %", "total, % of maximum", lang=lang))
    ax.set_title(label("总分趋势", "Total over the years", lang=lang))
    return ax


def plot_rank_changes(
    comparison,
    *,
    year: int | None = None,
    kind: str | None = None,
    labels: tuple[str, str] = ("A", "B"),
    names: Mapping[object, str] | None = None,
    title: str | None = None,
    ax=None,
    lang: str | None = None,
):
    """Ranks of one year and kind under two schemes, one line per unit; movers in red.

    Parameters
    ----------
    comparison : Comparison or DataFrame
        :func:`assesskit.sensitivity.compare_schemes` (or its ``units`` table: ``unit``,
        ``year``, ``kind``, ``rank_a``, ``rank_b``, ``shift``).
    year, kind : optional
        The group drawn (default: the latest year, the most numerous kind).
    labels : (str, str)
        The two schemes' names under the axis (matplotlib text).
    names : mapping, optional
        Display names by unit id, as matplotlib text (``$`` escaped, e.g.
        :attr:`ReportContext.plot_names <assesskit.report.ReportContext.plot_names>`); ids
        without a name are escaped here.
    title : str, optional
    ax : matplotlib Axes, optional
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.

    Returns
    -------
    matplotlib Axes
        A unit ranked under one scheme only is a single point; one ranked under neither
        is left out and listed by :func:`assesskit.plotting.left_out`.
    """
    t = comparison.units if hasattr(comparison, "units") else comparison
    year = int(t["year"].max()) if year is None else year
    t = t[t["year"] == year]
    kind = t["kind"].value_counts().index[0] if kind is None and len(t) else kind
    t = t[t["kind"] == kind]
    ra, rb = t["rank_a"].to_numpy(dtype=float), t["rank_b"].to_numpy(dtype=float)
    ax = new_axes(ax, figsize=(4.6, 0.3 * len(t) + 1.6))
    neither = np.isnan(ra) & np.isnan(rb)
    note_left_out(ax, [f"{row_label(u, year)} — ranked under neither scheme" for u in t["unit"][neither]])
    moved = t["shift"].to_numpy(dtype=float) != 0
    names = names or {}
    xs = np.array([0.0, 1.0])
    for a, b, u, m in zip(ra[~neither], rb[~neither], t["unit"][~neither], moved[~neither]):
        ys = np.array([a, b])
        ok = np.isfinite(ys)
        ax.plot(xs[ok], ys[ok], "o-", color=_MOVED if m else _STILL, lw=1.2)
        text = names[u] if u in names else _safe(u)  # given names are the caller's, as matplotlib text
        ax.text(xs[ok][-1] + 0.04, ys[ok][-1], text, va="center", fontsize=7)
    if not (~neither).any():
        nothing_to_draw(ax, "no unit is ranked", lang=lang)
    ax.invert_yaxis()
    ax.set_xticks([0, 1], list(labels))
    ax.set_xlim(-0.15, 1.6)
    ax.set_ylabel(label("名次", "rank", lang=lang))
    ax.set_title(
        title or label(f"{year} 年名次变化（红色：名次变化）", f"Ranks, {year} (red: moved)", lang=lang),
        fontsize=9,
    )
    return ax
