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

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .data import Panel
from .exceptions import Problem
from .kernel import MET, MISSING, STATUS, VETOED, Inputs, Outcome, prepare, rank_within, run
from .kernel.core import eval_condition as _eval_condition  # noqa: F401  (old private name)
from .kernel.inputs import indicator_values  # noqa: F401  (its old home)
from .kernel.outcomes import award_ids
from .kernel.rank import fill_nan as _fill_nan  # noqa: F401
from .kernel.rank import group_codes as _group_codes  # noqa: F401
from .rules import TEXT, cat, fmt, rule_type
from .scheme import SEP, Item, Scheme

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
def competition_rank(group: np.ndarray, keys: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    """Deprecated: :func:`assesskit.kernel.rank_within` (the same ranks, over draws too)."""
    warnings.warn(
        "assesskit.scoring.competition_rank is deprecated; use assesskit.kernel.rank_within",
        DeprecationWarning,
        stacklevel=2,
    )
    return rank_within(group, keys, mask)


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

    The tables (``summary``, :attr:`items`, :attr:`lines`, :attr:`points`) are for
    people; the arrays below are for analyses that compute on the scores (composite
    diagnostics, sensitivity, counterfactuals). Arrays run over the scored unit-years in
    the kernel's order, :attr:`rows` (the panel's order: unit, then year); summary row
    ``i`` is row ``order[i]``.

    Attributes
    ----------
    scheme : Scheme
    summary : DataFrame
        One row per unit and year (columns documented in the README, "Outputs").
    warnings : tuple of Problem
        Input warnings carried from the panel.
    inputs : assesskit.kernel.Inputs
        The kernel's inputs (to re-run the kernel with variations, see
        :mod:`assesskit.sensitivity`).
    order : (n,) int
        Summary row ``i`` is row ``order[i]`` of :attr:`rows` and of every array.
    item_points : (k, n) float
        Points of each of the scheme's flat items (``scheme.flat_items`` order) per row;
        0 where the item does not apply (see :attr:`applies`).
    item_status : (k, n) int8
        Codes into :data:`assesskit.kernel.STATUS` (met, partial, missed, missing, vetoed).
    """

    scheme: Scheme
    summary: pd.DataFrame
    warnings: tuple[Problem, ...]
    inputs: Inputs = field(repr=False)
    order: np.ndarray = field(repr=False)
    item_points: np.ndarray = field(repr=False)
    item_status: np.ndarray = field(repr=False)

    # ---- documented arrays (views of the kernel's inputs)
    @property
    def rows(self) -> pd.DataFrame:
        """``unit``, ``name``, ``year``, ``kind``, ``category`` of the scored rows (kernel order)."""
        return self.inputs.rows

    @property
    def values(self) -> dict[str, np.ndarray]:
        """Indicator id → its value per row (float; object for label grades)."""
        return self.inputs.values

    @property
    def targets(self) -> dict[str, np.ndarray]:
        """Item id → its target per row (items whose rule has a target)."""
        return self.inputs.targets

    @property
    def previous(self) -> dict[str, np.ndarray]:
        """Item id → the indicator's previous-year value per row (change rules)."""
        return self.inputs.previous

    @property
    def applies(self) -> np.ndarray:
        """(k, n) bool: the item belongs to a line of the row's kind of unit."""
        return self.inputs.applies

    @property
    def adjustments(self) -> dict[str, np.ndarray]:
        """Adjustment id → its amount per row (capped; positive for bonuses and deductions)."""
        return self.inputs.adjustments

    # ---- the names before they were documented (used inside this module only)
    _rows = rows
    _values = values
    _targets = targets
    _prev = previous
    _applies = applies
    _adjust = adjustments

    @property
    def _order(self) -> np.ndarray:
        return self.order

    @property
    def _points(self) -> np.ndarray:
        return self.item_points

    @property
    def _status(self) -> np.ndarray:
        return self.item_status

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
        return _item_table(self)

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


# --------------------------------------------------------------------------- the item table
@dataclass(frozen=True)
class _Entries:
    """The item table's rows: (item or adjustment) × unit-year present, in summary order."""

    row: np.ndarray  # kernel row of each entry
    e: np.ndarray  # entry index: item j < k, else adjustment k + a
    at: list[np.ndarray]  # positions of each entry index (items, then adjustments)
    adj_amt: np.ndarray  # (adjustments, n)


