"""What the report notebooks call: a cached scoring context and the blocks of each page.

The notebooks in ``notebooks/`` stay thin: a ``parameters`` cell, then one call per section,
each returning an :class:`Html` block (tables and figures, figures embedded as PNG data
URIs). Everything here is deterministic: the same inputs give byte-identical blocks, which
is what lets the runner reuse a warm kernel and still produce the pages a fresh kernel
would.

What each page reads (the runner's incremental rebuild relies on it; see
:mod:`assesskit.report.runner`):

- a **unit page** (unit u, year y) reads u's own rows in every year (its trend, its
  compliance and sex-ratio series, its data-quality checks) and every unit's rows of year y
  (rank of N, peer median, the sex-ratio peers and their Holm family) — plus year y − 1 when
  the scheme has change rules, whose points depend on the previous year;
- an **annual overview** (year y) reads every row up to year y (its trend tests run over
  the years up to y);
- a **scheme comparison** (year y) reads the rows of year y (and y − 1 for change rules).

Each block therefore computes its statistics on exactly those rows
(:meth:`ReportContext.rows_of_unit`, :meth:`ReportContext.rows_of_year`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .._io import sha256
from ..data import Panel, read_panel, read_table
from ..exceptions import AssessKitError, ReportError, SchemeError
from ..scheme import Scheme, load_scheme, parse_scheme, resolve_scheme_path
from ..scoring import ScoreResult, score_panel

__all__ = [
    "ComparisonPage",
    "Html",
    "OverviewPage",
    "ReportContext",
    "UnitPage",
    "load_context",
    "load_scheme_variant",
    "page_stem",
    "table_html",
]

PER_UNIT_RULES = frozenset({"threshold", "linear", "bands", "range", "change", "graded", "per_case"})
"""Rule types whose points depend on the unit's own row only (and the previous year for
``change``). A scheme with any other rule type (e.g. a normalisation over units) makes every
unit's score depend on the other units: its unit pages then depend on all rows."""

FIG_DPI = 80
RESERVED_STEMS = frozenset({"index", "overview", "manifest"})


# --------------------------------------------------------------------------- html blocks
class Html:
    """A block of HTML shown as one notebook output (``text/html``).

    Its plain-text form is a short placeholder, so the executed notebook does not carry
    every table twice.
    """

    def __init__(self, body: str, summary: str = "assesskit report block") -> None:
        self.html = body
        self.summary = summary

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<{self.summary}>"

    def __str__(self) -> str:
        return self.html

    def __add__(self, other: Html) -> Html:
        return Html(self.html + other.html, self.summary)


