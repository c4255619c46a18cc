"""The kernel layer: the rule registry (:mod:`.rules`), the normalisation and aggregation
kernels (:mod:`.aggregate`) and the one scoring kernel — a scheme and a panel as arrays,
scored for one draw or thousands.

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

from importlib import import_module

# Lazy: the scheme model imports this package's registry and aggregation kernels, and the
# scoring kernel imports the scheme model, so the package itself loads nothing eagerly.
_HOME = {
    **dict.fromkeys(
        ("EPS", "MET", "MISSED", "MISSING", "PARTIAL", "STATUS", "VETOED", "Detail", "Outcome", "Variation"),
        "core",
    ),
    **dict.fromkeys(("apply_rule", "eval_condition", "item_credit", "with_credit"), "core"),
    **dict.fromkeys(
        ("Inputs", "adjustment_amounts", "indicator_values", "prepare", "target_array"), "inputs"
    ),
    **dict.fromkeys(("Ranking", "fill_nan", "group_codes", "rank_within"), "rank"),
    "run": "pipeline",
}


def __getattr__(name: str):
    if name in _HOME:
        return getattr(import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "with_credit",
]
