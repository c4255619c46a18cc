"""The live what-if explorer: move a scheme's design levers and watch the league table answer.

>>> import assesskit.explore as ax                                              # doctest: +SKIP
>>> app = ax.explore("district_1000", "towns.csv", units="units.csv", year=2012)  # doctest: +SKIP
>>> app                                                    # in JupyterLab: the widget  # doctest: +SKIP

- :class:`Design` — the original scheme and the levers moved (pure; → a validated
  :class:`~assesskit.scheme.Scheme`, → a scheme file with a header of the changes);
- :class:`Rescorer` — the kernel's inputs prepared once, a variant rescored through
  :func:`assesskit.kernel.run` touching only what changed; :func:`league` and
  :func:`changed_units` — the tables the explorer shows;
- :func:`explore` — validate the inputs, build both, return the widget
  (:class:`~assesskit.explore.app.Explorer`);
- :func:`assesskit.explore.serve.serve` — the same explorer as a web app through Voilà
  (``assesskit explore``).

The module itself is callable: ``assesskit.explore(...)`` is :func:`explore`.
"""

from __future__ import annotations

import numbers
import os
import sys
import types
from typing import TYPE_CHECKING

import pandas as pd

from ..data import Table
from ..exceptions import DataError
from .design import Design
from .rescore import LEAGUE_COLUMNS, Rescorer, changed_units, league

if TYPE_CHECKING:  # pragma: no cover
    from ..scheme import Scheme
    from .app import Explorer

PathLike = str | os.PathLike
Tabular = PathLike | Table | pd.DataFrame


def explore(
    scheme: PathLike | Scheme,
    data: Tabular,
    *,
    units: Tabular | None = None,
    targets: Tabular | None = None,
    grades: Tabular | None = None,
    year: int | None = None,
    save_to: PathLike | None = None,
    top: int = 30,
    encoding: str | None = None,
    allow_missing_columns: bool = False,
) -> Explorer:
    """The what-if explorer on validated inputs (an ipywidgets application).

    Parameters
    ----------
    scheme : path, bundled scheme id, or Scheme
    data, units, targets, grades : path, Table or DataFrame
        As for :func:`assesskit.score`; validated once, with every problem reported.
    year : int, optional
        The year explored (default: the latest year of the data inside the scheme's years;
        earlier years remain history for change rules).
    save_to : path, optional
        Where "save variant" writes (default ``<scheme id>_variant.yaml`` in the current folder).
    top : int
        Rows of the league table (and units in the chart) shown at first.
    encoding, allow_missing_columns
        As for :func:`assesskit.score`.

    Returns
    -------
    Explorer
        A widget; its ``design``, ``result`` and ``table`` are the current state.

    Raises
    ------
    SchemeError, DataError
        With every problem in the inputs.
    """
    from ..loading import load_inputs
    from .app import Explorer

    if year is not None and (isinstance(year, bool) or not isinstance(year, numbers.Integral)):
        raise DataError(f"year: the explorer shows one year, a whole number such as 2016; got {year!r}")
    if isinstance(top, bool) or not isinstance(top, numbers.Integral) or top < 1:
        raise DataError(f"top: the rows shown at first, a whole number from 1; got {top!r}")
    if save_to is not None:
        from .design import check_variant_path

        check_variant_path(save_to)
    inp = load_inputs(
        scheme, data, units=units, targets=targets, grades=grades, years=year,
        encoding=encoding, allow_missing_columns=allow_missing_columns,
    )  # fmt: skip
    return Explorer(
        Rescorer(inp.scheme, inp.panel, [explored_year(inp.scheme, inp.panel, year)]),
        save_to=save_to,
        top=int(top),
    )


def explored_year(scheme: Scheme, panel, year: int | None) -> int:
    """``year``, or the latest year of the panel inside the scheme's years."""
    lo, hi = scheme.years
    ys = panel.data["year"]
    inside = ys[(ys >= lo) & (ys <= hi)]
    if year is not None:
        if not (ys == year).any():
            raise DataError(f"year {year}: not in the data (years there: {sorted(set(ys.tolist()))})")
        return int(year)
    if not len(inside):
        raise DataError(f"no year of the data lies inside the scheme's years {lo}–{hi}")
    return int(inside.max())


def __getattr__(name: str):
    if name == "Explorer":
        from .app import Explorer

        return Explorer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    """``assesskit.explore(...)`` works whether ``assesskit.explore`` resolves to this
    package (once imported, Python binds the subpackage there) or to the function."""

    def __call__(self, *args, **kwargs):
        return explore(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "LEAGUE_COLUMNS",
    "Design",
    "Explorer",
    "Rescorer",
    "changed_units",
    "explore",
    "explored_year",
    "league",
]
