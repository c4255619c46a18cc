"""The one scoring kernel: ranks over a draws axis, the nominal draw, variations by hand,
peer rules per draw, ScoreResult's documented arrays, deprecated aliases.

The small scheme (tests/fixtures/mini.yaml, 2016): A (seat) pr 40 + sr 20 + gr 35 − 5 = 90;
B (rural) 40 + 0 (no previous year) + 40 = 80; C (rural) policy 90 % < 95 → vetoed;
D (rural) 40 + 20 + 20 = 80. Ranks A 1, B 2, D 2; first prize A; yellow card B and D.
"""

from __future__ import annotations

import numpy as np
import pytest

import assesskit as ak
from assesskit import kernel
from assesskit.kernel import Ranking, Variation, rank_within
from assesskit.kernel.core import apply_rule
from assesskit.scheme import NormaliseRule

from .conftest import FIX

nan = np.nan


@pytest.fixture(scope="module")
def mini():
    return ak.score(ak.load_scheme(FIX / "mini.yaml"), FIX / "mini.csv", year=2016)


def by_unit(res, arr) -> dict:
    return dict(zip(res.rows["unit"], np.asarray(arr).tolist(), strict=True))


# --------------------------------------------------------------------------- ranks
def test_rank_within_ties_groups_mask_and_nan_by_hand():
    group = np.array([0, 0, 0, 0, 1, 1])
    key = np.array([3.0, 5, 5, 1, 2, nan])
    got = rank_within(group, [key], np.ones(6, bool))
    assert np.array_equal(got, [3, 1, 1, 4, 1, 2])  # NaN ranks below every number
    masked = rank_within(group, [key], np.array([1, 1, 0, 1, 1, 1], bool))
    assert np.array_equal(masked, [2, 1, nan, 3, 1, 2], equal_nan=True)
    tie_break = np.array([0.0, 1, 2, 0, 0, 0])
    assert np.array_equal(rank_within(group, [key, tie_break], np.ones(6, bool)), [3, 2, 1, 4, 1, 2])


def test_rank_within_ranks_each_draw_on_its_own():
    group = np.array([0, 0, 1, 1])
    keys = np.array([[1.0, 2, 3, 4], [2.0, 1, 4, 4]])
    mask = np.array([[1, 1, 1, 1], [1, 1, 1, 0]], bool)
    got = rank_within(group, [keys], mask)
    assert np.array_equal(got, [[2, 1, 2, 1], [1, 2, 1, nan]], equal_nan=True)
    # a 1-D mask and 1-D keys broadcast over the draws of a 2-D key
    got = rank_within(group, [keys, np.array([0.0, 0, 1, 0])], np.ones(4, bool))
    assert np.array_equal(got, [[2, 1, 2, 1], [1, 2, 1, 2]])


def test_one_sort_ranks_any_subset_from_the_top_and_the_bottom_and_counts():
    group = np.zeros(5, int)
    r = Ranking(group, [np.array([[10.0, 8, 8, 5, 1]])])
    sub = np.array([[1, 1, 1, 1, 0]], bool)
    assert np.array_equal(r.better(sub), [[1, 2, 2, 4, nan]], equal_nan=True)
    assert np.array_equal(r.worse(sub), [[4, 2, 2, 1, nan]], equal_nan=True)
    assert np.array_equal(r.count(sub), [[4, 4, 4, 4, 4]])
    assert np.array_equal(r.better(np.array([[0, 0, 1, 1, 1]], bool)), [[nan, nan, 1, 2, 3]], equal_nan=True)


def test_empty_inputs_rank_to_empty_arrays():
    assert rank_within(np.zeros(0, int), [np.zeros(0)], np.zeros(0, bool)).shape == (0,)