def esc(value: object) -> str:
    """HTML-escape any value (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(v: object, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA:
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.{digits}f}".rstrip("0").rstrip(".") if digits else f"{float(v):.0f}"
    return str(v)


def table_html(
    df: pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    *,
    digits: Mapping[str, int] | int = 2,
    classes: str = "ak-table",
    highlight: pd.Series | np.ndarray | None = None,
    links: Mapping[int, str] | None = None,
    link_column: str | None = None,
    empty: str = "nothing to show",
) -> Html:
    """An escaped HTML table of ``df``.

    Parameters
    ----------
    df : DataFrame
        The rows to show (not modified).
    columns : mapping, optional
        Column → header; only these columns are shown, in this order.
    digits : int or mapping
        Decimals for float columns (per column or for all).
    highlight : boolean array, optional
        Rows to mark (class ``hl``).
    links, link_column : optional
        Row position → relative URL, applied to the cells of ``link_column``.
    """
    if df is None or len(df) == 0:
        return Html(f'<p class="ak-empty">{esc(empty)}</p>')
    cols = dict(columns) if columns is not None else {c: c for c in df.columns}
    cols = {c: h for c, h in cols.items() if c in df.columns}
    cells = {}
    for c in cols:
        d = digits.get(c, 2) if isinstance(digits, Mapping) else digits
        s = df[c]
        if pd.api.types.is_float_dtype(s.dtype):
            vals = s.to_numpy(dtype=float)
            text = np.where(np.isfinite(vals), np.char.mod(f"%.{d}f", np.nan_to_num(vals)), "—")
            cells[c] = [esc(t) for t in text]
        else:
            cells[c] = [esc(_fmt(v)) for v in s.astype(object).where(s.notna(), None)]
    if links and link_column in cells:
        cells[link_column] = [
            f'<a href="{esc(links[i])}">{t}</a>' if i in links else t
            for i, t in enumerate(cells[link_column])
        ]
    hl = np.zeros(len(df), bool) if highlight is None else np.asarray(highlight, dtype=bool)
    head = "".join(f"<th>{esc(h)}</th>" for h in cols.values())
    opener = np.where(hl, '<tr class="hl">', "<tr>")
    rows = [opener[i] + "".join(f"<td>{cells[c][i]}</td>" for c in cols) + "</tr>" for i in range(len(df))]
    return Html(
        f'<table class="{esc(classes)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def figure_html(fig, alt: str) -> Html:
    """Render a matplotlib figure (or the figure of an Axes) to an embedded PNG and close it.

    The PNG carries no version metadata (so pages are byte-identical across runs). Under the
    image, a note lists what the figure left out and why
    (:func:`assesskit.plotting.left_out`), so odd data is never dropped silently.
    """
    import matplotlib.pyplot as plt

    from ..plotting import left_out

    fig = getattr(fig, "figure", fig)
    missing = [line for ax in fig.axes for line in left_out(ax)]
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIG_DPI, metadata={"Software": None})
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    caption = (
        '<figcaption class="ak-left-out">left out: ' + "; ".join(esc(x) for x in missing) + "</figcaption>"
        if missing
        else ""
    )
    return Html(
        f'<figure class="ak-fig"><img alt="{esc(alt)}" src="data:image/png;base64,{data}">{caption}</figure>'
    )


def _plot_safe(text: object) -> str:
    """Text for a matplotlib label: ``$`` would start mathtext, so it is escaped."""
    return str(text).replace("$", r"\$")


def note(text: str, cls: str = "ak-note") -> Html:
    return Html(f'<p class="{cls}">{esc(text)}</p>')


def page_stem(unit: str) -> str:
    """A file-name stem for a unit id that cannot leave its folder or collide.

    Letters (any script), digits, ``-`` and ``_`` are kept, everything else becomes ``_``;
    when anything was changed, or the id is a reserved name (``index``, ``overview``…) or
    starts with ``compare-``, a short hash of the id is appended, so ``../x`` → ``___x-…``
    and two different ids never share a file.
    """
    raw = str(unit)
    stem = "".join(ch if (ch.isalnum() or ch in "-_") else "_" for ch in raw)[:80] or "_"
    if stem != raw or stem.lower() in RESERVED_STEMS or stem.lower().startswith("compare-"):
        stem = f"{stem}-{hashlib.sha1(raw.encode('utf-8')).hexdigest()[:8]}"
    return stem


# --------------------------------------------------------------------------- context
def load_scheme_variant(scheme: str | os.PathLike, set_: Mapping[str, Any] | None = None) -> Scheme:
    """A scheme, or a variant of it with some top-level keys replaced.

    Parameters
    ----------
    scheme : str or path
        A bundled scheme id or a scheme file.
    set_ : mapping, optional
        Top-level keys to replace before validation, e.g. ``{"vetoes": []}`` (the same
        scheme without its vetoes). The variant is validated like any scheme file.
    """
    if not set_:
        return load_scheme(scheme)
    path = resolve_scheme_path(scheme)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ReportError(f"{path}: cannot read the scheme ({exc})") from None
    if not isinstance(raw, dict):
        raise ReportError(f"{path}: a scheme file must be a mapping of keys")
    raw = {**raw, **dict(set_)}
    return parse_scheme(raw, where=f"{path} (variant: set {', '.join(sorted(set_))})")


def _truthy(s: pd.Series) -> np.ndarray:
    if s.dtype == bool:
        return s.to_numpy()
    txt = s.astype(str).str.strip().str.lower()
    return txt.isin(["true", "1", "yes", "y", "t"]).to_numpy()


@dataclass(frozen=True, eq=False)
class ReportContext:
    """Everything a report page needs, computed once per scheme and inputs.

    Attributes
    ----------
    scheme : Scheme
    result : ScoreResult
        The scheme scored on every year of the panel it can score.
    panel : Panel
        The validated inputs (``panel.data`` holds every year, history included).
    registry : DataFrame
        The unit registry as given (``unit``, ``name``…, ``synthetic`` when present).
    synthetic : bool
        True when any registry row says ``synthetic``.
    """

    scheme: Scheme
    result: ScoreResult
    panel: Panel
    registry: pd.DataFrame
    synthetic: bool

    @cached_property
    def names(self) -> dict[str, str]:
        """Unit id → display name (the id when the registry has no name)."""
        d = self.panel.data.drop_duplicates("unit")
        return dict(zip(d["unit"].astype(str), d["name"].astype(str)))

    @cached_property
    def plot_names(self) -> dict[str, str]:
        """Names for figures: the registry's (Chinese) names when a CJK font is available,
        else the unit ids (so no glyph is ever missing)."""
        from ..plotting import setup_cjk_font

        cjk = setup_cjk_font() is not None
        return {u: _plot_safe(n if cjk else u) for u, n in self.names.items()}

    @property
    def summary(self) -> pd.DataFrame:
        return self.result.summary

    @property
    def data(self) -> pd.DataFrame:
        return self.panel.data

    @cached_property
    def years(self) -> list[int]:
        """The scored years."""
        return sorted(int(y) for y in self.summary["year"].unique())

    @cached_property
    def has_change_rules(self) -> bool:
        return any(it.rule.type == "change" for _p, it in self.scheme.flat_items)

    @cached_property
    def cross_unit(self) -> bool:
        """True when some rule's points depend on other units (not a per-unit rule type)."""
        return any(it.rule.type not in PER_UNIT_RULES for _p, it in self.scheme.flat_items)

    def rows_of_year(self, year: int, *, upto: bool = False) -> pd.DataFrame:
        """Panel rows of one year (or of every year up to it)."""
        d = self.data
        return d[d["year"] <= year] if upto else d[d["year"] == year]

    def rows_of_unit(self, unit: str) -> pd.DataFrame:
        """Panel rows of one unit, every year."""
        return self.data[self.data["unit"] == unit]

    def has(self, *columns: str) -> bool:
        return all(c in self.data.columns for c in columns)

    def label_of(self, table: str, id_: str) -> str:
        """Label of an award tier, single award or warning id."""
        o = self.scheme.outcomes
        pool = {"award": o.tiers, "single_awards": o.single_awards, "warning": o.warnings}[table]
        found = {x.id: x.label for x in pool}
        return "; ".join(found.get(p.strip(), p.strip()) for p in str(id_).split(";") if p.strip())

    def link(self, unit: str) -> str:
        """Relative link from a page of a year to the unit's page of the same year."""
        return f"{page_stem(unit)}.html"


_CACHE: OrderedDict[tuple, ReportContext] = OrderedDict()
_CACHE_SIZE = 6


def _file_key(path: str | os.PathLike | None) -> tuple | None:
    if path is None:
        return None
    p = Path(path)
    try:
        return (str(p.resolve()), sha256(p))
    except OSError:
        return (str(p), None)  # reading it reports the problem


def load_context(
    scheme: str | os.PathLike,
    data: str | os.PathLike,
    *,
    units: str | os.PathLike | None = None,
    targets: str | os.PathLike | None = None,
    grades: str | os.PathLike | None = None,
    variant: Mapping[str, Any] | None = None,
) -> ReportContext:
    """Load, validate and score once; later calls with the same file contents reuse it.

    The cache is keyed by each file's SHA-256 (not its name or time), so a changed file is
    always read again. Results are never modified by the pages, so sharing them between
    notebooks of one kernel is safe.

    Parameters
    ----------
    scheme : str or path
        Bundled scheme id or scheme file.
    data, units, targets, grades : path
        The panel and optional registry, targets and grades (see :func:`assesskit.score`).
    variant : mapping, optional
        Top-level scheme keys to replace (see :func:`load_scheme_variant`).
    """
    key = (
        _file_key(resolve_scheme_path(scheme)),
        json.dumps(variant or {}, sort_keys=True, default=str),
        _file_key(data),
        _file_key(units),
        _file_key(targets),
        _file_key(grades),
    )
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    s = load_scheme_variant(scheme, variant)
    tables = {r: read_table(p) for r, p in (("units", units), ("targets", targets), ("grades", grades)) if p}
    panel = read_panel(s, read_table(data), **tables)
    res = score_panel(s, panel)
    if "units" in tables:
        registry = tables["units"].frame.copy()
        registry["unit"] = registry["unit"].astype(str)
    else:
        registry = panel.data[["unit", "name"]].drop_duplicates("unit").reset_index(drop=True)
    synthetic = bool("synthetic" in registry.columns and _truthy(registry["synthetic"]).any())
    ctx = ReportContext(scheme=s, result=res, panel=panel, registry=registry, synthetic=synthetic)
    _CACHE[key] = ctx
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return ctx


