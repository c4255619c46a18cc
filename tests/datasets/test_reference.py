"""The shipped reference data: published values and their sources."""

import pytest

from assesskit.datasets import DATASETS, catalog, load


def value(df, series, period):
    got = df[(df.series == series) & (df.period.astype(str) == str(period))]["srb"]
    assert len(got) == 1, (series, period)
    return float(got.iloc[0])


def test_published_sex_ratios():
    srb = load("china_srb")
    assert value(srb, "official_annual", 2008) == 120.56
    assert value(srb, "official_annual", 2014) == 115.88
    assert value(srb, "official_census", 2020) == 111.3
    # 2010 has two official values: annual 117.94 and the preliminary census 118.06
    assert value(srb, "official_annual", 2010) == 117.94
    assert value(srb, "official_census_preliminary", 2010) == 118.06


def test_official_series_2008_to_2014_strictly_falls():
    off = load("china_srb_official").assign(period=lambda d: d.period.astype(int)).set_index("period")["srb"]
    assert off.loc[2008:2014].tolist() == [120.56, 119.45, 117.94, 117.78, 117.70, 117.60, 115.88]


def test_pooled_counts_are_the_two_real_ones():
    pooled = load("china_srb_pooled").set_index("series")
    assert (pooled.loc["facility_sample", "male_births"], pooled.loc["facility_sample", "female_births"]) == (
        2785513,
        2549269,
    )
    assert (
        pooled.loc["city_birth_registry", "male_births"],
        pooled.loc["city_birth_registry", "female_births"],
    ) == (478192, 430852)
    # their ratios as published: 109.27 and 111.0
    assert 100 * 2785513 / 2549269 == pytest.approx(109.27, abs=0.005)
    assert 100 * 478192 / 430852 == pytest.approx(110.99, abs=0.005)


def test_every_row_keeps_its_source_and_every_dataset_its_licence():
    srb = load("china_srb")
    assert srb["source"].notna().all() and (srb["source"].str.len() > 10).all()
    wpp = load("china_srb_wpp2022")
    assert wpp["source"].str.contains("CC BY 3.0 IGO").all()
    cat = catalog()
    assert set(cat.name) == set(DATASETS) and cat.licence.str.len().gt(3).all()
    assert load("asem_idata").attrs["licence"] == "MIT (c) 2022 William Becker"


def test_asem_shapes():
    assert load("asem_idata").shape[0] == 51
    meta = load("asem_imeta")
    assert {"iCode", "Weight", "Direction", "Parent", "Level"} <= set(meta.columns)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="available: china_srb"):
        load("nope")
