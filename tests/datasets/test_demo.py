"""The synthetic demo generator: deterministic, scoreable, and with what it plants."""

import hashlib

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from assesskit import DataError, bundled_schemes, load_scheme, score
from assesskit.cli import main
from assesskit.datasets.demo import make_demo_data, make_panel

SCHEMES = [p.stem for p in bundled_schemes()]


@pytest.fixture(scope="module")
def panels():
    return make_demo_data(seed=0)


def tree_hashes(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path):
    for d in ("a", "b"):
        r = CliRunner().invoke(main, ["demo-data", "--seed", "7", "--out", str(tmp_path / d)])
        assert r.exit_code == 0, r.output
    a, b = tree_hashes(tmp_path / "a"), tree_hashes(tmp_path / "b")
    assert a == b and len(a) > 20
    r = CliRunner().invoke(main, ["demo-data", "--seed", "8", "--out", str(tmp_path / "c")])
    assert tree_hashes(tmp_path / "c") != a


def test_every_synthetic_file_says_so(tmp_path):
    CliRunner().invoke(main, ["demo-data", "--out", str(tmp_path)])
    for f in tmp_path.rglob("*.csv"):
        assert "synthetic" in f.name or f.name == "targets.csv", f
    units = pd.read_csv(tmp_path / "wujin_2016" / "units.synthetic.csv")
    assert units["synthetic"].all()
    assert "SYNTHETIC" in (tmp_path / "README.md").read_text(encoding="utf-8")
    import json

    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["synthetic"] is True


@pytest.mark.parametrize("sid", SCHEMES)
def test_every_scheme_scores_its_demo_panel(panels, sid):
    p = panels[sid]
    r = score(load_scheme(sid), **p.tables())
    assert len(r.summary) > 0 and r.summary["total"].notna().sum() > 0
    assert not [w for w in r.warnings if "absent" in str(w)]


def test_source_units(panels):
    wujin = panels["wujin_2016"]
    assert len(wujin.units) == 17 and set(wujin.data.year) == set(range(2012, 2017))
    assert {"湖塘镇", "礼嘉镇", "潞城街道", "高新区北区"} <= set(wujin.units.name)
    assert set(wujin.units.category) == {"seat", "rural"}
    xpcc = panels["xpcc_2015"]
    assert len(xpcc.units) == 14 and set(xpcc.data.year) == set(range(2013, 2017))
    assert set(xpcc.units.category) == {"south", "north"}
    foshan = panels["foshan_2006"]
    assert set(foshan.units.name) == {"禅城区", "南海区", "顺德区", "高明区", "三水区"}
    # the published targets: 高明 birth rate 11.15‰, natural growth 6.45‰, policy rate 94%
    gm = foshan.targets.set_index(["unit", "year"]).loc[("gaoming", 2008)]
    assert (gm.birth_rate_target, gm.natural_growth_target, gm.policy_rate_target) == (11.15, 6.45, 94.0)
    d = panels["district_1000"].units
    assert set(d.kind) == {"town", "department"}


def test_realistic_sizes_and_rates(panels):
    w = panels["wujin_2016"].data
    assert w.births.between(200, 3500).all()
    comp = w.policy_births / w.births * 100
    assert comp.between(90, 100).all() and comp.median() > 96
    assert (w.male_births + w.female_births == w.births).all()
    first = w[w.year == 2012]
    srb = first.male_births / first.female_births * 100
    assert srb.median() > 108  # starts high


def test_falsification_case_and_its_inconsistent_reported_rate(panels):
    for sid in ("district_1000", "wujin_2016", "xpcc_2015"):
        d = panels[sid].data
        fcol = [c for c in d.columns if "falsif" in c and "serious" not in c and "grave" not in c][0]
        hit = d[d[fcol].fillna(0) > 0]
        assert len(hit) == 1, sid
        computed = (d.policy_births / d.births * 100).round(2)
        gap = (d.policy_rate_reported - computed).abs()
        assert gap.loc[hit.index[0]] > 1  # inflated by 1.5–3 points
        assert gap.drop(index=hit.index[0]).dropna().max() < 0.006  # everyone else reports the counts


def test_bunching_just_above_99(panels):
    d = panels["wujin_2016"].data
    rate = d.policy_births / d.births * 100
    late = d.year >= 2014
    just_above = (late & rate.between(99.0, 99.15)).sum()
    just_below = (late & rate.between(98.85, 99.0, inclusive="left")).sum()
    assert just_above >= 6 and just_above > 3 * max(just_below, 1)
    early = ~late
    assert (early & rate.between(99.0, 99.15)).sum() <= 3


