"""The explorer's widgets: controls for the design levers, the league table and its views.

A thin shell over :class:`~assesskit.explore.Design` and
:class:`~assesskit.explore.Rescorer`: every control change becomes one ``Design`` method
call, the variant is rescored through the kernel and the views are redrawn from the
result's arrays (no per-unit Python loops; the HTML tables are built column-wise with
pandas' string methods). The league table is updated first, then the chart.
"""

from __future__ import annotations

import dataclasses
import html
import io
import time
from collections.abc import Callable
from pathlib import Path

import ipywidgets as w
import numpy as np
import pandas as pd

from .._io import write_outputs
from ..exceptions import AssessKitError
from ..scheme import CategoryTarget, Item, Scheme, Section
from ..scoring import ScoreResult
from .design import (
    Design,
    check_variant_path,
    form_of,
    has_points_lever,
    has_weight_lever,
    target_lever,
    veto_deductible,
)
from .rescore import Rescorer, Scored, changed_units, league

STATUS_ZH = {"met": "达标", "partial": "部分", "missed": "未达标", "missing": "缺失", "vetoed": "否决"}
STATUS_ZH |= {"bonus": "加分", "deduction": "扣分"}
FORM_OPTIONS = [("达标制 threshold", "threshold"), ("比例制 proportional", "linear")]
VETO_OPTIONS = [("在用 on", "on"), ("关闭 off", "off"), ("改为扣分 deduction", "deduction")]


def _num() -> dict:
    """Look of a number box (a Layout of its own: a shared one would hide them all at once)."""
    return {"layout": w.Layout(width="190px"), "style": {"description_width": "70px"}}


def _css(name: str) -> str:
    """A CSS class from an id (the browser test finds the controls by it)."""
    return "ak-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


