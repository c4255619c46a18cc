"""Range, arithmetic and consistency checks of a panel's numbers, and the warnings about
values a scoring run will fill in by default (see :mod:`assesskit.data`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .data_sources import SEP_ITEM, numeric_column, scored_rows, unit_years
from .exceptions import Problem
from .numbers import decimals
from .scheme import Scheme
from .tables import Table

__all__ = ["FEW_BIRTHS", "SEP_ITEM", "panel_problems"]

FEW_BIRTHS = 50
"""Below this many births a unit-year's birth-based rates are too noisy to compare (a
warning, not an error: the 95% interval of a sex ratio from 50 births spans ~75–160)."""

EXACT_COUNT = 2.0**53
"""Counts above this cannot all be held exactly in a float (2^53 + 1 is not)."""

_SEX_COUNTS = ("births", "male_births", "female_births")
_LIMIT = 20


def _terms(cols: list[str]) -> str:
    """'births − policy_births' for the terms ['births', '-policy_births']."""
    out = cols[0].lstrip("-") if not cols[0].startswith("-") else "−" + cols[0][1:]
    for c in cols[1:]:
        out += f" − {c[1:]}" if c.startswith("-") else f" + {c}"
    return f"({out})" if len(cols) > 1 else out


def _each(probs: list[Problem], t: Table, mask, col: str, text, severity: str = "error") -> None:
    """A problem for each of the first rows where ``mask`` holds; ``text(i)`` says what."""
    for i in np.flatnonzero(np.asarray(mask, dtype=bool))[:_LIMIT]:
        probs.append(Problem(t.where(i, col), text(i), severity))


def panel_problems(
    scheme: Scheme,
    t: Table,
    idx: pd.DataFrame,
    numeric: dict[str, pd.Series],
    probs: list[Problem],
    warns: list[Problem],
) -> None:
    """Range and arithmetic checks on the numeric columns (all problems collected)."""
    _count_checks(scheme, t, numeric, probs)
    if "births" in numeric:
        b = numeric["births"]

        def few(i: int) -> str:
            what = (
                "no births: birth-based rates are undefined"
                if b.iloc[i] == 0
                else f"only {b.iloc[i]:g} births (fewer than {FEW_BIRTHS}): its birth-based rates are very uncertain"
            )
            return f"{idx['unit'].iloc[i]} {idx['year'].iloc[i]}: {what}"

        _each(warns, t, b.notna() & (b < FEW_BIRTHS), "births", few, "warning")
    if all(c in numeric for c in _SEX_COUNTS):
        b, m, f = (numeric[c] for c in _SEX_COUNTS)
        _each(
            probs,
            t,
            b.notna() & m.notna() & f.notna() & (m + f != b),
            "births",
            lambda i: (
                f"male_births + female_births = {m.iloc[i]:g} + {f.iloc[i]:g} = "
                f"{m.iloc[i] + f.iloc[i]:g}, but births = {b.iloc[i]:g}"
            ),
        )
    for ind_id, ind in scheme.indicators.items():
        _indicator_checks(scheme, ind_id, ind, t, idx, numeric, probs, warns)


def _count_checks(scheme: Scheme, t: Table, numeric: dict[str, pd.Series], probs: list[Problem]) -> None:
    count_cols: set[str] = set(_SEX_COUNTS)
    for ind_id, ind in scheme.indicators.items():
        if ind.is_rate:
            count_cols |= {c.lstrip("-") for c in ind.numerator + ind.denominator}
        elif ind.kind == "count":
            count_cols.add(ind.column or ind_id)
    for col in sorted(count_cols & set(numeric)):
        s = numeric[col]
        _each(probs, t, s < 0, col, lambda i, s=s: f"a count cannot be negative, got {s.iloc[i]:g}")
        _each(
            probs,
            t,
            s.notna() & (s != s.round()),
            col,
            lambda i, s=s: f"a count must be a whole number, got {s.iloc[i]:g}",
        )
        _each(
            probs,
            t,
            s > EXACT_COUNT,
            col,
            lambda i, s=s: (
                f"the count {s.iloc[i]:g} is implausibly large (above 2^53, it cannot be held exactly)"
            ),
        )


def _indicator_checks(scheme, ind_id, ind, t, idx, numeric, probs, warns) -> None:
    """An indicator's value within its min/max and finite; a reported rate that its counts contradict."""
    if ind.is_rate and all(c.lstrip("-") in numeric for c in ind.numerator + ind.denominator):
        num = sum(-numeric[c[1:]] if c.startswith("-") else numeric[c] for c in ind.numerator)
        den = sum(-numeric[c[1:]] if c.startswith("-") else numeric[c] for c in ind.denominator)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            val = num * ind.scale / den
        where_col = ind.numerator[0].lstrip("-")
        what = f"{ind_id} = {_terms(ind.numerator)} / {_terms(ind.denominator)} × {ind.scale:g}"
        overflow = np.isinf(val) & (den != 0)  # x / 0 is checked by the range below, as before
        _reported_rate(ind_id, what, val, t, idx, probs, warns)
    else:
        col = ind.column or ind_id
        if col not in numeric:
            return
        val, where_col, what = numeric[col], col, col
        overflow = np.isinf(val)
        if ind.is_rate:
            warns.append(
                Problem(
                    t.where(None, col),
                    f"rate '{ind_id}' is given without its counts "
                    f"({', '.join(ind.numerator + ind.denominator)}): it carries no denominator",
                    "warning",
                )
            )
    _each(probs, t, overflow, where_col, lambda i: f"{what} is not finite (the numbers are too large)")
    if ind.min is not None:
        _each(
            probs,
            t,
            (val < ind.min) & ~overflow,
            where_col,
            lambda i: f"{what} is {val.iloc[i]:.4g}, below its minimum {ind.min:g}",
        )
    if ind.max is not None:
        lim = ind.max
        _each(
            probs,
            t,
            (val > lim) & ~overflow,
            where_col,
            lambda i: f"{what} is {val.iloc[i]:.4g}, above its maximum {lim:g}",
        )


