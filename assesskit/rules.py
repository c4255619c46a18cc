"""The rule registry (re-exported from :mod:`assesskit.kernel.rules`, where it lives).

``from assesskit.rules import rule_type, RULE_TYPES`` gives every rule type's function,
describer, parameter model, checks, peer/per-unit flag, breakpoints, alternative form and
direction; ``RULES``, ``DESCRIBERS``, ``SCORE_RULES``, ``RuleInput`` and the text helpers
keep their old import path.
"""

from .kernel.rules import (
    DESCRIBERS,
    RULE_TYPES,
    RULES,
    SCORE_RULES,
    TEXT,
    Breakpoints,
    RuleInput,
    RuleType,
    bands,
    cat,
    change,
    curve,
    fmt,
    graded,
    linear,
    normalise,
    per_case,
    range_,
    register,
    rule_type,
    rule_union,
    threshold,
)

__all__ = [
    "DESCRIBERS",
    "RULES",
    "RULE_TYPES",
    "SCORE_RULES",
    "TEXT",
    "Breakpoints",
    "RuleInput",
    "RuleType",
    "bands",
    "cat",
    "change",
    "curve",
    "fmt",
    "graded",
    "linear",
    "normalise",
    "per_case",
    "range_",
    "register",
    "rule_type",
    "rule_union",
    "threshold",
]
