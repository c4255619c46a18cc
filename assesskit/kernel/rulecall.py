"""What the kernel asks the rule registry: a rule type's function and how to call it.

The registry (:func:`assesskit.kernel.rules.rule_type`) holds everything about a rule
type; the scoring kernel needs three facts — the vectorised function, whether the rule
compares peers (``peer``: it gets each draw's own peer groups) and whether it accepts
arrays with a leading draws axis (``broadcasts``; the others get flat arrays).
"""

from __future__ import annotations

from .rules import RuleInput, RuleType, rule_type

__all__ = ["RuleInput", "RuleType", "rule_info", "score_rule"]


def rule_info(name: str) -> RuleType:
    """The registry's entry for rule type ``name``."""
    return rule_type(name)


def score_rule(name: str) -> bool:
    """The rule returns the item's score itself (a normalised value), not a share of its points."""
    return rule_type(name).score
