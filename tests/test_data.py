"""The data boundary: encodings, formats, and every kind of bad input reported at once."""

import pandas as pd
import pytest

from assesskit import DataError, load_scheme, read_table, score
from assesskit.data import read_panel

from .conftest import FIX

GOOD = (FIX / "mini.csv").read_text(encoding="utf-8")


@pytest.fixture
def mini(mini_path):
    return load_scheme(mini_path)


def test_gbk_csv_with_chinese_headers_is_detected(tmp_path, mini):
    p = tmp_path / "gbk.csv"
    text = GOOD.replace("unit,year", "单位,年份").replace("A,", "城关镇,")
    p.write_bytes(text.encode("gbk"))
    t = read_table(p)
    assert t.encoding == "gb18030" and "unit" in t.frame.columns
    r = score(mini, p, year=2016)
    assert "城关镇" in set(r.summary.unit)


def test_utf8_bom_and_excel_give_the_same_scores(tmp_path, mini):
    bom = tmp_path / "bom.csv"
    bom.write_bytes(GOOD.encode("utf-8-sig"))
    xlsx = tmp_path / "panel.xlsx"
    pd.read_csv(FIX / "mini.csv").to_excel(xlsx, index=False)
    a = score(mini, FIX / "mini.csv").summary
    pd.testing.assert_frame_equal(score(mini, bom).summary, a)
    pd.testing.assert_frame_equal(score(mini, xlsx).summary, a)


def test_wrong_declared_encoding_names_the_file(tmp_path):
    p = tmp_path / "gbk.csv"
    p.write_bytes("单位,年份\n城关镇,2016\n".encode("gbk"))
    with pytest.raises(DataError, match=r"gbk.csv: cannot decode as utf-8.*give its encoding"):
        read_table(p, encoding="utf-8")


def test_every_problem_listed_with_row_and_column(tmp_path, mini):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "unit,year,category,births,male_births,female_births,policy_births,g1,fals\n"
        "A,2016,seat,100,55,45,101,30,0\n"  # row 2: policy_births > births → rate 101 > 100
        "B,2016,rural,-5,0,0,0,40,0\n"  # row 3: negative count; 0 + 0 ≠ −5
        "B,2016,rural,200,110,90,190,40,0\n"  # row 4: duplicate of row 3's unit-year
        "C,2016,rural,200,100,97,180,x,0\n",  # row 5: 100 + 97 ≠ 200; grade 'x' not a number
        encoding="utf-8",
    )
    with pytest.raises(DataError) as e:
        score(mini, bad, year=2016)
    msgs = [str(p) for p in e.value.problems]
    expect = [
        "bad.csv, row 2, column 'policy_births': policy_rate = policy_births / births × 100 is 101, above its maximum 100",
        "bad.csv, row 3, column 'births': a count cannot be negative, got -5",
        "B / 2016 appears more than once (rows 3, 4)",
        "bad.csv, row 5, column 'births': male_births + female_births = 100 + 97 = 197, but births = 200",
        "bad.csv, row 5, column 'g1': expected a number, got 'x'",
    ]
    for want in expect:
        assert any(want in m for m in msgs), (want, msgs)


def test_missing_column_is_an_error_unless_allowed(mini):
    df = pd.read_csv(FIX / "mini.csv").drop(columns="g1")
    with pytest.raises(
        DataError, match=r"indicator 'g1' needs a column 'g1', which the file lacks \(read by main › gr\)"
    ):
        score(mini, df)
    r = score(mini, df, allow_missing_columns=True)
    assert (r.items.query("item == 'gr'").status == "missing").all()
    assert any("g1" in str(w) for w in r.warnings)


def test_absent_adjustment_counts_mean_no_cases_with_a_warning(mini):
    r = score(mini, pd.read_csv(FIX / "mini.csv").drop(columns="fals"))
    assert (r.summary.deduction == 0).all()
    assert any("no cases are counted" in str(w) for w in r.warnings)


def test_rate_given_without_counts_is_used_with_a_warning(mini):
    df = pd.read_csv(FIX / "mini.csv").drop(columns=["policy_births"]).assign(policy_rate=99.5)
    r = score(mini, df, year=2016)
    assert (r.items.query("item == 'pr'").value.astype(float) == 99.5).all()
    assert any("given without its counts" in str(w) for w in r.warnings)


def test_units_must_be_in_the_registry_and_kinds_known(mini):
    units = pd.DataFrame({"unit": ["A", "B", "C"], "name": ["甲", "乙", "丙"], "kind": "town"})
    with pytest.raises(DataError, match=r"unit 'D' is not in the registry"):
        score(mini, FIX / "mini.csv", units=units)
    with pytest.raises(DataError, match=r"'county' is not one of the scheme's kinds"):
        score(mini, FIX / "mini.csv", units=units.assign(kind="county"))


def test_year_outside_the_scheme(mini):
    with pytest.raises(DataError, match=r"year 2020 is outside the scheme's years 2015–2016"):
        score(mini, FIX / "mini.csv", year=2020)


def test_missing_unit_or_year_column(mini):
    with pytest.raises(DataError, match=r"missing column\(s\) \['year'\]"):
        score(mini, pd.read_csv(FIX / "mini.csv").drop(columns="year"))


