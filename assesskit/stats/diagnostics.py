"""Indicator diagnostics for scheme design: which items separate units, which targets
everyone (or no one) meets, which items repeat each other, and which items really decide
the total.

Every function takes a :class:`~assesskit.scoring.ScoreResult` and returns a tidy
DataFrame with the columns listed in its docstring. Statistics are computed within one
kind of unit (the items of a line apply to one kind) and, by default, within one year:
units are compared with the units they are ranked against.

Conventions shared by all functions
-----------------------------------
- **Items only.** Bonus and deduction rows (加分/扣分, status ``bonus``/``deduction``) are
  *excluded* from the item statistics: they are not items of the scheme and have no
  maximum. The **total** they are compared with *includes* them: ``total`` = Σ line points
  + bonuses − deductions of the unit-year, i.e. ``summary.total`` before the scheme's floor
  is applied and before ``not_scored`` blanks it (so every scored unit-year takes part, and
  the total is exactly the sum of its parts). :func:`effective_weights` lists each
  adjustment next to the items so that the shares add up to 1.
- **Points**, not indicator values: a missing value scored 0 under the ``zero`` policy is a
  0 here (``n_missing`` counts such rows), and a vetoed item's 0 is a 0.
- **Variances** are sample variances (``ddof=1``) throughout. Every ratio reported here
  (correlations, α, effective weights) is the same with population variances, because
  the factor ``n/(n−1)`` cancels.
- **Undefined is NaN with a reason**: a constant item (every unit has the same points) has
  no correlation with anything; a group with fewer than 3 units has no meaningful
  correlation; a constant total has no variance to share. The ``note`` column says which.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..kernel.aggregate import SEP, aggregate_tree, path_weights, tree_nodes
from ..scoring import ScoreResult

# TOL: points within it of the maximum (of zero) count as full marks (as zero); item ranges
# within it count as constant. cronbach_alpha lives in .reliability and is importable here as before.
from .reliability import TOL
from .reliability import cronbach_alpha as cronbach_alpha

# fmt: off
ITEM_DIAGNOSTIC_COLUMNS = [
    "year", "kind", "line", "section", "item", "label", "label_en", "rule", "max_points", "nominal_weight",
    "nominal_weight_in_line", "n_units", "n_missing", "mean_points", "sd_points", "mean_fraction",
    "sd_fraction", "ceiling_share", "floor_share", "share_met", "item_total_r", "effective_weight", "note",
]
EFFECTIVE_WEIGHT_COLUMNS = [
    "year", "kind", "component", "line", "section", "item", "label", "label_en", "max_points",
    "nominal_weight", "nominal_weight_in_line", "n_units", "cov_total", "var_total", "effective_weight",
    "note",
]
ATTAINABILITY_COLUMNS = [
    "year", "kind", "line", "section", "item", "label", "label_en", "rule", "has_target", "target_min",
    "target_max", "n_units", "n_met", "n_partial", "n_missed", "n_missing", "share_met", "median_value",
    "note",
]
CORRELATION_COLUMNS = [
    "year", "kind", "item_a", "item_b", "label_a", "label_b", "label_en_a", "label_en_b", "section_a",
    "section_b", "same_section", "n_units", "rho", "method", "note",
]
ALPHA_COLUMNS = [
    "year", "kind", "line", "node", "path", "label", "label_en", "depth", "n_items", "n_constant",
    "n_units", "sum_item_var", "total_var", "alpha", "note",
]
# fmt: on

_POOLED = -1  # internal year key when statistics pool the years


# --------------------------------------------------------------------------- helpers
def _item_meta(result: ScoreResult) -> pd.DataFrame:
    """One row per scheme item: where it sits, its maximum and nominal weights."""
    s = result.scheme
    line_of = {ln.id: ln for ln in s.lines}
    max_kind = s.max_by_kind
    rows = []
    for order, (path, it) in enumerate(s.flat_items):
        ln = line_of[path[0]]
        rows.append(
            {
                "item": it.id,
                "order": order,
                "kind": ln.unit_kind,
                "line": ln.id,
                "section": SEP.join(path[1:-1]),
                "label": it.label,
                "label_en": it.label_en,
                "rule": it.rule.type,
                "has_target": getattr(it.rule, "target", None) is not None,
                "max_points": float(it.points),
                "nominal_weight": it.points / max_kind[ln.unit_kind],
                "nominal_weight_in_line": it.points / ln.points,
            }
        )
    return pd.DataFrame(rows)


def _check(result: ScoreResult) -> None:
    if not isinstance(result, ScoreResult):
        raise TypeError(
            f"expected an assesskit.ScoreResult (from assesskit.score), got {type(result).__name__}"
        )


def _long(result: ScoreResult, by_year: bool) -> pd.DataFrame:
    """Item rows (adjustments excluded) with the unit-year's total and a year key ``_y``.

    ``total`` = Σ of every row of the unit-year in ``result.items``: items + bonuses −
    deductions (no floor, not blanked by ``not_scored``).
    """
    it = result.items
    is_adj = it["status"].isin(["bonus", "deduction"]).to_numpy()
    total = it.groupby(["unit", "year"], sort=False)["points"].transform("sum")
    out = it.loc[
        ~is_adj, ["unit", "year", "kind", "item", "max_points", "points", "status", "value", "target"]
    ]
    out = out.assign(total=total[~is_adj].to_numpy(), _y=out["year"].to_numpy() if by_year else _POOLED)
    return out.reset_index(drop=True)


def _join_notes(index: pd.Index, parts: list[tuple[np.ndarray | pd.Series, str | pd.Series]]) -> pd.Series:
    """'; '-joined texts of the conditions that hold, per row ('' when none)."""
    note = pd.Series("", index=index, dtype=object)
    for mask, text in parts:
        mask = np.asarray(mask, dtype=bool)
        txt = text if isinstance(text, pd.Series) else pd.Series(text, index=index)
        glue = np.where(note == "", "", "; ")
        note = note.where(~mask, note + glue + txt.astype(str))
    return note


def _moments(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group: n, Σ(x−x̄)², Σ(x−x̄)(T−T̄), Σ(T−T̄)², and the ranges of x and T.

    Sums of centred products (not divided by n−1): every ratio below is free of the
    variance convention.
    """
    g = df.groupby(keys, sort=False)
    xc = df["points"] - g["points"].transform("mean")
    tc = df["total"] - g["total"].transform("mean")
    tmp = df[keys].assign(xx=xc * xc, xt=xc * tc, tt=tc * tc, x=df["points"], t=df["total"])
    return tmp.groupby(keys, sort=False).agg(
        n=("xx", "size"),
        sxx=("xx", "sum"),
        sxt=("xt", "sum"),
        stt=("tt", "sum"),
        x_lo=("x", "min"),
        x_hi=("x", "max"),
        t_lo=("t", "min"),
        t_hi=("t", "max"),
    )


