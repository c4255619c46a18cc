"""Scheme against scheme: the same data under two schemes or variants.

:func:`variant` derives a scheme from another — fewer indicators, other points, without
vetoes — and validates it like a scheme file. :func:`compare_schemes` takes two
:class:`~assesskit.scoring.ScoreResult` of the same units (the full scheme against a
reduced one, with and without vetoes, last year's scheme against this year's) and says
how the rankings agree, who moves, and which items explain the moves.

**Which items explain a move.** In each scheme, an item's contribution to a unit's
standing is its points minus the mean points of the units compared (those ranked under
both schemes, in the same year and kind), in percent of the kind's maximum total; the
bonus minus deduction counts as one more item, ``(adjustments)``. The contributions add
up to the unit's total minus the mean total (before the floor), so the change of a
unit's contributions from scheme a to b (``delta``) splits the change of its relative
standing — and so its rank move — item by item. Items in one scheme only contribute 0 in
the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..scheme import Scheme, parse_scheme
from ..scoring import ScoreResult

ADJ = "(adjustments)"


# --------------------------------------------------------------------------- variants
def variant(
    scheme: Scheme,
    *,
    id: str | None = None,
    label: str | None = None,
    keep: list[str] | None = None,
    drop: list[str] | None = None,
    points: dict[str, float] | None = None,
    vetoes: bool | list[str] = True,
    assumption: str | None = None,
) -> Scheme:
    """A variant of ``scheme``, validated like a scheme file.

    Parameters
    ----------
    keep : list of str, optional
        Keep only these sections and items (and everything under them); lines stay
        while they keep an item.
    drop : list of str, optional
        Remove these sections or items.
    points : dict, optional
        New points for lines, sections or items. Sums are checked as in a scheme file, so
        a variant that removes items must say how the points are redistributed. (A graded
        item keeps its points: its grades are in points.)
    vetoes : bool or list of str
        False: no veto or eligibility rule; a list: only those.
    assumption : str, optional
        Added to the scheme's assumptions (what the variant is and why).

    Raises
    ------
    SchemeError
        When the variant is not a valid scheme (sums, dangling references), with paths.
    """
    raw: dict[str, Any] = scheme.model_dump(exclude_none=True)
    keep_set = set(keep or [])
    drop_set = set(drop or [])
    unknown = (keep_set | drop_set | set(points or {})) - set(scheme.nodes)
    if unknown:
        from ..exceptions import SchemeError

        raise SchemeError(f"variant of '{scheme.id}': unknown nodes {', '.join(sorted(unknown))}")

    def walk(node: dict, kept_above: bool) -> dict | None:
        if node["id"] in drop_set:
            return None
        here = kept_above or not keep_set or node["id"] in keep_set
        if "items" in node:
            kids = [c for c in (walk(c, here) for c in node["items"]) if c is not None]
            if not kids:
                return None
            node = {**node, "items": kids}
        elif not here:
            return None
        if points and node["id"] in points:
            node = {**node, "points": float(points[node["id"]])}
        return node

    lines = [ln for ln in (walk(ln, False) for ln in raw["lines"]) if ln is not None]
    raw["lines"] = lines
    if vetoes is False:
        raw["vetoes"] = []
    elif isinstance(vetoes, list):
        raw["vetoes"] = [v for v in raw.get("vetoes", []) if v["id"] in vetoes]
    # indicators stay declared (unused ones too), so the same data files and grade tables
    # serve the variant and the full scheme
    kinds_left = {ln["unit_kind"] for ln in lines}
    raw["kinds"] = {k: v for k, v in raw["kinds"].items() if k in kinds_left}
    for kind, k in raw["kinds"].items():  # a kind is worth what its lines are worth
        if "points" in k:
            k["points"] = float(sum(ln["points"] for ln in lines if ln["unit_kind"] == kind))
    if id is not None:
        raw["id"] = id
    if label is not None:
        raw["label"] = label
    if assumption:
        raw["assumptions"] = list(raw.get("assumptions", [])) + [assumption]
    return parse_scheme(raw, f"variant of {scheme.id}")


def without_vetoes(scheme: Scheme) -> Scheme:
    """The scheme with every veto and eligibility rule removed."""
    return variant(
        scheme,
        id=f"{scheme.id}_no_veto",
        label=f"{scheme.label}（不设一票否决）",
        vetoes=False,
        assumption="Variant: every veto and eligibility rule removed.",
    )


# --------------------------------------------------------------------------- compare
@dataclass(frozen=True)
class Comparison:
    """Two schemes on the same units.

    Attributes
    ----------
    summary : DataFrame
        Per year and kind: ``year``, ``kind``, ``units`` (in both), ``ranked_both``,
        ``spearman``, ``kendall_tau`` (over units ranked under both), ``n_moved``,
        ``mean_abs_shift``, ``max_abs_shift``, ``n_veto_changed``, ``n_award_changed``.
    units : DataFrame
        Per unit-year: ``unit``, ``name``, ``year``, ``kind``, ``rank_a``, ``rank_b``,
        ``shift`` (position under b − under a; unranked units just below the last
        ranked; negative = moves up), ``total_a``, ``total_b``, ``share_a``,
        ``share_b`` (total in % of the kind's maximum), ``award_a``, ``award_b``,
        ``veto_a``, ``veto_b``, ``main_items`` (the items that push the unit the way it
        moved, with their ``delta``).
    items : DataFrame
        Per unit-year and item: ``unit``, ``name``, ``year``, ``kind``, ``item``,
        ``label``, ``in_a``, ``in_b``, ``points_a``, ``points_b``, ``contribution_a``,
        ``contribution_b``, ``delta`` (see the module docstring).
    drivers : DataFrame
        Per item: ``item``, ``label``, ``in_a``, ``in_b``, ``mean_abs_delta``, ``share``
        (of all ``|delta|``), ``corr_with_move`` (Spearman correlation of ``delta`` with
        −shift: positive when the item explains who moves up).
    """

    summary: pd.DataFrame
    units: pd.DataFrame
    items: pd.DataFrame
    drivers: pd.DataFrame
    names: tuple[str, str]

    def to_frame(self) -> pd.DataFrame:
        return self.units


def _position(summary: pd.DataFrame) -> np.ndarray:
    r = summary["rank"].to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(r), summary["n_ranked"].to_numpy(dtype=float, na_value=0.0) + 1, r)


def _contributions(res: ScoreResult, keys: pd.MultiIndex, ref: np.ndarray, group: np.ndarray) -> pd.DataFrame:
    """Item points minus the reference units' mean, in % of the kind's maximum."""
    pts = res.points.reindex(keys)
    summ = res.summary.set_index(["unit", "year"]).reindex(keys)
    pts[ADJ] = summ["bonus"].to_numpy(dtype=float) - summ["deduction"].to_numpy(dtype=float)
    pts = pts.fillna(0.0)
    mx = summ["max_total"].to_numpy(dtype=float)
    arr = pts.to_numpy()
    out = np.zeros_like(arr)
    for g in np.unique(group):
        m = group == g
        r = m & ref
        mean = arr[r].mean(axis=0) if r.any() else np.zeros(arr.shape[1])
        out[m] = 100.0 * (arr[m] - mean) / mx[m, None]
    return pd.DataFrame(out, index=keys, columns=pts.columns), pts


def compare_schemes(
    a: ScoreResult, b: ScoreResult, *, names: tuple[str, str] | None = None, top: int = 3
) -> Comparison:
    """Compare two scorings of the same units (see :class:`Comparison` and the module
    docstring for the columns and the item attribution).

    Parameters
    ----------
    a, b : ScoreResult
        The same panel (or the same units and years) under two schemes or variants.
    names : (str, str), optional
        Labels of the two (default: the schemes' ids).
    top : int
        How many items ``main_items`` lists per moving unit.
    """
    names = names or (a.scheme.id, b.scheme.id)
    sa = a.summary.set_index(["unit", "year"])
    sb = b.summary.set_index(["unit", "year"])
    keys = sa.index.intersection(sb.index, sort=False)
    if not len(keys):
        raise ValueError("the two results share no unit-year")
    sa, sb = sa.loc[keys], sb.loc[keys]
    pa = _position(sa.reset_index())
    pb = _position(sb.reset_index())
    ra = sa["rank"].to_numpy(dtype=float, na_value=np.nan)
    rb = sb["rank"].to_numpy(dtype=float, na_value=np.nan)
    year = keys.get_level_values("year").to_numpy()
    group = pd.factorize(pd.MultiIndex.from_arrays([year, sa["kind"].to_numpy()]))[0]
    both = ~np.isnan(ra) & ~np.isnan(rb)
    ca, pts_a = _contributions(a, keys, both, group)
    cb, pts_b = _contributions(b, keys, both, group)
    item_ids = list(dict.fromkeys(list(ca.columns) + list(cb.columns)))
    ca = ca.reindex(columns=item_ids, fill_value=0.0)
    cb = cb.reindex(columns=item_ids, fill_value=0.0)
    delta = cb.to_numpy() - ca.to_numpy()
    shift = pb - pa
    labels = {}
    for res in (a, b):
        for _p, it in res.scheme.flat_items:
            labels.setdefault(it.id, it.label)
    labels[ADJ] = "加分与扣分"
    ids = np.array(item_ids, dtype=object)
    main = _main_items(delta, shift, both, ids, labels, top)
    units = pd.DataFrame(
        {
            "unit": keys.get_level_values("unit"),
            "name": sa["name"].to_numpy(),
            "year": year,
            "kind": sa["kind"].to_numpy(),
            "rank_a": ra,
            "rank_b": rb,
            "shift": shift,
            **{f"total_{x}": t["total"].to_numpy(dtype=float) for x, t in (("a", sa), ("b", sb))},
            **{
                f"share_{x}": 100 * t["total"].to_numpy(dtype=float) / t["max_total"].to_numpy(dtype=float)
                for x, t in (("a", sa), ("b", sb))
            },
            "award_a": sa["award"].to_numpy(),
            "award_b": sb["award"].to_numpy(),
            "veto_a": sa["veto"].to_numpy(dtype=bool),
            "veto_b": sb["veto"].to_numpy(dtype=bool),
            "main_items": main,
        }
    )
    in_a = set(pts_a.columns) - ({ADJ} if not a.scheme.adjustments else set())
    in_b = set(pts_b.columns) - ({ADJ} if not b.scheme.adjustments else set())
    items = _items_table(units, ids, labels, in_a, in_b, pts_a, pts_b, ca, cb, delta)
    sums = _summary_rows(units, group, both, ra, rb, shift)
    drivers = _drivers(delta, shift, both, ids, labels, in_a, in_b)
    return Comparison(pd.DataFrame(sums), units, items, drivers, tuple(names))


def _main_items(delta, shift, both, ids, labels, top: int) -> list[str]:
    """Per unit that moved: the items that push it the way it moved, with their deltas."""
    main = []
    for i in range(len(shift)):
        if shift[i] == 0 or not both[i]:
            main.append("")
            continue
        push = delta[i] * -np.sign(shift[i])
        order = np.argsort(-push)[:top]
        main.append(
            "; ".join(f"{labels.get(ids[j], ids[j])} ({delta[i, j]:+.2f})" for j in order if push[j] > 0)
        )
    return main


def _items_table(units, ids, labels, in_a, in_b, pts_a, pts_b, ca, cb, delta) -> pd.DataFrame:
    """Per unit and item: both points and contributions and their delta (items that apply
    to the unit's kind in either scheme and contribute in one of them)."""
    n_units, item_ids = len(units), list(ids)
    items = pd.DataFrame(
        {
            **{c: np.repeat(units[c].to_numpy(), len(ids)) for c in ("unit", "name", "year", "kind")},
            "item": np.tile(ids, n_units),
            "label": np.tile([labels.get(x, x) for x in ids], n_units),
            "in_a": np.tile([x in in_a for x in ids], n_units),
            "in_b": np.tile([x in in_b for x in ids], n_units),
            "points_a": pts_a.reindex(columns=item_ids).to_numpy().ravel(),
            "points_b": pts_b.reindex(columns=item_ids).to_numpy().ravel(),
            "contribution_a": ca.to_numpy().ravel(),
            "contribution_b": cb.to_numpy().ravel(),
            "delta": delta.ravel(),
        }
    )
    applies = (items["points_a"].notna() | items["points_b"].notna()).to_numpy().copy()
    applies |= (items["item"] == ADJ).to_numpy()
    items = items[applies & ((items["contribution_a"] != 0) | (items["contribution_b"] != 0)).to_numpy()]
    return items.reset_index(drop=True)


def _summary_rows(units, group, both, ra, rb, shift) -> list[dict]:
    """Per year and kind: rank correlations, movers, shifts, changed vetoes and awards."""
    from scipy.stats import kendalltau, spearmanr

    year, kind = units["year"].to_numpy(), units["kind"].to_numpy()
    sums = []
    for g in np.unique(group):
        m = group == g
        mb = m & both
        # constant ranks have no correlation (and scipy would warn): NaN, as for < 3 units
        ok = mb.sum() > 2 and np.ptp(ra[mb]) > 0 and np.ptp(rb[mb]) > 0
        rho = spearmanr(ra[mb], rb[mb]).statistic if ok else np.nan
        tau = kendalltau(ra[mb], rb[mb]).statistic if ok else np.nan
        ab = np.abs(shift[m])
        sums.append(
            {
                "year": int(year[m][0]),
                "kind": kind[m][0],
                "units": int(m.sum()),
                "ranked_both": int(mb.sum()),
                "spearman": float(rho),
                "kendall_tau": float(tau),
                "n_moved": int((ab > 0).sum()),
                "mean_abs_shift": float(ab.mean()),
                "max_abs_shift": float(ab.max()),
                "n_veto_changed": int((units["veto_a"].to_numpy()[m] != units["veto_b"].to_numpy()[m]).sum()),
                "n_award_changed": int(
                    (units["award_a"].to_numpy()[m] != units["award_b"].to_numpy()[m]).sum()
                ),
            }
        )
    return sums


def _drivers(delta, shift, both, ids, labels, in_a, in_b) -> pd.DataFrame:
    """Per item: mean |delta|, its share of all |delta|, and its correlation with the moves."""
    from scipy.stats import spearmanr

    absd = np.abs(delta[both])
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = []
        for j in range(len(ids)):
            x, y = delta[both, j], -shift[both]
            ok = np.ptp(x) > 0 and np.ptp(y) > 0 and both.sum() > 2
            corr.append(spearmanr(x, y).statistic if ok else np.nan)
        tot = absd.sum()
        drivers = pd.DataFrame(
            {
                "item": ids,
                "label": [labels.get(x, x) for x in ids],
                "in_a": [x in in_a for x in ids],
                "in_b": [x in in_b for x in ids],
                "mean_abs_delta": absd.mean(axis=0) if both.any() else np.nan,
                "share": absd.sum(axis=0) / tot if tot > 0 else 0.0,
                "corr_with_move": corr,
            }
        )
    return drivers.sort_values("share", ascending=False, kind="stable").reset_index(drop=True)
