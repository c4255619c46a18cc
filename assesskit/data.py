"""Reading and validating input tables: the panel, the unit registry, targets, grades.

Everything here is the boundary: tables are read once (CSV in UTF-8, UTF-8 with BOM or
GBK/GB18030; Excel; Parquet), checked once with *every* problem collected, and handed to
the core as a :class:`Panel`. Row numbers in messages are those a spreadsheet shows
(the header is row 1, the first data row is row 2).

Standard column names
---------------------
``unit``, ``year``, ``births``, ``male_births``, ``female_births``, ``policy_births``,
``population``, ``deaths`` — and whatever counts a scheme's indicators name. A few common
Chinese headers are accepted for the standard columns (see :data:`ALIASES`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import DataError, Problem
from .scheme import Scheme, TableTarget

ALIASES: dict[str, str] = {
    "单位": "unit",
    "单位代码": "unit",
    "年份": "year",
    "年度": "year",
    "出生人数": "births",
    "出生数": "births",
    "男婴数": "male_births",
    "出生男婴": "male_births",
    "女婴数": "female_births",
    "出生女婴": "female_births",
    "政策内出生数": "policy_births",
    "符合政策出生数": "policy_births",
    "总人口": "population",
    "年平均人口": "population",
    "死亡人数": "deaths",
    "死亡数": "deaths",
    "名称": "name",
    "单位名称": "name",
    "类别": "category",
    "类型": "kind",
}

# Standard counts whose arithmetic ties them together.
_SEX_COUNTS = ("births", "male_births", "female_births")

FEW_BIRTHS = 50
"""Below this many births a unit-year's birth-based rates are too noisy to compare (a
warning, not an error: the 95% interval of a sex ratio from 50 births spans ~75–160)."""


@dataclass(frozen=True)
class Table:
    """A table as read from a file, with what is needed to point at its rows."""

    frame: pd.DataFrame
    path: str
    encoding: str | None = None

    def where(self, row_index: int | None = None, column: str | None = None) -> str:
        parts = [self.path]
        if row_index is not None:
            parts.append(f"row {row_index + 2}")
        if column is not None:
            parts.append(f"column '{column}'")
        return ", ".join(parts)


def read_table(path: str | os.PathLike, *, encoding: str | None = None) -> Table:
    """Read a CSV, Excel or Parquet file into a :class:`Table`.

    CSV encodings are tried in the order UTF-8 (with or without BOM), then GB18030 (a
    superset of GBK and GB2312), unless ``encoding`` is given. Header names are stripped
    and the Chinese aliases of the standard columns are renamed.

    Raises
    ------
    DataError
        When the file is absent or cannot be decoded or parsed, naming the file.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    suffix = p.suffix.lower()
    used: str | None = None
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            df = pd.read_excel(p, dtype=object)
        elif suffix == ".parquet":
            df = pd.read_parquet(p)
        else:
            raw = p.read_bytes()
            tries = [encoding] if encoding else ["utf-8-sig", "gb18030"]
            text = None
            for enc in tries:
                try:
                    text = raw.decode(enc)
                    used = enc
                    break
                except UnicodeDecodeError as exc:
                    err = exc
            if text is None:
                raise DataError(
                    f"{p}: cannot decode as {' or '.join(tries)} ({err.reason} at byte {err.start}); "
                    "save the file as UTF-8, or give its encoding (--encoding)"
                )
            from io import StringIO

            df = pd.read_csv(StringIO(text), dtype=object, skipinitialspace=True, keep_default_na=True)
            import csv

            header = next(csv.reader(StringIO(text)), [])
            raw = [ALIASES.get(h.strip(), h.strip()) for h in header]
            dups = sorted({h for h in raw if raw.count(h) > 1})
            if dups:
                raise DataError(
                    f"{p}: duplicate column names {dups} (after reading Chinese headers as standard names)"
                )
    except DataError:
        raise
    except Exception as exc:  # parser errors of pandas / openpyxl: name the file
        raise DataError(f"{p}: cannot read the table: {exc}") from None
    df.columns = [ALIASES.get(str(c).strip(), str(c).strip()) for c in df.columns]
    dup = df.columns[df.columns.duplicated()].tolist()
    if dup:
        raise DataError(f"{p}: duplicate column names {dup}")
    return Table(df, str(p), used)


