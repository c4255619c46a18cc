"""Reasons as a template plus values, rendered to words only where a person reads them.

Every row of the item table (:meth:`assesskit.scoring.ScoreResult.item_table`) carries
its reason as a *template* — a categorical column, ``reason_template``, whose categories
are a few hundred sentences with placeholders — and the numbers the sentence quotes, as
numeric columns: ``value``, ``target``, ``previous`` (the previous year's value, for
change rules), ``points`` and, for bonuses and deductions, ``term_1`` … ``term_m`` (the
unit's own count of each per-case indicator of the adjustment, then its assessed points).
Storing the table this way costs a small integer per row instead of a sentence; the
sentence is rendered by :func:`render_reasons` where it is read (the CSV writer, the
workbook, the report pages, :attr:`ScoreResult.items`).

A template is text in :meth:`str.format` syntax: ``{value}`` is the column ``value``
written as a short number (:func:`assesskit.rules.fmt`: up to 4 decimals, ``—`` for a
missing one), ``{value!s}`` the column's text as it is (inspector grades given as labels);
``{{`` and ``}}`` are literal braces. For example::

    missed: value {value}, target >= {target} → {points}/40

The templates are built from the rule registry's describers (see :func:`scheme_templates`),
so the words are the registry's: the text a person reads is the text the describers give.
Rendering is vectorised per template: the rows of one template are formatted and joined
as whole arrays (numpy string ufuncs); there is no Python loop over rows.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .rules import fmt, rule_type

if TYPE_CHECKING:  # pyarrow is imported where rendering needs it (a light import path)
    import pyarrow as pa

    from .scheme import Adjustment, Item, Scheme

TEMPLATE_COLUMN = "reason_template"
"""The column holding each row's reason template (a categorical)."""

VALUE_COLUMNS = ("value", "target", "previous", "points")
"""The numeric columns a template may quote (besides the adjustments' ``term_i``)."""

# Variants of an item's reason, in the columns of ReasonTemplates.items
MET_V, MISSED_V, PARTIAL_V, VETOED_MISSED_V, VETOED_PARTIAL_V = range(5)
NO_VALUE_V, NO_TARGET_V, NO_PREVIOUS_V, NOT_COMPUTABLE_V, NO_SPREAD_V = range(5, 10)
N_VARIANTS = 10

# Sentinels put through a describer to find where it quotes the row's numbers: fmt() writes
# them with all ten significant digits, which no constant formatted with ':g' (at most six)
# can produce, so each occurrence in the text is the quoted value.
_SENTINELS = {"value": 918273.6451, "target": 918273.6452, "prev": 918273.6453}
_LABEL_SENTINEL = "\x1fvalue\x1f"
_FIELD = {"value": "value", "target": "target", "prev": "previous"}


@dataclass(frozen=True)
class ReasonTemplates:
    """The reason templates of one scheme.

    Attributes
    ----------
    texts : list of str
        Every distinct template (the categories of ``reason_template``).
    items : (k, N_VARIANTS) int
        Code (into ``texts``) of each flat item's template per variant: met, missed,
        partial credit, vetoed and missed, vetoed with partial credit, then the missing-data
        causes (no value, no target, no previous year, not computable, no spread).
    adjustments : list of (2**m,) int
        Per adjustment, the code of its template for each combination of its terms that
        are present (bit ``i`` set when term ``i`` is non-zero).
    n_terms : int
        The most terms of any adjustment (the table's ``term_1`` … ``term_n`` columns).
    """

    texts: list[str]
    items: np.ndarray
    adjustments: list[np.ndarray]
    n_terms: int

    @property
    def dtype(self) -> pd.CategoricalDtype:
        """The categorical dtype of the ``reason_template`` column."""
        return pd.CategoricalDtype(self.texts)


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def describer_template(item: Item, label_values: bool = False) -> str:
    """The registry describer's words for ``item`` with placeholders for the row's numbers.

    The describer is called once on sentinel numbers (see ``_SENTINELS``) and each
    sentinel in its text becomes a placeholder. A describer words its arrays with
    :func:`~assesskit.rules.fmt` (or, for label grades, ``str``) and constants only — the
    contract of every registered describer; the tests render every rule type both ways.
    """
    x: dict[str, np.ndarray] = {k: np.array([v]) for k, v in _SENTINELS.items()}
    if label_values:
        x["value"] = np.array([_LABEL_SENTINEL], dtype=object)
    x["points"], x["status"] = np.array([np.nan]), np.array([0])
    text = _escape(str(rule_type(item.rule.type).describe(item.rule, x)[0]))
    text = text.replace(_LABEL_SENTINEL, "{value!s}")
    for key, v in _SENTINELS.items():
        text = text.replace(str(fmt(np.array([v]))[0]), "{" + _FIELD[key] + "}")
    return text


