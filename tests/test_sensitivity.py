"""Sensitivity of rankings: the draws engine against the main engine, hand-computed cases,
determinism, Sobol indices, counterfactuals, scheme comparison, spec errors and the CLI.

The small scheme (tests/fixtures/mini.yaml, 2016): A (seat) pr 40 + sr 20 + gr 35 − 5 = 90;
B (rural) 40 + 0 (no previous year) + 40 = 80; C (rural) policy 90 % < 95 → vetoed (lines 40);
D (rural) 40 + 20 + 20 = 80. Ranks A 1, B 2, D 2; first prize A; yellow card B and D.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import assesskit as ak
from assesskit import sensitivity as sa
from assesskit.cli import main
from assesskit.datasets.demo import make_demo_data
from assesskit.scoring import score_panel
from assesskit.sensitivity.analysis import kendall_tau
from assesskit.sensitivity.engine import Perturbation, evaluate, materialise
from assesskit.sensitivity.sampling import perturbation, realisation_ids, resolve
from tests.test_kernel import _brute_rank

from .conftest import FIX

ROOT = FIX.parents[1]
EX = ROOT / "assesskit" / "datasets" / "examples" / "district_1000"


@pytest.fixture(scope="module")
def demo():
    return make_demo_data(0)


def _base(demo, sid, year):
    p = demo[sid]
    return sa.baseline(
        ak.load_scheme(sid), p.data, units=p.units, targets=p.targets, grades=p.grades, year=year
    )


@pytest.fixture(scope="module")
def district(demo):
    return _base(demo, "district_1000", 2012)


@pytest.fixture(scope="module")
def xpcc(demo):
    return _base(demo, "xpcc_2015", 2015)


@pytest.fixture(scope="module")
def mini():
    return sa.baseline(ak.load_scheme(FIX / "mini.yaml"), FIX / "mini.csv", year=2016)


def by_unit(base, arr):
    """A (draws × rows) array as a frame indexed by unit (internal order → unit ids)."""
    return pd.DataFrame(np.atleast_2d(arr), columns=base.rows["unit"].to_numpy())


def spec(*factors, **kw):
    return sa.parse_spec({"factors": list(factors), **kw}, "<test>")


# --------------------------------------------------------------------------- the nominal draw
@pytest.mark.parametrize(
    "sid, year",
    [("district_1000", 2012), ("xpcc_2015", 2015), ("foshan_2006", 2008), ("wujin_2016", 2016)],
)
def test_nominal_draw_reproduces_the_main_engine_exactly(demo, sid, year):
    base = _base(demo, sid, year)
    out = base.nominal()
    s = base.result.summary  # the main engine (score_panel), summary order
    o = base.order
    assert np.array_equal(out.total[0, o], s["total"].to_numpy(dtype=float), equal_nan=True)  # bit for bit
    assert np.array_equal(out.rank[0, o], s["rank"].to_numpy(dtype=float, na_value=np.nan), equal_nan=True)
    tiers = np.array([""] + [t.id for t in base.scheme.outcomes.tiers], dtype=object)
    assert (tiers[out.tier[0, o] + 1] == s["award"].to_numpy()).all()
    assert (out.vetoed[0, o] == s["veto"].to_numpy()).all()
    assert (out.eligible[0, o] == s["eligible"].to_numpy()).all()
    for w_i, w in enumerate(base.scheme.outcomes.warnings):
        assert (out.warnings[w_i, 0, o] == s["warning"].str.contains(w.id).to_numpy()).all()


def test_with_no_uncertainty_every_draw_is_the_nominal_ranking(district):
    nominal = district.result.summary["rank"].to_numpy(dtype=float, na_value=np.nan)
    for sp in (
        sa.Spec(),
        spec(
            {"id": "t", "type": "target", "items": ["pg_basic_indicators"], "shift": [0, 0]},
            {"id": "w", "type": "weights", "spread": 0.0},
            {"id": "v", "type": "veto", "p_off": 0.0},
            {
                "id": "f",
                "type": "rule_form",
                "items": ["fp_bw_statistics_pass"],
                "floor": 50,
                "p_alternative": 0,
            },
            {"id": "m", "type": "missing_policy", "alternatives": ["zero", "zero"]},
            {"id": "n", "type": "data_noise", "rule_type": "graded", "model": "normal", "sd": 0.0},
            {"id": "l", "type": "leave_out", "nodes": ["fp_training"], "p_keep": 1.0},
        ),
    ):
        sim = sa.simulate(district, sp, draws=130, seed=4, chunk=64)
        assert np.array_equal(sim.ranks, np.broadcast_to(nominal, sim.ranks.shape), equal_nan=True)
        u = sim.units
        assert np.array_equal(u["median_rank"], u["nominal_rank"], equal_nan=True)
        assert np.array_equal(u["rank_q05"], u["nominal_rank"], equal_nan=True)
        assert np.array_equal(u["rank_q95"], u["nominal_rank"], equal_nan=True)
        assert (u["mean_abs_shift"] == 0).all()
        assert (sim.draws["kendall_tau"] == 1).all()
        assert (u["p_veto"] == u["nominal_veto"].astype(float)).all()


# --------------------------------------------------------------------------- against the main engine
DIFF_SPECS = {
    "xpcc_2015": (
        2015,
        [
            {"id": "w", "type": "weights", "spread": 0.3},
            {
                "id": "ws",
                "type": "weights",
                "nodes": ["basic", "key_work"],
                "dist": "dirichlet",
                "concentration": 20,
            },
            {"id": "v", "type": "veto", "each": True, "p_off": 0.5},
            {"id": "t", "type": "target", "rule_type": "threshold", "shift": [-3, 3]},
            {"id": "f", "type": "rule_form", "items": ["pop_db_entry", "birth_db_entry"], "floor": 50},
            {"id": "m", "type": "missing_policy"},
            {"id": "n", "type": "data_noise", "model": "poisson", "rule_type": "per_case"},
            {"id": "l", "type": "leave_out", "nodes": ["basic", "pop_db_entry", "kw_two_child"]},
        ],
    ),
    "foshan_2006": (
        2008,
        [
            {"id": "v", "type": "veto"},
            {"id": "t", "type": "target", "items": ["birth_rate_item"], "relative": [-0.05, 0.05]},
            {"id": "t2", "type": "target", "items": ["policy_rate_item"], "values": [90, 95, 99]},
            {"id": "f", "type": "rule_form", "items": ["birth_rate_item"], "ceiling": 30},
            {"id": "n", "type": "data_noise", "model": "poisson", "indicators": ["birth_rate", "srb"]},
            {"id": "b", "type": "data_noise", "model": "binomial", "indicators": ["policy_rate"]},
        ],
    ),
}


@pytest.mark.parametrize("sid", sorted(DIFF_SPECS))
def test_every_factor_scores_like_the_main_engine_on_the_materialised_draw(demo, sid):
    year, factors = DIFF_SPECS[sid]
    base = _base(demo, sid, year)
    fs = resolve(spec(*factors), base)
    d = 25
    u = np.random.default_rng(11).random((d, len(fs)))
    pert = perturbation(base, fs, u, realisation_ids(fs, u, np.arange(d)), 11)
    out = evaluate(base, pert)
    tiers = np.array([""] + [t.id for t in base.scheme.outcomes.tiers], dtype=object)
    for i in range(d):
        scheme_i, panel_i = materialise(base, pert, i)
        s = score_panel(scheme_i, panel_i, years=[year]).summary.set_index("unit")
        mine = pd.DataFrame(
            {
                "total": out.total[i],
                "rank": out.rank[i],
                "tier": tiers[out.tier[i] + 1],
                "veto": out.vetoed[i],
            },
            index=base.rows["unit"].to_numpy(),
        ).loc[s.index]
        np.testing.assert_allclose(mine["total"], s["total"].to_numpy(dtype=float), rtol=0, atol=1e-9)
        assert np.array_equal(mine["rank"], s["rank"].to_numpy(dtype=float, na_value=np.nan), equal_nan=True)
        assert (mine["tier"].to_numpy() == s["award"].to_numpy()).all()
        assert (mine["veto"].to_numpy() == s["veto"].to_numpy()).all()


def test_rank_draws_is_competition_rank_per_draw():
    rng = np.random.default_rng(0)
    d, n = 40, 30
    group = rng.integers(0, 3, n)
    keys = [rng.integers(0, 5, (d, n)).astype(float), rng.integers(0, 3, (d, n)).astype(float)]
    keys[1][rng.random((d, n)) < 0.1] = np.nan
    mask = rng.random((d, n)) < 0.8
    with pytest.warns(DeprecationWarning, match="rank_within"):
        got = sa.rank_draws(group, keys, mask)
    for i in range(d):  # against the pairwise definition, draw by draw
        want = _brute_rank(group, [keys[0][i], keys[1][i]], mask[i])
        assert np.array_equal(got[i], want, equal_nan=True)


def test_one_sort_serves_every_subset_ranking():
    from assesskit.sensitivity.engine import _Ranking

    rng = np.random.default_rng(1)
    d, n = 25, 40
    group = rng.integers(0, 2, n)
    keys = [rng.integers(0, 6, (d, n)).astype(float), rng.integers(0, 3, (d, n)).astype(float)]
    mask = rng.random((d, n)) < 0.9
    ranking = _Ranking(group, keys, mask)
    for sub in (mask, mask & (rng.random((d, n)) < 0.6)):
        better = ranking.better(sub)
        worse = ranking.worse(sub)
        for i in range(d):
            k_i = [k[i] for k in keys]
            assert np.array_equal(better[i], _brute_rank(group, k_i, sub[i]), equal_nan=True)
            assert np.array_equal(worse[i], _brute_rank(group, k_i, sub[i], worse=True), equal_nan=True)


# --------------------------------------------------------------------------- by hand
def test_hand_computed_perturbations_on_the_small_scheme(mini):
    k = len(mini.items)
    ids = [it.id for _p, it in mini.items]
    pert = Perturbation(5)
    pert.weight = np.ones((5, k))
    pert.weight[0, ids.index("gr")] = 2.0  # draw 0: the grade counts double
    pert.missing_full = np.broadcast_to(mini.full, (5, k)).copy()
    pert.missing_full[1, ids.index("sr")] = True  # draw 1: B's missing sex ratio earns full
    pert.target_items = {ids.index("pr")}
    pert.target_add = np.zeros((5, k))
    pert.target_add[2, ids.index("pr")] = 0.5  # draw 2: targets 99.5 / 95.5 → B misses, vetoed
    pert.veto_on = np.ones((5, 1), bool)
    pert.veto_on[3] = False  # draw 3: no veto → C ranked with 40
    pert.drop = np.zeros((5, k), bool)
    pert.drop[4, [ids.index("pr"), ids.index("sr")]] = True  # draw 4: section 'basic' left out
    out = evaluate(mini, pert)
    tot = by_unit(mini, out.total)
    rank = by_unit(mini, out.rank)
    assert tot.loc[0, ["A", "B", "D"]].tolist() == [125, 120, 100]
    assert tot.loc[1, "B"] == 100 and rank.loc[1, ["B", "A", "D"]].tolist() == [1, 2, 3]
    assert by_unit(mini, out.vetoed).loc[2].tolist() == [False, True, True, False]  # A B C D
    assert rank.loc[2, ["A", "D"]].tolist() == [1, 2]
    assert rank.loc[3].tolist() == [1, 2, 4, 2]
    # without pr (the veto's item, never missed once left out) and sr: A 35 − 5, B 40, C 20, D 20
    assert tot.loc[4].tolist() == [30, 40, 20, 20]
    assert rank.loc[4].tolist() == [2, 1, 3, 3]
    tier = by_unit(mini, out.tier)
    assert tier.loc[4, "B"] == 0 and (tier.loc[4].drop("B") == -1).all()  # the first prize moves to B
    warn = by_unit(mini, out.warnings[0])
    assert warn.loc[4].tolist() == [False, False, True, True]  # yellow card: the two tied at the bottom


def test_hand_computed_leave_one_out(mini):
    loo = sa.leave_one_out(mini, ["gr", "basic"])
    r = loo.shifts.set_index(["node", "unit"])["rank"]
    # without gr: A 40 + 20 − 5 = 55, B 40, D 60, C vetoed
    assert [r["gr", u] for u in "ABD"] == [2, 3, 1] and np.isnan(r["gr", "C"])
    # without the basic section (pr, sr): A 30, B 40, C 20 (no veto any more), D 20
    assert [r["basic", u] for u in "ABCD"] == [2, 1, 3, 3]
    s = loo.summary.set_index("node")
    # positions (unranked just below the last ranked): nominal A1 B2 C4 D2
    assert s.loc["gr", "max_abs_shift"] == 1 and s.loc["basic", "n_moved"] == 4


def test_hand_computed_probabilities_and_kendall(mini):
    sp = spec({"id": "v", "type": "veto", "p_off": 0.5})
    sim = sa.simulate(mini, sp, draws=400, seed=1)
    u = sim.units.set_index("unit")
    off = (sim.u[:, 0] < 0.5).mean()  # the draws with the veto off
    assert u.loc["C", "p_veto"] == pytest.approx(1 - off)
    assert u.loc["C", "rank_min"] == 4 and u.loc["A", "p_tier_first"] == 1
    # C stays last either way: ranked 4th, or unranked just below the three → τ = 1
    assert (sim.draws["kendall_tau"] == 1).all()
    # τ-b by hand: nominal 1 2 3 4 vs 2 1 3 4: one discordant pair of six → (5 − 1) / 6
    tau = kendall_tau(np.array([1.0, 2, 3, 4]), np.array([[2.0, 1, 3, 4]]), np.zeros(4, int))
    assert tau[0, 0] == pytest.approx(4 / 6)


def test_kendall_pairwise_path_matches_scipy(monkeypatch):
    from scipy.stats import kendalltau

    import assesskit.sensitivity.analysis as an

    rng = np.random.default_rng(3)
    x = rng.integers(1, 15, 40).astype(float)
    y = rng.integers(1, 15, (6, 40)).astype(float)
    g = np.zeros(40, int)
    fast = kendall_tau(x, y, g)
    monkeypatch.setattr(an, "KENDALL_PAIRWISE_MAX", 0)
    slow = kendall_tau(x, y, g)
    np.testing.assert_allclose(fast, slow)
    np.testing.assert_allclose(fast[:, 0], [kendalltau(x, yy).statistic for yy in y])


# --------------------------------------------------------------------------- determinism
def test_same_seed_same_output_whatever_the_chunks(district):
    sp = sa.load_spec("district_1000", district.scheme)
    a = sa.simulate(district, sp, draws=300, seed=7, chunk=64)
    b = sa.simulate(district, sp, draws=300, seed=7, chunk=256)
    assert np.array_equal(a.ranks, b.ranks, equal_nan=True)
    pd.testing.assert_frame_equal(a.units, b.units)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    c = sa.simulate(district, sp, draws=300, seed=8)
    assert not np.array_equal(a.ranks, c.ranks, equal_nan=True)
    s1 = sa.sobol(district, sp, n=16, seed=7, chunk=64)
    s2 = sa.sobol(district, sp, n=16, seed=7)
    pd.testing.assert_frame_equal(s1.indices, s2.indices)


# --------------------------------------------------------------------------- Sobol
def test_a_factor_that_cannot_change_anything_has_sobol_indices_zero(district):
    # no item of these has a missing value in 2012: the missing-data policy cannot matter
    items = ["pg_funding", "fp_inf_whole_population", "fp_bw_statistics_pass"]
    ids = [it.id for _p, it in district.items]
    assert not np.isnan(district.frac[[ids.index(i) for i in items]]).any()
    sp = spec(
        {"id": "inert", "type": "missing_policy", "items": items},
        {"id": "policy_target", "type": "target", "items": ["pg_basic_indicators", "fp_bw_policy_compliance"], "shift": [-2, 2]},
        {"id": "grades", "type": "data_noise", "rule_type": "graded", "model": "normal", "rel_sd": 0.1},
    )  # fmt: skip
    res = sa.sobol(district, sp, n=64, seed=0)
    assert res.evaluations == 64 * (3 + 2)
    tab = res.indices
    inert = tab[tab["factor"] == "inert"]
    assert len(inert) == 1 + district.n  # the mean shift and every unit's rank
    assert np.abs(inert[["S1", "ST"]].to_numpy()).max() < 1e-12
    shift = tab[(tab["output"] == "mean_abs_shift")].set_index("factor")
    assert shift.loc["grades", "ST"] > 0.05 and shift.loc["policy_target", "ST"] > 0.05


# --------------------------------------------------------------------------- counterfactuals
def _apply(base, row, year):
    data = base.panel.data.copy()
    m = ((data["unit"] == row["unit"]) & (data["year"] == year)).to_numpy()
    col = data[row["column"]].to_numpy(dtype=float, copy=True)
    col[m] = row["new_column_value"]
    data[row["column"]] = col
    res = score_panel(base.scheme, dataclasses.replace(base.panel, data=data), years=[year])
    return res.summary.set_index("unit").loc[row["unit"]]


def _achieved(got, row, tiers):
    if row["goal"] == "veto":
        return not got["veto"]
    if got["veto"] or pd.isna(got["rank"]):
        return False
    if row["goal"] == "rank":
        return got["rank"] < row["rank"]
    code = {t: i for i, t in enumerate(tiers)}
    return code.get(got["award"], len(tiers)) < code.get(row["award"], len(tiers))


@pytest.mark.parametrize("which", ["district", "xpcc"])
def test_counterfactuals_achieve_what_they_claim_in_the_main_engine(request, which):
    base = request.getfixturevalue(which)
    year = int(base.rows["year"].iloc[0])
    cf = sa.counterfactuals(base, verify="best")
    assert set(cf.columns) == set(sa.counterfactual.COLUMNS)
    ok = cf[cf["achievable"].astype(bool)]
    assert len(ok) and ok.loc[ok["best"], "verified"].all()
    tiers = [t.id for t in base.scheme.outcomes.tiers]
    if which == "xpcc":
        assert {"rank", "tier", "veto"} <= set(ok["goal"])
    for _i, row in ok.groupby(["unit", "goal"]).head(3).iterrows():
        assert _achieved(_apply(base, row, year), row, tiers), row.to_dict()
        # one count less is not enough (whole-number cells), or the change is the smallest
        if (
            float(row["new_column_value"]).is_integer()
            and abs(row["new_column_value"] - row["column_value"]) >= 1
        ):
            less = row.copy()
            less["new_column_value"] -= np.sign(row["new_column_value"] - row["column_value"])
            if less["new_column_value"] != row["column_value"]:
                assert not _achieved(_apply(base, less, year), less, tiers), row.to_dict()


def test_counterfactual_out_of_a_veto_by_hand(mini):
    cf = sa.counterfactuals(mini, units=["C"], goals=("veto",))
    best = cf[cf["best"]].iloc[0]
    # C: 180 of 200 births in policy, target 95 % → 190 births (10 more) lift the veto
    assert best["indicator"] == "policy_rate" and best["column"] == "policy_births"
    assert best["new_column_value"] == 190 and best["new_value"] == 95 and bool(best["verified"])


# --------------------------------------------------------------------------- scheme against scheme
def test_reduced_variant_is_a_valid_scheme_with_fewer_indicators(demo):
    full = ak.load_scheme("district_1000")
    red = ak.load_scheme(ROOT / "params" / "schemes" / "variants" / "district_1000_reduced.yaml")
    town_items = lambda s: [it.id for p, it in s.flat_items if s.line_of(it.id).unit_kind == "town"]  # noqa: E731
    assert len(town_items(red)) < len(town_items(full)) / 2
    assert set(town_items(red)) <= set(town_items(full))
    assert red.max_by_kind == full.max_by_kind
    assert [v.id for v in red.vetoes] == [v.id for v in full.vetoes]
    p = demo["district_1000"]
    a = ak.score(full, **p.tables(), year=2012)
    b = ak.score(red, **p.tables(), year=2012)  # the same files serve both
    cmp = sa.compare_schemes(a, b)
    town = cmp.summary.set_index("kind").loc["town"]
    assert town["units"] == 12 and -1 <= town["kendall_tau"] < 1 and town["n_moved"] > 0
    # the contributions split each unit's standing exactly (no unit sits on the floor here)
    items = cmp.items[cmp.items["kind"] == "town"]
    units = cmp.units.set_index("unit")
    for side in ("a", "b"):
        got = items.groupby("unit")[f"contribution_{side}"].sum()
        tot = units.loc[got.index, f"share_{side}"]
        np.testing.assert_allclose(got, tot - tot.mean(), atol=1e-9)
    assert cmp.drivers["share"].sum() == pytest.approx(1.0)
    movers = cmp.units[(cmp.units["shift"] != 0)]
    assert (movers["main_items"] != "").all()


def test_a_scheme_against_itself_and_without_vetoes(xpcc):
    res = xpcc.result
    same = sa.compare_schemes(res, res)
    assert np.allclose(same.summary["kendall_tau"], 1) and (same.units["shift"] == 0).all()
    nv = sa.without_vetoes(xpcc.scheme)
    assert nv.vetoes == [] and len(nv.flat_items) == len(xpcc.scheme.flat_items)
    other = sa.compare_schemes(res, score_panel(nv, xpcc.panel, years=[2015]))
    assert other.summary["n_veto_changed"].sum() == res.summary["veto"].sum()


def test_constant_ranks_have_no_correlation_and_no_warning(xpcc):
    """Units all tied in a group: the rank correlations are NaN, without scipy's ConstantInputWarning."""
    import warnings

    res = xpcc.result
    tied = dataclasses.replace(res, summary=res.summary.assign(rank=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cmp = sa.compare_schemes(tied, tied)
    assert cmp.summary["spearman"].isna().all() and cmp.summary["kendall_tau"].isna().all()


def test_composite_schemes_are_taken_and_their_nominal_draw_is_the_scoring(mini):
    from assesskit.analyses.composite import composite_counterpart

    comp, _notes = composite_counterpart(mini.scheme)
    base = sa.baseline(comp, FIX / "mini.csv", year=2016)
    out = sa.evaluate(base, sa.Perturbation(3))
    total = base.result.summary["total"].to_numpy()
    for d in range(3):  # bit for bit: the engine's draws are the kernel's scoring
        np.testing.assert_array_equal(out.total[d][base.order], total)
    # a points factor makes no sense on relative weights: refused, pointing to weight_noise
    bad = sa.parse_spec({"factors": [{"id": "w", "type": "weights"}]})
    with pytest.raises(sa.SpecError, match="weight_noise"):
        sa.simulate(base, bad, draws=2)


# --------------------------------------------------------------------------- spec files
def _write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "body, where, what",
    [
        (
            "factors:\n  - {id: a, type: target, items: [pr], shift: [1, 0]}\n",
            "factors › a",
            "shift: the low end 1",
        ),
        ("factors:\n  - {id: a, type: weigths}\n", "factors › a", "unknown factor type 'weigths'"),
        ("factors:\n  - {id: a, type: veto, p_of: 0.2}\n", "factors › a › p_of", "unknown key 'p_of'"),
        ("factors:\n  - {id: a, type: veto, p_off: 2}\n", "factors › a › p_off", "less than or equal to 1"),
        (
            "factors:\n  - {id: a, type: target, items: [pr], shift: [0, 1], values: [1]}\n",
            "factors › a",
            "exactly one",
        ),
        ("sobol: {n: 100}\n", "sobol", "power of 2"),
        (
            "factors:\n  - {id: a, type: data_noise, indicators: [g1], model: normal}\n",
            "factors › a",
            "sd or rel_sd",
        ),
        ("draws: 0\n", "draws", "greater than or equal to 1"),
        ("factors:\n  - {id: a, items: [pr]}\n", "factors › a", "needs a type"),
    ],
)
def test_bad_spec_files_name_file_path_and_problem(tmp_path, body, where, what):
    p = _write(tmp_path, body)
    with pytest.raises(sa.SpecError) as e:
        sa.load_spec(p)
    msg = str(e.value)
    assert f"{p}: {where}" in msg and what in msg


def test_spec_names_are_checked_against_the_scheme(tmp_path, mini):
    p = _write(
        tmp_path,
        """scheme: t1
factors:
  - {id: a, type: target, items: [nope], shift: [0, 1]}
  - {id: b, type: target, items: [sr], shift: [0, 1]}
  - {id: c, type: data_noise, indicators: [srb], model: binomial}
  - {id: d, type: weights, nodes: [basic, pr]}
  - {id: e, type: rule_form, items: [gr]}
  - {id: f, type: leave_out, nodes: [main]}
  - {id: a, type: veto, vetoes: [v9]}
""",
    )
    with pytest.raises(sa.SpecError) as e:
        sa.load_spec(p, mini.scheme)
    msg = str(e.value)
    for frag in (
        "factors › a › items: 'nope' is not a line, section or item",
        "factors › b › items: item(s) sr have no target",
        "factors › c › indicators: binomial noise needs a share",
        "factors › d › nodes: 'basic' and 'pr' overlap",
        "factors › e › items: item(s) gr are neither threshold nor linear",
        "factors › f › nodes: 'main' is a line",
        "factors › a: factor id 'a' is used 2 times",
        "factors › a › vetoes: 'v9' is not a veto",
    ):
        assert frag in msg, frag
    assert msg.count(str(p)) >= 8
    with pytest.raises(sa.SpecError, match=r"broken YAML \(line 3, column 1\)"):
        sa.load_spec(_write(tmp_path, "factors:\n  - {id: a, type: veto\n", "broken.yaml"))
    with pytest.raises(sa.SpecError, match="for scheme 'district_1000'"):
        sa.load_spec("district_1000", mini.scheme)


def test_bundled_specs_fit_their_schemes():
    for sid in ("district_1000", "wujin_2016"):
        sp = sa.load_spec(sid, ak.load_scheme(sid))
        assert len(sp.factors) >= 8


# --------------------------------------------------------------------------- CLI
def test_cli_sensitivity_writes_ranks_sobol_and_manifest(tmp_path):
    out = tmp_path / "out"
    args = [
        "sensitivity", "--scheme", "district_1000", "--data", str(EX / "panel.csv"),
        "--units", str(EX / "units.csv"), "--targets", str(EX / "targets.csv"), "--grades", str(EX / "grades.csv"),
        "--year", "2012", "--spec", "district_1000", "--draws", "200", "--seed", "3", "--sobol-n", "16",
        "--out", str(out),
    ]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    ranks = pd.read_csv(out / "ranks.csv", encoding="utf-8-sig")
    assert list(ranks.columns[:9]) == [
        "unit", "name", "year", "kind", "category", "nominal_rank", "median_rank", "rank_q05", "rank_q95",
    ]  # fmt: skip
    assert "p_warning_yellow_card" in ranks and "甲镇" in set(ranks["name"])
    sob = pd.read_csv(out / "sobol.csv", encoding="utf-8-sig")
    assert set(sob["output"]) == {"mean_abs_shift", "rank"}
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["seed"] == 3 and man["draws"] == 200 and man["sobol"]["evaluations"] == 16 * 12
    assert man["scheme"]["sha256"] and man["inputs"]["data"]["sha256"] and man["versions"]["SALib"]
    first = (out / "ranks.csv").read_bytes()
    r = CliRunner().invoke(main, args)
    assert (out / "ranks.csv").read_bytes() == first  # same seed, same file


def test_cli_sensitivity_bad_spec_writes_nothing(tmp_path):
    bad = _write(tmp_path, "factors:\n  - {id: a, type: target, items: [nope], shift: [0, 1]}\n")
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main,
        ["sensitivity", "--scheme", "district_1000", "--data", str(EX / "panel.csv"), "--units", str(EX / "units.csv"),
         "--year", "2012", "--spec", str(bad), "--out", str(out)],
    )  # fmt: skip
    assert r.exit_code == 2 and "'nope' is not a line, section or item" in r.output
    assert not out.exists()