def _as_table(obj: Table | pd.DataFrame | str | os.PathLike | None, name: str) -> Table | None:
    if obj is None or isinstance(obj, Table):
        return obj
    if isinstance(obj, pd.DataFrame):
        df = obj.copy()
        df.columns = [ALIASES.get(str(c).strip(), str(c).strip()) for c in df.columns]
        dups = sorted(set(df.columns[df.columns.duplicated()]))
        if dups:
            raise DataError(
                f"<{name}>: duplicate column names {dups} (after reading Chinese headers as standard names)"
            )
        return Table(df.reset_index(drop=True), f"<{name}>")
    return read_table(obj)


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


def _to_numeric(t: Table, col: str, probs: list[Problem]) -> pd.Series:
    s = t.frame[col]
    if s.dtype == object or str(s.dtype).startswith(("str", "string")):
        s = s.astype(object).where(s.notna(), None)
        cleaned = s.map(lambda v: v.strip().replace(",", "") if isinstance(v, str) else v)
        cleaned = cleaned.replace({"": None})
        num = pd.to_numeric(cleaned, errors="coerce")
        bad = num.isna() & cleaned.notna()
        for i in np.flatnonzero(bad.to_numpy())[:20]:
            probs.append(Problem(t.where(i, col), f"expected a number, got {s.iloc[i]!r}"))
        if bad.sum() > 20:
            probs.append(Problem(t.where(None, col), f"... and {int(bad.sum()) - 20} more non-numbers"))
        return num.astype(float)
    return pd.to_numeric(s, errors="coerce").astype(float)


def _index_cols(t: Table, probs: list[Problem], *, need_year: bool = True) -> pd.DataFrame | None:
    need = ["unit", "year"] if need_year else ["unit"]
    absent = [c for c in need if c not in t.frame.columns]
    if absent:
        probs.append(
            Problem(
                t.path,
                f"missing column(s) {absent}; found {list(t.frame.columns)}",
            )
        )
        return None
    out = pd.DataFrame(index=t.frame.index)
    unit = t.frame["unit"]
    blank = unit.isna() | (unit.astype(str).str.strip() == "")
    for i in np.flatnonzero(blank.to_numpy())[:20]:
        probs.append(Problem(t.where(i, "unit"), "unit is empty"))
    out["unit"] = unit.astype(str).str.strip()
    if need_year:
        year = _to_numeric(t, "year", probs)
        nonint = year.notna() & (year != year.round())
        for i in np.flatnonzero((year.isna() | nonint).to_numpy())[:20]:
            probs.append(
                Problem(t.where(i, "year"), f"expected a whole year, got {t.frame['year'].iloc[i]!r}")
            )
        out["year"] = year.fillna(-1).astype(int)
    return out


def _duplicates(t: Table, idx: pd.DataFrame, keys: list[str], probs: list[Problem]) -> None:
    dup = idx.duplicated(keys, keep=False)
    if dup.any():
        groups = idx[dup].groupby(keys, sort=True).groups
        for key, rows in list(groups.items())[:20]:
            rows_txt = ", ".join(str(r + 2) for r in rows)
            key_txt = " / ".join(map(str, key if isinstance(key, tuple) else (key,)))
            probs.append(Problem(t.path, f"{key_txt} appears more than once (rows {rows_txt})"))


def read_units(src: Table | pd.DataFrame | str | os.PathLike, scheme: Scheme | None = None) -> Table:
    """Read and check a unit registry (``unit``, ``name``, ``category``, ``kind``)."""
    probs: list[Problem] = []
    t = _check_units(_as_table(src, "units"), scheme, probs)
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
    t = Table(frame, t.path, t.encoding)
    idx = _index_cols(t, probs, need_year=False)
    if idx is not None:
        _duplicates(t, idx, ["unit"], probs)
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


