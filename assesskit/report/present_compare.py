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
from ..i18n import check_lang, pick
from ..i18n import t as _t
from .present_legacy import ComparisonPageAliases
from .tables import Html, esc, figure_html, note, plot_safe, table_html

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
    lang : {"bilingual", "zh", "en"}
        The language of the labels (:mod:`assesskit.i18n`).
    """

    def __init__(
        self,
        a: ReportContext,
        b: ReportContext,
        year: int,
        label_a: str = "A",
        label_b: str = "B",
        comparison: Comparison | None = None,
        lang: str | None = None,
    ) -> None:
        from ..sensitivity import compare_schemes

        self.lang = check_lang(lang)
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

    def t(self, key: str, **fields: object) -> str:
        """A catalogue label in the page's language (:func:`assesskit.i18n.t`)."""
        return _t(key, self.lang, **fields)

    def heading(self, key: str) -> Html:
        """A section's heading ``h_<key>`` and its sentence ``p_<key>`` in the page's language."""
        return Html(f"<h2>{esc(self.t('h_' + key))}</h2>") + note(self.t("p_" + key), "ak-intro")

    def header(self) -> Html:
        s = self.a.scheme
        return Html(
            f'<header class="ak-title"><h1>{esc(self.label_a)} ↔ {esc(self.label_b)} <small>{self.year}</small></h1>'
            f"<p>{esc(pick(s.label, s.label_en, self.lang))} · {esc(self.t('scheme_comparison'))}</p></header>"
        )

    def agreement(self) -> Html:
        """Per kind: Spearman and Kendall correlation of the ranks, how many units moved and how far."""
        s = self.comparison.summary
        tt = self.t
        cols = {"kind": tt("kind"), "units": tt("units_n"), "ranked_both": tt("units_ranked_both")}
        cols |= {"spearman": "Spearman ρ", "kendall_tau": "Kendall τ", "n_moved": tt("moved")}
        cols |= {"mean_abs_shift": "mean |shift|", "max_abs_shift": "max |shift|"}
        cols |= {"n_award_changed": tt("award_changed"), "n_veto_changed": tt("veto_changed")}
        if self.lang == "zh":
            cols |= {"mean_abs_shift": "平均 |名次变化|", "max_abs_shift": "最大 |名次变化|"}
        digits = {"spearman": 3, "kendall_tau": 3, "mean_abs_shift": 2, "max_abs_shift": 0}
        return table_html(self._kinds(s[s["year"] == self.year]), cols, digits=digits)

    def _kinds(self, d: pd.DataFrame) -> pd.DataFrame:
        """The ``kind`` column as the scheme names the kinds (ids on bilingual pages, as before)."""
        if self.lang == "bilingual":
            return d
        kinds = self.a.scheme.kinds
        return d.assign(
            kind=d["kind"].map(
                lambda k: pick(kinds[k].label, kinds[k].label_en, self.lang) if k in kinds else k
            )
        )

    def rank_figures(self) -> Html:
        """One rank-change figure per kind (:func:`~assesskit.plotting.scores.plot_rank_changes`)."""
        from ..plotting import label
        from ..plotting.scores import plot_rank_changes

        out = Html("")
        for kind in self.kinds:
            k = self.a.scheme.kinds.get(kind)
            what = plot_safe(label(k.label, k.label_en or kind, lang=self.lang) if k else kind)
            title = label(
                f"{self.year} 年名次变化（红色：名次变化）",
                f"Ranks, {self.year} (red: moved)",
                lang=self.lang,
            )
            ax = plot_rank_changes(
                self.comparison,
                year=self.year,
                kind=kind,
                labels=(plot_safe(self.label_a), plot_safe(self.label_b)),
                names=self.a.plot_names,
                title=f"{title} · {what}",
                lang=self.lang,
            )
            out += figure_html(ax, self.t("ranks_alt", kind=kind if self.lang == "bilingual" else what))
        return out

    def movers(self) -> Html:
        """Every unit's totals and ranks under both, its award change and the items that moved it."""
        m = self.units.sort_values(["kind", "rank_b"], kind="stable").reset_index(drop=True)
        aw_a = m["award_a"].fillna("").map(lambda a: self.a.label_of("award", a, self.lang) if a else "")
        aw_b = m["award_b"].fillna("").map(lambda a: self.b.label_of("award", a, self.lang) if a else "")
        m = m.assign(
            moved_up=-m["shift"],
            award_change=np.where(aw_a != aw_b, aw_a + " → " + aw_b, ""),
        )
        tt, la, lb = self.t, self.label_a, self.label_b
        cols = {
            "name": tt("unit"),
            "kind": tt("kind"),
            "total_a": tt("total_of", s=la),
            "total_b": tt("total_of", s=lb),
        }
        cols |= {"rank_a": tt("rank_of_scheme", s=la), "rank_b": tt("rank_of_scheme", s=lb)}
        cols |= {
            "moved_up": tt("moved_up"),
            "award_change": "award" if self.lang == "bilingual" else tt("award"),
        }
        cols |= {"main_items": tt("main_items")}
        digits = {"total_a": 1, "total_b": 1, "rank_a": 0, "rank_b": 0, "moved_up": 0}
        return table_html(self._kinds(m), cols, digits=digits, highlight=(m["shift"] != 0).to_numpy())