def max_points(item: Item) -> float:
    """An item's maximum: its points, else the top of its normalised scale (NaN if none)."""
    if item.points is not None:
        return item.points
    return item.rule.bounds[1] if rule_type(item.rule.type).score else np.nan


def item_templates(item: Item, default_missing: str, *, is_rate: bool, label_values: bool) -> list[str]:
    """The ``N_VARIANTS`` templates of one item (see :class:`ReasonTemplates`)."""
    body = f"{describer_template(item, label_values)} → {{points}}/{max_points(item):g}"
    missed, partial = f"missed: {body}", f"partial credit: {body}"
    policy = item.missing or default_missing
    what = {"zero": "scored 0", "full": "scored full points", "drop": "left out of its parent's mean"}[policy]
    tail = f" → {what} (missing-data policy '{policy}')"
    causes = [
        "no value (or a zero denominator)" if is_rate else "no value",
        "no target for this unit and year",
        "no value for the previous year",
        "value not computable",
        "no spread among its peers (one unit, or the same value for all)",
    ]
    return ["met", missed, partial, f"vetoed — {missed}", f"vetoed — {partial}"] + [c + tail for c in causes]


def adjustment_terms(adj: Adjustment) -> list[tuple[str, str]]:
    """``(indicator, words before and after its number)`` per term of a bonus or deduction:
    each per-case indicator, then the assessed points."""
    terms = [(ind, f"{ind} \0 × {per:g}") for ind, per in adj.per_case.items()]
    if adj.assessed:
        a = adj.assessed
        terms.append((a.indicator, f"assessed ({a.min:g}–{a.max:g}) \0"))
    return terms


def adjustment_templates(adj: Adjustment) -> list[str]:
    """One template per combination of present terms: ``"innovation {term_1} × 20 → {points}"``."""
    terms = adjustment_terms(adj)
    cap = f", capped at {adj.cap:g}" if adj.cap is not None else ""
    out = []
    for bits in range(2 ** len(terms)):
        parts = [
            _escape(words).replace("\0", f"{{term_{i + 1}}}")
            for i, (_ind, words) in enumerate(terms)
            if bits >> i & 1
        ]
        out.append(f"{_escape(adj.label)}: {' + '.join(parts)}{_escape(cap)} → {{points}}")
    return out


def scheme_templates(scheme: Scheme) -> ReasonTemplates:
    """Every reason template of ``scheme``, deduplicated (see :class:`ReasonTemplates`)."""
    texts: dict[str, int] = {}

    def codes(ts: list[str]) -> np.ndarray:
        return np.array([texts.setdefault(t, len(texts)) for t in ts], dtype=np.int32)

    label_ind = {i for i, ind in scheme.indicators.items() if ind.kind == "label"}
    items = [
        codes(
            item_templates(
                it,
                scheme.missing,
                is_rate=scheme.indicators[it.rule.indicator].is_rate,
                label_values=it.rule.indicator in label_ind,
            )
        )
        for _p, it in scheme.flat_items
    ]
    adjs = [codes(adjustment_templates(a)) for a in scheme.adjustments]
    n_terms = max((len(adjustment_terms(a)) for a in scheme.adjustments), default=0)
    table = np.vstack(items) if items else np.zeros((0, N_VARIANTS), dtype=np.int32)
    return ReasonTemplates(list(texts), table, adjs, n_terms)


def missing_variant(
    no_value: np.ndarray, no_target: np.ndarray, no_previous: np.ndarray, *, score: bool
) -> np.ndarray:
    """The missing-data variant of each row from what is missing (value, target, previous)."""
    v = np.where(
        no_value,
        NO_VALUE_V,
        np.where(no_target, NO_TARGET_V, np.where(no_previous, NO_PREVIOUS_V, NOT_COMPUTABLE_V)),
    )
    return np.where(no_value, v, NO_SPREAD_V) if score else v


# --------------------------------------------------------------------------- rendering


def _fields(template: str) -> list[tuple[str, str | None, str | None]]:
    """``(literal, field, conversion)`` parts of a template (``string.Formatter`` parsing)."""
    return [(lit, field, conv) for lit, field, _spec, conv in string.Formatter().parse(template)]


def _numbers(col: np.ndarray) -> np.ndarray:
    """A column as floats; text cells (a Parquet column mixing labels and numbers) parsed."""
    if col.dtype.kind in "fiub":
        return col.astype(float, copy=False)
    return pd.to_numeric(pd.Series(col, dtype=object), errors="coerce").to_numpy(float)


