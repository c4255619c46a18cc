"""Properties that must hold for any panel (hypothesis): points never exceed the maximum,
improving an indicator never lowers a score, the order of units changes nothing."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assesskit import load_scheme, score

from .conftest import FIX

MINI = load_scheme(FIX / "mini.yaml")


@st.composite
def panels(draw):
    n = draw(st.integers(1, 8))
    births = draw(st.lists(st.integers(1, 3000), min_size=n, max_size=n))
    rows = []
    for i, b in enumerate(births):
        male = draw(st.integers(0, b))
        rows.append(
            {
                "unit": f"u{i}",
                "year": 2016,
                "category": draw(st.sampled_from(["seat", "rural"])),
                "births": b,
                "male_births": male,
                "female_births": b - male,
                "policy_births": draw(st.integers(0, b)),
                "g1": draw(st.one_of(st.none(), st.floats(0, 40))),
                "fals": draw(st.integers(0, 5)),
            }
        )
    return pd.DataFrame(rows)


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(panels())
def test_points_within_bounds(df):
    r = score(MINI, df)
    items = r.items[r.items.status != "deduction"]
    assert (items.points >= 0).all() and (items.points <= items.max_points + 1e-9).all()
    s = r.summary
    assert ((s.line_main <= 100 + 1e-9) & (s.line_main >= 0)).all()
    assert (s.total.dropna() >= 0).all()


@SETTINGS
@given(panels(), st.data())
def test_improving_an_indicator_never_lowers_the_score(df, data):
    i = data.draw(st.integers(0, len(df) - 1))
    better = df.copy()
    # more policy-compliant births (up to all births), a better grade, fewer cases
    better.loc[i, "policy_births"] = data.draw(
        st.integers(int(df.loc[i, "policy_births"]), int(df.loc[i, "births"]))
    )
    g = df.loc[i, "g1"]
    better.loc[i, "g1"] = data.draw(st.floats(0 if pd.isna(g) else g, 40))
    better.loc[i, "fals"] = data.draw(st.integers(0, int(df.loc[i, "fals"])))
    a = score(MINI, df).summary.set_index("unit").loc[f"u{i}"]
    b = score(MINI, better).summary.set_index("unit").loc[f"u{i}"]
    assert b.line_main >= a.line_main - 1e-9
    assert b.total >= a.total - 1e-9
    assert not (b.veto and not a.veto)


@SETTINGS
@given(panels(), st.randoms(use_true_random=False))
def test_unit_order_changes_nothing(df, rnd):
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    a = score(MINI, df)
    b = score(MINI, df.iloc[perm])
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.items, b.items)


@SETTINGS
@given(panels())
def test_ranks_are_competition_ranks(df):
    s = score(MINI, df).summary
    ranked = s.dropna(subset=["rank"])
    for total, rank in zip(ranked.total, ranked["rank"]):
        assert rank == 1 + (ranked.total > total).sum()
    assert np.isnan(s.loc[s.veto, "rank"].astype(float)).all()
