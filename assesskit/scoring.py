"""Scheme × panel → item points, line totals, vetoes, ranks and awards.

Pure and vectorised: one pass per *item* (a scheme has tens of items) over arrays of all
scored unit-years at once; no loop over units or rows. The long item table with its
reasons in words is built on demand (:attr:`ScoreResult.items`), from the same arrays.

Order of application (documented in the README):

1. each item: indicator value → rule → fraction of its points; missing values follow
   the item's (or the scheme's) ``missing`` policy — ``zero`` by default;
2. line totals = sums of their items (only lines of the unit's kind);
3. bonuses, then deductions: ``Σ cases × points`` plus inspector-assessed points, each
   adjustment capped at its ``cap``;
4. total = lines + bonuses − deductions, raised to the scheme's ``floor`` (default 0);
5. vetoes: ``not_scored`` blanks the total; ``not_scored`` and ``veto`` take the unit out
   of ranking and awards; ``ineligible`` keeps the rank but no award;
6. ranks among the units of one kind in one year, by total (then the ``tie_break``
   nodes); ties share the best rank (1, 2, 2, 4);
7. award tiers in rank order among eligible units: each tier takes the next ``count``
   eligible units (units tied at a tier's boundary all get the better tier);
   single-item awards rank eligible units by one node's points; warnings flag the last
   ``bottom`` ranked units or those below ``below_total``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .composite import aggregate_tree, tree_nodes
from .data import Panel, read_panel
from .exceptions import DataError, Problem
from .rules import DESCRIBERS, RULES, SCORE_RULES, TEXT, RuleInput, cat, fmt
from .scheme import SEP, CategoryTarget, Condition, Item, Scheme, TableTarget

# Item status codes (int8 in the arrays, words in the tables).
STATUS = np.array(["met", "partial", "missed", "missing", "vetoed"], dtype=object)
MET, PARTIAL, MISSED, MISSING, VETOED = range(5)

ITEM_COLUMNS = [
    "unit",
    "name",
    "year",
    "kind",
    "line",
    "section",
    "item",
    "label",
    "label_en",
    "max_points",
    "points",
    "lost",
    "status",
    "value",
    "target",
    "reason",
]
"""Columns of :attr:`ScoreResult.items` (see the README for their meaning)."""


# --------------------------------------------------------------------------- helpers
def indicator_values(scheme: Scheme, data: pd.DataFrame) -> dict[str, np.ndarray]:
    """Every indicator of the scheme as an array over the panel's rows.

    Rates come from their counts (``Σ numerator / Σ denominator × scale``; a zero
    denominator gives NaN); a rate without its counts is read from its own column.
    Absent columns give all-NaN arrays (scored by the missing-data policy).
    """
    n = len(data)
    cols = set(data.columns)

    def col(name: str) -> np.ndarray:
        if name.startswith("-"):
            return -col(name[1:])
        return data[name].to_numpy(dtype=float) if name in cols else np.full(n, np.nan)

    out: dict[str, np.ndarray] = {}
    for ind_id, ind in scheme.indicators.items():
        own = ind.column or ind_id
        if ind.is_rate and all(c.lstrip("-") in cols for c in ind.numerator + ind.denominator):
            num = np.sum([col(c) for c in ind.numerator], axis=0)
            den = np.sum([col(c) for c in ind.denominator], axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                # counts × scale first, then one division: 57 × 100 / 100 is exactly 57 (57 / 100 × 100 is not)
                zero = np.nan if ind.zero_denominator is None else ind.zero_denominator
                out[ind_id] = np.where(den != 0, num * ind.scale / np.where(den != 0, den, 1), zero)
        elif ind.kind == "label":
            out[ind_id] = data[own].to_numpy(dtype=object) if own in cols else np.full(n, None, dtype=object)
        else:
            out[ind_id] = col(own)
    return out


def _NO_PREV(n: int) -> np.ndarray:
    return np.full(n, np.nan)


def _target_array(
    item: Item, rows: pd.DataFrame, targets: pd.DataFrame, target_row: np.ndarray | None
) -> np.ndarray:
    """The item's target for every scored row (NaN where unknown and no default)."""
    t = getattr(item.rule, "target", None)
    n = len(rows)
    if t is None:
        return np.full(n, np.nan)
    if isinstance(t, (int, float)):
        return np.full(n, float(t))
    if isinstance(t, CategoryTarget):
        got = rows["category"].map(t.by_category).to_numpy(dtype=float)
    else:  # TableTarget: one lookup of the row positions serves every item
        assert isinstance(t, TableTarget)
        if target_row is not None and t.table in targets.columns:
            col = targets[t.table].to_numpy(dtype=float)
            got = np.where(target_row >= 0, col[target_row], np.nan)
        else:
            got = np.full(n, np.nan)
    if t.default is not None:
        got = np.where(np.isnan(got), t.default, got)
    return got


