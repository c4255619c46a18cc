"""Rescoring a design variant through the one kernel, with the inputs prepared once.

:class:`Rescorer` prepares the kernel's inputs (:func:`assesskit.kernel.prepare`) and
every item's nominal credit (:func:`assesskit.kernel.with_credit`) once. A variant
scheme (:meth:`assesskit.explore.Design.to_scheme`) then swaps into those inputs: new
item points, the targets and credit of the items whose rule or points changed (only
those items are evaluated again), the bonuses and deductions when they changed; then
:func:`assesskit.kernel.run` scores it and :func:`assesskit.scoring.result_of` wraps it
as an ordinary :class:`~assesskit.scoring.ScoreResult`. The result is the same as
preparing the variant from scratch (tested), only faster.

:func:`league` and :func:`changed_units` are the explorer's tables: pure functions of two
results.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..data import Panel
from ..kernel import item_credit, prepare, run, target_array, with_credit
from ..kernel.inputs import adjustment_amounts
from ..scheme import Scheme
from ..scoring import ScoreResult, result_of

LEAGUE_COLUMNS = [
    "unit",
    "name",
    "kind",
    "year",
    "rank",
    "total",
    "rank_original",
    "total_original",
    "rank_change",
    "award",
    "award_original",
    "veto",
    "veto_original",
    "veto_reason",
]
"""Columns of :func:`league`. ``rank_change`` is the original position minus the variant's
(positive: moved up; an unranked unit counts as just below the last ranked one)."""


class Rescorer:
    """Scores variants of one scheme on one panel, reusing what a variant leaves unchanged.

    Parameters
    ----------
    scheme : Scheme
        The original scheme.
    panel : Panel
        Validated (:func:`assesskit.read_panel`).
    years : list of int, optional
        Years to score (default every year of the panel inside the scheme's years).
    """

    def __init__(self, scheme: Scheme, panel: Panel, years: list[int] | None = None):
        self.scheme = scheme
        self.inputs = with_credit(prepare(scheme, panel, years))
        self.original = result_of(self.inputs)

    def inputs_for(self, variant: Scheme):
        """The kernel's inputs for ``variant`` (the same tree of items as the original)."""
        base = self.inputs
        if variant is self.scheme:
            return base
        old, new = self.scheme.flat_items, variant.flat_items
        if [p for p, _ in old] != [p for p, _ in new]:
            raise ValueError("a variant for the explorer keeps the original's lines, sections and items")
        targets = dict(base.targets)
        changed = [j for j, ((_p, a), (_q, b)) in enumerate(zip(old, new)) if a != b]
        for j in changed:
            it = new[j][1]
            t = getattr(it.rule, "target", None)
            if t is not None and t != getattr(old[j][1].rule, "target", None):
                # a number or per category (the explorer leaves target tables as they are)
                targets[it.id] = target_array(it, base.rows, base.panel.targets, None)
        inp = dataclasses.replace(
            base,
            scheme=variant,
            targets=targets,
            points=np.array([np.nan if it.points is None else it.points for _p, it in new]),
            credit=base.credit.copy() if changed else base.credit,
            _cache={k: v for k, v in base._cache.items() if k == "prev_row"},
        )
        for j in changed:  # a rule reads its points (graded in points, per case): evaluate again
            inp.credit[j] = item_credit(inp, j)
        if variant.adjustments != self.scheme.adjustments:
            adjust, bonus, deduction = adjustment_amounts(variant, inp.values, inp.of_kinds, (inp.n,))
            inp = dataclasses.replace(inp, adjustments=adjust, bonus=bonus, deduction=deduction)
        return inp

    def score(self, variant: Scheme) -> ScoreResult:
        """The variant's :class:`~assesskit.scoring.ScoreResult` (the original's when unchanged)."""
        if variant is self.scheme:
            return self.original
        inp = self.inputs_for(variant)
        return result_of(inp, run(inp, detail=True))


def _position(summary: pd.DataFrame) -> np.ndarray:
    """Rank, with unranked units just below the last ranked unit of their year and kind."""
    rank = summary["rank"].to_numpy(dtype=float, na_value=np.nan)
    n = summary["n_ranked"].to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(rank), n + 1, rank)


def league(original: ScoreResult, variant: ScoreResult) -> pd.DataFrame:
    """The variant's league table beside the original's (columns :data:`LEAGUE_COLUMNS`).

    Rows in the variant's order (year, kind, rank; unranked last).
    """
    a = original.summary.set_index(["unit", "year"])
    b = variant.summary
    key = pd.MultiIndex.from_frame(b[["unit", "year"]])
    a = a.reindex(key)
    pos_a = _position(a.reset_index())
    pos_b = _position(b)
    out = pd.DataFrame(
        {
            "unit": b["unit"].to_numpy(),
            "name": b["name"].to_numpy(),
            "kind": b["kind"].to_numpy(),
            "year": b["year"].to_numpy(),
            "rank": b["rank"].to_numpy(),
            "total": b["total"].to_numpy(),
            "rank_original": a["rank"].to_numpy(),
            "total_original": a["total"].to_numpy(),
            "rank_change": pos_a - pos_b,
            "award": b["award"].to_numpy(),
            "award_original": a["award"].to_numpy(),
            "veto": b["veto"].to_numpy(),
            "veto_original": a["veto"].to_numpy(),
            "veto_reason": b["veto_reason"].to_numpy(),
        }
    )
    return out.astype({"rank": "Int64", "rank_original": "Int64"})


def changed_units(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a :func:`league` table whose award or veto changed."""
    m = (table["award"] != table["award_original"]) | (table["veto"] != table["veto_original"])
    return table[m.to_numpy()]