# --------------------------------------------------------------------------- shared pieces
def _policy_target(ctx: ReportContext, year: int) -> float | None:
    """The target of the scheme's policy-compliance item (the median over units), if any."""
    inds = {
        i
        for i, ind in ctx.scheme.indicators.items()
        if ind.is_rate and list(ind.numerator) == ["policy_births"] and list(ind.denominator) == ["births"]
    }
    items = [it.id for _p, it in ctx.scheme.flat_items if it.rule.indicator in inds]
    if not items:
        return None
    it = ctx.result.items
    t = it.loc[(it["year"] == year) & it["item"].isin(items), "target"].astype(float)
    t = t[np.isfinite(t)]
    return float(t.median()) if len(t) else None


def _sections(ctx: ReportContext, items: pd.DataFrame) -> pd.DataFrame:
    """Points per top-level section (the first node below the line), per unit-year."""
    it = items[items["section"] != "adjustments"]
    top = it["section"].str.split(" › ").str[0]
    node = top.where(top.str.len() > 0, it["item"])
    nodes = ctx.scheme.nodes
    labels = {n: (nodes[n].label if n in nodes else n) for n in pd.unique(node)}
    labels_en = {n: ((nodes[n].label_en or n) if n in nodes else n) for n in pd.unique(node)}
    g = (
        it.assign(node=node)
        .groupby(["unit", "year", "line", "node"], sort=False, as_index=False)[["points", "max_points"]]
        .sum()
    )
    g["label"] = g["node"].map(labels)
    g["label_en"] = g["node"].map(labels_en)
    g["share"] = g["points"] / g["max_points"].where(g["max_points"] > 0)
    return g


def _items_of(ctx: ReportContext, year: int) -> pd.DataFrame:
    it = ctx.result.items
    return it[it["year"] == year]


