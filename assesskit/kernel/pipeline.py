"""The kernel's entry point: :func:`run` chains its stages (see :mod:`.core`)."""

from __future__ import annotations

import numpy as np

from .core import Outcome, Variation
from .inputs import Inputs, adjustment_amounts
from .items import score_items
from .outcomes import decide


# --------------------------------------------------------------------------- kernel
def _data(inp: Inputs, var: Variation):
    """Indicator values of the draws, previous-year values replaced, and what changed."""
    values = dict(inp.values)
    values.update(var.values)
    return values, dict(var.values_prev), set(var.values)


def run(inp: Inputs, var: Variation | None = None, *, detail: bool = False) -> Outcome:
    """Score ``var.size`` draws at once (one nominal draw without ``var``).

    Parameters
    ----------
    inp : Inputs
        From :func:`assesskit.kernel.prepare`.
    var : Variation, optional
        What changes per draw; with an empty one every draw is the nominal scoring, bit
        for bit.
    detail : bool
        Also return item points and status, line totals and ranks, single-item awards and
        the masks behind the reasons (:class:`Detail`), as the summary tables need.

    Returns
    -------
    Outcome
    """
    var = var if var is not None else Variation(1)
    shape = (var.size, inp.n)
    values, prev_values, affected = _data(inp, var)
    items = score_items(inp, var, values, prev_values, affected, shape, detail)
    lines_total = np.zeros(shape)
    for li in range(len(inp.scheme.lines)):  # each unit has the lines of its kind
        lines_total += np.where(inp.kind == inp.line_kind[li], items.lines[li], 0.0)
    s = inp.scheme
    adj_inds = {i for a in s.adjustments for i in a.per_case} | {
        a.assessed.indicator for a in s.adjustments if a.assessed
    }
    if adj_inds & affected:
        adjust, bonus, deduction = adjustment_amounts(s, values, inp.of_kinds, shape)
    else:
        adjust, bonus, deduction = inp.adjustments, inp.bonus, inp.deduction
    total = lines_total + bonus - deduction
    if s.floor is not None:
        total = np.maximum(total, s.floor)
    return decide(inp, var, values, items, total, adjust, bonus, deduction, shape, detail, rerun=run)
