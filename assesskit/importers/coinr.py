"""COINr import: a COINr ``iData``/``iMeta`` pair as an assesskit composite scheme and panel.

The importer sits with the other readers of outside formats: it turns COINr's tables into a
scheme dict (validated by :func:`assesskit.scheme.parse_scheme` like any YAML) and a panel
that :func:`assesskit.scoring.score_panel` accepts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError, Problem
from ..kernel.aggregate import AGGREGATES, SEP  # noqa: F401

IMETA_COLUMNS = ("Level", "iCode", "iName", "Direction", "Weight", "Parent", "Type")


def import_coinr(
    idata: pd.DataFrame,
    imeta: pd.DataFrame,
    *,
    scheme_id: str = "coinr_import",
    label: str | None = None,
    normalisation: str = "minmax",
    scale: tuple[float, float] = (0.0, 100.0),
    aggregation: str = "mean",
    year: int | None = None,
    where: tuple[str, str] = ("<iData>", "<iMeta>"),
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Turn COINr-style ``iData``/``iMeta`` tables into a scheme and a panel.

    Parameters
    ----------
    idata : DataFrame
        One row per unit: ``uCode``, optional ``uName`` and ``Time``, one column per
        indicator (and COINr's group and denominator columns, carried along).
    imeta : DataFrame
        COINr's indicator metadata: ``Level``, ``iCode``, ``iName``, ``Direction``,
        ``Weight``, ``Parent``, ``Type`` (``Indicator``, ``Aggregate``, ``Group``,
        ``Denominator``, ``Other``).
    normalisation : str
        The ``normalise`` method of every indicator (default ``minmax``).
    scale : (l, u)
        The min-max target interval (default [0, 100]; use [1, 100] for a geometric mean).
    aggregation : {"mean", "geometric", "harmonic", "sum"}
        The aggregation at every level (default the weighted arithmetic mean).
    year : int, optional
        The year of every row when ``idata`` has no ``Time`` column.

    Returns
    -------
    scheme : dict
        A scheme in the YAML format (see :func:`assesskit.scheme.parse_scheme`).
    data : DataFrame
        ``unit``, ``name``, ``year`` and the indicator columns (groups kept).

    Raises
    ------
    DataError
        Every problem of the two tables at once, naming the table, row and column.
    """
    fi, fm = where
    _check_columns(idata, imeta, aggregation, where)
    from ..numbers import parse_numbers  # one strict reading of numbers: no inf/nan, no decimal commas

    probs: list[Problem] = []
    meta, raw_weight = _read_meta(imeta)
    idata = idata.reset_index(drop=True)
    types = meta["Type"].astype(str)
    for i in np.flatnonzero(~types.isin(["Indicator", "Aggregate", "Group", "Denominator", "Other"])):
        probs.append(Problem(f"{fm}, row {i + 2}, Type", f"'{types[i]}' is not a COINr type"))
    tree = meta[types.isin(["Indicator", "Aggregate"])]
    codes = tree["iCode"].astype(str)
    for c in codes[codes.duplicated()].unique():
        probs.append(Problem(f"{fm}, iCode", f"'{c}' appears twice"))
    probs += _tree_problems(tree, codes, raw_weight, idata, where)
    roots = tree[tree["Parent"].isna()]
    probs += _reach_problems(tree, codes, roots, fm)
    probs += _idata_problems(idata, year, fi)
    probs += _option_problems(normalisation, scale, aggregation)
    dup = idata.duplicated(["uCode", "Time"] if "Time" in idata.columns else ["uCode"])
    for i in np.flatnonzero(dup.to_numpy())[:20]:
        probs.append(Problem(f"{fi}, row {i + 2}", f"unit '{idata['uCode'].iloc[i]}' appears twice"))
    values = _read_indicators(idata, tree, fi, probs)
    if probs:
        raise DataError(f"cannot import {fi} and {fm}:", probs)

    line = _build_line(tree, roots.iloc[0], normalisation, scale, aggregation)
    data = pd.DataFrame(
        {
            "unit": idata["uCode"].astype(str).str.strip(),
            "name": (idata["uName"] if "uName" in idata.columns else idata["uCode"]).astype(str),
            "year": parse_numbers(idata["Time"]).values.astype(int) if "Time" in idata.columns else int(year),
        }
    )
    data = pd.concat([data, values.reset_index(drop=True)], axis=1)
    years = sorted(data["year"].unique().tolist())
    scheme = {
        "id": scheme_id,
        "label": label or str(roots.iloc[0]["iName"]),
        "label_en": label or str(roots.iloc[0]["iName"]),
        "source": f"imported from COINr-style tables {fi} and {fm}",
        "years": [int(years[0]), int(years[-1])],
        "assumptions": [
            f"every indicator normalised by {normalisation}"
            + (f" onto [{scale[0]:g}, {scale[1]:g}]" if normalisation == "minmax" else "")
            + f" among the units of each year; every level aggregated by the weighted {aggregation}",
            "a missing indicator drops out and the other weights of its parent are rescaled (COINr)",
        ],
        "kinds": {"unit": {"label": "unit"}},
        "missing": "zero" if aggregation == "sum" else "drop",
        "floor": None,
        "indicators": {
            str(r["iCode"]): {"label": str(r["iName"])}
            | ({"unit": str(r["Unit"])} if "Unit" in r and pd.notna(r["Unit"]) else {})
            for _i, r in tree[tree["Type"] == "Indicator"].iterrows()
        },
        "lines": [line],
    }
    return scheme, data


