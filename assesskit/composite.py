"""Composite indices: normalisation and aggregation kernels, the COINr import, and analyses.

A composite-index scheme is an ordinary scheme whose items use the ``normalise`` rule and
whose sections aggregate by a weighted mean (``aggregate: mean | geometric | harmonic``);
the scoring engine (:mod:`assesskit.scoring`) scores it like any other scheme, with these
kernels. The semantics follow the OECD/JRC Handbook on Constructing Composite Indicators
(2008) and its reference implementation, the JRC's COINr:

- the indicator's direction is applied first (values × −1), then the normaliser runs over
  the unit's peers (the units of the same kind in the same year);
- weights are relative within a parent; a child missing for a unit drops out and the
  remaining weights are rescaled (COINr's ``a_amean``/``a_gmean``/``a_hmean``);
- ranks are competition ranks, ties sharing the best rank (R's ``rank(-x, ties = "min")``).

The analyses — :func:`leave_one_out`, :func:`uncertainty`, :func:`effective_weights`,
:func:`cronbach_alpha` — re-aggregate the normalised scores of a
:class:`~assesskit.scoring.ScoreResult` for many weight sets at once: draws × units ×
children arrays through the same :func:`aggregate` kernel the engine uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from .exceptions import DataError, Problem
from .scheme import SEP, Item, NormaliseRule, Section

if TYPE_CHECKING:
    from .scheme import Scheme
    from .scoring import ScoreResult

AGGREGATES = ("sum", "mean", "geometric", "harmonic")


# --------------------------------------------------------------------------- kernels
def _group_stat(x: np.ndarray, group: np.ndarray, how: str) -> np.ndarray:
    """A per-group statistic of ``x`` (NaN skipped) broadcast back to every row."""
    return pd.Series(x).groupby(group).transform(how).to_numpy(dtype=float)


def normalise(value: np.ndarray, group: np.ndarray, rule: NormaliseRule) -> np.ndarray:
    """Normalise ``value`` within each peer group (COINr's ``n_*`` functions, vectorised).

    Parameters
    ----------
    value : ndarray of float
        The indicator's values, NaN where missing.
    group : ndarray of int
        Peer-group code of each row (the engine uses year × kind of unit).
    rule : NormaliseRule

    Returns
    -------
    ndarray of float
        The scores; NaN where the value is missing, and for a whole group whose range is 0
        under min-max, goalposts-free distance or z-score (COINr returns NaN there too).
    """
    x = np.asarray(value, dtype=float) * rule.direction
    m = rule.method
    if m == "minmax":
        lo, hi = _group_stat(x, group, "min"), _group_stat(x, group, "max")
        span = np.where(hi > lo, hi - lo, np.nan)
        return (x - lo) / span * (rule.scale[1] - rule.scale[0]) + rule.scale[0]
    if m == "zscore":
        mean, sd = _group_stat(x, group, "mean"), _group_stat(x, group, "std")  # sd with n − 1, as R
        sd = np.where(sd > 0, sd, np.nan)
        return (x - mean) / sd * rule.mean_sd[1] + rule.mean_sd[0]
    if m == "goalposts":
        lo, hi, a = rule.goalposts
        if rule.direction == -1:  # the posts flip with the values (COINr n_goalposts)
            y = (x + hi) / (hi - lo)
        else:
            y = (x - lo) / (hi - lo)
        return np.clip(y, 0.0, 1.0) * a
    if m in ("rank", "percentile"):
        r = pd.Series(x).groupby(group).rank(method="min").to_numpy(dtype=float)  # NaN stays NaN
        if m == "rank":
            return r
        n = pd.Series(~np.isnan(x)).groupby(group).transform("sum").to_numpy(dtype=float)
        return (r - 1) / np.where(n > 1, n - 1, np.nan)
    # distance to target: 1 − (target − x)/(target − min x), target in the indicator's units
    t = rule.target * rule.direction
    lo = _group_stat(x, group, "min")
    y = 1 - (t - x) / np.where(t != lo, t - lo, np.nan)
    return np.minimum(y, 1.0) if rule.cap else y


def aggregate(values: np.ndarray, weights: np.ndarray, method: str) -> np.ndarray:
    """Aggregate children along the last axis with relative weights; NaN children drop out.

    Parameters
    ----------
    values : ndarray (..., children)
        Children's scores; NaN where missing for that unit.
    weights : ndarray broadcastable to ``values``
        Relative weights (≥ 0). For ``sum`` they are ignored: points are absolute.
    method : {"sum", "mean", "geometric", "harmonic"}
        ``mean``: Σ w x / Σ w; ``geometric``: exp(Σ w log x / Σ w), needs x > 0;
        ``harmonic``: Σ w / Σ (w / x), needs x ≠ 0 — each over the children present.

    Returns
    -------
    ndarray (...)
        NaN where no child is present (or every present child has weight 0).
    """
    ok = ~np.isnan(values)
    if method == "sum":
        out = np.where(ok, values, 0.0).sum(axis=-1)
        return np.where(ok.any(axis=-1), out, np.nan)
    w = np.where(ok, weights, 0.0)
    wsum = w.sum(axis=-1)
    safe = np.where(ok, values, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "mean":
            num = (w * np.where(ok, values, 0.0)).sum(axis=-1)
            out = num / wsum
        elif method == "geometric":
            out = np.exp((w * np.log(safe)).sum(axis=-1) / wsum)
        elif method == "harmonic":
            out = wsum / (w / safe).sum(axis=-1)
        else:
            raise ValueError(f"unknown aggregation '{method}'; expected one of {AGGREGATES}")
    return np.where(wsum > 0, out, np.nan)


def check_aggregable(values: np.ndarray, method: str, where: str, units: Sequence[str]) -> None:
    """Refuse values a geometric (≤ 0) or harmonic (0) mean cannot take, naming the units."""
    if method == "geometric":
        bad = (values <= 0) & ~np.isnan(values)
        need = "positive scores (normalise onto e.g. [1, 100])"
    elif method == "harmonic":
        bad = (values == 0) & ~np.isnan(values)
        need = "non-zero scores (normalise onto e.g. [1, 100])"
    else:
        return
    if bad.any():
        per_unit = bad.any(axis=-1) if bad.ndim > 1 else bad
        while per_unit.ndim > 1:  # draws × units → units
            per_unit = per_unit.any(axis=0)
        rows = np.flatnonzero(per_unit)
        names = ", ".join(str(units[i]) for i in rows[:10])
        raise DataError(
            f"cannot aggregate {where}:",
            [Problem(where, f"a {method} mean needs {need}; units with a score ≤ 0 or 0: {names}")],
        )


# --------------------------------------------------------------------------- the tree as arrays
@dataclass(frozen=True)
class _Node:
    id: str
    path: str
    depth: int  # 0 = the line
    level: int  # COINr's level: 1 = indicators, the line highest
    aggregate: str
    weight: float
    children: tuple[int, ...]  # indices into the node list
    item: int  # index into the scheme's flat items, −1 for sections


def tree_nodes(line: Section, item_index: dict[str, int]) -> list[_Node]:
    """Nodes of one line, children before parents (so a single pass aggregates)."""
    out: list[_Node] = []

    def visit(node, path: tuple[str, ...], depth: int) -> tuple[int, int]:
        here = path + (node.id,)
        if isinstance(node, Item):
            out.append(_Node(node.id, SEP.join(here), depth, 1, "", node.weight, (), item_index[node.id]))
            return len(out) - 1, 1
        kids = [visit(c, here, depth + 1) for c in node.items]
        level = 1 + max(lv for _i, lv in kids)
        out.append(
            _Node(
                node.id,
                SEP.join(here),
                depth,
                level,
                node.aggregate,
                node.weight,
                tuple(i for i, _lv in kids),
                -1,
            )
        )
        return len(out) - 1, level

    visit(line, (), 0)
    return out


def aggregate_tree(
    nodes: list[_Node],
    item_scores: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    methods: dict[str, str] | None = None,
    units: Sequence[str] = (),
) -> np.ndarray:
    """Scores of every node, from the items up, for one or many weight sets at once.

    Parameters
    ----------
    nodes : list
        From :func:`tree_nodes` (children before parents).
    item_scores : ndarray (units, flat items)
        The items' scores (NaN = missing, drops out of means).
    weights : ndarray (draws, nodes), optional
        One weight per node and draw; default the scheme's weights (one draw).
    methods : dict, optional
        Aggregation per node id overriding the scheme's (e.g. every mean → geometric).

    Returns
    -------
    ndarray (draws, units, nodes)
    """
    n_units = item_scores.shape[0]
    if weights is None:
        weights = np.array([[nd.weight for nd in nodes]])
    d = weights.shape[0]
    out = np.full((d, n_units, len(nodes)), np.nan)
    for i, nd in enumerate(nodes):
        if nd.item >= 0:
            out[:, :, i] = item_scores[:, nd.item]
            continue
        kids = list(nd.children)
        method = (methods or {}).get(nd.id, nd.aggregate)
        vals = out[:, :, kids]  # draws × units × children
        check_aggregable(vals, method, nd.path, units)
        out[:, :, i] = aggregate(vals, weights[:, None, kids], method)
    return out


def _need_weighted(nodes: list[_Node], what: str, instead: str) -> None:
    """These analyses vary weights; a node that adds up points has none to vary."""
    summed = [nd.path for nd in nodes if nd.item < 0 and nd.aggregate == "sum"]
    if summed:
        raise ValueError(
            f"{what} varies weights of weighted means, but {', '.join(summed[:3])} add up points "
            f"(aggregate: sum); for point schemes use {instead}"
        )


def competition_ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks along the last axis, highest first, ties sharing the best rank; NaN unranked."""
    return rankdata(-scores, method="min", axis=-1, nan_policy="omit")


# --------------------------------------------------------------------------- COINr import
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
    probs: list[Problem] = []
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
    from .numbers import parse_numbers  # one strict reading of numbers: no inf/nan, no decimal commas

    meta = imeta.reset_index(drop=True).copy()
    idata = idata.reset_index(drop=True)
    raw_weight = meta["Weight"].copy()
    for c in ("Level", "Direction", "Weight"):  # tables read as text (read_table) become numbers
        meta[c] = parse_numbers(meta[c]).values
    types = meta["Type"].astype(str)
    for i in np.flatnonzero(~types.isin(["Indicator", "Aggregate", "Group", "Denominator", "Other"])):
        probs.append(Problem(f"{fm}, row {i + 2}, Type", f"'{types[i]}' is not a COINr type"))
    tree = meta[types.isin(["Indicator", "Aggregate"])]
    codes = tree["iCode"].astype(str)
    for c in codes[codes.duplicated()].unique():
        probs.append(Problem(f"{fm}, iCode", f"'{c}' appears twice"))
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
    roots = tree[tree["Parent"].isna()]
    if len(roots) == 1:  # every row must hang from the one root: no cycles, no orphans
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
    if len(roots) != 1:
        probs.append(
            Problem(fm, f"expected exactly one top aggregate (Parent empty), found {list(roots['iCode'])}")
        )
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
    dup = idata.duplicated(["uCode", "Time"] if "Time" in idata.columns else ["uCode"])
    for i in np.flatnonzero(dup.to_numpy())[:20]:
        probs.append(Problem(f"{fi}, row {i + 2}", f"unit '{idata['uCode'].iloc[i]}' appears twice"))
    ind_codes = [str(c) for c in tree.loc[tree["Type"] == "Indicator", "iCode"] if str(c) in idata.columns]
    parsed = {c: parse_numbers(idata[c]) for c in ind_codes}
    values = pd.DataFrame({c: n.values for c, n in parsed.items()}, index=idata.index, columns=ind_codes)
    errors = pd.DataFrame({c: n.errors for c, n in parsed.items()}, index=idata.index, columns=ind_codes)
    for r, c in zip(*np.nonzero((errors != "").to_numpy()), strict=True):
        if len(probs) < 50:
            probs.append(Problem(f"{fi}, row {r + 2}, column '{ind_codes[c]}'", errors.iat[r, c]))
    if probs:
        raise DataError(f"cannot import {fi} and {fm}:", probs)

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

    line = node(roots.iloc[0])
    line["unit_kind"] = "unit"
    line.pop("weight")
    data = pd.DataFrame(
        {
            "unit": idata["uCode"].astype(str).str.strip(),
            "name": (idata["uName"] if "uName" in idata.columns else idata["uCode"]).astype(str),
            "year": parse_numbers(idata["Time"]).values.astype(int) if "Time" in idata.columns else int(year),
        }
    )
    data = pd.concat([data, values.reset_index(drop=True)], axis=1)
    ind = tree[tree["Type"] == "Indicator"]
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
            for _i, r in ind.iterrows()
        },
        "lines": [line],
    }
    return scheme, data