def _terms(cols: list[str]) -> str:
    """'births − policy_births' for the terms ['births', '-policy_births']."""
    out = cols[0].lstrip("-") if not cols[0].startswith("-") else "−" + cols[0][1:]
    for c in cols[1:]:
        out += f" − {c[1:]}" if c.startswith("-") else f" + {c}"
    return f"({out})" if len(cols) > 1 else out


def _panel_problems(
    scheme: Scheme,
    t: Table,
    idx: pd.DataFrame,
    numeric: dict[str, pd.Series],
    probs: list[Problem],
    warns: list[Problem],
) -> None:
    """Range and arithmetic checks on the numeric columns (all problems collected)."""
    count_cols: set[str] = set()
    for ind_id, ind in scheme.indicators.items():
        if ind.is_rate:
            count_cols |= {c.lstrip("-") for c in ind.numerator + ind.denominator}
        elif ind.kind == "count":
            count_cols.add(ind.column or ind_id)
    count_cols |= set(_SEX_COUNTS)

    for col in sorted(count_cols & set(numeric)):
        s = numeric[col]
        neg = s < 0
        frac = s.notna() & (s != s.round())
        for i in np.flatnonzero(neg.to_numpy())[:20]:
            probs.append(Problem(t.where(i, col), f"a count cannot be negative, got {s.iloc[i]:g}"))
        for i in np.flatnonzero(frac.to_numpy())[:20]:
            probs.append(Problem(t.where(i, col), f"a count must be a whole number, got {s.iloc[i]:g}"))

    if "births" in numeric:
        b = numeric["births"]
        few = b.notna() & (b < FEW_BIRTHS)
        for i in np.flatnonzero(few.to_numpy())[:20]:
            what = (
                "no births: birth-based rates are undefined"
                if b.iloc[i] == 0
                else (
                    f"only {b.iloc[i]:g} births (fewer than {FEW_BIRTHS}): its birth-based rates are very uncertain"
                )
            )
            warns.append(
                Problem(
                    t.where(i, "births"), f"{idx['unit'].iloc[i]} {idx['year'].iloc[i]}: {what}", "warning"
                )
            )

    if all(c in numeric for c in _SEX_COUNTS):
        b, m, f = (numeric[c] for c in _SEX_COUNTS)
        bad = b.notna() & m.notna() & f.notna() & (m + f != b)
        for i in np.flatnonzero(bad.to_numpy())[:20]:
            probs.append(
                Problem(
                    t.where(i, "births"),
                    f"male_births + female_births = {m.iloc[i]:g} + {f.iloc[i]:g} = "
                    f"{m.iloc[i] + f.iloc[i]:g}, but births = {b.iloc[i]:g}",
                )
            )

    for ind_id, ind in scheme.indicators.items():
        if ind.is_rate and all(c.lstrip("-") in numeric for c in ind.numerator + ind.denominator):
            num = sum(-numeric[c[1:]] if c.startswith("-") else numeric[c] for c in ind.numerator)
            den = sum(-numeric[c[1:]] if c.startswith("-") else numeric[c] for c in ind.denominator)
            with np.errstate(divide="ignore", invalid="ignore"):
                val = num * ind.scale / den
            where_col = ind.numerator[0].lstrip("-")
            what = f"{ind_id} = {_terms(ind.numerator)} / {_terms(ind.denominator)} × {ind.scale:g}"
        else:
            col = ind.column or ind_id
            if col not in numeric:
                continue
            val, where_col, what = numeric[col], col, col
            if ind.is_rate:
                warns.append(
                    Problem(
                        t.where(None, col),
                        f"rate '{ind_id}' is given without its counts "
                        f"({', '.join(ind.numerator + ind.denominator)}): it carries no denominator",
                        "warning",
                    )
                )
        lo, hi = ind.min, ind.max
        if lo is not None:
            for i in np.flatnonzero((val < lo).to_numpy())[:20]:
                probs.append(
                    Problem(t.where(i, where_col), f"{what} is {val.iloc[i]:.4g}, below its minimum {lo:g}")
                )
        if hi is not None:
            for i in np.flatnonzero((val > hi).to_numpy())[:20]:
                probs.append(
                    Problem(t.where(i, where_col), f"{what} is {val.iloc[i]:.4g}, above its maximum {hi:g}")
                )


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
    t = _as_table(data, "data")
    tables = {"data": t}
    idx = _index_cols(t, probs)

    # ---- grades: normalised to long form and checked against the grades file itself
    g = _as_table(grades, "grades")
    grade_wide = None
    if idx is None:
        raise DataError(f"{t.path}: cannot be scored", probs)
    _duplicates(t, idx, ["unit", "year"], probs)
    if g is not None:
        tables["grades"] = g
        grade_wide = _read_grades(scheme, g, idx, t.path, probs)

    frame = t.frame
    if grade_wide is not None:
        clash = [c for c in grade_wide.columns if c in frame.columns]
        if clash:
            probs.append(Problem(g.path, f"grade item(s) {clash} are also columns of {t.path}"))
        key = pd.MultiIndex.from_frame(idx[["unit", "year"]])
        extra = grade_wide.reindex(key).reset_index(drop=True).astype(object)
        extra.index = frame.index
        frame = pd.concat([frame, extra[[c for c in extra.columns if c not in clash]]], axis=1)
        t = Table(frame, t.path, t.encoding)

    # ---- registry: kind and category
    out = idx.copy()
    out["name"] = frame["name"].astype(str) if "name" in frame.columns else out["unit"]
    out["kind"] = frame["kind"].astype(object) if "kind" in frame.columns else None
    out["category"] = frame["category"].astype(object) if "category" in frame.columns else None
    u = _as_table(units, "units") if units is not None else None
    if u is not None:
        u = _check_units(u, scheme, probs)
        tables["units"] = u
        reg = u.frame.assign(unit=u.frame["unit"].astype(str).str.strip()).set_index("unit")
        unknown = ~out["unit"].isin(reg.index)
        for i in np.flatnonzero(unknown.to_numpy())[:20]:
            probs.append(
                Problem(t.where(i, "unit"), f"unit {out['unit'].iloc[i]!r} is not in the registry {u.path}")
            )
        for col in ("name", "kind", "category"):
            if col in reg.columns:
                mapped = out["unit"].map(reg[col])
                out[col] = mapped.where(mapped.notna(), out[col])
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

    # ---- which columns the scheme needs
    label_cols = {ind.column or i for i, ind in scheme.indicators.items() if ind.kind == "label"}
    adj_cols: set[str] = set()
    for adj in scheme.adjustments:
        adj_cols |= set(adj.per_case)
        if adj.assessed:
            adj_cols.add(adj.assessed.indicator)
    # only the lines of kinds present in the data need their columns
    kinds_present = set(out["kind"].dropna()) or set(scheme.kinds)
    line_kind = {ln.id: ln.unit_kind for ln in scheme.lines}
    item_inds = {it.rule.indicator for p, it in scheme.flat_items if line_kind[p[0]] in kinds_present}
    cond_inds = {c.indicator for v in scheme.vetoes for c in v.when.walk() if c.indicator}

    present = set(frame.columns)
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
        if ind_id in adj_cols or (allow_missing_columns and ind_id not in cond_inds):
            warns.append(
                Problem(
                    t.path,
                    f"indicator '{ind_id}' needs {need}; absent, so "
                    + ("no cases are counted" if ind_id in adj_cols else "its items are scored as missing")
                    + users_txt,
                    "warning",
                )
            )
        else:
            probs.append(
                Problem(
                    t.path,
                    f"indicator '{ind_id}' needs {need}, which the file lacks{users_txt}. Add the "
                    "column (empty cells are scored by the scheme's missing-data policy)",
                )
            )

    needed = scheme.required_columns() | set(_SEX_COUNTS)
    numeric = {c: _to_numeric(t, c, probs) for c in sorted(needed & present) if c not in label_cols}
    _panel_problems(scheme, t, idx, numeric, probs, warns)

    # ---- graded points within [0, points]
    from_grades = set(grade_wide.columns) if grade_wide is not None else set()
    for path, item in scheme.flat_items:
        r = item.rule
        col = scheme.indicators[r.indicator].column or r.indicator
        if col in from_grades:
            continue  # checked against the grades file already
        if r.type == "graded" and col in numeric:
            hi = {"points": item.points, "fraction": 1.0, "percent": 100.0}.get(r.scale)
            s = numeric[col]
            bad = (s < 0) | (s > hi)
            for i in np.flatnonzero(bad.to_numpy())[:20]:
                probs.append(
                    Problem(
                        t.where(i, col), f"grade {s.iloc[i]:g} for {SEP_ITEM.join(path)} must lie in 0–{hi:g}"
                    )
                )
        if r.type == "graded" and r.scale == "labels" and col in present:
            lab = frame[col]
            bad = lab.notna() & ~lab.astype(str).str.strip().isin(list(r.labels))
            for i in np.flatnonzero(bad.to_numpy())[:20]:
                probs.append(
                    Problem(t.where(i, col), f"grade {lab.iloc[i]!r} is not one of {list(r.labels)}")
                )
    for adj in scheme.adjustments:
        if adj.assessed and adj.assessed.indicator in numeric:
            s = numeric[adj.assessed.indicator]
            a = adj.assessed
            bad = (s != 0) & s.notna() & ((s < a.min) | (s > a.max))
            for i in np.flatnonzero(bad.to_numpy())[:20]:
                probs.append(
                    Problem(
                        t.where(i, a.indicator),
                        f"{adj.id}: assessed points {s.iloc[i]:g} must be 0 or within {a.min:g}–{a.max:g}",
                    )
                )

    # ---- years
    lo, hi = scheme.years
    if years is not None:
        for y in years:
            if not lo <= y <= hi:
                probs.append(Problem(t.path, f"year {y} is outside the scheme's years {lo}–{hi}"))
            elif not (out["year"] == y).any():
                probs.append(Problem(t.path, f"year {y} has no rows"))
    elif not out["year"].between(lo, hi).any():
        probs.append(Problem(t.path, f"no row has a year inside the scheme's years {lo}–{hi}"))
    odd = ~out["year"].between(1949, 2100)
    for i in np.flatnonzero(odd.to_numpy())[:20]:
        probs.append(
            Problem(t.where(i, "year"), f"year {out['year'].iloc[i]} is not plausible (expected 1949–2100)")
        )
    later = sorted(set(out["year"][(out["year"] > hi) & ~odd]))
    if later:
        warns.append(
            Problem(
                t.path,
                f"rows of {', '.join(map(str, later[:10]))} are after the scheme's years "
                f"{lo}–{hi} and are not scored (earlier years serve as history)",
                "warning",
            )
        )

    # ---- targets
    tgt = _read_targets(scheme, targets, probs, tables, out, warns, years)

    if probs:
        raise DataError(
            f"{len(probs)} problem{'s' if len(probs) > 1 else ''} in the input; nothing was scored", probs
        )
    out = pd.concat(
        [out, pd.DataFrame({c: s.to_numpy() for c, s in numeric.items()}, index=out.index)], axis=1
    )
    for col in label_cols & present:
        out[col] = (
            frame[col]
            .astype(object)
            .where(frame[col].notna(), None)
            .map(lambda v: v.strip() if isinstance(v, str) else v)
        )
    out = out.sort_values(["unit", "year"], kind="stable").reset_index(drop=True)
    return Panel(out, tgt, tuple(warns), {k: v.path for k, v in tables.items()})


