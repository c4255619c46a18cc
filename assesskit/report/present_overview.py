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
from .present_legacy import OverviewPageAliases
from .tables import Html, esc, figure_html, note, table_html

if TYPE_CHECKING:
    from .pages import ReportContext

__all__ = ["OverviewPage"]

_TREND_COLUMNS = {"measure": "measure", "name": "unit", "first_year": "from", "last_year": "to"}
_TREND_COLUMNS |= {"pooled": "pooled", "z": "z", "p_value": "p", "direction": "direction", "note": "note"}


class OverviewPage(OverviewPageAliases):
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
            status = np.where(d["veto"], "veto", np.where(d["eligible"], "", "ineligible"))
            d = d.assign(
                award_label=d["award"].map(lambda a: ctx.label_of("award", a) if a else ""),
                singles=d["single_awards"].map(lambda a: ctx.label_of("single_awards", a) if a else ""),
                warn=d["warning"].map(lambda a: ctx.label_of("warning", a) if a else ""),
                status=np.where(d["not_scored"], "not scored", status),
            )
            cols = {"rank": "rank", "name": "unit", "category": "category", "total": "total"}
            cols.update({c: lab for c, lab in line_cols.items() if d[c].notna().any()})
            cols |= {"bonus": "bonus", "deduction": "deduction", "award_label": "award"}
            cols |= {"singles": "single awards", "warn": "warning", "status": "status"}
            links = {i: ctx.link(u) for i, u in enumerate(d["unit"]) if u in self.unit_pages}
            title = ctx.scheme.kinds[kind].label if kind in ctx.scheme.kinds else kind
            hl = (d["veto"] | d["not_scored"]).to_numpy()
            out += Html(f"<h3>{esc(title)}</h3>") + table_html(
                d, cols, digits=1, links=links, link_column="name", highlight=hl
            )
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

    def outside_limits(self, funnel: pd.DataFrame, level: str = "998") -> Html:
        """The units outside the funnel's limits at ``level`` (``"998"``: 99.8%)."""
        out = funnel[funnel[f"outside_{level}"].isin(["above", "below"])]
        who = ", ".join(self.ctx.names.get(u, u) for u in out["unit"]) or "none"
        return note(f"Outside the {float(level[:2] + '.' + level[2:]):g}% limits: {who}.")

    def heterogeneity_table(self, *tables: pd.DataFrame) -> Html:
        """:func:`~assesskit.stats.heterogeneity` results (each with a ``measure`` column)."""
        cols = {"measure": "measure", "units": "units", "pooled": "pooled", "chi2": "χ²", "df": "df"}
        cols |= {"p_value": "p", "phi": "φ", "note": "note"}
        digits = {"pooled": 4, "chi2": 1, "p_value": 4, "phi": 2, "df": 0}
        return table_html(pd.concat(tables, ignore_index=True), cols, digits=digits)

    def trend_table(self, measure: str, pooled: pd.DataFrame, per_unit: pd.DataFrame) -> Html:
        """Pooled and per-unit :func:`~assesskit.stats.cochran_armitage` results of one measure."""
        t = pd.concat([pooled.assign(unit="(all units)"), per_unit], ignore_index=True).assign(
            measure=measure
        )
        t = t.assign(name=t["unit"].map(lambda u: self.ctx.names.get(u, u)))
        digits = {"pooled": 4, "z": 2, "p_value": 4}
        return table_html(t, _TREND_COLUMNS, digits=digits, highlight=(t["p_value"] < 0.05).to_numpy())

    def diagnostics_figures(self, diagnostics: pd.DataFrame, weights: pd.DataFrame) -> Html:
        """Ceiling/floor and effective-weight figures of each kind with at least two units."""
        from ..plotting.diagnostics import plot_ceiling_floor, plot_effective_weights

        out, n_of = Html(""), self.summary["kind"].value_counts()
        for kind in pd.unique(diagnostics["kind"]):
            if n_of.get(kind, 0) < 2:
                continue
            out += figure_html(plot_ceiling_floor(diagnostics, year=self.year, kind=kind))
            try:
                out += figure_html(plot_effective_weights(weights, year=self.year, kind=kind))
            except AssessKitError as exc:
                out += note(f"effective weights: {exc}")
        return out

    def diagnostics_tables(self, diagnostics: pd.DataFrame, attainability: pd.DataFrame) -> Html:
        """Items with a note (:func:`~assesskit.stats.item_diagnostics`) and targets with a note
        (:func:`~assesskit.stats.target_attainability`)."""
        flagged = diagnostics[diagnostics["note"].astype(str).str.len() > 0]
        cols = {"kind": "kind", "label": "item", "max_points": "max", "mean_fraction": "mean share"}
        cols |= {"ceiling_share": "full marks", "floor_share": "zero", "item_total_r": "item–total r"}
        cols |= {"effective_weight": "effective weight", "note": "note"}
        digits = dict.fromkeys(("mean_fraction", "ceiling_share", "floor_share", "item_total_r"), 2)
        out = Html("<h3>Items with a note</h3>") + table_html(
            flagged,
            cols,
            digits={**digits, "max_points": 1, "effective_weight": 3},
            empty="no item has a note",
        )
        ta = attainability
        ta = ta[ta["year"] == self.year] if "year" in ta.columns else ta
        notes = ta[ta["note"].astype(str).str.len() > 0] if "note" in ta.columns else ta.iloc[:0]
        cols = {"kind": "kind", "label": "item", "target_min": "target (min)", "target_max": "target (max)"}
        cols |= {"n_met": "met", "n_missed": "missed", "share_met": "share met", "note": "note"}
        return (
            out
            + Html("<h3>Targets</h3>")
            + table_html(
                notes,
                cols,
                digits={"target_min": 2, "target_max": 2, "share_met": 2},
                empty="every target is met by some units and missed by others",
            )
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
        cols = {
            "target": "target",
            "n_below": "just below",
            "n_above": "just above",
            "p_value": "p",
            "note": "note",
        }
        return table_html(bunching, cols, digits={"target": 2, "p_value": 4})

    def consistency_table(self, rates: pd.DataFrame) -> Html:
        """Unit-years whose reported compliance disagrees with its counts
        (:func:`~assesskit.stats.rate_consistency`)."""
        bad = rates[rates["inconsistent"].fillna(False).astype(bool)]
        bad = bad.assign(name=bad["unit"].map(lambda u: self.ctx.names.get(u, u)))
        cols = {"name": "unit", "reported": "reported %", "computed": "from counts %"}
        cols |= {"difference": "difference", "tolerance": "tolerance"}
        return Html("<h3>Reported against computed compliance</h3>") + table_html(
            bad, cols, digits=2, empty="every reported rate agrees with its counts"
        )

    def digits_table(self, heaping: pd.DataFrame) -> Html:
        """A :func:`~assesskit.stats.digit_heaping` result."""
        cols = {"column": "column", "n": "n", "chi2": "χ²", "p_value": "p", "most_common": "most common"}
        return Html("<h3>Terminal digits of the counts</h3>") + table_html(
            heaping, cols | {"note": "note"}, digits={"chi2": 1, "p_value": 4}
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
            return note(
                f"No sensitivity spec for {self.ctx.scheme.id} in params/sensitivity/: write one to see how "
                'solid these ranks are (see the README, "Sensitivity of rankings").'
            )
        if sim is None:
            why = getattr(self, "_no_baseline", "")
            return note(f"Sensitivity analysis not available for this scheme: {why}")
        u = sim.units
        probs = [c for c in u.columns if c.startswith(("p_tier_", "p_top", "p_veto", "p_warning_"))]
        cols = {"nominal_rank": "rank", "name": "unit", "median_rank": "median rank"}
        cols |= {"rank_q05": "5%", "rank_q95": "95%"} | {c: c.removeprefix("p_") for c in probs}
        factors = ", ".join(f.id for f in spec.factors)
        out = note(
            f"{spec.draws:,} draws of {len(spec.factors)} factors ({factors}), seed {spec.seed}; spec "
            f"{self.ctx.scheme.id}.yaml. A rank interval that spans many places means the ranking there "
            "is more design and noise than performance."
        )
        for kind, d in u.groupby("kind", sort=False):
            out += table_html(d.sort_values("nominal_rank", na_position="last"), cols, digits=2)
            out += figure_html(plot_rank_intervals(sim, kind=kind, year=self.year), f"rank intervals, {kind}")
        return out