def test_long_grades_table_merges_and_rejects_unknown_items(mini):
    df = pd.read_csv(FIX / "mini.csv").drop(columns="g1")
    grades = pd.DataFrame(
        {
            "unit": ["A", "A", "B", "C", "D"],
            "year": [2015, 2016, 2016, 2016, 2016],
            "item": "g1",
            "grade": [30, 35, 40, 20, 20],
        }
    )
    a = score(mini, FIX / "mini.csv").summary
    pd.testing.assert_frame_equal(score(mini, df, grades=grades).summary, a)
    with pytest.raises(DataError, match=r"unknown item 'g2'"):
        score(mini, df, grades=grades.assign(item="g2"))
    with pytest.raises(DataError, match=r"grade 45 for main › gr must lie in 0–40"):
        score(mini, df, grades=grades.assign(grade=45))


def test_unit_names_with_markup_are_kept_as_data(mini):
    df = pd.read_csv(FIX / "mini.csv").replace({"A": "<script>alert(1)</script>", "B": "../x"})
    r = score(mini, df, year=2016)
    assert {"<script>alert(1)</script>", "../x"} <= set(r.summary.unit)


def test_input_order_does_not_matter(mini):
    df = pd.read_csv(FIX / "mini.csv")
    a = score(mini, df).summary
    b = score(mini, df.sample(frac=1, random_state=3)).summary
    pd.testing.assert_frame_equal(a, b)


def test_read_panel_sorts_and_types(mini):
    p = read_panel(mini, FIX / "mini.csv")
    assert p.data[["unit", "year"]].values.tolist()[:2] == [["A", 2015], ["A", 2016]]
    assert p.data["births"].dtype == float


# ---- review findings: each would otherwise change scores silently or crash
def test_grade_for_a_unit_not_in_the_panel_names_the_grades_file(tmp_path, mini):
    df = pd.read_csv(FIX / "mini.csv").drop(columns="g1")
    g = tmp_path / "grades.csv"
    g.write_text("unit,year,item,grade\nA,2016,g1,35\nBB,2016,g1,40\nC,2016,g1,abc\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        score(mini, df, grades=g, year=2016)
    msg = str(e.value)
    assert "grades.csv, row 3, column 'unit': BB 2016 is not in the panel" in msg
    assert "grades.csv, row 4, column 'grade': grade for main › gr: expected a number, got 'abc'" in msg


def test_target_rows_for_unknown_units_and_unit_years_without_targets_warn(mini_raw):
    from assesskit import parse_scheme

    mini_raw["lines"][0]["items"][0]["items"][0]["rule"]["target"] = {"table": "pr_target", "default": 95}
    targets = pd.DataFrame({"unit": ["A", "Bx"], "year": 2016, "pr_target": [99, 90], "备注": ["ok", "typo"]})
    r = score(parse_scheme(mini_raw), FIX / "mini.csv", targets=targets, year=2016)
    text = " ".join(str(w) for w in r.warnings)
    assert "targets for units not in the panel are ignored: Bx" in text
    # they fall back to the default 95, and the warning says so
    assert "main › basic › pr: no 'pr_target' target for 3 unit-year(s) (B 2016, C 2016, D 2016): " in text
    assert "the scheme's default target 95 is used" in text
    it = r.items.query("item == 'pr'").set_index("unit")
    assert it.loc["A", "target"] == 99 and it.loc["B", "target"] == 95


def test_duplicate_columns_are_refused(tmp_path, mini):
    p = tmp_path / "dup.csv"
    p.write_text("unit,year,births,births\nA,2016,1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"dup.csv: duplicate column names \['births'\]"):
        read_table(p)
    with pytest.raises(DataError, match=r"duplicate column names \['unit'\]"):
        score(mini, pd.DataFrame({"unit": ["A"], "单位": ["A"], "year": [2016]}))


def test_implausible_year_is_an_error_and_later_years_warn(mini):
    df = pd.read_csv(FIX / "mini.csv")
    df.loc[0, "year"] = 20115
    with pytest.raises(DataError, match=r"row 2, column 'year': year 20115 is not plausible"):
        score(mini, df)
    mini_df = pd.read_csv(FIX / "mini.csv")
    later = pd.concat([mini_df, mini_df[mini_df.year == 2016].assign(year=2017)])
    r = score(mini, later)
    assert set(r.summary.year) == {2015, 2016}
    assert any("rows of 2017 are after the scheme's years" in str(w) for w in r.warnings)


def test_registry_and_panel_problems_are_reported_together(mini):
    df = pd.read_csv(FIX / "mini.csv").astype({"births": object})
    df.loc[0, "births"] = "many"
    units = pd.DataFrame({"unit": list("ABCD"), "kind": ["town", "village", "town", "town"]})
    with pytest.raises(DataError) as e:
        score(mini, df, units=units)
    msg = str(e.value)
    assert "'village' is not one of the scheme's kinds" in msg and "expected a number, got 'many'" in msg


def test_numpy_year_and_empty_year_list(mini):
    df = pd.read_csv(FIX / "mini.csv")
    assert set(score(mini, df, year=df.year.max()).summary.year) == {2016}
    with pytest.raises(DataError, match="empty list of years"):
        score(mini, df, year=[])


def test_registry_values_are_stripped(mini):
    units = pd.DataFrame(
        {"unit": list("ABCD"), "kind": "town ", "category": [" seat", "rural ", "rural", "rural"]}
    )
    r = score(mini, FIX / "mini.csv", units=units, year=2016)
    assert set(r.summary.kind) == {"town"}
