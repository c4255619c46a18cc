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
from ..i18n import check_lang, pick
from ..i18n import t as _t
from .present_legacy import UnitPageAliases
from .tables import Html, esc, fmt, note, table_html

if TYPE_CHECKING:
    from .pages import ReportContext

__all__ = ["UnitPage"]

_STATUS_KEYS = frozenset(
    f"status_{s}" for s in ("met", "partial", "missed", "missing", "vetoed", "bonus", "deduction", "graded")
)


class UnitPage(UnitPageAliases):
    """The blocks of one unit's report for one year.

    Parameters
    ----------
    ctx : ReportContext
    unit : str
        The unit id (as in the panel).
    year : int
    lang : {"bilingual", "zh", "en"}
        The language of the labels (:mod:`assesskit.i18n`); the scheme's names are shown in
        English under ``en`` when the scheme gives them (``label_en``).
    """

    def __init__(self, ctx: ReportContext, unit: str, year: int, lang: str | None = None) -> None:
        self.ctx, self.unit, self.year = ctx, str(unit), int(year)
        self.lang = check_lang(lang)
        s = ctx.summary
        row = s[(s["unit"] == self.unit) & (s["year"] == self.year)]
        if row.empty:
            raise ReportError(f"{self.unit} {self.year}: no scored row for this unit and year in the panel")
        self.row = row.iloc[0]
        self.name = ctx.names.get(self.unit, self.unit)

    def t(self, key: str, **fields: object) -> str:
        """A catalogue label in the page's language (:func:`assesskit.i18n.t`)."""
        return _t(key, self.lang, **fields)

    def heading(self, key: str) -> Html:
        """A section's heading ``h_<key>`` and its sentence ``p_<key>`` in the page's language."""
        return Html(f"<h2>{esc(self.t('h_' + key))}</h2>") + note(self.t("p_" + key), "ak-intro")

    def _name_of(self, obj, default: str) -> str:
        return pick(obj.label, obj.label_en, self.lang) if obj is not None else default

    @property
    def plot_name(self) -> str:
        """The unit's name as figures write it."""
        return self.ctx.plot_names.get(self.unit, self.unit)

    def header(self) -> Html:
        """Title: name, id, scheme, year, kind and category."""
        r, s = self.row, self.ctx.scheme
        kind = self._name_of(s.kinds.get(r["kind"]), r["kind"])
        cat = r.get("category")
        cat = cat if isinstance(cat, str) else ""
        cat_txt = self._name_of(s.categories.get(cat), cat)
        bits = [self.t("year_n", year=self.year), kind] + ([cat_txt] if cat_txt else [])
        return Html(
            f'<header class="ak-title"><h1>{esc(self.name)} <small>{esc(self.unit)}</small></h1>'
            f"<p>{esc(pick(s.label, s.label_en, self.lang))} · {esc(' · '.join(bits))}</p></header>"
        )

    def _rank_rows(self) -> list[tuple[str, str]]:
        r, s = self.row, self.ctx.summary
        if pd.isna(r["rank"]):
            rank = self.t("rank_out_of", n=int(r["n_ranked"])) if pd.notna(r["n_ranked"]) else "—"
        else:
            rank = self.t("rank_of", rank=int(r["rank"]), n=int(r["n_ranked"]))
        rows = [(self.t("rank_same_kind"), rank)]
        cat = r.get("category")
        if (
            isinstance(cat, str)
            and cat
            and "rank_in_category" in s.columns
            and pd.notna(r["rank_in_category"])
        ):
            peers = s[(s["year"] == self.year) & (s["kind"] == r["kind"]) & (s["category"] == cat)]
            n_cat = int(peers["rank"].notna().sum())
            rows.append(
                (self.t("rank_in_category"), self.t("rank_of", rank=int(r["rank_in_category"]), n=n_cat))
            )
        return rows

    def score_card(self) -> Html:
        """Total, line totals, rank of N, awards, veto and eligibility."""
        r, ctx = self.row, self.ctx
        s = ctx.summary
        total = (
            self.t("not_scored_with", why=ctx.veto_text(r["veto_reason"], self.lang))
            if r["not_scored"]
            else f"{fmt(r['total'])} / {fmt(r['max_total'])}"
        )
        rows: list[tuple[str, str]] = [(self.t("total"), total), *self._rank_rows()]
        for ln in ctx.scheme.lines:
            col = f"line_{ln.id}"
            if col in s.columns and pd.notna(r[col]):
                rk = r.get(f"rank_{ln.id}")
                rk_txt = "" if rk is None or pd.isna(rk) else self.t("rank_paren", rank=int(rk))
                rows.append((self._name_of(ln, ln.id), f"{fmt(r[col])} / {fmt(ln.points)}{rk_txt}"))
        if r["bonus"]:
            rows.append((self.t("bonus"), f"+{fmt(r['bonus'])}"))
        if r["deduction"]:
            rows.append((self.t("deduction"), f"−{fmt(r['deduction'])}"))
        award = ctx.label_of("award", r["award"], self.lang) if r["award"] else self.t("none")
        if r.get("prize") and r["prize"] > 0:
            award += self.t("prize", prize=f"{r['prize']:,.0f}")
        rows.append((self.t("award"), award))
        if r["single_awards"]:
            rows.append(
                (self.t("single_awards"), ctx.label_of("single_awards", r["single_awards"], self.lang))
            )
        if r["warning"]:
            rows.append((self.t("warning"), ctx.label_of("warning", r["warning"], self.lang)))
        if r["veto"]:
            rows.append((self.t("veto"), self.t("yes_with", why=ctx.veto_text(r["veto_reason"], self.lang))))
        elif r["ineligible_reason"]:
            rows.append((self.t("ineligible"), ctx.veto_text(r["ineligible_reason"], self.lang)))
        cls = " ak-veto" if r["veto"] or r["not_scored"] else ""
        body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
        return Html(f'<table class="ak-card{cls}">{body}</table>')

    def items(self) -> Html:
        """Every item with points, value, target, status and the reason for lost points."""
        it = self.ctx.result.items
        d = it[(it["unit"] == self.unit) & (it["year"] == self.year)]
        nodes = self.ctx.named
        path = d["line"].where(d["section"].str.len() == 0, d["line"] + " › " + d["section"])
        lang = self.lang
        labels = {
            pth: " › ".join(self._name_of(nodes.get(n), n) for n in str(pth).split(" › ") if n)
            for pth in pd.unique(path)
        }
        first = d.drop_duplicates("item")
        item_names = {i: self._name_of(nodes.get(i), lab) for i, lab in zip(first["item"], first["label"])}
        statuses = {
            s: _t(f"status_{s}", lang) if f"status_{s}" in _STATUS_KEYS else s for s in pd.unique(d["status"])
        }
        d = d.assign(
            where=path.map(labels),
            why=np.where(d["status"] == "met", "", self._reasons(d)),
            label=d["item"].map(item_names),
            status=d["status"].map(statuses),
        )
        lost = (d["lost"].fillna(0) > 0).to_numpy()
        lost_pts = fmt(float(d["lost"].fillna(0).sum()))
        head = note(self.t("lost_summary", lost=int(lost.sum()), n=len(d), pts=lost_pts))
        cols = {"where": self.t("where"), "label": self.t("item"), "points": self.t("points")}
        cols |= {"max_points": self.t("max"), "value": self.t("value"), "target": self.t("target")}
        cols |= {"status": self.t("status"), "why": self.t("reason_lost")}
        digits = {"points": 1, "max_points": 1, "value": 2, "target": 2}
        return head + table_html(d, cols, digits=digits, highlight=lost)

    def _reasons(self, d: pd.DataFrame) -> pd.Series:
        """The engine's reasons; on an English page, an item's own (Chinese) name in its reason
        is replaced by its English name. The rest of a reason is the engine's text."""
        reason = d["reason"].astype(str)
        if self.lang != "en":
            return reason
        named = self.ctx.named
        for item, zh in d.drop_duplicates("item")[["item", "label"]].itertuples(index=False):  # per item
            obj = named.get(item)
            if obj is not None and obj.label_en and zh:
                m = d["item"] == item
                reason = reason.mask(m, reason[m].str.replace(str(zh), obj.label_en, regex=False))
        return reason

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
        nodes = self.ctx.named
        g = (
            it.assign(node=node)
            .groupby(["unit", "line", "node"], sort=False, as_index=False)[["points", "max_points"]]
            .sum()
        )
        g["label"] = g["node"].map(lambda n: self._name_of(nodes.get(n), n))
        g["label_en"] = g["node"].map(lambda n: (nodes[n].label_en or n) if n in nodes else n)
        g["share"] = g["points"] / g["max_points"].where(g["max_points"] > 0)
        med = g.groupby(["line", "node"], sort=False, as_index=False)["share"].median()
        own = g[g["unit"] == self.unit].merge(med, on=["line", "node"], suffixes=("", "_peer_median"))
        return own.assign(difference=own["share"] - own["share_peer_median"])

    def sections_table(self, shares: pd.DataFrame) -> Html:
        """The table under the sections figure (shares in %)."""
        pct = shares.assign(**{c: shares[c] * 100 for c in ("share", "share_peer_median", "difference")})
        tt = self.t
        cols = {
            "label": tt("section"),
            "points": tt("points"),
            "max_points": tt("max"),
            "share": tt("share_pct"),
        }
        cols |= {"share_peer_median": tt("peer_median_pct"), "difference": tt("difference_pp")}
        return table_html(pct, cols, digits=1, highlight=(shares["difference"] < 0).to_numpy())

    def totals_table(self) -> Html:
        """The unit's total, line totals, bonus and deduction in every scored year."""
        s = self.ctx.summary
        d = s[s["unit"] == self.unit].sort_values("year")
        line_cols = [f"line_{ln.id}" for ln in self.ctx.scheme.lines if d[f"line_{ln.id}"].notna().any()]
        lines = {f"line_{ln.id}": self._name_of(ln, ln.id) for ln in self.ctx.scheme.lines}
        tt = self.t
        cols = {"year": tt("year"), "total": tt("total"), "max_total": tt("max")}
        cols |= {c: (c[5:] if self.lang == "bilingual" else lines[c]) for c in line_cols}
        cols.update({"bonus": tt("bonus"), "deduction": tt("deduction")})
        return table_html(d, cols, digits=1, highlight=(d["year"] == self.year).to_numpy())

    def srb_verdict(self, peers: pd.DataFrame) -> Html:
        """One sentence on this year's SRB: the interval and the Holm-adjusted test among the peers."""
        this = peers[peers["unit"] == self.unit]
        if this.empty:
            return Html("")
        t = this.iloc[0]
        held = None if pd.isna(t["above_holm"]) else bool(t["above_holm"])
        flag = {True: "srb_above", False: "srb_not_above", None: "srb_not_tested"}[held]
        return note(
            self.t(
                "srb_verdict",
                year=self.year,
                srb=fmt(t["srb"]),
                lo=fmt(t["srb_lower"]),
                hi=fmt(t["srb_upper"]),
                births=fmt(t["births"], 0),
                flag=self.t(flag),
                n=len(peers),
            )
        )

    def srb_table(self, own: pd.DataFrame) -> Html:
        """The unit's SRB per year against the national figure."""
        tt = self.t
        cols = {"year": tt("year"), "births": tt("births"), "srb": tt("srb")}
        cols |= {"srb_lower": tt("lower"), "srb_upper": tt("upper"), "p_above": tt("p_above")}
        cols |= {"national_srb": tt("national"), "vs_national": tt("vs_national")}
        digits = {"srb": 1, "srb_lower": 1, "srb_upper": 1, "p_above": 4, "national_srb": 2, "births": 0}
        highlight = (own["year"] == self.year).to_numpy()
        return table_html(own, cols | {"note": tt("note")}, digits=digits, highlight=highlight)

    def trend_tests(self, *tests: pd.DataFrame) -> Html:
        """Trend-test results in one table (Cochran–Armitage ``z``, Mann–Kendall ``S``)."""
        parts = []
        for t in tests:
            if "S" in t.columns:
                parts.append(t.assign(test=self.t("mann_kendall"), stat=t["S"].map(lambda s: f"S = {s:.0f}")))
            else:
                parts.append(
                    t.assign(test=self.t("cochran_armitage"), stat=t["z"].map(lambda z: f"z = {z:.2f}"))
                )
        tt = self.t
        cols = {"test": tt("test"), "stat": tt("statistic"), "p_value": tt("p")}
        cols |= {"direction": tt("direction"), "note": tt("note")}
        return table_html(pd.concat(parts, ignore_index=True), cols, digits={"p_value": 4})

    def rates_table(self, rates: pd.DataFrame) -> Html:
        """A :func:`~assesskit.stats.proportion_ci` result of the policy counts, per year."""
        tt = self.t
        cols = {"year": tt("year"), "successes": tt("policy_births"), "trials": tt("births")}
        cols |= {"estimate": tt("percent"), "ci_lower": tt("lower"), "ci_upper": tt("upper")}
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
                (str(int(y)), self.t("few_births", n=f"{b:.0f}")) for y, b in zip(few["year"], few["births"])
            ]
        bad = counts[counts["ok"].fillna(True).eq(False)]
        flags += [
            (str(int(y)), f"{c}: {lft:g} vs {rgt:g}")
            for y, c, lft, rgt in zip(bad["year"], bad["check"], bad["left"], bad["right"])
        ]
        if rates is not None:
            bad = rates[rates["inconsistent"].fillna(False).astype(bool)]
            flags += [
                (str(int(y)), self.t("rate_inconsistent", rep=f"{rep:.2f}", comp=f"{comp:.2f}"))
                for y, rep, comp in zip(bad["year"], bad["reported"], bad["computed"])
            ]
        flags += self._item_flags()
        if not flags:
            return note(self.t("no_quality_flag"), "ak-ok")
        cols = {"year": self.t("year"), "flag": self.t("flag")}
        return table_html(pd.DataFrame(flags, columns=["year", "flag"]), cols)

    def _item_flags(self) -> list[tuple[str, str]]:
        it = self.ctx.result.items
        mine = it[(it["unit"] == self.unit) & (it["year"] == self.year)]
        missing = mine[mine["status"] == "missing"]
        nodes = self.ctx.named
        missing = missing.assign(
            label=[self._name_of(nodes.get(i), lab) for i, lab in zip(missing["item"], missing["label"])]
        )
        flags = [
            (str(self.year), self.t("missing_value", item=lab, why=why))
            for lab, why in zip(missing["label"], missing["reason"])
        ]
        val = pd.to_numeric(mine["value"], errors="coerce")
        margin = (val - mine["target"]).abs()
        narrow = mine[(mine["status"] == "met") & (margin <= 0.5) & (margin > 0) & mine["target"].notna()]
        narrow = narrow.assign(
            label=[self._name_of(nodes.get(i), lab) for i, lab in zip(narrow["item"], narrow["label"])]
        )
        return flags + [
            (str(self.year), self.t("narrow_margin", item=lab, v=f"{v:.2f}", t=f"{tg:g}", m=f"{m:.2f}"))
            for lab, v, tg, m in zip(
                narrow["label"], val[narrow.index], narrow["target"], margin[narrow.index]
            )
        ]