def test_analyse_runs_the_whole_spec_as_the_cli_writes_it(mini):
    sp = spec({"id": "v", "type": "veto", "p_off": 0.0}, draws=7, seed=3)
    run = sa.analyse(mini, sp, sobol_n=0)
    assert (run.draws, run.seed, run.sobol_n) == (7, 3, 0)  # the spec's draws and seed, Sobol skipped
    assert run.simulation.ranks.shape == (7, 4) and run.sobol.empty and run.sobol_evaluations == 0
    r = run.ranks.set_index("unit")
    assert list(run.ranks.columns[:9]) == sa.analysis.RANK_FIRST
    assert "p_tier_first" in run.ranks.columns[9:11]  # tier probabilities come right after
    # the veto never switches off: every draw is the nominal ranking (A 1, B 2, D 2, C vetoed)
    assert r.loc[["A", "B", "D"], "median_rank"].tolist() == [1, 2, 2] and np.isnan(r.loc["C", "median_rank"])
    assert r.loc["A", "p_tier_first"] == 1 and r.loc["C", "p_veto"] == 1
    assert set(run.tables()) == {"ranks.csv", "sobol.csv", "loo.csv", "draws.csv"}
    assert sa.analyse(mini, sp, draws=5, seed=1, sobol_n=0).simulation.ranks.shape == (5, 4)


