"""Reading and validating input tables: the panel, the unit registry, targets, grades.

Everything here is the boundary: tables are read once (:mod:`assesskit.tables`: CSV in
UTF-8, UTF-8 with BOM or GBK/GB18030; Excel; Parquet — every cell kept as written),
checked once with *every* problem collected, and handed to the core as a :class:`Panel`.
Row numbers in messages are those a spreadsheet shows (the header is row 1, the first
data row is row 2).

Identifier columns (``unit``, ``name``, ``kind``, ``category``) are text: ``NA`` or
``null`` is a unit called so. Numeric columns are read by :func:`assesskit.numbers.parse_numbers`
(an empty cell or ``NA`` is missing; ``inf``, ``nan``, a decimal comma are errors).

Standard column names
---------------------
``unit``, ``year``, ``births``, ``male_births``, ``female_births``, ``policy_births``,
``population``, ``deaths`` — and whatever counts a scheme's indicators name. A few common
Chinese headers are accepted for the standard columns (see :data:`ALIASES`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data_checks import (
    FEW_BIRTHS,
    SEP_ITEM,
    assessed_ranges,
    grade_ranges,
    missing_grade_warnings,
    panel_problems,
)
from .data_sources import duplicates, index_cols, numeric_column, read_grades, read_targets
from .exceptions import DataError, Problem
from .scheme import Scheme
from .tables import ALIASES, Table, as_table, read_table

__all__ = ["ALIASES", "FEW_BIRTHS", "SEP_ITEM", "Panel", "Table", "read_panel", "read_table", "read_units"]

_SEX_COUNTS = ("births", "male_births", "female_births")


@dataclass(frozen=True)
class Panel:
    """Validated inputs for scoring, one row per unit and year.

    Attributes
    ----------
    data : DataFrame
        ``unit`` (str), ``year`` (int), ``kind``, ``category``, ``name`` and one float
        column per numeric quantity (object for label grades); sorted by unit and year.
    targets : DataFrame
        Index ``(unit, year)``, one float column per table target.
    warnings : tuple of Problem
        Problems that did not stop the run; carried into the outputs.
    sources : dict
        The file each table came from.
    """

    data: pd.DataFrame
    targets: pd.DataFrame
    warnings: tuple[Problem, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)


def read_units(src: Table | pd.DataFrame | str | os.PathLike, scheme: Scheme | None = None) -> Table:
    """Read and check a unit registry (``unit``, ``name``, ``category``, ``kind``)."""
    probs: list[Problem] = []
    t = _check_units(as_table(src, "units"), scheme, probs)
    if probs:
        raise DataError(f"{t.path}: the unit registry has {len(probs)} problems", probs)
    return t


def _check_units(t: Table, scheme: Scheme | None, probs: list[Problem]) -> Table:
    """Strip the registry's text columns and add its problems to ``probs``."""
    frame = t.frame.copy()
    for col in ("unit", "name", "kind", "category"):
        if col in frame.columns:
            v = frame[col].astype(object)
            frame[col] = v.where(v.isna(), v.astype(str).str.strip()).replace({"": None})
    t = Table(frame, t.path, t.encoding, t.rows)
    keys = index_cols(t, probs, need_year=False)
    if keys is None:
        return t
    duplicates(t, keys[0][keys[1]], ["unit"], probs)
    if scheme is not None:
        for col, allowed in (("kind", scheme.kinds), ("category", scheme.categories)):
            if col not in frame.columns:
                continue
            vals = frame[col]
            bad = vals.notna() & ~vals.isin(list(allowed))
            for i in np.flatnonzero(bad.to_numpy())[:20]:
                probs.append(
                    Problem(
                        t.where(i, col),
                        f"{vals.iloc[i]!r} is not one of the scheme's {col}s {sorted(allowed)}",
                    )
                )
    return t