def competition_rank(group: np.ndarray, keys: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    """Rank rows within ``group`` by ``keys`` (higher is better, first key first).

    Ties on every key share the best rank (1, 2, 2, 4). Rows outside ``mask`` get NaN.
    Vectorised: one lexsort, then the first position of each run of equal keys.
    """
    n = len(group)
    out = np.full(n, np.nan)
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return out
    g = group[idx]
    ks = [_fill_nan(k[idx], -np.inf) for k in keys]
    order = np.lexsort(tuple(-k for k in reversed(ks)) + (g,))
    g_s = g[order]
    ks_s = [k[order] for k in ks]
    pos = np.arange(order.size)
    new_group = np.r_[True, g_s[1:] != g_s[:-1]]
    new_key = new_group.copy()
    for k in ks_s:
        new_key[1:] |= k[1:] != k[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, pos, 0))
    key_start = np.maximum.accumulate(np.where(new_key, pos, 0))
    rank = key_start - group_start + 1
    out[idx[order]] = rank
    return out


def _fill_nan(a: np.ndarray, fill: float) -> np.ndarray:
    """``a`` with NaN replaced (cheaper than ``np.nan_to_num``, which also checks ±inf)."""
    return np.where(np.isnan(a), fill, a)


def _group_codes(*cols: pd.Series | np.ndarray) -> np.ndarray:
    """One integer code per distinct combination of the columns (vectorised)."""
    code = np.zeros(len(cols[0]), dtype=np.int64)
    for c in cols:
        k, uniq = pd.factorize(np.asarray(c), use_na_sentinel=False)
        code = code * len(uniq) + k
    return code


