"""What the kernel asks the rule registry: a rule type's function and how to call it.

The registry (:func:`assesskit.rules.rule_type`) holds everything about a rule type; the
kernel needs three facts — the vectorised function, whether the rule compares peers
(``peer``: it needs each draw's peer groups) and whether it accepts arrays with a leading
draws axis (``broadcasts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .. import rules as _rules


@dataclass(frozen=True)
class RuleCall:
    name: str
    fn: object
    peer: bool
    broadcasts: bool
    input: object  # RuleInput(value, target, prev, points, group)


@cache
def rule_info(name: str) -> RuleCall:
    """The registry's entry for rule type ``name``, as the kernel calls it."""
    entry = _rules.rule_type(name) if hasattr(_rules, "rule_type") else None
    if entry is not None:
        return RuleCall(name, entry.fn, bool(entry.peer), bool(entry.broadcasts), _rules.RuleInput)
    # the registry before it carried these facts (until the registry branch is merged)
    peer = name in _rules.SCORE_RULES
    return RuleCall(name, _rules.RULES[name], peer, name not in {"bands"} and not peer, _rules.RuleInput)


def score_rule(name: str) -> bool:
    """The rule returns the item's score itself (a normalised value), not a share of its points."""
    return name in _rules.SCORE_RULES