def read_panel(
    scheme: Scheme,
    data: Table | pd.DataFrame | str | os.PathLike,
    *,
    units: Table | pd.DataFrame | str | os.PathLike | None = None,
    targets: Table | pd.DataFrame | str | os.PathLike | None = None,
    grades: Table | pd.DataFrame | str | os.PathLike | None = None,
    years: list[int] | None = None,
    allow_missing_columns: bool = False,
) -> Panel:
    """Read and validate everything a scoring run needs, reporting all problems at once.

    Parameters
    ----------
    scheme : Scheme
        The scheme the data will be scored with; it says which columns are needed.
    data : path or DataFrame
        The wide panel: one row per unit and year.
    units : path or DataFrame, optional
        Unit registry with ``unit`` and optionally ``name``, ``category``, ``kind``.
        Without it (or a ``kind`` column) every unit is of the scheme's only kind.
    targets : path or DataFrame, optional
        Per-unit-year targets: ``unit``, ``year`` and one column per table target; or
        long, with ``target`` and ``value`` columns.
    grades : path or DataFrame, optional
        Inspector grades: long (``unit``, ``year``, ``item``, ``grade``) or wide; each
        ``item`` names an indicator of the scheme.
    years : list of int, optional
        The years to be scored; each must lie inside the scheme's years (earlier years
        may still be present as history for change rules).
    allow_missing_columns : bool
        Downgrade an absent indicator column from an error to a warning (its items are
        then scored by the missing-data policy).

    Raises
    ------
    DataError
        Listing every problem: file, row, column, and what was expected.
    """
    probs: list[Problem] = []
    warns: list[Problem] = []
    t = as_table(data, "data")
    tables = {"data": t}
    keys = index_cols(t, probs)
    if keys is None:
        raise DataError(f"{t.path}: cannot be scored", probs)
    if t.frame.empty:
        raise DataError(f"{t.path}: cannot be scored", [Problem(t.path, "has a header but no data rows")])
    idx, ok = keys
    duplicates(t, idx[ok], ["unit", "year"], probs)
    t, from_grades = _merge_grades(scheme, t, idx, grades, tables, probs)
    out = _registry(scheme, t, idx, units, tables, probs)
    label_cols = {ind.column or i for i, ind in scheme.indicators.items() if ind.kind == "label"}
    _check_columns(scheme, t, out, allow_missing_columns, probs, warns)
    present = set(t.frame.columns)
    needed = scheme.required_columns() | set(_SEX_COUNTS)
    numeric = {c: numeric_column(t, c, probs) for c in sorted(needed & present) if c not in label_cols}
    panel_problems(scheme, t, idx, numeric, probs, warns)
    grade_ranges(scheme, t, numeric, from_grades, probs)
    assessed_ranges(scheme, t, numeric, probs)
    _year_checks(scheme, t, out, years, probs, warns)
    tgt = read_targets(scheme, targets, probs, tables, out, warns, years)
    if probs:
        raise DataError(
            f"{len(probs)} problem{'s' if len(probs) > 1 else ''} in the input; nothing was scored", probs
        )
    out = pd.concat(
        [out, pd.DataFrame({c: s.to_numpy() for c, s in numeric.items()}, index=out.index)], axis=1
    )
    for col in label_cols & present:
        lab = t.frame[col].astype(object)
        out[col] = lab.where(lab.notna(), None).map(lambda v: v.strip() if isinstance(v, str) else v)
    out = out.sort_values(["unit", "year"], kind="stable").reset_index(drop=True)
    where_grades = tables["grades"].path if "grades" in tables else t.path
    warns += missing_grade_warnings(scheme, out, years, where_grades, t.path, from_grades)
    return Panel(out, tgt, tuple(warns), {k: v.path for k, v in tables.items()})


def _merge_grades(
    scheme: Scheme, t: Table, idx: pd.DataFrame, grades, tables: dict, probs: list[Problem]
) -> tuple[Table, set[str]]:
    """The panel with the grades file's items as extra columns (checked against that file)."""
    g = as_table(grades, "grades")
    if g is None:
        return t, set()
    tables["grades"] = g
    grade_wide = read_grades(scheme, g, idx, t.path, probs)
    if grade_wide is None:
        return t, set()
    frame = t.frame
    clash = [c for c in grade_wide.columns if c in frame.columns]
    if clash:
        probs.append(Problem(g.path, f"grade item(s) {clash} are also columns of {t.path}"))
    key = pd.MultiIndex.from_frame(idx[["unit", "year"]])
    extra = grade_wide.reindex(key).reset_index(drop=True).astype(object)
    extra.index = frame.index
    frame = pd.concat([frame, extra[[c for c in extra.columns if c not in clash]]], axis=1)
    return Table(frame, t.path, t.encoding, t.rows), set(grade_wide.columns)


def _registry(
    scheme: Scheme, t: Table, idx: pd.DataFrame, units, tables: dict, probs: list[Problem]
) -> pd.DataFrame:
    """unit, year, name, kind and category of every row (the registry wins over the panel)."""
    frame = t.frame
    out = idx.copy()
    out["name"] = frame["name"].astype(str) if "name" in frame.columns else out["unit"]
    out["kind"] = frame["kind"].astype(object) if "kind" in frame.columns else None
    out["category"] = frame["category"].astype(object) if "category" in frame.columns else None
    if units is not None:
        u = _check_units(as_table(units, "units"), scheme, probs)
        tables["units"] = u
        reg = u.frame[u.frame["unit"].notna()] if "unit" in u.frame.columns else None
        if reg is not None:
            reg = reg.set_index("unit")
            reg = reg[~reg.index.duplicated()]  # duplicates are reported by _check_units
            unknown = ~out["unit"].isin(reg.index)
            for i in np.flatnonzero(unknown.to_numpy())[:20]:
                probs.append(
                    Problem(
                        t.where(i, "unit"), f"unit {out['unit'].iloc[i]!r} is not in the registry {u.path}"
                    )
                )
            for col in ("name", "kind", "category"):
                if col in reg.columns:
                    mapped = out["unit"].map(reg[col])
                    out[col] = mapped.where(mapped.notna(), out[col])
    _kinds_and_categories(scheme, t, out, probs)
    return out