def _join_labels(masks: list[tuple[np.ndarray, str]], n: int) -> np.ndarray:
    """'; '-joined labels of the masks that hold, per row ('' when none).

    Each row's combination is an integer bit code; the text is built once per distinct
    combination and gathered, so the cost does not grow with the number of rows.
    """
    if not masks:
        return np.full(n, "", dtype=object)
    code = np.zeros(n, dtype=np.int64)
    for b, (mask, _label) in enumerate(masks):
        code |= mask.astype(np.int64) << b
    uniq, inv = np.unique(code, return_inverse=True)
    text = np.array(
        ["; ".join(lab for b, (_m, lab) in enumerate(masks) if u >> b & 1) for u in uniq], dtype=object
    )
    return text[inv]


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class ScoreResult:
    """Scores of one scheme on one panel.

    Attributes
    ----------
    scheme : Scheme
    summary : DataFrame
        One row per unit and year (columns documented in the README, "Outputs").
    warnings : tuple of Problem
        Input warnings carried from the panel.
    """

    scheme: Scheme
    summary: pd.DataFrame
    warnings: tuple[Problem, ...]
    _order: np.ndarray = field(repr=False)  # summary row i is internal row _order[i]
    _rows: pd.DataFrame = field(repr=False)
    _values: dict[str, np.ndarray] = field(repr=False)
    _targets: dict[str, np.ndarray] = field(repr=False)  # item id → target per row
    _prev: dict[str, np.ndarray] = field(repr=False)  # change-rule item id → previous-year value
    _points: np.ndarray = field(repr=False)  # items × rows
    _status: np.ndarray = field(repr=False)
    _applies: np.ndarray = field(repr=False)
    _adjust: dict[str, np.ndarray] = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The summary table."""
        return self.summary

    @property
    def points(self) -> pd.DataFrame:
        """Item points as a wide matrix (rows = summary rows, columns = item ids)."""
        ids = [it.id for _p, it in self.scheme.flat_items]
        rows = self._rows.iloc[self._order]
        pts = np.where(self._applies, self._points, np.nan)[:, self._order].T
        return pd.DataFrame(pts, columns=ids, index=pd.MultiIndex.from_frame(rows[["unit", "year"]]))

    @cached_property
    def items(self) -> pd.DataFrame:
        """Long item table: one row per unit, year and applicable item, plus one row per
        non-zero bonus or deduction; every lost point with its reason.

        Rows follow the summary's order, items in the scheme's order, then adjustments.
        """
        s = self.scheme
        flat = s.flat_items
        k, adjs = len(flat), s.adjustments
        order = self._order
        n = order.size
        # entries (item or adjustment × row) present, in summary order: nonzero of the
        # rows × entries matrix walks row by row, entries in scheme order — no sort needed
        adj_amt = np.array([self._adjust[a.id] for a in adjs]) if adjs else np.zeros((0, n))
        present = np.vstack([self._applies, adj_amt != 0]) if adjs else self._applies
        r_pos, e = np.nonzero(present[:, order].T)
        row = order[r_pos]
        is_item = e < k
        ei = np.where(is_item, e, 0)

        def per_entry(item_vals: list, adj_vals: list) -> np.ndarray:
            return np.array(item_vals + adj_vals, dtype=object)[e]

        sign = np.array([1.0 if a.kind == "bonus" else -1.0 for a in adjs])
        pts = np.where(is_item, self._points[ei, row], 0.0)
        if adjs:
            ea = np.where(is_item, 0, e - k)
            pts = np.where(is_item, pts, sign[ea] * adj_amt[ea, row])
        max_pts = np.array([_max_points(it) for _p, it in flat] + [np.nan] * len(adjs))[e]

        def matrix(source: dict[str, np.ndarray]) -> np.ndarray:
            out = np.full(e.size, np.nan)
            for j, (_p, it) in enumerate(flat):
                if it.id in source:
                    m = e == j
                    out[m] = source[it.id][row[m]]
            return out

        labels_ind = {i for i, ind in s.indicators.items() if ind.kind == "label"}
        value = np.full(e.size, np.nan, dtype=object if labels_ind else float)
        for j, (_p, it) in enumerate(flat):
            m = e == j
            value[m] = self._values[it.rule.indicator][row[m]]
        for a_i, _a in enumerate(adjs):
            m = e == k + a_i
            value[m] = adj_amt[a_i, row[m]]
        status_words = np.concatenate([STATUS, ["bonus", "deduction"]])
        code = np.where(is_item, self._status[ei, row], 0)
        if adjs:
            code = np.where(is_item, code, np.where(sign[ea] > 0, len(STATUS), len(STATUS) + 1))
        rows = self._rows
        out = pd.DataFrame(
            {
                "unit": rows["unit"].to_numpy()[row],
                "name": rows["name"].to_numpy()[row],
                "year": rows["year"].to_numpy()[row],
                "kind": rows["kind"].to_numpy()[row],
                "line": per_entry([p[0] for p, _ in flat], [""] * len(adjs)),
                "section": per_entry([SEP.join(p[1:-1]) for p, _ in flat], ["adjustments"] * len(adjs)),
                "item": per_entry([it.id for _p, it in flat], [a.id for a in adjs]),
                "label": per_entry([it.label for _p, it in flat], [a.label for a in adjs]),
                "label_en": per_entry([it.label_en for _p, it in flat], [a.label_en for a in adjs]),
                "max_points": max_pts,
                "points": pts,
                "lost": np.where(is_item, max_pts - pts, np.maximum(-pts, 0.0)),
                "status": status_words[code],
                "value": value,
                "target": matrix(self._targets),
            }
        )
        prev = matrix(self._prev)
        reason = np.full(e.size, "met", dtype=object)
        for j, (_p, it) in enumerate(flat):
            m = np.flatnonzero((e == j) & (code != MET))
            if m.size:
                x = {
                    "value": value[m],
                    "target": out["target"].to_numpy()[m],
                    "prev": prev[m],
                    "points": pts[m],
                    "status": code[m],
                }
                is_rate = s.indicators[it.rule.indicator].is_rate
                reason[m] = _reasons(it, x, s.missing, is_rate).astype(object)
        for a_i, a in enumerate(adjs):
            m = np.flatnonzero(e == k + a_i)
            if m.size:
                reason[m] = _adjustment_reasons(a, self._values, row[m], out["points"].to_numpy()[m])
        out["reason"] = reason
        return out[ITEM_COLUMNS]

    @cached_property
    def lines(self) -> pd.DataFrame:
        """Long line table: unit, year, line, points, max_points, rank_in_line."""
        out = []
        for ln in self.scheme.lines:
            col = f"line_{ln.id}"
            m = self.summary[col].notna()
            out.append(
                self.summary.loc[m, ["unit", "name", "year", "kind"]].assign(
                    line=ln.id,
                    label=ln.label,
                    points=self.summary.loc[m, col],
                    max_points=ln.points if ln.points is not None else np.nan,
                    rank_in_line=self.summary.loc[m, f"rank_{ln.id}"],
                )
            )
        return pd.concat(out, ignore_index=True)


def _max_points(item: Item) -> float:
    """An item's maximum: its points, else the top of its normalised scale (NaN if none)."""
    if item.points is not None:
        return item.points
    return item.rule.bounds[1] if item.rule.type in SCORE_RULES else np.nan