# --------------------------------------------------------------------------- the kernel
def test_the_nominal_draw_is_score_panel(mini):
    out = kernel.run(mini.inputs)
    s = mini.summary
    assert np.array_equal(out.total[0, mini.order], s["total"].to_numpy(dtype=float), equal_nan=True)
    # a vetoed unit keeps its total (C: 0 + 20 + 20), only unscored units lose it
    assert by_unit(mini, out.total[0]) == {"A": 90, "B": 80, "C": 40, "D": 80}
    assert by_unit(mini, out.rank[0]) == pytest.approx({"A": 1, "B": 2, "C": nan, "D": 2}, nan_ok=True)
    assert by_unit(mini, out.tier[0]) == {"A": 0, "B": -1, "C": -1, "D": -1}
    assert by_unit(mini, out.warnings[0, 0]) == {"A": False, "B": True, "C": False, "D": True}
    assert by_unit(mini, out.n_ranked[0]) == {"A": 3, "B": 3, "C": 3, "D": 3}


def test_variations_by_hand(mini):
    ids = [it.id for _p, it in mini.scheme.flat_items]
    var = Variation(2)
    var.weight = np.ones((2, 3))
    var.weight[0, ids.index("gr")] = 2.0  # draw 0: the grade counts double
    var.target_items = {ids.index("pr")}
    var.target_add = np.zeros((2, 3))
    var.target_add[1, ids.index("pr")] = 0.6  # draw 1: targets 99.6 / 95.6 → B (95 %) misses
    out = kernel.run(kernel.with_credit(mini.inputs), var)
    # draw 0: A 40 + 20 + 70 − 5 = 125, B 40 + 0 + 80 = 120, C 0 + 20 + 40, D 40 + 20 + 40 = 100
    assert by_unit(mini, out.total[0]) == {"A": 125, "B": 120, "C": 60, "D": 100}
    assert by_unit(mini, out.rank[0]) == pytest.approx({"A": 1, "B": 2, "C": nan, "D": 3}, nan_ok=True)
    assert by_unit(mini, out.warnings[0, 0]) == {"A": False, "B": False, "C": False, "D": True}
    # draw 1: B vetoed (its pr missed) → A 1, D 2; the yellow card only for D
    assert by_unit(mini, out.vetoed[1]) == {"A": False, "B": True, "C": True, "D": False}
    assert by_unit(mini, out.rank[1]) == pytest.approx({"A": 1, "B": nan, "C": nan, "D": 2}, nan_ok=True)
    assert by_unit(mini, out.warnings[0, 1]) == {"A": False, "B": False, "C": False, "D": True}


def test_detail_status_marks_the_vetoing_item(mini):
    st = mini.item_status[[it.id for _p, it in mini.scheme.flat_items].index("pr")]
    assert [kernel.STATUS[c] for c in st] == ["met", "met", "vetoed", "met"]  # A B C D


def test_a_peer_rule_compares_each_draw_with_its_own_peers():
    rule = NormaliseRule(type="normalise", indicator="x", method="minmax", scale=(0.0, 100.0))
    value = np.array([[1.0, 3, 10, 20], [5.0, 7, 30, 10]])
    group = np.array([0, 0, 1, 1])
    nan4 = np.full((1, 4), nan)
    got = apply_rule(rule, value, nan4, nan4, None, group, (2, 4))
    # per draw and group: min → 0, max → 100 (mixing draws would put draw 1's 5 at 66.7)
    assert np.array_equal(got, [[0, 100, 0, 100], [0, 100, 100, 0]])