def _constant(lo: pd.Series, hi: pd.Series) -> pd.Series:
    return (hi - lo) <= TOL * np.maximum(1.0, np.abs(hi))


def _year_col(y: pd.Series) -> pd.Series:
    return pd.Series(y.to_numpy(), index=y.index).where(y != _POOLED).astype("Int64")


# --------------------------------------------------------------------------- per item
def item_diagnostics(result: ScoreResult, *, by_year: bool = True) -> pd.DataFrame:
    """Per item (and year): ceiling and floor, spread, discrimination, attainment, weight.

    Parameters
    ----------
    result : ScoreResult
        From :func:`assesskit.score`.
    by_year : bool, default True
        Compare units within each year (one row per item and year). False pools every
        scored unit-year of the kind (``year`` is then <NA>); pooled correlations mix
        differences between years into those between units.

    Returns
    -------
    DataFrame
        One row per item (× year), in year then scheme order. Adjustments are not items
        and have no row (see :func:`effective_weights`). Columns:

        - ``year`` (Int64; <NA> when pooled), ``kind``, ``line``, ``section`` (path of
          section ids, ``a › b``), ``item``, ``label``, ``label_en``, ``rule`` (rule type),
          ``max_points``.
        - ``nominal_weight``: ``max_points`` / the kind's maximum total (Σ of its lines; the
          line's maximum when the kind has one line); ``nominal_weight_in_line``:
          ``max_points`` / the line's maximum.
        - ``n_units``: unit-years scored on the item; ``n_missing``: of them, rows whose
          value (or target, or previous year) was missing and scored by the missing-data
          policy.
        - ``mean_points``, ``sd_points``: mean and sample SD (ddof=1) of the points;
          ``mean_fraction``, ``sd_fraction``: the same of points / ``max_points``.
        - ``ceiling_share``: share of units with full marks; ``floor_share``: with zero.
        - ``share_met``: share of units whose status is ``met`` (the rule fully satisfied;
          for a target rule: the target met). Missing values count as not met.
        - ``item_total_r``: corrected item–total correlation (discrimination): **Pearson**
          correlation of the item's points with the total *minus that item* (the total
          includes bonuses and deductions). NaN for a constant item, a constant rest, or
          fewer than 3 units (see ``note``).
        - ``effective_weight``: cov(item, total) / var(total), the item's share of the
          variance of the total. Over all items of a kind *and its adjustments* these add up
          to 1 (Σ cov(partᵢ, T) = var(T)); over the items alone they add up to 1 minus the
          adjustments' share. 0 for a constant item; NaN when the total is constant.
        - ``note``: why a value is NaN, and other warnings ('' when none).
    """
    _check(result)
    meta = _item_meta(result)
    df = _long(result, by_year)
    keys = ["_y", "kind", "item"]
    if df.empty:
        return pd.DataFrame(columns=ITEM_DIAGNOSTIC_COLUMNS)
    frac = df["points"] / df["max_points"]
    df = df.assign(
        frac=frac,
        ceil=(df["points"] >= df["max_points"] - TOL).astype(float),
        flo=(df["points"] <= TOL).astype(float),
        met=(df["status"] == "met").astype(float),
        miss=(df["status"] == "missing").astype(int),
    )
    agg = df.groupby(keys, sort=False).agg(
        n_missing=("miss", "sum"),
        mean_points=("points", "mean"),
        sd_points=("points", "std"),
        mean_fraction=("frac", "mean"),
        sd_fraction=("frac", "std"),
        ceiling_share=("ceil", "mean"),
        floor_share=("flo", "mean"),
        share_met=("met", "mean"),
    )
    m = _moments(df, keys)
    const_x = _constant(m["x_lo"], m["x_hi"])
    const_t = _constant(m["t_lo"], m["t_hi"])
    # Pearson r of x with (T − x) from the group sums, for every item and group at once
    # (scipy.stats.pearsonr would need a loop over items × groups; the tests check it agrees):
    # cov(x, T−x) = sxt − sxx, var(T−x) = stt − 2 sxt + sxx
    rest_ss = m["stt"] - 2 * m["sxt"] + m["sxx"]
    const_rest = rest_ss <= TOL * np.maximum(1.0, m["stt"])
    few = m["n"] < 3
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (m["sxt"] - m["sxx"]) / np.sqrt(m["sxx"] * rest_ss)
        w = m["sxt"] / m["stt"]
    r = r.where(~(const_x | const_rest | few)).clip(-1.0, 1.0)
    w = w.where(~const_t).where(~const_x | const_t, 0.0)
    sd_zero = const_x & (m["n"] >= 2)
    agg.loc[sd_zero, ["sd_points", "sd_fraction"]] = 0.0  # exact 0, not rounding noise
    out = agg.assign(n_units=m["n"], item_total_r=r, effective_weight=w).reset_index()
    ix = out.index
    single = np.asarray(m["n"] < 2)
    cx, ct, cr, fw = (np.asarray(v) for v in (const_x, const_t, const_rest, few))
    cx = cx & ~single  # one unit is not "every unit has the same points"
    out["note"] = _join_notes(
        ix,
        [
            (single, "a single unit: no spread, no correlation, no effective weight"),
            (cx, "constant item (every unit has the same points): correlation undefined, effective weight 0"),
            (~cx & ~single & cr, "the total minus this item is constant: correlation undefined"),
            (fw & ~cx & ~single, "fewer than 3 units: correlation not computed"),
            (ct & ~single, "the total is constant: effective weight undefined"),
            (
                out["n_missing"] > 0,
                out["n_missing"].astype(str) + " missing value(s) scored by the missing-data policy",
            ),
        ],
    )
    out = out.merge(meta.drop(columns="kind"), on="item", how="left")
    out["year"] = _year_col(out["_y"])
    out = out.sort_values(["_y", "order"], kind="stable").reset_index(drop=True)
    return out[ITEM_DIAGNOSTIC_COLUMNS]


