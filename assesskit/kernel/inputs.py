"""What the kernel reads: a scheme and a validated panel as arrays over the scored unit-years.

:func:`prepare` does every lookup once — indicator values (rates from their counts), each
item's target per unit-year, the previous year's value for change rules, which items
apply to which kind of unit, the adjustments — so that :func:`assesskit.kernel.run`
only does arithmetic, for one draw (:func:`assesskit.scoring.score_panel`) or thousands
(:mod:`assesskit.sensitivity`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data import Panel
from ..scheme import CategoryTarget, Item, Scheme, TableTarget
from .rank import fill_nan, group_codes


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


def target_array(
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


def adjustment_amounts(
    scheme: Scheme, values: dict[str, np.ndarray], of_kinds, shape: tuple[int, ...]
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Each bonus and deduction (``Σ cases × points`` + assessed points, capped), and their sums.

    Returns ``(amount per adjustment id, bonus, deduction)``, arrays of ``shape``.
    """
    adjust: dict[str, np.ndarray] = {}
    bonus = np.zeros(shape)
    deduction = np.zeros(shape)
    for adj in scheme.adjustments:
        amt = np.zeros(shape)
        for ind, per in adj.per_case.items():
            amt += fill_nan(values[ind], 0.0) * per
        if adj.assessed:
            amt += fill_nan(values[adj.assessed.indicator], 0.0)
        if adj.cap is not None:
            amt = np.minimum(amt, adj.cap)
        if adj.applies_to is not None:
            amt = np.where(of_kinds(adj.applies_to), amt, 0.0)
        adjust[adj.id] = amt
        if adj.kind == "bonus":
            bonus += amt
        else:
            deduction += amt
    return adjust, bonus, deduction


@dataclass(frozen=True, eq=False)
class Inputs:
    """A scheme and panel as the kernel's arrays over the scored unit-years (``n`` rows).

    Rows follow the panel's order (unit, then year) restricted to the scored years.

    Attributes
    ----------
    scheme, panel : Scheme, Panel
    years : list of int or None
        The scored years (None: every year of the panel inside the scheme's years).
    rows : DataFrame
        ``unit``, ``name``, ``year``, ``kind``, ``category`` of the scored rows.
    kind : (n,) int
        Index of the row's kind of unit in ``scheme.kinds``.
    group : (n,) int
        The peers: one code per year × kind.
    values : dict indicator id → (n,) array
        Indicator values (float; object for label grades).
    targets : dict item id → (n,) float
        Each item's target (items whose rule has one).
    previous : dict item id → (n,) float
        The indicator's previous-year value (change rules).
    applies : (k, n) bool
        Item × row: the item belongs to a line of the row's kind.
    points : (k,) float
        Each item's points (NaN for normalised items without stated points).
    line_of_item : (k,) int; line_kind : (L,) int
    adjustments : dict adjustment id → (n,) float
        Each bonus or deduction, capped; ``bonus`` and ``deduction`` are their sums.
    data_row : (n,) int
        Position of each scored row in ``panel.data``.
    credit : (k, n) float or None
        The rules' nominal credit (NaN where missing), when kept for many draws
        (:func:`assesskit.kernel.with_credit`); None makes the kernel evaluate every rule.
    """

    scheme: Scheme
    panel: Panel
    years: list[int] | None
    rows: pd.DataFrame
    kind: np.ndarray
    group: np.ndarray
    values: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]
    previous: dict[str, np.ndarray]
    applies: np.ndarray
    points: np.ndarray
    line_of_item: np.ndarray
    line_kind: np.ndarray
    adjustments: dict[str, np.ndarray]
    bonus: np.ndarray
    deduction: np.ndarray
    data_row: np.ndarray
    credit: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def items(self):
        return self.scheme.flat_items

    def of_kinds(self, names: list[str] | None) -> np.ndarray:
        """(n,) bool: the row's kind is one of ``names`` (every row for None)."""
        return _of_kinds(self.kind, list(self.scheme.kinds), names, self._cache)

    @property
    def prev_row(self) -> np.ndarray:
        """Position in ``panel.data`` of each scored row's previous year (−1: none)."""
        if "prev_row" not in self._cache:
            data = self.panel.data
            key = pd.MultiIndex.from_arrays([data["unit"].to_numpy(), data["year"].to_numpy(dtype=np.int64)])
            units = self.rows["unit"].to_numpy()
            yrs = self.rows["year"].to_numpy(dtype=np.int64)
            self._cache["prev_row"] = key.get_indexer(pd.MultiIndex.from_arrays([units, yrs - 1]))
        return self._cache["prev_row"]