def _reasons(item: Item, x: dict[str, np.ndarray], default_missing: str, is_rate: bool = False) -> np.ndarray:
    """Words for rows of one item that did not get full points (status not 'met').

    ``x`` holds arrays ``value``, ``target``, ``prev``, ``points`` and ``status`` (codes).
    """
    policy = item.missing or default_missing
    st = x["status"]
    out = np.full(st.size, "", dtype=TEXT)
    scored = np.flatnonzero(st != MISSING)
    if scored.size:
        sub = {k: v[scored] for k, v in x.items()}
        text = DESCRIBERS[item.rule.type](item.rule, sub)
        word = np.where(sub["points"] > 1e-12, "partial credit: ", "missed: ")
        text = cat(word, text, " → ", fmt(sub["points"]), f"/{_max_points(item):g}")
        out[scored] = np.where(sub["status"] == VETOED, cat("vetoed — ", text), text)
    miss = np.flatnonzero(st == MISSING)
    if miss.size:
        # name what is missing: the value, the target, or the previous year
        v = x["value"][miss]
        no_val = pd.isna(v) if v.dtype == object else np.isnan(v.astype(float))
        has_target = getattr(item.rule, "target", None) is not None
        cause = np.where(
            no_val,
            "no value (or a zero denominator)" if is_rate else "no value",
            np.where(
                np.isnan(x["target"][miss]) & has_target,
                "no target for this unit and year",
                np.where(np.isnan(x["prev"][miss]), "no value for the previous year", "value not computable"),
            ),
        )
        if item.rule.type in SCORE_RULES:  # a value can exist yet have no normalised score
            cause = np.where(no_val, cause, "no spread among its peers (one unit, or the same value for all)")
        what = {"zero": "scored 0", "full": "scored full points", "drop": "left out of its parent's mean"}[
            policy
        ]
        out[miss] = cat(cause, f" → {what} (missing-data policy '{policy}')")
    return out


