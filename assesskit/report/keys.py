"""Page keys: what a page reads, hashed.

A page's key is the SHA-256 of everything its output depends on. Three parts are always in
it: the notebook template file, the assesskit code the page runs (:func:`code_sha256`) and
what the runner adds around the notebook (parameters, title, navigation, banner, code
display). The rest comes from the template's own declaration of the inputs it reads, in its
notebook-level metadata::

    {"metadata": {"assesskit": {"inputs": ["scheme", "units", "rows:unit", "rows:year"]}}}

The vocabulary (:data:`INPUTS`):

``scheme``
    the scheme file of the entry (and the variant of a comparison's scheme B);
``scheme_b``
    a comparison page's scheme B file (comparison templates only);
``units``
    the unit registry file, and the column headers of every input table;
``rows:unit``
    the page unit's rows in every year (unit templates only);
``rows:year``
    every unit's rows of the page's year, and of the previous data year when the scheme
    (or scheme B) has change rules — every earlier year when a unit skips the previous one;
``rows:to_year``
    every row of the years up to the page's year;
``rows:all``
    every row;
``sensitivity_spec``
    ``params/sensitivity/<scheme id>.yaml`` (its SHA-256, or its absence);
``seed``
    the run's ``seed``; it is also passed to the notebook as the ``seed`` parameter only
    when declared.

"Rows" are the rows of every input table with ``unit`` and ``year`` columns (panel,
targets, grades), hashed per unit and per year, independent of row order. When the scheme
has a rule type that compares units (not one of
:data:`~assesskit.report.pages.PER_UNIT_RULES`), ``rows:unit`` and ``rows:year`` widen to
every row. A template without a declaration reads everything (:data:`DEFAULT_INPUTS`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .provenance import code_files, code_paths, code_sha256

__all__ = ["DEFAULT_INPUTS", "INPUTS", "code_files", "code_paths", "code_sha256"]

INPUTS: dict[str, str] = {
    "scheme": "the scheme file (and a comparison's variant)",
    "scheme_b": "a comparison page's scheme B file",
    "units": "the unit registry and the column headers of the input tables",
    "rows:unit": "the page unit's rows in every year",
    "rows:year": "every unit's rows of the page's year (+ the previous data year with change rules)",
    "rows:to_year": "every row of the years up to the page's year",
    "rows:all": "every row",
    "sensitivity_spec": "params/sensitivity/<scheme id>.yaml",
    "seed": "the run's seed (passed to the notebook as `seed`)",
}
"""The names a template may declare in ``metadata.assesskit.inputs``."""

KIND_INPUTS: dict[str, frozenset[str]] = {
    "unit": frozenset(INPUTS) - {"scheme_b"},
    "overview": frozenset(INPUTS) - {"scheme_b", "rows:unit"},
    "comparison": frozenset(INPUTS) - {"rows:unit"},
}
"""What each kind of page may declare (an overview has no unit; only a comparison has a scheme B)."""

DEFAULT_INPUTS: dict[str, tuple[str, ...]] = {
    kind: tuple(sorted(allowed - {"rows:unit", "rows:year", "rows:to_year"}))
    for kind, allowed in KIND_INPUTS.items()
}
"""Inputs of a template that declares none: everything (every row, the spec, the seed)."""


# --------------------------------------------------------------------------- hashing
def _h(*parts: object) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(
            json.dumps(p, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8")
            if not isinstance(p, bytes)
            else p
        )
        h.update(b"\x00")
    return h.hexdigest()


@dataclass
class _RowHashes:
    """Hashes of an entry's input rows, by unit and by year (order-independent)."""

    by_unit: dict[str, str]
    by_year: dict[int, str]
    whole: str  # tables without unit/year columns, and the column headers
    units_in_year: dict[int, frozenset[str]]


def _group_digest(keys: np.ndarray, hashes: np.ndarray) -> dict:
    """Per key, the SHA-256 of its rows' sorted 64-bit hashes (loops over groups, not rows)."""
    order = np.lexsort((hashes, keys))
    k, v = keys[order], hashes[order]
    out = {}
    if len(k) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    ends = np.r_[starts[1:], len(k)]
    for s, e in zip(starts, ends):
        out[k[s]] = hashlib.sha256(v[s:e].tobytes()).hexdigest()
    return out


