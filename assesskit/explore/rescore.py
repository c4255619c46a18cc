"""Rescoring a design variant through the one kernel, with the inputs prepared once.

:class:`Rescorer` prepares the kernel's inputs (:func:`assesskit.kernel.prepare`) and
every item's nominal credit (:func:`assesskit.kernel.with_credit`) once. A variant
scheme (:meth:`assesskit.explore.Design.to_scheme`) then swaps into those inputs: new
item points, the targets and credit of the items whose rule or points changed (only
those items are evaluated again), the bonuses and deductions when they changed; then
:func:`assesskit.kernel.run` scores it and :func:`assesskit.scoring.result_of` wraps it
as an ordinary :class:`~assesskit.scoring.ScoreResult` when the tables are wanted
(``Scored.result``). The result is the same as preparing the variant from scratch
(tested), only faster.

:func:`league` and :func:`changed_units` are the explorer's tables: pure functions of two
results.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..data import Panel
from ..kernel import Inputs, Outcome, item_credit, prepare, run, target_array, with_credit
from ..kernel.inputs import adjustment_amounts
from ..scheme import Scheme
from ..scoring import ScoreResult, join_labels, result_of

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
        self.original = Scored(self.inputs, run(self.inputs, detail=True))

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

    def score(self, variant: Scheme) -> Scored:
        """The variant scored (the original's scores when unchanged)."""
        if variant is self.scheme:
            return self.original
        inp = self.inputs_for(variant)
        return Scored(inp, run(inp, detail=True))


@dataclass(frozen=True, eq=False)
class Scored:
    """A variant's kernel inputs and outcome; ``result`` builds the full
    :class:`~assesskit.scoring.ScoreResult` (summary, item table with reasons) on demand,
    without scoring again: the league table needs only the outcome's arrays."""

    inputs: Inputs
    outcome: Outcome

    @cached_property
    def result(self) -> ScoreResult:
        return result_of(self.inputs, self.outcome)

    @property
    def summary(self) -> pd.DataFrame:
        return self.result.summary


def league(original: Scored, variant: Scored) -> pd.DataFrame:
    """The variant's league table beside the original's (columns :data:`LEAGUE_COLUMNS`).

    Straight from the kernel's arrays (both share the rows of the prepared inputs); rows
    sorted by year, kind and the variant's rank (unranked last), then unit.
    """
    rows = variant.inputs.rows
    a, b = original.outcome, variant.outcome
    tiers = np.array([t.id for t in variant.inputs.scheme.outcomes.tiers] + [""], dtype=object)
    tiers_a = np.array([t.id for t in original.inputs.scheme.outcomes.tiers] + [""], dtype=object)
    eff = b.detail.effects
    n = variant.inputs.n
    out = pd.DataFrame(
        {
            "unit": rows["unit"].to_numpy(),
            "name": rows["name"].to_numpy(),
            "kind": rows["kind"].to_numpy(),
            "year": rows["year"].to_numpy(),
            "rank": b.rank[0],
            "total": b.total[0],
            "rank_original": a.rank[0],
            "total_original": a.total[0],
            "rank_change": a.position[0] - b.position[0],
            "award": tiers[b.tier[0]],
            "award_original": tiers_a[a.tier[0]],
            "veto": b.vetoed[0],
            "veto_original": a.vetoed[0],
            "veto_reason": join_labels([(m[0], lab) for m, lab in eff["not_scored"] + eff["veto"]], n),
        }
    )
    units = out["unit"]  # the inputs' rows are in unit order (Panel.data is sorted)
    unit_key = np.arange(n) if units.is_monotonic_increasing else pd.factorize(units, sort=True)[0]
    pos = np.where(np.isnan(b.rank[0]), np.inf, b.rank[0])
    order = np.lexsort((unit_key, pos, variant.inputs.kind, out["year"].to_numpy()))
    out = out.iloc[order].reset_index(drop=True)
    return out.astype({"rank": "Int64", "rank_original": "Int64"})


def changed_units(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a :func:`league` table whose award or veto changed."""
    m = (table["award"] != table["award_original"]) | (table["veto"] != table["veto_original"])
    return table[m.to_numpy()]