def _adjustment_reasons(adj, values: dict[str, np.ndarray], rows: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """'innovation 2 × 20 + …' with the unit's own non-zero counts, then the points."""
    terms = [(f"{ind} ", ind, f" × {per:g}") for ind, per in adj.per_case.items()]
    if adj.assessed:
        a = adj.assessed
        terms.append((f"assessed ({a.min:g}–{a.max:g}) ", a.indicator, ""))
    text = np.full(rows.size, "", dtype=TEXT)
    for name, ind, per in terms:
        c = values[ind][rows]
        has = ~np.isnan(c) & (c != 0)
        part = cat(name, fmt(c), per)
        text = np.where(has, np.where(text == "", part, cat(text, " + ", part)), text)
    cap = f", capped at {adj.cap:g}" if adj.cap is not None else ""
    return cat(f"{adj.label}: ", text, cap, " → ", fmt(pts)).astype(object)


# --------------------------------------------------------------------------- engine
_OPS = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less, "==": np.equal}


def _eval_condition(c: Condition, missed: dict[str, np.ndarray], values: dict[str, np.ndarray]) -> np.ndarray:
    """Boolean array: where the condition holds (a missing indicator value never holds)."""
    if c.missed is not None:
        return missed[c.missed]
    if c.indicator is not None:
        v = values[c.indicator].astype(float)
        with np.errstate(invalid="ignore"):
            return _OPS[c.op](v, c.value) & ~np.isnan(v)
    parts = [_eval_condition(x, missed, values) for x in (c.all or c.any)]
    return np.logical_and.reduce(parts) if c.all is not None else np.logical_or.reduce(parts)