def _kinds_and_categories(scheme: Scheme, t: Table, out: pd.DataFrame, probs: list[Problem]) -> None:
    if out["kind"].isna().any():
        if len(scheme.kinds) == 1:
            out["kind"] = out["kind"].fillna(next(iter(scheme.kinds)))
        else:
            for i in np.flatnonzero(out["kind"].isna().to_numpy())[:20]:
                probs.append(
                    Problem(
                        t.where(i, "unit"),
                        f"unit {out['unit'].iloc[i]!r} has no kind; the scheme has several "
                        f"({sorted(scheme.kinds)}): give a unit registry with a 'kind' column",
                    )
                )
    bad_kind = out["kind"].notna() & ~out["kind"].isin(list(scheme.kinds))
    for i in np.flatnonzero(bad_kind.to_numpy())[:20]:
        probs.append(
            Problem(t.where(i, "kind"), f"kind {out['kind'].iloc[i]!r} is not one of {sorted(scheme.kinds)}")
        )
    needs_cat = any(
        type(getattr(it.rule, "target", None)).__name__ == "CategoryTarget" for _p, it in scheme.flat_items
    )
    if needs_cat:
        bad_cat = out["category"].isna() | ~out["category"].isin(list(scheme.categories))
        for i in np.flatnonzero(bad_cat.to_numpy())[:20]:
            probs.append(
                Problem(
                    t.where(i, "unit"),
                    f"unit {out['unit'].iloc[i]!r} needs a category (one of {sorted(scheme.categories)}) "
                    "for its category targets",
                )
            )


def _check_columns(
    scheme: Scheme,
    t: Table,
    out: pd.DataFrame,
    allow_missing: bool,
    probs: list[Problem],
    warns: list[Problem],
) -> None:
    """Every column the scheme reads for the kinds present: an error when absent (a warning
    for adjustment counts, or with ``allow_missing``)."""
    adj_cols: set[str] = set()
    for adj in scheme.adjustments:
        adj_cols |= set(adj.per_case)
        if adj.assessed:
            adj_cols.add(adj.assessed.indicator)
    kinds_present = set(out["kind"].dropna()) or set(scheme.kinds)
    line_kind = {ln.id: ln.unit_kind for ln in scheme.lines}
    item_inds = {it.rule.indicator for p, it in scheme.flat_items if line_kind[p[0]] in kinds_present}
    cond_inds = {c.indicator for v in scheme.vetoes for c in v.when.walk() if c.indicator}
    present = set(t.frame.columns)
    for ind_id in sorted(item_inds | cond_inds | adj_cols):
        ind = scheme.indicators[ind_id]
        col = ind.column or ind_id
        if ind.is_rate:
            counts = [c.lstrip("-") for c in ind.numerator + ind.denominator]
            if all(c in present for c in counts) or col in present:
                continue
            need = f"its counts {counts} (or a column '{col}')"
        else:
            if col in present:
                continue
            need = f"a column '{col}'"
        users = [SEP_ITEM.join(p) for p, it in scheme.flat_items if it.rule.indicator == ind_id]
        users_txt = f" (read by {', '.join(users[:5])}{'…' if len(users) > 5 else ''})" if users else ""
        if ind_id in adj_cols or (allow_missing and ind_id not in cond_inds):
            what = "no cases are counted" if ind_id in adj_cols else "its items are scored as missing"
            warns.append(
                Problem(t.path, f"indicator '{ind_id}' needs {need}; absent, so {what}{users_txt}", "warning")
            )
        else:
            probs.append(
                Problem(
                    t.path,
                    f"indicator '{ind_id}' needs {need}, which the file lacks{users_txt}. Add the "
                    "column (empty cells are scored by the scheme's missing-data policy)",
                )
            )


def _year_checks(
    scheme: Scheme,
    t: Table,
    out: pd.DataFrame,
    years: list[int] | None,
    probs: list[Problem],
    warns: list[Problem],
) -> None:
    """The years asked for exist; rows after the scheme's years are a warning."""
    lo, hi = scheme.years
    valid = out["year"] >= 0  # rows whose year could not be read are reported already
    if years is not None:
        for y in years:
            if not lo <= y <= hi:
                probs.append(Problem(t.path, f"year {y} is outside the scheme's years {lo}–{hi}"))
            elif not (out["year"] == y).any():
                probs.append(Problem(t.path, f"year {y} has no rows"))
    elif valid.any() and not out["year"].between(lo, hi).any():
        probs.append(Problem(t.path, f"no row has a year inside the scheme's years {lo}–{hi}"))
    later = sorted(set(out["year"][(out["year"] > hi) & out["year"].between(1949, 2100)]))
    if later:
        warns.append(
            Problem(
                t.path,
                f"rows of {', '.join(map(str, later[:10]))} are after the scheme's years "
                f"{lo}–{hi} and are not scored (earlier years serve as history)",
                "warning",
            )
        )
