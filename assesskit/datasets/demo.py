"""A deterministic generator of realistic, clearly synthetic demo panels.

One panel per bundled scheme, for the units the source documents name, counts first and
rates derived from them. Everything random comes from ``numpy.random.default_rng`` seeded
with ``(seed, crc32(scheme id))``, so the same seed gives byte-identical files.

What it plants, and why (also written to the output folder's README.md):

- **Sex ratio at birth** starts high (110–125 per unit) and drifts toward ~106 over the
  years, with binomial noise, so its noise shrinks with the number of births. Two units
  per scheme (the ``srb_high`` units, drawn among the units of at least median size) keep
  a true ratio of 125–132 throughout, so the statistics have real outliers to find, large
  enough for one year's exact test after Holm's adjustment.
- **Policy compliance** mostly 93–99.9%, a few units just around the thresholds.
- **Bunching above 99%** (Wujin, whose target is 99%): in 2014–2016 several towns whose
  true compliance is 97–99% report counts that put them *just* over 99% — too many units
  in the thin band above the target and too few just below it.
- **One falsification case** per scheme that counts them, in one unit-year; that unit's
  *reported* compliance (``policy_rate_reported``) is also inflated above what its counts
  give, so the internal-consistency diagnostic has something to find.
- Inspector grades mostly high, case counts for bonuses and deductions, a few missing
  cells (never in the counts behind vetoes), a handful of rates at or just below target.

Every output file name contains ``synthetic``, every registry row has ``synthetic=true``,
and ``manifest.json`` says so with the seed and each file's SHA-256.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..scheme import CategoryTarget, Scheme, TableTarget, bundled_schemes, load_scheme
from . import EXAMPLES

GENERATOR_VERSION = "1"
STANDARD = ("births", "male_births", "female_births", "policy_births", "population", "deaths")

# Years per scheme: the scheme's own years plus history (for trends and change rules).
YEARS = {
    "wujin_2016": (2012, 2016),
    "xpcc_2015": (2013, 2016),
    "foshan_2006": (2005, 2010),
    "district_1000": (2009, 2013),
    "floating_inflow_2007": (2008, 2012),
    "floating_outflow_2007": (2008, 2012),
}
# Births per unit-year by kind of unit: (low, high) of the unit's typical size.
BIRTHS = {
    "town": (300, 3000),
    "division": (800, 5000),
    "district": (6000, 25000),
    "province": (5000, 60000),
}
_DEPARTMENTS = [
    "区公安局",
    "区卫生局",
    "区民政局",
    "区教育局",
    "区财政局",
    "区人社局",
    "区统计局",
    "区农业局",
]
_TOWNS = [
    "甲镇",
    "乙镇",
    "丙镇",
    "丁镇",
    "戊镇",
    "己镇",
    "庚镇",
    "辛镇",
    "东街道",
    "西街道",
    "南街道",
    "北街道",
]
_PROVINCES = ["示例甲省", "示例乙省", "示例丙省", "示例丁省", "示例戊省", "示例己省", "示例庚省", "示例辛省"]


@dataclass
class DemoPanel:
    """The generated tables for one scheme (the ``data``/``units``/``targets``/``grades``
    keyword arguments of :func:`assesskit.score`) and what was planted in them."""

    scheme_id: str
    data: pd.DataFrame
    units: pd.DataFrame
    targets: pd.DataFrame | None = None
    grades: pd.DataFrame | None = None
    planted: list[str] = field(default_factory=list)
    truth: pd.DataFrame | None = None  # the generator's true SRB and compliance per unit-year

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"data": self.data, "units": self.units}
        if self.targets is not None:
            out["targets"] = self.targets
        if self.grades is not None:
            out["grades"] = self.grades
        return out


FILE_NAMES = {
    "data": "panel.synthetic.csv",
    "units": "units.synthetic.csv",
    "targets": "targets.csv",
    "grades": "grades.synthetic.csv",
    "truth": "truth.synthetic.csv",
}


def _registry(scheme: Scheme) -> pd.DataFrame:
    """The units: the source's own (from the hand-made example's registry) where the
    documents name them, placeholders where they do not."""
    sid = scheme.id
    if sid == "district_1000":
        towns = pd.DataFrame(
            {"unit": [f"T{i + 1:02d}" for i in range(len(_TOWNS))], "name": _TOWNS, "kind": "town"}
        )
        towns["category"] = np.where(towns["name"].str.endswith("街道"), "street", "township")
        depts = pd.DataFrame(
            {
                "unit": [f"D{i + 1:02d}" for i in range(len(_DEPARTMENTS))],
                "name": _DEPARTMENTS,
                "kind": "department",
                "category": None,
            }
        )
        reg = pd.concat([towns, depts], ignore_index=True)
        if not set(reg["category"].dropna()) <= set(scheme.categories):
            reg["category"] = None
    elif sid.startswith("floating_"):
        reg = pd.DataFrame(
            {
                "unit": [f"P{i + 1:02d}" for i in range(len(_PROVINCES))],
                "name": _PROVINCES,
                "kind": next(iter(scheme.kinds)),
                "category": None,
            }
        )
    else:
        reg = pd.read_csv(EXAMPLES / sid / "units.csv", dtype=str)
        reg = reg.drop(columns=[c for c in ("synthetic",) if c in reg.columns])
    reg["synthetic"] = True
    return reg.reset_index(drop=True)


def _users(scheme: Scheme) -> dict[str, list]:
    out: dict[str, list] = {}
    for _p, it in scheme.flat_items:
        out.setdefault(it.rule.indicator, []).append(it)
    return out


def _typical_target(rule) -> float | None:
    t = getattr(rule, "target", None)
    if isinstance(t, (int, float)):
        return float(t)
    if isinstance(t, CategoryTarget):
        return float(np.mean(list(t.by_category.values())))
    if isinstance(t, TableTarget):
        return t.default
    return None


def _size_factor(col: str, rng: np.random.Generator) -> tuple[str, float]:
    """How a denominator column scales, judged from its name (documented heuristic)."""
    name = col.lower()
    if any(w in name for w in ("population", "persons", "members")):
        return "population", rng.uniform(0.3, 1.0)
    if any(w in name for w in ("village", "market", "association", "site")):
        return "fixed", rng.uniform(5, 40)
    if any(w in name for w in ("employer", "landlord", "self_employed")):
        return "fixed", rng.uniform(30, 400)
    if "yuan" in name:
        return "births", rng.uniform(300, 900)
    return "births", rng.uniform(0.3, 3.0)


@dataclass
class _Grid:
    """The unit × year rows of one panel, unit-major, and the arrays that index them."""

    reg: pd.DataFrame
    years: np.ndarray
    y0: int
    y1: int
    nu: int
    n: int
    unit: np.ndarray
    kind: np.ndarray
    year: np.ndarray
    t: np.ndarray  # years since the start
    ui: np.ndarray  # the unit's position in the registry
    names: np.ndarray


def _grid(scheme: Scheme, reg: pd.DataFrame) -> _Grid:
    y0, y1 = YEARS.get(scheme.id, (scheme.years[0] - 1, scheme.years[1]))
    years = np.arange(y0, y1 + 1)
    nu, ny = len(reg), len(years)
    return _Grid(
        reg=reg,
        years=years,
        y0=y0,
        y1=y1,
        nu=nu,
        n=nu * ny,
        unit=np.repeat(reg["unit"].to_numpy(), ny),
        kind=np.repeat(reg["kind"].to_numpy(), ny),
        year=np.tile(years, nu),
        t=np.tile(np.arange(ny), nu),
        ui=np.repeat(np.arange(nu), ny),
        names=reg["name"].to_numpy(),
    )


def _demo_kinds(scheme: Scheme) -> set[str]:
    """The unit kinds whose lines read a rate: they get births, sex ratio and compliance."""
    line_kind = {ln.id: ln.unit_kind for ln in scheme.lines}
    kind_reads = {k: set() for k in scheme.kinds}
    for path, it in scheme.flat_items:
        kind_reads[line_kind[path[0]]].add(it.rule.indicator)
    return {k for k, inds in kind_reads.items() if any(scheme.indicators[i].is_rate for i in inds)}


def make_panel(scheme: Scheme, seed: int = 0) -> DemoPanel:
    """Generate the demo panel for one scheme (pure: no files)."""
    # the steps draw from one generator in a fixed order: reordering them changes every file
    rng = np.random.default_rng([seed, zlib.crc32(scheme.id.encode())])
    reg = _registry(scheme)
    g = _grid(scheme, reg)
    planted: list[str] = []
    users = _users(scheme)
    demo_kinds = _demo_kinds(scheme)
    has_demo = np.isin(g.kind, list(demo_kinds))

    cols, srb_true, comp = _demography(g, demo_kinds, rng, planted)
    cols["policy_births"] = _plant_bunching(scheme, g, cols["births"], cols["policy_births"], rng, planted)
    cols["female_births"] = cols["births"] - cols["male_births"]
    cols = {c: cols[c] for c in STANDARD}  # the column order of the files
    _rate_columns(scheme, g, cols, users, rng)
    special = _special_columns(scheme)
    grades_long = _plain_columns(scheme, g, cols, users, special, rng)
    _clip_to_ranges(scheme, cols)
    _plant_falsification(scheme, g, cols, has_demo, rng, planted)
    _plant_missing(scheme, g, cols, special, rng, planted)

    data = pd.DataFrame({"unit": g.unit, "year": g.year})
    for c, v in cols.items():
        v = np.where(has_demo, v, np.nan) if c in STANDARD or c == "policy_rate_reported" else v
        s = pd.Series(v)
        if c != "policy_rate_reported" and s.dtype.kind in "fi" and np.allclose(s.dropna() % 1, 0):
            s = s.astype("Int64")
        data[c] = s
    data = data.copy()
    grades = pd.concat(grades_long, ignore_index=True) if grades_long else None
    if grades is not None:
        grades = grades[np.isin(grades["unit"], reg["unit"][reg["kind"].isin(_graded_kinds(scheme))])]
        grades = grades.reset_index(drop=True)
    targets = _targets(scheme, reg, g.years, rng)
    truth = pd.DataFrame(
        {
            "unit": g.unit,
            "year": g.year,
            "srb_true": np.round(srb_true, 4),
            "compliance_true": np.round(comp * 100, 4),
        }
    )[has_demo].reset_index(drop=True)
    return DemoPanel(scheme.id, data, reg, targets, grades, planted, truth)


def _demography(
    g: _Grid, demo_kinds: set[str], rng: np.random.Generator, planted: list[str]
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Births, sex ratio, compliance, population, deaths; and the true sex ratio and compliance."""
    nu, n, ui, t, reg = g.nu, g.n, g.ui, g.t, g.reg
    lo, hi = BIRTHS.get(next(iter(demo_kinds), "town"), (300, 3000))
    size_u = np.exp(rng.uniform(np.log(lo), np.log(hi), nu))
    births = np.round(size_u[ui] * rng.uniform(0.9, 1.1, n) * (1 - 0.02 * t)).astype(np.int64)
    srb0 = rng.uniform(110, 125, nu)
    drift = rng.uniform(0.1, 0.3, nu)
    demo_units = np.flatnonzero(reg["kind"].isin(list(demo_kinds)).to_numpy())
    # the planted high sex ratios go to units of at least median size, so that one year's exact
    # test can tell them from 107 even after Holm's adjustment over all units of the year
    big = demo_units[size_u[demo_units] >= np.median(size_u[demo_units])] if demo_units.size else demo_units
    high = np.sort(rng.choice(big, size=min(2, big.size), replace=False))
    drift[high] = 0.0
    srb0[high] = rng.uniform(125, 132, high.size)
    srb_true = 106 + (srb0[ui] - 106) * np.exp(-drift[ui] * t)
    male = rng.binomial(births, srb_true / (100 + srb_true))
    comp_u = rng.uniform(0.945, 0.999, nu)
    comp = np.clip(comp_u[ui] + rng.normal(0, 0.004, n) + 0.002 * t, 0.85, 1.0)
    policy = rng.binomial(births, comp)
    pop = np.round(births / rng.uniform(0.009, 0.0113, nu)[ui]).astype(np.int64)  # birth rate 9–11.3‰
    deaths = rng.binomial(pop, rng.uniform(0.005, 0.007, nu)[ui])
    planted.append(
        "sex ratio at birth stays far above 107 (no drift toward normal) in: "
        + ", ".join(f"{g.names[i]} ({reg['unit'][i]})" for i in high)
    )
    cols = dict(births=births, male_births=male, policy_births=policy, population=pop, deaths=deaths)
    return cols, srb_true, comp


