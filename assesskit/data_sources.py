"""Key columns, numbers, inspector grades and target tables of the input (see :mod:`assesskit.data`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .exceptions import Problem
from .numbers import parse_numbers
from .scheme import Scheme, TableTarget
from .tables import Table, as_table

SEP_ITEM = " › "
_LIMIT = 20  # problems listed per check and column; the rest are counted


def numeric_column(t: Table, col: str, probs: list[Problem]) -> pd.Series:
    """The column read as numbers (NaN where missing); each refused cell is a problem."""
    n = parse_numbers(t.frame[col])
    bad = np.flatnonzero(n.bad.to_numpy())
    for i in bad[:_LIMIT]:
        probs.append(Problem(t.where(i, col), n.errors.iloc[i]))
    if bad.size > _LIMIT:
        probs.append(
            Problem(t.where(None, col), f"... and {bad.size - _LIMIT} more cells that are not numbers")
        )
    return n.values


def index_cols(
    t: Table, probs: list[Problem], *, need_year: bool = True
) -> tuple[pd.DataFrame, pd.Series] | None:
    """``unit`` (text, stripped) and ``year`` (int; -1 where unreadable), and which rows
    have both; one problem per bad cell. None when a key column is absent."""
    need = ["unit", "year"] if need_year else ["unit"]
    absent = [c for c in need if c not in t.frame.columns]
    if absent:
        probs.append(Problem(t.path, f"missing column(s) {absent}; found {list(t.frame.columns)}"))
        return None
    out = pd.DataFrame(index=t.frame.index)
    unit = t.frame["unit"].astype(object)
    blank = unit.isna().to_numpy() | (unit.astype(str).str.strip() == "").to_numpy()
    for i in np.flatnonzero(blank)[:_LIMIT]:
        probs.append(Problem(t.where(i, "unit"), "unit is empty"))
    out["unit"] = unit.astype(str).str.strip()
    ok = pd.Series(~blank, index=t.frame.index)
    if need_year:
        y, year_ok = _years(t, probs)
        out["year"] = y.where(year_ok, -1).astype(np.int64)
        ok &= year_ok
    return out, ok


def _years(t: Table, probs: list[Problem]) -> tuple[pd.Series, pd.Series]:
    """The years, and where each is a whole number in 1949–2100; one problem per other cell."""
    raw = t.frame["year"]
    y = parse_numbers(raw).values
    unread = y.isna() | (y != y.round())
    for i in np.flatnonzero(unread.to_numpy())[:_LIMIT]:
        v = raw.iloc[i]
        got = "an empty cell" if pd.isna(v) else repr(v)
        probs.append(Problem(t.where(i, "year"), f"expected a whole year, got {got}"))
    odd = ~unread & ~y.between(1949, 2100)
    for i in np.flatnonzero(odd.to_numpy())[:_LIMIT]:
        probs.append(
            Problem(t.where(i, "year"), f"year {y.iloc[i]:.0f} is not plausible (expected 1949–2100)")
        )
    return y, ~unread & ~odd


def duplicates(t: Table, idx: pd.DataFrame, keys: list[str], probs: list[Problem]) -> None:
    """One problem per key that appears on several rows, naming the rows."""
    dup = idx.duplicated(keys, keep=False)
    if dup.any():
        groups = idx[dup].groupby(keys[0] if len(keys) == 1 else keys, sort=True).groups
        for key, rows in list(groups.items())[:_LIMIT]:
            rows_txt = ", ".join(str(t.row(r)) for r in rows)
            key_txt = " / ".join(map(str, key if isinstance(key, tuple) else (key,)))
            probs.append(Problem(t.path, f"{key_txt} appears more than once (rows {rows_txt})"))


def graded_spec(scheme: Scheme) -> dict[str, tuple[str, float | None, list[str] | None, str]]:
    """For each graded indicator: (scale, highest grade, labels, the item's path)."""
    out = {}
    for path, it in scheme.flat_items:
        r = it.rule
        if r.type == "graded":
            hi = {"points": it.points, "fraction": 1.0, "percent": 100.0}.get(r.scale)
            out[r.indicator] = (r.scale, hi, list(r.labels) if r.labels else None, SEP_ITEM.join(path))
    return out


def read_grades(scheme: Scheme, g: Table, panel_idx: pd.DataFrame, panel_path: str, probs: list[Problem]):
    """Inspector grades, long (unit, year, item, grade) or wide, checked against the grades
    file itself; returned wide (index unit, year; one column per graded indicator)."""
    keys = index_cols(g, probs)
    if keys is None:
        return None
    gidx, ok = keys
    if not {"item", "grade"} <= set(g.frame.columns):
        return _wide_grades(scheme, g, gidx, ok, panel_idx, panel_path, probs)
    long, named = _grades_long(scheme, g, gidx, ok, probs)
    panel_keys = pd.MultiIndex.from_frame(panel_idx[["unit", "year"]])
    absent = ~pd.MultiIndex.from_frame(long[["unit", "year"]]).isin(panel_keys) & (long["year"] >= 0)
    for r, u, y in zip(
        long["_row"][absent][:_LIMIT], long["unit"][absent][:_LIMIT], long["year"][absent][:_LIMIT]
    ):
        probs.append(
            Problem(g.where(r, "unit"), f"{u} {y} is not in the panel {panel_path} (a misspelt unit?)")
        )
    spec = graded_spec(scheme)
    values = pd.Series(index=long.index, dtype=object)
    for ind, grp in long.groupby("item", sort=True):  # one pass per graded item, not per row
        values[grp.index] = _grade_values(scheme, g, ind, grp, spec, probs)
    long = long.assign(grade=values).drop_duplicates(["unit", "year", "item"])
    wide = long.pivot(index=["unit", "year"], columns="item", values="grade")
    return wide.reindex(columns=named)


def _wide_grades(
    scheme: Scheme,
    g: Table,
    gidx: pd.DataFrame,
    ok: pd.Series,
    panel_idx: pd.DataFrame,
    panel_path: str,
    probs: list[Problem],
) -> pd.DataFrame:
    """A wide grades file checked column by column where it stands: the same problems, in the
    same order, and the same table as melting it to the long form, without a row per cell
    (a nation's towns × ten years × forty graded items would be 16 M rows of objects)."""
    f = g.frame
    duplicates(g, gidx[ok], ["unit", "year"], probs)
    cols = [c for c in f.columns if c not in ("unit", "year", "name")]
    unknown = [c for c in cols if c not in scheme.indicators]
    cells = [(r, c) for c in unknown for r in range(min(len(f), _LIMIT))][:_LIMIT]
    for r, c in cells:
        probs.append(
            Problem(g.where(r, "item"), f"unknown item {c!r}; expected one of the scheme's indicators")
        )
    known = [c for c in cols if c in scheme.indicators]
    given = {c: f[c].notna().to_numpy() for c in known}
    panel_keys = pd.MultiIndex.from_frame(panel_idx[["unit", "year"]])
    absent = ~pd.MultiIndex.from_frame(gidx[["unit", "year"]]).isin(panel_keys) & (
        gidx["year"].to_numpy() >= 0
    )
    shown = [(r, c) for c in known for r in np.flatnonzero(given[c] & absent)[:_LIMIT]][:_LIMIT]
    for r, _c in shown:
        u, y = gidx["unit"].iat[r], gidx["year"].iat[r]
        probs.append(
            Problem(g.where(r, "unit"), f"{u} {y} is not in the panel {panel_path} (a misspelt unit?)")
        )
    spec = graded_spec(scheme)
    rows = np.zeros(len(f), dtype=bool)
    for c in known:
        rows |= given[c]
    first = rows & ~gidx.duplicated(["unit", "year"], keep="first").to_numpy()
    out = {}
    for ind in sorted(known):  # one pass per graded item, in the long form's order of problems
        at = np.flatnonzero(given[ind])
        grp = pd.DataFrame({"grade": f[ind].to_numpy()[at], "_row": at}, index=at)
        v = np.asarray(_grade_values(scheme, g, ind, grp, spec, probs), dtype=object)
        col = np.full(len(f), np.nan, dtype=object)
        col[at] = v
        out[ind] = col[first]
    index = pd.MultiIndex.from_arrays(
        [gidx["unit"].to_numpy()[first], gidx["year"].to_numpy()[first]], names=["unit", "year"]
    )
    wide = pd.DataFrame(out, index=index, columns=sorted(known), dtype=object).sort_index()
    wide.columns.name = "item"
    return wide


def _grades_long(scheme: Scheme, g: Table, gidx: pd.DataFrame, ok: pd.Series, probs: list[Problem]):
    f = g.frame
    long = gidx.assign(item=f["item"].astype(str).str.strip(), grade=f["grade"], _row=np.arange(len(f)))
    duplicates(g, long[ok.to_numpy()], ["unit", "year", "item"], probs)
    unknown = ~long["item"].isin(list(scheme.indicators))
    for r, item in zip(long["_row"][unknown][:_LIMIT], long["item"][unknown][:_LIMIT]):
        probs.append(
            Problem(g.where(r, "item"), f"unknown item {item!r}; expected one of the scheme's indicators")
        )
    named = sorted(set(long["item"][~unknown]))  # every item the file names, even if all empty
    return long[~unknown & long["grade"].notna()], named


def _grade_values(scheme: Scheme, g: Table, ind: str, grp: pd.DataFrame, spec: dict, probs: list[Problem]):
    scale, hi, labels, where_item = spec.get(ind, ("points", None, None, ind))
    col = "grade" if "grade" in g.frame.columns else ind  # long form, or the wide form's item column
    if scheme.indicators[ind].kind == "label":
        lab = grp["grade"].astype(str).str.strip()
        bad = ~lab.isin(labels or [])
        for r, v in zip(grp["_row"][bad][:_LIMIT], lab[bad][:_LIMIT]):
            probs.append(Problem(g.where(r, col), f"grade {v!r} is not one of {labels} ({where_item})"))
        return lab
    n = parse_numbers(grp["grade"])
    for r, e in zip(grp["_row"][n.bad][:_LIMIT], n.errors[n.bad][:_LIMIT]):
        probs.append(Problem(g.where(r, col), f"grade for {where_item}: {e}"))
    num = n.values
    if hi is not None:
        out = (num < 0) | (num > hi)
        for r, v in zip(grp["_row"][out][:_LIMIT], num[out][:_LIMIT]):
            probs.append(Problem(g.where(r, col), f"grade {v:g} for {where_item} must lie in 0–{hi:g}"))
    return num.astype(float)


def _table_users(scheme: Scheme) -> dict[str, list[tuple[tuple[str, ...], object]]]:
    """Target table column → the items (path, item) that read it."""
    out: dict[str, list] = {}
    for path, it in scheme.flat_items:
        if isinstance(getattr(it.rule, "target", None), TableTarget):
            out.setdefault(it.rule.target.table, []).append((path, it))
    return dict(sorted(out.items()))


def read_targets(
    scheme: Scheme,
    src,
    probs: list[Problem],
    tables: dict,
    panel: pd.DataFrame,
    warns: list[Problem],
    years: list[int] | None = None,
) -> pd.DataFrame:
    """Per-unit-year targets: only the columns the scheme names are read (others, such as a
    remarks column, are ignored). Rows of units outside the panel are a warning; so is every
    scored unit-year whose item falls back to its default target, or has none."""
    users = _table_users(scheme)
    empty = pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=["unit", "year"]))
    if src is None:
        for name, its in users.items():
            if any(it.rule.target.default is None for _p, it in its):
                probs.append(
                    Problem(
                        "targets",
                        f"items {[it.id for _p, it in its]} take their target from a target table "
                        f"column '{name}'; give --targets",
                    )
                )
        _default_warnings(scheme, users, empty, panel, years, "targets (none given)", warns)
        return empty
    t = as_table(src, "targets")
    tables["targets"] = t
    keys = index_cols(t, probs)
    if keys is None:
        return empty
    wide = _targets_wide(t, keys, list(users), probs)
    stray = sorted(set(keys[0]["unit"][keys[1]]) - set(panel["unit"]))
    if stray:
        warns.append(
            Problem(
                t.path,
                f"targets for units not in the panel are ignored: {', '.join(map(str, stray[:10]))}"
                + (" …" if len(stray) > 10 else ""),
                "warning",
            )
        )
    absent = [n for n in users if n not in wide.columns]
    if absent:
        probs.append(
            Problem(t.path, f"target column(s) {absent} are needed by the scheme; found {list(wide.columns)}")
        )
    _default_warnings(scheme, users, wide, panel, years, t.path, warns)
    return wide.astype(float)