def target_attainability(result: ScoreResult) -> pd.DataFrame:
    """Per item and year: how many units met the item's target.

    Parameters
    ----------
    result : ScoreResult

    Returns
    -------
    DataFrame
        One row per item and year, in year then scheme order. Columns:

        - ``year``, ``kind``, ``line``, ``section``, ``item``, ``label``, ``label_en``,
          ``rule`` (rule type).
        - ``has_target``: the rule has a target (threshold, linear, some bands). For the
          other rules 'met' means full points under the rule (e.g. the top inspector grade).
        - ``target_min``, ``target_max``: range of the targets that applied (they differ
          between categories or per unit in a target table); NaN without a target.
        - ``n_units``; ``n_met``, ``n_partial``, ``n_missed`` (vetoed counts as missed),
          ``n_missing`` (value missing: never counted as met).
        - ``share_met``: ``n_met / n_units``.
        - ``median_value``: median of the indicator's value (NaN for label grades).
        - ``note``: 'no unit met the target', 'every unit met the target', the meaning of
          'met' for rules without a target ('' otherwise).
    """
    _check(result)
    meta = _item_meta(result)
    df = _long(result, by_year=True)
    if df.empty:
        return pd.DataFrame(columns=ATTAINABILITY_COLUMNS)
    st = df["status"]
    df = df.assign(
        met=(st == "met").astype(int),
        partial=(st == "partial").astype(int),
        missed=st.isin(["missed", "vetoed"]).astype(int),
        missing=(st == "missing").astype(int),
        v=pd.to_numeric(df["value"], errors="coerce"),
    )
    out = (
        df.groupby(["_y", "kind", "item"], sort=False)
        .agg(
            target_min=("target", "min"),
            target_max=("target", "max"),
            n_units=("met", "size"),
            n_met=("met", "sum"),
            n_partial=("partial", "sum"),
            n_missed=("missed", "sum"),
            n_missing=("missing", "sum"),
            median_value=("v", "median"),
        )
        .reset_index()
    )
    out["share_met"] = out["n_met"] / out["n_units"]
    out = out.merge(meta.drop(columns="kind"), on="item", how="left")
    ix = out.index
    out["note"] = _join_notes(
        ix,
        [
            (
                ~out["has_target"],
                "no target: 'met' means full points under the " + out["rule"].astype(str) + " rule",
            ),
            (out["has_target"] & (out["n_met"] == 0), "no unit met the target"),
            (out["has_target"] & (out["n_met"] == out["n_units"]), "every unit met the target"),
            (out["n_missing"] > 0, out["n_missing"].astype(str) + " missing value(s), counted as not met"),
        ],
    )
    out["year"] = _year_col(out["_y"])
    out = out.sort_values(["_y", "order"], kind="stable").reset_index(drop=True)
    return out[ATTAINABILITY_COLUMNS]