# --------------------------------------------------------------------------- chunks and memory
def test_auto_chunk_is_bounded_by_the_memory_budget(mini):
    from types import SimpleNamespace

    from assesskit.sensitivity.analysis import LIVE_ARRAYS, auto_chunk

    def chunk(n, **kw):
        return auto_chunk(SimpleNamespace(n=n), **kw)

    assert chunk(4) == 8192 and chunk(3000) == 64  # small panels: ~2^18 cells, whole blocks
    assert chunk(41_000) == 64  # a nation's towns: 64 draws × 36 arrays × 41,000 × 8 B < 1 GiB
    # more units than a block of 64 draws fits in the budget: fewer draws, never more bytes
    n = 1_000_000
    c = chunk(n)
    assert 1 <= c < 64 and c * n * 8 * LIVE_ARRAYS <= 1 << 30
    assert chunk(n, budget=1) == 1


def test_blocks_are_kept_only_when_a_later_chunk_reads_them(district):
    from assesskit.sensitivity.sampling import _reuses_blocks

    spec = sa.load_spec("district_1000", district.scheme)
    factors = resolve(spec, district)
    cycling = [rf for rf in factors if rf.vector and rf.cycle]
    assert cycling  # the bundled spec has data noise, cycling through 1000 realisations
    assert not _reuses_blocks(factors, np.arange(640), 64)
    assert _reuses_blocks(factors, np.arange(640), 100)  # chunks cut blocks
    assert _reuses_blocks(factors, np.arange(cycling[0].realizations + 1), 64)  # draws wrap around
    assert _reuses_blocks(factors, None, 64)  # Sobol: realisations picked at random