SEP_ITEM = " › "


def _graded_spec(scheme: Scheme) -> dict[str, tuple[str, float | None, list[str] | None, str]]:
    """For each graded indicator: (scale, highest grade, labels, the item's path)."""
    out = {}
    for path, it in scheme.flat_items:
        r = it.rule
        if r.type == "graded":
            hi = {"points": it.points, "fraction": 1.0, "percent": 100.0}.get(r.scale)
            out[r.indicator] = (r.scale, hi, list(r.labels) if r.labels else None, SEP_ITEM.join(path))
    return out


def _read_grades(scheme: Scheme, g: Table, panel_idx: pd.DataFrame, panel_path: str, probs: list[Problem]):
    """Inspector grades, long (unit, year, item, grade) or wide, checked against the grades
    file itself; returned wide (index unit, year; one column per graded indicator)."""
    gidx = _index_cols(g, probs)
    if gidx is None:
        return None
    f = g.frame
    if {"item", "grade"} <= set(f.columns):
        long = gidx.assign(item=f["item"].astype(str).str.strip(), grade=f["grade"], _row=np.arange(len(f)))
        _duplicates(g, long, ["unit", "year", "item"], probs)
    else:
        _duplicates(g, gidx, ["unit", "year"], probs)
        cols = [c for c in f.columns if c not in ("unit", "year", "name")]
        parts = [gidx.assign(item=c, grade=f[c], _row=np.arange(len(f))) for c in cols]
        long = (
            pd.concat(parts, ignore_index=True)
            if parts
            else gidx.assign(item=None, grade=None, _row=0).iloc[:0]
        )
    unknown = ~long["item"].isin(list(scheme.indicators))
    for r, item in zip(long["_row"][unknown][:20], long["item"][unknown][:20]):
        probs.append(
            Problem(g.where(r, "item"), f"unknown item {item!r}; expected one of the scheme's indicators")
        )
    named = sorted(set(long["item"][~unknown]))  # every item the file names, even if all empty
    long = long[~unknown & long["grade"].notna()]
    panel_keys = pd.MultiIndex.from_frame(panel_idx[["unit", "year"]])
    absent = ~pd.MultiIndex.from_frame(long[["unit", "year"]]).isin(panel_keys)
    for r, u, y in zip(long["_row"][absent][:20], long["unit"][absent][:20], long["year"][absent][:20]):
        probs.append(
            Problem(g.where(r, "unit"), f"{u} {y} is not in the panel {panel_path} (a misspelt unit?)")
        )
    spec = _graded_spec(scheme)
    values = pd.Series(index=long.index, dtype=object)
    for ind, grp in long.groupby("item", sort=True):
        scale, hi, labels, where_item = spec.get(ind, ("points", None, None, ind))
        if scheme.indicators[ind].kind == "label":
            lab = grp["grade"].astype(str).str.strip()
            bad = ~lab.isin(labels or [])
            for r, v in zip(grp["_row"][bad][:20], lab[bad][:20]):
                probs.append(
                    Problem(g.where(r, "grade"), f"grade {v!r} is not one of {labels} ({where_item})")
                )
            values[grp.index] = lab
            continue
        txt = grp["grade"].map(lambda v: v.strip().replace(",", "") if isinstance(v, str) else v)
        num = pd.to_numeric(txt, errors="coerce")
        for r, v in zip(grp["_row"][num.isna()][:20], grp["grade"][num.isna()][:20]):
            probs.append(
                Problem(g.where(r, "grade"), f"grade for {where_item}: expected a number, got {v!r}")
            )
        if hi is not None:
            out = (num < 0) | (num > hi)
            for r, v in zip(grp["_row"][out][:20], num[out][:20]):
                probs.append(
                    Problem(g.where(r, "grade"), f"grade {v:g} for {where_item} must lie in 0–{hi:g}")
                )
        values[grp.index] = num.astype(float)
    long = long.assign(grade=values).drop_duplicates(["unit", "year", "item"])
    wide = long.pivot(index=["unit", "year"], columns="item", values="grade")
    return wide.reindex(columns=named)