# --------------------------------------------------------------------------- ScoreResult
def test_score_result_documents_its_arrays(mini):
    ids = [it.id for _p, it in mini.scheme.flat_items]
    assert list(mini.rows["unit"]) == ["A", "B", "C", "D"]
    assert list(mini.rows["unit"].to_numpy()[mini.order]) == list(mini.summary["unit"])
    assert by_unit(mini, mini.targets["pr"]) == {"A": 99, "B": 95, "C": 95, "D": 95}
    prev = by_unit(mini, mini.previous["sr"])
    assert prev["A"] == pytest.approx(55 / 45 * 100) and np.isnan(prev["B"])
    assert by_unit(mini, mini.values["policy_rate"]) == pytest.approx({"A": 100, "B": 95, "C": 90, "D": 99.5})
    assert by_unit(mini, mini.item_points[ids.index("gr")]) == {"A": 35, "B": 40, "C": 20, "D": 20}
    assert by_unit(mini, mini.adjustments["f"]) == {"A": 5, "B": 0, "C": 0, "D": 0}
    assert mini.applies.all()
    wide = mini.points  # the table for people: the same numbers in summary order
    assert wide.loc[("A", 2016), "gr"] == 35


def test_old_names_still_work_with_a_deprecation_warning():
    from assesskit import sensitivity as sa
    from assesskit.scoring import competition_rank

    with pytest.warns(DeprecationWarning, match="rank_within"):
        assert np.array_equal(
            competition_rank(np.zeros(2, int), [np.array([1.0, 2])], np.ones(2, bool)), [2, 1]
        )
    with pytest.warns(DeprecationWarning, match="rank_within"):
        sa.rank_draws(np.zeros(2, int), [np.array([[1.0, 2]])], np.ones((1, 2), bool))


def _brute_rank(group, keys, sub, worse=False):
    """1 + members of ``sub`` in the same group strictly better (worse) on the keys, by
    pairwise comparison — the definition, for one draw."""
    n = group.size
    ks = [np.where(np.isnan(k), -np.inf, k) for k in keys]
    out = np.full(n, nan)
    for i in np.flatnonzero(sub):
        beats = np.zeros(n, bool)
        tied = np.ones(n, bool)
        for k in ks:
            better = (k < k[i]) if worse else (k > k[i])
            beats |= tied & better
            tied &= k == k[i]
        out[i] = 1 + np.sum(beats & sub & (group == group[i]))
    return out


def test_ranking_agrees_with_the_pairwise_definition():
    rng = np.random.default_rng(3)
    for _ in range(20):
        d, n = 4, 30
        group = rng.integers(0, 3, n)
        keys = [rng.integers(0, 4, (d, n)).astype(float), rng.integers(0, 3, (d, n)).astype(float)]
        keys[1][rng.random((d, n)) < 0.1] = nan
        sub = rng.random((d, n)) < 0.7
        r = Ranking(group, keys)
        better, worse = r.better(sub), r.worse(sub)
        for i in range(d):
            k_i = [k[i] for k in keys]
            assert np.array_equal(better[i], _brute_rank(group, k_i, sub[i]), equal_nan=True)
            assert np.array_equal(worse[i], _brute_rank(group, k_i, sub[i], worse=True), equal_nan=True)


def test_aggregate_tree_takes_item_scores_and_weights_per_draw():
    from assesskit.kernel.aggregate import TreeNode, aggregate_tree

    nodes = [
        TreeNode("a", "L › a", 1, 1, "", 1.0, (), 0),
        TreeNode("b", "L › b", 1, 1, "", 3.0, (), 1),
        TreeNode("L", "L", 0, 2, "mean", 1.0, (0, 1), -1),
    ]
    scores = np.array([[[10.0, 20.0]], [[10.0, np.nan]]])  # draws × units × items
    weights = np.array([[1.0, 3.0, 1.0], [1.0, 1.0, 1.0]])
    # draw 0: (1·10 + 3·20)/4 = 17.5; draw 1: b missing drops out → 10
    full = aggregate_tree(nodes, scores, weights)
    np.testing.assert_allclose(full[:, 0, -1], [17.5, 10.0])
    np.testing.assert_allclose(full[:, 0, :2], [[10, 20], [10, np.nan]])
    # one set of item scores shared by both weight sets, only the top node
    top = aggregate_tree(nodes, np.array([[10.0, 20.0]]), weights, methods={"L": "geometric"}, top_only=True)
    np.testing.assert_allclose(top[:, 0], [np.exp((np.log(10) + 3 * np.log(20)) / 4), np.sqrt(200)])