def _plant_bunching(
    scheme: Scheme,
    g: _Grid,
    births: np.ndarray,
    policy: np.ndarray,
    rng: np.random.Generator,
    planted: list[str],
) -> np.ndarray:
    """Bunching just above a 99% target (schemes with a 99% compliance threshold): the new policy births."""
    target99 = any(
        it.rule.type == "threshold"
        and _typical_target(it.rule) == 99
        and scheme.indicators[it.rule.indicator].numerator == ["policy_births"]
        for _p, it in scheme.flat_items
    )
    if not target99:
        return policy
    y0, y1 = g.y0, g.y1
    late = g.year >= max(y1 - 2, y0)
    cand = np.flatnonzero(late & (policy / births < 0.99) & (policy / births >= 0.97))
    pick = np.sort(rng.choice(cand, size=min(len(cand), max(3, g.nu // 2 * 3 // 2)), replace=False))
    policy[pick] = np.ceil(0.99 * births[pick]).astype(np.int64) + rng.integers(0, 2, pick.size)
    policy = np.minimum(policy, births)
    bunch_units = sorted({g.names[g.ui[i]] for i in pick})
    planted.append(
        f"bunching just above the 99% compliance target: {pick.size} unit-years in {y1 - 2}–{y1} whose "
        f"true compliance was 97–99% report counts giving 99.0–99.1% ({', '.join(bunch_units)})"
    )
    return policy


def _rate_columns(
    scheme: Scheme, g: _Grid, cols: dict[str, np.ndarray], users: dict[str, list], rng: np.random.Generator
) -> None:
    """Every other rate: denominator by a size heuristic, numerator near the target (into ``cols``)."""
    n, nu, ui, t = g.n, g.nu, g.ui, g.t
    for ind_id, ind in scheme.indicators.items():
        if not ind.is_rate:
            continue
        dens = [c.lstrip("-") for c in ind.denominator]
        for d in dens:
            if d not in cols:
                how, f = _size_factor(d, rng)
                base = {"population": cols["population"], "births": cols["births"], "fixed": np.ones(n)}[how]
                cols[d] = np.maximum(np.round(base * f * rng.uniform(0.9, 1.1, n)), 1).astype(np.int64)
        den = np.sum([-cols[c[1:]] if c.startswith("-") else cols[c] for c in ind.denominator], axis=0)
        den = np.maximum(den, 0)
        for c in ind.numerator:
            c = c.lstrip("-")
            if c in cols:
                continue
            rule = users[ind_id][0].rule if ind_id in users else None
            tgt = _typical_target(rule) if rule is not None else None
            op = getattr(rule, "op", ">=") if rule is not None else ">="
            if ind.max is not None and ind.max <= ind.scale:  # a share
                aim = (tgt if tgt is not None else 95.0) / ind.scale
                if rule is not None and rule.type == "change":
                    p = np.clip(rng.uniform(0.25, 0.4, nu)[ui] + 0.02 * t, 0, 1)
                elif op.startswith("<"):
                    p = np.clip(rng.normal(aim * 0.7, aim * 0.4, nu)[ui], 0, 1)
                elif aim >= 1:
                    p = np.where(rng.random(n) < 0.8, 1.0, rng.uniform(0.95, 0.999, n))
                else:
                    p = np.clip(rng.normal(aim + 0.02, 0.02, nu)[ui] + rng.normal(0, 0.005, n), 0, 1)
                cols[c] = rng.binomial(den, p)
            else:
                cols[c] = np.round(den * rng.uniform(0.8, 1.1, n)).astype(np.int64)


@dataclass
class _Special:
    """Columns with a role beyond a plain indicator: adjustments, assessed amounts, veto conditions."""

    adj_cols: dict[str, str]
    assessed: dict[str, object]
    cond_cols: set[str]


def _special_columns(scheme: Scheme) -> _Special:
    return _Special(
        adj_cols={c: a.kind for a in scheme.adjustments for c in a.per_case},
        assessed={a.assessed.indicator: a.assessed for a in scheme.adjustments if a.assessed},
        cond_cols={c.indicator for v in scheme.vetoes for c in v.when.walk() if c.indicator},
    )


def _plain_columns(
    scheme: Scheme,
    g: _Grid,
    cols: dict[str, np.ndarray],
    users: dict[str, list],
    sp: _Special,
    rng: np.random.Generator,
) -> list[pd.DataFrame]:
    """Plain numbers and counts (into ``cols``); the grades, long, returned."""
    n = g.n
    grades_long = []
    for ind_id, ind in scheme.indicators.items():
        col = ind.column or ind_id
        if ind.is_rate or col in cols:
            continue
        us = users.get(ind_id, [])
        rule = us[0].rule if us else None
        if rule is not None and rule.type == "graded":
            drawn = _grade_draws(rule, us[0].points, n, rng)
            grades_long.append(pd.DataFrame({"unit": g.unit, "year": g.year, "item": ind_id, "grade": drawn}))
            continue
        if col in sp.assessed:
            a = sp.assessed[col]
            hit = rng.random(n) < 0.04
            cols[col] = np.where(hit, np.round(rng.uniform(a.min, a.max, n) / 5) * 5, 0).astype(np.int64)
        elif "falsif" in col:
            cols[col] = np.zeros(n, dtype=np.int64)
        elif col in sp.adj_cols:
            rate = 0.2 if sp.adj_cols[col] == "bonus" else 0.06
            cols[col] = rng.poisson(rate, n)
        elif col in sp.cond_cols:
            cols[col] = (rng.random(n) < 0.02).astype(np.int64)
        elif ind.kind == "count":
            tgt = _typical_target(rule) if rule is not None else None
            op = getattr(rule, "op", ">=") if rule is not None else ">="
            if rule is not None and rule.type == "per_case":
                cols[col] = rng.poisson(0.15, n)
            elif op.startswith("<"):
                cols[col] = (rng.random(n) < 0.04).astype(np.int64)
            else:
                cols[col] = rng.poisson(max(tgt or 1, 1) * 1.4, n)

        else:  # a reported percentage without its counts
            tgt = _typical_target(rule) if rule is not None else None
            if tgt is None or tgt >= 100:
                v = np.where(rng.random(n) < 0.8, 100.0, np.round(rng.uniform(95, 99.9, n), 1))
            else:
                v = np.round(np.clip(rng.normal(tgt + 3, 1.5, n), 0, 100), 1)
            cols[col] = v
    return grades_long


def _grade_draws(rule, pts: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` grades of a graded rule: mostly the best labels, or a high share of the top."""
    if rule.scale == "labels":
        labs = sorted(rule.labels, key=lambda k: -rule.labels[k])
        probs = np.array([0.6, 0.3, 0.1, 0.05, 0.05][: len(labs)])
        return np.array(labs, dtype=object)[rng.choice(len(labs), n, p=probs / probs.sum())]
    top = {"points": pts, "fraction": 1.0, "percent": 100.0}[rule.scale]
    return np.round(top * np.clip(rng.beta(6, 1.2, n), 0, 1), 1 if rule.scale != "fraction" else 2)


def _clip_to_ranges(scheme: Scheme, cols: dict[str, np.ndarray]) -> None:
    """Every plain column inside its indicator's declared range."""
    for ind_id, ind in scheme.indicators.items():
        col = ind.column or ind_id
        if not ind.is_rate and col in cols and (ind.min is not None or ind.max is not None):
            lo_, hi_ = (
                (ind.min if ind.min is not None else -np.inf),
                (ind.max if ind.max is not None else np.inf),
            )
            cols[col] = np.clip(cols[col], lo_, hi_).astype(cols[col].dtype)


def _plant_falsification(
    scheme: Scheme,
    g: _Grid,
    cols: dict[str, np.ndarray],
    has_demo: np.ndarray,
    rng: np.random.Generator,
    planted: list[str],
) -> None:
    """One falsification case, and its inflated reported compliance (``policy_rate_reported``)."""
    births, policy, year = cols["births"], cols["policy_births"], g.year
    fals_cols = [c for c in cols if "falsif" in c]
    if "falsification_serious_cases" in fals_cols:  # graded severity: plant the minor one
        fals_cols = [c for c in fals_cols if "minor" in c]
    reported = np.round(policy / np.where(births > 0, births, 1) * 100, 2)
    demo_rows = np.flatnonzero(has_demo & (year >= scheme.years[0]) & (year <= scheme.years[1]))
    if fals_cols and demo_rows.size:
        # the falsifier is a unit with a motive: compliance below 97% (or the lowest there is)
        rate = policy[demo_rows] / births[demo_rows]
        motive = demo_rows[rate < 0.97] if (rate < 0.97).any() else demo_rows[[int(np.argmin(rate))]]
        r = int(rng.choice(motive))
        cols[fals_cols[0]][r] = 1
        true_rate = reported[r]
        reported[r] = round(min(99.8, true_rate + rng.uniform(1.5, 3.0)), 2)
        planted.append(
            f"one data-falsification case: {g.names[g.ui[r]]} ({g.unit[r]}) in {year[r]} ({fals_cols[0]} = 1); "
            f"its reported compliance {reported[r]:.2f}% exceeds the {true_rate:.2f}% its counts give"
        )
    cols["policy_rate_reported"] = reported


def _plant_missing(
    scheme: Scheme,
    g: _Grid,
    cols: dict[str, np.ndarray],
    sp: _Special,
    rng: np.random.Generator,
    planted: list[str],
) -> None:
    """A few missing cells, never in the standard counts or behind vetoes."""
    protected = set(STANDARD) | sp.cond_cols | set(sp.adj_cols) | set(sp.assessed) | {"policy_rate_reported"}
    for ind in scheme.indicators.values():
        if ind.is_rate and any(c.lstrip("-") == "policy_births" for c in ind.numerator):
            protected |= {c.lstrip("-") for c in ind.numerator + ind.denominator}
    optional = [c for c in cols if c not in protected and cols[c].dtype != object]
    n_missing = 0
    for c in optional:
        hole = rng.random(g.n) < 0.004
        if hole.any():
            cols[c] = np.where(hole, np.nan, cols[c].astype(float))
            n_missing += int(hole.sum())
    planted.append(
        f"{n_missing} missing cells scattered over optional columns (scored by the missing-data policy)"
    )


def _graded_kinds(scheme: Scheme) -> set[str]:
    line_kind = {ln.id: ln.unit_kind for ln in scheme.lines}
    return {line_kind[p[0]] for p, it in scheme.flat_items if it.rule.type == "graded"}


def _targets(scheme: Scheme, reg: pd.DataFrame, years: np.ndarray, rng) -> pd.DataFrame | None:
    names = sorted(
        {
            it.rule.target.table
            for _p, it in scheme.flat_items
            if isinstance(getattr(it.rule, "target", None), TableTarget)
        }
    )
    if not names:
        return None
    published = EXAMPLES / scheme.id / "targets.csv"
    if scheme.id == "foshan_2006" and published.exists():
        # the published district targets of document 002 part 5 (real), one row per year
        t = pd.read_csv(published)
        return t[t["year"].isin(years)].reset_index(drop=True)
    rows = []
    for u in reg["unit"][reg["kind"].isin(_table_kinds(scheme))]:
        base = {nm: float(rng.choice([95.0, 95.0, 95.0, 96.0])) for nm in names}
        for y in years:
            rows.append({"unit": u, "year": int(y), **base})
    return pd.DataFrame(rows)


def _table_kinds(scheme: Scheme) -> set[str]:
    line_kind = {ln.id: ln.unit_kind for ln in scheme.lines}
    return {
        line_kind[p[0]]
        for p, it in scheme.flat_items
        if isinstance(getattr(it.rule, "target", None), TableTarget)
    }


def make_demo_data(seed: int = 0, schemes: list[str] | None = None) -> dict[str, DemoPanel]:
    """Demo panels for the bundled schemes (all by default), keyed by scheme id."""
    paths = bundled_schemes()
    ids = schemes or [p.stem for p in paths]
    return {sid: make_panel(load_scheme(sid), seed) for sid in ids}


def write_demo_data(out_dir: str | Path, seed: int = 0, schemes: list[str] | None = None) -> Path:
    """Generate and write the demo panels: ``DIR/<scheme>/*.synthetic.csv``,
    ``DIR/README.md`` (what is planted) and ``DIR/manifest.json`` (seed, hashes).

    Files are written all-or-nothing per scheme (see :func:`assesskit._io.write_outputs`).
    """
    from .._io import write_outputs

    out = Path(out_dir)
    panels = make_demo_data(seed, schemes)
    manifest = {
        "synthetic": True,
        "generator": f"assesskit.datasets.demo v{GENERATOR_VERSION}",
        "seed": seed,
        "files": {},
    }
    readme = [
        "# assesskit demo data — SYNTHETIC",
        "",
        f"Generated by `assesskit demo-data --seed {seed}`. Every number here is invented: no",
        "unit-level data exist publicly for these schemes. Unit names are those the source",
        "documents give (placeholders where they give none). Do not cite these figures.",
        "",
        "Targets in `foshan_2006/targets.csv` are the real published district targets.",
        "",
    ]
    for sid, p in panels.items():
        files = {FILE_NAMES[role]: df for role, df in p.tables().items()}
        files[FILE_NAMES["truth"]] = p.truth
        written = write_outputs(out / sid, files)
        for f in written:
            manifest["files"][f"{sid}/{f.name}"] = hashlib.sha256(f.read_bytes()).hexdigest()
        readme += [f"## {sid}", ""] + [f"- {line}" for line in p.planted] + [""]
    write_outputs(out, {"README.md": "\n".join(readme), "manifest.json": manifest})
    return out