def score_panel(scheme: Scheme, panel: Panel, *, years: list[int] | None = None) -> ScoreResult:
    """Score a validated panel (the pure kernel behind :func:`score`).

    Parameters
    ----------
    scheme : Scheme
    panel : Panel
        From :func:`assesskit.data.read_panel`.
    years : list of int, optional
        Years to score; default every year of the panel inside the scheme's years.
        Other years serve as history for change rules.
    """
    data = panel.data
    lo, hi = scheme.years
    sel = data["year"].isin(years) if years is not None else data["year"].between(lo, hi)
    all_values = indicator_values(scheme, data)

    # (unit, year) as one integer key, for the previous-year and target-table lookups
    unit_codes, unit_names = pd.factorize(data["unit"])
    year_all = data["year"].to_numpy(dtype=np.int64)
    y_min = int(year_all.min()) if year_all.size else 0
    span = (int(year_all.max()) - y_min + 2) if year_all.size else 1  # +2: room for year − 1
    key_all = unit_codes * span + (year_all - y_min + 1)
    need_prev = any(it.rule.type == "change" for _p, it in scheme.flat_items)
    # previous-year row of every row (for change rules): -1 where absent
    prev_row = pd.Index(key_all).get_indexer(key_all - 1) if need_prev else None

    sel = sel.to_numpy()
    rows_idx = np.flatnonzero(sel)
    every = rows_idx.size == len(data)  # the common case: no copies needed
    rows = data[["unit", "name", "year", "kind", "category"]]
    rows = rows.reset_index(drop=True) if every else rows.iloc[rows_idx].reset_index(drop=True)
    n = len(rows)
    values = all_values if every else {k: v[rows_idx] for k, v in all_values.items()}

    items = scheme.flat_items
    k = len(items)
    # item-major arrays (items × rows): each item's row is contiguous
    points = np.zeros((k, n))  # 0 where the item does not apply (see ``applies``)
    status = np.full((k, n), MISSING, dtype=np.int8)
    applies = np.zeros((k, n), dtype=bool)
    targets: dict[str, np.ndarray] = {}
    prev: dict[str, np.ndarray] = {}
    kind_names = list(scheme.kinds)
    kind = pd.Categorical(rows["kind"], categories=kind_names).codes  # int codes: fast comparisons
    line_kind = {ln.id: kind_names.index(ln.unit_kind) for ln in scheme.lines}

    def of_kinds(names: list[str] | None) -> np.ndarray:
        return np.ones(n, bool) if names is None else np.isin(kind, [kind_names.index(k) for k in names])

    kind_mask = {code: kind == code for code in set(line_kind.values())}
    prev_of_row = prev_row[rows_idx] if need_prev else None
    target_row = None
    if len(panel.targets.columns):
        t_units = panel.targets.index.get_level_values(0)
        t_codes = pd.Index(unit_names).get_indexer(t_units)  # −1: a unit not in the panel
        t_years = panel.targets.index.get_level_values(1).to_numpy().astype(np.int64)
        known = np.flatnonzero((t_codes >= 0) & (t_years >= y_min) & (t_years < y_min + span - 1))
        t_keys = t_codes[known] * span + (t_years[known] - y_min + 1)
        found = pd.Index(t_keys).get_indexer(key_all[rows_idx])
        target_row = np.where(found >= 0, known[found], -1)
    missed: dict[str, np.ndarray] = {}
    year = rows["year"].to_numpy()
    grp = _group_codes(year, kind)  # the peers: one kind of unit in one year

    for j, (path, item) in enumerate(items):
        r = item.rule
        app = kind_mask[line_kind[path[0]]]
        applies[j] = app
        v = values[r.indicator]
        if r.type == "change":
            pv = np.where(prev_of_row >= 0, all_values[r.indicator][prev_of_row], np.nan).astype(float)
            prev[item.id] = pv
        else:
            pv = _NO_PREV(n)
        tg = _target_array(item, rows, panel.targets, target_row)
        if getattr(r, "target", None) is not None:
            targets[item.id] = tg
        f = RULES[r.type](r, RuleInput(v, tg, pv, item.points, grp))
        is_missing = np.isnan(f)
        policy = item.missing or scheme.missing
        st = np.full(n, PARTIAL, dtype=np.int8)
        if r.type in SCORE_RULES:  # the score itself (composite indices), bounded or not
            lo, hi = r.bounds
            bottom = lo if np.isfinite(lo) else 0.0  # "zero": the bottom of the scale
            f = np.where(is_missing, {"zero": bottom, "full": hi, "drop": np.nan}[policy], f)
            st[f >= hi - 1e-12] = MET
            st[f <= lo + 1e-12] = MISSED
            points[j] = np.where(app, f, 0.0)
        else:
            f = np.where(is_missing, {"zero": 0.0, "full": 1.0, "drop": np.nan}[policy], f)
            st[f >= 1 - 1e-12] = MET
            st[f <= 1e-12] = MISSED
            np.multiply(f, item.points, out=points[j], where=app)
        st[is_missing] = MISSING
        status[j] = st
        missed[item.id] = (st != MET) & app  # a missing value is never "met"

    pts0 = points
    cols: dict[str, np.ndarray] = {
        c: rows[c].to_numpy() for c in ("unit", "name", "year", "kind", "category")
    }
    unit_ids = rows["unit"].to_numpy()
    for ln in scheme.lines:
        tot = _node_scores(scheme, pts0, applies, ln.id, unit_ids)
        cols[f"line_{ln.id}"] = np.where(kind == line_kind[ln.id], tot, np.nan)
    lines_total = np.zeros(n)
    for ln in scheme.lines:  # each unit has the lines of its kind
        lines_total += np.where(kind == line_kind[ln.id], cols[f"line_{ln.id}"], 0.0)

    # adjustments
    adjust: dict[str, np.ndarray] = {}
    bonus = np.zeros(n)
    deduction = np.zeros(n)
    for adj in scheme.adjustments:
        amt = np.zeros(n)
        for ind, per in adj.per_case.items():
            amt += _fill_nan(values[ind], 0.0) * per
        if adj.assessed:
            amt += _fill_nan(values[adj.assessed.indicator], 0.0)
        if adj.cap is not None:
            amt = np.minimum(amt, adj.cap)
        if adj.applies_to is not None:
            amt = np.where(of_kinds(adj.applies_to), amt, 0.0)
        adjust[adj.id] = amt
        if adj.kind == "bonus":
            bonus += amt
        else:
            deduction += amt
    total = lines_total + bonus - deduction
    if scheme.floor is not None:
        total = np.maximum(total, scheme.floor)

    # vetoes and eligibility
    by_effect: dict[str, list[tuple[np.ndarray, str]]] = {"veto": [], "not_scored": [], "ineligible": []}
    for v in scheme.vetoes:
        m = _eval_condition(v.when, missed, values)
        if v.applies_to is not None:
            m = m & of_kinds(v.applies_to)
        by_effect[v.effect].append((m, v.label))
        # the items whose miss triggered it are marked 'vetoed'
        if v.effect in ("veto", "not_scored"):
            for c in v.when.walk():
                if c.missed is not None:
                    j = next(jj for jj, (_p, it) in enumerate(items) if it.id == c.missed)
                    status[j, m & missed[c.missed] & (status[j] != MISSING)] = VETOED

    def any_of(effect: str) -> np.ndarray:
        return np.logical_or.reduce([m for m, _ in by_effect[effect]] + [np.zeros(n, bool)])

    not_scored = any_of("not_scored")
    vetoed = any_of("veto") | not_scored
    total = np.where(not_scored, np.nan, total)
    ranked = ~vetoed & ~np.isnan(total)
    out_cfg = scheme.outcomes
    in_outcomes = of_kinds(out_cfg.applies_to)
    eligible = ranked & ~any_of("ineligible") & in_outcomes
    veto_reason = _join_labels(by_effect["not_scored"] + by_effect["veto"], n)
    cols.update(
        bonus=bonus,
        deduction=deduction,
        total=total,
        max_total=np.array([scheme.max_by_kind[kn] for kn in kind_names])[kind],
        veto=vetoed,
        veto_reason=veto_reason,
        not_scored=not_scored,
        eligible=eligible,
        ineligible_reason=np.where(vetoed, veto_reason, _join_labels(by_effect["ineligible"], n)),
    )

    # ranks
    wanted = set(out_cfg.tie_break) | {a.rank_by for a in out_cfg.single_awards}
    node_pts = {nid: _node_scores(scheme, pts0, applies, nid, unit_ids) for nid in wanted}
    tb = [node_pts[nid] for nid in out_cfg.tie_break]
    cols["rank"] = competition_rank(grp, [total] + tb, ranked)
    cols["n_ranked"] = np.bincount(grp, weights=ranked)[grp]
    cat = rows["category"].astype(object).fillna("").to_numpy()
    cols["rank_in_category"] = competition_rank(_group_codes(grp, cat), [total] + tb, ranked)
    for ln in scheme.lines:
        lt = cols[f"line_{ln.id}"]
        cols[f"rank_{ln.id}"] = competition_rank(grp, [lt], ranked & ~np.isnan(lt))

    # awards
    award = np.full(n, "", dtype=object)
    prize = np.zeros(n)
    free = eligible.copy()
    for tier in out_cfg.tiers:
        cand = free & (total >= tier.min_total if tier.min_total is not None else True)
        if tier.count is not None:
            r = competition_rank(grp, [total] + tb, cand)
            got = cand & (r <= tier.count)
        else:
            got = cand
        award[got] = tier.id
        prize[got] = tier.prize or 0.0
        free &= ~got
    singles = []
    for sa in out_cfg.single_awards:
        has_node = kind == line_kind[scheme.line_of(sa.rank_by).id]
        r = competition_rank(grp, [node_pts[sa.rank_by], total], eligible & has_node)
        got = eligible & has_node & (r <= sa.count)
        singles.append((got, sa.id))
        prize = prize + np.where(got, sa.prize or 0.0, 0.0)
    cols.update(award=award, single_awards=_join_labels(singles, n), prize=prize)
    warn = []
    for w in out_cfg.warnings:
        m = np.zeros(n, bool)
        if w.bottom is not None:
            pool = ranked & in_outcomes
            from_bottom = competition_rank(grp, [-total] + [-k for k in tb], pool)
            big_enough = np.bincount(grp, weights=pool)[grp] > w.bottom  # the only unit is not "last"
            m |= (from_bottom <= w.bottom) & big_enough
        if w.below_total is not None:
            m |= ranked & in_outcomes & (total < w.below_total)
        warn.append((m, w.id))
    cols["warning"] = _join_labels(warn, n)

    # rows are in unit order (Panel.data is sorted by unit and year), so a stable sort by
    # year, kind and rank leaves units alphabetical within ties
    unit_key = (
        np.arange(n) if rows["unit"].is_monotonic_increasing else pd.factorize(rows["unit"], sort=True)[0]
    )
    order = np.lexsort((unit_key, _fill_nan(cols["rank"], np.inf), kind, year))
    summary = pd.DataFrame({c: v[order] for c, v in cols.items()})
    rank_cols = ("rank", "rank_in_category", "n_ranked") + tuple(f"rank_{ln.id}" for ln in scheme.lines)
    summary = summary.astype({c: "Int64" for c in rank_cols})
    return ScoreResult(
        scheme=scheme,
        summary=summary,
        warnings=panel.warnings,
        _order=order,
        _rows=rows,
        _values=values,
        _targets=targets,
        _prev=prev,
        _points=points,
        _status=status,
        _applies=applies,
        _adjust=adjust,
    )