def _entries(res: ScoreResult) -> _Entries:
    s = res.scheme
    k, adjs = len(s.flat_items), s.adjustments
    order = res.order
    n = order.size
    # entries (item or adjustment × row) present, in summary order: nonzero of the
    # rows × entries matrix walks row by row, entries in scheme order — no sort needed
    adj_amt = np.array([res.adjustments[a.id] for a in adjs]) if adjs else np.zeros((0, n))
    present = np.vstack([res.applies, adj_amt != 0]) if adjs else res.applies
    r_pos, e = np.nonzero(present[:, order].T)
    # the positions of each entry kind, from one stable counting sort (not one scan per item)
    n_kinds = k + len(adjs)
    by = np.argsort(e.astype(np.int16 if n_kinds < 2**15 else np.int64), kind="stable")
    at = np.split(by, np.cumsum(np.bincount(e, minlength=n_kinds))[:-1])
    return _Entries(order[r_pos], e, at, adj_amt)


def _gather(en: _Entries, flat, source: dict[str, np.ndarray]) -> np.ndarray:
    """Per entry: the item's array in ``source`` at the entry's row (NaN elsewhere)."""
    out = np.full(en.e.size, np.nan)
    for j, (_p, it) in enumerate(flat):
        if it.id in source:
            m = en.at[j]
            out[m] = source[it.id][en.row[m]]
    return out


def _item_table(res: ScoreResult) -> pd.DataFrame:
    """:attr:`ScoreResult.items` (see there)."""
    s = res.scheme
    flat, adjs = s.flat_items, s.adjustments
    k = len(flat)
    en = _entries(res)
    e, row = en.e, en.row
    is_item = e < k
    ei = np.where(is_item, e, 0)

    def per_entry(item_vals: list, adj_vals: list) -> np.ndarray:
        return np.array(item_vals + adj_vals, dtype=object)[e]

    sign = np.array([1.0 if a.kind == "bonus" else -1.0 for a in adjs])
    pts = np.where(is_item, res.item_points[ei, row], 0.0)
    code = np.where(is_item, res.item_status[ei, row], 0)
    if adjs:
        ea = np.where(is_item, 0, e - k)
        pts = np.where(is_item, pts, sign[ea] * en.adj_amt[ea, row])
        code = np.where(is_item, code, np.where(sign[ea] > 0, len(STATUS), len(STATUS) + 1))
    max_pts = np.array([_max_points(it) for _p, it in flat] + [np.nan] * len(adjs))[e]
    labels_ind = any(ind.kind == "label" for ind in s.indicators.values())
    value = np.full(e.size, np.nan, dtype=object if labels_ind else float)
    for j, (_p, it) in enumerate(flat):
        value[en.at[j]] = res.values[it.rule.indicator][row[en.at[j]]]
    for a_i in range(len(adjs)):
        value[en.at[k + a_i]] = en.adj_amt[a_i, row[en.at[k + a_i]]]
    rows = res.rows
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
            "status": np.concatenate([STATUS, ["bonus", "deduction"]])[code],
            "value": value,
            "target": _gather(en, flat, res.targets),
        }
    )
    out["reason"] = _entry_reasons(res, en, out, code)
    return out[ITEM_COLUMNS]


def _entry_reasons(res: ScoreResult, en: _Entries, out: pd.DataFrame, code: np.ndarray) -> np.ndarray:
    """The reason of every entry: 'met', or what was missed and why, or the adjustment's sum."""
    s = res.scheme
    flat = s.flat_items
    k = len(flat)
    prev = _gather(en, flat, res.previous)
    value, target, pts = out["value"].to_numpy(), out["target"].to_numpy(), out["points"].to_numpy()
    reason = np.full(en.e.size, "met", dtype=object)
    for j, (_p, it) in enumerate(flat):
        m = en.at[j][code[en.at[j]] != MET]
        if m.size:
            x = {"value": value[m], "target": target[m], "prev": prev[m], "points": pts[m], "status": code[m]}
            is_rate = s.indicators[it.rule.indicator].is_rate
            reason[m] = _reasons(it, x, s.missing, is_rate).astype(object)
    for a_i, a in enumerate(s.adjustments):
        m = en.at[k + a_i]
        if m.size:
            reason[m] = _adjustment_reasons(a, res.values, en.row[m], pts[m])
    return reason