class Explorer(w.VBox):
    """The what-if explorer: a widget (display it, or let it be a cell's value).

    Attributes
    ----------
    design : Design
        The levers as they stand.
    result : Scored
        The variant's scores (the original's while nothing is moved); ``result.result``
        is its :class:`~assesskit.scoring.ScoreResult`.
    table : DataFrame
        The league table (:func:`assesskit.explore.league`) of the year scored.
    timings : dict
        Seconds spent by the last change: ``rescore`` (design → scores), ``to_table``
        (from the change to the league table set, rescore included), ``views`` (then the
        other controls, changed units, unit card and chart).
    """

    def __init__(self, rescorer: Rescorer, *, save_to: str | Path | None = None, top: int = 30):
        super().__init__()
        from ..plotting import setup_cjk_font

        setup_cjk_font()
        self.rescorer = rescorer
        self.scheme: Scheme = rescorer.scheme
        self.design = Design(self.scheme)
        self.result: Scored = rescorer.original
        self.table = league(self.result, self.result)
        self.timings: dict[str, float] = {}
        self._syncing = False
        self._picker_kind: str | None = None
        self._points: dict[str, w.FloatText] = {}
        self._rows: dict[str, w.Box] = {}
        self._accordions: list[tuple[w.Accordion, set[str]]] = []
        self._controls: list[tuple[w.Widget, Callable[[Design], object]]] = []
        save = Path(save_to) if save_to is not None else Path.cwd() / f"{self.scheme.id}_variant.yaml"
        self._build_bar(save, top)
        levers = self._build_levers()
        self._build_views()
        left = w.VBox([self.search, levers], layout=w.Layout(width="46%", min_width="420px"))
        right = w.VBox(
            [self.league_html, self.changed_html, self.chart, self.unit_pick, self.unit_html],
            layout=w.Layout(width="54%"),
        )
        title = w.HTML(f"<h3>方案推演 What-if explorer · {html.escape(self.scheme.label)}</h3>")
        self.children = [title, self.bar, self.status, w.HBox([left, right])]
        self.add_class("ak-explorer")
        self._redraw()

    # ---------------------------------------------------------------- building
    def _build_bar(self, save: Path, top: int) -> None:
        kinds = self.table["kind"].value_counts()
        self.kind = w.Dropdown(
            options=[(self.scheme.kinds[k].label, k) for k in kinds.index],
            description="单位类型",
            layout=w.Layout(width="230px", display="" if len(kinds) > 1 else "none"),
        )
        self.top = w.BoundedIntText(value=top, min=1, max=100_000, description="显示前", **_num())
        self.save_path = w.Text(value=str(save), description="保存到", layout=w.Layout(width="420px"))
        self.save_button = w.Button(description="保存变体 save variant", icon="save")
        self.reset_button = w.Button(description="还原 reset", icon="undo")
        self.save_button.add_class("ak-save")
        self.reset_button.add_class("ak-reset")
        self.save_button.on_click(lambda _b: self._save_clicked())
        self.reset_button.on_click(lambda _b: self.reset())
        self.kind.observe(lambda _c: self._redraw(), "value")
        self.top.observe(lambda _c: self._redraw(), "value")
        self.status = w.HTML()
        self.status.add_class("ak-status")
        self.bar = w.HBox([self.kind, self.top, self.save_path, self.save_button, self.reset_button])
        self.search = w.Text(placeholder="按指标名称搜索 search items", description="搜索")
        self.search.add_class("ak-search")
        self.search.observe(lambda c: self._filter(c["new"]), "value")

    def _build_levers(self) -> w.Widget:
        panes = [self._node_pane(ln) for ln in self.scheme.lines]
        titles = [f"{ln.label} ({ln.id})" for ln in self.scheme.lines]
        if self.scheme.vetoes:
            panes.append(w.VBox([self._veto_row(v) for v in self.scheme.vetoes]))
            titles.append("一票否决 vetoes")
        if self.scheme.adjustments:
            panes.append(w.VBox([self._adjustment_box(a) for a in self.scheme.adjustments]))
            titles.append("加分与扣分 bonuses and deductions")
        acc = w.Accordion(children=panes, titles=tuple(titles), selected_index=0)
        self._accordions.append((acc, {it.id for _p, it in self.scheme.flat_items}))
        return acc

    def _node_pane(self, node: Section) -> w.Widget:
        """A line's or section's controls: its own points or weight, then its children."""
        head = [c for c in (self._points_box(node.id), self._weight_box(node.id)) if c is not None]
        kids: list[w.Widget] = []
        for child in node.items:
            if isinstance(child, Item):
                kids.append(self._item_row(child))
            else:
                pane = self._node_pane(child)
                acc = w.Accordion(children=[pane], titles=(f"{child.label} ({child.id})",))
                self._accordions.append((acc, {it.id for p, it in self.scheme.flat_items if child.id in p}))
                kids.append(acc)
        return w.VBox(head + kids)

    def _control(self, widget: w.Widget, to_design: Callable, read: Callable[[Design], object], name: str):
        """Wire ``widget``: a change applies ``to_design(design, value)``; ``read`` gives its
        value back from a design (reset, and points that follow other points)."""
        widget.add_class(_css(name))

        def changed(change):
            if not self._syncing:
                self.apply(lambda d: to_design(d, change["new"]))

        widget.observe(changed, "value")
        self._controls.append((widget, read))
        return widget

    def _points_box(self, node_id: str) -> w.Widget | None:
        if not has_points_lever(self.scheme, node_id):
            return None
        box = w.FloatText(value=self.design.node_points(node_id), description="分值", **_num())
        self._points[node_id] = box
        return self._control(
            box,
            lambda d, v, n=node_id: d.set_points(n, v),
            lambda d, n=node_id: d.node_points(n),
            f"points-{node_id}",
        )

    def _weight_box(self, node_id: str) -> w.Widget | None:
        if not has_weight_lever(self.scheme, node_id):
            return None
        box = w.FloatText(value=self.design.weight(node_id), description="权重", **_num())
        return self._control(
            box,
            lambda d, v, n=node_id: d.set_weight(n, v),
            lambda d, n=node_id: d.weight(n),
            f"weight-{node_id}",
        )

    def _item_row(self, it: Item) -> w.Widget:
        parts: list[w.Widget] = [
            w.HTML(
                f"<span title='{html.escape(it.id)}'>{html.escape(it.label)}</span>",
                layout=w.Layout(width="100%"),
            )
        ]
        ctl = [c for c in (self._points_box(it.id), self._weight_box(it.id)) if c is not None]
        kind = target_lever(it)
        if kind == "number":
            box = w.FloatText(value=self.design.target(it.id), description="目标", **_num())
            ctl.append(
                self._control(
                    box,
                    lambda d, v, i=it.id: d.set_target(i, v),
                    lambda d, i=it.id: d.target(i),
                    f"target-{it.id}",
                )
            )
        elif kind == "category":
            assert isinstance(it.rule.target, CategoryTarget)
            for cat in it.rule.target.by_category:
                lab = self.scheme.categories[cat].label if cat in self.scheme.categories else cat
                box = w.FloatText(value=self.design.target(it.id, cat), description=f"目标·{lab}", **_num())
                ctl.append(
                    self._control(
                        box,
                        lambda d, v, i=it.id, c=cat: d.set_target(i, v, c),
                        lambda d, i=it.id, c=cat: d.target(i, c),
                        f"target-{it.id}-{cat}",
                    )
                )
        if form_of(self.scheme, it) is not None:
            dd = w.Dropdown(options=FORM_OPTIONS, value=it.rule.type, layout=w.Layout(width="170px"))
            ctl.append(
                self._control(
                    dd, lambda d, v, i=it.id: d.set_form(i, v), lambda d, i=it.id: d.form(i), f"form-{it.id}"
                )
            )
        look = w.Layout(
            grid_template_columns="repeat(auto-fill, 195px)", grid_gap="2px 6px", overflow="hidden"
        )
        grid = w.GridBox(ctl, layout=look)
        row = w.VBox([parts[0], grid], layout=w.Layout(overflow="hidden"))
        row.add_class("ak-item")
        self._rows[it.id] = row
        return row

    def _veto_row(self, v) -> w.Widget:
        options = VETO_OPTIONS if veto_deductible(self.scheme, v.id) else VETO_OPTIONS[:2]
        mode = w.Dropdown(options=options, value="on", layout=w.Layout(width="190px"))
        pts = w.FloatText(value=self.design.veto_deduction(v.id), description="扣分", **_num())
        self._control(
            mode, lambda d, m, i=v.id: d.set_veto(i, m), lambda d, i=v.id: d.veto_mode(i), f"veto-{v.id}"
        )
        self._control(
            pts,
            lambda d, p, i=v.id: d.set_veto(i, d.veto_mode(i), p),
            lambda d, i=v.id: d.veto_deduction(i),
            f"veto-points-{v.id}",
        )
        if len(options) == 2:
            pts.layout.display = "none"
        return w.VBox([w.HTML(html.escape(v.label)), w.HBox([mode, pts])])

    def _adjustment_box(self, a) -> w.Widget:
        word = "加分" if a.kind == "bonus" else "扣分"
        box = w.Checkbox(value=True, description=f"{word}：{a.label}", indent=False)
        return self._control(
            box,
            lambda d, on, i=a.id: d.set_adjustment(i, on),
            lambda d, i=a.id: i not in d.adjustments_off,
            f"adjustment-{a.id}",
        )

    def _build_views(self) -> None:
        self.league_html = w.HTML()
        self.league_html.add_class("ak-league-box")
        self.changed_html = w.HTML()
        self.chart = w.Output()
        self.chart.add_class("ak-chart")
        self.unit_pick = w.Dropdown(description="单位明细", layout=w.Layout(width="360px"))
        self.unit_pick.observe(lambda _c: None if self._syncing else self._draw_unit(), "value")
        self.unit_html = w.HTML()

    # ---------------------------------------------------------------- acting
    def apply(self, change: Callable[[Design], Design]) -> bool:
        """Move levers (``change(design) -> design``), rescore and redraw.

        Returns False (the status says why, nothing changes) when the variant is refused.
        """
        t0 = time.perf_counter()
        try:
            design = change(self.design)
            result = self.rescorer.score(design.to_scheme())
        except AssessKitError as exc:
            self.status.value = f"<span style='color:#b00'>✗ {html.escape(str(exc))}</span>"
            return False
        self.design, self.result = design, result
        self.timings = {"rescore": time.perf_counter() - t0}
        self._redraw(t0)
        return True

    def reset(self) -> None:
        """Back to the original scheme: every control, the tables and the chart."""
        self.design = self.design.reset()
        self.result = self.rescorer.original
        self._redraw()

    def save(self, path: str | Path | None = None) -> Path:
        """Write the variant as a scheme file (YAML with a header of the changes)."""
        try:
            p = check_variant_path(path if path is not None else self.save_path.value).resolve()
            text = self.design.to_yaml(id=p.stem)
            write_outputs(p.parent, {p.name: text})
        except AssessKitError as exc:
            self.status.value = f"<span style='color:#b00'>✗ {html.escape(str(exc))}</span>"
            raise
        self.status.value = f"✓ 已保存 saved {html.escape(str(p))} ({len(self.design.changes())} changes)"
        return p

    def _save_clicked(self) -> None:
        try:
            self.save()
        except AssessKitError:
            pass  # the status line says why; nothing was written

    def _sync(self) -> None:
        """Set every control from the design without triggering it (points follow points)."""
        self._syncing = True
        try:
            for widget, read in self._controls:
                value = read(self.design)
                if widget.value != value:
                    widget.value = value
        finally:
            self._syncing = False

    def _filter(self, query: str) -> None:
        q = query.strip().lower()
        hits = {
            it.id
            for _p, it in self.scheme.flat_items
            if not q or q in it.label.lower() or q in it.id.lower() or q in (it.label_en or "").lower()
        }
        for item_id, row in self._rows.items():
            row.layout.display = "" if item_id in hits else "none"
        if q:
            for acc, ids in self._accordions:
                if ids & hits:
                    acc.selected_index = 0

    # ---------------------------------------------------------------- views
    def _redraw(self, t0: float | None = None) -> None:
        """The league table first (what the user waits for), then the rest."""
        t0 = time.perf_counter() if t0 is None else t0
        self.table = league(self.rescorer.original, self.result)
        shown = self.table[self.table["kind"] == self.kind.value]
        self.league_html.value = league_html(shown.head(self.top.value), self.scheme)
        t1 = time.perf_counter()
        self._sync()
        n = len(self.design.changes())
        year = int(shown["year"].iloc[0]) if len(shown) else ""
        self.status.value = f"变更 {n} 项 changes · {len(shown)} 个单位 units · {year} 年"
        self.changed_html.value = changed_html(changed_units(shown), self.scheme)
        self._unit_options()
        self._draw_unit()
        self._draw_chart(shown.head(self.top.value))
        self.timings |= {"to_table": t1 - t0, "views": time.perf_counter() - t1}

    def _unit_options(self) -> None:
        """The units of the kind shown, by id (set when the kind changes, not on every change)."""
        if self._picker_kind == self.kind.value:
            return
        self._picker_kind = self.kind.value
        rows = self.rescorer.inputs.rows
        mine = rows[rows["kind"] == self.kind.value].drop_duplicates("unit").sort_values("unit")
        opts = list(
            zip(mine["name"].astype(str) + " (" + mine["unit"].astype(str) + ")", mine["unit"], strict=True)
        )
        self._syncing = True  # one unit card per redraw, drawn below
        try:
            self.unit_pick.options = opts
            self.unit_pick.value = opts[0][1] if opts else None
        finally:
            self._syncing = False

    def _draw_unit(self) -> None:
        unit = self.unit_pick.value
        if unit is None:
            self.unit_html.value = ""
            return
        self.unit_html.value = unit_html(unit_items(self.result.result, unit))

    def _draw_chart(self, shown: pd.DataFrame) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import Image, display

        from ..plotting import label
        from ..plotting.scores import plot_rank_changes

        units = shown.rename(columns={"rank_original": "rank_a", "rank": "rank_b"}).assign(
            shift=-shown["rank_change"]
        )
        units = units.astype({"rank_a": float, "rank_b": float})
        names = dict(zip(units["unit"], units["name"].astype(str).str.replace("$", r"\$"), strict=True))
        fig, ax = plt.subplots(figsize=(5.2, 0.22 * len(units) + 1.8))
        plot_rank_changes(
            units, labels=(label("原方案", "original"), label("变体", "variant")), names=names, ax=ax
        )
        fig.tight_layout()
        buf = io.BytesIO()  # a PNG, whatever matplotlib backend the kernel runs
        fig.savefig(buf, format="png", dpi=90)
        plt.close(fig)
        with self.chart:
            self.chart.clear_output(wait=True)
            display(Image(data=buf.getvalue(), format="png"))