def _of_kinds(kind: np.ndarray, kind_names: list[str], names: list[str] | None, cache: dict) -> np.ndarray:
    """(n,) bool: the row's kind is one of ``names`` (every row for None), kept in ``cache``.

    A gather from a per-kind table (code −1, an unknown kind, reads the last, False entry),
    not :func:`numpy.isin`, which sorts.
    """
    key = ("of_kinds", None if names is None else tuple(names))
    if key not in cache:
        if names is None:
            cache[key] = np.ones(kind.size, bool)
        else:
            table = np.zeros(len(kind_names) + 1, bool)
            table[[kind_names.index(x) for x in names]] = True
            cache[key] = table[kind]
    return cache[key]


def _lookup(keys: np.ndarray, queries: np.ndarray, size: int) -> np.ndarray:
    """Position of each query in ``keys`` (−1: absent); keys and queries are integers in
    ``[0, size)``. A scatter into a table and a gather when the table is small (a few
    times the keys), else a hash lookup (:meth:`pandas.Index.get_indexer`), which also
    refuses duplicated keys."""
    if size <= 4 * max(keys.size, 1) + 1024:
        table = np.full(size, -1, dtype=np.int64)
        table[keys] = np.arange(keys.size)
        if np.count_nonzero(table >= 0) == keys.size:  # unique keys (else the hash path raises)
            return table[queries]
    return pd.Index(keys).get_indexer(queries)


def _codes_in(values: pd.Index, names: pd.Index) -> np.ndarray:
    """Position of each value in ``names`` (−1: absent): pyarrow's hash lookup on Arrow
    strings (pandas would convert both to Python objects first), else pandas'."""
    if not all(hasattr(x.array, "__arrow_array__") for x in (values, names)):
        return names.get_indexer(values)
    import pyarrow as pa  # installed with the package (pyproject); pandas' strings use it
    import pyarrow.compute as pc

    try:
        v, s = pa.array(values.array), pa.array(names.array)
        if v.type != s.type:
            s = s.cast(v.type)
        return pc.index_in(v, value_set=s).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    except (TypeError, ValueError, pa.ArrowException):  # types that do not compare: pandas decides
        return names.get_indexer(values)


def _row_keys(scheme: Scheme, panel: Panel, rows_idx: np.ndarray):
    """(unit, year) as one integer per panel row, the scored rows' target-table rows, and
    each scored row's previous-year row (−1: absent), when a change rule needs it."""
    data = panel.data
    unit_codes, unit_names = pd.factorize(data["unit"])
    year_all = data["year"].to_numpy(dtype=np.int64)
    y_min = int(year_all.min()) if year_all.size else 0
    span = (int(year_all.max()) - y_min + 2) if year_all.size else 1  # +2: room for year − 1
    key_all = unit_codes * span + (year_all - y_min + 1)
    size = max(len(unit_names), 1) * span
    prev_row = None
    if any(it.rule.type == "change" for _p, it in scheme.flat_items):
        prev_row = _lookup(key_all, key_all[rows_idx] - 1, size)
    target_row = None
    if len(panel.targets.columns):
        t_units = panel.targets.index.get_level_values(0)
        t_codes = _codes_in(t_units, pd.Index(unit_names))  # −1: a unit not in the panel
        t_years = panel.targets.index.get_level_values(1).to_numpy().astype(np.int64)
        known = np.flatnonzero((t_codes >= 0) & (t_years >= y_min) & (t_years < y_min + span - 1))
        t_keys = t_codes[known] * span + (t_years[known] - y_min + 1)
        found = _lookup(t_keys, key_all[rows_idx], size)
        target_row = np.where(found >= 0, known[found], -1)
    return prev_row, target_row