def _max_points(item: Item) -> float:
    """An item's maximum: its points, else the top of its normalised scale (NaN if none)."""
    if item.points is not None:
        return item.points
    return item.rule.bounds[1] if rule_type(item.rule.type).score else np.nan


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
        text = rule_type(item.rule.type).describe(item.rule, sub)
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
        if rule_type(item.rule.type).score:  # a value can exist yet have no normalised score
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
def score_panel(scheme: Scheme, panel: Panel, *, years: list[int] | None = None) -> ScoreResult:
    """Score a validated panel: the kernel (:func:`assesskit.kernel.run`) with one draw.

    Parameters
    ----------
    scheme : Scheme
    panel : Panel
        From :func:`assesskit.data.read_panel`.
    years : list of int, optional
        Years to score; default every year of the panel inside the scheme's years.
        Other years serve as history for change rules.
    """
    return result_of(prepare(scheme, panel, years))


def result_of(inp: Inputs, out: Outcome | None = None) -> ScoreResult:
    """The :class:`ScoreResult` of the kernel's nominal draw on ``inp`` (run here unless given
    with ``detail``)."""
    out = out if out is not None and out.detail is not None else run(inp, detail=True)
    cols, order = _summary_columns(inp, out)
    summary = pd.DataFrame({c: v[order] for c, v in cols.items()})
    rank_cols = ("rank", "rank_in_category", "n_ranked") + tuple(f"rank_{ln.id}" for ln in inp.scheme.lines)
    summary = summary.astype({c: "Int64" for c in rank_cols})
    return ScoreResult(
        scheme=inp.scheme,
        summary=summary,
        warnings=inp.panel.warnings,
        inputs=inp,
        order=order,
        item_points=out.detail.points[:, 0, :],
        item_status=out.detail.status[:, 0, :],
    )


def _summary_columns(inp: Inputs, out: Outcome) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The summary's columns (kernel order) and the summary order."""
    s, det, n = inp.scheme, out.detail, inp.n
    rows = inp.rows
    cols: dict[str, np.ndarray] = {
        c: rows[c].to_numpy() for c in ("unit", "name", "year", "kind", "category")
    }
    for ln in s.lines:
        cols[f"line_{ln.id}"] = det.lines[ln.id][0]
    eff = {e: [(m[0], lab) for m, lab in ms] for e, ms in det.effects.items()}
    veto_reason = _join_labels(eff["not_scored"] + eff["veto"], n)
    vetoed = out.vetoed[0]
    cols.update(
        bonus=det.bonus[0],
        deduction=det.deduction[0],
        total=out.total[0],
        max_total=np.array([s.max_by_kind[kn] for kn in s.kinds])[inp.kind],
        veto=vetoed,
        veto_reason=veto_reason,
        not_scored=out.not_scored[0],
        eligible=out.eligible[0],
        ineligible_reason=np.where(vetoed, veto_reason, _join_labels(eff["ineligible"], n)),
        rank=out.rank[0],
        n_ranked=out.n_ranked[0],
        rank_in_category=det.rank_in_category[0],
    )
    for ln in s.lines:
        cols[f"rank_{ln.id}"] = det.line_ranks[ln.id][0]
    cols.update(
        award=award_ids(s, out),  # tier −1 → ""; a split tie names every tier it shares
        single_awards=_join_labels([(m[0], sid) for m, sid in det.singles], n),
        prize=det.prize[0],
        warning=_join_labels([(out.warnings[w, 0], w_.id) for w, w_ in enumerate(s.outcomes.warnings)], n),
    )
    # rows are in unit order (Panel.data is sorted by unit and year), so a stable sort by
    # year, kind and rank leaves units alphabetical within ties
    unit_key = (
        np.arange(n) if rows["unit"].is_monotonic_increasing else pd.factorize(rows["unit"], sort=True)[0]
    )
    order = np.lexsort((unit_key, _fill_nan(cols["rank"], np.inf), inp.kind, cols["year"]))
    return cols, order


def __getattr__(name: str):
    """``scoring.score`` moved to :func:`assesskit.pipeline.score` (the one load → validate →
    score sequence); the old path is a deprecated alias, imported lazily (no import cycle)."""
    if name != "score":
        raise AttributeError(f"module 'assesskit.scoring' has no attribute '{name}'")
    import importlib
    import warnings

    warnings.warn(
        "assesskit.scoring.score is deprecated; use assesskit.score (assesskit.pipeline.score)",
        DeprecationWarning,
        stacklevel=2,
    )
    return importlib.import_module("assesskit.pipeline").score