def test_a_chunk_that_is_one_block_gets_the_block_itself_read_only():
    from assesskit.sensitivity.sampling import BLOCK, _realise

    def gen(rng, size):
        return rng.random((size, 3))

    whole = _realise(1, (0, 1), np.arange(BLOCK, 2 * BLOCK), gen)
    part = _realise(1, (0, 1), np.arange(BLOCK + 5, BLOCK + 9), gen)  # the general path
    assert np.array_equal(whole[5:9], part) and not whole.flags.writeable


def test_simulate_results_do_not_depend_on_the_chunk_or_the_cache(district):
    spec = sa.load_spec("district_1000", district.scheme)
    a = sa.simulate(district, spec, draws=130, seed=2, chunk=64)  # whole blocks, no cache kept
    b = sa.simulate(district, spec, draws=130, seed=2, chunk=50)  # blocks cut: kept between chunks
    assert np.array_equal(a.ranks, b.ranks, equal_nan=True)
    pd.testing.assert_frame_equal(a.units, b.units, check_exact=True)


def test_leaving_out_every_tie_break_node_falls_back_to_shared_tiers(tmp_path):
    """With ``ties: tiebreak`` and the only tie-break node left out, the draw's scheme must stay
    valid (a tiebreak policy needs an order): it falls back to shared tiers and scores."""
    import yaml

    raw = yaml.safe_load((FIX / "mini.yaml").read_text(encoding="utf-8"))
    raw["outcomes"]["tie_break"] = ["basic"]
    raw["outcomes"]["ties"] = "tiebreak"
    path = tmp_path / "mini_tb.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    base = sa.baseline(ak.load_scheme(path), FIX / "mini.csv", year=2016)
    loo = sa.leave_one_out(base, ["basic"])
    r = loo.shifts.set_index(["node", "unit"])["rank"]
    # without the basic section (pr, sr): A 30, B 40, C 20 (no veto any more), D 20 — C and D share 3
    assert [r["basic", u] for u in "ABCD"] == [2, 1, 3, 3]
