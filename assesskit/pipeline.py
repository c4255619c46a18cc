"""The one load → validate → score sequence over files, for the CLI, the report runner,
the report pages and the sensitivity command.

>>> from assesskit.pipeline import score_files, write_score_outputs
>>> scored = score_files("district_1000", "towns.csv", units="units.csv", years=[2012])  # doctest: +SKIP
>>> write_score_outputs(scored, "results/2012")                                          # doctest: +SKIP

:func:`load_inputs` reads and validates (scheme, panel, tables with their paths, hashes
and encodings); :func:`score_inputs` scores them and builds the run record that becomes
``run.json``; :func:`score_files` does both; :func:`write_score_outputs` writes the output
set as one unit (the folder is swapped, see :func:`assesskit._io.replace_folder`) in
the formats asked for; :func:`import_excel_file` and :func:`export_scheme_file` carry
schemes between YAML and Excel workbooks (:mod:`assesskit.excel`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ._io import check_replaceable, replace_folder, sha256
from ._version import __version__
from .data import Table, read_table
from .exceptions import OutputError
from .loading import ROLES, Inputs, load_inputs, read_tables, resolve_scheme  # noqa: F401 (re-exported)
from .scheme import Scheme, load_scheme
from .scoring import ScoreResult, score_panel

PathLike = str | os.PathLike

SCORE_FILES = ("summary.csv", "items.csv", "lines.csv", "run.json")
"""The files ``assesskit score`` writes by default (``--format csv``)."""

SCORE_OUTPUTS = frozenset(SCORE_FILES + ("summary.parquet", "items.parquet", "lines.parquet", "results.xlsx"))
"""Every file ``assesskit score`` may write (by ``--format``): the whole content its output folder may hold."""


@dataclass(frozen=True)
class Scored:
    """A scored run: its inputs, the result, and the run record (``run.json``)."""

    inputs: Inputs
    result: ScoreResult
    run: dict


def score_inputs(inputs: Inputs) -> Scored:
    """Score validated inputs and build the run record (``run.json``)."""

    res = score_panel(inputs.scheme, inputs.panel, years=list(inputs.years) if inputs.years else None)
    run = {
        "assesskit": __version__,
        **inputs.provenance(),
        "years": sorted(int(y) for y in res.summary["year"].unique()),
        "warnings": [str(w) for w in res.warnings],
    }
    return Scored(inputs=inputs, result=res, run=run)


def score(
    scheme: PathLike | Scheme,
    data: PathLike | Table | pd.DataFrame,
    *,
    units: PathLike | Table | pd.DataFrame | None = None,
    targets: PathLike | Table | pd.DataFrame | None = None,
    grades: PathLike | Table | pd.DataFrame | None = None,
    year: int | list[int] | None = None,
    allow_missing_columns: bool = False,
) -> ScoreResult:
    """Validate the inputs and score them with ``scheme`` (``assesskit.score``).

    Parameters
    ----------
    scheme : Scheme, path or bundled scheme id
        From :func:`assesskit.load_scheme`, or where to load it from.
    data : path, Table or DataFrame
        The panel (one row per unit and year).
    units, targets, grades : path, Table or DataFrame, optional
        Unit registry, per-unit-year targets, inspector grades (see
        :func:`assesskit.data.read_panel`).
    year : int or list of int, optional
        Year(s) to score; default every year inside the scheme's years.
    allow_missing_columns : bool
        Score items whose columns are absent as missing instead of stopping.

    Returns
    -------
    ScoreResult
        ``.summary`` (one row per unit-year), ``.items`` (with reasons), ``.lines``.

    Raises
    ------
    SchemeError, DataError
        With every problem in the inputs.
    """
    return score_files(
        scheme,
        data,
        units=units,
        targets=targets,
        grades=grades,
        years=year,
        allow_missing_columns=allow_missing_columns,
    ).result


def score_files(
    scheme: PathLike | Scheme,
    data: PathLike | Table | pd.DataFrame,
    *,
    units: PathLike | Table | pd.DataFrame | None = None,
    targets: PathLike | Table | pd.DataFrame | None = None,
    grades: PathLike | Table | pd.DataFrame | None = None,
    years: int | list[int] | tuple[int, ...] | None = None,
    encoding: str | None = None,
    allow_missing_columns: bool = False,
) -> Scored:
    """:func:`load_inputs` then :func:`score_inputs` (same parameters)."""
    return score_inputs(
        load_inputs(
            scheme,
            data,
            units=units,
            targets=targets,
            grades=grades,
            years=years,
            encoding=encoding,
            allow_missing_columns=allow_missing_columns,
        )
    )


def check_score_out(out_dir: PathLike) -> Path:
    """Refuse, before any work, an ``--out`` that is a file or holds files of something else."""
    return check_replaceable(out_dir, SCORE_OUTPUTS)


def write_score_outputs(
    scored: Scored,
    out_dir: PathLike,
    formats: Sequence[str] = ("csv",),
    *,
    lang: str = "zh",
    chunk: int | None = None,
) -> list[Path]:
    """Write the scored run in ``formats`` and ``run.json``, as one unit.

    ``csv``: ``summary.csv``, ``items.csv``, ``lines.csv``; ``parquet``: the same three
    tables as ``.parquet`` (categoricals for unit, item, status …; ``items.parquet`` holds
    each reason as a template and its values, see :mod:`assesskit.reasons`); ``xlsx``:
    ``results.xlsx`` (league tables per kind, items, the run; headers in ``lang``). See
    :mod:`assesskit.writers`. The item tables are written in chunks of ``chunk``
    unit-years (default: about 250,000 rows a chunk), so memory stays bounded however
    many rows are written. The folder ``out_dir`` is replaced as a whole (see
    :func:`assesskit._io.replace_folder`): a reader sees the earlier set or the new one,
    never a mix, and a failure leaves the earlier set intact.

    Raises
    ------
    OutputError
        When ``out_dir`` holds other files, a table is too long for an Excel sheet, or
        writing fails (naming the path). Nothing is written then.
    """
    from .writers import score_output_files

    check_score_out(out_dir)
    files = score_output_files(scored.result, scored.run, formats, lang=lang, chunk=chunk)
    return replace_folder(out_dir, files)


def import_coinr_files(
    idata: PathLike,
    imeta: PathLike,
    *,
    scheme_id: str | None = None,
    normalisation: str = "minmax",
    scale: tuple[float, float] = (0.0, 100.0),
    aggregation: str = "mean",
    year: int | None = None,
    encoding: str | None = None,
) -> tuple[str, dict[str, object]]:
    """Read COINr iData/iMeta files and build ``<id>.yaml`` and ``data.csv`` (not written).

    Returns
    -------
    (scheme id, {file name: content})
        For :func:`assesskit._io.write_outputs`. The scheme is checked to load.
    """
    import yaml

    from .importers.coinr import import_coinr
    from .scheme import parse_scheme

    ti, tm = read_table(idata, encoding=encoding), read_table(imeta, encoding=encoding)
    sid = scheme_id or Path(idata).stem.lower().replace("_idata", "").replace("-", "_") or "coinr_import"
    raw, data = import_coinr(
        ti.frame,
        tm.frame,
        scheme_id=sid,
        normalisation=normalisation,
        scale=tuple(scale),
        aggregation=aggregation,
        year=year,
        where=(ti.path, tm.path),
    )
    parse_scheme(raw, where=f"{sid}.yaml")  # the scheme written must load
    text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
    return sid, {f"{sid}.yaml": text, "data.csv": data}


def import_excel_file(path: PathLike) -> tuple[Scheme, dict[str, str], list[str]]:
    """Read a scheme workbook and build ``<id>.yaml`` (not written; see :mod:`assesskit.excel`).

    Returns
    -------
    (scheme, {file name: YAML text}, ids of the items graded for want of a rule)

    Raises
    ------
    SchemeError
        Every problem, each with its sheet, row and column.
    """
    from .excel import import_excel_files

    return import_excel_files(path)


def export_scheme_file(scheme: PathLike | Scheme, out: PathLike) -> Path:
    """Write a scheme (file, bundled id or :class:`Scheme`) as a workbook at ``out``, atomically."""
    from ._io import write_outputs
    from .excel import scheme_to_workbook

    s = scheme if isinstance(scheme, Scheme) else load_scheme(resolve_scheme(scheme))
    target = Path(out)
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; give the path of an .xlsx file")
    if target.suffix.lower() != ".xlsx":
        raise OutputError(f"{target}: the workbook's name must end in .xlsx")
    return write_outputs(target.parent, {target.name: scheme_to_workbook(s)})[0]


SENSITIVITY_FILES = ("ranks.csv", "sobol.csv", "loo.csv", "draws.csv")


def analyse_files(
    scheme: PathLike,
    data: PathLike | Table | pd.DataFrame,
    *,
    year: int,
    spec: PathLike,
    units: PathLike | Table | pd.DataFrame | None = None,
    targets: PathLike | Table | pd.DataFrame | None = None,
    grades: PathLike | Table | pd.DataFrame | None = None,
    draws: int | None = None,
    seed: int | None = None,
    sobol_n: int | None = None,
    encoding: str | None = None,
    allow_missing_columns: bool = False,
    progress=None,
):
    """Load, validate and score the inputs once, then run a sensitivity analysis of one year.

    Parameters
    ----------
    scheme, data, units, targets, grades, encoding, allow_missing_columns
        As for :func:`load_inputs`.
    year : int
        The year whose ranking is examined.
    spec : path or name
        A sensitivity spec file, or the name of one in ``params/sensitivity/``.
    draws, seed, sobol_n : int, optional
        Override the spec's settings.
    progress : callable, optional
        ``progress(stage, total)`` returning ``update(done, total)`` (see
        :func:`assesskit.sensitivity.analyse`).

    Returns
    -------
    (Analysis, dict)
        The analysis (:class:`assesskit.sensitivity.Analysis`) and its manifest
        (``manifest.json``: scheme, spec and inputs with their SHA-256, settings, versions,
        warnings).
    """
    import importlib.metadata as md

    from . import sensitivity as sa

    spec_file = Path(spec)
    if not spec_file.exists() and spec_file.suffix not in (".yaml", ".yml"):
        spec_file = sa.spec.specs_dir() / f"{spec}.yaml"
    # the spec is checked against the scheme before any data is read: a wrong spec costs nothing
    model = sa.load_spec(spec_file, load_scheme(resolve_scheme(scheme)))
    inputs = load_inputs(
        scheme,
        data,
        units=units,
        targets=targets,
        grades=grades,
        years=[year],
        encoding=encoding,
        allow_missing_columns=allow_missing_columns,
    )
    base = sa.baseline(inputs.scheme, inputs.panel, year=year)
    res = sa.analyse(base, model, draws=draws, seed=seed, sobol_n=sobol_n, progress=progress)
    versions = {}
    for pkg in ("numpy", "pandas", "scipy", "SALib", "pydantic"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover
            versions[pkg] = None
    prov = inputs.provenance()
    manifest = {
        "assesskit": __version__,
        "command": "sensitivity",
        "scheme": prov["scheme"],
        "spec": {"id": model.id, "path": str(spec_file), "sha256": sha256(spec_file)},
        "inputs": prov["inputs"],
        "year": year,
        "draws": res.draws,
        "seed": res.seed,
        "top_k": res.simulation.top_k,
        "factors": list(res.simulation.factors),
        "sobol": {"n": res.sobol_n, "evaluations": res.sobol_evaluations},
        "files": list(SENSITIVITY_FILES),
        "versions": versions,
        "warnings": [str(w) for w in inputs.panel.warnings],
    }
    return res, manifest