def _reported_rate(ind_id, what, computed, t: Table, idx, probs, warns) -> None:
    """A column giving the rate itself (``<rate>`` or ``<rate>_reported``) beside its counts:
    the counts win; where the two disagree by more than one unit in the reported column's
    last decimal (which allows for rounding and truncation), a warning names the unit-years."""
    for col in (ind_id, f"{ind_id}_reported"):
        if col not in t.frame.columns:
            continue
        rep = numeric_column(t, col, probs)
        tol = 10.0 ** -decimals(rep)
        off = rep.notna() & computed.notna() & ((rep - computed).abs() > tol + 1e-9)
        if not off.any():
            continue
        rows = np.flatnonzero(off.to_numpy())
        shown = "; ".join(
            f"{idx['unit'].iloc[i]} {idx['year'].iloc[i]} (row {t.row(i)}): {rep.iloc[i]:g} reported, "
            f"{computed.iloc[i]:.4g} from the counts"
            for i in rows[:10]
        )
        more = f" … ({rows.size} in all)" if rows.size > 10 else ""
        warns.append(
            Problem(
                t.where(None, col),
                f"the reported rate contradicts {what} in {rows.size} unit-year(s): {shown}{more}; "
                "the rate from the counts is used",
                "warning",
            )
        )


def grade_ranges(
    scheme: Scheme, t: Table, numeric: dict[str, pd.Series], from_grades: set[str], probs: list[Problem]
) -> None:
    """Graded points within [0, points] and labels among the item's labels (for grades given
    as panel columns; a grades file is checked against itself)."""
    for path, item in scheme.flat_items:
        r = item.rule
        col = scheme.indicators[r.indicator].column or r.indicator
        if r.type != "graded" or col in from_grades:
            continue
        if col in numeric:
            hi = {"points": item.points, "fraction": 1.0, "percent": 100.0}.get(r.scale)
            s = numeric[col]
            _each(
                probs,
                t,
                (s < 0) | (s > hi),
                col,
                lambda i, s=s, hi=hi, path=path: (
                    f"grade {s.iloc[i]:g} for {SEP_ITEM.join(path)} must lie in 0–{hi:g}"
                ),
            )
        if r.scale == "labels" and col in t.frame.columns:
            lab = t.frame[col]
            bad = lab.notna() & ~lab.astype(str).str.strip().isin(list(r.labels))
            _each(
                probs,
                t,
                bad,
                col,
                lambda i, lab=lab, r=r: f"grade {lab.iloc[i]!r} is not one of {list(r.labels)}",
            )


def assessed_ranges(scheme: Scheme, t: Table, numeric: dict[str, pd.Series], probs: list[Problem]) -> None:
    """Assessed deduction points: 0, or within the adjustment's min–max."""
    for adj in scheme.adjustments:
        if adj.assessed and adj.assessed.indicator in numeric:
            s = numeric[adj.assessed.indicator]
            a = adj.assessed
            _each(
                probs,
                t,
                (s != 0) & s.notna() & ((s < a.min) | (s > a.max)),
                a.indicator,
                lambda i, s=s, a=a, adj=adj: (
                    f"{adj.id}: assessed points {s.iloc[i]:g} must be 0 or within {a.min:g}–{a.max:g}"
                ),
            )


_FATE = {"zero": "scored 0", "full": "scored full points", "drop": "left out of its parent's mean"}


def missing_grade_warnings(
    scheme: Scheme,
    data: pd.DataFrame,
    years: list[int] | None,
    grades_path: str,
    panel_path: str,
    from_grades: set[str],
) -> list[Problem]:
    """One warning per graded item whose scored unit-years (of the item's kind) have no grade."""
    line_kind = {ln.id: ln.unit_kind for ln in scheme.lines}
    scored = data[scored_rows(scheme, data, years)]
    of_kind = {k: (scored["kind"] == k).to_numpy() for k in set(line_kind.values())}
    out = []
    for path, item in scheme.flat_items:
        col = scheme.indicators[item.rule.indicator].column or item.rule.indicator
        if item.rule.type != "graded" or col not in scored.columns:
            continue
        rows = scored[of_kind[line_kind[path[0]]] & scored[col].isna().to_numpy()]
        if rows.empty:
            continue
        policy = item.missing or scheme.missing
        out.append(
            Problem(
                grades_path if col in from_grades else f"{panel_path}, column '{col}'",
                f"{SEP_ITEM.join(path)}: no grade for {len(rows)} unit-year(s) ({unit_years(rows)}): "
                f"{_FATE.get(policy, policy)} (missing-data policy '{policy}')",
                "warning",
            )
        )
    return out