# --------------------------------------------------------------------------- weights
def effective_weights(result: ScoreResult, *, by_year: bool = True) -> pd.DataFrame:
    """Each item's (and each adjustment's) share of the variance of the total — or, for a
    composite index, each indicator's share of the variance of the index.

    ``effective_weight = cov(part, total) / var(total)``: because the total is the sum of
    its parts (items + bonuses − deductions), these shares add up to exactly 1 per kind of
    unit and year. A part can have a large nominal weight and a small effective one (almost
    everyone gets full marks) or the reverse; a negative share means the part moves
    against the rest of the total.

    Parameters
    ----------
    result : ScoreResult
    by_year : bool, default True
        Within each year (default) or pooled over the years (``year`` <NA>).

    Returns
    -------
    DataFrame
        One row per (year,) kind and component, items in scheme order, then the
        adjustments that apply to the kind. Columns:

        - ``year`` (Int64), ``kind``;
        - ``component``: ``item``, ``bonus`` or ``deduction``;
        - ``line``, ``section``, ``item`` (the item's or the adjustment's id), ``label``,
          ``label_en`` (``line``/``section`` are '' / 'adjustments' for adjustments);
        - ``max_points``, ``nominal_weight``, ``nominal_weight_in_line`` (as in
          :func:`item_diagnostics`; NaN for adjustments, which have no maximum);
        - ``n_units``;
        - ``cov_total``: sample covariance (ddof=1) of the part's signed points with the
          total; ``var_total``: sample variance of the total;
        - ``effective_weight``: ``cov_total / var_total`` (NaN when the total is constant);
        - ``note``.

        For a composite scheme (a line aggregating by a mean) the part is the indicator's
        weighted score in its line's index: ``nominal_weight`` (= ``nominal_weight_in_line``)
        is the product of its relative weights up the tree (COINr's effective weight),
        ``cov_total`` = nominal_weight · cov(score, index), ``var_total`` = var(index), over
        the units with both; ``max_points`` is the score's stated maximum. The shares add up
        to 1 for an arithmetic index with nothing missing.
    """
    _check(result)
    s = result.scheme
    if not all(ln.is_sum_tree for ln in s.lines):
        return _index_effective_weights(result, by_year)
    meta = _item_meta(result)
    df = _long(result, by_year)
    if df.empty:
        return pd.DataFrame(columns=EFFECTIVE_WEIGHT_COLUMNS)
    items = df[["_y", "unit", "year", "kind", "item", "points", "total"]]
    # adjustments: one row per unit-year of every kind the adjustment applies to (0 when absent)
    it = result.items
    adj_rows = it.loc[it["status"].isin(["bonus", "deduction"]), ["unit", "year", "item", "points"]]
    adj_meta = pd.DataFrame(
        [
            {
                "item": a.id,
                "label": a.label,
                "label_en": a.label_en,
                "component": a.kind,
                "order": len(meta) + i,
                "applies_to": a.applies_to,
            }
            for i, a in enumerate(s.adjustments)
        ],
        columns=["item", "label", "label_en", "component", "order", "applies_to"],
    )
    unit_years = items[["_y", "unit", "year", "kind", "total"]].drop_duplicates(["unit", "year"])
    applies = pd.DataFrame(  # (adjustment, kind) pairs: scheme-sized, not data-sized
        [(a.id, k) for a in s.adjustments for k in s.kinds if a.applies_to is None or k in a.applies_to],
        columns=["item", "kind"],
    )
    grid = unit_years.merge(applies, on="kind")
    grid = grid.merge(adj_rows, on=["unit", "year", "item"], how="left")
    grid["points"] = grid["points"].fillna(0.0)
    parts = pd.concat([items, grid[items.columns]], ignore_index=True)
    info = pd.concat(
        [
            meta.drop(columns=["kind", "rule", "has_target"]).assign(component="item"),
            adj_meta.drop(columns="applies_to").assign(
                line="",
                section="adjustments",
                max_points=np.nan,
                nominal_weight=np.nan,
                nominal_weight_in_line=np.nan,
            ),
        ],
        ignore_index=True,
    )
    return _variance_shares(parts, info, "total")


