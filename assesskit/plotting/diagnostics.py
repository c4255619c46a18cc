"""Figures for the indicator diagnostics (:mod:`assesskit.stats.diagnostics`).

Each function takes the table returned by the matching statistics function, draws one
kind of unit in one year (pass ``year=``/``kind=`` when the table holds several) and
returns the Axes. Items are labelled with their Chinese labels (English when no CJK font
is available, see :func:`assesskit.plotting.label`). No file is written.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

from ..stats.diagnostics import correlation_matrix, one_group
from . import label, new_axes


def _item_labels(
    labels: pd.Series, labels_en: pd.Series, ids: pd.Series, *, lang: str | None = None
) -> list[str]:
    """Chinese label per item, falling back to the English label, then the id."""
    out = []
    for zh, en, i in zip(labels, labels_en, ids):
        en = en if isinstance(en, str) and en else str(i)
        out.append(label(zh if isinstance(zh, str) and zh else None, en, lang=lang))
    return out


def _tick_size(n: int) -> float:
    return float(np.clip(260.0 / max(n, 1), 4.0, 9.0))


def _group_title(sub: pd.DataFrame, *, lang: str | None = None) -> str:
    parts = []
    if "year" in sub.columns and len(sub):
        y = sub["year"].iloc[0]
        parts.append(label("各年合并", "years pooled", lang=lang) if pd.isna(y) else str(int(y)))
    if "kind" in sub.columns and len(sub):
        parts.append(str(sub["kind"].iloc[0]))
    return " · ".join(parts)


def plot_item_correlations(
    data: pd.DataFrame,
    *,
    ax=None,
    year: int | None = None,
    kind: str | None = None,
    annotate: bool | None = None,
    lang: str | None = None,
):
    """Heat map of the rank correlations between items (redundancy).

    Parameters
    ----------
    data : DataFrame
        Output of :func:`assesskit.stats.diagnostics.item_correlations`.
    ax : matplotlib Axes, optional
    year, kind : optional
        The group to draw; may be omitted when the table holds only one.
    annotate : bool, optional
        Write the coefficients in the cells (default: when there are at most 15 items).
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.

    Returns
    -------
    matplotlib Axes
        Items in scheme order on both axes, labelled in Chinese; colour from −1 (blue) to
        +1 (red); grey cells are undefined (a constant item).
    """
    sub = one_group(data, year, kind)
    mat = correlation_matrix(sub)
    n = len(mat)
    side = float(np.clip(0.16 * n + 3.0, 5.0, 18.0))
    ax = new_axes(ax, figsize=(side + 1.2, side))
    src = sub.drop_duplicates("item_a").set_index("item_a")  # every item has its diagonal row
    labs = _item_labels(
        src.loc[mat.index, "label_a"], src.loc[mat.index, "label_en_a"], pd.Series(mat.index), lang=lang
    )
    vals = np.ma.masked_invalid(mat.to_numpy(dtype=float))
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#d9d9d9")
    im = ax.imshow(vals, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_xticks(range(n), labs, rotation=90, fontsize=_tick_size(n))
    ax.set_yticks(range(n), labs, fontsize=_tick_size(n))
    if annotate is None:
        annotate = n <= 15
    if annotate:
        for i in range(n):
            for j in range(n):
                v = mat.iat[i, j]
                if np.isfinite(v):
                    ax.text(
                        j,
                        i,
                        f"{v:.2f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if abs(v) > 0.6 else "black",
                    )
    method = str(sub["method"].iloc[0]) if len(sub) else "spearman"
    names = {
        "spearman": ("Spearman 秩相关", "Spearman rank correlation"),
        "kendall": ("Kendall 秩相关", "Kendall rank correlation"),
        "pearson": ("Pearson 相关", "Pearson correlation"),
    }
    cb = ax.figure.colorbar(im, ax=ax, shrink=0.8)
    cb.set_label(label(*names[method], lang=lang))
    ax.set_title(
        label("指标间相关（冗余）", "Correlations between items (redundancy)", lang=lang)
        + f"  {_group_title(sub, lang=lang)}"
    )
    return ax


def plot_effective_weights(
    data: pd.DataFrame, *, ax=None, year: int | None = None, kind: str | None = None, lang: str | None = None
):
    """Bars of each item's effective weight next to its nominal weight.

    Parameters
    ----------
    data : DataFrame
        Output of :func:`assesskit.stats.diagnostics.effective_weights` (adjustments are
        drawn too, without a nominal bar) or of
        :func:`~assesskit.stats.diagnostics.item_diagnostics`.
    ax : matplotlib Axes, optional
    year, kind : optional
        The group to draw; may be omitted when the table holds only one.
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.

    Returns
    -------
    matplotlib Axes
        Horizontal bars, items in scheme order from the top: nominal weight (max points /
        the kind's maximum, light) and effective weight (share of the variance of the
        total, dark; negative when the item moves against the rest of the total).
    """
    sub = one_group(data, year, kind).reset_index(drop=True)
    n = len(sub)
    ax = new_axes(ax, figsize=(8.0, float(np.clip(0.2 * n + 1.5, 3.5, 20.0))))
    labs = _item_labels(sub["label"], sub["label_en"], sub["item"], lang=lang)
    y = np.arange(n)
    h = 0.4
    ax.barh(
        y - h / 2,
        sub["nominal_weight"].fillna(0.0),
        height=h,
        color="#9ecae1",
        label=label("名义权重（满分占比）", "nominal weight (share of max points)", lang=lang),
    )
    ax.barh(
        y + h / 2,
        sub["effective_weight"].fillna(0.0),
        height=h,
        color="#08519c",
        label=label("有效权重（总分方差占比）", "effective weight (share of total variance)", lang=lang),
    )
    ax.axvline(0, color="black", lw=0.6)
    ax.set_yticks(y, labs, fontsize=_tick_size(n) + 1)
    if "component" in sub.columns and (sub["component"] != "item").any():
        first_adj = int(np.flatnonzero((sub["component"] != "item").to_numpy())[0])
        ax.axhline(first_adj - 0.5, color="grey", ls="--", lw=0.8)  # items above, bonuses/deductions below
    ax.set_xlabel(label("权重", "weight", lang=lang))
    ax.set_ylim(n - 0.5, -0.5)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    ax.set_title(
        label("名义权重与有效权重", "Nominal vs effective weights", lang=lang)
        + f"  {_group_title(sub, lang=lang)}",
        pad=22,
    )
    return ax


def plot_ceiling_floor(
    data: pd.DataFrame,
    *,
    ax=None,
    year: int | None = None,
    kind: str | None = None,
    sort: bool = False,
    lang: str | None = None,
):
    """Stacked bars: the share of units at zero, in between and at full marks per item.

    Parameters
    ----------
    data : DataFrame
        Output of :func:`assesskit.stats.diagnostics.item_diagnostics`.
    ax : matplotlib Axes, optional
    year, kind : optional
        The group to draw; may be omitted when the table holds only one.
    sort : bool, default False
        Order by ceiling share (highest first) instead of the scheme's order.
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.

    Returns
    -------
    matplotlib Axes
        One horizontal bar per item summing to 1: floor (zero points, red), partial
        (grey), ceiling (full marks, blue).
    """
    sub = one_group(data, year, kind).reset_index(drop=True)
    if sort:
        sub = sub.sort_values("ceiling_share", ascending=False, kind="stable").reset_index(drop=True)
    n = len(sub)
    ax = new_axes(ax, figsize=(8.0, float(np.clip(0.2 * n + 1.5, 3.5, 20.0))))
    labs = _item_labels(sub["label"], sub["label_en"], sub["item"], lang=lang)
    y = np.arange(n)
    floor = sub["floor_share"].to_numpy(dtype=float)
    ceil = sub["ceiling_share"].to_numpy(dtype=float)
    mid = np.clip(1.0 - floor - ceil, 0.0, 1.0)
    ax.barh(y, floor, color="#cb181d", label=label("零分", "zero points (floor)", lang=lang))
    ax.barh(y, mid, left=floor, color="#bdbdbd", label=label("部分得分", "partial", lang=lang))
    ax.barh(
        y, ceil, left=floor + mid, color="#2171b5", label=label("满分", "full marks (ceiling)", lang=lang)
    )
    ax.set_xlim(0, 1)
    ax.set_yticks(y, labs, fontsize=_tick_size(n) + 1)
    ax.set_xlabel(label("单位占比", "share of units", lang=lang))
    ax.set_ylim(n - 0.5, -0.5)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8, frameon=False)
    ax.set_title(
        label("满分与零分比例（天花板/地板）", "Ceiling and floor shares", lang=lang)
        + f"  {_group_title(sub, lang=lang)}",
        pad=22,
    )
    return ax