def _kind_codes(kinds: pd.Series, kind_names: list[str]) -> np.ndarray:
    """Index of each row's kind in ``kind_names`` (−1: another or none), by factorising
    the column (a few distinct values) rather than looking up every row."""
    codes, uniq = pd.factorize(kinds)
    table = np.array([kind_names.index(u) if u in kind_names else -1 for u in uniq] + [-1], dtype=np.int64)
    return table[codes]  # code −1 (missing) reads the trailing −1


def prepare(scheme: Scheme, panel: Panel, years: list[int] | None = None) -> Inputs:
    """The kernel's inputs for ``scheme`` on a validated ``panel``.

    Parameters
    ----------
    scheme : Scheme
    panel : Panel
        From :func:`assesskit.data.read_panel`.
    years : list of int, optional
        Years to score; default every year of the panel inside the scheme's years. Other
        years serve as history for change rules.
    """
    data = panel.data
    lo, hi = scheme.years
    sel = data["year"].isin(years) if years is not None else data["year"].between(lo, hi)
    all_values = indicator_values(scheme, data)
    rows_idx = np.flatnonzero(sel.to_numpy())
    every = rows_idx.size == len(data)  # the common case: no copies needed
    rows = data[["unit", "name", "year", "kind", "category"]]
    rows = rows.reset_index(drop=True) if every else rows.iloc[rows_idx].reset_index(drop=True)
    n = len(rows)
    values = all_values if every else {k: v[rows_idx] for k, v in all_values.items()}
    prev_row, target_row = _row_keys(scheme, panel, rows_idx)

    flat = scheme.flat_items
    kind_names = list(scheme.kinds)
    kind = _kind_codes(rows["kind"], kind_names)
    line_ids = [ln.id for ln in scheme.lines]
    line_kind = np.array([kind_names.index(ln.unit_kind) for ln in scheme.lines], dtype=np.int64)
    line_of_item = np.array([line_ids.index(p[0]) for p, _it in flat], dtype=np.int64)
    kind_mask = {code: kind == code for code in set(line_kind.tolist())}
    applies = np.zeros((len(flat), n), dtype=bool)
    targets: dict[str, np.ndarray] = {}
    previous: dict[str, np.ndarray] = {}
    for j, (_path, item) in enumerate(flat):
        r = item.rule
        applies[j] = kind_mask[int(line_kind[line_of_item[j]])]
        if r.type == "change":
            src = all_values[r.indicator]
            previous[item.id] = np.where(prev_row >= 0, src[prev_row], np.nan).astype(float)
        if getattr(r, "target", None) is not None:
            targets[item.id] = target_array(item, rows, panel.targets, target_row)

    cache: dict = {} if prev_row is None else {"prev_row": prev_row}

    def of_kinds(names):
        return _of_kinds(kind, kind_names, names, cache)

    adjust, bonus, deduction = adjustment_amounts(scheme, values, of_kinds, (n,))
    return Inputs(
        scheme=scheme,
        panel=panel,
        years=years,
        rows=rows,
        kind=kind,
        group=group_codes(rows["year"].to_numpy(), kind),
        values=values,
        targets=targets,
        previous=previous,
        applies=applies,
        points=np.array([np.nan if it.points is None else it.points for _p, it in flat], dtype=float),
        line_of_item=line_of_item,
        line_kind=line_kind,
        adjustments=adjust,
        bonus=bonus,
        deduction=deduction,
        data_row=rows_idx,
        _cache=cache,
    )
