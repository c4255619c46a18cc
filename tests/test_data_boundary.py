"""The data boundary's reading of cells (issue 16): numbers, identifiers, files, defaults.

The command-line corpus is tests/faults/test_data_corpus.py; these are the Python-level
checks with hand-computed expectations.
"""

import math

import numpy as np
import pandas as pd
import pytest

from assesskit import DataError, load_scheme, parse_scheme, read_table
from assesskit.data import read_panel
from assesskit.importers import import_coinr
from assesskit.numbers import decimals, parse_numbers

from .conftest import FIX

GOOD = (FIX / "mini.csv").read_text(encoding="utf-8")


@pytest.fixture
def mini(mini_path):
    return load_scheme(mini_path)


# --------------------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    "cell, value",
    [
        ("12", 12.0),
        (" -3.5 ", -3.5),
        (".5", 0.5),
        ("+7", 7.0),
        ("1e3", 1000.0),
        ("13,469", 13469.0),
        ("1,234", 1234.0),  # grouped thousands, never 1.234
        ("1,234,567.5", 1234567.5),
        ("-1,000", -1000.0),
        ("1e308", 1e308),
        ("９５.３", 95.3),  # full-width digits, as typed in Chinese tables: the same number
        ("１３，４６９", 13469.0),
        ("－２", -2.0),
    ],
)
def test_numbers_that_are_read(cell, value):
    n = parse_numbers(pd.Series([cell], dtype=object))
    assert n.values.iloc[0] == value and n.errors.iloc[0] == ""


@pytest.mark.parametrize("cell", ["", "   ", "NA", "N/A", "n/a", "#N/A", None, np.nan])
def test_missing_cells(cell):
    n = parse_numbers(pd.Series([cell], dtype=object))
    assert math.isnan(n.values.iloc[0]) and n.errors.iloc[0] == ""


@pytest.mark.parametrize(
    "cell, words",
    [
        ("8376,5", "a comma is read only as a thousands separator"),
        ("1,5", "decimal comma"),
        ("12,34", "decimal comma"),
        ("1,2345", "decimal comma"),
        ("1.234,5", "decimal comma"),
        ("inf", "expected a finite number, got 'inf'"),
        ("-inf", "expected a finite number"),
        ("Infinity", "expected a finite number"),
        ("nan", "expected a finite number, got 'nan'"),
        ("NaN", "expected a finite number"),
        ("1e400", "the number '1e400' is too large"),
        ("null", "expected a number, got 'null'"),
        ("None", "expected a number"),
        ("-", "expected a number"),
        ("1_000", "expected a number"),
        ("12%", "expected a number"),
        ("2008年", "expected a number, got '2008年'"),
        ("0,500", "decimal comma"),  # a first group of 0 is never a thousands separator
        ("-0,750", "decimal comma"),
        ("٣", "expected a number"),  # digits of other scripts are not guessed at
        ("1²", "expected a number"),
    ],
)
def test_cells_that_are_refused(cell, words):
    n = parse_numbers(pd.Series([cell], dtype=object))
    assert math.isnan(n.values.iloc[0]) and words in n.errors.iloc[0]


def test_typed_columns_refuse_infinity_and_keep_nan_as_missing():
    n = parse_numbers(pd.Series([1.5, np.inf, np.nan, -np.inf]))
    assert n.values.tolist()[0] == 1.5 and n.values.isna().tolist() == [False, True, True, True]
    assert n.bad.tolist() == [False, True, False, True]
    mixed = parse_numbers(pd.Series([3, "4", float("inf"), "x"], dtype=object))  # Excel mixes
    assert mixed.values.tolist()[:2] == [3.0, 4.0] and mixed.bad.tolist() == [False, False, True, True]


def test_decimals_of_a_column():
    assert decimals(pd.Series([96.88, 99.5, 100.0])) == 2
    assert decimals(pd.Series([96.0, np.nan])) == 0