def _variance_shares(parts: pd.DataFrame, info: pd.DataFrame, whole: str) -> pd.DataFrame:
    """Each part's cov with the whole over the whole's variance, per (year,) kind and part.

    ``parts``: ``_y``, ``kind``, ``item``, ``points`` (the part) and ``total`` (the whole)
    per unit-year; ``info``: one row per part with the descriptive columns and ``order``.
    """
    m = _moments(parts, ["_y", "kind", "item"]).reset_index()
    const_t = _constant(m["t_lo"], m["t_hi"])
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = (m["n"] - 1).where(m["n"] > 1)
        out = m.assign(
            n_units=m["n"],
            cov_total=m["sxt"] / dof,
            var_total=m["stt"] / dof,
            effective_weight=(m["sxt"] / m["stt"]).where(~const_t),
        )
    const_x = _constant(m["x_lo"], m["x_hi"])
    out.loc[const_x & ~const_t, "effective_weight"] = 0.0
    out.loc[const_x & (m["n"] > 1), "cov_total"] = 0.0
    out = out.merge(info, on="item", how="left")
    out["note"] = _join_notes(
        out.index,
        [
            (np.asarray(const_t & (out["n_units"] >= 2)), f"the {whole} is constant: no variance to share"),
            (np.asarray(out["n_units"] < 2), "a single unit: no variance"),
            (np.asarray(const_x & ~const_t), "constant (every unit has the same points): effective weight 0"),
        ],
    )
    out["year"] = _year_col(out["_y"])
    out = out.sort_values(["_y", "kind", "order"], kind="stable").reset_index(drop=True)
    return out[EFFECTIVE_WEIGHT_COLUMNS]


