"""A straightforward per-row scorer in plain Python — the obvious spreadsheet-like way.

Two uses: the baseline of ``bench_scoring.py`` (same process, same data), and an
independent oracle that ``tests/test_rowwise_oracle.py`` compares the vectorised engine
with. It re-implements the rule semantics from the scheme model's docstrings with plain
``if``/``else`` per unit-year and item, sharing no code with :mod:`assesskit.rules` or
:mod:`assesskit.scoring`. It covers item points, line totals, adjustments, floor, veto
effects and ranks (the parts a per-row implementation would do); awards are left out.
"""

from __future__ import annotations

import math

import pandas as pd

from assesskit.scheme import CategoryTarget, Condition, Scheme, TableTarget

NAN = float("nan")


def _value(scheme: Scheme, ind_id: str, row: dict) -> float | str | None:
    ind = scheme.indicators[ind_id]

    def get(col: str) -> float:
        neg = col.startswith("-")
        v = row.get(col.lstrip("-"), NAN)
        v = NAN if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
        return -v if neg else v

    if ind.is_rate and all(c.lstrip("-") in row for c in ind.numerator + ind.denominator):
        num = sum(get(c) for c in ind.numerator)
        den = sum(get(c) for c in ind.denominator)
        if math.isnan(num) or math.isnan(den):
            return NAN
        if den == 0:
            return NAN if ind.zero_denominator is None else ind.zero_denominator
        return num * ind.scale / den
    v = row.get(ind.column or ind_id)
    if ind.kind == "label":
        return v
    return NAN if v is None else float(v)


def _target(rule, row: dict, targets: dict) -> float:
    t = getattr(rule, "target", None)
    if t is None:
        return NAN
    if isinstance(t, CategoryTarget):
        v = t.by_category.get(row.get("category"), NAN)
    elif isinstance(t, TableTarget):
        v = targets.get((row["unit"], row["year"]), {}).get(t.table, NAN)
    else:
        return float(t)
    if (v is None or math.isnan(v)) and t.default is not None:
        return t.default
    return NAN if v is None else v


def _cmp(a: float, op: str, b: float) -> bool:
    return {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b, "==": a == b}[op]


def _dist(v: float, lo: float, hi: float) -> float:
    return max(lo - v, v - hi, 0.0)


def _fraction(rule, v, t: float, prev: float, points: float) -> float:
    """Fraction of the item earned; NaN when something needed is missing."""
    kind = rule.type
    if kind == "graded" and rule.scale == "labels":
        return NAN if v is None else rule.labels[v]
    if v is None or math.isnan(v):
        return NAN
    if kind == "threshold":
        return NAN if math.isnan(t) else float(_cmp(v, rule.op, t))
    if kind == "linear":
        if math.isnan(t):
            return NAN
        if not (t > rule.floor if rule.op == ">=" else t < rule.floor):
            return float(_cmp(v, rule.op, t))
        return min(max((v - rule.floor) / (t - rule.floor), 0.0), 1.0)
    if kind == "bands":
        if rule.relative and math.isnan(t):
            return NAN
        for b in rule.bands:
            bound = b.at + (t if rule.relative else 0.0)
            if _cmp(v, rule.op, bound):
                return b.fraction
        return 0.0
    if kind == "range":
        d = _dist(v, rule.low, rule.high)
        if rule.tolerance > 0:
            return min(max(1 - d / rule.tolerance, 0.0), 1.0)
        return float(d == 0)
    if kind == "change":
        if rule.normal is not None and _dist(v, *rule.normal) == 0:
            return 1.0
        if math.isnan(prev):
            return NAN
        if rule.direction == "decrease":
            gain = prev - v
        elif rule.direction == "increase":
            gain = v - prev
        else:
            gain = _dist(prev, *rule.normal) - _dist(v, *rule.normal)
        return float(gain >= rule.min_change and gain > 0)
    if kind == "graded":
        div = {"points": points, "fraction": 1.0, "percent": 100.0}[rule.scale]
        return min(max(v / div, 0.0), 1.0)
    if kind == "per_case":
        cap = rule.cap if rule.cap is not None else points
        return 1 - min(v * rule.points_per_case, cap) / points
    raise ValueError(kind)


