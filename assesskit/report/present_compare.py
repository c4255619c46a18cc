"""The presentation blocks of a scheme comparison (see ``notebooks/scheme_comparison.ipynb``).

The comparison itself is :func:`assesskit.sensitivity.compare_schemes`; the rank figure is
:func:`assesskit.plotting.scores.plot_rank_changes`. A :class:`ComparisonPage` lays out one
year of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..exceptions import ReportError
from .present_legacy import ComparisonPageAliases
from .tables import Html, esc, figure_html, plot_safe, table_html

if TYPE_CHECKING:
    from ..sensitivity.compare import Comparison
    from .pages import ReportContext

__all__ = ["ComparisonPage"]


class ComparisonPage(ComparisonPageAliases):
    """Two schemes (or a scheme and its variant) on the same data, one year.

    Parameters
    ----------
    a, b : ReportContext
        The two contexts (same data).
    year : int
    label_a, label_b : str
        Short names of the two.
    comparison : Comparison, optional
        :func:`assesskit.sensitivity.compare_schemes` of the two results (computed here
        when not given).
    """

    def __init__(
        self,
        a: ReportContext,
        b: ReportContext,
        year: int,
        label_a: str = "A",
        label_b: str = "B",
        comparison: Comparison | None = None,
    ) -> None:
        from ..sensitivity import compare_schemes

        self.a, self.b, self.year = a, b, int(year)
        self.label_a, self.label_b = label_a, label_b
        self.comparison = comparison or compare_schemes(a.result, b.result, names=(label_a, label_b))
        u = self.comparison.units
        self.units = u[u["year"] == self.year].reset_index(drop=True)
        if self.units.empty:
            raise ReportError(f"{self.year}: neither scheme scores a unit in this year")

    @property
    def kinds(self) -> list[str]:
        """The kinds of unit compared this year, in order."""
        return list(pd.unique(self.units["kind"]))

    def header(self) -> Html:
        return Html(
            f'<header class="ak-title"><h1>{esc(self.label_a)} ↔ {esc(self.label_b)} <small>{self.year}</small></h1>'
            f"<p>{esc(self.a.scheme.label)} · {esc('方案比较 scheme comparison')}</p></header>"
        )

    def agreement(self) -> Html:
        """Per kind: Spearman and Kendall correlation of the ranks, how many units moved and how far."""
        s = self.comparison.summary
        cols = {
            "kind": "kind",
            "units": "units",
            "ranked_both": "ranked under both",
            "spearman": "Spearman ρ",
        }
        cols |= {"kendall_tau": "Kendall τ", "n_moved": "units whose rank changed"}
        cols |= {"mean_abs_shift": "mean |shift|", "max_abs_shift": "max |shift|"}
        cols |= {"n_award_changed": "award changed", "n_veto_changed": "veto changed"}
        digits = {"spearman": 3, "kendall_tau": 3, "mean_abs_shift": 2, "max_abs_shift": 0}
        return table_html(s[s["year"] == self.year], cols, digits=digits)

    def rank_figures(self) -> Html:
        """One rank-change figure per kind (:func:`~assesskit.plotting.scores.plot_rank_changes`)."""
        from ..plotting import label
        from ..plotting.scores import plot_rank_changes

        out = Html("")
        for kind in self.kinds:
            k = self.a.scheme.kinds.get(kind)
            what = plot_safe(label(k.label, k.label_en or kind) if k else kind)
            title = label(f"{self.year} 年名次变化（红色：名次变化）", f"Ranks, {self.year} (red: moved)")
            ax = plot_rank_changes(
                self.comparison,
                year=self.year,
                kind=kind,
                labels=(plot_safe(self.label_a), plot_safe(self.label_b)),
                names=self.a.plot_names,
                title=f"{title} · {what}",
            )
            out += figure_html(ax, f"ranks under the two schemes, {kind}")
        return out

    def movers(self) -> Html:
        """Every unit's totals and ranks under both, its award change and the items that moved it."""
        m = self.units.sort_values(["kind", "rank_b"], kind="stable").reset_index(drop=True)
        aw_a = m["award_a"].fillna("").map(lambda a: self.a.label_of("award", a) if a else "")
        aw_b = m["award_b"].fillna("").map(lambda a: self.b.label_of("award", a) if a else "")
        m = m.assign(
            moved_up=-m["shift"],
            award_change=np.where(aw_a != aw_b, aw_a + " → " + aw_b, ""),
        )
        cols = {
            "name": "unit",
            "kind": "kind",
            "total_a": f"total {self.label_a}",
            "total_b": f"total {self.label_b}",
        }
        cols |= {
            "rank_a": f"rank {self.label_a}",
            "rank_b": f"rank {self.label_b}",
            "moved_up": "moved up by",
        }
        cols |= {"award_change": "award", "main_items": "items that moved it (change of contribution, pp)"}
        digits = {"total_a": 1, "total_b": 1, "rank_a": 0, "rank_b": 0, "moved_up": 0}
        return table_html(m, cols, digits=digits, highlight=(m["shift"] != 0).to_numpy())
