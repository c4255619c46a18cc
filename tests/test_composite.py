"""Composite indices: normalisers and aggregators by hand, the ASEM example against an
independent re-implementation of COINr's pipeline, the import, and the analyses."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from assesskit import DataError, SchemeError, score
from assesskit.analyses.composite import (
    leave_level_out,
    node_alpha,
    node_scores,
    uncertainty,
)
from assesskit.cli import main
from assesskit.datasets import load
from assesskit.importers import import_coinr
from assesskit.kernel.aggregate import aggregate, competition_ranks, normalise
from assesskit.scheme import NormaliseRule, parse_scheme
from assesskit.stats.diagnostics import cronbach_alpha as alpha_matrix
from assesskit.stats.diagnostics import effective_weights

nan = np.nan


def rule(**kw) -> NormaliseRule:
    return NormaliseRule(type="normalise", indicator="x", **kw)


# --------------------------------------------------------------------------- normalisers
def test_minmax_within_groups_and_direction():
    g = np.array([0, 0, 0, 0, 1, 1])
    x = np.array([2.0, 4, 6, nan, 10, 20])
    np.testing.assert_allclose(normalise(x, g, rule()), [0, 50, 100, nan, 0, 100])
    np.testing.assert_allclose(normalise(x, g, rule(direction=-1)), [100, 50, 0, nan, 100, 0])
    np.testing.assert_allclose(normalise(x, g, rule(scale=(1, 100))), [1, 50.5, 100, nan, 1, 100])
    # a constant group has no range: NaN, as COINr
    assert np.isnan(normalise(np.array([3.0, 3.0]), np.zeros(2, int), rule())).all()


def test_zscore_goalposts_rank_percentile_distance():
    g = np.zeros(3, int)
    np.testing.assert_allclose(normalise(np.array([1.0, 2, 3]), g, rule(method="zscore")), [-1, 0, 1])
    np.testing.assert_allclose(
        normalise(np.array([1.0, 2, 3]), g, rule(method="zscore", mean_sd=(10, 2))), [8, 10, 12]
    )
    gp = rule(method="goalposts", goalposts=(0, 10, 100))
    np.testing.assert_allclose(normalise(np.array([-5.0, 5, 15]), g, gp), [0, 50, 100])
    # lower is better: 2 is near the good post 0 → 0.8; 8 → 0.2
    gp_neg = rule(method="goalposts", goalposts=(0, 10, 1), direction=-1)
    np.testing.assert_allclose(normalise(np.array([2.0, 8]), np.zeros(2, int), gp_neg), [0.8, 0.2])
    g5 = np.zeros(5, int)
    x = np.array([10.0, 30, 30, 20, nan])
    np.testing.assert_allclose(normalise(x, g5, rule(method="rank")), [1, 3, 3, 2, nan])
    np.testing.assert_allclose(normalise(x, g5, rule(method="percentile")), [0, 2 / 3, 2 / 3, 1 / 3, nan])
    d = rule(method="distance", target=10)
    np.testing.assert_allclose(normalise(np.array([5.0, 10, 12]), g, d), [0, 1, 1.4])
    np.testing.assert_allclose(
        normalise(np.array([5.0, 10, 12]), g, rule(method="distance", target=10, cap=True)), [0, 1, 1]
    )


# --------------------------------------------------------------------------- aggregators
def test_aggregators_by_hand_with_missing_values():
    v = np.array([[50.0, 100, nan]])
    assert aggregate(v, np.array([1.0, 1, 2]), "mean")[0] == pytest.approx(75)  # NaN drops, weights rescale
    assert aggregate(np.array([[4.0, 16]]), np.array([1.0, 1]), "geometric")[0] == pytest.approx(8)
    assert aggregate(np.array([[4.0, 16]]), np.array([1.0, 3]), "geometric")[0] == pytest.approx(2**3.5)
    assert aggregate(np.array([[2.0, 6]]), np.array([1.0, 1]), "harmonic")[0] == pytest.approx(3)
    # missing children drop out of the geometric and harmonic means too
    assert aggregate(np.array([[4.0, nan, 16]]), np.ones(3), "geometric")[0] == pytest.approx(8)
    assert aggregate(np.array([[nan, 2.0, 6]]), np.ones(3), "harmonic")[0] == pytest.approx(3)
    assert aggregate(np.array([[1.0, nan, 2]]), np.ones(3), "sum")[0] == 3
    assert np.isnan(aggregate(np.array([[nan, nan]]), np.ones(2), "mean")[0])
    # the only child present has weight 0: undefined, not 0
    assert np.isnan(aggregate(np.array([[5.0, nan]]), np.array([0.0, 1]), "mean")[0])
    # draws × units × children broadcast against draws × 1 × children weights
    out = aggregate(np.array([[[0.0, 100]], [[0.0, 100]]]), np.array([[[1.0, 1]], [[1.0, 3]]]), "mean")
    np.testing.assert_allclose(out, [[50], [75]])


def test_ties_share_the_best_rank():
    with pytest.warns(DeprecationWarning, match="rank_within"):  # the kernel's one ranking now
        np.testing.assert_array_equal(competition_ranks(np.array([3.0, 5, 5, 1])), [3, 1, 1, 4])
        r = competition_ranks(np.array([3.0, nan, 1]))
    assert r[0] == 1 and np.isnan(r[1]) and r[2] == 2


# --------------------------------------------------------------------------- a small scheme by hand
SMALL = """
id: small
label: 小型综合指数
source: hand-made test scheme
years: [2020, 2020]
kinds: {unit: {label: 单位}}
missing: drop
floor: null
indicators: {a: {label: A}, b: {label: B}, c: {label: C}}
lines:
  - id: index
    label: 指数
    unit_kind: unit
    aggregate: mean
    points: 100
    items:
      - id: p1
        label: 一
        aggregate: mean
        weight: 3
        items:
          - {id: ia, label: A, weight: 1, rule: {type: normalise, indicator: a}}
          - {id: ib, label: B, weight: 1, rule: {type: normalise, indicator: b, direction: -1}}
      - id: p2
        label: 二
        aggregate: mean
        weight: 1
        items:
          - {id: ic, label: C, rule: {type: normalise, indicator: c}}
