"""Figures for the sensitivity of rankings: rank intervals, tier probabilities, Sobol bars.

Each function takes the tidy tables of :mod:`assesskit.sensitivity` and returns the
matplotlib Axes; none writes a file. Unit and factor labels are Chinese when a CJK font
is available (:func:`assesskit.plotting.setup_cjk_font`), else the ids.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import label, new_axes


def _table(obj) -> pd.DataFrame:
    return obj.to_frame() if hasattr(obj, "to_frame") else obj


def _one_group(tab: pd.DataFrame, kind: str | None, year: int | None) -> pd.DataFrame:
    if year is None and "year" in tab:
        year = tab["year"].max()
    if year is not None and "year" in tab:
        tab = tab[tab["year"] == year]
    if kind is None and "kind" in tab and len(tab):
        kind = tab["kind"].value_counts().index[0]
    if kind is not None and "kind" in tab:
        tab = tab[tab["kind"] == kind]
    return tab


def _names(tab: pd.DataFrame, *, lang: str | None = None) -> list[str]:
    if "name" in tab:
        return [label(str(n), str(u), lang=lang) for n, u in zip(tab["name"], tab["unit"])]
    return [str(u) for u in tab["unit"]]


def plot_rank_intervals(
    sim,
    *,
    kind: str | None = None,
    year: int | None = None,
    order: str = "nominal_rank",
    ax=None,
    lang: str | None = None,
):
    """Caterpillar plot: each unit's 5–95 % rank interval, median and nominal rank.

    Parameters
    ----------
    sim : Simulation or DataFrame
        :func:`assesskit.sensitivity.simulate` (or its ``units`` table).
    kind, year : optional
        The group to show (default: the latest year, the most numerous kind).
    order : str
        Column to sort the units by (``nominal_rank`` or ``median_rank``).
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.

    Returns
    -------
    matplotlib.axes.Axes
    """
    tab = _one_group(_table(sim), kind, year)
    tab = tab.sort_values([order, "median_rank"], na_position="last", kind="stable")
    ax = new_axes(ax, figsize=(7, 0.35 * len(tab) + 1.5))
    y = np.arange(len(tab))
    lo = tab["rank_q05"].to_numpy(dtype=float)
    hi = tab["rank_q95"].to_numpy(dtype=float)
    p_veto = tab["p_veto"].to_numpy(dtype=float) if "p_veto" in tab else np.zeros(len(tab))
    ax.hlines(
        y, lo, hi, color="0.45", lw=4, alpha=0.6, label=label("5–95% 区间", "5–95% interval", lang=lang)
    )
    sc = ax.scatter(
        tab["median_rank"],
        y,
        c=p_veto,
        cmap="Reds",
        vmin=0,
        vmax=1,
        edgecolor="k",
        zorder=3,
        label=label("中位数", "median", lang=lang),
    )
    ax.scatter(
        tab["nominal_rank"],
        y,
        marker="x",
        color="C0",
        zorder=4,
        label=label("名义排名", "nominal rank", lang=lang),
    )
    ax.set_yticks(y, _names(tab, lang=lang))
    ax.invert_yaxis()
    m = np.nanmax(np.r_[hi, tab["nominal_rank"].to_numpy(dtype=float), 1.0])
    ax.set_xlim(0.5, m + 0.5)
    ax.set_xlabel(label("排名（1 = 最好）", "rank (1 = best)", lang=lang))
    ax.set_title(label("排名的不确定性", "Uncertainty of the ranks", lang=lang))
    if p_veto.any():
        ax.figure.colorbar(
            sc, ax=ax, label=label("被否决的概率", "probability of a veto", lang=lang), shrink=0.6
        )
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_tier_probabilities(
    sim,
    *,
    kind: str | None = None,
    year: int | None = None,
    columns: list[str] | None = None,
    labels: dict[str, str] | None = None,
    ax=None,
    lang: str | None = None,
):
    """Stacked bars: each unit's probability of each award tier (and of none).

    Without award tiers in the scheme, the probabilities of the top k, of a veto and of
    each warning are shown side by side instead.

    Parameters
    ----------
    sim : Simulation or DataFrame
    columns : list of str, optional
        Probability columns to show (default: ``p_tier_*`` and ``p_no_award``, else
        ``p_top*``, ``p_veto`` and ``p_warning_*``).
    labels : dict or Scheme, optional
        Legend text per column; a scheme gives its tiers' and warnings' labels.
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.
    """
    tab = _one_group(_table(sim), kind, year).sort_values("nominal_rank", na_position="last", kind="stable")
    tiers = [c for c in tab.columns if c.startswith("p_tier_")]
    stacked = columns is None and bool(tiers)
    if columns is None:
        columns = tiers + ["p_no_award"] if tiers else [c for c in tab.columns if c.startswith("p_top")]
        if not tiers:
            columns += ["p_veto"] + [c for c in tab.columns if c.startswith("p_warning_")]
    if hasattr(labels, "outcomes"):  # a Scheme: its tiers' and warnings' labels
        o = labels.outcomes
        labels = {f"p_tier_{t.id}": label(t.label, t.label_en or t.id, lang=lang) for t in o.tiers}
        labels |= {f"p_warning_{w.id}": label(w.label, w.label_en or w.id, lang=lang) for w in o.warnings}
    labels = labels or {}
    default = {
        "p_no_award": label("无奖", "no award", lang=lang),
        "p_veto": label("被否决", "vetoed", lang=lang),
    }
    ax = new_axes(ax, figsize=(7, 0.35 * len(tab) + 1.5))
    y = np.arange(len(tab))
    if stacked:
        left = np.zeros(len(tab))
        for i, c in enumerate(columns):
            v = tab[c].to_numpy(dtype=float)
            color = "0.85" if c == "p_no_award" else f"C{i}"
            ax.barh(
                y, v, left=left, color=color, label=labels.get(c, default.get(c, c.removeprefix("p_tier_")))
            )
            left += v
    else:
        h = 0.8 / max(len(columns), 1)
        for i, c in enumerate(columns):
            text = labels.get(c, default.get(c, c.removeprefix("p_warning_").removeprefix("p_")))
            ax.barh(
                y - 0.4 + h * (i + 0.5), tab[c].to_numpy(dtype=float), height=h, color=f"C{i}", label=text
            )
    ax.set_yticks(y, _names(tab, lang=lang))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(label("概率", "probability", lang=lang))
    ax.set_title(
        label("获奖等次的概率", "Probability of each award tier", lang=lang)
        if stacked
        else label("概率", "Probabilities", lang=lang)
    )
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_sobol(
    indices,
    *,
    output: str = "mean_abs_shift",
    unit: str | None = None,
    labels=None,
    ax=None,
    lang: str | None = None,
):
    """Bars of the Sobol first-order (S1) and total (ST) indices of each factor.

    Parameters
    ----------
    indices : SobolResult or DataFrame
        :func:`assesskit.sensitivity.sobol`.
    output : {"mean_abs_shift", "rank"}
        The output whose indices are shown.
    unit : str, optional
        For ``output="rank"``: the unit.
    labels : dict or Spec, optional
        Factor labels (a spec gives its factors' ``label``).
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.
    """
    tab = _table(indices)
    tab = tab[tab["output"] == output]
    if output == "rank":
        if unit is None:
            raise ValueError("give the unit whose rank's indices to show")
        tab = tab[tab["unit"] == unit]
    if hasattr(labels, "factors"):
        labels = {f.id: f.label for f in labels.factors if f.label}
    labels = labels or {}
    names = [
        label(labels.get(f) or labels.get(f.split(".")[0]), f, lang=lang) if labels else f
        for f in tab["factor"]
    ]
    ax = new_axes(ax, figsize=(7, 0.4 * len(tab) + 1.5))
    y = np.arange(len(tab))
    ax.barh(
        y - 0.2,
        tab["S1"],
        height=0.4,
        xerr=tab["S1_conf"],
        label=label("一阶指数 S1", "first order S1", lang=lang),
    )
    ax.barh(
        y + 0.2,
        tab["ST"],
        height=0.4,
        xerr=tab["ST_conf"],
        label=label("总效应指数 ST", "total ST", lang=lang),
    )
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel(label("Sobol 指数", "Sobol index", lang=lang))
    if output == "mean_abs_shift":
        what = label("平均排名变动", "mean absolute rank shift", lang=lang)
    else:
        what = (
            label(str(tab["name"].iloc[0]), str(unit), lang=lang) if len(tab) and "name" in tab else str(unit)
        )
    ax.set_title(label(f"哪些因素决定排名：{what}", f"What drives the ranking: {what}", lang=lang))
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    return ax