def fmt_text(v: np.ndarray) -> pa.StringArray:
    """:func:`assesskit.rules.fmt` (up to 4 decimals, no trailing zeros, '—' for NaN) as an
    Arrow string array, by Arrow's cast: the value rounded to 4 decimals as fmt does, then
    written by its shortest digits, which are the decimal itself. Magnitudes from 1e10 up
    (written in exponent form by Arrow) go through fmt."""
    import pyarrow as pa
    import pyarrow.compute as pc

    v = np.asarray(v, dtype=float)
    bad = ~np.isfinite(v)
    q = np.round(np.abs(np.where(bad, 0.0, v)) * 1e4)
    r = np.where((v < 0) & (q > 0), -q, q) / 1e4
    big = q >= 1e14
    out = pc.cast(pa.array(np.where(big, 0.0, r)), pa.string())
    if big.any():
        slow = np.full(v.size, "", dtype=object)
        slow[big] = fmt(v[big]).astype(object)
        out = pc.if_else(pa.array(big), pa.array(slow, pa.string()), out)
    return pc.if_else(pa.array(bad), "—", out) if bad.any() else out


def _as_text(col: np.ndarray) -> pa.StringArray:
    import pyarrow as pa

    s = pd.Series(col, dtype=object)
    return pa.array(s.where(s.notna(), "—").astype(str).to_numpy(dtype=object), pa.string())


def render(template: str, columns: Mapping[str, np.ndarray], n: int | None = None) -> pa.StringArray:
    """One template rendered over whole arrays: ``{name}`` → ``fmt(columns[name])``,
    ``{name!s}`` → the column's text as it is.

    Returns an Arrow string array (length ``n``, or that of the columns); the parts are
    joined element-wise by Arrow's ``binary_join_element_wise``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = _fields(template)
    if n is None:
        n = len(next(iter(columns.values()))) if columns else 1
    if all(f is None for _l, f, _c in parts):
        return pa.array(np.full(n, "".join(lit for lit, _f, _c in parts), dtype=object), pa.string())
    out: list = []
    for lit, field, conv in parts:
        if lit:
            out.append(lit)
        if field is not None:
            col = np.asarray(columns[field])
            out.append(_as_text(col) if conv == "s" else fmt_text(_numbers(col)))
    if len(out) == 1:
        return out[0]
    return pc.binary_join_element_wise(*out, "")


def render_text(table: pd.DataFrame) -> pa.StringArray:
    """:func:`render_reasons` as an Arrow string array (null where a row has no template)."""
    import pyarrow as pa

    tmpl = table[TEMPLATE_COLUMN]
    cats = tmpl.astype("category") if not isinstance(tmpl.dtype, pd.CategoricalDtype) else tmpl
    codes = cats.cat.codes.to_numpy().astype(np.int64)
    texts = list(cats.cat.categories)
    if not len(table):
        return pa.array([], pa.string())
    by = np.argsort(codes, kind="stable")
    counts = np.bincount(codes[by] + 1, minlength=len(texts) + 1)  # code −1 (no template) first
    bounds = np.cumsum(counts)
    groups = [pa.nulls(int(bounds[0]), pa.string())]
    cols: dict[str, np.ndarray] = {}
    for code, text in enumerate(texts):
        lo, hi = bounds[code], bounds[code + 1]
        if hi == lo:
            continue
        idx = by[lo:hi]
        needed = {f for _l, f, _c in _fields(text) if f is not None}
        for f in needed - cols.keys():
            cols[f] = table[f].to_numpy()
        groups.append(render(text, {f: cols[f][idx] for f in needed}, hi - lo))
    # the groups follow `by`; row by[i] is element i of their concatenation
    inverse = np.empty_like(by)
    inverse[by] = np.arange(by.size)
    return pa.concat_arrays(groups).take(pa.array(inverse))


def render_reasons(table: pd.DataFrame) -> np.ndarray:
    """The reason of every row of an unrendered item table, in words (object array).

    Parameters
    ----------
    table : DataFrame
        With ``reason_template`` (categorical, or text) and the columns its templates quote:
        :meth:`ScoreResult.item_table` with ``render=False``, a chunk of it, or
        ``items.parquet`` read back (``pandas.read_parquet``).

    Rendering is vectorised per template: rows are grouped by template code and each group
    is formatted and joined with array operations (Arrow compute kernels).
    """
    return render_text(table).to_numpy(zero_copy_only=False)
