"""The presentation blocks of a unit's page (see ``notebooks/unit_report.ipynb``).

The template computes with :mod:`assesskit.stats` and draws with :mod:`assesskit.plotting`;
a :class:`UnitPage` only lays out what it is given: the title, the score card, the item
table, and the tables under each figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..exceptions import ReportError
from .present_legacy import UnitPageAliases
from .tables import Html, esc, fmt, note, table_html

if TYPE_CHECKING:
    from .pages import ReportContext

__all__ = ["UnitPage"]


class UnitPage(UnitPageAliases):
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

    @property
    def plot_name(self) -> str:
        """The unit's name as figures write it."""
        return self.ctx.plot_names.get(self.unit, self.unit)

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

    def _rank_rows(self) -> list[tuple[str, str]]:
        r, s = self.row, self.ctx.summary
        if pd.isna(r["rank"]):
            rank = f"— (out of the ranking of {int(r['n_ranked'])})" if pd.notna(r["n_ranked"]) else "—"
        else:
            rank = f"{int(r['rank'])} of {int(r['n_ranked'])}"
        rows = [("名次 rank (same kind, same year)", rank)]
        cat = r.get("category")
        if (
            isinstance(cat, str)
            and cat
            and "rank_in_category" in s.columns
            and pd.notna(r["rank_in_category"])
        ):
            peers = s[(s["year"] == self.year) & (s["kind"] == r["kind"]) & (s["category"] == cat)]
            n_cat = int(peers["rank"].notna().sum())
            rows.append(("类别内名次 rank in category", f"{int(r['rank_in_category'])} of {n_cat}"))
        return rows

    def score_card(self) -> Html:
        """Total, line totals, rank of N, awards, veto and eligibility."""
        r, ctx = self.row, self.ctx
        s = ctx.summary
        total = (
            f"not scored: {r['veto_reason']}"
            if r["not_scored"]
            else f"{fmt(r['total'])} / {fmt(r['max_total'])}"
        )
        rows: list[tuple[str, str]] = [("总分 total", total), *self._rank_rows()]
        for ln in ctx.scheme.lines:
            col = f"line_{ln.id}"
            if col in s.columns and pd.notna(r[col]):
                rk = r.get(f"rank_{ln.id}")
                rk_txt = "" if rk is None or pd.isna(rk) else f" (rank {int(rk)})"
                rows.append((f"{ln.label}", f"{fmt(r[col])} / {fmt(ln.points)}{rk_txt}"))
        if r["bonus"]:
            rows.append(("加分 bonus", f"+{fmt(r['bonus'])}"))
        if r["deduction"]:
            rows.append(("扣分 deduction", f"−{fmt(r['deduction'])}"))
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
        lost_pts = fmt(float(d["lost"].fillna(0).sum()))
        head = note(f"{int(lost.sum())} of {len(d)} entries lost points: {lost_pts} points in all.")
        cols = {"where": "line › section", "label": "item", "points": "points", "max_points": "max"}
        cols |= {"value": "value", "target": "target", "status": "status", "why": "reason for lost points"}
        digits = {"points": 1, "max_points": 1, "value": 2, "target": 2}
        return head + table_html(d, cols, digits=digits, highlight=lost)

    def section_shares(self) -> pd.DataFrame:
        """The unit's points per top-level section this year, with the peers' median share.

        Columns: ``line``, ``node``, ``label``, ``label_en``, ``points``, ``max_points``,
        ``share`` (of the section's maximum), ``share_peer_median`` (over the units of the
        same kind this year), ``difference``. A regrouping of the scored items for the page.
        """
        it = self.ctx.result.items
        it = it[
            (it["year"] == self.year) & (it["kind"] == self.row["kind"]) & (it["section"] != "adjustments")
        ]
        top = it["section"].str.split(" › ").str[0]
        node = top.where(top.str.len() > 0, it["item"])
        nodes = self.ctx.scheme.nodes
        g = (
            it.assign(node=node)
            .groupby(["unit", "line", "node"], sort=False, as_index=False)[["points", "max_points"]]
            .sum()
        )
        g["label"] = g["node"].map(lambda n: nodes[n].label if n in nodes else n)
        g["label_en"] = g["node"].map(lambda n: (nodes[n].label_en or n) if n in nodes else n)
        g["share"] = g["points"] / g["max_points"].where(g["max_points"] > 0)
        med = g.groupby(["line", "node"], sort=False, as_index=False)["share"].median()
        own = g[g["unit"] == self.unit].merge(med, on=["line", "node"], suffixes=("", "_peer_median"))
        return own.assign(difference=own["share"] - own["share_peer_median"])

    def sections_table(self, shares: pd.DataFrame) -> Html:
        """The table under the sections figure (shares in %)."""
        pct = shares.assign(**{c: shares[c] * 100 for c in ("share", "share_peer_median", "difference")})
        cols = {"label": "section", "points": "points", "max_points": "max", "share": "share %"}
        cols |= {"share_peer_median": "peer median %", "difference": "difference (pp)"}
        return table_html(pct, cols, digits=1, highlight=(shares["difference"] < 0).to_numpy())

    def totals_table(self) -> Html:
        """The unit's total, line totals, bonus and deduction in every scored year."""
        s = self.ctx.summary
        d = s[s["unit"] == self.unit].sort_values("year")
        line_cols = [f"line_{ln.id}" for ln in self.ctx.scheme.lines if d[f"line_{ln.id}"].notna().any()]
        cols = {"year": "year", "total": "total", "max_total": "max", **{c: c[5:] for c in line_cols}}
        cols.update({"bonus": "bonus", "deduction": "deduction"})
        return table_html(d, cols, digits=1, highlight=(d["year"] == self.year).to_numpy())

    def srb_verdict(self, peers: pd.DataFrame) -> Html:
        """One sentence on this year's SRB: the interval and the Holm-adjusted test among the peers."""
        this = peers[peers["unit"] == self.unit]
        if this.empty:
            return Html("")
        t = this.iloc[0]
        held = None if pd.isna(t["above_holm"]) else bool(t["above_holm"])
        flag = {True: "significantly above 107 (Holm)", False: "not significantly above 107 (Holm)"}
        return note(
            f"{self.year}: SRB {fmt(t['srb'])} (95% CI {fmt(t['srb_lower'])}–{fmt(t['srb_upper'])}), "
            f"{fmt(t['births'], 0)} births; {flag.get(held, 'not tested')}, adjusted over the "
            f"{len(peers)} units of the year."
        )

    def srb_table(self, own: pd.DataFrame) -> Html:
        """The unit's SRB per year against the national figure."""
        cols = {"year": "year", "births": "births", "srb": "SRB", "srb_lower": "lower", "srb_upper": "upper"}
        cols |= {"p_above": "p (one-sided, > 107)", "national_srb": "national", "vs_national": "vs national"}
        digits = {"srb": 1, "srb_lower": 1, "srb_upper": 1, "p_above": 4, "national_srb": 2, "births": 0}
        highlight = (own["year"] == self.year).to_numpy()
        return table_html(own, cols | {"note": "note"}, digits=digits, highlight=highlight)

    def trend_tests(self, *tests: pd.DataFrame) -> Html:
        """Trend-test results in one table (Cochran–Armitage ``z``, Mann–Kendall ``S``)."""
        parts = []
        for t in tests:
            if "S" in t.columns:
                parts.append(t.assign(test="Mann–Kendall (rates)", stat=t["S"].map(lambda s: f"S = {s:.0f}")))
            else:
                parts.append(
                    t.assign(test="Cochran–Armitage (counts)", stat=t["z"].map(lambda z: f"z = {z:.2f}"))
                )
        cols = {"test": "test", "stat": "statistic", "p_value": "p", "direction": "direction", "note": "note"}
        return table_html(pd.concat(parts, ignore_index=True), cols, digits={"p_value": 4})

    def rates_table(self, rates: pd.DataFrame) -> Html:
        """A :func:`~assesskit.stats.proportion_ci` result of the policy counts, per year."""
        cols = {"year": "year", "successes": "policy births", "trials": "births", "estimate": "%"}
        cols |= {"ci_lower": "lower", "ci_upper": "upper"}
        digits = {"estimate": 2, "ci_lower": 2, "ci_upper": 2, "successes": 0, "trials": 0}
        return table_html(rates, cols, digits=digits, highlight=(rates["year"] == self.year).to_numpy())

    def quality_flags(
        self, rows: pd.DataFrame, counts: pd.DataFrame, rates: pd.DataFrame | None = None, *, small: int = 50
    ) -> Html:
        """Data-quality flags of the unit: few births, count arithmetic
        (:func:`~assesskit.stats.count_consistency`), reported against computed rates
        (:func:`~assesskit.stats.rate_consistency`), missing values and targets met by a
        narrow margin (from the scored items)."""
        flags: list[tuple[str, str]] = []
        if "births" in rows.columns:
            few = rows[rows["births"] < small]
            flags += [
                (str(int(y)), f"only {b:.0f} births: rates are very noisy")
                for y, b in zip(few["year"], few["births"])
            ]
        bad = counts[counts["ok"].fillna(True).eq(False)]
        flags += [
            (str(int(y)), f"{c}: {lft:g} vs {rgt:g}")
            for y, c, lft, rgt in zip(bad["year"], bad["check"], bad["left"], bad["right"])
        ]
        if rates is not None:
            bad = rates[rates["inconsistent"].fillna(False).astype(bool)]
            flags += [
                (str(int(y)), f"reported compliance {rep:.2f}% but its counts give {comp:.2f}%")
                for y, rep, comp in zip(bad["year"], bad["reported"], bad["computed"])
            ]
        flags += self._item_flags()
        if not flags:
            return note("No data-quality flag for this unit.", "ak-ok")
        return table_html(pd.DataFrame(flags, columns=["year", "flag"]), {"year": "year", "flag": "flag"})

    def _item_flags(self) -> list[tuple[str, str]]:
        it = self.ctx.result.items
        mine = it[(it["unit"] == self.unit) & (it["year"] == self.year)]
        missing = mine[mine["status"] == "missing"]
        flags = [
            (str(self.year), f"missing value: {lab} ({why})")
            for lab, why in zip(missing["label"], missing["reason"])
        ]
        val = pd.to_numeric(mine["value"], errors="coerce")
        margin = (val - mine["target"]).abs()
        narrow = mine[(mine["status"] == "met") & (margin <= 0.5) & (margin > 0) & mine["target"].notna()]
        return flags + [
            (str(self.year), f"{lab}: {v:.2f} meets the target {t:g} by {m:.2f} only")
            for lab, v, t, m in zip(
                narrow["label"], val[narrow.index], narrow["target"], margin[narrow.index]
            )
        ]