def _read_targets(
    scheme: Scheme,
    src,
    probs: list[Problem],
    tables: dict,
    panel: pd.DataFrame,
    warns: list[Problem],
    years: list[int] | None = None,
) -> pd.DataFrame:
    """Per-unit-year targets: only the columns the scheme names are read (others, such as a
    remarks column, are ignored). Rows of units outside the panel, and scored unit-years
    without a row, are reported as warnings (a misspelt unit would otherwise go unseen)."""
    names = sorted(
        {
            it.rule.target.table
            for _p, it in scheme.flat_items
            if isinstance(getattr(it.rule, "target", None), TableTarget)
        }
    )
    empty = pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=["unit", "year"]))
    if src is None:
        for name in names:
            users = [
                it.id
                for _p, it in scheme.flat_items
                if isinstance(getattr(it.rule, "target", None), TableTarget) and it.rule.target.table == name
            ]
            has_default = all(
                next(i for _p, i in scheme.flat_items if i.id == u).rule.target.default is not None
                for u in users
            )
            if not has_default:
                probs.append(
                    Problem(
                        "targets",
                        f"items {users} take their target from a target table column '{name}'; give --targets",
                    )
                )
        return empty
    t = _as_table(src, "targets")
    tables["targets"] = t
    idx = _index_cols(t, probs)
    if idx is None:
        return empty
    stray = sorted(set(idx["unit"]) - set(panel["unit"]))
    if stray:
        warns.append(
            Problem(
                t.path,
                f"targets for units not in the panel are ignored: {', '.join(map(str, stray[:10]))}"
                + (" …" if len(stray) > 10 else ""),
                "warning",
            )
        )
    if {"target", "value"} <= set(t.frame.columns):
        long = idx.assign(
            target=t.frame["target"].astype(str).str.strip(), value=_to_numeric(t, "value", probs)
        )
        long = long[long["target"].isin(names)]
        _duplicates(t, long, ["unit", "year", "target"], probs)
        wide = long.drop_duplicates(["unit", "year", "target"]).pivot(
            index=["unit", "year"], columns="target", values="value"
        )
    else:
        _duplicates(t, idx, ["unit", "year"], probs)
        cols = [c for c in t.frame.columns if c in names]
        vals = pd.DataFrame({c: _to_numeric(t, c, probs) for c in cols}, index=t.frame.index)
        wide = pd.concat([idx, vals], axis=1).drop_duplicates(["unit", "year"]).set_index(["unit", "year"])
    absent = [n for n in names if n not in wide.columns]
    if absent:
        probs.append(
            Problem(t.path, f"target column(s) {absent} are needed by the scheme; found {list(wide.columns)}")
        )
    lo, hi = scheme.years
    line_kind = {ln.id: ln.unit_kind for ln in scheme.lines}
    kinds = {
        line_kind[p[0]]
        for p, it in scheme.flat_items
        if isinstance(getattr(it.rule, "target", None), TableTarget)
    }
    in_years = panel["year"].isin(years) if years is not None else panel["year"].between(lo, hi)
    scored = panel[in_years & panel["kind"].isin(kinds)]
    lacking = ~pd.MultiIndex.from_frame(scored[["unit", "year"]]).isin(wide.index)
    if lacking.any():
        miss = [f"{u} {y}" for u, y in scored.loc[lacking, ["unit", "year"]].itertuples(index=False)]
        warns.append(
            Problem(
                t.path,
                f"no target row for {', '.join(miss[:10])}{' …' if len(miss) > 10 else ''}: "
                "their items use the scheme's default target, or score as missing",
                "warning",
            )
        )
    return wide.astype(float)