def _index_effective_weights(result: ScoreResult, by_year: bool) -> pd.DataFrame:
    """:func:`effective_weights` of a composite scheme: indicators in their line's index."""
    s = result.scheme
    pts, kind = result.points, result.summary["kind"].to_numpy()
    year = pts.index.get_level_values("year").to_numpy() if by_year else np.full(len(pts), _POOLED)
    index = {it.id: j for j, (_p, it) in enumerate(s.flat_items)}
    frames, shares = [], {}
    for ln in s.lines:
        nodes = tree_nodes(ln, index)
        shares |= {nd.id: w for nd, w in zip(nodes, path_weights(nodes))}
        leaves = [i for i, nd in enumerate(nodes) if nd.item >= 0]
        mine = kind == ln.unit_kind
        x = pts.to_numpy(dtype=float)[mine]
        top = aggregate_tree(nodes, x)[0, :, -1]
        w = path_weights(nodes)[leaves]
        cols = [nodes[i].item for i in leaves]
        long = pd.DataFrame(
            {
                "_y": np.repeat(year[mine], len(leaves)),
                "kind": ln.unit_kind,
                "item": np.tile([nodes[i].id for i in leaves], int(mine.sum())),
                "points": (x[:, cols] * w).ravel(),
                "total": np.repeat(top, len(leaves)),
            }
        ).dropna(subset=["points", "total"])
        frames.append(long)
    info = pd.DataFrame(
        [
            {
                "item": it.id,
                "order": o,
                "component": "item",
                "line": path[0],
                "section": SEP.join(path[1:-1]),
                "label": it.label,
                "label_en": it.label_en,
                "max_points": np.nan if it.points is None else float(it.points),
            }
            for o, (path, it) in enumerate(s.flat_items)
        ]
    )
    info["nominal_weight"] = info["nominal_weight_in_line"] = info["item"].map(shares)
    return _variance_shares(pd.concat(frames, ignore_index=True), info, "index")


# --------------------------------------------------------------------------- redundancy
def item_correlations(result: ScoreResult, *, by_year: bool = True, method: str = "spearman") -> pd.DataFrame:
    """Rank correlations between the items of a kind (redundancy), in tidy long form.

    Computed with :meth:`pandas.DataFrame.corr` on the items' points across the units of
    one kind (and year). Spearman by default (``method`` may be ``kendall`` or
    ``pearson``).

    Parameters
    ----------
    result : ScoreResult
    by_year : bool, default True
        Within each year, or pooled over the unit-years (``year`` <NA>).
    method : {"spearman", "kendall", "pearson"}

    Returns
    -------
    DataFrame
        One row per pair of items of the same kind with ``item_a`` at or before ``item_b``
        in the scheme's order, **the diagonal included** (``rho`` 1, or NaN for a constant
        item), so :func:`correlation_matrix` can rebuild the square matrix. Filter
        ``item_a != item_b`` for the distinct pairs. Columns:

        - ``year`` (Int64), ``kind``;
        - ``item_a``, ``item_b``, ``label_a``, ``label_b``, ``label_en_a``, ``label_en_b``,
          ``section_a``, ``section_b``, ``same_section`` (bool);
        - ``n_units``: unit-years with both items; ``rho``: the correlation; ``method``;
        - ``note``: why ``rho`` is NaN (a constant item; fewer than 3 units) ('' otherwise).
    """
    _check(result)
    if method not in ("spearman", "kendall", "pearson"):
        raise ValueError(f"method must be 'spearman', 'kendall' or 'pearson', not {method!r}")
    meta = _item_meta(result)
    df = _long(result, by_year)
    if df.empty:
        return pd.DataFrame(columns=CORRELATION_COLUMNS)
    wide = df.set_index(["_y", "kind", "unit", "year", "item"])["points"].unstack("item")
    wide = wide[[i for i in meta["item"] if i in wide.columns]]
    corr = wide.groupby(level=["_y", "kind"], sort=False).corr(method=method)
    corr.index = corr.index.set_names(["_y", "kind", "item_a"])
    long = (
        corr.rename_axis(columns="item_b")
        .reset_index()
        .melt(id_vars=["_y", "kind", "item_a"], var_name="item_b", value_name="rho")
    )
    # keep the items of the group's kind, each unordered pair once (a at or before b)
    mk = meta.set_index("item")
    long = long[
        (long["item_a"].map(mk["kind"]) == long["kind"]) & (long["item_b"].map(mk["kind"]) == long["kind"])
    ]
    oa, ob = long["item_a"].map(mk["order"]), long["item_b"].map(mk["order"])
    long = long[oa <= ob].assign(_oa=oa, _ob=ob)
    # constant items and group sizes
    rng = df.groupby(["_y", "item"], sort=False)["points"].agg(["min", "max", "size"])
    const = _constant(rng["min"], rng["max"])
    ka = pd.MultiIndex.from_arrays([long["_y"], long["item_a"]])
    kb = pd.MultiIndex.from_arrays([long["_y"], long["item_b"]])
    ca = const.reindex(ka).to_numpy()
    cb = const.reindex(kb).to_numpy()
    n = np.minimum(rng["size"].reindex(ka).to_numpy(), rng["size"].reindex(kb).to_numpy())
    few = n < 3
    long = long.assign(n_units=n, method=method)
    long["rho"] = long["rho"].where(~(ca | cb | few))
    long["rho"] = long["rho"].where(~((long["item_a"] == long["item_b"]).to_numpy() & ~ca & ~few), 1.0)
    ix = long.index
    a_txt = long["item_a"].astype(str) + " is constant: correlation undefined"
    b_txt = long["item_b"].astype(str) + " is constant: correlation undefined"
    same = (long["item_a"] == long["item_b"]).to_numpy()
    long["note"] = _join_notes(
        ix,
        [
            (ca, a_txt),
            (cb & ~same, b_txt),
            (few & ~ca & ~cb, "fewer than 3 units: correlation not computed"),
        ],
    )
    for side in ("a", "b"):
        col = long[f"item_{side}"]
        long[f"label_{side}"] = col.map(mk["label"])
        long[f"label_en_{side}"] = col.map(mk["label_en"])
        long[f"section_{side}"] = col.map(mk["section"])
    long["same_section"] = long["section_a"] == long["section_b"]
    long["year"] = _year_col(long["_y"])
    long = long.sort_values(["_y", "kind", "_oa", "_ob"], kind="stable").reset_index(drop=True)
    return long[CORRELATION_COLUMNS]