def _check_columns(
    idata: pd.DataFrame, imeta: pd.DataFrame, aggregation: str, where: tuple[str, str]
) -> None:
    """Refuse at once tables without the columns every later check reads, or an unknown aggregation."""
    fi, fm = where
    missing_cols = [c for c in IMETA_COLUMNS if c not in imeta.columns]
    if missing_cols:
        raise DataError(
            "cannot import the COINr tables:",
            [Problem(fm, f"missing column(s) {missing_cols}; COINr's iMeta has {list(IMETA_COLUMNS)}")],
        )
    if "uCode" not in idata.columns:
        raise DataError(
            "cannot import the COINr tables:", [Problem(fi, "missing column 'uCode' (the unit code)")]
        )
    if aggregation not in AGGREGATES:
        raise DataError(
            "cannot import the COINr tables:",
            [Problem("aggregation", f"'{aggregation}' is not one of {AGGREGATES}")],
        )


def _read_meta(imeta: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The iMeta with NA parents read as none and numeric columns as numbers; and the weights as written."""
    from ..numbers import parse_numbers

    meta = imeta.reset_index(drop=True).copy()
    # iMeta written by R marks the root's Parent (and an absent Unit) as NA; tables are read
    # as written, so NA is read as "none" here — unless an aggregate is really called NA
    for c in ("Parent", "Unit"):
        if c in meta.columns and not (c == "Parent" and "NA" in set(meta["iCode"].astype(str))):
            meta[c] = meta[c].astype(object).where(meta[c].astype(object) != "NA", None)
    raw_weight = meta["Weight"].copy()
    for c in ("Level", "Direction", "Weight"):  # tables read as text (read_table) become numbers
        meta[c] = parse_numbers(meta[c]).values
    return meta, raw_weight


def _tree_problems(
    tree: pd.DataFrame, codes: pd.Series, raw_weight: pd.Series, idata: pd.DataFrame, where: tuple[str, str]
) -> list[Problem]:
    """The problems of each indicator/aggregate row: direction, weight, parent, data column."""
    fi, fm = where
    probs: list[Problem] = []
    for i, row in tree.iterrows():  # metadata rows: dozens, validated once at the boundary
        at = f"{fm}, row {i + 2} ({row['iCode']})"
        if row["Direction"] not in (1, -1, 1.0, -1.0):
            probs.append(Problem(f"{at}, Direction", f"expected 1 or -1, got {row['Direction']!r}"))
        w = pd.to_numeric(pd.Series([row["Weight"]]), errors="coerce")[0]
        if not (w >= 0):
            probs.append(Problem(f"{at}, Weight", f"expected a weight ≥ 0, got {raw_weight[i]!r}"))
        parent = row["Parent"]
        if pd.notna(parent) and str(parent) not in set(codes[tree["Type"] == "Aggregate"]):
            probs.append(Problem(f"{at}, Parent", f"'{parent}' is not an Aggregate of the iMeta"))
        if row["Type"] == "Indicator" and str(row["iCode"]) not in idata.columns:
            probs.append(Problem(f"{at}", f"indicator '{row['iCode']}' has no column in {fi}"))
    return probs


def _reach_problems(tree: pd.DataFrame, codes: pd.Series, roots: pd.DataFrame, fm: str) -> list[Problem]:
    """Exactly one top aggregate, and every row hangs from it: no cycles, no orphans."""
    probs: list[Problem] = []
    if len(roots) != 1:
        return [
            Problem(fm, f"expected exactly one top aggregate (Parent empty), found {list(roots['iCode'])}")
        ]
    kids_of: dict[str, list[str]] = {}
    for c, par in zip(codes, tree["Parent"], strict=True):
        if pd.notna(par):
            kids_of.setdefault(str(par), []).append(c)
    seen, todo = set(), [str(roots.iloc[0]["iCode"])]
    while todo:
        c = todo.pop()
        if c not in seen:
            seen.add(c)
            todo.extend(kids_of.get(c, []))
    for i, c in zip(tree.index, codes, strict=True):
        if c not in seen:
            probs.append(
                Problem(
                    f"{fm}, row {i + 2} ({c}), Parent",
                    f"'{tree.loc[i, 'Parent']}' does not lead up to the top aggregate "
                    f"'{roots.iloc[0]['iCode']}' (a cycle, or a branch cut off)",
                )
            )
    return probs


def _idata_problems(idata: pd.DataFrame, year: int | None, fi: str) -> list[Problem]:
    """The year and unit-code problems of the iData (at most 20 rows of each)."""
    from ..numbers import parse_numbers

    probs: list[Problem] = []
    if "Time" not in idata.columns and year is None:
        probs.append(Problem(fi, "no 'Time' column: give the year (--year)"))
    ucode = idata["uCode"].astype(object)
    for i in np.flatnonzero((ucode.isna() | (ucode.astype(str).str.strip() == "")).to_numpy())[:20]:
        probs.append(Problem(f"{fi}, row {i + 2}, column 'uCode'", "the unit code is empty"))
    if "Time" in idata.columns:
        t = parse_numbers(idata["Time"]).values
        for i in np.flatnonzero((t.isna() | (t % 1 != 0)).to_numpy())[:20]:
            probs.append(
                Problem(f"{fi}, row {i + 2}, Time", f"expected a whole year, got {idata['Time'].iloc[i]!r}")
            )
    return probs


def _option_problems(normalisation: str, scale: tuple[float, float], aggregation: str) -> list[Problem]:
    """A geometric or harmonic mean needs positive scores: min-max onto a positive interval."""
    probs: list[Problem] = []
    if aggregation in ("geometric", "harmonic") and normalisation == "minmax" and scale[0] <= 0:
        probs.append(
            Problem(
                "scale",
                f"a {aggregation} mean needs positive scores, but min-max onto [{scale[0]:g}, {scale[1]:g}] "
                "gives the lowest unit 0; use --scale 1 100",
            )
        )
    if aggregation in ("geometric", "harmonic") and normalisation != "minmax":
        probs.append(
            Problem("normalise", f"a {aggregation} mean needs positive scores; use --normalise minmax")
        )
    return probs


def _read_indicators(idata: pd.DataFrame, tree: pd.DataFrame, fi: str, probs: list[Problem]) -> pd.DataFrame:
    """The indicator columns as numbers; each unreadable cell is added to ``probs`` (up to 50 in all)."""
    from ..numbers import parse_numbers

    ind_codes = [str(c) for c in tree.loc[tree["Type"] == "Indicator", "iCode"] if str(c) in idata.columns]
    parsed = {c: parse_numbers(idata[c]) for c in ind_codes}
    values = pd.DataFrame({c: n.values for c, n in parsed.items()}, index=idata.index, columns=ind_codes)
    errors = pd.DataFrame({c: n.errors for c, n in parsed.items()}, index=idata.index, columns=ind_codes)
    for r, c in zip(*np.nonzero((errors != "").to_numpy()), strict=True):
        if len(probs) < 50:
            probs.append(Problem(f"{fi}, row {r + 2}, column '{ind_codes[c]}'", errors.iat[r, c]))
    return values


def _build_line(
    tree: pd.DataFrame, root: pd.Series, normalisation: str, scale: tuple[float, float], aggregation: str
) -> dict[str, Any]:
    """The scheme line: the iMeta tree from ``root`` as nested items, indicators as normalise rules."""
    bounded = normalisation in ("minmax", "goalposts", "percentile")
    top = {"minmax": scale[1], "percentile": 1.0}.get(normalisation)
    children: dict[str, list[pd.Series]] = {}
    for _i, row in tree.iterrows():
        if pd.notna(row["Parent"]):
            children.setdefault(str(row["Parent"]), []).append(row)

    def node(row: pd.Series) -> dict[str, Any]:
        code = str(row["iCode"])
        out: dict[str, Any] = {"id": code, "label": str(row["iName"]), "label_en": str(row["iName"])}
        out["weight"] = float(row["Weight"])
        if row["Type"] == "Indicator":
            rule: dict[str, Any] = {"type": "normalise", "indicator": code, "method": normalisation}
            if int(row["Direction"]) == -1:
                rule["direction"] = -1
            if normalisation == "minmax":
                rule["scale"] = [float(scale[0]), float(scale[1])]
            out["rule"] = rule
            if bounded and top is not None:
                out["points"] = float(top)
            return out
        kids = [node(c) for c in children.get(code, [])]
        out["aggregate"] = aggregation
        out["items"] = kids
        if aggregation == "sum":
            out["points"] = float(sum(k.get("points", 0.0) for k in kids))
        elif bounded and top is not None:
            out["points"] = float(top)  # a weighted mean of scores ≤ top is ≤ top
        return out

    line = node(root)
    line["unit_kind"] = "unit"
    line.pop("weight")
    return line
