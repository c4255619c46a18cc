"""Cronbach's α, listwise (assesskit's default) and pairwise (COINr's): a small table with
missing cells worked by hand, and COINr's published value on the ASEM data."""

import numpy as np
import pandas as pd
import pytest

from assesskit.datasets import load
from assesskit.stats import cronbach_alpha
from assesskit.stats.diagnostics import cronbach_alpha as from_diagnostics

nan = np.nan

# four units × three items, two cells missing
GAPS = np.array([[1.0, 2.0, nan], [2.0, 1.0, 3.0], [3.0, 4.0, 5.0], [nan, 3.0, 4.0]])


def test_pairwise_alpha_by_hand_with_missing_cells():
    # R: cov(x, use = "pairwise.complete.obs") —
    #   var a over {1,2,3} = 1; var b over {2,1,4,3} = 5/3; var c over {3,5,4} = 1;
    #   cov(a,b) on rows 1–3: a {1,2,3}, b {2,1,4} → ((−1)(−1/3) + 0 + (1)(5/3))/2 = 1;
    #   cov(a,c) on rows 2–3: a {2,3}, c {3,5} → 1; cov(b,c) on rows 2–4: b {1,4,3}, c {3,5,4} → 1.5.
    # Σσᵢᵢ = 11/3, Σσᵢⱼ = 11/3 + 2·(1 + 1 + 1.5) = 32/3; α = 3/2 · (1 − 11/32) = 63/64
    assert cronbach_alpha(GAPS, use="pairwise") == pytest.approx(63 / 64, abs=1e-12)
    # listwise keeps rows 2–3: vars 0.5, 4.5, 2; sums {6, 12} → 18; α = 3/2 · (1 − 7/18) = 11/12
    assert cronbach_alpha(GAPS) == pytest.approx(11 / 12, abs=1e-12)
    assert cronbach_alpha(GAPS, use="listwise") == cronbach_alpha(GAPS)
    # the formula COINr's get_cronbach writes, on pandas' pairwise covariance (R's pairing)
    cov = pd.DataFrame(GAPS).cov().to_numpy()
    k = 3
    coinr = k**2 * ((cov.sum() - np.trace(cov)) / (k * (k - 1))) / cov.sum()
    assert cronbach_alpha(GAPS, use="pairwise") == pytest.approx(coinr, abs=1e-12)


def test_pairwise_alpha_matches_coinr_on_asem_p2p():
    # COINr: get_cronbach(coin, dset = "Raw", iCodes = "P2P", Level = 1) = 0.05126659
    # (COINr's reference page for get_cronbach and its "Analysis" vignette; 51 countries,
    # 8 indicators, 17 missing cells). Listwise would give 0.0494 (42 complete countries).
    meta = load("asem_imeta")
    p2p = meta.loc[meta["Parent"] == "P2P", "iCode"].tolist()
    raw = load("asem_idata")[p2p]
    assert len(p2p) == 8 and raw.isna().to_numpy().sum() == 17
    assert round(cronbach_alpha(raw, use="pairwise"), 8) == 0.05126659
    assert round(cronbach_alpha(raw), 4) == 0.0494


def test_pairwise_equals_listwise_without_gaps_and_old_import_path():
    x = np.array([[1.0, 2, 3], [2, 2, 5], [4, 3, 4], [5, 6, 7], [3, 1, 2]])
    assert cronbach_alpha(x, use="pairwise") == pytest.approx(cronbach_alpha(x), abs=1e-12)
    assert from_diagnostics is cronbach_alpha


def test_pairwise_edge_cases():
    # two items sharing one unit: no covariance, no α (COINr would drop the term; we do not guess)
    assert np.isnan(
        cronbach_alpha(np.array([[1.0, nan], [2.0, nan], [3.0, 4.0], [nan, 5.0]]), use="pairwise")
    )
    assert np.isnan(cronbach_alpha(np.array([[1.0, nan], [2.0, nan], [3.0, nan]]), use="pairwise"))
    assert np.isnan(cronbach_alpha(np.array([[3.0, 0], [2, 1], [1, 2]]), use="pairwise"))  # offset items
    assert np.isnan(cronbach_alpha(np.array([[1.0, 5], [2, 5], [3, 5]]), use="pairwise"))  # one item varies
    with pytest.raises(ValueError, match="use must be 'listwise' or 'pairwise'"):
        cronbach_alpha(GAPS, use="everything")
