"""Counterfactuals: the smallest change of one indicator that changes a unit's outcome.

For each unit and goal — **up one rank** (a strictly better rank), **into the next award
tier** (a better tier than now), **out of a veto** (neither vetoed nor unscored) — and each
numeric indicator the unit's items, vetoes or adjustments read, we look for the value
nearest the current one, above and below, that reaches the goal when only that one panel
cell changes:

* the cell is the indicator's own column, or for a rate computed from counts its first
  numerator count (so the change is a whole number of, say, policy-compliant births; other
  indicators built on the same count move with it and are listed in ``also_changes``);
* candidates are the points where some rule, veto or adjustment changes behaviour
  (targets, band bounds, floors, normal ranges, caps, and the next representable value
  past each), mapped into the cell's units; between two neighbouring candidates every
  credit is linear in the cell, so the goal flips at most once there and a batched
  bisection finds the boundary (to one count, or to ~1e-9 for continuous values);
* every candidate is scored with the draws engine, many at a time; the answers are then
  re-scored with the main engine (:func:`assesskit.scoring.score_panel`) on a copy of the
  panel with that one cell changed (``verified``).

Indicator changes are not comparable across indicators, so ``distance`` standardises each
by the indicator's standard deviation over the units of the same year and kind (or its
declared range, else 1); ``best`` marks the smallest per unit and goal.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..rules import rule_type
from ..scoring import score_panel
from .engine import Baseline, Perturbation, evaluate

GOALS = ("rank", "tier", "veto")

COLUMNS = [
    "unit",
    "name",
    "year",
    "kind",
    "goal",
    "achievable",
    "indicator",
    "indicator_label",
    "column",
    "value",
    "new_value",
    "change",
    "column_value",
    "new_column_value",
    "also_changes",
    "distance",
    "best",
    "rank",
    "new_rank",
    "award",
    "new_award",
    "vetoed",
    "new_vetoed",
    "verified",
]
"""Columns of :func:`counterfactuals` (see its docstring)."""


@dataclasses.dataclass
class _Var:
    indicator: str
    column: str
    integer: bool
    c0: float  # current cell value
    v0: float  # current indicator value
    lo: float  # bounds in cell units
    hi: float
    to_cell: object  # indicator value → cell value (float)
    to_value: object  # cell value → indicator value


def _breakpoints(base: Baseline, r: int, ind: str) -> list[float]:
    """Indicator values at which some rule, veto or adjustment of row ``r`` changes."""
    s = base.scheme
    out: list[float] = []
    for j, (_p, it) in enumerate(base.items):
        rule = it.rule
        if rule.indicator != ind or not base.applies[j, r]:
            continue
        bp = rule_type(rule.type).breakpoints
        if bp is not None:  # the registry knows where each rule type's credit changes
            out += bp(rule, base.targets[j, r], prev=base.prev[j, r], points=it.points)
    kinds = list(s.kinds)
    kind = kinds[base.kind[r]]
    for v in s.vetoes:
        if v.applies_to is None or kind in v.applies_to:
            out += [c.value for c in v.when.walk() if c.indicator == ind]
    for a in s.adjustments:
        if a.applies_to is None or kind in a.applies_to:
            if ind in a.per_case:
                out.append(0.0)
                if a.cap is not None:
                    out.append(a.cap / a.per_case[ind])
    return [float(x) for x in out if x is not None and np.isfinite(x)]


def _relevant(base: Baseline, r: int) -> list[str]:
    s = base.scheme
    kind = list(s.kinds)[base.kind[r]]
    inds = [it.rule.indicator for j, (_p, it) in enumerate(base.items) if base.applies[j, r]]
    for v in s.vetoes:
        if v.applies_to is None or kind in v.applies_to:
            inds += [c.indicator for c in v.when.walk() if c.indicator is not None]
    for a in s.adjustments:
        if a.applies_to is None or kind in a.applies_to:
            inds += list(a.per_case) + ([a.assessed.indicator] if a.assessed else [])
    return [i for i in dict.fromkeys(inds) if s.indicators[i].kind != "label"]


def _variable(base: Baseline, r: int, ind_id: str) -> _Var | None:
    s = base.scheme
    ind = s.indicators[ind_id]
    v0 = float(base.values[ind_id][r])
    if not np.isfinite(v0):
        return None
    cols = base.ind_cols[ind_id]
    if ind.is_rate and cols != (ind.column or ind_id,):
        num_terms = [t for t in ind.numerator if not t.startswith("-")]
        if not num_terms:
            return None
        col = num_terms[0]
        if col in [t.lstrip("-") for t in ind.denominator]:
            return None

        def total(terms):
            return sum(
                (-1.0 if t.startswith("-") else 1.0) * float(base.column(t.lstrip("-"))[r]) for t in terms
            )

        den = total(ind.denominator)
        if not np.isfinite(den) or den == 0:
            return None
        rest = total(ind.numerator) - float(base.column(col)[r])
        c0 = float(base.column(col)[r])
        lo_v = -np.inf if ind.min is None else ind.min
        hi_v = np.inf if ind.max is None else ind.max

        def to_value(c, rest=rest, den=den, scale=ind.scale):
            return (np.asarray(c, dtype=float) + rest) * scale / den

        def to_cell(v, rest=rest, den=den, scale=ind.scale):
            return np.asarray(v, dtype=float) * den / scale - rest

        lo = max(0.0, float(to_cell(lo_v)) if np.isfinite(lo_v) else 0.0)
        hi = float(to_cell(hi_v)) if np.isfinite(hi_v) else np.inf
        return _Var(ind_id, col, True, c0, v0, lo, hi, to_cell, to_value)
    col = ind.column or ind_id
    integer = ind.kind == "count"
    lo = ind.min if ind.min is not None else (0.0 if integer else -np.inf)
    hi = ind.max if ind.max is not None else np.inf
    for j, (_p, it) in enumerate(base.items):
        if it.rule.indicator == ind_id and it.rule.type == "graded" and base.applies[j, r]:
            div = {"points": it.points, "fraction": 1.0, "percent": 100.0}.get(it.rule.scale, np.inf)
            lo, hi = max(lo, 0.0), min(hi, div)

    def ident(x):
        return np.asarray(x, dtype=float)

    return _Var(ind_id, col, integer, v0, v0, float(lo), float(hi), ident, ident)


def _candidates(var: _Var, bps: list[float]) -> np.ndarray:
    cells = []
    for b in bps:
        c = float(var.to_cell(b))
        if var.integer:
            cells += [np.floor(c) - 1, np.floor(c), np.ceil(c), np.ceil(c) + 1]
        else:
            cells += [c, np.nextafter(c, np.inf), np.nextafter(c, -np.inf)]
    cells += [var.lo, var.hi]
    c = np.array([x for x in cells if np.isfinite(x)], dtype=float)
    c = c[(c >= var.lo) & (c <= var.hi) & (c != var.c0)]
    return np.unique(c)


@dataclasses.dataclass
class _At:
    """Outcomes of single-cell draws at the changed row: arrays over the draws."""

    rank: np.ndarray
    ranked: np.ndarray
    tier: np.ndarray
    vetoed: np.ndarray


def _scores(base: Baseline, rows: np.ndarray, cols: list[str], cells: np.ndarray) -> _At:
    """Evaluate draws where draw i sets cell (``rows[i]``, ``cols[i]``) to ``cells[i]``.

    Chunked so that the replaced columns stay within a few million cells.
    """
    d = cells.size
    n = base.n
    names = np.asarray(cols, dtype=object)
    width = max(len(set(cols)), 1)
    step = max(64, (1 << 22) // max(n * width, 1))
    out = _At(np.empty(d), np.empty(d, bool), np.empty(d, np.int64), np.empty(d, bool))
    for s in range(0, d, step):
        sl = slice(s, min(s + step, d))
        dd = sl.stop - sl.start
        pert = Perturbation(dd)
        r_, c_, v_ = rows[sl], names[sl], cells[sl]
        for col in dict.fromkeys(c_.tolist()):
            arr = np.broadcast_to(base.column(col), (dd, n)).copy()
            m = np.flatnonzero(c_ == col)
            arr[m, r_[m]] = v_[m]
            pert.cols[col] = arr
        o = evaluate(base, pert)
        i = np.arange(dd)
        out.rank[sl] = o.rank[i, r_]
        out.ranked[sl] = o.ranked[i, r_]
        out.tier[sl] = o.tier[i, r_].astype(np.int64)
        out.vetoed[sl] = o.vetoed[i, r_]
    return out


def _met(at: _At, goal: np.ndarray, rank0: np.ndarray, tier0: np.ndarray) -> np.ndarray:
    """Whether each draw reaches its goal (0 rank, 1 tier, 2 veto)."""
    code = np.where(at.tier >= 0, at.tier, np.int64(1) << 20)
    return np.select(
        [goal == 0, goal == 1],
        [at.ranked & (at.rank < rank0), at.ranked & (code < tier0)],
        ~at.vetoed,
    )


def counterfactuals(
    base: Baseline,
    *,
    units: list[str] | None = None,
    goals: tuple[str, ...] = GOALS,
    indicators: list[str] | None = None,
    year: int | None = None,
    verify: str | bool = "best",
) -> pd.DataFrame:
    """The smallest single-indicator changes that move units up, into a tier, out of a veto.

    Parameters
    ----------
    base : Baseline
    units : list of str, optional
        Unit ids (default: every scored unit of the year).
    goals : tuple of {"rank", "tier", "veto"}
        ``rank``: a strictly better rank (ranked units not already first);
        ``tier``: a better award tier than now (when the scheme has tiers);
        ``veto``: out of every veto (vetoed or unscored units).
    indicators : list of str, optional
        Only these indicators (default: every numeric indicator the unit's items, vetoes
        and adjustments read).
    year : int, optional
        Needed when the baseline scores several years.
    verify : "best", "all" or False
        Re-score the answers with the main engine: the best per unit and goal, or all.

    Returns
    -------
    DataFrame
        One row per unit, goal and indicator that can reach the goal (and one row with
        ``achievable`` False when none can), sorted by unit, goal and distance:
        ``unit``, ``name``, ``year``, ``kind``, ``goal``, ``achievable``, ``indicator``,
        ``indicator_label``, ``column`` (the panel cell changed), ``value`` →
        ``new_value`` and ``change`` (indicator units), ``column_value`` →
        ``new_column_value`` (cell units: counts for rates), ``also_changes`` (other
        indicators computed from that cell), ``distance`` (``|change|`` / the indicator's
        spread), ``best``, ``rank`` → ``new_rank``, ``award`` → ``new_award``,
        ``vetoed`` → ``new_vetoed``, ``verified`` (the main engine agrees; NA when not
        checked).
    """
    bad = [g for g in goals if g not in GOALS]
    if bad:
        raise ValueError(f"unknown goal(s) {bad}; choose from {GOALS}")
    year, sel = _rows_of(base, units, year)
    nom = base.nominal()
    tasks, vars_, var_row = _tasks(base, nom, sel, goals, indicators)
    cv, cc = _all_candidates(base, vars_, var_row)
    at = _scores(base, var_row[cv], [vars_[v].column for v in cv], cc)
    rank0 = nom.rank[0]
    tier0 = np.where(nom.tier[0] >= 0, nom.tier[0].astype(np.int64), np.int64(1) << 20)
    vo, go, a, b = _intervals(tasks, vars_, var_row, cv, cc, at, rank0, tier0)
    ro = var_row[vo] if vo.size else np.zeros(0, np.int64)
    colv = [vars_[v].column for v in vo]
    b = _bisect(base, vars_, vo, go, ro, colv, a, b, rank0, tier0)
    fin = _scores(base, ro, colv, b)
    okf = _met(fin, go, rank0[ro], tier0[ro])
    records: list[dict] = []
    for r, g in tasks:
        records += _records(base, nom, year, r, g, vars_, vo, go, ro, b, okf, fin)
    tab = pd.DataFrame(records, columns=COLUMNS)
    tab["verified"] = pd.array([pd.NA] * len(tab), dtype="boolean")
    if verify and len(tab):
        check = tab["achievable"].astype(bool).to_numpy().copy()
        if verify == "best":
            check &= tab["best"].astype(bool).to_numpy()
        for i in np.flatnonzero(check):
            tab.loc[tab.index[i], "verified"] = _verify(base, tab.iloc[i], year)
    return tab


def _rows_of(base: Baseline, units: list[str] | None, year: int | None) -> tuple[int, np.ndarray]:
    """The year asked about and the rows of the units asked about (checked)."""
    years = np.unique(base.rows["year"].to_numpy())
    if year is None:
        if years.size > 1:
            raise ValueError(f"the baseline scores several years ({', '.join(map(str, years))}): give year=")
        year = int(years[0])
    rows_year = base.rows["year"].to_numpy() == year
    if not rows_year.any():
        raise ValueError(f"year {year} is not scored in the baseline")
    unit_arr = base.rows["unit"].to_numpy()
    sel = rows_year if units is None else rows_year & np.isin(unit_arr, units)
    if units is not None:
        missing = set(units) - set(unit_arr[rows_year])
        if missing:
            raise ValueError(f"unit(s) not scored in {year}: {', '.join(sorted(missing))}")
    return year, sel


def _spread(base: Baseline, ind_id: str, r: int) -> float:
    """The indicator's sd over the units of the row's year and kind (else its range, else 1)."""
    key = ("spread", ind_id, int(base.kind[r]), int(base.rows["year"].iat[r]))
    if key not in base._cache:
        same = (base.rows["year"].to_numpy() == base.rows["year"].iat[r]) & (base.kind == base.kind[r])
        v = np.asarray(base.values[ind_id], dtype=float)[same]
        sd = float(np.nanstd(v)) if np.isfinite(v).sum() > 1 else np.nan
        ind = base.scheme.indicators[ind_id]
        if not (np.isfinite(sd) and sd > 0):
            sd = (ind.max - ind.min) if ind.min is not None and ind.max is not None else 1.0
        base._cache[key] = sd or 1.0
    return base._cache[key]


def _tasks(base: Baseline, nom, sel: np.ndarray, goals, indicators):
    """What to reach, for whom (row, goal code), and which cells may change (with their rows)."""
    tiers = base.scheme.outcomes.tiers
    tasks: list[tuple[int, int]] = []  # (row, goal code)
    vars_: list[_Var] = []
    var_row: list[int] = []
    for r in np.flatnonzero(sel):
        tier_now = int(nom.tier[0, r])
        if "rank" in goals and nom.ranked[0, r] and nom.rank[0, r] > 1:
            tasks.append((r, 0))
        if "tier" in goals and tiers and tier_now != 0 and not nom.vetoed[0, r]:
            tasks.append((r, 1))
        if "veto" in goals and nom.vetoed[0, r]:
            tasks.append((r, 2))
        if not tasks or tasks[-1][0] != r:
            continue
        inds = _relevant(base, r)
        if indicators is not None:
            inds = [i for i in inds if i in indicators]
        for i in inds:
            v = _variable(base, r, i)
            if v is not None:
                vars_.append(v)
                var_row.append(r)
    return tasks, vars_, np.array(var_row, dtype=np.int64)


def _all_candidates(base: Baseline, vars_: list[_Var], var_row: np.ndarray):
    """Every (variable, candidate cell value) pair, as two flat arrays."""
    cand_var, cand_cell = [], []
    for vi, var in enumerate(vars_):
        c = _candidates(var, _breakpoints(base, int(var_row[vi]), var.indicator))
        cand_var.append(np.full(c.size, vi))
        cand_cell.append(c)
    cv = np.concatenate(cand_var) if cand_var else np.zeros(0, np.int64)
    cc = np.concatenate(cand_cell) if cand_cell else np.zeros(0)
    return cv, cc


def _intervals(tasks, vars_, var_row, cv, cc, at: _At, rank0, tier0):
    """Per task, variable and side: the nearest achieving candidate and its non-achieving
    neighbour (the interval where the goal flips)."""
    iv_var, iv_goal, iv_a, iv_b = [], [], [], []
    by_var = {vi: np.flatnonzero(cv == vi) for vi in range(len(vars_))}
    for r, g in tasks:
        for vi in np.flatnonzero(var_row == r):
            idx = by_var[vi]
            if idx.size == 0:
                continue
            sub = _At(at.rank[idx], at.ranked[idx], at.tier[idx], at.vetoed[idx])
            ok = _met(sub, np.full(idx.size, g), rank0[r], tier0[r])
            c = cc[idx]
            c0 = vars_[vi].c0
            for side in (1, -1):
                on = (c - c0) * side > 0
                if not ok[on].any():
                    continue
                cs, oks = c[on], ok[on]
                order = np.argsort(np.abs(cs - c0), kind="stable")
                cs, oks = cs[order], oks[order]
                first = int(np.argmax(oks))
                iv_var.append(vi)
                iv_goal.append(g)
                iv_a.append(c0 if first == 0 else cs[first - 1])
                iv_b.append(cs[first])
    return (
        np.array(iv_var, dtype=np.int64),
        np.array(iv_goal, dtype=np.int64),
        np.array(iv_a, dtype=float),
        np.array(iv_b, dtype=float),
    )


def _bisect(base, vars_, vo, go, ro, colv, a, b, rank0, tier0) -> np.ndarray:
    """Batched bisection: the goal flips once between neighbouring candidates; returns the
    achieving end of each interval, to one count (or ~1e-9 for continuous values)."""
    integer = np.array([vars_[v].integer for v in vo], dtype=bool)
    a, b = a.copy(), b.copy()
    for _ in range(60):
        gap = np.abs(b - a)
        todo = np.where(integer, gap > 1, gap > 1e-9 * np.maximum(1.0, np.abs(b)))
        if not todo.any():
            break
        mid = np.where(integer, np.trunc((a + b) / 2), (a + b) / 2)
        idx = np.flatnonzero(todo)
        o2 = _scores(base, ro[idx], [colv[i] for i in idx], mid[idx])
        ok2 = _met(o2, go[idx], rank0[ro[idx]], tier0[ro[idx]])
        b[idx] = np.where(ok2, mid[idx], b[idx])
        a[idx] = np.where(ok2, a[idx], mid[idx])
    return b


def _records(base, nom, year, r, g, vars_, vo, go, ro, b, okf, fin: _At) -> list[dict]:
    """The table rows of one unit and goal: one per indicator (its nearer side), the best
    first; or one row saying the goal is out of reach."""
    s = base.scheme
    tier_ids = np.array([""] + [t.id for t in s.outcomes.tiers], dtype=object)
    found: dict[int, int] = {}
    for i in np.flatnonzero((ro == r) & (go == g) & okf):
        v = int(vo[i])
        c0 = vars_[v].c0
        if v not in found or abs(b[i] - c0) < abs(b[found[v]] - c0):
            found[v] = i
    common = {
        "unit": base.rows["unit"].iat[r],
        "name": base.rows["name"].iat[r],
        "year": year,
        "kind": list(s.kinds)[base.kind[r]],
        "goal": GOALS[g],
        "rank": nom.rank[0, r],
        "award": tier_ids[int(nom.tier[0, r]) + 1],
        "vetoed": bool(nom.vetoed[0, r]),
    }
    rows_here = []
    for v, i in found.items():
        var = vars_[v]
        new_value = float(var.to_value(b[i]))
        users = [
            u
            for u in base.col_users.get(var.column, ())
            if u != var.indicator and s.indicators[u].kind != "label"
        ]
        rows_here.append(
            {
                **common,
                "achievable": True,
                "indicator": var.indicator,
                "indicator_label": s.indicators[var.indicator].label or var.indicator,
                "column": var.column,
                "value": var.v0,
                "new_value": new_value,
                "change": new_value - var.v0,
                "column_value": var.c0,
                "new_column_value": float(b[i]),
                "also_changes": ", ".join(users),
                "distance": abs(new_value - var.v0) / _spread(base, var.indicator, r),
                "best": False,
                "new_rank": fin.rank[i],
                "new_award": tier_ids[int(fin.tier[i]) + 1],
                "new_vetoed": bool(fin.vetoed[i]),
            }
        )
    if not rows_here:
        return [{**common, "achievable": False, "best": False}]
    rows_here.sort(key=lambda x: x["distance"])
    rows_here[0]["best"] = True
    return rows_here


def _verify(base: Baseline, row: pd.Series, year: int) -> bool:
    """Re-score with the main engine after changing the one cell; is the goal reached?"""
    data = base.panel.data.copy()
    pos = np.flatnonzero((data["unit"] == row["unit"]).to_numpy() & (data["year"] == year).to_numpy())
    col = data[row["column"]].to_numpy(dtype=float, copy=True)
    col[pos] = row["new_column_value"]
    data[row["column"]] = col
    res = score_panel(base.scheme, dataclasses.replace(base.panel, data=data), years=base.years)
    s = res.summary
    got = s[(s["unit"] == row["unit"]).to_numpy() & (s["year"] == year).to_numpy()].iloc[0]
    if row["goal"] == "veto":
        return not bool(got["veto"])
    if bool(got["veto"]) or pd.isna(got["rank"]):
        return False
    if row["goal"] == "rank":
        return float(got["rank"]) < float(row["rank"])
    tier_ids = [t.id for t in base.scheme.outcomes.tiers]
    # a split award ("first; second") counts as its best tier
    was, got_award = (str(a or "").split(";")[0].strip() for a in (row["award"], got["award"]))
    now = tier_ids.index(was) if was in tier_ids else len(tier_ids)
    new = tier_ids.index(got_award) if got_award in tier_ids else len(tier_ids)
    return new < now
