"""Streaming writes of the item table: chunk by chunk, the same bytes; refusals before
anything is written; a failure mid-write leaves the earlier outputs; bounded memory."""

import errno
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assesskit import load_scheme, score
from assesskit._io import csv_bytes, neutralise_formulas, write_csv_chunks
from assesskit.data import Panel
from assesskit.exceptions import OutputError
from assesskit.pipeline import score_files, write_score_outputs
from assesskit.reasons import render_reasons
from assesskit.scoring import ScoreResult, score_panel
from assesskit.writers import write_items_csv, write_items_parquet

from .conftest import FIX

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from synthetic import random_panel  # noqa: E402


@pytest.fixture(scope="module")
def mini():
    return score(FIX / "mini.yaml", FIX / "mini.csv", year=2016)


@pytest.fixture(scope="module")
def district():
    s = load_scheme("district_1000")
    s = s.model_copy(update={"years": (s.years[1] - 1, s.years[1])})
    data, targets = random_panel(s, 30, 2, seed=4, missing=0.1)
    return score_panel(s, Panel(data, targets))


def old_items_csv(res) -> bytes:
    """items.csv as the writer wrote it before streaming: pandas' to_csv of ScoreResult.items."""
    return b"\xef\xbb\xbf" + neutralise_formulas(res.items).to_csv(index=False, lineterminator="\n").encode()


@pytest.mark.parametrize("chunk", [1, 3, None])
def test_chunked_csv_is_byte_identical_to_one_chunk(tmp_path, mini, district, chunk):
    # mini: 4 units × 3 items + A's deduction = 13 rows; with chunk 1 one unit-year a chunk
    for res in (mini, district):
        write_items_csv(res, tmp_path / "one.csv", chunk=10**9)
        write_items_csv(res, tmp_path / "chunked.csv", chunk=chunk)
        one = (tmp_path / "one.csv").read_bytes()
        assert (tmp_path / "chunked.csv").read_bytes() == one == old_items_csv(res)
    assert len(one.splitlines()) == 1 + district.n_item_rows()


def test_chunks_are_the_whole_table(mini):
    chunks = list(mini.iter_item_tables(render=True, chunk=3))
    # summary order A, B, D | C: A 3 items + its deduction, B and D 3 items each; then C 3
    assert [len(c) for c in chunks] == [10, 3]
    whole = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(whole, mini.item_table(render=True))
    assert mini.n_item_rows() == len(mini.items) == 13
    with pytest.raises(ValueError, match="positive number of unit-years"):
        next(mini.iter_item_tables(chunk=0))


def test_item_table_select_renders_a_small_selection(mini):
    sel = mini.summary["unit"].to_numpy() == "C"
    t = mini.item_table(render=True, select=sel)
    assert t["unit"].astype(str).unique().tolist() == ["C"] and len(t) == 3
    assert t["reason"].tolist() == mini.items[mini.items["unit"] == "C"]["reason"].tolist()


def test_parquet_row_groups_and_read_back(tmp_path, district):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    write_items_parquet(district, tmp_path / "items.parquet", chunk=7)  # 60 unit-years → 9 chunks
    assert pq.ParquetFile(tmp_path / "items.parquet").metadata.num_row_groups == 9
    back = pd.read_parquet(tmp_path / "items.parquet")
    table = district.item_table()
    assert len(back) == len(table) == district.n_item_rows()
    assert render_reasons(back).tolist() == district.items["reason"].tolist()
    for c in ("points", "value", "target", "previous", "term_1"):
        assert np.array_equal(back[c].to_numpy(), table[c].to_numpy(), equal_nan=True), c


def test_label_values_keep_one_parquet_schema_across_chunks(tmp_path):
    """A scheme with label grades: ``value`` is text in every row group (a chunk of numbers
    only must not switch the column to floats)."""
    s = load_scheme("wujin_2016")
    s = s.model_copy(update={"years": (s.years[1], s.years[1])})
    data, targets = random_panel(s, 6, 1, seed=2)
    res = score_panel(s, Panel(data, targets))
    write_items_parquet(res, tmp_path / "items.parquet", chunk=1)
    back = pd.read_parquet(tmp_path / "items.parquet")
    assert render_reasons(back).tolist() == res.items["reason"].tolist()