def _targets_wide(t: Table, keys, names: list[str], probs: list[Problem]) -> pd.DataFrame:
    idx, ok = keys
    if {"target", "value"} <= set(t.frame.columns):
        long = idx.assign(
            target=t.frame["target"].astype(str).str.strip(), value=numeric_column(t, "value", probs)
        )
        long = long[long["target"].isin(names) & ok]
        duplicates(t, long, ["unit", "year", "target"], probs)
        return long.drop_duplicates(["unit", "year", "target"]).pivot(
            index=["unit", "year"], columns="target", values="value"
        )
    duplicates(t, idx[ok], ["unit", "year"], probs)
    cols = [c for c in t.frame.columns if c in names]
    vals = pd.DataFrame({c: numeric_column(t, c, probs) for c in cols}, index=t.frame.index)
    both = pd.concat([idx, vals], axis=1)[ok]
    return both.drop_duplicates(["unit", "year"]).set_index(["unit", "year"])


def scored_rows(scheme: Scheme, panel: pd.DataFrame, years: list[int] | None) -> pd.Series:
    """The panel rows a scoring run scores (the years asked for, else the scheme's)."""
    lo, hi = scheme.years
    return panel["year"].isin(years) if years is not None else panel["year"].between(lo, hi)


def unit_years(rows: pd.DataFrame, limit: int = 10) -> str:
    """'A 2016, B 2016 … (12 in all)' for the unit and year columns of ``rows``."""
    txt = [f"{u} {y}" for u, y in rows[["unit", "year"]].head(limit).itertuples(index=False, name=None)]
    more = f" … ({len(rows)} in all)" if len(rows) > limit else ""
    return ", ".join(txt) + more


def _default_warnings(scheme, users, wide, panel, years, where: str, warns: list[Problem]) -> None:
    """One warning per table-target item with scored unit-years that lack a target."""
    line_kind = {ln.id: ln.unit_kind for ln in scheme.lines}
    scored = panel[scored_rows(scheme, panel, years)]
    keys = pd.MultiIndex.from_frame(scored[["unit", "year"]])
    of_kind = {k: (scored["kind"] == k).to_numpy() for k in set(line_kind.values())}
    for name, its in users.items():
        have = (
            wide[name].reindex(keys).to_numpy(dtype=float)
            if name in wide.columns
            else np.full(len(keys), np.nan)
        )
        for path, it in its:
            lacking = scored[np.isnan(have) & of_kind[line_kind[path[0]]]]
            if lacking.empty:
                continue
            default = it.rule.target.default
            fate = (
                f"the scheme's default target {default:g} is used"
                if default is not None
                else "the item is scored as missing (" + (it.missing or scheme.missing) + ")"
            )
            warns.append(
                Problem(
                    where,
                    f"{SEP_ITEM.join(path)}: no '{name}' target for {len(lacking)} unit-year(s) "
                    f"({unit_years(lacking)}): {fate}",
                    "warning",
                )
            )