# --------------------------------------------------------------------------- speed work, same results
def test_status_codes_by_bit_arithmetic_by_hand():
    from assesskit.kernel.items import _status

    # full credit, partial, none, a missing value scored 'zero', one scored 'full'
    f = np.array([[1.0, 0.5, 0.0, 0.0, 1.0]])
    missing = np.array([[False, False, False, True, True]])
    st = _status(f, missing, 0.0, 1.0, (1, 5))
    assert st.tolist() == [[kernel.MET, kernel.PARTIAL, kernel.MISSED, kernel.MISSING, kernel.MISSING]]
    # a (1, n) credit written into (d, n) rows; missed wins where low and full meet
    out = np.empty((2, 2), np.int8)
    _status(np.array([[0.3, 1.0]]), np.zeros((1, 2), bool), 0.3, 0.3, (2, 2), out=out)
    assert out.tolist() == [[kernel.MISSED, kernel.MET]] * 2


def test_row_lookup_table_and_hash_paths_agree_with_pandas():
    import pandas as pd

    from assesskit.kernel.inputs import _lookup

    keys = np.array([5, 2, 9, 0])
    queries = np.array([9, 1, 0, 5, 2])
    expected = pd.Index(keys).get_indexer(queries)
    assert expected.tolist() == [2, -1, 3, 0, 1]
    assert _lookup(keys, queries, 10).tolist() == expected.tolist()  # dense table
    assert _lookup(keys * 10_000, queries * 10_000, 100_000).tolist() == expected.tolist()  # sparse: hash
    with pytest.raises(pd.errors.InvalidIndexError):  # duplicated unit-years are refused, as before
        _lookup(np.array([1, 1, 2]), np.array([1]), 3)


def test_codes_in_arrow_and_object_strings_agree():
    import pandas as pd

    from assesskit.kernel.inputs import _codes_in, _kind_codes

    names = pd.Index(pd.array(["甲镇", "乙镇", "丙镇"], dtype="str"))
    for dtype in ("str", object):
        values = pd.Index(pd.array(["丙镇", "丁镇", "甲镇", None], dtype=dtype))
        assert _codes_in(values, names).tolist() == [2, -1, 0, -1]
    kinds = pd.Series(["town", None, "street", "city", "town"], dtype="str")
    assert _kind_codes(kinds, ["street", "town"]).tolist() == [1, -1, 0, -1, 1]


def test_linear_credit_fast_and_guarded_paths_by_hand():
    from assesskit.kernel.rules import LinearRule, RuleInput, linear

    rule = LinearRule(type="linear", indicator="x", floor=50, target=90)
    v = np.array([50.0, 70.0, 100.0, np.nan, 60.0])
    t = np.array([90.0, 90.0, 90.0, 90.0, np.nan])
    got = linear(rule, RuleInput(v, t, t, 1.0))  # every span proper: the fast path
    assert np.array_equal(got, [0.0, 0.5, 1.0, np.nan, np.nan], equal_nan=True)
    assert not np.signbit(got[0])  # no -0.0
    t2 = np.array([90.0, 40.0, 40.0, 90.0, 50.0])  # targets at or below the floor: a threshold on the target
    got = linear(rule, RuleInput(v, t2, t2, 1.0))
    assert np.array_equal(got, [0.0, 1.0, 1.0, np.nan, 1.0], equal_nan=True)


def test_graded_keeps_nan_and_clips_in_place():
    from assesskit.kernel.rules import GradedRule, RuleInput, graded

    rule = GradedRule(type="graded", indicator="g", scale="points")
    v = np.array([4.0, np.nan, 9.0, -1.0])
    got = graded(rule, RuleInput(v, v, v, 8.0))
    assert np.array_equal(got, [0.5, np.nan, 1.0, 0.0], equal_nan=True)
    assert v[0] == 4.0  # the input is not written
