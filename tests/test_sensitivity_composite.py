"""Composite indices in the sensitivity engine: the nominal draw is the scoring, noisy
weights / aggregation / normalisation draws against an independent recomputation of
COINr's pipeline, the spec checks, Sobol indices, the CLI and the deprecated wrappers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from assesskit import score
from assesskit import sensitivity as sa
from assesskit.cli import main
from assesskit.datasets import load
from assesskit.importers.coinr import import_coinr
from assesskit.scheme import parse_scheme
from assesskit.sensitivity.sampling import perturbation, realisation_ids, resolve

nan = np.nan


def oracle(mult: dict[str, float] | None = None, scale=(0.0, 100.0), agg="mean") -> pd.Series:
    """COINr's n_minmax + a_amean/a_gmean written independently with pandas from iMeta's
    Parent column; ``mult`` multiplies the weight of the named nodes (0 removes one)."""
    idata, imeta = load("asem_idata"), load("asem_imeta")
    meta = imeta[imeta["Type"].isin(["Indicator", "Aggregate"])].copy()
    for code, m in (mult or {}).items():
        meta.loc[meta["iCode"] == code, "Weight"] *= m
    ind = meta[meta["Type"] == "Indicator"]
    x = idata[list(ind["iCode"])].astype(float) * ind["Direction"].to_numpy()
    cur = (x - x.min()) / (x.max() - x.min()) * (scale[1] - scale[0]) + scale[0]
    for lev in range(2, int(meta["Level"].max()) + 1):
        for code in meta.loc[meta["Level"] == lev, "iCode"]:
            kids = meta[meta["Parent"] == code]
            v = cur[list(kids["iCode"])]
            wm = v.notna() * kids["Weight"].to_numpy(float)
            if agg == "mean":
                cur[code] = (v.fillna(0) * wm).sum(axis=1) / wm.sum(axis=1)
            else:
                cur[code] = np.exp((np.log(v.fillna(1)) * wm).sum(axis=1) / wm.sum(axis=1))
    return pd.Series(cur["Index"].to_numpy(), index=idata["uCode"])


@pytest.fixture(scope="module")
def asem():
    raw, data = import_coinr(load("asem_idata"), load("asem_imeta"), scheme_id="asem")
    res = score(parse_scheme(raw), data)
    return sa.from_result(res)


def _totals(base, out) -> pd.DataFrame:
    """(draws × units) totals in summary order, columns the unit codes."""
    return pd.DataFrame(out.total[:, base.order], columns=base.table()["unit"])


def _draws(base, spec, d, seed=0):
    """The perturbation of the first ``d`` Monte Carlo draws, as simulate makes them."""
    factors = resolve(spec, base)
    u = np.random.default_rng([seed, 1]).random((d, len(factors)))
    return perturbation(base, factors, u, realisation_ids(factors, u, np.arange(d)), seed)


def test_nominal_draw_is_score_panel_bit_for_bit_on_asem(asem):
    spec = sa.load_spec("asem", asem.scheme)
    out = sa.evaluate(asem, sa.Perturbation(4))
    total = asem.result.summary["total"].to_numpy()
    for d in range(4):
        np.testing.assert_array_equal(out.total[d][asem.order], total)
        np.testing.assert_array_equal(out.rank[d][asem.order], asem.result.summary["rank"].to_numpy())
    # draws whose factors sit at their nominal value: the nominal aggregation and rules
    # are the scoring bit for bit; per-draw weights (all × 1) only reorder float sums
    pert = _draws(asem, spec, 3)
    pert.aggregation = {k: (m, np.zeros(3, dtype=np.int64)) for k, (m, _c) in pert.aggregation.items()}
    pert.rule_choice = {k: (r, np.zeros(3, dtype=np.int64)) for k, (r, _c) in pert.rule_choice.items()}
    weights = pert.node_weight
    pert.node_weight = {}
    np.testing.assert_array_equal(sa.evaluate(asem, pert).total[:, asem.order], np.tile(total, (3, 1)))
    pert.node_weight = {k: np.ones(3) for k in weights}
    np.testing.assert_allclose(
        sa.evaluate(asem, pert).total[:, asem.order], np.tile(total, (3, 1)), rtol=1e-15, atol=0
    )


def test_noisy_weight_draws_equal_an_independent_recomputation(asem):
    spec = sa.parse_spec(
        {
            "factors": [
                {"id": "groups", "type": "weight_noise", "level": 2, "noise": 0.25},
                {"id": "pillars", "type": "weight_noise", "level": 3, "noise": 0.25},
            ]
        },
        scheme=asem.scheme,
    )
    pert = _draws(asem, spec, 4)
    # level 2: the eight groups; level 3: the two sub-indices (COINr's levels)
    assert sorted(pert.node_weight) == sorted(
        [
            "Physical",
            "ConEcFin",
            "Political",
            "Instit",
            "P2P",
            "Environ",
            "Social",
            "SusEcFin",
            "Conn",
            "Sust",
        ]
    )
    got = _totals(asem, sa.evaluate(asem, pert))
    for d in range(4):
        mult = {k: float(v[d]) for k, v in pert.node_weight.items()}
        assert all(0.75 <= m <= 1.25 for m in mult.values()) and any(m != 1 for m in mult.values())
        ref = oracle(mult)
        np.testing.assert_allclose(got.loc[d, ref.index], ref, rtol=0, atol=1e-9)


def test_aggregation_draws_pair_the_geometric_mean_with_its_scale(asem):
    spec = sa.load_spec("asem", asem.scheme)
    pert = _draws(asem, spec, 8)
    geo = pert.aggregation["Index"][1] == 1
    assert geo.any() and (~geo).any()
    got = _totals(asem, sa.evaluate(asem, pert))
    for d in range(8):
        mult = {k: float(v[d]) for k, v in pert.node_weight.items()}
        ref = oracle(mult, scale=(1, 100), agg="geometric") if geo[d] else oracle(mult)
        np.testing.assert_allclose(got.loc[d, ref.index], ref, rtol=0, atol=1e-9)


def test_composite_draws_rebuilt_as_schemes_score_the_same(asem):
    # the oracle of the point-scheme tests: each draw written back into a scheme and scored
    from assesskit.scoring import score_panel

    pert = _draws(asem, sa.load_spec("asem", asem.scheme), 4)
    got = _totals(asem, sa.evaluate(asem, pert))
    for d in range(4):
        scheme, panel = sa.materialise(asem, pert, d)
        ref = score_panel(scheme, panel).summary.set_index("unit")["total"]
        np.testing.assert_allclose(got.loc[d, ref.index], ref, rtol=1e-13, atol=0)


def test_normalisation_alternatives_by_hand(asem):
    # min-max onto [0, 10] instead of [0, 100]: every arithmetic mean is a tenth
    spec = sa.parse_spec(
        {
            "factors": [
                {
                    "id": "norm",
                    "type": "normalisation",
                    "alternatives": [{"method": "minmax"}, {"method": "minmax", "scale": [0, 10]}],
                }
            ]
        },
        scheme=asem.scheme,
    )
    pert = _draws(asem, spec, 6)
    codes = next(iter(pert.rule_choice.values()))[1]
    assert len(pert.rule_choice) == 49 and set(codes) == {0, 1}
    out = sa.evaluate(asem, pert).total[:, asem.order]
    nominal = asem.result.summary["total"].to_numpy()
    for d in range(6):
        np.testing.assert_allclose(out[d], nominal / (10 if codes[d] else 1), rtol=1e-12)


def _problems(spec: dict, scheme, tmp_path) -> str:
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(sa.SpecError) as exc:
        sa.load_spec(p, scheme)
    return "\n".join(f"{pr.where}: {pr.message}" for pr in exc.value.problems)


def test_composite_factor_checks_name_the_file_and_the_key(asem, tmp_path):
    msg = _problems(
        {
            "factors": [
                {"id": "lv", "type": "weight_noise", "level": 9, "noise": 0.2},
                {"id": "ln", "type": "weight_noise", "level": 2, "noise": 0.2, "line": "nope"},
                {"id": "geo", "type": "aggregation", "alternatives": ["mean", "geometric"]},
                {
                    "id": "agg_nodes",
                    "type": "aggregation",
                    "alternatives": ["mean", "harmonic"],
                    "nodes": ["LPI"],
                },
                {"id": "norm", "type": "normalisation", "alternatives": [{}, {"scale": [5, 1]}]},
                {"id": "pts", "type": "weights"},
            ]
        },
        asem.scheme,
        tmp_path,
    )
    assert "bad.yaml: factors › lv › level: no node at level 9" in msg
    assert "factors › ln › line: 'nope' is not a line" in msg
    assert "factors › geo › alternatives › 1: a geometric mean needs positive scores" in msg
    assert "factors › agg_nodes › nodes: 'LPI' is not a section" in msg
    assert "factors › norm › alternatives › 1: item 'LPI': scale [5.0, 1.0] must rise" in msg
    assert "factors › pts › nodes:" in msg and "weight_noise" in msg
    # the schema itself: a noise of 1 or more could make a weight negative
    p = tmp_path / "n.yaml"
    p.write_text("factors:\n  - {id: x, type: weight_noise, level: 2, noise: 1.5}\n", encoding="utf-8")
    with pytest.raises(sa.SpecError, match="n.yaml"):
        sa.load_spec(p)


def test_sobol_indices_of_composite_factors(asem):
    spec = sa.load_spec("asem", asem.scheme)
    sob = sa.sobol(asem, spec, n=64, seed=0)
    tab = sob.indices
    overall = tab[tab["output"] == "mean_abs_shift"].set_index("factor")
    spec_ids = [f.id for f in spec.factors]
    assert sorted(overall.index) == sorted(spec_ids)
    st = overall.loc[spec_ids, "ST"]
    # the choice of mean moves the ranks most (COINr's ASEM vignette finds the same)
    assert st.idxmax() == "aggregation" and np.isfinite(st).all()


def test_cli_sensitivity_on_the_imported_asem(tmp_path):
    out = tmp_path / "asem"
    r = CliRunner().invoke(
        main,
        [
            "import-coinr",
            "--idata",
            "assesskit/datasets/reference/asem_idata.csv",
            "--imeta",
            "assesskit/datasets/reference/asem_imeta.csv",
            "--out",
            str(out),
            "--id",
            "asem",
        ],
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        main,
        [
            "sensitivity",
            "--scheme",
            str(out / "asem.yaml"),
            "--data",
            str(out / "data.csv"),
            "--year",
            "2018",
            "--spec",
            "asem",
            "--draws",
            "200",
            "--sobol-n",
            "16",
            "--out",
            str(out / "sa"),
        ],
    )
    assert r.exit_code == 0, r.output
    ranks = pd.read_csv(out / "sa" / "ranks.csv")
    assert len(ranks) == 51 and (ranks["rank_q05"] <= ranks["rank_q95"]).all()
    manifest = json.loads((out / "sa" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["factors"] == ["group_weights", "subindex_weights", "aggregation"]


def test_deprecated_wrappers_warn_and_leave_level_out_is_the_engine(asem):
    from assesskit.analyses.composite import leave_level_out, uncertainty

    with pytest.warns(DeprecationWarning, match="leave_level_out is deprecated"):
        loo = leave_level_out(asem.result, 3)
    ref = oracle({"Conn": 0.0})
    got = loo.ranks[loo.ranks.removed == "Conn"].set_index("unit")
    np.testing.assert_allclose(got.loc[ref.index, "score"], ref, rtol=0, atol=1e-9)
    with pytest.warns(DeprecationWarning, match="uncertainty is deprecated"):
        u = uncertainty(asem.result, draws=20, seed=1, alternatives=[("geometric", (1, 100))])
    # one alternative, the geometric mean on [1, 100], in every draw: its ranks, no spread
    ref_rank = oracle(scale=(1, 100), agg="geometric").rank(ascending=False, method="min")
    r = u.ranks.set_index("unit")
    assert (r.loc[ref_rank.index, "rank_q05"] == ref_rank).all()
    assert (r["rank_q05"] == r["rank_q95"]).all()


def test_competition_ranks_is_a_deprecated_alias_of_the_one_ranking():
    from assesskit.kernel.aggregate import competition_ranks

    with pytest.warns(DeprecationWarning, match="rank_within"):
        r = competition_ranks(np.array([[3.0, 5, 5, 1], [nan, 2, 1, 2]]))
    np.testing.assert_array_equal(r[0], [3, 1, 1, 4])
    np.testing.assert_array_equal(r[1], [nan, 1, 3, 1])


def test_leaving_out_a_section_of_a_composite_drops_it_from_the_mean():
    from tests.test_composite import SMALL, small_data

    base = sa.baseline(parse_scheme(yaml.safe_load(SMALL)), small_data(), year=2020)
    loo = sa.leave_one_out(base, ["p1"])
    # without p1 the index is ic alone: u1 0, u2 50, u3 100 → ranks 3, 2, 1 (nominal 2, 3, 1)
    out = sa.evaluate(base, sa.Perturbation(1, drop=np.array([[True, True, False]])))
    total = pd.Series(out.total[0], index=base.rows["unit"])
    np.testing.assert_allclose(total.loc[["u1", "u2", "u3"]], [0, 50, 100])
    assert loo.summary["mean_abs_shift"].iloc[0] == pytest.approx(2 / 3)


def test_a_missing_score_takes_the_bottom_of_each_draws_scale():
    from tests.test_composite import SMALL, small_data

    raw = yaml.safe_load(SMALL)
    raw["missing"] = "zero"  # ib is missing for u3: the bottom of the scale, 0 or 1
    base = sa.baseline(parse_scheme(raw), small_data(), year=2020)
    spec = sa.parse_spec(
        {
            "factors": [
                {
                    "id": "agg",
                    "type": "aggregation",
                    "alternatives": ["mean", {"aggregate": "geometric", "scale": [1, 100]}],
                }
            ]
        },
        scheme=base.scheme,
    )
    pert = _draws(base, spec, 16)
    geo = pert.aggregation["index"][1] == 1
    assert geo.any() and (~geo).any()
    total = pd.DataFrame(sa.evaluate(base, pert).total, columns=base.rows["unit"])["u3"]
    # u3: ia 100, ib missing → 0 (mean) or 1 (geometric on [1, 100]), ic 100
    # mean: p1 = 50, p2 = 100 → (3·50 + 100)/4 = 62.5; geometric: p1 = √(100·1) = 10,
    # index = exp((3 ln 10 + ln 100)/4) = 10^(5/4)
    np.testing.assert_allclose(total[~geo], 62.5)
    np.testing.assert_allclose(total[geo], 10**1.25)