"""


def small_data() -> pd.DataFrame:
    return pd.DataFrame(
        {"unit": ["u1", "u2", "u3"], "year": 2020, "a": [0.0, 5, 10], "b": [1.0, 2, nan], "c": [7.0, 8, 9]}
    )


def test_small_composite_scored_by_hand():
    res = score(parse_scheme(yaml.safe_load(SMALL)), small_data())
    s = res.summary.set_index("unit")
    # ia: 0, 50, 100; ib (lower better, u3 missing): 100, 0, —; ic: 0, 50, 100
    # p1 = mean(ia, ib): 50, 25, 100 (u3 has ia only); p2 = ic
    # index = (3·p1 + 1·p2)/4: u1 37.5, u2 31.25, u3 100
    np.testing.assert_allclose(s.loc[["u1", "u2", "u3"], "total"], [37.5, 31.25, 100])
    assert s.loc[["u3", "u1", "u2"], "rank"].tolist() == [1, 2, 3]
    items = res.items.set_index(["unit", "item"])
    assert items.loc[("u3", "ib"), "status"] == "missing"
    assert "direction reversed" in items.loc[("u2", "ib"), "reason"]
    ns = node_scores(res).set_index("unit")
    np.testing.assert_allclose(ns.loc[["u1", "u2", "u3"], "p1"], [50, 25, 100])
    # leave p1 out: the index is ic alone → u3, u2, u1
    with pytest.warns(DeprecationWarning):  # a wrapper of the sensitivity engine now
        loo = leave_level_out(res, 2)
    r = loo.ranks[loo.ranks.removed == "p1"].set_index("unit")
    assert r.loc[["u3", "u2", "u1"], "rank"].tolist() == [1, 2, 3]
    # nominal 2,3,1 → 3,2,1: changes +1, −1, 0 → mean 2/3
    assert loo.summary.set_index("removed").loc["p1", "mean_abs_rank_change"] == pytest.approx(2 / 3)


def test_geometric_mean_refuses_zero_scores_naming_the_node():
    raw = yaml.safe_load(SMALL)
    raw["lines"][0]["aggregate"] = "geometric"
    with pytest.raises(DataError, match=r"index.*geometric mean needs positive scores.*u1"):
        score(parse_scheme(raw), small_data())


def test_sum_section_without_points_is_refused():
    raw = yaml.safe_load(SMALL)
    raw["lines"][0]["aggregate"] = "sum"
    raw["lines"][0].pop("points")
    with pytest.raises(SchemeError, match="needs points"):
        parse_scheme(raw)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r["lines"][0]["items"][1]["items"][0].update(points=10),
            r"points 10 must state its scale's maximum, 100",
        ),
        (
            lambda r: r["lines"][0]["items"][1]["items"][0]["rule"].update(method="zscore"),
            r"'zscore' scores can be negative.*floor: null",
        ),
        (
            lambda r: r.update(
                vetoes=[{"id": "v", "label": "否决", "effect": "veto", "when": {"missed": "ic"}}]
            ),
            r"'missed: ic' names a normalised item",
        ),
        (lambda r: [c.update(weight=0) for c in r["lines"][0]["items"]], r"index: every child has weight 0"),
        (
            lambda r: r["lines"][0]["items"][1].update(aggregate="sum", points=100),
            r"p2 › ic: missing: drop leaves an item out",
        ),
        (
            lambda r: r["lines"][0]["items"][1]["items"][0].update(
                missing="full", rule={"type": "normalise", "indicator": "c", "method": "rank"}
            ),
            r"missing: full needs a scale with a maximum; 'rank'",
        ),
    ],
)
def test_composite_parts_are_checked_at_load(change, message):
    raw = yaml.safe_load(SMALL)
    if "zscore" in message:
        raw["floor"] = 0
    change(raw)
    with pytest.raises(SchemeError, match=message):
        parse_scheme(raw)


def test_effective_weights_and_variance_shares_by_hand():
    data = small_data().assign(b=[1.0, 2, 3])  # complete: the variance shares add up to 1
    res = score(parse_scheme(yaml.safe_load(SMALL)), data)
    ew = effective_weights(res).set_index("item")
    # p1 weighs 3 of 4 and splits between ia and ib; p2 (1 of 4) is ic alone
    np.testing.assert_allclose(ew.loc[["ia", "ib", "ic"], "nominal_weight"], [0.375, 0.375, 0.25])
    # ia 0, 50, 100; ib (b 1, 2, 3 reversed) 100, 50, 0; ic 0, 50, 100 → p1 = 50 for all and
    # index = 37.5, 50, 62.5 (var 156.25); cov(ia, index) = 625, cov(ib, index) = −625,
    # cov(ic, index) = 625 → shares 0.375·4 = 1.5, −1.5, 0.25·4 = 1: ia and ib cancel out
    np.testing.assert_allclose(ew.loc[["ia", "ib", "ic"], "effective_weight"], [1.5, -1.5, 1.0])
    assert ew["effective_weight"].sum() == pytest.approx(1)
    with pytest.warns(DeprecationWarning, match="composite.effective_weights is deprecated"):
        from assesskit.composite import effective_weights as old
    old = old(res).set_index("item")  # the old columns: the path product and the variance share
    np.testing.assert_allclose(old.loc[["ia", "ib", "ic"], "effective_weight"], [0.375, 0.375, 0.25])
    np.testing.assert_allclose(old.loc[["ia", "ib", "ic"], "variance_share"], [1.5, -1.5, 1.0])


def test_weight_analyses_refuse_point_schemes():
    res = score(
        parse_scheme(yaml.safe_load(POINTS)),
        pd.DataFrame({"unit": ["u1", "u2"], "year": 2020, "a": [1.0, 6], "b": [1.0, 2], "s": [105.0, 104]}),
    )
    with (
        pytest.raises(ValueError, match="aggregate: sum.*assesskit.sensitivity"),
        pytest.warns(DeprecationWarning),
    ):
        leave_level_out(res, 1)
    with pytest.raises(ValueError, match="aggregate: sum"), pytest.warns(DeprecationWarning):
        uncertainty(res, draws=5)


# --------------------------------------------------------------------------- ASEM against COINr's pipeline
def coinr_oracle(scale=(0.0, 100.0), agg="mean", drop: str | None = None) -> pd.Series:
    """COINr's Normalise(n_minmax) + Aggregate(a_amean / a_gmean), written independently
    with pandas from COINr's documented formulas, walking iMeta's Parent column."""
    idata, imeta = load("asem_idata"), load("asem_imeta")
    meta = imeta[imeta["Type"].isin(["Indicator", "Aggregate"])].copy()
    if drop is not None:
        meta.loc[meta["iCode"] == drop, "Weight"] = 0.0
    ind = meta[meta["Type"] == "Indicator"]
    x = idata[list(ind["iCode"])].astype(float) * ind["Direction"].to_numpy()
    cur = (x - x.min()) / (x.max() - x.min()) * (scale[1] - scale[0]) + scale[0]
    for lev in range(2, int(meta["Level"].max()) + 1):
        for code in meta.loc[meta["Level"] == lev, "iCode"]:
            kids = meta[meta["Parent"] == code]
            v = cur[list(kids["iCode"])]
            w = kids["Weight"].to_numpy(float)
            wm = v.notna() * w
            if agg == "mean":
                cur[code] = (v.fillna(0) * w).sum(axis=1) / wm.sum(axis=1)
            else:
                cur[code] = np.exp((np.log(v.fillna(1)) * wm).sum(axis=1) / wm.sum(axis=1))
    return pd.Series(cur["Index"].to_numpy(), index=idata["uCode"])


@pytest.fixture(scope="module")
def asem():
    raw, data = import_coinr(load("asem_idata"), load("asem_imeta"), scheme_id="asem")
    return score(parse_scheme(raw), data)


def test_asem_arithmetic_index_and_ranks(asem):
    s = asem.summary.set_index("unit")
    ref = coinr_oracle()
    np.testing.assert_allclose(s.loc[ref.index, "total"], ref, rtol=0, atol=1e-9)
    ref_rank = ref.rank(ascending=False, method="min").astype(int)
    assert (s.loc[ref.index, "rank"].astype(int) == ref_rank).all()
    assert len(s) == 51 and s["total"].notna().all()


def test_asem_geometric_index_and_ranks():
    raw, data = import_coinr(
        load("asem_idata"), load("asem_imeta"), scheme_id="asem_g", scale=(1, 100), aggregation="geometric"
    )
    s = score(parse_scheme(raw), data).summary.set_index("unit")
    ref = coinr_oracle(scale=(1, 100), agg="geometric")
    np.testing.assert_allclose(s.loc[ref.index, "total"], ref, rtol=0, atol=1e-9)
    assert (s.loc[ref.index, "rank"].astype(int) == ref.rank(ascending=False, method="min")).all()


def test_asem_leave_one_out_matches_reweighting_by_hand(asem):
    with pytest.warns(DeprecationWarning):
        loo = leave_level_out(asem, 2)
    assert len(loo.summary) == 8
    nominal = coinr_oracle().rank(ascending=False, method="min")
    for code in ("Physical", "Social"):
        ref = coinr_oracle(drop=code)
        got = loo.ranks[loo.ranks.removed == code].set_index("unit")
        np.testing.assert_allclose(got.loc[ref.index, "score"], ref, atol=1e-9)
        ref_rank = ref.rank(ascending=False, method="min")
        assert (got.loc[ref.index, "rank"] == ref_rank).all()
        mad = (ref_rank - nominal).abs().mean()
        assert loo.summary.set_index("removed").loc[code, "mean_abs_rank_change"] == pytest.approx(mad)


def test_asem_effective_weights_and_alpha(asem):
    ew = effective_weights(asem)
    assert len(ew) == 49
    # Physical has 8 indicators, Conn 5 groups, Index 2 sub-indices: 1/8 · 1/5 · 1/2
    assert ew.set_index("item").loc["LPI", "nominal_weight"] == pytest.approx(1 / 80)
    assert ew["nominal_weight"].sum() == pytest.approx(1)
    # on an indicator nobody misses, the variance share is the old composite one
    with pytest.warns(DeprecationWarning):
        from assesskit.composite import effective_weights as old
    complete = [it for it in ew["item"] if asem.points[it].notna().all()]
    assert complete
    np.testing.assert_allclose(
        ew.set_index("item").loc[complete, "effective_weight"],
        old(asem).set_index("item").loc[complete, "variance_share"],
        rtol=1e-12,
    )
    a = node_alpha(asem, "Conn")
    ns = node_scores(asem)
    assert a["alpha"][0] == pytest.approx(
        alpha_matrix(ns[["Physical", "ConEcFin", "Political", "Instit", "P2P"]])
    )
    with pytest.raises(ValueError, match="is an item"):
        node_alpha(asem, "LPI")


def test_node_alpha_is_pairwise_by_default_as_coinr(asem):
    """COINr's get_cronbach(coin, dset = "Normalised", iCodes = "P2P", Level = 1): its
    pairwise covariances of the min-max normalised indicators, rebuilt here from the data."""
    idata, imeta = load("asem_idata"), load("asem_imeta")
    kids = imeta.loc[imeta["Parent"] == "P2P"].set_index("iCode")
    x = idata[kids.index].astype(float) * kids["Direction"].to_numpy()
    normalised = (x - x.min()) / (x.max() - x.min()) * 100
    cov = normalised.cov()  # pandas pairs like R's use = "pairwise.complete.obs"
    k = len(kids)
    coinr = k**2 * ((cov.to_numpy().sum() - np.trace(cov)) / (k * (k - 1))) / cov.to_numpy().sum()
    a = node_alpha(asem, "P2P")
    assert a[["node", "n_children", "n_units", "use"]].iloc[0].tolist() == ["P2P", 8, 51, "pairwise"]
    assert a["alpha"][0] == pytest.approx(coinr, rel=1e-9)
    listwise = node_alpha(asem, "P2P", use="listwise")
    assert listwise["n_units"][0] == 42 and listwise["use"][0] == "listwise"
    assert listwise["alpha"][0] == pytest.approx(alpha_matrix(normalised.dropna()), rel=1e-9)
    assert listwise["alpha"][0] != pytest.approx(
        a["alpha"][0], rel=1e-4
    )  # the gaps matter (0.8695 vs 0.8704)
    with pytest.raises(ValueError, match="use must be"):
        node_alpha(asem, "P2P", use="all")


@pytest.mark.filterwarnings(
    "ignore:assesskit.analyses.composite.uncertainty is deprecated:DeprecationWarning"
)
def test_uncertainty_without_noise_is_the_nominal_ranking_and_seeded(asem):
    u = uncertainty(asem, draws=50, seed=3)
    r = u.ranks
    assert (r["rank_q05"] == r["nominal_rank"]).all() and (r["rank_q95"] == r["nominal_rank"]).all()
    np.testing.assert_allclose(r["nominal_score"], asem.summary.set_index("unit").loc[r["unit"], "total"])
    spec = dict(weight_noise={2: 0.25, 3: 0.25}, alternatives=[("mean", (0, 100)), ("geometric", (1, 100))])
    a = uncertainty(asem, draws=300, seed=7, **spec).ranks
    b = uncertainty(asem, draws=300, seed=7, chunk=37, **spec).ranks
    pd.testing.assert_frame_equal(a, b)  # same seed → identical, whatever the chunking
    assert (a["rank_q95"] >= a["rank_q05"]).all() and (a["rank_q95"] > a["rank_q05"]).any()


# --------------------------------------------------------------------------- the CLI
def test_import_coinr_cli_round_trip(tmp_path):
    idata, imeta = tmp_path / "ASEM_iData.csv", tmp_path / "ASEM_iMeta.csv"
    load("asem_idata").to_csv(idata, index=False)
    load("asem_imeta").to_csv(imeta, index=False)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main,
        ["import-coinr", "--idata", str(idata), "--imeta", str(imeta), "--out", str(out), "--id", "asem"],
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        main,
        [
            "score",
            "--scheme",
            str(out / "asem.yaml"),
            "--data",
            str(out / "data.csv"),
            "--out",
            str(out / "s"),
        ],
    )
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out / "s" / "summary.csv").set_index("unit")["total"]
    ref = coinr_oracle()
    np.testing.assert_allclose(got.loc[ref.index], ref, atol=1e-9)


def test_import_coinr_cli_reports_bad_metadata_and_writes_nothing(tmp_path):
    idata, imeta = tmp_path / "d.csv", tmp_path / "m.csv"
    load("asem_idata").to_csv(idata, index=False)
    m = load("asem_imeta").copy()
    m.loc[m["iCode"] == "LPI", "Direction"] = 2
    m.loc[m["iCode"] == "Ship", "Parent"] = "Nowhere"
    m.to_csv(imeta, index=False)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main, ["import-coinr", "--idata", str(idata), "--imeta", str(imeta), "--out", str(out)]
    )
    assert r.exit_code == 2
    assert "row 2 (LPI), Direction: expected 1 or -1" in r.output
    assert "'Nowhere' is not an Aggregate" in r.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("case", "args", "message"),
    [
        ("cycle", [], r"does not lead up to the top aggregate 'Index' \(a cycle"),
        ("time", [], r"row 2, Time: expected a whole year, got '2018a'"),
        ("geometric", ["--aggregate", "geometric"], r"geometric mean needs positive scores.*--scale 1 100"),
    ],
)
def test_import_coinr_refuses_cycles_bad_years_and_zero_based_geometric(tmp_path, case, args, message):
    m, d = load("asem_imeta").copy(), load("asem_idata").copy()
    if case == "cycle":  # Physical → Political → Physical: neither reaches Index
        m.loc[m.iCode == "Physical", "Parent"] = "Political"
        m.loc[m.iCode == "Political", "Parent"] = "Physical"
    if case == "time":
        d["Time"] = d["Time"].astype(object)
        d.loc[0, "Time"] = "2018a"
    m.to_csv(tmp_path / "m.csv", index=False)
    d.to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main,
        [
            "import-coinr",
            "--idata",
            str(tmp_path / "d.csv"),
            "--imeta",
            str(tmp_path / "m.csv"),
            "--out",
            str(out),
            *args,
        ],
    )
    assert r.exit_code == 2, r.output
    assert re.search(message, r.output), r.output
    assert not out.exists()


# --------------------------------------------------------------------------- counterparts
POINTS = """
id: pts
label: 积分制
source: hand-made test scheme
years: [2020, 2020]
kinds: {town: {label: 镇, points: 100}}
indicators: {a: {label: A}, b: {label: B}, s: {label: S}}
lines:
  - id: main
    label: 主线
    unit_kind: town
    points: 100
    items:
      - {id: ia, label: A, points: 50, rule: {type: threshold, indicator: a, op: ">=", target: 5}}
      - {id: ib, label: B, points: 30, rule: {type: linear, indicator: b, op: "<=", floor: 10, target: 0}}
      - {id: is, label: S, points: 20, rule: {type: range, indicator: s, low: 103, high: 107}}