# --------------------------------------------------------------------------- analyses
def _line(res: ScoreResult, line: str | None) -> Section:
    lines = res.scheme.lines
    if line is None:
        if len(lines) != 1:
            raise ValueError(f"the scheme has {len(lines)} lines; name one: {[ln.id for ln in lines]}")
        return lines[0]
    return next(ln for ln in lines if ln.id == line)


def _peer_groups(res: ScoreResult, ln: Section) -> tuple[np.ndarray, pd.DataFrame]:
    """Internal rows of the line's kind and their (year) groups."""
    rows = res._rows
    sel = np.flatnonzero((rows["kind"] == ln.unit_kind).to_numpy())
    return sel, rows.iloc[sel].reset_index(drop=True)


def _item_scores(res: ScoreResult, sel: np.ndarray) -> np.ndarray:
    pts = np.where(res._applies, res._points, np.nan)
    return pts[:, sel].T  # rows × flat items


def node_scores(res: ScoreResult, *, line: str | None = None) -> pd.DataFrame:
    """Every node's score (items, sections, the line) per unit-year: COINr's "Aggregated" set.

    Columns: ``unit``, ``name``, ``year``, then one column per node id (children before
    parents), the line's last.
    """
    ln = _line(res, line)
    sel, rows = _peer_groups(res, ln)
    index = {it.id: j for j, (_p, it) in enumerate(res.scheme.flat_items)}
    nodes = tree_nodes(ln, index)
    out = aggregate_tree(nodes, _item_scores(res, sel), units=rows["unit"].to_numpy())[0]
    return pd.concat(
        [rows[["unit", "name", "year"]], pd.DataFrame(out, columns=[nd.id for nd in nodes])], axis=1
    )


