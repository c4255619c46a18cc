"""Loading and validating a scoring run's inputs, all problems at once: the io half of
:mod:`assesskit.pipeline`, kept below the kernel and the analyses so that they can load
files through it (:func:`load_inputs` is the one load → validate sequence).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ._io import sha256
from .data import Panel, Table, read_panel, read_table
from .exceptions import DataError, SchemeError
from .scheme import Scheme, load_scheme, resolve_scheme_path

PathLike = str | os.PathLike

ROLES = ("data", "units", "targets", "grades")


@dataclass(frozen=True)
class Inputs:
    """Validated inputs of a scoring run, with where they came from.

    Attributes
    ----------
    scheme : Scheme
    scheme_path : Path or None
        The scheme file (None when a :class:`Scheme` object was given).
    panel : Panel
        From :func:`assesskit.data.read_panel`.
    tables : mapping
        Role (``data``, ``units``, ``targets``, ``grades``) → :class:`~assesskit.data.Table`
        as read (path, encoding, frame), for the roles given (a DataFrame given instead
        of a file is kept as it is).
    years : tuple of int or None
        The years asked for (None: every year inside the scheme's years).
    """

    scheme: Scheme
    scheme_path: Path | None
    panel: Panel
    tables: Mapping[str, Table | pd.DataFrame] = field(default_factory=dict)
    years: tuple[int, ...] | None = None

    def provenance(self) -> dict:
        """Scheme and input files with their SHA-256 and encodings (for run records)."""
        scheme = {"id": self.scheme.id}
        if self.scheme_path is not None:
            scheme |= {"path": str(self.scheme_path), "sha256": sha256(self.scheme_path)}
        return {
            "scheme": scheme,
            "inputs": {
                r: {"path": t.path, "sha256": sha256(t.path), "encoding": t.encoding}
                for r, t in self.tables.items()
                if isinstance(t, Table) and not t.path.startswith("<")
            },
        }


def resolve_scheme(scheme: PathLike) -> Path:
    """A scheme file as given, or the bundled scheme of that id.

    An id is a bare name: one with a folder part (``../x``) that is not an existing file
    is refused rather than looked up relative to the bundled schemes.
    """
    p = Path(scheme)
    if not p.exists() and p.suffix not in (".yaml", ".yml") and len(p.parts) > 1:
        raise SchemeError(
            f"{scheme}: no such scheme file, and a bundled scheme id has no folder part "
            "(give the path of a .yaml file, or an id from `assesskit schemes`)"
        )
    return resolve_scheme_path(scheme)


def read_tables(
    data: PathLike | Table | pd.DataFrame,
    *,
    units: PathLike | Table | pd.DataFrame | None = None,
    targets: PathLike | Table | pd.DataFrame | None = None,
    grades: PathLike | Table | pd.DataFrame | None = None,
    encoding: str | None = None,
) -> dict[str, Table]:
    """Read the given input files (CSV, Excel, Parquet) by role.

    Tables and DataFrames pass through (a DataFrame is checked by
    :func:`assesskit.data.read_panel` and has no file to record).
    """
    given = dict(zip(ROLES, (data, units, targets, grades), strict=True))
    return {
        role: v if isinstance(v, Table | pd.DataFrame) else read_table(v, encoding=encoding)
        for role, v in given.items()
        if v is not None
    }


def years_of(years) -> tuple[int, ...] | None:
    """Year(s) as given (an int, a list or None) as a tuple of ints; an empty list is an error."""
    if years is None:
        return None
    ys = (int(years),) if isinstance(years, numbers.Integral) else tuple(int(y) for y in years)
    if not ys:
        raise DataError("year: an empty list of years; give at least one, or None for every year")
    return ys


def load_inputs(
    scheme: PathLike | Scheme,
    data: PathLike | Table | pd.DataFrame,
    *,
    units: PathLike | Table | pd.DataFrame | None = None,
    targets: PathLike | Table | pd.DataFrame | None = None,
    grades: PathLike | Table | pd.DataFrame | None = None,
    years: int | list[int] | tuple[int, ...] | None = None,
    encoding: str | None = None,
    allow_missing_columns: bool = False,
) -> Inputs:
    """Load a scheme and read and validate the input tables, all problems at once.

    Parameters
    ----------
    scheme : path, bundled scheme id, or Scheme
    data : path, Table or DataFrame
        The panel: one row per unit and year.
    units, targets, grades : path, Table or DataFrame, optional
        Unit registry, per-unit-year targets, inspector grades.
    years : int or list of int, optional
        Years to score; default every year inside the scheme's years.
    encoding : str, optional
        Encoding of CSV inputs (default: UTF-8, else GB18030).
    allow_missing_columns : bool
        Score items whose columns are absent as missing instead of stopping.

    Raises
    ------
    SchemeError, DataError
        Naming the file, row, column and what was expected.
    """
    if isinstance(scheme, Scheme):
        s, scheme_path = scheme, None
    else:
        scheme_path = resolve_scheme(scheme)
        s = load_scheme(scheme_path)
    ys = years_of(years)
    tables = read_tables(data, units=units, targets=targets, grades=grades, encoding=encoding)
    panel = read_panel(
        s,
        tables["data"],
        units=tables.get("units"),
        targets=tables.get("targets"),
        grades=tables.get("grades"),
        years=list(ys) if ys else None,
        allow_missing_columns=allow_missing_columns,
    )
    return Inputs(scheme=s, scheme_path=scheme_path, panel=panel, tables=tables, years=ys)