# --------------------------------------------------------------------------- panels
def test_inf_in_a_panel_names_file_row_and_column(tmp_path, mini):
    p = tmp_path / "p.csv"
    p.write_text(GOOD.replace("B,2016,rural,200,", "B,2016,rural,inf,"), encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_panel(mini, p)
    assert f"{p}, row 4, column 'births': expected a finite number, got 'inf'" in [
        str(x) for x in e.value.problems
    ]


def test_inf_in_a_dataframe_is_refused(mini):
    df = pd.read_csv(FIX / "mini.csv")
    df["g1"] = df["g1"].astype(float)
    df.loc[0, "g1"] = np.inf
    with pytest.raises(DataError, match=r"<data>, row 2, column 'g1': expected a finite number, got inf"):
        read_panel(mini, df)


def test_decimal_comma_is_never_read_as_thousands(tmp_path, mini):
    p = tmp_path / "p.csv"
    p.write_text(
        GOOD.replace("C,2016,rural,200,103,97,180", 'C,2016,rural,200,103,97,"180,5"'), encoding="utf-8"
    )
    with pytest.raises(DataError) as e:
        read_panel(mini, p)
    msgs = [str(x) for x in e.value.problems]
    assert any(
        m.startswith(f"{p}, row 5, column 'policy_births': expected a number, got '180,5'") for m in msgs
    )


def test_thousands_separator_is_read(tmp_path, mini):
    p = tmp_path / "p.csv"
    p.write_text(
        GOOD.replace("B,2016,rural,200,110,90,190", 'B,2016,rural,"2,000","1,100",900,"1,900"'),
        encoding="utf-8",
    )
    d = read_panel(mini, p).data.set_index(["unit", "year"])
    assert d.loc[("B", 2016), ["births", "male_births", "policy_births"]].tolist() == [2000.0, 1100.0, 1900.0]


@pytest.mark.parametrize("token", ["NA", "N/A", "null", "None", "nan", "-", "#N/A"])
def test_unit_ids_stay_text(token, tmp_path, mini):
    p = tmp_path / "p.csv"
    p.write_text(GOOD.replace("\nB,", f"\n{token},"), encoding="utf-8")
    d = read_panel(mini, p).data
    assert token in set(d.unit) and d.unit.notna().all()


def test_several_na_ids_and_a_registry_with_them(tmp_path, mini):
    p = tmp_path / "p.csv"
    p.write_text(
        GOOD.replace("\nB,", "\nNA,").replace("\nC,", "\nnull,").replace("\nD,", "\nNone,"), encoding="utf-8"
    )
    u = tmp_path / "u.csv"
    u.write_text("unit,name\nA,甲\nNA,乙\nnull,丙\nNone,丁\n", encoding="utf-8")
    d = read_panel(mini, p, units=u).data.set_index("unit")
    assert d.loc[["NA", "null", "None"], "name"].tolist() == ["乙", "丙", "丁"]


def test_duplicate_registry_units_are_a_problem_not_a_traceback(tmp_path, mini):
    u = tmp_path / "u.csv"
    u.write_text("unit,name\nA,甲\nA,甲2\nB,乙\nC,丙\nD,丁\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"A appears more than once \(rows 2, 3\)"):
        read_panel(mini, FIX / "mini.csv", units=u)


def test_empty_unit_in_a_dataframe_is_refused(mini):
    df = pd.read_csv(FIX / "mini.csv")
    df["unit"] = df["unit"].astype(object)
    df.loc[2, "unit"] = None
    with pytest.raises(DataError, match=r"<data>, row 4, column 'unit': unit is empty"):
        read_panel(mini, df)


def test_year_with_a_suffix_is_one_problem(tmp_path, mini):
    p = tmp_path / "p.csv"
    p.write_text(GOOD.replace("A,2015,", "A,2008年,"), encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_panel(mini, p)
    msgs = [str(x) for x in e.value.problems]
    assert [m for m in msgs if "row 2" in m] == [
        f"{p}, row 2, column 'year': expected a whole year, got '2008年'"
    ]
    assert not any("year -1" in m or "got -1" in m for m in msgs)


def test_blank_lines_keep_row_numbers(tmp_path, mini):
    p = tmp_path / "p.csv"
    lines = GOOD.split("\n")
    p.write_text(
        "\n".join(lines[:2] + [""] + lines[2:]).replace("B,2016,rural,200", "B,2016,rural,-1"),
        encoding="utf-8",
    )
    with pytest.raises(DataError) as e:
        read_panel(mini, p)
    assert any(
        str(x).startswith(f"{p}, row 5, column 'births'") for x in e.value.problems
    )  # line 5 of the file


# --------------------------------------------------------------------------- files
def test_corrupt_xlsx_is_not_a_workbook(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_bytes(b"unit,year\nA,2016\n")
    with pytest.raises(DataError, match=r"x.xlsx: is not a valid Excel workbook"):
        read_table(p)


def test_excel_cells_are_kept_as_written(tmp_path, mini):
    df = pd.read_csv(FIX / "mini.csv").astype(object)
    df.loc[1, "unit"] = "NA"
    df.loc[1, "g1"] = "3,5"  # a text cell with a decimal comma
    p = tmp_path / "p.xlsx"
    df.to_excel(p, index=False)
    with pytest.raises(DataError) as e:
        read_panel(mini, p)
    assert [str(x) for x in e.value.problems][0].startswith(
        f"{p}, row 3, column 'g1': expected a number, got '3,5'"
    )
    df.loc[1, "g1"] = 35
    df.to_excel(p, index=False)
    assert "NA" in set(read_panel(mini, p).data.unit)


def test_corrupt_parquet(tmp_path):
    p = tmp_path / "x.parquet"
    p.write_bytes(b"PAR1 broken")
    with pytest.raises(DataError, match=r"x.parquet: is not a valid Parquet file"):
        read_table(p)


def test_utf16_with_bom_is_read(tmp_path):
    p = tmp_path / "u16.csv"
    p.write_bytes("unit,year\n城关镇,2016\n".encode("utf-16"))
    t = read_table(p)
    assert t.encoding == "utf-16" and t.frame.to_dict("list") == {"unit": ["城关镇"], "year": ["2016"]}


# --------------------------------------------------------------------------- warnings for defaults
def test_reported_rate_within_its_rounding_is_no_warning(tmp_path, mini):
    # A: 99/100 and 100/100; B: 190/200 = 95; C: 180/200 = 90; D: 199/200 = 99.5
    rep = {"A,2015": "99.0", "A,2016": "100.0", "B,2016": "95.1", "C,2016": "90.2", "D,2016": "99.5"}
    lines = GOOD.strip().split("\n")
    lines = [lines[0] + ",policy_rate_reported"] + [
        ln + "," + rep[",".join(ln.split(",")[:2])] for ln in lines[1:]
    ]
    p = tmp_path / "p.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    w = [str(x) for x in read_panel(mini, p).warnings if "reported rate" in x.message]
    # one decimal: tolerance 0.1; B is off by 0.1 (allowed), C by 0.2 (not)
    assert len(w) == 1 and "in 1 unit-year(s): C 2016 (row 5): 90.2 reported, 90 from the counts" in w[0]


def test_missing_grade_warning_names_the_policy(tmp_path, mini_raw):
    mini_raw["lines"][0]["items"][1]["missing"] = "full"
    p = tmp_path / "p.csv"
    p.write_text(
        GOOD.replace("C,2016,rural,200,103,97,180,20", "C,2016,rural,200,103,97,180,"), encoding="utf-8"
    )
    w = [str(x) for x in read_panel(parse_scheme(mini_raw), p).warnings]
    assert (
        f"{p}, column 'g1': main › gr: no grade for 1 unit-year(s) (C 2016): scored full points (missing-data policy 'full')"
        in w
    )


def test_default_target_without_a_target_table_warns(mini_raw):
    mini_raw["lines"][0]["items"][0]["items"][0]["rule"]["target"] = {"table": "pr_target", "default": 95}
    w = [str(x) for x in read_panel(parse_scheme(mini_raw), FIX / "mini.csv").warnings]
    assert (
        "targets (none given): main › basic › pr: no 'pr_target' target for 5 unit-year(s) "
        "(A 2015, A 2016, B 2016, C 2016, D 2016): the scheme's default target 95 is used"
    ) in w


def test_empty_target_cell_uses_the_default_with_a_warning(mini_raw):
    mini_raw["lines"][0]["items"][0]["items"][0]["rule"]["target"] = {"table": "pr_target", "default": 95}
    t = pd.DataFrame({"unit": ["A", "B", "C", "D"], "year": 2016, "pr_target": [99, None, 90, 90]})
    w = [
        str(x) for x in read_panel(parse_scheme(mini_raw), FIX / "mini.csv", targets=t, years=[2016]).warnings
    ]
    assert any(
        "no 'pr_target' target for 1 unit-year(s) (B 2016): the scheme's default target 95" in x for x in w
    )


# --------------------------------------------------------------------------- COINr
def _asem():
    from assesskit.datasets import load

    return load("asem_idata").astype(object), load("asem_imeta")


def test_coinr_inf_and_decimal_comma_in_idata():
    idata, imeta = _asem()
    idata.loc[0, "Goods"] = np.inf
    idata.loc[1, "Goods"] = "3,5"
    with pytest.raises(DataError) as e:
        import_coinr(idata, imeta)
    msgs = [str(x) for x in e.value.problems]
    assert "<iData>, row 2, column 'Goods': expected a finite number, got inf" in msgs
    assert any(m.startswith("<iData>, row 3, column 'Goods': expected a number, got '3,5'") for m in msgs)


def test_coinr_weight_inf_is_refused():
    idata, imeta = _asem()
    imeta = imeta.astype(object)
    imeta.loc[imeta.iCode == "Goods", "Weight"] = "inf"
    with pytest.raises(DataError, match=r"Weight: expected a weight ≥ 0, got 'inf'"):
        import_coinr(idata, imeta)


def test_coinr_weight_with_a_decimal_comma_is_refused_not_read_as_thousands():
    idata, imeta = _asem()
    imeta = imeta.astype(object)
    imeta.loc[imeta.iCode == "Goods", "Weight"] = "0,500"  # a decimal comma, never 500
    with pytest.raises(DataError, match=r"Weight: expected a weight ≥ 0, got '0,500'"):
        import_coinr(idata, imeta)


def test_coinr_ucode_na_stays_an_id():
    idata, imeta = _asem()
    idata.loc[0, "uCode"] = "NA"
    _, data = import_coinr(idata, imeta)
    assert data.unit.iloc[0] == "NA"
    idata.loc[0, "uCode"] = None
    with pytest.raises(DataError, match=r"row 2, column 'uCode': the unit code is empty"):
        import_coinr(idata, imeta)


def test_parquet_gives_the_same_panel_and_refuses_infinity(tmp_path, mini):
    pytest.importorskip("pyarrow.parquet")
    df = pd.read_csv(FIX / "mini.csv")
    p = tmp_path / "p.parquet"
    df.to_parquet(p)
    pd.testing.assert_frame_equal(read_panel(mini, p).data, read_panel(mini, FIX / "mini.csv").data)
    df["births"] = df["births"].astype(float)
    df.loc[1, "births"] = np.inf
    df.to_parquet(p)
    with pytest.raises(
        DataError, match=r"p.parquet, row 3, column 'births': expected a finite number, got inf"
    ):
        read_panel(mini, p)


def test_wide_grades_read_in_place_equal_the_long_form(tmp_path):
    """A wide grades file (one column per graded item) is checked where it stands: it gives
    the same scores as its long form, and the same problems for the same bad cells."""
    from assesskit import load_scheme, score_panel
    from assesskit.data import read_panel
    from assesskit.datasets.demo import make_demo_data
    from assesskit.exceptions import DataError

    scheme = load_scheme("wujin_2016")
    demo = make_demo_data(seed=0, schemes=["wujin_2016"])["wujin_2016"]
    long = demo.grades
    wide = long.pivot(index=["unit", "year"], columns="item", values="grade").reset_index()
    wide.columns.name = None
    a = score_panel(scheme, read_panel(scheme, demo.data, units=demo.units, grades=long)).summary
    b = score_panel(scheme, read_panel(scheme, demo.data, units=demo.units, grades=wide)).summary
    pd.testing.assert_frame_equal(a, b)
    item = long["item"].iloc[0]
    bad_long = long.astype({"grade": object})
    bad_long.loc[0, "grade"] = "inf"
    bad_wide = wide.astype({item: object})
    row = wide.index[(wide["unit"] == long["unit"].iloc[0]) & (wide["year"] == long["year"].iloc[0])][0]
    bad_wide.loc[row, item] = "inf"
    messages = []
    for g in (bad_long, bad_wide):
        with pytest.raises(DataError) as e:
            read_panel(scheme, demo.data, units=demo.units, grades=g)
        messages.append([p.message for p in e.value.problems])
    assert messages[0] == messages[1] and len(messages[0]) == 1
