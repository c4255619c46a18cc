"""Differential test: the vectorised engine against the plain per-row scorer in
benchmarks/rowwise.py (which shares no code with it) on random panels for every bundled
scheme and the test scheme."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assesskit import bundled_schemes, load_scheme
from assesskit.data import Panel
from assesskit.scoring import score_panel

from .conftest import FIX

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from rowwise import score_rows  # noqa: E402
from synthetic import random_panel  # noqa: E402

SCHEMES = [FIX / "mini.yaml", *bundled_schemes()]


@pytest.mark.parametrize("path", SCHEMES, ids=lambda p: p.stem)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_engine_equals_rowwise(path, seed):
    scheme = load_scheme(path)
    data, targets = random_panel(scheme, n_units=40, n_years=3, seed=seed)
    res = score_panel(scheme, Panel(data, targets))
    ref = score_rows(scheme, data, targets)
    got = res.summary.sort_values(["year", "unit"]).reset_index(drop=True)
    assert got[["unit", "year"]].equals(ref[["unit", "year"]])
    np.testing.assert_allclose(got.total.to_numpy(float), ref.total.to_numpy(float), rtol=0, atol=1e-9)
    assert got.veto.tolist() == ref.veto.tolist()
    assert got.not_scored.tolist() == ref.not_scored.tolist()
    if not scheme.outcomes.tie_break:  # the per-row scorer ranks by total alone
        pd.testing.assert_series_equal(
            got["rank"].astype(float), ref["rank"].astype(float), check_names=False
        )