def correlation_matrix(
    correlations: pd.DataFrame, *, year: int | None = None, kind: str | None = None
) -> pd.DataFrame:
    """The square matrix of one (year, kind) from :func:`item_correlations`' long table.

    Parameters
    ----------
    correlations : DataFrame
        Output of :func:`item_correlations`.
    year, kind : optional
        Which group; may be omitted when the table holds only one.

    Returns
    -------
    DataFrame
        Items × items (ids, scheme order), symmetric; the diagonal is 1 (NaN for a
        constant item).
    """
    sub = one_group(correlations, year, kind)
    items = list(dict.fromkeys(list(sub["item_a"]) + list(sub["item_b"])))
    mat = sub.pivot(index="item_a", columns="item_b", values="rho").reindex(index=items, columns=items)
    vals = mat.to_numpy(dtype=float)
    vals = np.where(np.isnan(vals), vals.T, vals)
    return pd.DataFrame(vals, index=pd.Index(items, name="item"), columns=pd.Index(items, name="item"))


def one_group(data: pd.DataFrame, year: int | None, kind: str | None) -> pd.DataFrame:
    """Rows of one year and kind of a diagnostics table; either may be omitted when the
    table holds only one (a ValueError names the choices otherwise)."""
    sub = data
    for col, want in (("year", year), ("kind", kind)):
        if col not in sub.columns:
            continue
        vals = list(pd.unique(sub[col]))
        if want is None:
            if len(vals) > 1:
                raise ValueError(f"the table holds several {col}s {vals}: pass {col}=")
            continue
        sub = sub[sub[col] == want]
        if sub.empty:
            raise ValueError(f"no rows for {col}={want!r} (the table has {vals})")
    return sub


_one_group = one_group  # its old private name (assesskit.plotting.diagnostics imports it)