def test_csv_bytes_equal_pandas_on_awkward_cells():
    rng = np.random.default_rng(0)
    n = 5000
    f = rng.uniform(-10, 10, n) * 10.0 ** rng.integers(-9, 20, n)
    f[::7] = np.round(f[::7])
    f[::11] = np.nan
    f[:6] = [-0.0, np.inf, -np.inf, 1e16, 1e15, 0.1 + 0.2]
    text = np.array(["a", "b,c", "=x", "-1", 'q"z', "l\nm", "达标", None, "\tt", "@a", "\rr"], dtype=object)
    mixed = np.array(["x", 1.5, 2.0, None, "+3", 'a"b', np.nan, 7, "1"], dtype=object)
    df = pd.DataFrame(
        {
            "f": f,
            "i": rng.integers(-5, 10**12, n),
            "b": rng.random(n) < 0.5,
            "c": pd.Categorical(rng.choice(text, n)),
            "o": pd.Series(rng.choice(mixed, n), dtype=object),
            "s": pd.Series(rng.choice(["p", "q,r", None, "-2"], n)),
        }
    )
    want = neutralise_formulas(df).to_csv(index=False, lineterminator="\n").encode()
    assert csv_bytes(df) == want
    assert csv_bytes(df.iloc[:0]) == b"f,i,b,c,o,s\n"
    nullable = (
        df[["i", "b"]].astype({"i": "Int64", "b": "boolean"}).mask(df.index.to_series() % 3 == 0, axis=0)
    )
    assert csv_bytes(nullable) == nullable.to_csv(index=False, lineterminator="\n").encode()  # Arrow, pandas


def test_write_csv_chunks_needs_a_frame(tmp_path):
    with pytest.raises(ValueError, match="no table to write"):
        write_csv_chunks(tmp_path / "x.csv", iter([]))


def test_xlsx_refused_from_counts_before_the_item_table_is_built(tmp_path, monkeypatch):
    from assesskit import writers

    scored = score_files(FIX / "mini.yaml", FIX / "mini.csv", years=[2016])
    monkeypatch.setattr(writers, "MAX_SHEET_ROWS", 13)  # 13 item rows + header do not fit
    with pytest.raises(OutputError, match="sheet 'items' would have 13 rows"):
        write_score_outputs(scored, tmp_path / "out", ["csv", "xlsx"])
    assert "items" not in vars(scored.result)  # refused from the count: nothing built
    assert not (tmp_path / "out").exists()


def test_failure_mid_stream_leaves_the_earlier_outputs(tmp_path, monkeypatch):
    scored = score_files(FIX / "mini.yaml", FIX / "mini.csv", years=[2016])
    out = tmp_path / "out"
    write_score_outputs(scored, out, ["csv", "parquet"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = ScoreResult.iter_item_tables

    def broken(self, *a, **kw):
        it = real(self, *a, **kw)
        yield next(it)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ScoreResult, "iter_item_tables", broken)
    for fmt in ("csv", "parquet"):
        with pytest.raises(OutputError, match="No space left on device"):
            write_score_outputs(scored, out, [fmt], chunk=1)
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left


_PEAKS = """
import gc, json, sys, tracemalloc
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from synthetic import random_panel
from assesskit import load_scheme
from assesskit.data import Panel
from assesskit.scoring import score_panel
from assesskit.writers import write_items_csv
s = load_scheme("district_1000")
s = s.model_copy(update={"years": (s.years[1], s.years[1])})
peaks = []
for n_units in (100, 400):
    data, targets = random_panel(s, n_units, 1, seed=5)
    res = score_panel(s, Panel(data, targets))
    res._table_base  # shared per-result state, not per chunk
    gc.collect()
    tracemalloc.start()
    write_items_csv(res, Path(sys.argv[1]) / "items.csv", chunk=20)
    peaks.append(tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
print(json.dumps(peaks))
"""


def test_writing_items_memory_does_not_grow_with_rows(tmp_path):
    """tracemalloc peak (numpy and Python allocations) while writing items.csv in chunks of
    20 unit-years: 4× the rows must not take ~4× the memory (one chunk at a time).

    Measured in a fresh interpreter: tracemalloc counts every thread's allocations, and the
    test session's other threads (a Dask client's event loop left by an earlier test) would
    be counted too."""
    import json
    import os
    import subprocess

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-c", _PEAKS, str(tmp_path), str(root / "benchmarks")]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    peaks = json.loads(r.stdout.strip().splitlines()[-1])
    assert peaks[1] < 1.6 * peaks[0], peaks