def _node_scores(
    scheme: Scheme, pts0: np.ndarray, applies: np.ndarray, node_id: str, units: np.ndarray
) -> np.ndarray:
    """Score of one line, section or item per row: the sum of its items' points, or for
    composite nodes the weighted means up the tree (:func:`assesskit.composite.aggregate_tree`).
    """
    node = scheme.nodes[node_id]
    js = [j for j, (p, _it) in enumerate(scheme.flat_items) if node_id in p]
    a, b = js[0], js[-1] + 1  # a node's items are contiguous
    if isinstance(node, Item):
        return pts0[a]
    if node.is_sum_tree and not scheme.may_drop:
        return pts0[a:b].sum(axis=0)  # the same as the tree below, without the NaN bookkeeping
    sub = np.where(applies[a:b], pts0[a:b], np.nan).T  # rows × the node's items
    nodes = tree_nodes(node, {it.id: j - a for j, (_p, it) in enumerate(scheme.flat_items[a:b], a)})
    return aggregate_tree(nodes, sub, units=units)[0, :, -1]


def score(
    scheme: Scheme,
    data,
    *,
    units=None,
    targets=None,
    grades=None,
    year: int | list[int] | None = None,
    allow_missing_columns: bool = False,
) -> ScoreResult:
    """Validate the inputs and score them with ``scheme``.

    Parameters
    ----------
    scheme : Scheme
        From :func:`assesskit.load_scheme`.
    data : path or DataFrame
        The panel (one row per unit and year).
    units, targets, grades : path or DataFrame, optional
        Unit registry, per-unit-year targets, inspector grades (see
        :func:`assesskit.data.read_panel`).
    year : int or list of int, optional
        Year(s) to score; default every year inside the scheme's years.
    allow_missing_columns : bool
        Score items whose columns are absent as missing instead of stopping.

    Returns
    -------
    ScoreResult
        ``.summary`` (one row per unit-year), ``.items`` (every item with its reason),
        ``.lines``.

    Raises
    ------
    DataError
        With every problem in the inputs.
    """
    years = (
        [int(year)]
        if isinstance(year, numbers.Integral)
        else ([int(y) for y in year] if year is not None else None)
    )
    if years == []:
        raise DataError("year: an empty list of years; give at least one, or None for every year")
    panel = read_panel(
        scheme,
        data,
        units=units,
        targets=targets,
        grades=grades,
        years=years,
        allow_missing_columns=allow_missing_columns,
    )
    return score_panel(scheme, panel, years=years)