vetoes:
  - {id: v, label: 否决, effect: veto, when: {missed: ia}}
"""


def test_composite_counterpart_by_hand():
    from assesskit.analyses.composite import composite_counterpart

    scheme = parse_scheme(yaml.safe_load(POINTS))
    c, kept = composite_counterpart(scheme)
    assert kept == ["main › is (range: its credit × 100)"]
    assert c.vetoes == []  # 'missed: ia' means nothing once ia is normalised
    items = {it.id: it for _p, it in c.flat_items}
    assert items["ia"].rule.type == "normalise" and items["ia"].weight == 50
    assert items["ib"].rule.direction == -1 and items["ib"].weight == 30
    assert items["is"].rule.type == "range" and items["is"].points == 100
    data = pd.DataFrame(
        {
            "unit": ["u1", "u2", "u3"],
            "year": 2020,
            "a": [0.0, 5, 10],
            "b": [0.0, 5, 10],
            "s": [105.0, 110, 105],
        }
    )
    total = score(c, data).summary.set_index("unit")["total"]
    # ia: 0, 50, 100; ib (lower better): 100, 50, 0; is: 100, 0, 100 → (50·ia + 30·ib + 20·is)/100
    np.testing.assert_allclose(total.loc[["u1", "u2", "u3"]], [50, 40, 70])


def test_old_composite_names_are_deprecated_aliases_of_the_new_homes():
    import assesskit.analyses.composite as ana
    import assesskit.composite as old
    from assesskit.kernel import aggregate as kernel

    pairs = {
        "node_scores": ana.node_scores,
        "leave_one_out": ana.leave_level_out,
        "cronbach_alpha": ana.node_alpha,
        "effective_weights": ana._legacy_effective_weights,
        "uncertainty": ana.uncertainty,
        "composite_counterpart": ana.composite_counterpart,
    }
    for name, new in pairs.items():
        with pytest.warns(DeprecationWarning, match=f"assesskit.composite.{name} is deprecated"):
            assert getattr(old, name) is new
    # the kernels keep their old import path without a warning (scoring imports them there)
    assert old.aggregate_tree is kernel.aggregate_tree and old.tree_nodes is kernel.tree_nodes
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = old.nope
