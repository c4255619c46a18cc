"""The one scoring kernel: a scheme and a panel as arrays, scored for one draw or thousands.

- :func:`prepare` — scheme × validated panel → :class:`Inputs` (every lookup, once);
- :func:`run` — :class:`Inputs` (+ a :class:`Variation` of *d* draws) → :class:`Outcome`:
  items → node totals → vetoes and eligibility → ranks, award tiers and warnings, over
  ``(draws × unit-years)`` arrays;
- :func:`rank_within` / :class:`Ranking` — the one competition-ranking implementation
  (within groups, over a leading draws axis).

:func:`assesskit.scoring.score_panel` is :func:`run` with one draw wrapped in a
:class:`~assesskit.scoring.ScoreResult`; :mod:`assesskit.sensitivity` perturbs the inputs
and calls :func:`run` for its draws.
"""

from .core import (
    EPS,
    MET,
    MISSED,
    MISSING,
    PARTIAL,
    STATUS,
    VETOED,
    Detail,
    Outcome,
    Variation,
    apply_rule,
    eval_condition,
    item_credit,
    run,
)
from .inputs import Inputs, adjustment_amounts, indicator_values, prepare, target_array
from .rank import Ranking, fill_nan, group_codes, rank_within

__all__ = [
    "EPS",
    "MET",
    "MISSED",
    "MISSING",
    "PARTIAL",
    "STATUS",
    "VETOED",
    "Detail",
    "Inputs",
    "Outcome",
    "Ranking",
    "Variation",
    "adjustment_amounts",
    "apply_rule",
    "eval_condition",
    "fill_nan",
    "group_codes",
    "indicator_values",
    "item_credit",
    "prepare",
    "rank_within",
    "run",
    "target_array",
]