# --------------------------------------------------------------------------- unit page
class UnitPage:
    """The blocks of one unit's report for one year.

    Parameters
    ----------
    ctx : ReportContext
    unit : str
        The unit id (as in the panel).
    year : int
    """

    def __init__(self, ctx: ReportContext, unit: str, year: int) -> None:
        self.ctx, self.unit, self.year = ctx, str(unit), int(year)
        s = ctx.summary
        row = s[(s["unit"] == self.unit) & (s["year"] == self.year)]
        if row.empty:
            raise ReportError(f"{self.unit} {self.year}: no scored row for this unit and year in the panel")
        self.row = row.iloc[0]
        self.name = ctx.names.get(self.unit, self.unit)

    # ---- header
    def header(self) -> Html:
        """Title: name, id, scheme, year, kind and category."""
        r, s = self.row, self.ctx.scheme
        kind = s.kinds[r["kind"]].label if r["kind"] in s.kinds else r["kind"]
        cat = r.get("category")
        cat = cat if isinstance(cat, str) else ""
        cat_txt = s.categories[cat].label if cat in s.categories else cat
        bits = [f"{self.year} 年", kind] + ([cat_txt] if cat_txt else [])
        return Html(
            f'<header class="ak-title"><h1>{esc(self.name)} <small>{esc(self.unit)}</small></h1>'
            f"<p>{esc(s.label)} · {esc(' · '.join(bits))}</p></header>"
        )

    # ---- score card
    def score_card(self) -> Html:
        """Total, line totals, rank of N, awards, veto and eligibility."""
        r, ctx = self.row, self.ctx
        s = ctx.summary
        peers = s[(s["year"] == self.year) & (s["kind"] == r["kind"])]
        rows: list[tuple[str, str]] = []
        if r["not_scored"]:
            rows.append(("总分 total", f"not scored: {r['veto_reason']}"))
        else:
            rows.append(("总分 total", f"{_fmt(r['total'])} / {_fmt(r['max_total'])}"))
        if pd.isna(r["rank"]):
            rank = f"— (out of the ranking of {int(r['n_ranked'])})" if pd.notna(r["n_ranked"]) else "—"
        else:
            rank = f"{int(r['rank'])} of {int(r['n_ranked'])}"
        rows.append(("名次 rank (same kind, same year)", rank))
        cat = r.get("category")
        if (
            isinstance(cat, str)
            and cat
            and "rank_in_category" in s.columns
            and pd.notna(r["rank_in_category"])
        ):
            n_cat = int(
                (peers["category"] == cat).sum() - peers.loc[peers["category"] == cat, "rank"].isna().sum()
            )
            rows.append(("类别内名次 rank in category", f"{int(r['rank_in_category'])} of {n_cat}"))
        for ln in ctx.scheme.lines:
            col = f"line_{ln.id}"
            if col in s.columns and pd.notna(r[col]):
                rk = r.get(f"rank_{ln.id}")
                rk_txt = "" if rk is None or pd.isna(rk) else f" (rank {int(rk)})"
                rows.append((f"{ln.label}", f"{_fmt(r[col])} / {_fmt(ln.points)}{rk_txt}"))
        if r["bonus"]:
            rows.append(("加分 bonus", f"+{_fmt(r['bonus'])}"))
        if r["deduction"]:
            rows.append(("扣分 deduction", f"−{_fmt(r['deduction'])}"))
        award = ctx.label_of("award", r["award"]) if r["award"] else "none"
        if r.get("prize") and r["prize"] > 0:
            award += f" (prize {r['prize']:,.0f})"
        rows.append(("奖项 award", award))
        if r["single_awards"]:
            rows.append(("单项奖 single-item awards", ctx.label_of("single_awards", r["single_awards"])))
        if r["warning"]:
            rows.append(("警告 warning", ctx.label_of("warning", r["warning"])))
        if r["veto"]:
            rows.append(("一票否决 veto", f"yes: {r['veto_reason']}"))
        elif r["ineligible_reason"]:
            rows.append(("取消评优 ineligible for awards", r["ineligible_reason"]))
        cls = " ak-veto" if r["veto"] or r["not_scored"] else ""
        body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
        return Html(f'<table class="ak-card{cls}">{body}</table>')

    # ---- items
    def items(self) -> Html:
        """Every item with points, value, target, status and the reason for lost points."""
        it = self.ctx.result.items
        d = it[(it["unit"] == self.unit) & (it["year"] == self.year)]
        nodes = self.ctx.scheme.nodes
        path = d["line"].where(d["section"].str.len() == 0, d["line"] + " › " + d["section"])
        labels = {
            pth: " › ".join(nodes[n].label if n in nodes else n for n in str(pth).split(" › ") if n)
            for pth in pd.unique(path)
        }
        d = d.assign(where=path.map(labels), why=np.where(d["status"] == "met", "", d["reason"]))
        lost = (d["lost"].fillna(0) > 0).to_numpy()
        head = note(
            f"{int(lost.sum())} of {len(d)} entries lost points: {_fmt(float(d['lost'].fillna(0).sum()))} points in all."
        )
        return head + table_html(
            d,
            {
                "where": "line › section",
                "label": "item",
                "points": "points",
                "max_points": "max",
                "value": "value",
                "target": "target",
                "status": "status",
                "why": "reason for lost points",
            },
            digits={"points": 1, "max_points": 1, "value": 2, "target": 2},
            highlight=lost,
        )

    # ---- sections vs peers
    def sections(self) -> Html:
        """Each section's share of its maximum, against the median of the unit's peers."""
        from ..plotting import label, new_axes

        r = self.row
        items = _items_of(self.ctx, self.year)
        items = items[items["kind"] == r["kind"]]
        g = _sections(self.ctx, items)
        med = g.groupby(["line", "node"], sort=False, as_index=False)["share"].median()
        own = g[g["unit"] == self.unit].merge(med, on=["line", "node"], suffixes=("", "_peer_median"))
        if own.empty:
            return note("no section scores for this unit-year")
        own = own.assign(difference=own["share"] - own["share_peer_median"])
        ax = new_axes(figsize=(7, 0.32 * len(own) + 1.3))
        y = np.arange(len(own))[::-1]
        ax.barh(
            y + 0.2,
            own["share"] * 100,
            height=0.4,
            color="#2c6fbb",
            label=self.ctx.plot_names.get(self.unit, self.unit),
        )
        ax.barh(
            y - 0.2,
            own["share_peer_median"] * 100,
            height=0.4,
            color="#bbbbbb",
            label=label("同类中位数", "peer median"),
        )
        ax.set_yticks(y, [_plot_safe(label(zh, en)) for zh, en in zip(own["label"], own["label_en"])])
        ax.set_xlabel(label("得分率 %", "share of maximum, %"))
        ax.set_xlim(0, 105)
        ax.legend(loc="lower right", fontsize="small")
        ax.set_title(label(f"{self.year} 年各部分得分率", f"Sections, {self.year}"))
        fig = figure_html(ax.figure, f"sections of {self.name} against the peer median")
        tab = table_html(
            own.assign(
                share=own["share"] * 100,
                share_peer_median=own["share_peer_median"] * 100,
                difference=own["difference"] * 100,
            ),
            {
                "label": "section",
                "points": "points",
                "max_points": "max",
                "share": "share %",
                "share_peer_median": "peer median %",
                "difference": "difference (pp)",
            },
            digits=1,
            highlight=(own["difference"] < 0).to_numpy(),
        )
        return fig + tab

    # ---- trend of the unit's own score
    def trend(self) -> Html:
        """The unit's total and line totals over the scored years (its own rows only)."""
        from ..plotting import label, new_axes

        s = self.ctx.summary
        d = s[s["unit"] == self.unit].sort_values("year")
        line_cols = [f"line_{ln.id}" for ln in self.ctx.scheme.lines if d[f"line_{ln.id}"].notna().any()]
        cols = {"year": "year", "total": "total", "max_total": "max", **{c: c[5:] for c in line_cols}}
        cols.update({"bonus": "bonus", "deduction": "deduction"})
        tab = table_html(d, cols, digits=1, highlight=(d["year"] == self.year).to_numpy())
        if len(d) < 2:
            return note("Only one scored year: no trend to show.") + tab
        ax = new_axes(figsize=(6, 3))
        share = d["total"] / d["max_total"] * 100
        ax.plot(d["year"], share, "o-", color="#2c6fbb")
        ax.set_xticks(d["year"].astype(int).tolist())
        ax.set_ylabel(label("总分占满分 %", "total, % of maximum"))
        ax.set_title(label("总分趋势", "Total over the years"))
        return figure_html(ax.figure, f"total of {self.name} over the years") + tab

    # ---- sex ratio at birth
    def srb(self) -> Html:
        """The unit's SRB series with intervals (own rows), and this year among its peers."""
        from ..plotting.srb import plot_srb_intervals, plot_srb_series
        from ..stats.proportions import compare_with_national, sex_ratio

        ctx = self.ctx
        if not ctx.has("male_births", "female_births"):
            return note("The panel has no male_births / female_births columns: no sex ratio at birth.")
        # one family: the own series shows raw p-values (Holm is stated for this year below)
        own = compare_with_national(sex_ratio(ctx.rows_of_unit(self.unit), family=None))
        peers = sex_ratio(ctx.rows_of_year(self.year))
        this = peers[peers["unit"] == self.unit]
        ax = plot_srb_series(own, units=[self.unit], names=ctx.plot_names)
        out = figure_html(ax.figure, f"sex ratio at birth of {self.name} over the years")
        ax = plot_srb_intervals(peers, year=self.year, names=ctx.plot_names)
        me = ctx.plot_names.get(self.unit, self.unit)
        for t in ax.get_yticklabels():
            if t.get_text() == me:
                t.set_color("#c0392b")
        out += figure_html(ax.figure, f"sex ratio at birth of the units in {self.year}")
        if len(this):
            t = this.iloc[0]
            flag = {True: "significantly above 107 (Holm)", False: "not significantly above 107 (Holm)"}.get(
                None if pd.isna(t["above_holm"]) else bool(t["above_holm"]), "not tested"
            )
            out += note(
                f"{self.year}: SRB {_fmt(t['srb'])} (95% CI {_fmt(t['srb_lower'])}–{_fmt(t['srb_upper'])}), "
                f"{_fmt(t['births'], 0)} births; {flag}, adjusted over the {len(peers)} units of the year."
            )
        return out + table_html(
            own,
            {
                "year": "year",
                "births": "births",
                "srb": "SRB",
                "srb_lower": "lower",
                "srb_upper": "upper",
                "p_above": "p (one-sided, > 107)",
                "national_srb": "national",
                "vs_national": "vs national",
                "note": "note",
            },
            digits={"srb": 1, "srb_lower": 1, "srb_upper": 1, "p_above": 4, "national_srb": 2, "births": 0},
            highlight=(own["year"] == self.year).to_numpy(),
        )

    # ---- compliance
    def compliance(self) -> Html:
        """Policy compliance over the years with its interval and the trend tests (own rows)."""
        from ..plotting import label
        from ..plotting.srb import plot_trend
        from ..stats.proportions import proportion_ci
        from ..stats.trends import cochran_armitage, mann_kendall

        ctx = self.ctx
        if not ctx.has("policy_births", "births"):
            return note("The panel has no policy_births / births columns: no compliance trend.")
        rows = ctx.rows_of_unit(self.unit)
        rates = proportion_ci(rows, "policy_births", "births", scale=100)
        ca = cochran_armitage(rows, "policy_births", "births")
        mk = mann_kendall(rates, "estimate")
        ax = plot_trend(
            rates, ca, names=ctx.plot_names, ylabel=label("出生政策符合率 %", "policy compliance, %")
        )
        out = figure_html(ax.figure, f"policy compliance of {self.name} over the years")
        tests = pd.concat(
            [
                ca.assign(
                    test="Cochran–Armitage (counts)", statistic_txt=ca["z"].map(lambda z: f"z = {z:.2f}")
                ),
                mk.assign(test="Mann–Kendall (rates)", statistic_txt=mk["S"].map(lambda s: f"S = {s:.0f}")),
            ],
            ignore_index=True,
        )
        out += table_html(
            tests,
            {
                "test": "test",
                "statistic_txt": "statistic",
                "p_value": "p",
                "direction": "direction",
                "note": "note",
            },
            digits={"p_value": 4},
        )
        return out + table_html(
            rates,
            {
                "year": "year",
                "successes": "policy births",
                "trials": "births",
                "estimate": "%",
                "ci_lower": "lower",
                "ci_upper": "upper",
            },
            digits={"estimate": 2, "ci_lower": 2, "ci_upper": 2, "successes": 0, "trials": 0},
            highlight=(rates["year"] == self.year).to_numpy(),
        )

    # ---- data quality
    def quality(self) -> Html:
        """Flags from the unit's own rows: small counts, count arithmetic, reported vs
        computed rates, targets met by a narrow margin, missing values."""
        from ..stats.quality import count_consistency, rate_consistency

        ctx = self.ctx
        rows = ctx.rows_of_unit(self.unit)
        flags: list[tuple[str, str]] = []
        if "births" in rows.columns:
            small = rows[rows["births"] < 50]
            flags += [
                (str(int(y)), f"only {b:.0f} births: rates are very noisy")
                for y, b in zip(small["year"], small["births"])
            ]
        cc = count_consistency(rows)
        bad = cc[cc["ok"].fillna(True).eq(False)]
        flags += [
            (str(int(y)), f"{c}: {lft:g} vs {rgt:g}")
            for y, c, lft, rgt in zip(bad["year"], bad["check"], bad["left"], bad["right"])
        ]
        if ctx.has("policy_rate_reported", "policy_births", "births"):
            rc = rate_consistency(rows)
            bad = rc[rc["inconsistent"].fillna(False).astype(bool)]
            flags += [
                (str(int(y)), f"reported compliance {rep:.2f}% but its counts give {comp:.2f}%")
                for y, rep, comp in zip(bad["year"], bad["reported"], bad["computed"])
            ]
        it = ctx.result.items
        mine = it[(it["unit"] == self.unit) & (it["year"] == self.year)]
        missing = mine[mine["status"] == "missing"]
        flags += [
            (str(self.year), f"missing value: {lab} ({why})")
            for lab, why in zip(missing["label"], missing["reason"])
        ]
        val = pd.to_numeric(mine["value"], errors="coerce")
        margin = (val - mine["target"]).abs()
        narrow = mine[(mine["status"] == "met") & (margin <= 0.5) & (margin > 0) & mine["target"].notna()]
        flags += [
            (str(self.year), f"{lab}: {v:.2f} meets the target {t:g} by {m:.2f} only")
            for lab, v, t, m in zip(
                narrow["label"], val[narrow.index], narrow["target"], margin[narrow.index]
            )
        ]
        if not flags:
            return note("No data-quality flag for this unit.", "ak-ok")
        return table_html(pd.DataFrame(flags, columns=["year", "flag"]), {"year": "year", "flag": "flag"})


