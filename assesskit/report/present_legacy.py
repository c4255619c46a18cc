"""The page methods of earlier versions, kept for one release as deprecated aliases.

Earlier templates called one method per section (``page.srb()``, ``page.funnels()``…) that
computed and drew inside the page. The bundled templates now show those few lines of
public API in the notebook itself; a custom template that still calls the old methods gets
the same blocks, computed by the same library calls, and a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import warnings

from .tables import Html, note, show


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"{old}() is deprecated and will be removed in the next release: {new} "
        "(see the bundled templates in notebooks/)",
        DeprecationWarning,
        stacklevel=3,
    )


class UnitPageAliases:
    """``UnitPage.sections/trend/srb/compliance/quality`` of earlier versions."""

    def sections(self) -> Html:
        from ..plotting.scores import plot_section_shares

        _deprecated("UnitPage.sections", "use page.section_shares() with plotting.scores.plot_section_shares")
        shares = self.section_shares()
        if shares.empty:
            return note("no section scores for this unit-year")
        return show(plot_section_shares(shares, unit_label=self.plot_name), self.sections_table(shares))

    def trend(self) -> Html:
        from ..plotting.scores import plot_total_trend

        _deprecated("UnitPage.trend", "use plotting.scores.plot_total_trend and page.totals_table()")
        return show(plot_total_trend(self.ctx.summary, unit=self.unit, year=self.year), self.totals_table())

    def srb(self) -> Html:
        from .. import stats
        from ..plotting.srb import plot_srb_intervals, plot_srb_series

        _deprecated("UnitPage.srb", "use stats.sex_ratio with plotting.srb")
        ctx = self.ctx
        if not ctx.has("male_births", "female_births"):
            return note("The panel has no male_births / female_births columns: no sex ratio at birth.")
        own = stats.compare_with_national(stats.sex_ratio(ctx.rows_of_unit(self.unit), family=None))
        peers = stats.sex_ratio(ctx.rows_of_year(self.year))
        return show(
            plot_srb_series(own, units=[self.unit], names=ctx.plot_names),
            plot_srb_intervals(peers, year=self.year, names=ctx.plot_names, highlight=[self.unit]),
            self.srb_verdict(peers),
            self.srb_table(own),
        )

    def compliance(self) -> Html:
        from .. import stats
        from ..plotting import label
        from ..plotting.srb import plot_trend

        _deprecated(
            "UnitPage.compliance",
            "use stats.proportion_ci, stats.cochran_armitage and plotting.srb.plot_trend",
        )
        ctx = self.ctx
        if not ctx.has("policy_births", "births"):
            return note("The panel has no policy_births / births columns: no compliance trend.")
        rows = ctx.rows_of_unit(self.unit)
        rates = stats.proportion_ci(rows, "policy_births", "births", scale=100)
        ca = stats.cochran_armitage(rows, "policy_births", "births")
        mk = stats.mann_kendall(rates, "estimate")
        fig = plot_trend(
            rates, ca, names=ctx.plot_names, ylabel=label("出生政策符合率 %", "policy compliance, %")
        )
        return show(fig, self.trend_tests(ca, mk), self.rates_table(rates))

    def quality(self) -> Html:
        from .. import stats

        _deprecated("UnitPage.quality", "use page.quality_flags with stats.count_consistency")
        ctx, rows = self.ctx, self.ctx.rows_of_unit(self.unit)
        rates = (
            stats.rate_consistency(rows)
            if ctx.has("policy_rate_reported", "policy_births", "births")
            else None
        )
        return self.quality_flags(rows, stats.count_consistency(rows), rates)


class OverviewPageAliases:
    """``OverviewPage.funnels/heterogeneity/trends/diagnostics/quality/sensitivity`` of earlier versions."""

    def funnels(self) -> Html:
        from .. import stats
        from ..plotting.funnel import plot_funnel

        _deprecated(
            "OverviewPage.funnels", "use stats.funnel_sex_ratio / funnel_proportions with plot_funnel"
        )
        ctx, rows, out = self.ctx, self.ctx.rows_of_year(self.year), Html("")
        if ctx.has("male_births", "female_births"):
            f = stats.funnel_sex_ratio(rows)
            out += show(plot_funnel(f, names=ctx.plot_names), self.outside_limits(f))
        if ctx.has("policy_births", "births"):
            f = stats.funnel_proportions(rows, "policy_births", "births", overdispersion="additive")
            out += show(plot_funnel(f, names=ctx.plot_names))
        return out if out.html else note("The panel has no birth counts: no funnel plot.")

    def heterogeneity(self) -> Html:
        from .. import stats

        _deprecated("OverviewPage.heterogeneity", "use stats.heterogeneity and page.heterogeneity_table")
        rows, parts = self.ctx.rows_of_year(self.year), []
        for num, what in (("male_births", "male share of births"), ("policy_births", "policy compliance")):
            if self.ctx.has(num, "births"):
                parts.append(stats.heterogeneity(rows, num, "births").assign(measure=what))
        return self.heterogeneity_table(*parts) if parts else note("The panel has no birth counts.")

    def trends(self) -> Html:
        from .. import stats

        _deprecated("OverviewPage.trends", "use stats.cochran_armitage and page.trend_table")
        rows, out = self.ctx.rows_of_year(self.year, upto=True), Html("")
        for num, what in (("policy_births", "policy compliance"), ("male_births", "male share of births")):
            if self.ctx.has(num, "births"):
                pooled = stats.cochran_armitage(rows, num, "births", unit=None)
                out += self.trend_table(what, pooled, stats.cochran_armitage(rows, num, "births"))
        return out if out.html else note("The panel has no birth counts.")

    def diagnostics(self) -> Html:
        from .. import stats

        _deprecated(
            "OverviewPage.diagnostics", "use stats.item_diagnostics / effective_weights and the page tables"
        )
        r = self.ctx.result
        d = stats.item_diagnostics(r).query("year == @self.year")
        w = stats.effective_weights(r).query("year == @self.year")
        return self.diagnostics_figures(d, w) + self.diagnostics_tables(d, stats.target_attainability(r))

    def quality(self) -> Html:
        from .. import stats
        from ..plotting.funnel import plot_bunching

        _deprecated(
            "OverviewPage.quality",
            "use stats.bunching / rate_consistency / digit_heaping and the page tables",
        )
        ctx, rows, out = self.ctx, self.ctx.rows_of_year(self.year), Html("")
        target = self.policy_target()
        if target is not None and ctx.has("policy_births", "births"):
            b = stats.bunching(rows, target=target, by=None)
            out += show(plot_bunching(rows, target=target), self.bunching_table(b))
        if ctx.has("policy_rate_reported", "policy_births", "births"):
            out += self.consistency_table(stats.rate_consistency(rows))
        cols = [c for c in ("births", "male_births", "female_births", "policy_births") if c in rows.columns]
        return out + self.digits_table(stats.digit_heaping(rows, cols)) if cols else out

    def sensitivity(self) -> Html:
        from .. import sensitivity as sa

        _deprecated(
            "OverviewPage.sensitivity",
            "use page.sensitivity_spec, sensitivity.simulate and page.rank_uncertainty",
        )
        spec = self.sensitivity_spec()
        base = self.sensitivity_baseline(spec)
        sim = sa.simulate(base, spec, draws=spec.draws, seed=spec.seed) if base is not None else None
        return self.rank_uncertainty(sim, spec)


class ComparisonPageAliases:
    """``ComparisonPage.correlation`` of earlier versions (``movers`` keeps its name)."""

    def correlation(self) -> Html:
        _deprecated("ComparisonPage.correlation", "use page.agreement() (from sensitivity.compare_schemes)")
        return self.agreement()
