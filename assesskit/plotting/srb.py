"""Figures for the sex ratio at birth and for trends: ``plot_x(data, *, ax=None) -> Axes``.

- :func:`plot_srb_intervals` — one year's units with their SRB intervals against the normal
  band 103–107 and the national figure of that year (a forest plot);
- :func:`plot_srb_series` — SRB over the years per unit with intervals, the normal band and the
  official national series;
- :func:`plot_trend` — rates over the years per unit (with intervals when given) and each
  unit's trend-test result in the legend.

No file writes; text goes through :func:`assesskit.plotting.label` so Chinese renders (or falls
back to English when no CJK font exists).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from . import label, new_axes, note_left_out, nothing_to_draw, row_label

__all__ = ["plot_srb_intervals", "plot_srb_series", "plot_trend"]

_BAND_COLOUR = "#cfe8cf"
_FLAG_COLOUR = "#c0392b"
_BASE_COLOUR = "#2c6fbb"


def _name(u: object, names: Mapping[object, str] | None) -> str:
    return str(names.get(u, u)) if names else str(u)


def _national(national: pd.DataFrame | None | bool) -> pd.DataFrame | None:
    if national is False:
        return None
    from ..stats.proportions import national_srb

    return national_srb(None if national is True or national is None else national)


def _finite_upper(upper: np.ndarray, cap: float) -> np.ndarray:
    return np.where(np.isfinite(upper), upper, cap)


def _srb_reasons(d: pd.DataFrame, default: str) -> np.ndarray:
    """Why a row of a sex-ratio table has no estimate or no interval, from its counts."""
    n = len(d)

    def col(c: str) -> np.ndarray:
        return d[c].to_numpy(dtype=float) if c in d.columns else np.full(n, np.nan)

    m, f = col("male_births"), col("female_births")
    note = d["note"].astype(str).to_numpy() if "note" in d.columns else np.full(n, "")
    return np.select(
        [np.isnan(m) | np.isnan(f), (m == 0) & (f == 0), f == 0, note != ""],
        [
            "births by sex missing",
            "no births",
            "no female births: the sex ratio is undefined",
            note,
        ],
        default=default,
    )


def _left_out_lines(d: pd.DataFrame, unit: str, default: str) -> list[str]:
    """``"UNIT YEAR — why"`` for each row of ``d`` (a sex-ratio table)."""
    units = d[unit] if unit in d.columns else pd.Series(range(len(d)))
    years = d["year"] if "year" in d.columns else [None] * len(d)
    return [f"{row_label(u, y)} — {why}" for u, y, why in zip(units, years, _srb_reasons(d, default))]


def _draw_undefined(ax, d: pd.DataFrame, ypos: np.ndarray, start: np.ndarray, cap: float, unit: str) -> None:
    """Mark units without an SRB (no female births) at the start of their open interval and
    name them, with their lower limit, under the figure."""
    ax.plot(start, ypos, ">", color="black", ms=5, zorder=4)
    lines = _left_out_lines(d, unit, "no estimate")
    note_left_out(
        ax,
        [
            f"{line} (drawn as its lower limit {v:,.1f}, open to the right)"
            if v <= cap
            else f"{line} (its lower limit {v:,.1f} lies beyond the axis: drawn at the right edge {cap:.1f})"
            for line, v in zip(lines, d["srb_lower"])
        ],
    )


def _draw_national_year(ax, nat: pd.DataFrame | None, year: int | None, *, lang: str | None = None) -> None:
    """The national SRB of ``year`` as a dashed line (interpolated between published years)."""
    if nat is None or year is None or not len(nat) or not nat.year.min() <= year <= nat.year.max():
        return
    v = nat.loc[nat.year == year, "national_srb"]
    exact = len(v) > 0
    value = float(v.iloc[0]) if exact else float(np.interp(year, nat.year, nat.national_srb))
    zh = f"全国 {year} 年{'' if exact else '（插值）'}: {value:.2f}"
    en = f"national {year}{'' if exact else ' (interpolated)'}: {value:.2f}"
    ax.axvline(value, color="black", ls="--", lw=1, label=label(zh, en, lang=lang))


def plot_srb_intervals(
    table: pd.DataFrame,
    *,
    year: int | None = None,
    unit: str = "unit",
    names: Mapping[object, str] | None = None,
    band: tuple[float, float] = (103.0, 107.0),
    national: pd.DataFrame | bool | None = True,
    flag: str = "above_holm",
    highlight: Sequence[object] = (),
    ax=None,
    lang: str | None = None,
):
    """Forest plot of one year's SRB intervals against the normal band and the national figure.

    Parameters
    ----------
    table : DataFrame
        A :func:`assesskit.stats.proportions.sex_ratio` result (``unit``, ``year``, ``srb``,
        ``srb_lower``, ``srb_upper``; ``above_holm`` if present marks the flagged units in red).
    year : int, optional
        The year shown (default: the latest in ``table``).
    unit : str
        The unit column.
    names : mapping, optional
        Display names by unit id (e.g. the registry's Chinese names).
    band : (float, float)
        The normal range, shaded.
    national : DataFrame, bool or None
        True/None: the shipped official series; a frame: a custom series; False: none. The
        national figure for the year is drawn as a dashed line when it exists.
    flag : str
        Boolean column marking units to highlight (default ``above_holm``); ignored if absent.
    highlight : sequence, optional
        Units whose names are written in red (e.g. the unit whose page this is).
    ax : matplotlib Axes, optional
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.

    Notes
    -----
    Rows without an interval (no births, missing counts) are left out; a unit without female
    births has no SRB, only a lower limit, and is drawn as an open interval from that limit
    (or from the right edge when the limit lies beyond it). Both are listed by
    :func:`assesskit.plotting.left_out` with the reason.

    Returns
    -------
    matplotlib Axes
    """
    if "year" in table.columns:
        year = int(table["year"].max()) if year is None else year
        d = table[table["year"] == year]
    else:
        d = table
    ax = new_axes(ax, figsize=(7, max(2.5, 0.32 * len(d) + 1.2)))
    lo_all = d["srb_lower"].to_numpy(dtype=float)
    note_left_out(ax, _left_out_lines(d[~np.isfinite(lo_all)], unit, "no interval"))
    d = d[np.isfinite(lo_all)]
    srb = d["srb"].to_numpy(dtype=float)
    d = d.iloc[np.argsort(np.where(np.isfinite(srb), srb, np.inf), kind="stable")]
    lo = d["srb_lower"].to_numpy(dtype=float)
    mid = d["srb"].to_numpy(dtype=float)
    up_raw = d["srb_upper"].to_numpy(dtype=float)
    defined = np.isfinite(mid)
    edges = np.r_[up_raw[defined & np.isfinite(up_raw)], mid[defined], band[1]]
    cap = float(edges.max()) * 1.05
    # a unit without female births has no SRB, only a lower limit: drawn from it (or from the
    # right edge when it lies beyond) to the edge, and named under the figure
    start = np.minimum(lo, cap)
    mid = np.where(defined, mid, start)
    lo = np.minimum(lo, mid)
    up = np.maximum(_finite_upper(up_raw, cap), mid)
    flagged = d[flag].fillna(False).to_numpy(dtype=bool) if flag in d.columns else np.zeros(len(d), bool)
    ypos = np.arange(len(d))
    ax.axvspan(
        *band,
        color=_BAND_COLOUR,
        zorder=0,
        label=label(f"正常范围 {band[0]:g}–{band[1]:g}", f"normal range {band[0]:g}–{band[1]:g}", lang=lang),
    )
    for m, colour, text in (
        (~flagged, _BASE_COLOUR, label("出生人口性别比及95%置信区间", "SRB with 95% CI", lang=lang)),
        (
            flagged,
            _FLAG_COLOUR,
            label("显著高于107（Holm校正）", "significantly above 107 (Holm)", lang=lang),
        ),
    ):
        if m.any():
            ax.errorbar(
                mid[m],
                ypos[m],
                xerr=[mid[m] - lo[m], up[m] - mid[m]],
                fmt="o",
                color=colour,
                ecolor=colour,
                capsize=3,
                ms=4,
                label=text,
            )
    if (~defined).any():
        _draw_undefined(ax, d[~defined], ypos[~defined], start[~defined], cap, unit)
    if not len(d):
        nothing_to_draw(ax, "no unit has a sex ratio with an interval", lang=lang)
    _draw_national_year(ax, _national(national), year, lang=lang)
    ax.set_yticks(ypos, [_name(u, names) for u in d[unit]] if unit in d.columns else [str(i) for i in ypos])
    if unit in d.columns:
        marked = set(highlight)
        for tick, u in zip(ax.get_yticklabels(), d[unit]):
            tick.set_gid(f"unit:{u}")  # finds a unit's label again (no effect on the pixels)
            if u in marked:
                tick.set_color(_FLAG_COLOUR)
    ax.set_xlabel(label("出生人口性别比（女=100）", "sex ratio at birth (boys per 100 girls)", lang=lang))
    title_year = f" {year}" if year is not None else ""
    ax.set_title(label(f"出生人口性别比{title_year}", f"Sex ratio at birth{title_year}", lang=lang))
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_srb_series(
    table: pd.DataFrame,
    *,
    units: Sequence[object] | None = None,
    unit: str = "unit",
    names: Mapping[object, str] | None = None,
    band: tuple[float, float] = (103.0, 107.0),
    national: pd.DataFrame | bool | None = True,
    ax=None,
    lang: str | None = None,
):
    """SRB over the years per unit, with intervals, the normal band and the national series.

    Parameters
    ----------
    table : DataFrame
        A :func:`~assesskit.stats.proportions.sex_ratio` result with ``unit`` and ``year``.
    units : sequence, optional
        Units to draw (default all; keep it to a handful for a readable figure).
    unit : str
        The unit column.
    names : mapping, optional
        Display names by unit id.
    band : (float, float)
        The normal range, shaded.
    national : DataFrame, bool or None
        True/None: the shipped official series (drawn over the table's years); a frame: a
        custom series; False: none.
    ax : matplotlib Axes, optional
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.

    Returns
    -------
    matplotlib Axes
        Unit-years without an SRB (no births, no female births) are left out and listed by
        :func:`assesskit.plotting.left_out`.
    """
    ax = new_axes(ax)
    d = table if units is None else table[table[unit].isin(list(units))]
    years = d["year"].to_numpy(dtype=float)
    ax.axhspan(
        *band,
        color=_BAND_COLOUR,
        zorder=0,
        label=label(f"正常范围 {band[0]:g}–{band[1]:g}", f"normal range {band[0]:g}–{band[1]:g}", lang=lang),
    )
    order = list(units) if units is not None else list(pd.unique(d[unit]))
    n = max(len(order), 1)
    offsets = (np.arange(n) - (n - 1) / 2) * min(0.08, 0.6 / n)  # dodge the intervals
    finite_up = d["srb_upper"].to_numpy(dtype=float)
    finite_up = finite_up[np.isfinite(finite_up)]
    cap = float(finite_up.max()) * 1.05 if finite_up.size else band[1] * 1.5
    for off, u in zip(offsets, order):
        s = d[d[unit] == u].sort_values("year")
        mid = s["srb"].to_numpy(dtype=float)
        ok = np.isfinite(mid)
        note_left_out(ax, _left_out_lines(s[~ok], unit, "no estimate"))
        lo = np.minimum(s["srb_lower"].to_numpy(dtype=float), mid)
        up = np.maximum(_finite_upper(s["srb_upper"].to_numpy(dtype=float), cap), mid)
        ax.errorbar(
            s["year"].to_numpy(dtype=float)[ok] + off,
            mid[ok],
            yerr=[np.nan_to_num(mid[ok] - lo[ok]), np.nan_to_num(up[ok] - mid[ok])],
            fmt="o-",
            capsize=2,
            ms=3,
            lw=1,
            label=_name(u, names),
        )
    if not np.isfinite(d["srb"].to_numpy(dtype=float)).any():
        nothing_to_draw(ax, "no unit-year has a sex ratio", lang=lang)
    nat = _national(national)
    if nat is not None and years.size:
        s = nat[(nat.year >= years.min()) & (nat.year <= years.max())]
        if len(s):
            ax.plot(
                s.year,
                s.national_srb,
                color="black",
                lw=2.2,
                ls="--",
                marker="s",
                ms=4,
                label=label("全国（官方）", "national (official)", lang=lang),
            )
    ax.set_xlabel(label("年份", "year", lang=lang))
    ax.set_ylabel(label("出生人口性别比（女=100）", "sex ratio at birth (boys per 100 girls)", lang=lang))
    ax.set_title(label("出生人口性别比及95%置信区间", "Sex ratio at birth with 95% intervals", lang=lang))
    if years.size:
        ax.set_xticks(np.unique(years).astype(int))
    ax.legend(fontsize="small", ncol=2 if n > 6 else 1)
    return ax


def _test_text(row: pd.Series, *, lang: str | None = None) -> str:
    """A short description of one trend-test row (Mann–Kendall, Cochran–Armitage or logistic)."""
    p = row.get("p_value", np.nan)
    if pd.isna(p):
        return label("无检验", "no test", lang=lang)
    ptxt = f"p={p:.2g}" if p >= 1e-4 else "p<0.0001"
    if "S" in row.index:
        meth = row.get("method") or ""
        return f"S={int(row['S'])}, {ptxt}" + (f" ({meth})" if meth else "")
    if "odds_ratio" in row.index:
        return f"OR/{label('年', 'yr', lang=lang)}={row['odds_ratio']:.3f}, {ptxt}"
    if "z" in row.index:
        return f"z={row['z']:.2f}, {ptxt}"
    return ptxt


def _test_kind(test: pd.DataFrame | None) -> tuple[str, str]:
    if test is None:
        return "", ""
    if "S" in test.columns:
        return "（Mann–Kendall）", " (Mann–Kendall)"
    if "odds_ratio" in test.columns:
        return "（logistic 回归）", " (logistic regression on year)"
    if "statistic" in test.columns and "z" in test.columns:
        return "（Cochran–Armitage）", " (Cochran–Armitage)"
    return "", ""


def plot_trend(
    rates: pd.DataFrame,
    test: pd.DataFrame | None = None,
    *,
    value: str = "estimate",
    unit: str | None = "unit",
    year: str = "year",
    lower: str | None = "ci_lower",
    upper: str | None = "ci_upper",
    units: Sequence[object] | None = None,
    names: Mapping[object, str] | None = None,
    ylabel: str | None = None,
    ax=None,
    lang: str | None = None,
):
    """Rates over the years per unit, with intervals, and each unit's trend test in the legend.

    Parameters
    ----------
    rates : DataFrame
        One row per unit and year, e.g. a :func:`~assesskit.stats.proportions.proportion_ci`
        result (``estimate``, ``ci_lower``, ``ci_upper``) or any table with a rate column.
    test : DataFrame, optional
        A :func:`~assesskit.stats.trends.mann_kendall`, :func:`~assesskit.stats.trends.cochran_armitage`
        or :func:`~assesskit.stats.trends.logistic_trend` result for the same units (one row per
        unit, or a single row when ``unit`` is None); its S / z / odds ratio and p-value are
        appended to each legend entry.
    value, year : str
        The plotted columns.
    unit : str or None
        The unit column; None: the table is one series.
    lower, upper : str or None
        Interval columns, drawn as a shaded band when present.
    units : sequence, optional
        Units to draw (default all).
    names : mapping, optional
        Display names by unit id.
    ylabel : str, optional
        The y-axis label (default the column name).
    ax : matplotlib Axes, optional
    lang : {"bilingual", "zh", "en"}, optional
        Language of the figure's text (:mod:`assesskit.i18n`): ``en`` English; ``zh`` and
        the default Chinese when a CJK font is installed, else English.

    Returns
    -------
    matplotlib Axes
        Years without a finite rate are gaps in their line, listed (with the table's ``note``
        when it has one) by :func:`assesskit.plotting.left_out`.
    """
    ax = new_axes(ax)
    d = rates if (units is None or unit is None) else rates[rates[unit].isin(list(units))]
    groups = (
        [(None, d)]
        if unit is None
        else [(u, d[d[unit] == u]) for u in (list(units) if units is not None else list(pd.unique(d[unit])))]
    )
    tests: dict[object, pd.Series] = {}
    if test is not None and len(test):
        if unit is None or unit not in test.columns:
            tests[None] = test.iloc[0]
        else:
            tests = {u: r for u, (_, r) in zip(test[unit], test.iterrows())}
    for u, s in groups:
        s = s.sort_values(year)
        x = s[year].to_numpy(dtype=float)
        yv = s[value].to_numpy(dtype=float)
        text = label("全部", "all", lang=lang) if u is None else _name(u, names)
        if u in tests:
            text = f"{text}: {_test_text(tests[u], lang=lang)}"
        bad = ~np.isfinite(yv)
        if bad.any():
            why = s["note"].astype(str).to_numpy()[bad] if "note" in s.columns else np.full(bad.sum(), "")
            note_left_out(
                ax,
                [
                    f"{row_label('all units' if u is None else u, yr)} — {w or 'no value'}"
                    for yr, w in zip(x[bad], why)
                ],
            )
        (line,) = ax.plot(x, yv, "o-", ms=3, lw=1.2, label=text)
        if lower and upper and lower in s.columns and upper in s.columns:
            ax.fill_between(
                x,
                s[lower].to_numpy(dtype=float),
                s[upper].to_numpy(dtype=float),
                color=line.get_color(),
                alpha=0.15,
                lw=0,
            )
    years = d[year].to_numpy(dtype=float)
    if years.size:
        ax.set_xticks(np.unique(years[np.isfinite(years)]).astype(int))
    ax.set_xlabel(label("年份", "year", lang=lang))
    ax.set_ylabel(ylabel or value)
    kind_zh, kind_en = _test_kind(test)
    ax.set_title(label(f"趋势与检验{kind_zh}", f"Trend and test{kind_en}", lang=lang))
    if not np.isfinite(d[value].to_numpy(dtype=float)).any():
        nothing_to_draw(ax, f"no finite {value}", lang=lang)
    ax.legend(fontsize="small", ncol=2 if len(groups) > 8 else 1)
    return ax
