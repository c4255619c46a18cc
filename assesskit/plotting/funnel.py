"""Funnel plots and the bunching histogram: ``plot_x(data, *, ax=None) -> Axes``.

- :func:`plot_funnel` — one funnel (one year): units as points against their size, the target,
  the 95% and 99.8% limits (and the over-dispersion-adjusted limits when the table was made
  with an adjustment), units outside the limits labelled with their names;
- :func:`plot_bunching` — a histogram of rates around a target with the two windows of
  :func:`assesskit.stats.quality.bunching` shaded and its test in the corner.

No file writes; text goes through :func:`assesskit.plotting.label` so Chinese renders (or falls
back to English when no CJK font exists; unit names then fall back to unit ids).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ..stats.funnel import funnel_limits, level_tag
from ..stats.quality import _rates, bunching
from . import label, new_axes, note_left_out, nothing_to_draw, row_label, setup_cjk_font

__all__ = ["plot_bunching", "plot_funnel"]

_TARGET_COLOUR = "#333333"
_LEVEL_COLOURS = ("#e69f00", "#c0392b", "#7f1d1d")
_POINT_COLOUR = "#2c6fbb"


def _names(names: Mapping[object, str] | pd.DataFrame | None, unit: str) -> Mapping[object, str]:
    if names is None:
        return {}
    if isinstance(names, pd.DataFrame):
        if not {unit, "name"} <= set(names.columns):
            raise DataError(f"names: a registry needs columns {unit!r} and 'name'")
        return dict(zip(names[unit], names["name"].astype(str)))
    return dict(names)


def _level(tag: str) -> float:
    """Inverse of :func:`level_tag` for percent levels with two integer digits or one: 998 → 0.998."""
    return float(tag[:2] + ("." + tag[2:] if len(tag) > 2 else "")) / 100


def _srb(p):
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p < 1, 100 * p / (1 - p), np.nan)


def plot_funnel(
    funnel: pd.DataFrame,
    *,
    year: int | None = None,
    unit: str = "unit",
    names: Mapping[object, str] | pd.DataFrame | None = None,
    scale: float | None = None,
    label_level: float | None = None,
    show_exact: bool = True,
    title: str | None = None,
    ax=None,
    lang: str | None = None,
):
    """Funnel plot of one group (year) of a funnel table.

    Parameters
    ----------
    funnel : DataFrame
        A result of :func:`~assesskit.stats.funnel.funnel_proportions`,
        :func:`~assesskit.stats.funnel.funnel_sex_ratio` or
        :func:`~assesskit.stats.funnel.funnel_ratios`. It must hold one funnel: one year (pick
        it with ``year``) and one target.
    year : int, optional
        The year drawn when the table has a ``year`` column (default: the latest).
    unit : str
        The unit column.
    names : mapping or DataFrame, optional
        Display names by unit id, or a unit registry with ``unit`` and ``name`` columns
        (e.g. ``make_demo_data()[...].units``). Default: the unit ids.
    scale : float, optional
        Multiplier for the y axis (default 100 for proportions, i.e. percent; 1 for ratios).
        Sex-ratio funnels are drawn on the sex-ratio scale (boys per 100 girls).
    label_level : float, optional
        Units outside the limits at this level get their name written next to them (default:
        the narrowest level in the table, 95%).
    show_exact : bool
        With an over-dispersion adjustment, also draw the unadjusted exact limits (thin, dashed).
    title : str, optional
        Default: the measure and the year.
    ax : matplotlib Axes, optional
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.

    Returns
    -------
    matplotlib Axes
        Units without a value (no births; for the sex ratio also no girls, where the ratio is
        undefined) are left out and listed with the table's note by
        :func:`assesskit.plotting.left_out`; when no unit has a value the axes say so.
    """
    f, year, left = _one_funnel(funnel, year, unit)
    if f.empty:
        ax = new_axes(ax)
        note_left_out(ax, left)
        ax.set_title(title or label(f"漏斗图 {year or ''}", f"Funnel plot {year or ''}", lang=lang).strip())
        return nothing_to_draw(ax, "no unit has a value to plot", lang=lang)
    targets = f["target"].unique()
    if len(targets) != 1 or f["measure"].nunique() != 1:
        raise DataError(
            "plot_funnel: the table holds more than one funnel (several targets); "
            "filter it to one group first, e.g. f[f['year'] == 2016]"
        )
    theta = float(targets[0])
    measure = str(f["measure"].iloc[0])
    tags = sorted({c[len("lower_") :] for c in f.columns if c.startswith("lower_")}, key=_level)
    if measure == "male_share":
        mult = None  # drawn on the sex-ratio scale

        def tr(p):
            return _srb(p)
    else:
        mult = (100.0 if measure == "proportion" else 1.0) if scale is None else float(scale)

        def tr(p):
            return np.asarray(p, dtype=float) * mult

    ax = new_axes(ax)
    if left:
        note_left_out(ax, left)
    n_max = float(f["n"].max())
    _draw_limits(ax, f, tags, theta, measure, show_exact, tr, lang=lang)
    _draw_units(ax, f, tags, unit, names, label_level, tr)
    _label_axes(ax, measure, mult, lang=lang)
    if title is None:
        what = {
            "male_share": label("出生人口性别比漏斗图", "Funnel plot of the sex ratio at birth", lang=lang),
            "ratio": label("标化比漏斗图", "Funnel plot of standardised ratios", lang=lang),
            "proportion": label("漏斗图", "Funnel plot", lang=lang),
        }[measure]
        title = what + (f" {year}" if year is not None else "")
    ax.set_title(title)
    ax.set_xlim(0, n_max * 1.15)
    ax.legend(fontsize=8, loc="best", frameon=False)
    return ax


def _one_funnel(
    funnel: pd.DataFrame, year: int | None, unit: str
) -> tuple[pd.DataFrame, int | None, list[str]]:
    """The rows of the year drawn that have a value; the year; the left-out rows, described."""
    f = funnel
    if "year" in f.columns and f["year"].nunique() > 1:
        year = int(f["year"].max()) if year is None else year
        f = f[f["year"] == year]
    elif "year" in f.columns and len(f):
        year = f["year"].iloc[0] if year is None else year
    need = {unit, "measure", "n", "value", "target", "phi", "tau2", "adjustment"}
    if not need <= set(f.columns):
        raise DataError(f"plot_funnel: not a funnel table (missing {sorted(need - set(f.columns))})")
    value = f["value"].to_numpy(dtype=float)
    n = f["n"].to_numpy(dtype=float)
    ok = np.isfinite(value) & np.isfinite(n) & (n > 0)
    left: list[str] = []
    if (f["measure"] == "male_share").all():
        ok &= value < 1  # no girls: the sex ratio is undefined
    if (~ok).any():
        why = f["note"].astype(str).to_numpy() if "note" in f.columns else np.full(len(f), "")
        years = f["year"] if "year" in f.columns else [None] * len(f)
        left = [
            f"{row_label(u, y)} — {w or 'no value'}" for u, y, w, bad in zip(f[unit], years, why, ~ok) if bad
        ]
    return f[ok], year, left


def _draw_limits(
    ax,
    f: pd.DataFrame,
    tags: list[str],
    theta: float,
    measure: str,
    show_exact: bool,
    tr,
    *,
    lang: str | None = None,
) -> None:
    """The control limits at each level (adjusted when the table was), the exact ones, the target."""
    level_of = {t: _level(t) for t in tags}
    adjustment = str(f["adjustment"].iloc[0])
    phi = float(f["phi"].iloc[0]) if adjustment == "multiplicative" else 1.0
    tau2 = float(f["tau2"].iloc[0]) if adjustment == "additive" else 0.0
    # the table's conventions (PHE's normal limits, FunnelPlotR's arcsine scale) drawn as computed
    method = str(f["method"].iloc[0]) if "method" in f.columns else "exact"
    z_scale = str(f["z_scale"].iloc[0]) if "z_scale" in f.columns else "raw"
    n_max = float(f["n"].max())
    lo_n = max(1.0, float(f["n"].min()) * 0.5)
    grid = np.unique(
        np.geomspace(lo_n, n_max * 1.15, 300)
        if measure == "ratio"
        else np.round(np.geomspace(lo_n, n_max * 1.15, 300))
    )
    lev_lines = funnel_limits(
        grid,
        theta,
        measure=measure,
        levels=list(level_of.values()),
        phi=phi,
        tau2=tau2,
        method=method,
        z_scale=z_scale,
    )
    inflated = phi > 1 or tau2 > 0
    for i, t in enumerate(tags):
        colour = _LEVEL_COLOURS[min(i, len(_LEVEL_COLOURS) - 1)]
        pct = f"{level_of[t] * 100:g}%"
        lab = label(
            f"{pct} 控制限" + ("（校正过度离散）" if inflated else ""),
            f"{pct} limits" + (" (over-dispersion adjusted)" if inflated else ""),
            lang=lang,
        )
        ax.plot(grid, tr(lev_lines[f"lower_{t}"]), color=colour, lw=1.4, label=lab)
        ax.plot(grid, tr(lev_lines[f"upper_{t}"]), color=colour, lw=1.4)
    if inflated and show_exact:
        exact = funnel_limits(grid, theta, measure=measure, levels=list(level_of.values()), method=method)
        for t in tags:
            ax.plot(grid, tr(exact[f"lower_{t}"]), color="#999999", lw=0.8, ls="--")
            ax.plot(grid, tr(exact[f"upper_{t}"]), color="#999999", lw=0.8, ls="--")
        ax.plot(
            [],
            [],
            color="#999999",
            lw=0.8,
            ls="--",
            label=(
                label("未校正的精确控制限", "unadjusted exact limits", lang=lang)
                if method == "exact"
                else label("未校正的控制限", "unadjusted limits", lang=lang)
            ),
        )
    ax.axhline(
        float(tr(theta)), color=_TARGET_COLOUR, lw=1, ls=":", label=label("目标值", "target", lang=lang)
    )


def _draw_units(
    ax, f: pd.DataFrame, tags: list[str], unit: str, names, label_level: float | None, tr
) -> None:
    """The units, coloured by the widest level they fall outside; those outside ``label_level`` named."""
    status = np.zeros(len(f), dtype=int)
    for i, t in enumerate(tags):
        col = f"outside_{t}"
        if col in f.columns:
            out = f[col].isin(["above", "below"]).to_numpy(dtype=bool)
            status = np.where(out, i + 1, status)
    colours = np.array(
        [_POINT_COLOUR, *[_LEVEL_COLOURS[min(i, len(_LEVEL_COLOURS) - 1)] for i in range(len(tags))]]
    )
    x = f["n"].to_numpy(dtype=float)
    y = tr(f["value"].to_numpy(dtype=float))
    ax.scatter(x, y, s=28, c=colours[status], edgecolors="white", linewidths=0.6, zorder=3)

    lab_tag = level_tag(label_level) if label_level is not None else tags[0]
    col = f"outside_{lab_tag}"
    if col not in f.columns:
        raise DataError(f"plot_funnel: the table has no limits at level {label_level}")
    name_of = _names(names, unit)
    cjk = setup_cjk_font() is not None
    flagged = f[col].isin(["above", "below"]).to_numpy(dtype=bool)
    for u, xi, yi in zip(f[unit].to_numpy()[flagged], x[flagged], y[flagged]):
        text = name_of.get(u, str(u)) if cjk else str(u)
        ax.annotate(text, (xi, yi), xytext=(4, 3), textcoords="offset points", fontsize=8, zorder=4)


def _label_axes(ax, measure: str, mult: float | None, *, lang: str | None = None) -> None:
    if measure == "male_share":
        ax.set_xlabel(label("出生数（男+女）", "Births (boys + girls)", lang=lang))
        ax.set_ylabel(label("出生人口性别比（女=100）", "Sex ratio at birth (boys per 100 girls)", lang=lang))
    elif measure == "ratio":
        ax.set_xlabel(label("期望数 E", "Expected count E", lang=lang))
        ax.set_ylabel(label("标化比 O/E", "Standardised ratio O/E", lang=lang))
    else:
        ax.set_xlabel(label("分母（例数 n）", "Denominator n", lang=lang))
        ax.set_ylabel(
            label("比例（%）", "Proportion (%)", lang=lang)
            if mult == 100
            else label("比例", "Proportion", lang=lang)
        )


def plot_bunching(
    data: pd.DataFrame,
    *,
    target: float,
    numerator: str = "policy_births",
    denominator: str = "births",
    rate: str | None = None,
    scale: float = 100.0,
    window: float | tuple[float, float] = 0.5,
    span: float = 3.0,
    bin_width: float | None = None,
    unit: str = "unit",
    title: str | None = None,
    ax=None,
    lang: str | None = None,
):
    """Histogram of rates around a target, the bunching windows shaded, the test annotated.

    Every row of ``data`` is pooled (filter the years first, e.g. 2014–2016); the test shown is
    :func:`assesskit.stats.quality.bunching` with ``by=None`` on the same rows and windows.

    Parameters
    ----------
    data : DataFrame
        One row per unit-year; not modified.
    target, numerator, denominator, rate, scale, window, unit
        As in :func:`~assesskit.stats.quality.bunching`.
    span : float
        Half-width of the range shown around the target, in the rate's unit (default 3).
    bin_width : float, optional
        Histogram bin width; bins are aligned on the target so that each window is a whole
        number of bins. Default: half the narrower window.
    title : str, optional
    ax : matplotlib Axes, optional
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.

    Returns
    -------
    matplotlib Axes
    """
    w_below, w_above = (float(window), float(window)) if np.isscalar(window) else map(float, window)
    res = bunching(
        data,
        target=target,
        numerator=numerator,
        denominator=denominator,
        rate=rate,
        scale=scale,
        window=(w_below, w_above),
        by=None,
        unit=unit,
    ).iloc[0]
    r, _source = _rates(data, numerator, denominator, rate, scale, "plot_bunching")
    missing = ~np.isfinite(r)
    years = data["year"] if "year" in data.columns else [None] * len(data)
    units = data[unit] if unit in data.columns else range(len(data))
    left = [f"{row_label(u, y)} — no rate" for u, y, m in zip(units, years, missing) if m]
    r = r[~missing]
    bw = float(bin_width) if bin_width else min(w_below, w_above) / 2
    k = int(np.ceil(span / bw))
    edges = target + bw * np.arange(-k, k + 1)
    if rate is None:  # rates from counts cannot exceed the scale: stop one bin after it
        edges = edges[edges <= max(scale + bw, target + w_above) + 1e-9]
    shown = (r >= edges[0]) & (r < edges[-1])

    ax = new_axes(ax)
    note_left_out(ax, left)
    if not r.size:
        nothing_to_draw(ax, "no unit-year has a rate", lang=lang)
    ax.axvspan(
        target - w_below,
        target,
        color="#2c6fbb",
        alpha=0.15,
        label=label(f"目标下方窗口 {w_below:g}", f"window below ({w_below:g})", lang=lang),
    )
    ax.axvspan(
        target,
        target + w_above,
        color="#c0392b",
        alpha=0.15,
        label=label(f"目标上方窗口 {w_above:g}", f"window above ({w_above:g})", lang=lang),
    )
    ax.hist(r[shown], bins=edges, color="#555555", edgecolor="white")
    ax.axvline(
        target, color="#c0392b", lw=1.2, label=label(f"目标 {target:g}", f"target {target:g}", lang=lang)
    )
    p = res["p_value"]
    p_text = "—" if not np.isfinite(p) else f"{p:.2g}" if p < 0.001 else f"{p:.3f}"
    text = label(
        f"下方 {res['n_below']}，上方 {res['n_above']}\n单侧二项检验 p = {p_text}",
        f"below {res['n_below']}, above {res['n_above']}\none-sided binomial p = {p_text}",
        lang=lang,
    )
    if (~shown).sum():
        text += label(
            f"\n范围外 {int((~shown).sum())} 个",
            f"\n{int((~shown).sum())} outside the range shown",
            lang=lang,
        )
    ax.text(0.02, 0.97, text, transform=ax.transAxes, va="top", ha="left", fontsize=8)
    unit_txt = "%" if scale == 100 else ""
    ax.set_xlabel(
        label(f"比率（{unit_txt or '单位同目标'}）", f"Rate ({unit_txt or 'as the target'})", lang=lang)
    )
    ax.set_ylabel(label("单位-年数", "Unit-years", lang=lang))
    years = f" {res['years']}" if "years" in res.index else ""
    ax.set_title(title or label(f"目标附近的聚集{years}", f"Bunching around the target{years}", lang=lang))
    ax.legend(fontsize=8, loc="upper right", frameon=False)
    return ax
