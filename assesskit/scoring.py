"""Scheme × panel → item points, line totals, vetoes, ranks and awards.

Pure and vectorised: one pass per *item* (a scheme has tens of items) over arrays of all
scored unit-years at once; no loop over units or rows. The long item table is built on
demand from the same arrays, in chunks of unit-years (:meth:`ScoreResult.iter_item_tables`),
with each reason as a template and its values (:mod:`assesskit.reasons`); the sentences
are rendered where a person reads them (:attr:`ScoreResult.items`, the CSV and xlsx writers).

Order of application (documented in the user guide, "Scheme files"):

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
   eligible units (units tied at a tier's boundary: the scheme's ``outcomes.ties`` policy);
   single-item awards rank eligible units by one node's points; warnings flag the last
   ``bottom`` ranked units or those below ``below_total``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
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
from .reasons import (
    MET_V,
    MISSED_V,
    PARTIAL_V,
    TEMPLATE_COLUMN,
    ReasonTemplates,
    adjustment_terms,
    max_points,
    missing_variant,
    render_text,
    scheme_templates,
)
from .rules import rule_type
from .scheme import SEP, Scheme

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
"""Columns of :attr:`ScoreResult.items` (see the user guide, "Outputs", for their meaning)."""


# --------------------------------------------------------------------------- helpers
def competition_rank(group: np.ndarray, keys: list[np.ndarray], mask: np.ndarray) -> np.ndarray:
    """Deprecated: :func:`assesskit.kernel.rank_within` (the same ranks, over draws too)."""
    warnings.warn(
        "assesskit.scoring.competition_rank is deprecated; use assesskit.kernel.rank_within",
        DeprecationWarning,
        stacklevel=2,
    )
    return rank_within(group, keys, mask)


def join_labels(masks: list[tuple[np.ndarray, str]], n: int) -> np.ndarray:
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
        One row per unit and year (columns documented in the user guide, "Outputs").
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
        non-zero bonus or deduction; every lost point with its reason in words.

        Rows follow the summary's order, items in the scheme's order, then adjustments.
        Columns :data:`ITEM_COLUMNS` (text columns as plain text). For large panels use
        :meth:`item_table` (reasons as templates and values, categoricals) or
        :meth:`iter_item_tables` (in chunks); this builds every reason's sentence.
        """
        df = self.item_table(render=True)
        # plain columns, typed as pandas infers them (text as text), as before the templates
        return pd.DataFrame(
            {
                c: df[c].to_numpy(dtype=object)
                if isinstance(df[c].dtype, pd.CategoricalDtype)
                else df[c].to_numpy()
                for c in ITEM_COLUMNS
            }
        )

    def item_table(self, render: bool = False, *, select: np.ndarray | None = None) -> pd.DataFrame:
        """The item table in columnar form: reasons as a template and values.

        Columns: :data:`ITEM_COLUMNS` without ``reason``, then ``previous`` (the previous
        year's value, change rules), ``reason_template`` (categorical) and ``term_1`` …
        ``term_m`` (the counts of each bonus or deduction's terms); see
        :mod:`assesskit.reasons`. Text columns (unit, name, kind, line, section, item,
        label, label_en, status) are categoricals.

        Parameters
        ----------
        render : bool
            Add ``reason``, the sentence (:func:`assesskit.reasons.render_reasons`), as
            Arrow-backed text (``string[pyarrow]``).
        select : array of int or bool, optional
            Summary rows to include (positions, or a mask over the summary); default all.
        """
        pos = np.arange(self.order.size) if select is None else np.arange(self.order.size)[select]
        return _frame(_chunk(self, self._table_base, self.order[pos]), render)

    def iter_item_tables(self, render: bool = False, *, chunk: int | None = None) -> Iterator[pd.DataFrame]:
        """:meth:`item_table` in chunks of ``chunk`` unit-years (summary order); laid end to
        end the chunks are the whole table. Default: about :data:`CHUNK_ENTRIES` rows a chunk.
        The chunks' categoricals share their categories, so they concatenate as categoricals.
        """
        n_rows = self.order.size
        if chunk is None:
            per_row = len(self.scheme.flat_items) + len(self.scheme.adjustments)
            chunk = max(1, CHUNK_ENTRIES // max(per_row, 1))
        if chunk < 1:
            raise ValueError(f"chunk: expected a positive number of unit-years, got {chunk}")
        base = self._table_base
        for a in range(0, max(n_rows, 1), chunk):
            yield _frame(_chunk(self, base, self.order[a : a + chunk]), render)

    def n_item_rows(self) -> int:
        """Rows of the item table, counted without building it."""
        adj = self._table_base.adj_amt
        return int(self.applies.sum()) + int(np.count_nonzero(adj))

    @cached_property
    def _table_base(self) -> _TableBase:
        return _table_base(self)

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
# Built in chunks of unit-years (summary order) from the kernel's arrays: the entries of a
# chunk are the nonzero cells of its rows × (items, adjustments) matrix, walked row by row,
# so chunks laid end to end give the whole table. Reasons are a template code and values
# (assesskit.reasons); they are rendered only when asked.
CHUNK_ENTRIES = 250_000
"""Item rows per chunk (about) when the table is produced in chunks (:meth:`ScoreResult.iter_item_tables`)."""

STATUS_NAMES = [*STATUS, "bonus", "deduction"]
"""Categories of the item table's ``status`` column."""


@dataclass(frozen=True)
class _TableBase:
    """What every chunk of one result's item table shares (computed once)."""

    templates: ReasonTemplates
    adj_amt: np.ndarray  # (adjustments, n)
    sign: np.ndarray  # (adjustments,) +1 bonus, −1 deduction
    entry_codes: dict[str, tuple[np.ndarray, list]]  # column → (code per entry kind, categories)
    row_codes: dict[str, tuple[np.ndarray, object]]  # unit, name, kind → (code per row, categories)
    max_pts: np.ndarray  # per entry kind
    value_dtype: object
    item_flags: list[tuple[bool, bool]]  # per item: (has a target, is a score rule)


def _codes(values: list) -> tuple[np.ndarray, list]:
    codes, uniq = pd.factorize(pd.Series(values, dtype=object))
    return codes.astype(np.int32), list(uniq)


def _table_base(res: ScoreResult) -> _TableBase:
    s = res.scheme
    flat, adjs = s.flat_items, s.adjustments
    n = res.order.size
    entry = {
        "line": [p[0] for p, _ in flat] + [""] * len(adjs),
        "section": [SEP.join(p[1:-1]) for p, _ in flat] + ["adjustments"] * len(adjs),
        "item": [it.id for _p, it in flat] + [a.id for a in adjs],
        "label": [it.label for _p, it in flat] + [a.label for a in adjs],
        "label_en": [it.label_en for _p, it in flat] + [a.label_en for a in adjs],
    }
    rows = res.rows
    return _TableBase(
        templates=scheme_templates(s),
        adj_amt=np.array([res.adjustments[a.id] for a in adjs]) if adjs else np.zeros((0, n)),
        sign=np.array([1.0 if a.kind == "bonus" else -1.0 for a in adjs]),
        entry_codes={c: _codes(v) for c, v in entry.items()},
        row_codes={c: pd.factorize(rows[c]) for c in ("unit", "name", "kind")},
        max_pts=np.array([max_points(it) for _p, it in flat] + [np.nan] * len(adjs)),
        value_dtype=object if any(ind.kind == "label" for ind in s.indicators.values()) else float,
        item_flags=[
            (getattr(it.rule, "target", None) is not None, rule_type(it.rule.type).score) for _p, it in flat
        ],
    )


def _chunk(res: ScoreResult, b: _TableBase, rows_k: np.ndarray) -> dict[str, object]:
    """The unrendered item table of the kernel rows ``rows_k`` (in that order), as columns."""
    s = res.scheme
    flat, adjs = s.flat_items, s.adjustments
    k, n_kinds = len(flat), len(flat) + len(adjs)
    present = res.applies[:, rows_k]
    if adjs:
        present = np.vstack([present, b.adj_amt[:, rows_k] != 0])
    r_pos, e = np.nonzero(present.T)
    row = rows_k[r_pos]
    # the positions of each entry kind, from one stable counting sort (not one scan per item)
    by = np.argsort(e.astype(np.int16 if n_kinds < 2**15 else np.int64), kind="stable")
    at = np.split(by, np.cumsum(np.bincount(e, minlength=n_kinds))[:-1])
    is_item = e < k
    ei = np.where(is_item, e, 0)
    pts = np.where(is_item, res.item_points[ei, row], 0.0)
    code = np.where(is_item, res.item_status[ei, row], 0)
    if adjs:
        ea = np.where(is_item, 0, e - k)
        pts = np.where(is_item, pts, b.sign[ea] * b.adj_amt[ea, row])
        code = np.where(is_item, code, np.where(b.sign[ea] > 0, len(STATUS), len(STATUS) + 1))
    m_pts = b.max_pts[e]
    vals = _entry_values(res, b, row, at, pts, code)
    cols: dict[str, object] = {}
    for c in ("unit", "name"):
        cols[c] = pd.Categorical.from_codes(b.row_codes[c][0][row], categories=b.row_codes[c][1])
    cols["year"] = res.rows["year"].to_numpy()[row]
    cols["kind"] = pd.Categorical.from_codes(b.row_codes["kind"][0][row], categories=b.row_codes["kind"][1])
    for c in ("line", "section", "item", "label", "label_en"):
        codes, cats = b.entry_codes[c]
        cols[c] = pd.Categorical.from_codes(codes[e], categories=cats)
    cols.update(
        max_points=m_pts,
        points=pts,
        lost=np.where(is_item, m_pts - pts, np.maximum(-pts, 0.0)),
        status=pd.Categorical.from_codes(code.astype(np.int8), categories=STATUS_NAMES),
    )
    cols.update(vals)
    return cols


def _entry_values(res: ScoreResult, b: _TableBase, row, at, pts, code) -> dict[str, object]:
    """``value``, ``target``, ``previous``, ``reason_template`` and ``term_i`` per entry.

    One pass per item and per adjustment over the entries of that kind (vectorised)."""
    s, tm = res.scheme, b.templates
    k, size = len(s.flat_items), row.size
    value = np.full(size, np.nan, dtype=b.value_dtype)
    target, previous = np.full(size, np.nan), np.full(size, np.nan)
    tmpl = np.zeros(size, dtype=np.int32)
    terms = np.full((tm.n_terms, size), np.nan)
    for j, (_p, it) in enumerate(s.flat_items):
        m = at[j]
        r = row[m]
        v = res.values[it.rule.indicator][r]
        value[m] = v
        if it.id in res.targets:
            target[m] = res.targets[it.id][r]
        if it.id in res.previous:
            previous[m] = res.previous[it.id][r]
        st = code[m]
        has_target, score = b.item_flags[j]
        no_value = pd.isna(v) if v.dtype == object else np.isnan(v.astype(float))
        miss = missing_variant(no_value, np.isnan(target[m]) & has_target, np.isnan(previous[m]), score=score)
        scored = np.where(pts[m] > 1e-12, PARTIAL_V, MISSED_V) + np.where(st == VETOED, 2, 0)
        variant = np.where(st == MET, MET_V, np.where(st == MISSING, miss, scored))
        tmpl[m] = tm.items[j][variant]
    for a_i, adj in enumerate(s.adjustments):
        m = at[k + a_i]
        r = row[m]
        value[m] = b.adj_amt[a_i, r]
        bits = np.zeros(m.size, dtype=np.int64)
        for t, (ind, _words) in enumerate(adjustment_terms(adj)):
            c = res.values[ind][r]
            terms[t, m] = c
            bits |= (~np.isnan(c) & (c != 0)).astype(np.int64) << t
        tmpl[m] = tm.adjustments[a_i][bits]
    out: dict[str, object] = {"value": value, "target": target, "previous": previous}
    out[TEMPLATE_COLUMN] = pd.Categorical.from_codes(tmpl, dtype=tm.dtype)
    out.update({f"term_{t + 1}": terms[t] for t in range(tm.n_terms)})
    return out


def with_reasons(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (the columnar item table, or a chunk) with ``reason``, the rendered
    sentence, as Arrow-backed text (no Python string per row)."""
    return table.assign(reason=pd.arrays.ArrowExtensionArray(render_text(table)))


def _frame(cols: dict[str, object], render: bool) -> pd.DataFrame:
    df = pd.DataFrame(cols, copy=False)
    return with_reasons(df) if render else df


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


_IDS = ("unit", "name", "year", "kind", "category")


def result_of(inp: Inputs, out: Outcome | None = None) -> ScoreResult:
    """The :class:`ScoreResult` of the kernel's nominal draw on ``inp`` (run here unless given
    with ``detail``)."""
    out = out if out is not None and out.detail is not None else run(inp, detail=True)
    cols, order = _summary_columns(inp, out)
    # the identity columns in one take of the rows, not through a Python object per cell
    ident = inp.rows[list(_IDS)].take(order).reset_index(drop=True)
    rest = pd.DataFrame({c: v[order] for c, v in cols.items() if c not in _IDS})
    summary = pd.concat([ident, rest], axis=1)[list(cols)]
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
    cols: dict[str, np.ndarray | None] = dict.fromkeys(_IDS)  # taken from the rows by result_of
    cols["year"] = rows["year"].to_numpy()
    for ln in s.lines:
        cols[f"line_{ln.id}"] = det.lines[ln.id][0]
    eff = {e: [(m[0], lab) for m, lab in ms] for e, ms in det.effects.items()}
    veto_reason = join_labels(eff["not_scored"] + eff["veto"], n)
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
        ineligible_reason=np.where(vetoed, veto_reason, join_labels(eff["ineligible"], n)),
        rank=out.rank[0],
        n_ranked=out.n_ranked[0],
        rank_in_category=det.rank_in_category[0],
    )
    for ln in s.lines:
        cols[f"rank_{ln.id}"] = det.line_ranks[ln.id][0]
    cols.update(
        award=award_ids(s, out),  # tier −1 → ""; a split tie names every tier it shares
        single_awards=join_labels([(m[0], sid) for m, sid in det.singles], n),
        prize=det.prize[0],
        warning=join_labels([(out.warnings[w, 0], w_.id) for w, w_ in enumerate(s.outcomes.warnings)], n),
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