# --------------------------------------------------------------------------- overview
class OverviewPage:
    """The blocks of one year's overview.

    Parameters
    ----------
    ctx : ReportContext
    year : int
    unit_pages : sequence of str, optional
        Units that have a page this year (the league table links them).
    """

    def __init__(self, ctx: ReportContext, year: int, unit_pages: Sequence[str] | None = None) -> None:
        self.ctx, self.year = ctx, int(year)
        s = ctx.summary
        self.summary = s[s["year"] == self.year]
        if self.summary.empty:
            raise ReportError(f"{self.year}: no scored row in this year")
        self.unit_pages = set(map(str, unit_pages or ()))

    def header(self) -> Html:
        s = self.ctx.scheme
        kinds = ", ".join(
            f"{s.kinds[k].label if k in s.kinds else k}: {n}"
            for k, n in self.summary["kind"].value_counts(sort=False).items()
        )
        return Html(
            f'<header class="ak-title"><h1>{esc(s.label)} <small>{self.year}</small></h1>'
            f"<p>{esc(f'年度总览 annual overview · {kinds}')}</p></header>"
        )

    def league(self) -> Html:
        """The league table of each kind of unit, linked to the unit pages."""
        ctx, out = self.ctx, Html("")
        line_cols = {f"line_{ln.id}": ln.label for ln in ctx.scheme.lines}
        for kind, d in self.summary.groupby("kind", sort=False):
            d = d.sort_values(["rank", "total"], ascending=[True, False], na_position="last").reset_index(
                drop=True
            )
            d = d.assign(
                award_label=d["award"].map(lambda a: ctx.label_of("award", a) if a else ""),
                singles=d["single_awards"].map(lambda a: ctx.label_of("single_awards", a) if a else ""),
                warn=d["warning"].map(lambda a: ctx.label_of("warning", a) if a else ""),
                status=np.where(
                    d["not_scored"],
                    "not scored",
                    np.where(d["veto"], "veto", np.where(d["eligible"], "", "ineligible")),
                ),
            )
            cols = {"rank": "rank", "name": "unit", "category": "category", "total": "total"}
            cols.update({c: lab for c, lab in line_cols.items() if d[c].notna().any()})
            cols.update(
                {
                    "bonus": "bonus",
                    "deduction": "deduction",
                    "award_label": "award",
                    "singles": "single awards",
                    "warn": "warning",
                    "status": "status",
                }
            )
            links = {i: ctx.link(u) for i, u in enumerate(d["unit"]) if u in self.unit_pages}
            title = ctx.scheme.kinds[kind].label if kind in ctx.scheme.kinds else kind
            out += Html(f"<h3>{esc(title)}</h3>") + table_html(
                d,
                cols,
                digits=1,
                links=links,
                link_column="name",
                highlight=(d["veto"] | d["not_scored"]).to_numpy(),
            )
        return out

    def sensitivity(self) -> Html:
        """Rank intervals and award probabilities under the scheme's sensitivity spec.

        Uses ``params/sensitivity/<scheme id>.yaml`` (its draws and seed, so the page is
        reproducible); a scheme without a spec, or a composite scheme, gets a note instead.
        """
        from .. import sensitivity as sa
        from ..plotting.sensitivity import plot_rank_intervals
        from ..sensitivity.spec import specs_dir

        ctx = self.ctx
        path = specs_dir() / f"{ctx.scheme.id}.yaml"
        if not path.exists():
            return note(
                f"No sensitivity spec for {ctx.scheme.id} in params/sensitivity/: write one to see how "
                'solid these ranks are (see the README, "Sensitivity of rankings").'
            )
        spec = sa.load_spec(path, ctx.scheme)
        try:
            base = sa.baseline(ctx.scheme, ctx.panel, year=self.year)
        except SchemeError as exc:  # a composite scheme: its own analysis applies
            return note(f"Sensitivity analysis not available for this scheme: {exc}")
        sim = sa.simulate(base, spec, draws=spec.draws, seed=spec.seed)
        u = sim.units
        probs = [c for c in u.columns if c.startswith(("p_tier_", "p_top", "p_veto", "p_warning_"))]
        cols = {"nominal_rank": "rank", "name": "unit", "median_rank": "median rank"}
        cols |= {"rank_q05": "5%", "rank_q95": "95%"} | {c: c.removeprefix("p_") for c in probs}
        out = note(
            f"{spec.draws:,} draws of {len(spec.factors)} factors ({', '.join(f.id for f in spec.factors)}), "
            f"seed {spec.seed}; spec {path.name}. A rank interval that spans many places means the "
            "ranking there is more design and noise than performance."
        )
        for kind, d in u.groupby("kind", sort=False):
            d = d.sort_values("nominal_rank", na_position="last").reset_index(drop=True)
            out += table_html(d, cols, digits=2)
            fig_ax = plot_rank_intervals(sim, kind=kind, year=self.year)
            out += figure_html(fig_ax.figure, f"rank intervals, {kind}")
        return out

    def awards(self) -> Html:
        """Award winners, single-item awards, warnings, vetoes and ineligible units."""
        ctx, d = self.ctx, self.summary
        parts = []
        for col, what in (("award", "award"), ("single_awards", "single_awards"), ("warning", "warning")):
            m = d[col].astype(str).str.len() > 0
            parts += [
                (what.replace("_", " "), ctx.label_of(what, a), n)
                for a, n in zip(d.loc[m, col], d.loc[m, "name"])
            ]
        v = d[d["veto"] | d["not_scored"]]
        parts += [
            ("veto" if not ns else "not scored", r, n)
            for r, n, ns in zip(v["veto_reason"], v["name"], v["not_scored"])
        ]
        ine = d[~d["eligible"] & ~d["veto"] & ~d["not_scored"]]
        parts += [("ineligible", r, n) for r, n in zip(ine["ineligible_reason"], ine["name"])]
        if not parts:
            return note("No award, warning or veto this year.")
        return table_html(
            pd.DataFrame(parts, columns=["what", "detail", "unit"]),
            {"what": "what", "unit": "unit", "detail": "detail"},
        )

    def funnels(self) -> Html:
        """Funnel plots of the sex ratio at birth and of policy compliance in this year."""
        from ..plotting.funnel import plot_funnel
        from ..stats.funnel import funnel_proportions, funnel_sex_ratio

        ctx, rows, out = self.ctx, self.ctx.rows_of_year(self.year), Html("")
        if ctx.has("male_births", "female_births"):
            f = funnel_sex_ratio(rows)
            out += figure_html(
                plot_funnel(f, names=ctx.plot_names).figure,
                f"funnel plot of the sex ratio at birth, {self.year}",
            )
            outl = f[f["outside_998"].isin(["above", "below"])]
            out += note(
                f"Outside the 99.8% limits: {', '.join(ctx.names.get(u, u) for u in outl['unit']) or 'none'}."
            )
        if ctx.has("policy_births", "births"):
            f = funnel_proportions(rows, "policy_births", "births", overdispersion="additive")
            out += figure_html(
                plot_funnel(f, names=ctx.plot_names).figure, f"funnel plot of policy compliance, {self.year}"
            )
        return out if out.html else note("The panel has no birth counts: no funnel plot.")

    def heterogeneity(self) -> Html:
        """Do the units differ by more than chance this year (Pearson χ², dispersion φ)?"""
        from ..stats.proportions import heterogeneity

        ctx, rows, parts = self.ctx, self.ctx.rows_of_year(self.year), []
        if ctx.has("male_births", "births"):
            parts.append(heterogeneity(rows, "male_births", "births").assign(measure="male share of births"))
        if ctx.has("policy_births", "births"):
            parts.append(heterogeneity(rows, "policy_births", "births").assign(measure="policy compliance"))
        if not parts:
            return note("The panel has no birth counts.")
        return table_html(
            pd.concat(parts, ignore_index=True),
            {
                "measure": "measure",
                "units": "units",
                "pooled": "pooled",
                "chi2": "χ²",
                "df": "df",
                "p_value": "p",
                "phi": "φ",
                "note": "note",
            },
            digits={"pooled": 4, "chi2": 1, "p_value": 4, "phi": 2, "df": 0},
        )

    def trends(self) -> Html:
        """Trend tests over the years up to this one: pooled and per unit (Cochran–Armitage)."""
        from ..plotting import label
        from ..plotting.srb import plot_trend
        from ..stats.proportions import proportion_ci
        from ..stats.trends import cochran_armitage

        ctx = self.ctx
        rows = ctx.rows_of_year(self.year, upto=True)
        if rows["year"].nunique() < 2:
            return note("Only one year of data up to this year: no trend test.")
        out, parts = Html(""), []
        for num, what in (("policy_births", "policy compliance"), ("male_births", "male share of births")):
            if not ctx.has(num, "births"):
                continue
            pooled = cochran_armitage(rows, num, "births", unit=None)
            per = cochran_armitage(rows, num, "births")
            parts.append(pooled.assign(measure=what, unit="(all units)"))
            parts.append(per.assign(measure=what))
            if num == "policy_births":
                agg = rows.groupby("year", as_index=False)[[num, "births"]].sum()
                rates = proportion_ci(agg, num, "births", keys=("year",), scale=100)
                ax = plot_trend(
                    rates, pooled, unit=None, ylabel=label("出生政策符合率 %", "policy compliance, %")
                )
                out += figure_html(ax.figure, "pooled policy compliance over the years")
        if not parts:
            return note("The panel has no birth counts.")
        t = pd.concat(parts, ignore_index=True)
        t = t.assign(name=t["unit"].map(lambda u: ctx.names.get(u, u)))
        return out + table_html(
            t,
            {
                "measure": "measure",
                "name": "unit",
                "first_year": "from",
                "last_year": "to",
                "pooled": "pooled",
                "z": "z",
                "p_value": "p",
                "direction": "direction",
                "note": "note",
            },
            digits={"pooled": 4, "z": 2, "p_value": 4},
            highlight=(t["p_value"] < 0.05).to_numpy(),
        )

    def diagnostics(self) -> Html:
        """Indicator diagnostics of this year: ceiling and floor, effective weights, attainability."""
        from ..plotting.diagnostics import plot_ceiling_floor, plot_effective_weights
        from ..stats.diagnostics import effective_weights, item_diagnostics, target_attainability

        ctx, out = self.ctx, Html("")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            d = item_diagnostics(ctx.result)
            w = effective_weights(ctx.result)
            ta = target_attainability(ctx.result)
        d, w = d[d["year"] == self.year], w[w["year"] == self.year]
        ta = ta[ta["year"] == self.year] if "year" in ta.columns else ta
        for kind in pd.unique(d["kind"]):
            if (d["kind"] == kind).sum() and (self.summary["kind"] == kind).sum() >= 2:
                out += figure_html(
                    plot_ceiling_floor(d, year=self.year, kind=kind).figure,
                    f"ceiling and floor per item, {kind}",
                )
                try:
                    out += figure_html(
                        plot_effective_weights(w, year=self.year, kind=kind).figure,
                        f"effective weights, {kind}",
                    )
                except AssessKitError as exc:
                    out += note(f"effective weights: {exc}")
        flagged = d[d["note"].astype(str).str.len() > 0]
        out += Html("<h3>Items with a note</h3>") + table_html(
            flagged,
            {
                "kind": "kind",
                "label": "item",
                "max_points": "max",
                "mean_fraction": "mean share",
                "ceiling_share": "full marks",
                "floor_share": "zero",
                "item_total_r": "item–total r",
                "effective_weight": "effective weight",
                "note": "note",
            },
            digits={
                "max_points": 1,
                "mean_fraction": 2,
                "ceiling_share": 2,
                "floor_share": 2,
                "item_total_r": 2,
                "effective_weight": 3,
            },
            empty="no item has a note",
        )
        notes = ta[ta["note"].astype(str).str.len() > 0] if "note" in ta.columns else ta.iloc[:0]
        out += Html("<h3>Targets</h3>") + table_html(
            notes,
            {
                "kind": "kind",
                "label": "item",
                "target_min": "target (min)",
                "target_max": "target (max)",
                "n_met": "met",
                "n_missed": "missed",
                "share_met": "share met",
                "note": "note",
            },
            digits={"target_min": 2, "target_max": 2, "share_met": 2},
            empty="every target is met by some units and missed by others",
        )
        return out

    def quality(self) -> Html:
        """Bunching at the compliance target, reported vs computed rates, terminal digits."""
        from ..plotting.funnel import plot_bunching
        from ..stats.quality import bunching, digit_heaping, rate_consistency

        ctx, rows, out = self.ctx, self.ctx.rows_of_year(self.year), Html("")
        target = _policy_target(ctx, self.year)
        if target is not None and ctx.has("policy_births", "births"):
            b = bunching(rows, target=target, by=None)
            out += figure_html(
                plot_bunching(rows, target=target).figure, f"compliance around its target {target:g}%"
            )
            out += table_html(
                b,
                {
                    "target": "target",
                    "n_below": "just below",
                    "n_above": "just above",
                    "p_value": "p",
                    "note": "note",
                },
                digits={"target": 2, "p_value": 4},
            )
        if ctx.has("policy_rate_reported", "policy_births", "births"):
            rc = rate_consistency(rows)
            bad = rc[rc["inconsistent"].fillna(False).astype(bool)]
            bad = bad.assign(name=bad["unit"].map(lambda u: ctx.names.get(u, u)))
            out += Html("<h3>Reported against computed compliance</h3>") + table_html(
                bad,
                {
                    "name": "unit",
                    "reported": "reported %",
                    "computed": "from counts %",
                    "difference": "difference",
                    "tolerance": "tolerance",
                },
                digits=2,
                empty="every reported rate agrees with its counts",
            )
        cols = [c for c in ("births", "male_births", "female_births", "policy_births") if c in rows.columns]
        if cols:
            dh = digit_heaping(rows, cols)
            out += Html("<h3>Terminal digits of the counts</h3>") + table_html(
                dh,
                {
                    "column": "column",
                    "n": "n",
                    "chi2": "χ²",
                    "p_value": "p",
                    "most_common": "most common",
                    "note": "note",
                },
                digits={"chi2": 1, "p_value": 4},
            )
        return out if out.html else note("No data-quality check applies to this panel.")