def _row_hashes(tables: Mapping[str, pd.DataFrame]) -> _RowHashes:
    unit_parts: list[tuple[np.ndarray, np.ndarray]] = []
    year_parts: list[tuple[np.ndarray, np.ndarray]] = []
    whole = []
    units_in_year: dict[int, set[str]] = {}
    for role, df in sorted(tables.items()):
        whole.append((role, [str(c) for c in df.columns]))
        if {"unit", "year"} <= set(df.columns):
            rh = pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy()
            rh = rh ^ np.uint64(int(hashlib.sha256(role.encode()).hexdigest()[:15], 16))
            units = df["unit"].astype(str).to_numpy()
            years = pd.to_numeric(df["year"], errors="coerce").fillna(-1).astype(np.int64).to_numpy()
            unit_parts.append((units, rh))
            year_parts.append((years, rh))
            if role == "data":
                for y in np.unique(years):
                    units_in_year[int(y)] = set(units[years == y])
        else:
            whole.append(
                (role, pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy().tobytes().hex())
            )
    by_unit: dict[str, str] = {}
    by_year: dict[int, str] = {}
    if unit_parts:
        by_unit = {
            str(k): v
            for k, v in _group_digest(
                np.concatenate([u for u, _ in unit_parts]).astype(object),
                np.concatenate([h for _, h in unit_parts]),
            ).items()
        }
        by_year = {
            int(k): v
            for k, v in _group_digest(
                np.concatenate([y for y, _ in year_parts]), np.concatenate([h for _, h in year_parts])
            ).items()
        }
    return _RowHashes(by_unit, by_year, _h(whole), {y: frozenset(u) for y, u in units_in_year.items()})


def _prev_years(rh: _RowHashes, year: int) -> list[int]:
    """The data years a change rule may look back to from ``year``."""
    earlier = sorted(y for y in rh.by_year if y < year)
    if not earlier:
        return []
    prev = earlier[-1]
    if rh.units_in_year.get(year, frozenset()) <= rh.units_in_year.get(prev, frozenset()):
        return [prev]
    return earlier  # a unit skips the previous year: its own previous row may be earlier


# --------------------------------------------------------------------------- keys from declarations
@dataclass(frozen=True)
class EntryHashes:
    """What a scheme entry's pages may read, hashed once per run."""

    scheme: str  # SHA-256 of the scheme file
    rows: _RowHashes
    sensitivity_spec: str  # SHA-256 of params/sensitivity/<scheme id>.yaml, or "absent"
    seed: int
    change: bool  # the scheme has change rules (a page of year y reads the previous year)
    cross_unit: bool  # a rule compares units: every row matters to every unit's score


def _rows(scope: str, e: EntryHashes, year: int, unit: str | None, change: bool) -> object:
    rh = e.rows
    if scope == "rows:all" or (e.cross_unit and scope in ("rows:unit", "rows:year")):
        return sorted(rh.by_year.items())
    if scope == "rows:unit":
        return rh.by_unit.get(str(unit), "")
    if scope == "rows:to_year":
        return [v for k, v in sorted(rh.by_year.items()) if k <= year]
    prev = _prev_years(rh, year) if change else []  # rows:year
    return [rh.by_year.get(year, ""), [rh.by_year.get(p, "") for p in prev]]


def declared_parts(
    inputs: tuple[str, ...],
    e: EntryHashes,
    *,
    year: int,
    unit: str | None = None,
    scheme_b: str | None = None,
    change_b: bool = False,
) -> dict[str, object]:
    """The hashed value of each input a page declares (name → value), for its key.

    Parameters
    ----------
    inputs : tuple of str
        Names from :data:`INPUTS` (checked when the template is loaded).
    e : EntryHashes
        The entry's hashes.
    year, unit : the page's year and unit (``None`` for overviews and comparisons).
    scheme_b : str, optional
        SHA-256 of a comparison's scheme B file and its variant.
    change_b : bool
        Scheme B has change rules (a comparison of year y then reads the previous year too).
    """
    out: dict[str, object] = {}
    for name in sorted(inputs):
        if name == "scheme":
            out[name] = e.scheme
        elif name == "scheme_b":
            out[name] = scheme_b
        elif name == "units":
            out[name] = e.rows.whole
        elif name == "sensitivity_spec":
            out[name] = e.sensitivity_spec
        elif name == "seed":
            out[name] = e.seed
        else:
            out[name] = _rows(name, e, year, unit, e.change or change_b)
    return out


def page_key(*parts: object) -> str:
    """SHA-256 of the parts (JSON, sorted keys; bytes as they are)."""
    return _h(*parts)
