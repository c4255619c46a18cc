"""Random panels for any scheme, vectorised and seeded: for benchmarks and differential tests.

Not the demo data (that is hand-made per scheme in ``assesskit/datasets/examples``): this
fills every column a scheme reads with plausible random numbers, a few missing cells and
occasional cases for deductions, so that every branch of every rule is exercised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assesskit.scheme import Scheme, TableTarget


def random_panel(
    scheme: Scheme, n_units: int, n_years: int, seed: int = 0, missing: float = 0.03, kind: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A panel in :class:`assesskit.data.Panel` form (already validated shape) and targets.

    Returns
    -------
    data : DataFrame
        unit, year, name, kind, category and every column the scheme reads.
    targets : DataFrame
        Index (unit, year); one column per table target.
    """
    rng = np.random.default_rng(seed)
    kinds = list(scheme.kinds)
    years = np.arange(scheme.years[1] - n_years + 1, scheme.years[1] + 1)
    units = np.array([f"u{i:05d}" for i in range(n_units)])
    # every kind gets units (the first kind most), unless one kind is asked for
    unit_kind = np.array(kinds)[np.minimum(rng.integers(0, len(kinds) + 2, n_units), len(kinds) - 1)[::-1]]
    if kind is not None:
        unit_kind = np.full(n_units, kind)
    cats = list(scheme.categories) or [None]
    unit_cat = np.array(cats, dtype=object)[rng.integers(0, len(cats), n_units)]
    n = n_units * n_years
    data = pd.DataFrame(
        {
            "unit": np.repeat(units, n_years),
            "year": np.tile(years, n_units),
            "kind": np.repeat(unit_kind, n_years),
            "category": np.repeat(unit_cat, n_years),
        }
    )
    data["name"] = data["unit"]
    cols: dict[str, np.ndarray] = {}

    # standard demographic counts, consistent with each other
    births = rng.integers(100, 3000, n).astype(float)
    male = rng.binomial(births.astype(int), 0.53).astype(float)
    cols.update(
        births=births,
        male_births=male,
        female_births=births - male,
        policy_births=rng.binomial(births.astype(int), rng.uniform(0.9, 1.0, n)).astype(float),
        population=np.round(births * rng.uniform(80, 100, n)),
        deaths=np.round(births * rng.uniform(0.4, 0.6, n)),
    )
    for ind in scheme.indicators.values():
        if ind.is_rate:
            dens = [c.lstrip("-") for c in ind.denominator]
            for d in dens:
                cols.setdefault(d, rng.integers(50, 2000, n).astype(float))
            den = np.sum([cols[d] for d in dens], axis=0)
            share = ind.max is not None and ind.max <= ind.scale
            for c in ind.numerator:
                c = c.lstrip("-")
                if c not in cols:
                    p = rng.uniform(0.8, 1.0, n)
                    cols[c] = (
                        rng.binomial(den.astype(int), p).astype(float) if share else np.round(den * p * 1.2)
                    )
    for ind_id, ind in scheme.indicators.items():
        col = ind.column or ind_id
        if ind.is_rate or col in cols:
            continue
        if ind.kind == "label":
            labels = next(
                (list(it.rule.labels) for _p, it in scheme.flat_items if it.rule.indicator == ind_id), ["x"]
            )
            cols[col] = np.array(labels, dtype=object)[rng.integers(0, len(labels), n)]
        elif ind.kind == "count":
            cols[col] = rng.poisson(0.3, n).astype(float)
        else:
            users = [it for _p, it in scheme.flat_items if it.rule.indicator == ind_id]
            if users and users[0].rule.type == "graded":
                hi = {"points": users[0].points, "fraction": 1.0, "percent": 100.0}[users[0].rule.scale]
                cols[col] = np.round(rng.uniform(0.5, 1.0, n) * hi, 1)
            elif users and users[0].rule.type == "per_case":
                cols[col] = rng.poisson(0.5, n).astype(float)
            else:
                t = getattr(users[0].rule, "target", None) if users else None
                base = float(t) if isinstance(t, (int, float)) else 90.0
                v = np.round(base * rng.uniform(0.9, 1.1, n), 2)
                cols[col] = np.clip(
                    v, ind.min if ind.min is not None else -np.inf, ind.max if ind.max is not None else np.inf
                )
    for adj in scheme.adjustments:
        if adj.assessed:
            a = adj.assessed
            hit = rng.random(n) < 0.05
            cols[a.indicator] = np.where(hit, np.round(rng.uniform(a.min, a.max, n)), 0.0)
    for c, v in cols.items():
        if v.dtype != object and missing > 0:
            cols[c] = np.where(rng.random(n) < missing, np.nan, v)
    data = pd.concat([data, pd.DataFrame(cols, index=data.index)], axis=1)
    names = sorted(
        {
            it.rule.target.table
            for _p, it in scheme.flat_items
            if isinstance(getattr(it.rule, "target", None), TableTarget)
        }
    )
    targets = pd.DataFrame(
        {name: np.round(rng.uniform(85, 99, n), 1) for name in names},
        index=pd.MultiIndex.from_frame(data[["unit", "year"]]),
    )
    return data, targets