# --------------------------------------------------------------------------- comparison
class ComparisonPage:
    """Two schemes (or a scheme and its variant) on the same data, one year.

    Parameters
    ----------
    a, b : ReportContext
        The two contexts (same data).
    year : int
    label_a, label_b : str
        Short names of the two.
    """

    def __init__(
        self, a: ReportContext, b: ReportContext, year: int, label_a: str = "A", label_b: str = "B"
    ) -> None:
        self.a, self.b, self.year = a, b, int(year)
        self.label_a, self.label_b = label_a, label_b
        keys = ["unit", "year", "kind"]
        cols = keys + ["name", "total", "rank", "award", "veto", "not_scored", "eligible"]
        sa, sb = (c.summary[c.summary["year"] == self.year][cols] for c in (a, b))
        self.merged = sa.merge(sb.drop(columns=["name"]), on=keys, how="outer", suffixes=("_a", "_b"))
        if self.merged.empty:
            raise ReportError(f"{self.year}: neither scheme scores a unit in this year")
        ra, rb = self.merged["rank_a"].astype(float), self.merged["rank_b"].astype(float)
        self.merged["rank_change"] = ra - rb
        # entering or leaving the ranking (a veto, say) is a move too
        self.merged["moved"] = ~((ra == rb) | (ra.isna() & rb.isna()))

    def header(self) -> Html:
        return Html(
            f'<header class="ak-title"><h1>{esc(self.label_a)} ↔ {esc(self.label_b)} <small>{self.year}</small></h1>'
            f"<p>{esc(self.a.scheme.label)} · {esc('方案比较 scheme comparison')}</p></header>"
        )

    def correlation(self) -> Html:
        """Spearman and Kendall rank correlation of the two totals, per kind of unit."""
        from scipy.stats import kendalltau, spearmanr

        rows = []
        for kind, d in self.merged.groupby("kind", sort=False):
            d = d[d["total_a"].notna() & d["total_b"].notna()]
            if len(d) >= 3 and d["total_a"].nunique() > 1 and d["total_b"].nunique() > 1:
                rho, p_rho = spearmanr(d["total_a"], d["total_b"])
                tau, p_tau = kendalltau(d["total_a"], d["total_b"])
            else:
                rho = p_rho = tau = p_tau = np.nan
            rows.append((kind, len(d), rho, p_rho, tau, p_tau, int(d["moved"].sum())))
        t = pd.DataFrame(rows, columns=["kind", "units", "rho", "p_rho", "tau", "p_tau", "moved"])
        return table_html(
            t,
            {
                "kind": "kind",
                "units": "units",
                "rho": "Spearman ρ",
                "p_rho": "p",
                "tau": "Kendall τ",
                "p_tau": "p",
                "moved": "units whose rank changed",
            },
            digits={"rho": 3, "p_rho": 4, "tau": 3, "p_tau": 4},
        )

    def movers(self) -> Html:
        """Who moves, and the items that move them most."""
        from ..plotting import label

        m = self.merged.sort_values(["kind", "rank_b"]).reset_index(drop=True)
        ia, ib = (c.result.items for c in (self.a, self.b))
        keys = ["unit", "year", "item"]
        ia, ib = ia[ia["year"] == self.year], ib[ib["year"] == self.year]
        diff = ia[keys + ["label", "points"]].merge(
            ib[keys + ["label", "points"]], on=keys, how="outer", suffixes=("_a", "_b")
        )
        diff["delta"] = diff["points_b"].fillna(0) - diff["points_a"].fillna(0)
        diff["label"] = diff["label_b"].fillna(diff["label_a"])
        diff = diff[diff["delta"] != 0]
        diff = diff.assign(abs_delta=diff["delta"].abs()).sort_values(
            ["unit", "abs_delta"], ascending=[True, False]
        )
        top = diff.groupby("unit", sort=False).head(3)
        why = (
            top.assign(txt=top["label"] + " " + top["delta"].map(lambda x: f"{x:+.1f}"))
            .groupby("unit")["txt"]
            .agg("; ".join)
        )
        m["why"] = m["unit"].map(why).astype(object).fillna("")
        aw_a = m["award_a"].fillna("").map(lambda a: self.a.label_of("award", a) if a else "")
        aw_b = m["award_b"].fillna("").map(lambda a: self.b.label_of("award", a) if a else "")
        m["award_change"] = np.where(aw_a != aw_b, aw_a + " → " + aw_b, "")
        import matplotlib.pyplot as plt

        from ..plotting import setup_cjk_font

        setup_cjk_font()
        kinds = list(pd.unique(m["kind"]))
        tall = max((m["kind"] == k).sum() for k in kinds)
        fig, axes = plt.subplots(
            1, len(kinds), figsize=(4.2 * len(kinds), 0.3 * tall + 1.6), layout="constrained", squeeze=False
        )
        names = m["unit"].map(self.a.plot_names)
        for ax, kind in zip(axes[0], kinds):
            d = m[m["kind"] == kind]
            for ra, rb, n, moved in zip(d["rank_a"], d["rank_b"], names[d.index], d["moved"]):
                colour = "#c0392b" if moved else "#999999"
                xs, ys = (
                    zip(*[(x, r) for x, r in ((0, ra), (1, rb)) if pd.notna(r)])
                    if pd.notna(ra) or pd.notna(rb)
                    else ((), ())
                )
                if xs:
                    ax.plot(xs, ys, "o-", color=colour, lw=1.2)
                    ax.text(xs[-1] + 0.04, ys[-1], n, va="center", fontsize=7)
            ax.invert_yaxis()
            ax.set_xticks(
                [0, 1], [_plot_safe(label(self.label_a, "A")), _plot_safe(label(self.label_b, "B"))]
            )
            ax.set_xlim(-0.15, 1.6)
            ax.set_ylabel(label("名次", "rank"))
            k = self.a.scheme.kinds.get(kind)
            ax.set_title(
                _plot_safe(label(k.label if k else kind, (k.label_en or kind) if k else kind)), fontsize=9
            )
        fig.suptitle(label(f"{self.year} 年名次变化（红色：名次变化）", f"Ranks, {self.year} (red: moved)"))
        fig = figure_html(fig, "ranks under the two schemes")
        return fig + table_html(
            m,
            {
                "name": "unit",
                "kind": "kind",
                "total_a": f"total {self.label_a}",
                "total_b": f"total {self.label_b}",
                "rank_a": f"rank {self.label_a}",
                "rank_b": f"rank {self.label_b}",
                "rank_change": "moved up by",
                "award_change": "award",
                "why": "items that changed most (points B − A)",
            },
            digits={"total_a": 1, "total_b": 1, "rank_a": 0, "rank_b": 0, "rank_change": 0},
            highlight=m["moved"].to_numpy(),
        )