def _holds(c: Condition, missed: dict, row: dict, scheme: Scheme) -> bool:
    if c.missed is not None:
        return missed[c.missed]
    if c.indicator is not None:
        v = _value(scheme, c.indicator, row)
        return v is not None and not math.isnan(v) and _cmp(v, c.op, c.value)
    parts = [_holds(x, missed, row, scheme) for x in (c.all or c.any)]
    return all(parts) if c.all is not None else any(parts)


def score_rows(scheme: Scheme, data: pd.DataFrame, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score each row of a validated panel (``Panel.data``) one at a time.

    Returns unit, year, total, veto, not_scored, rank — sorted by year, unit.
    """
    records = data.to_dict("records")
    tdict = {} if targets is None or targets.empty else targets.to_dict("index")
    by_key = {(r["unit"], r["year"]): r for r in records}
    lo, hi = scheme.years
    out = []
    for row in records:
        if not lo <= row["year"] <= hi:
            continue
        prev_row = by_key.get((row["unit"], row["year"] - 1))
        lines_total = 0.0
        missed = {}
        for path, item in scheme.flat_items:
            line = next(ln for ln in scheme.lines if ln.id == path[0])
            if line.unit_kind != row["kind"]:
                missed[item.id] = False
                continue
            r = item.rule
            v = _value(scheme, r.indicator, row)
            prev = _value(scheme, r.indicator, prev_row) if (prev_row and r.type == "change") else NAN
            f = _fraction(r, v, _target(r, row, tdict), prev if prev is not None else NAN, item.points)
            was_missing = math.isnan(f)
            if was_missing:
                f = 0.0 if (item.missing or scheme.missing) == "zero" else 1.0
            missed[item.id] = was_missing or f < 1 - 1e-12
            lines_total += f * item.points
        bonus = deduction = 0.0
        for adj in scheme.adjustments:
            if adj.applies_to is not None and row["kind"] not in adj.applies_to:
                continue
            amt = 0.0
            for ind, per in adj.per_case.items():
                v = _value(scheme, ind, row)
                amt += 0.0 if math.isnan(v) else v * per
            if adj.assessed:
                v = _value(scheme, adj.assessed.indicator, row)
                amt += 0.0 if math.isnan(v) else v
            if adj.cap is not None:
                amt = min(amt, adj.cap)
            if adj.kind == "bonus":
                bonus += amt
            else:
                deduction += amt
        total = lines_total + bonus - deduction
        if scheme.floor is not None:
            total = max(total, scheme.floor)
        veto = not_scored = False
        for v in scheme.vetoes:
            if v.applies_to is not None and row["kind"] not in v.applies_to:
                continue
            if _holds(v.when, missed, row, scheme):
                veto |= v.effect in ("veto", "not_scored")
                not_scored |= v.effect == "not_scored"
        out.append(
            {
                "unit": row["unit"],
                "year": row["year"],
                "kind": row["kind"],
                "total": NAN if not_scored else total,
                "veto": veto,
                "not_scored": not_scored,
            }
        )
    res = pd.DataFrame(out)
    # competition ranks by total among the non-vetoed units of one kind and year (no tie-break)
    groups: dict = {}
    for k, rec in enumerate(out):
        if not rec["veto"]:
            groups.setdefault((rec["year"], rec["kind"]), []).append(k)
    ranks = [None] * len(out)
    for members in groups.values():
        members.sort(key=lambda k: -out[k]["total"])
        for pos, k in enumerate(members):
            tied_first = pos > 0 and out[members[pos - 1]]["total"] == out[k]["total"]
            ranks[k] = ranks[members[pos - 1]] if tied_first else pos + 1
    res["rank"] = ranks
    return res.sort_values(["year", "unit"]).reset_index(drop=True)
