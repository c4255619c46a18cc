"""The presentation blocks of a year's overview (see ``notebooks/annual_overview.ipynb``).

The template computes with :mod:`assesskit.stats` and :mod:`assesskit.sensitivity` and draws
with :mod:`assesskit.plotting`; an :class:`OverviewPage` lays out the league table, the
awards and the tables under each figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..exceptions import AssessKitError, ReportError, SchemeError
from ..i18n import check_lang, pick
from ..i18n import t as _t
from .present_legacy import OverviewPageAliases
from .tables import Html, esc, figure_html, note, table_html

if TYPE_CHECKING:
    from .pages import ReportContext

__all__ = ["OverviewPage"]

_TREND_KEYS = {"measure": "measure", "name": "unit", "first_year": "from", "last_year": "to"}
_TREND_KEYS |= {"pooled": "pooled", "z": "z", "p_value": "p", "direction": "direction", "note": "note"}


class OverviewPage(OverviewPageAliases):
    """The blocks of one year's overview.

    Parameters
    ----------
    ctx : ReportContext
    year : int
    unit_pages : sequence of str, optional
        Units that have a page this year (the league table links them).
    lang : {"bilingual", "zh", "en"}
        The language of the labels (:mod:`assesskit.i18n`).
    """

    def __init__(
        self,
        ctx: ReportContext,
        year: int,
        unit_pages: Sequence[str] | None = None,
        lang: str | None = None,
    ) -> None:
        self.ctx, self.year = ctx, int(year)
        self.lang = check_lang(lang)
        s = ctx.summary
        self.summary = s[s["year"] == self.year]
        if self.summary.empty:
            raise ReportError(f"{self.year}: no scored row in this year")
        self.unit_pages = set(map(str, unit_pages or ()))

    def t(self, key: str, **fields: object) -> str:
        """A catalogue label in the page's language (:func:`assesskit.i18n.t`)."""
        return _t(key, self.lang, **fields)

    def _cols(self, keys: dict[str, str]) -> dict[str, str]:
        """Column → header, the headers given as catalogue keys."""
        return {c: self.t(k) for c, k in keys.items()}

    def heading(self, key: str) -> Html:
        """A section's heading ``h_<key>`` and, when the catalogue has one, its sentence ``p_<key>``."""
        from ..i18n import LABELS

        out = Html(f"<h2>{esc(self.t('h_' + key))}</h2>")
        return out + note(self.t("p_" + key), "ak-intro") if "p_" + key in LABELS else out

    def _kind(self, k: str) -> str:
        kind = self.ctx.scheme.kinds.get(k)
        return pick(kind.label, kind.label_en, self.lang) if kind is not None else k

    def header(self) -> Html:
        s = self.ctx.scheme
        kinds = ", ".join(
            f"{self._kind(k)}: {n}" for k, n in self.summary["kind"].value_counts(sort=False).items()
        )
        return Html(
            f'<header class="ak-title"><h1>{esc(pick(s.label, s.label_en, self.lang))} <small>{self.year}</small></h1>'
            f"<p>{esc(self.t('annual_overview') + ' · ' + kinds)}</p></header>"
        )

    def league(self) -> Html:
        """The league table of each kind of unit, linked to the unit pages."""
        ctx, out = self.ctx, Html("")
        line_cols = {f"line_{ln.id}": pick(ln.label, ln.label_en, self.lang) for ln in ctx.scheme.lines}
        lang = self.lang
        cat_names = {c: pick(v.label, v.label_en, lang) for c, v in ctx.scheme.categories.items()}
        for kind, d in self.summary.groupby("kind", sort=False):
            d = d.sort_values(["rank", "total"], ascending=[True, False], na_position="last").reset_index(
                drop=True
            )
            status = np.where(
                d["veto"], self.t("veto_short"), np.where(d["eligible"], "", self.t("ineligible_short"))
            )
            d = d.assign(
                award_label=d["award"].map(lambda a: ctx.label_of("award", a, lang) if a else ""),
                singles=d["single_awards"].map(lambda a: ctx.label_of("single_awards", a, lang) if a else ""),
                warn=d["warning"].map(lambda a: ctx.label_of("warning", a, lang) if a else ""),
                status=np.where(d["not_scored"], self.t("not_scored"), status),
            )
            if self.lang != "bilingual" and "category" in d.columns:  # bilingual tables showed the ids
                d = d.assign(category=d["category"].map(lambda c: cat_names.get(c, c)))
            cols = self._cols({"rank": "rank", "name": "unit", "category": "category", "total": "total"})
            cols.update({c: lab for c, lab in line_cols.items() if d[c].notna().any()})
            cols |= self._cols({"bonus": "bonus", "deduction": "deduction", "award_label": "award"})
            cols |= self._cols({"singles": "single_awards_short", "warn": "warning", "status": "status"})
            if self.lang == "bilingual":  # the bilingual league table's headers were English
                cols |= {"total": "total", "bonus": "bonus", "deduction": "deduction", "award_label": "award"}
                cols |= {"warn": "warning"}
            links = {i: ctx.link(u) for i, u in enumerate(d["unit"]) if u in self.unit_pages}
            title = self._kind(kind)
            hl = (d["veto"] | d["not_scored"]).to_numpy()
            out += Html(f"<h3>{esc(title)}</h3>") + table_html(
                d, cols, digits=1, links=links, link_column="name", highlight=hl
            )
        return out

    def awards(self) -> Html:
        """Award winners, single-item awards, warnings, vetoes and ineligible units."""
        ctx, d = self.ctx, self.summary
        parts = []
        tt, lang = self.t, self.lang
        whats = {"award": "award", "single_awards": "single_awards_short", "warning": "warning"}
        for col, what in (("award", "award"), ("single_awards", "single_awards"), ("warning", "warning")):
            m = d[col].astype(str).str.len() > 0
            shown = what.replace("_", " ") if lang == "bilingual" else tt(whats[what])
            parts += [
                (shown, ctx.label_of(what, a, lang), n) for a, n in zip(d.loc[m, col], d.loc[m, "name"])
            ]
        v = d[d["veto"] | d["not_scored"]]
        parts += [
            (tt("veto_short") if not ns else tt("not_scored"), ctx.veto_text(r, lang), n)
            for r, n, ns in zip(v["veto_reason"], v["name"], v["not_scored"])
        ]
        ine = d[~d["eligible"] & ~d["veto"] & ~d["not_scored"]]
        parts += [
            (tt("ineligible_short"), ctx.veto_text(r, lang), n)
            for r, n in zip(ine["ineligible_reason"], ine["name"])
        ]
        if not parts:
            return note(tt("no_award_year"))
        return table_html(
            pd.DataFrame(parts, columns=["what", "detail", "unit"]),
            self._cols({"what": "what", "unit": "unit", "detail": "detail"}),
        )

    def outside_limits(self, funnel: pd.DataFrame, level: str = "998") -> Html:
        """The units outside the funnel's limits at ``level`` (``"998"``: 99.8%)."""
        out = funnel[funnel[f"outside_{level}"].isin(["above", "below"])]
        who = ", ".join(self.ctx.names.get(u, u) for u in out["unit"]) or self.t("none")
        return note(self.t("outside_limits", level=f"{float(level[:2] + '.' + level[2:]):g}", who=who))

    def heterogeneity_table(self, *tables: pd.DataFrame) -> Html:
        """:func:`~assesskit.stats.heterogeneity` results (each with a ``measure`` column)."""
        cols = self._cols({"measure": "measure", "units": "units_n", "pooled": "pooled", "chi2": "chi2"})
        cols |= self._cols({"df": "df", "p_value": "p", "phi": "phi", "note": "note"})
        digits = {"pooled": 4, "chi2": 1, "p_value": 4, "phi": 2, "df": 0}
        return table_html(pd.concat(tables, ignore_index=True), cols, digits=digits)

    def trend_table(self, measure: str, pooled: pd.DataFrame, per_unit: pd.DataFrame) -> Html:
        """Pooled and per-unit :func:`~assesskit.stats.cochran_armitage` results of one measure."""
        all_units = self.t("all_units")
        t = pd.concat([pooled.assign(unit=all_units), per_unit], ignore_index=True).assign(measure=measure)
        t = t.assign(name=t["unit"].map(lambda u: self.ctx.names.get(u, u)))
        digits = {"pooled": 4, "z": 2, "p_value": 4}
        cols = {c: (k if k == "z" else self.t(k)) for c, k in _TREND_KEYS.items()}
        return table_html(t, cols, digits=digits, highlight=(t["p_value"] < 0.05).to_numpy())

    def diagnostics_figures(self, diagnostics: pd.DataFrame, weights: pd.DataFrame) -> Html:
        """Ceiling/floor and effective-weight figures of each kind with at least two units."""
        from ..plotting.diagnostics import plot_ceiling_floor, plot_effective_weights

        out, n_of = Html(""), self.summary["kind"].value_counts()
        for kind in pd.unique(diagnostics["kind"]):
            if n_of.get(kind, 0) < 2:
                continue
            out += figure_html(plot_ceiling_floor(diagnostics, year=self.year, kind=kind, lang=self.lang))
            try:
                out += figure_html(plot_effective_weights(weights, year=self.year, kind=kind, lang=self.lang))
            except AssessKitError as exc:
                out += note(self.t("effective_weights_err", why=exc))
        return out

    def diagnostics_tables(self, diagnostics: pd.DataFrame, attainability: pd.DataFrame) -> Html:
        """Items with a note (:func:`~assesskit.stats.item_diagnostics`) and targets with a note
        (:func:`~assesskit.stats.target_attainability`)."""
        flagged = diagnostics[diagnostics["note"].astype(str).str.len() > 0]
        flagged = self._item_names(flagged)
        cols = self._cols(
            {"kind": "kind", "label": "item", "max_points": "max", "mean_fraction": "mean_share"}
        )
        cols |= self._cols(
            {"ceiling_share": "full_marks", "floor_share": "zero", "item_total_r": "item_total_r"}
        )
        cols |= self._cols({"effective_weight": "effective_weight", "note": "note"})
        digits = dict.fromkeys(("mean_fraction", "ceiling_share", "floor_share", "item_total_r"), 2)
        out = Html(f"<h3>{esc(self.t('h3_items_note'))}</h3>") + table_html(
            flagged,
            cols,
            digits={**digits, "max_points": 1, "effective_weight": 3},
            empty=self.t("no_item_note"),
        )
        ta = attainability
        ta = ta[ta["year"] == self.year] if "year" in ta.columns else ta
        notes = ta[ta["note"].astype(str).str.len() > 0] if "note" in ta.columns else ta.iloc[:0]
        notes = self._item_names(notes)
        cols = self._cols(
            {"kind": "kind", "label": "item", "target_min": "target_min", "target_max": "target_max"}
        )
        cols |= self._cols(
            {"n_met": "n_met", "n_missed": "n_missed", "share_met": "share_met", "note": "note"}
        )
        return (
            out
            + Html(f"<h3>{esc(self.t('h3_targets'))}</h3>")
            + table_html(
                notes,
                cols,
                digits={"target_min": 2, "target_max": 2, "share_met": 2},
                empty=self.t("targets_all_mixed"),
            )
        )

    def _item_names(self, d: pd.DataFrame) -> pd.DataFrame:
        """``label`` as the scheme names the item in the page's language (``item`` ids)."""
        if self.lang != "en" or "item" not in d.columns or "label" not in d.columns:
            return d
        nodes = self.ctx.named
        return d.assign(
            label=[
                pick(nodes[i].label, nodes[i].label_en, "en") if i in nodes else lab
                for i, lab in zip(d["item"], d["label"])
            ]
        )

    def policy_target(self) -> float | None:
        """The target of the scheme's policy-compliance item this year (the median over
        units), or None when the scheme has no such item."""
        ctx = self.ctx
        inds = {
            i
            for i, ind in ctx.scheme.indicators.items()
            if ind.is_rate
            and list(ind.numerator) == ["policy_births"]
            and list(ind.denominator) == ["births"]
        }
        items = [it.id for _p, it in ctx.scheme.flat_items if it.rule.indicator in inds]
        it = ctx.result.items
        t = it.loc[(it["year"] == self.year) & it["item"].isin(items), "target"].astype(float)
        t = t[np.isfinite(t)]
        return float(t.median()) if len(t) else None

    def bunching_table(self, bunching: pd.DataFrame) -> Html:
        """A :func:`~assesskit.stats.bunching` result."""
        cols = self._cols(
            {
                "target": "target",
                "n_below": "just_below",
                "n_above": "just_above",
                "p_value": "p",
                "note": "note",
            }
        )
        return table_html(bunching, cols, digits={"target": 2, "p_value": 4})

    def consistency_table(self, rates: pd.DataFrame) -> Html:
        """Unit-years whose reported compliance disagrees with its counts
        (:func:`~assesskit.stats.rate_consistency`)."""
        bad = rates[rates["inconsistent"].fillna(False).astype(bool)]
        bad = bad.assign(name=bad["unit"].map(lambda u: self.ctx.names.get(u, u)))
        cols = self._cols({"name": "unit", "reported": "reported_pct", "computed": "computed_pct"})
        cols |= self._cols({"difference": "difference", "tolerance": "tolerance"})
        return Html(f"<h3>{esc(self.t('h3_consistency'))}</h3>") + table_html(
            bad, cols, digits=2, empty=self.t("rates_agree")
        )

    def digits_table(self, heaping: pd.DataFrame) -> Html:
        """A :func:`~assesskit.stats.digit_heaping` result."""
        cols = self._cols({"column": "column", "n": "n", "chi2": "chi2", "p_value": "p"})
        cols |= self._cols({"most_common": "most_common", "note": "note"})
        return Html(f"<h3>{esc(self.t('h3_digits'))}</h3>") + table_html(
            heaping, cols, digits={"chi2": 1, "p_value": 4}
        )

    def sensitivity_spec(self):
        """The scheme's sensitivity spec, ``params/sensitivity/<scheme id>.yaml``, or None."""
        from .. import sensitivity as sa
        from ..sensitivity.spec import specs_dir

        path = specs_dir() / f"{self.ctx.scheme.id}.yaml"
        return sa.load_spec(path, self.ctx.scheme) if path.exists() else None

    def sensitivity_baseline(self, spec):
        """:func:`assesskit.sensitivity.baseline` of this year, or None without a spec or for a
        scheme the engine does not cover (:meth:`rank_uncertainty` then says why)."""
        from .. import sensitivity as sa

        if spec is None:
            return None
        try:
            return sa.baseline(self.ctx.scheme, self.ctx.panel, year=self.year)
        except SchemeError as exc:
            self._no_baseline = str(exc)
            return None

    def rank_uncertainty(self, sim, spec) -> Html:
        """Per kind: the rank intervals and award probabilities of a
        :func:`~assesskit.sensitivity.simulate` result, with its rank-interval figure."""
        from ..plotting.sensitivity import plot_rank_intervals

        if spec is None:
            return note(self.t("no_sensitivity_spec", scheme=self.ctx.scheme.id))
        if sim is None:
            return note(self.t("no_sensitivity", why=getattr(self, "_no_baseline", "")))
        u = sim.units
        probs = [c for c in u.columns if c.startswith(("p_tier_", "p_top", "p_veto", "p_warning_"))]
        cols = self._cols({"nominal_rank": "rank", "name": "unit", "median_rank": "median_rank"})
        cols |= {"rank_q05": "5%", "rank_q95": "95%"} | {c: c.removeprefix("p_") for c in probs}
        factors = ", ".join(f.id for f in spec.factors)
        out = note(
            self.t(
                "sensitivity_note",
                draws=f"{spec.draws:,}",
                n=len(spec.factors),
                factors=factors,
                seed=spec.seed,
                scheme=self.ctx.scheme.id,
            )
        )
        for kind, d in u.groupby("kind", sort=False):
            out += table_html(d.sort_values("nominal_rank", na_position="last"), cols, digits=2)
            fig = plot_rank_intervals(sim, kind=kind, year=self.year, lang=self.lang)
            out += figure_html(fig, self.t("rank_intervals_alt", kind=kind))
        return out