# --------------------------------------------------------------------------- consistency
def section_alpha(result: ScoreResult, *, by_year: bool = True) -> pd.DataFrame:
    """Cronbach's α of every line and section (over all items below it), per kind and year.

    α says how consistently the items of a section rank the units: high α means the items
    largely repeat each other (redundancy); low or negative α means they measure different
    things (which a scheme may well intend). Same formula and variances as
    :func:`cronbach_alpha`; constant items are kept in ``k`` (they are part of the section)
    and named in the note.

    Parameters
    ----------
    result : ScoreResult
    by_year : bool, default True
        Within each year, or pooled over the unit-years (``year`` <NA>).

    Returns
    -------
    DataFrame
        One row per line or section (× year), in document order. Columns:

        - ``year`` (Int64), ``kind``, ``line``;
        - ``node``: the line's or section's id; ``path``: ids from the line down
          (``line › a › b``); ``label``, ``label_en``; ``depth``: 0 for a line;
        - ``n_items`` (k, every item below the node), ``n_constant`` (items with no
          variance), ``n_units``;
        - ``sum_item_var``: Σ sample variances of the items; ``total_var``: sample variance
          of the node's points (the sum of its items; bonuses and deductions excluded);
        - ``alpha``: NaN when k < 2, fewer than 2 units, fewer than 2 items vary, or the
          node's points are constant (its items offset each other exactly);
        - ``note``: why α is NaN, and the constant items ('' otherwise).
    """
    _check(result)
    s = result.scheme
    df = _long(result, by_year)
    if df.empty:
        return pd.DataFrame(columns=ALPHA_COLUMNS)
    # membership: every item belongs to its line and to each section above it
    member, nodes = [], {}
    for path, it in s.flat_items:
        for d in range(1, len(path)):
            key = SEP.join(path[:d])
            member.append((key, it.id))
            if key not in nodes:
                node = s.nodes[path[d - 1]]
                nodes[key] = {
                    "path": key,
                    "node": node.id,
                    "label": node.label,
                    "label_en": node.label_en,
                    "depth": d - 1,
                    "line": path[0],
                    "order": len(nodes),
                }
    mem = pd.DataFrame(member, columns=["path", "item"])
    nodes_df = pd.DataFrame(list(nodes.values()))
    # item variances and constancy per year key
    iv = (
        df.groupby(["_y", "kind", "item"], sort=False)["points"]
        .agg(["var", "min", "max", "size"])
        .reset_index()
    )
    iv["const"] = _constant(iv["min"], iv["max"])
    iv.loc[iv["const"], "var"] = 0.0
    per_item = iv.merge(mem, on="item")
    agg = per_item.groupby(["_y", "kind", "path"], sort=False).agg(
        n_items=("item", "size"),
        n_constant=("const", "sum"),
        sum_item_var=("var", "sum"),
        n_units=("size", "min"),
    )
    const_names = (
        per_item[per_item["const"]]
        .groupby(["_y", "kind", "path"], sort=False)["item"]
        .agg(", ".join)
        .rename("const_items")
    )
    # node totals per unit-year, then their variance
    tot = df[["_y", "kind", "unit", "year", "item", "points"]].merge(mem, on="item")
    node_tot = tot.groupby(["_y", "kind", "path", "unit", "year"], sort=False)["points"].sum()
    tg = node_tot.groupby(level=["_y", "kind", "path"], sort=False)
    tv = tg.var().rename("total_var")
    flat_total = _constant(tg.min(), tg.max()).rename("flat_total")
    out = agg.join(tv).join(flat_total).join(const_names).reset_index()
    k = out["n_items"]
    varying = k - out["n_constant"]
    offset = (k >= 2) & (out["n_units"] >= 2) & (varying >= 2) & out["flat_total"]
    out.loc[out["flat_total"], "total_var"] = 0.0
    bad = (k < 2) | (out["n_units"] < 2) | (varying < 2) | offset
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = k / (k - 1) * (1.0 - out["sum_item_var"] / out["total_var"])
    out["alpha"] = alpha.where(~bad)
    cn = out["const_items"].fillna("")
    out["note"] = _join_notes(
        out.index,
        [
            (k < 2, "fewer than 2 items: α undefined"),
            ((k >= 2) & (out["n_units"] < 2), "fewer than 2 units: α undefined"),
            ((k >= 2) & (out["n_units"] >= 2) & (varying < 2), "fewer than 2 items vary: α undefined"),
            (offset, "the section's points are constant (its items offset each other): α undefined"),
            (out["n_constant"] > 0, "constant items (no variance, kept in k): " + cn),
        ],
    )
    out = out.merge(nodes_df, on="path", how="left")
    out["year"] = _year_col(out["_y"])
    out = out.sort_values(["_y", "order"], kind="stable").reset_index(drop=True)
    return out[ALPHA_COLUMNS]