def test_sex_ratio_noise_shrinks_with_births():
    # many draws of one panel: the male share scatters around the true one by ~1/sqrt(births)
    rows = []
    for seed in range(8):
        p = make_panel(load_scheme("wujin_2016"), seed)
        m = p.data.merge(p.truth, on=["unit", "year"])
        share = m.srb_true / (100 + m.srb_true)
        rows.append(
            pd.DataFrame(
                {
                    "births": m.births,
                    "dev": (m.male_births / m.births - share).abs(),
                    "z": (m.male_births / m.births - share) / np.sqrt(share * (1 - share) / m.births),
                }
            )
        )
    df = pd.concat(rows)
    small, large = df.births.quantile([1 / 3, 2 / 3])
    assert df[df.births <= small].dev.mean() > 1.5 * df[df.births >= large].dev.mean()
    assert 0.8 < df.z.std() < 1.2  # binomial: standardised deviations have sd ≈ 1


def test_high_sex_ratio_units_stay_high(panels):
    for sid in ("wujin_2016", "xpcc_2015"):
        p = panels[sid]
        last = p.truth[p.truth.year == p.truth.year.max()]
        assert (last.srb_true > 115).sum() >= 2


# ---- a corrupted copy of the demo panel: every problem in one message, exit 2, no output
def corrupt(tmp_path, how):
    src = tmp_path / "data"
    CliRunner().invoke(main, ["demo-data", "--out", str(src), "--scheme", "wujin_2016"])
    folder = src / "wujin_2016"
    panel = pd.read_csv(folder / "panel.synthetic.csv")
    out_name = "panel.synthetic.csv"
    if how == "negative":
        panel.loc[3, "births"] = -panel.loc[3, "births"]
    elif how == "duplicate":
        panel = pd.concat([panel, panel.iloc[[5]]], ignore_index=True)
    elif how == "above_100":
        panel.loc[7, "policy_births"] = panel.loc[7, "births"] + 10
    elif how == "missing_column":
        panel = panel.drop(columns="flo_persons")
    panel.to_csv(folder / out_name, index=False, encoding="gbk" if how == "gbk" else "utf-8")
    return folder


EXPECT = {
    "negative": "row 5, column 'births': a count cannot be negative",
    "duplicate": "appears more than once (rows 7, ",
    "above_100": "row 9, column 'policy_births': policy_compliance_rate = policy_births / births × 100 is",
    "missing_column": "indicator 'flo_entry_rate' needs its counts ['flo_persons_entered', 'flo_persons']",
    "gbk": "cannot decode as utf-8",
}


@pytest.mark.parametrize("how", list(EXPECT))
def test_corrupted_demo_panel(tmp_path, how):
    folder = corrupt(tmp_path, how)
    out = tmp_path / "out"
    args = [
        "score",
        "--scheme",
        "wujin_2016",
        "--data",
        str(folder / "panel.synthetic.csv"),
        "--units",
        str(folder / "units.synthetic.csv"),
        "--grades",
        str(folder / "grades.synthetic.csv"),
        "--out",
        str(out),
    ]
    if how == "gbk":  # the registry has Chinese names; read it as UTF-8 although it is GBK
        pd.read_csv(folder / "units.synthetic.csv").to_csv(
            folder / "units.synthetic.csv", index=False, encoding="gbk"
        )
        args += ["--encoding", "utf-8"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, r.output
    assert EXPECT[how] in r.output
    assert "units.synthetic.csv" in r.output or "panel.synthetic.csv" in r.output
    assert not out.exists()


def test_all_corruptions_at_once_are_listed_together(tmp_path):
    folder = corrupt(tmp_path, "negative")
    panel = pd.read_csv(folder / "panel.synthetic.csv")
    panel.loc[7, "policy_births"] = panel.loc[7, "births"] + 10
    panel = pd.concat([panel, panel.iloc[[5]]], ignore_index=True).drop(columns="flo_persons")
    panel.to_csv(folder / "panel.synthetic.csv", index=False)
    with pytest.raises(DataError) as e:
        score(
            load_scheme("wujin_2016"),
            folder / "panel.synthetic.csv",
            units=folder / "units.synthetic.csv",
            grades=folder / "grades.synthetic.csv",
        )
    msg = str(e.value)
    for want in (
        "a count cannot be negative",
        "appears more than once",
        "above its maximum 100",
        "needs its counts",
    ):
        assert want in msg