# ---------------------------------------------------------------- tables as HTML
def _column_cells(values) -> list[str]:
    """A column as escaped cell texts: joined, escaped by ``html.escape`` once, split
    (one C-level pass instead of a call per cell); missing values as "—"."""
    v = np.asarray(values, dtype=object)
    text = np.where(pd.isna(v), "—", v).astype(str)
    return html.escape("\x1f".join(np.char.replace(text, "\x1f", " ").tolist())).split("\x1f")


def html_table(frame: pd.DataFrame, css: str) -> str:
    """A frame as an HTML table, built column-wise (``to_html`` formats cell by cell: too
    slow for a table redrawn on every change)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = ""
    if len(frame):
        cols = np.array([_column_cells(frame[c]) for c in frame.columns], dtype=object)
        rows = "</td><td>".join  # a row's cells, then the rows
        body = "<tr><td>" + "</td></tr><tr><td>".join(map(rows, cols.T)) + "</td></tr>"
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _rank_move(change: pd.Series) -> pd.Series:
    c = change.to_numpy(dtype=float)
    text = np.where(c > 0, "↑", np.where(c < 0, "↓", "")) + pd.Series(np.abs(c)).map("{:g}".format).to_numpy()
    return pd.Series(np.where(c == 0, "–", text), index=change.index)


def _awards(scheme: Scheme, s: pd.Series) -> pd.Series:
    names = {t.id: t.label for t in scheme.outcomes.tiers} | {"": ""}
    return s.map(names).fillna(s)


def league_html(table: pd.DataFrame, scheme: Scheme) -> str:
    """The league table as HTML (``table.ak-league``; one row per unit, ``data`` in column 2)."""
    out = pd.DataFrame(
        {
            "名次 rank": table["rank"].astype("string").fillna("—"),
            "代码 unit": table["unit"],
            "单位 name": table["name"],
            "总分 total": table["total"].map("{:.2f}".format).replace("nan", "—"),
            "原名次 original": table["rank_original"].astype("string").fillna("—"),
            "名次变化 change": _rank_move(table["rank_change"]),
            "奖项 award": _awards(scheme, table["award"]),
            "一票否决 veto": np.where(table["veto"].to_numpy(dtype=bool), "否决 " + table["veto_reason"], ""),
        }
    )
    return f"<div style='max-height:420px;overflow:auto'>{html_table(out, 'ak-league')}</div>"


def changed_html(table: pd.DataFrame, scheme: Scheme) -> str:
    """The units whose award or veto changed, as HTML (``table.ak-changed``)."""
    if not len(table):
        return "<p class='ak-changed'>奖项与否决均无变化 no award or veto changed</p>"
    yes = {True: "是", False: ""}
    out = pd.DataFrame(
        {
            "单位 name": table["name"],
            "名次 rank": table["rank"].astype("string").fillna("—"),
            "原奖项 award before": _awards(scheme, table["award_original"]),
            "新奖项 award now": _awards(scheme, table["award"]),
            "原否决 veto before": table["veto_original"].map(yes),
            "新否决 veto now": table["veto"].map(yes),
        }
    )
    head = f"<h4>奖项或否决有变化的单位 units whose award or veto changed ({len(out)})</h4>"
    return head + html_table(out, "ak-changed")


def unit_items(result: ScoreResult, unit: str) -> pd.DataFrame:
    """:attr:`ScoreResult.items` of one unit, built for that unit's rows only."""
    rows = np.flatnonzero(result.rows["unit"].to_numpy() == unit)
    # the item table walks ``order``: restricted to the unit's rows it explains only them
    return dataclasses.replace(result, order=rows).items


def unit_html(items: pd.DataFrame) -> str:
    out = pd.DataFrame(
        {
            "指标 item": items["label"],
            "得分 points": items["points"].map("{:g}".format),
            "满分 max": items["max_points"].map("{:g}".format).replace("nan", ""),
            "状态 status": items["status"].map(STATUS_ZH).fillna(items["status"]),
            "原因 reason": items["reason"],
        }
    )
    return html_table(out, "ak-unit")