def _ranks_by_year(scores: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Competition ranks of (draws × units) scores within each year."""
    out = np.full(scores.shape, np.nan)
    for y in np.unique(year):  # a handful of years; everything inside is vectorised
        m = year == y
        out[:, m] = competition_ranks(scores[:, m])
    return out


@dataclass(frozen=True)
class LeaveOneOut:
    """Ranks with each node of one level removed (weight 0) in turn.

    Attributes
    ----------
    summary : DataFrame
        One row per removed node: ``removed``, ``label``, ``level``, ``mean_abs_rank_change``
        (over the units ranked both ways, per year then averaged), ``max_abs_rank_change``.
    ranks : DataFrame
        Long: ``removed``, ``unit``, ``year``, ``score``, ``rank``, ``nominal_rank``, ``rank_change``.
    """

    summary: pd.DataFrame
    ranks: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.summary


def leave_one_out(res: ScoreResult, level: int, *, line: str | None = None) -> LeaveOneOut:
    """Remove each node of ``level`` in turn (weight 0) and re-rank: COINr's ``remove_elements``.

    Parameters
    ----------
    res : ScoreResult
        A composite (or point) scheme's scores.
    level : int
        COINr's level: 1 = indicators, 2 = the groups above them, …, the line highest.
    """
    ln = _line(res, line)
    sel, rows = _peer_groups(res, ln)
    index = {it.id: j for j, (_p, it) in enumerate(res.scheme.flat_items)}
    nodes = tree_nodes(ln, index)
    _need_weighted(nodes, "leave_one_out", "assesskit.sensitivity.leave_one_out")
    at = [i for i, nd in enumerate(nodes) if nd.level == level and i != len(nodes) - 1]
    if not at:
        raise ValueError(f"no node at level {level}; levels run from 1 to {nodes[-1].level - 1}")
    w0 = np.array([nd.weight for nd in nodes])
    w = np.repeat(w0[None, :], len(at) + 1, axis=0)  # draw 0: nominal
    w[np.arange(1, len(at) + 1), at] = 0.0
    units = rows["unit"].to_numpy()
    top = aggregate_tree(nodes, _item_scores(res, sel), w, units=units)[:, :, -1]
    year = rows["year"].to_numpy()
    ranks = _ranks_by_year(top, year)
    change = ranks[1:] - ranks[0]
    removed = np.repeat([nodes[i].id for i in at], len(rows))
    long = pd.DataFrame(
        {
            "removed": removed,
            "unit": np.tile(units, len(at)),
            "year": np.tile(year, len(at)),
            "score": top[1:].ravel(),
            "rank": ranks[1:].ravel(),
            "nominal_rank": np.tile(ranks[0], len(at)),
            "rank_change": change.ravel(),
        }
    )
    per_year = long.assign(a=long["rank_change"].abs()).groupby(["removed", "year"], sort=False)["a"]
    summary = (
        per_year.mean()
        .groupby(level=0, sort=False)
        .mean()
        .rename("mean_abs_rank_change")
        .to_frame()
        .join(per_year.max().groupby(level=0, sort=False).max().rename("max_abs_rank_change"))
        .reset_index()
    )
    labels = {nd.id: res.scheme.nodes[nd.id].label for nd in nodes}
    summary.insert(1, "label", summary["removed"].map(labels))
    summary.insert(2, "level", level)
    return LeaveOneOut(summary=summary, ranks=long)


def effective_weights(res: ScoreResult, *, line: str | None = None) -> pd.DataFrame:
    """Each indicator's nominal and effective weight in the line's index.

    ``effective_weight`` is the product of the relative weights from the item up to the line
    (COINr's ``get_eff_weights``: the indicator's share of an arithmetic index when no value
    is missing); ``variance_share`` = effective_weight · cov(score, index) / var(index) per
    year — the indicator's share of the index's variance; over the items these add up to 1
    for a complete arithmetic index. NaN for a year with fewer than 3 units or no variance.
    Columns: ``year``, ``item``, ``label``, ``path``, ``weight``, ``effective_weight``,
    ``variance_share``.
    """
    ln = _line(res, line)
    sel, rows = _peer_groups(res, ln)
    index = {it.id: j for j, (_p, it) in enumerate(res.scheme.flat_items)}
    nodes = tree_nodes(ln, index)
    parent = {c: i for i, nd in enumerate(nodes) for c in nd.children}
    share = np.ones(len(nodes))
    for i in range(len(nodes) - 2, -1, -1):  # parents come after children
        p = parent[i]
        siblings = [nodes[c].weight for c in nodes[p].children]
        rel = nodes[i].weight / sum(siblings) if sum(siblings) > 0 else np.nan
        share[i] = share[p] * (rel if nodes[p].aggregate != "sum" else 1.0)
    scores = aggregate_tree(nodes, _item_scores(res, sel), units=rows["unit"].to_numpy())[0]
    leaves = [i for i, nd in enumerate(nodes) if nd.item >= 0]
    frames = []
    for y, g in rows.groupby("year", sort=True):  # a few years; the items are one array op
        x = scores[g.index]
        x = x[~np.isnan(x[:, -1])]  # units with an index
        v = np.var(x[:, -1], ddof=1) if len(x) >= 3 else np.nan
        # cov(item, index) over the units that have both (pairwise complete, as pandas)
        cov = pd.DataFrame(x[:, leaves + [len(nodes) - 1]]).cov(min_periods=3).to_numpy()[:-1, -1]
        frames.append(
            pd.DataFrame(
                {
                    "year": y,
                    "item": [nodes[i].id for i in leaves],
                    "path": [nodes[i].path for i in leaves],
                    "weight": [nodes[i].weight for i in leaves],
                    "effective_weight": share[leaves],
                    "variance_share": share[leaves] * cov / v if v > 0 else np.nan,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    df.insert(2, "label", df["item"].map(lambda k: res.scheme.nodes[k].label))
    return df


def cronbach_alpha(res: ScoreResult, node: str, *, line: str | None = None) -> pd.DataFrame:
    """Cronbach's α of the children of ``node`` (their scores across units), per year.

    Complete cases only (listwise), as :func:`assesskit.stats.diagnostics.cronbach_alpha`.
    Columns: ``year``, ``node``, ``n_children``, ``n_units``, ``alpha``.
    """
    from .stats.diagnostics import cronbach_alpha as alpha

    table = node_scores(res, line=line)
    target = res.scheme.nodes[node]
    if not isinstance(target, Section):
        raise ValueError(f"'{node}' is an item; α needs a group of indicators")
    kids = [c.id for c in target.items]
    rows = []
    for y, g in table.groupby("year", sort=True):
        x = g[kids].to_numpy(dtype=float)
        rows.append((y, node, len(kids), int((~np.isnan(x).any(axis=1)).sum()), alpha(x)))
    return pd.DataFrame(rows, columns=["year", "node", "n_children", "n_units", "alpha"])


@dataclass(frozen=True)
class Uncertainty:
    """Ranks of a composite index under noisy weights and alternative aggregations.

    Attributes
    ----------
    ranks : DataFrame
        One row per unit-year: ``unit``, ``name``, ``year``, ``nominal_score``,
        ``nominal_rank``, ``mean_rank``, ``median_rank``, ``rank_q05``, ``rank_q95`` (R's
        default quantiles, as COINr's ``get_sensitivity``).
    draws : int
    seed : int
    alternatives : tuple
        The (aggregation, min-max scale) alternatives drawn from, equally likely.
    """

    ranks: pd.DataFrame
    draws: int
    seed: int
    alternatives: tuple

    def to_frame(self) -> pd.DataFrame:
        return self.ranks


def uncertainty(
    res: ScoreResult,
    *,
    weight_noise: dict[int, float] | None = None,
    alternatives: Sequence[tuple[str, tuple[float, float] | None]] = (("mean", None),),
    draws: int = 1000,
    seed: int = 0,
    chunk: int = 2000,
    line: str | None = None,
) -> Uncertainty:
    """Uncertainty analysis of a composite index, vectorised over draws.

    Each draw perturbs the weights of the nodes at the levels of ``weight_noise`` uniformly
    within ±factor of their nominal value (COINr's ``get_noisy_weights``) and picks one of
    ``alternatives`` with equal probability: an aggregation for every level and, for
    min-max items, the scale to normalise onto (``None`` keeps the scheme's). All draws
    run through :func:`aggregate_tree` as draws × units × children arrays, ``chunk`` draws
    at a time.

    Parameters
    ----------
    res : ScoreResult
        Scores of a composite scheme (the nominal case).
    weight_noise : dict, optional
        COINr level → relative noise, e.g. ``{2: 0.25, 3: 0.25}``.
    alternatives : sequence of (aggregation, scale)
        E.g. ``[("mean", (0, 100)), ("geometric", (1, 100))]``.
    draws, seed, chunk : int
    """
    ln = _line(res, line)
    sel, rows = _peer_groups(res, ln)
    flat = res.scheme.flat_items
    index = {it.id: j for j, (_p, it) in enumerate(flat)}
    nodes = tree_nodes(ln, index)
    _need_weighted(nodes, "uncertainty", "assesskit.sensitivity.simulate")
    units = rows["unit"].to_numpy()
    year = rows["year"].to_numpy()
    group = pd.factorize(year)[0]
    nominal = _item_scores(res, sel)
    alts = tuple((a, tuple(sc) if sc is not None else None) for a, sc in alternatives)
    scores_by_alt = []
    for _agg, sc in alts:
        x = nominal.copy()
        if sc is not None:
            for j, (_p, it) in enumerate(flat):
                r = it.rule
                if isinstance(r, NormaliseRule) and r.method == "minmax" and j in {nd.item for nd in nodes}:
                    x[:, j] = normalise(
                        res._values[r.indicator][sel], group, r.model_copy(update={"scale": sc})
                    )
        scores_by_alt.append(x)
    rng = np.random.default_rng(seed)
    w0 = np.array([nd.weight for nd in nodes])
    levels = np.array([nd.level for nd in nodes])
    noise = np.zeros(len(nodes))
    for lv, f in (weight_noise or {}).items():
        noise[levels == lv] = f
    u = rng.uniform(-1.0, 1.0, size=(draws, len(nodes)))
    weights = w0 * (1.0 + u * noise)
    choice = rng.integers(0, len(alts), size=draws)
    top = np.empty((draws, len(units)))
    for a, (agg, _sc) in enumerate(alts):
        methods = {nd.id: agg for nd in nodes if nd.item < 0}
        idx = np.flatnonzero(choice == a)
        for start in range(0, idx.size, chunk):
            part = idx[start : start + chunk]
            top[part] = aggregate_tree(nodes, scores_by_alt[a], weights[part], methods=methods, units=units)[
                :, :, -1
            ]
    ranks = _ranks_by_year(top, year)
    nominal_top = aggregate_tree(nodes, nominal, units=units)[0, :, -1]
    nominal_rank = _ranks_by_year(nominal_top[None, :], year)[0]
    out = rows[["unit", "name", "year"]].assign(
        nominal_score=nominal_top,
        nominal_rank=nominal_rank,
        mean_rank=np.nanmean(ranks, axis=0),
        median_rank=np.nanmedian(ranks, axis=0),
        rank_q05=np.nanquantile(ranks, 0.05, axis=0),
        rank_q95=np.nanquantile(ranks, 0.95, axis=0),
    )
    return Uncertainty(ranks=out, draws=draws, seed=seed, alternatives=alts)


# --------------------------------------------------------------------------- counterparts
_DIRECTION = {">=": 1, ">": 1, "<=": -1, "<": -1}


def composite_counterpart(
    scheme: Scheme,
    *,
    normalisation: str = "minmax",
    scale: tuple[float, float] = (0.0, 100.0),
    aggregation: str = "mean",
) -> tuple[Scheme, list[str]]:
    """The composite-index counterpart of a point scheme, for scoring both on the same data.

    Every item whose indicator has a direction becomes a ``normalise`` item on the same
    indicator, weighted by its points: ``threshold``, ``linear`` and ``bands`` take the
    direction of their ``op``; ``per_case`` is −1 (more cases are worse); numeric
    ``graded`` is +1. Items whose credit is not monotone in the indicator (``range``,
    ``change``, label grades) keep their own rule, its credit put on the index's scale
    (× 100 for min-max onto [0, 100]; listed in the second return value). Every section
    aggregates by ``aggregation`` with its points as its weight. Categories, vetoes and
    outcomes are kept (tiers by count, warnings by rank), except vetoes on a missed item
    that was normalised (such an item is "met" only at the top of the scale) and point
    thresholds; adjustments (points added to the total) are left out; missing indicators
    drop out (``missing: drop``).

    Returns
    -------
    (Scheme, list of str)
        The counterpart, and the items that kept their own credit rule.
    """
    from .scheme import parse_scheme

    raw = scheme.model_dump(mode="json", exclude_none=True)
    kept_credit: list[str] = []

    def convert(node: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
        here = path + (node["id"],)
        if "items" not in node:
            r = node["rule"]
            if r["type"] in ("threshold", "linear", "bands"):
                direction = _DIRECTION[r.get("op", ">=")]
            elif r["type"] == "per_case":
                direction = -1
            elif r["type"] == "graded" and r.get("scale") != "labels":
                direction = 1
            else:  # no direction: keep the item's own credit, on the index's scale
                top = scale[1] if normalisation == "minmax" else 1.0
                kept_credit.append(f"{SEP.join(here)} ({r['type']}: its credit × {top:g})")
                return {**node, "points": top, "weight": node["points"]}
            rule: dict[str, Any] = {"type": "normalise", "indicator": r["indicator"], "method": normalisation}
            if direction == -1:
                rule["direction"] = -1
            if normalisation == "minmax":
                rule["scale"] = list(scale)
            out = {k: node[k] for k in ("id", "label", "label_en") if k in node}
            return (
                out
                | {"weight": node["points"], "rule": rule}
                | ({"points": scale[1]} if normalisation == "minmax" else {})
            )
        kids = [c for c in (convert(c, here) for c in node["items"]) if c is not None]
        if not kids:
            return None
        out = {k: v for k, v in node.items() if k not in ("items", "points", "check_sum", "aggregate")}
        out |= {"weight": node["points"], "aggregate": aggregation, "items": kids}
        if normalisation == "minmax" and aggregation != "sum":
            out["points"] = scale[1]
        return out

    lines = [ln for ln in (convert(ln, ()) for ln in raw["lines"]) if ln is not None]
    for ln in lines:
        ln.pop("weight", None)
    kept = {it["id"] for ln in lines for it in _walk(ln)}
    # a veto on a missed item keeps its meaning only where the item kept its credit rule:
    # a normalised item is "met" only at the top of the scale
    credit = {
        it["id"]
        for ln in lines
        for it in _walk(ln)
        if it.get("rule", {}).get("type", "normalise") != "normalise"
    }
    vetoes = [
        v
        for v in raw.get("vetoes", [])
        if all(c.get("missed") in (None, *credit) for c in _conditions(v["when"]))
    ]
    outcomes = raw.get("outcomes", {})
    outcomes["tie_break"] = [n for n in outcomes.get("tie_break", []) if n in kept]
    outcomes["single_awards"] = [a for a in outcomes.get("single_awards", []) if a["rank_by"] in kept]
    for w in outcomes.get("warnings", []):
        w.pop("below_total", None)  # point thresholds mean nothing on the index's scale
    outcomes["warnings"] = [w for w in outcomes.get("warnings", []) if w.get("bottom")]
    for t in outcomes.get("tiers", []):
        t.pop("min_total", None)
    outcomes["tiers"] = [t for t in outcomes.get("tiers", []) if t.get("count")]
    kinds = {k: {kk: vv for kk, vv in v.items() if kk != "points"} for k, v in raw["kinds"].items()}
    new = raw | {
        "id": f"{scheme.id}_composite",
        "label": f"{scheme.label}（综合指数对照）",
        "label_en": f"{scheme.label_en or scheme.id} (composite-index counterpart)",
        "assumptions": [
            *raw.get("assumptions", []),
            f"composite counterpart: items normalised by {normalisation} and aggregated by the weighted "
            f"{aggregation} with their points as weights; adjustments left out",
        ],
        "kinds": kinds,
        "missing": "drop",
        "floor": None,
        "lines": lines,
        "adjustments": [],
        "vetoes": vetoes,
        "outcomes": outcomes,
    }
    return parse_scheme(new, where=f"{scheme.id} (composite counterpart)"), kept_credit


def _walk(node: dict[str, Any]):
    yield node
    for c in node.get("items", []):
        yield from _walk(c)


def _conditions(c: dict[str, Any]):
    yield c
    for sub in (c.get("all") or []) + (c.get("any") or []):
        yield from _conditions(sub)
