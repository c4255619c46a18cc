"""The run index at national scale: split pages under 5 MB, a small top page, links that resolve.

No notebook is executed: the index is built (:func:`assesskit.report.index.index_pages`)
from a synthetic plan — entries with a scored summary, and the manifest's page records —
as the runner builds it at the end of a run.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest

from assesskit.report import page_stem
from assesskit.report.html import render_index
from assesskit.report.index import PART_ROWS, SPLIT_OVER, index_pages, stale_index_pages

XSS_ID = "<script>alert(1)</script>"
BAD_ID = "../x"
XSS_NAME = "<script>window.__xss=1</script>"
MB = 1 << 20
CJK = re.compile(r"[\u3400-\u9fff]")
HREF = re.compile(r'href="([^"#]+)"')


def plan(n_units: int, years=(2015, 2016), *, kinds=("town",), failed=(), folder="", key="district_1000"):
    """An entry of ``n_units`` units (two hostile ids among them) and its page records."""
    units = [f"u{i:05d}" for i in range(n_units - 2)] + [XSS_ID, BAD_ID]
    names = {u: f"第{i}镇" for i, u in enumerate(units)} | {XSS_ID: XSS_NAME, BAD_ID: "../../etc"}
    rng = np.random.default_rng(0)
    rows = []
    for y in years:
        total = np.round(rng.uniform(40, 100, n_units), 1)
        rank = pd.Series(-total).rank(method="min").to_numpy()
        rows.append(
            pd.DataFrame(
                {
                    "unit": units,
                    "year": y,
                    "kind": np.resize(np.array(kinds), n_units),
                    "total": total,
                    "rank": rank,
                    "n_ranked": n_units,
                    "award": np.where(rank <= 3, "first", ""),
                    "veto": np.arange(n_units) % 97 == 0,
                }
            )
        )
    summary = pd.concat(rows, ignore_index=True)
    summary.loc[summary.index[5], ["total", "rank"]] = np.nan  # one unit-year not scored
    pages = {}
    for y in years:
        for u in units:
            page = f"{folder}{y}/{page_stem(u)}.html"
            bad = u in failed
            pages[page] = {
                "page": page,
                "kind": "unit",
                "scheme": key,
                "year": y,
                "unit": u,
                "status": "failed" if bad else "ok",
                "error": {"message": f"{key} {y} {u!r}: cell 3: ValueError: boom"} if bad else None,
            }
        page = f"{folder}{y}/overview.html"
        pages[page] = {
            "page": page,
            "kind": "overview",
            "scheme": key,
            "year": y,
            "status": "ok",
            "error": None,
        }
    kind_objs = {k: SimpleNamespace(label="镇" if k == "town" else "部门", label_en=k.title()) for k in kinds}
    entry = SimpleNamespace(
        key=key,
        label="区县人口计生目标管理",
        label_en="District targets",
        years=list(years),
        summary=summary,
        folder=folder,
        names=names,
        award_labels={"first": "一等奖"},
        award_labels_en={"first": "First prize"},
        kinds=kind_objs,
        synthetic=True,
    )
    return entry, pages


def rows_of(page: str) -> int:
    """The rows of a page's table body."""
    return page.split("<tbody>", 1)[1].count("<tr>")


def spec(lang="bilingual"):
    return SimpleNamespace(name="nation", title="National run <b>", seed=0, lang=lang)


def write(out: Path, files: dict[str, str], pages: dict[str, dict]) -> None:
    """The index files, and an (empty) file for every page that was built."""
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    for p in pages.values():
        if p["status"] == "ok":
            (out / p["page"]).parent.mkdir(parents=True, exist_ok=True)
            (out / p["page"]).touch()


def test_national_scale_index_is_split_small_and_every_link_resolves(tmp_path):
    n = 41_000
    entry, pages = plan(n, failed={"u00007"})
    failures = [p["error"]["message"] for p in pages.values() if p["status"] == "failed"]
    files = index_pages(spec(), [entry], pages, failures)
    parts = math.ceil(n / PART_ROWS)  # 9 pages of at most 5,000 units per year (one kind)
    assert len(files) == 1 + 2 * parts
    assert list(files)[0] == "index.html"
    sizes = {k: len(v.encode("utf-8")) for k, v in files.items()}
    assert max(sizes.values()) < 5 * MB, max(sizes.values())
    assert sizes["index.html"] < 64 * 1024  # a small top page
    write(tmp_path, files, pages)
    top = files["index.html"]
    linked = set(HREF.findall(top))
    assert {k for k in files if k != "index.html"} <= linked  # the top page links every part
    assert {"2015/overview.html", "2016/overview.html"} <= linked
    seen_units: dict[int, set[str]] = {2015: set(), 2016: set()}
    for name, text in files.items():
        assert "<script" not in text.lower()  # no script at all, hostile names escaped
        assert XSS_NAME not in text and BAD_ID + ".html" not in text
        for link in HREF.findall(text):
            target = (tmp_path / unquote(link.replace("&amp;", "&"))).resolve()
            assert tmp_path.resolve() in target.parents, link  # never outside the run folder
            assert target.is_file(), (name, link)
        year = re.match(r"index-district_1000-(\d{4})-town-\d+\.html", name)
        if year:
            seen_units[int(year.group(1))] |= set(re.findall(r"<small>(u\d{5}|&lt;script|\.\./x)", text))
    assert all(len(v) == n for v in seen_units.values())  # every unit in each year's pages
    hostile = [k for k, v in files.items() if "&lt;script&gt;window.__xss=1&lt;/script&gt;" in v]
    assert hostile == ["index-district_1000-2015-town-1.html", "index-district_1000-2016-town-1.html"]
    assert f'href="2015/{page_stem(BAD_ID)}.html"' in files[hostile[0]]
    assert "failed: " in files["index-district_1000-2015-town-1.html"]  # the failed cell says so
    assert "u00007" not in {m for m in HREF.findall(files["index-district_1000-2015-town-1.html"])}


def test_small_run_keeps_the_grid_and_the_threshold_is_on_unit_years():
    entry, pages = plan(1000, years=(2015, 2016))  # 2,000 unit-years: the grid
    files = index_pages(spec(), [entry], pages, [])
    assert list(files) == ["index.html"] and '<table class="ak-index">' in files["index.html"]
    assert rows_of(files["index.html"]) == 1000  # one row per unit, one column per year
    entry, pages = plan(1001, years=(2015, 2016))  # 2,002 > SPLIT_OVER: split
    files = index_pages(spec(), [entry], pages, [])
    assert SPLIT_OVER == 2000
    assert sorted(files) == [
        "index-district_1000-2015-town-1.html",
        "index-district_1000-2016-town-1.html",
        "index.html",
    ]


def test_grid_is_what_render_index_made():
    entry, pages = plan(30, years=(2016,))
    grid = index_pages(spec(), [entry], pages, [])["index.html"]
    assert grid.startswith("<!DOCTYPE html>") and "区县人口计生目标管理" in grid
    assert f'href="2016/{page_stem(BAD_ID)}.html"' in grid and "../x.html" not in grid
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in grid
    assert render_index.__name__ == "render_index"


def test_parts_by_kind_and_page_size_by_hand():
    entry, pages = plan(2500, years=(2016,), kinds=("town", "dept"))
    files = index_pages(spec(), [entry], pages, [], part_rows=1000)
    # 1,250 units of each kind → 2 pages each (1,000 + 250)
    assert sorted(k for k in files if k != "index.html") == [
        "index-district_1000-2016-dept-1.html",
        "index-district_1000-2016-dept-2.html",
        "index-district_1000-2016-town-1.html",
        "index-district_1000-2016-town-2.html",
    ]
    assert rows_of(files["index-district_1000-2016-town-2.html"]) == 250
    first = files["index-district_1000-2016-town-1.html"]
    assert 'href="index.html"' in first and 'href="index-district_1000-2016-town-2.html"' in first


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_split_index_in_each_language(lang):
    entry, pages = plan(2100, years=(2016,), failed={"u00003"})
    failures = ["district_1000 2016 'u00003': boom"]
    files = index_pages(spec(lang), [entry], pages, failures)
    top, part = files["index.html"], files["index-district_1000-2016-town-1.html"]
    if lang == "en":
        names = set(entry.names.values())
        for text in (top, part):
            body = re.sub(r"<style>.*?</style>", "", text, flags=re.S)
            for n in sorted(names, key=len, reverse=True):
                body = body.replace(n, "")
            assert not CJK.search(body), CJK.findall(body)[:5]
        assert "District targets" in top and "Town" in top and "First prize" in part
    else:
        assert "失败" in top and "区县人口计生目标管理" in top and "镇" in top
        assert re.search(r"<th>单位</th><th>总分</th>", part)
        for text in (top, part):
            body = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", text, flags=re.S))  # the text
            assert not re.search(r"\b(Failures|unit|units|total|veto|overview|back to the index)\b", body)


def test_stale_part_pages_are_found(tmp_path):
    for n in ("index.html", "index-a-2015-town-1.html", "index-a-2015-town-2.html"):
        (tmp_path / n).write_text("x")
    stale = stale_index_pages(tmp_path, ["index.html", "index-a-2015-town-1.html"])
    assert [p.name for p in stale] == ["index-a-2015-town-2.html"]


def test_bilingual_grid_is_byte_identical_to_the_runners_index_today():
    """Swapping the runner's index for index_pages changes nothing for a small bilingual run."""
    from assesskit.report.manifest import index_html

    entry, pages = plan(40, years=(2015, 2016), kinds=("town", "dept"), failed={"u00002"})
    failures = [p["error"]["message"] for p in pages.values() if p["status"] == "failed"]
    ours = index_pages(spec(), [entry], pages, failures, " (interrupted)")["index.html"]
    assert ours == index_html(spec(), [entry], pages, failures, " (interrupted)")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_index_names_split_awards_and_warnings(lang):
    """A split award (``first; second``) and a warning (限期整改) are named in the unit's cell."""
    entry, pages = plan(8, years=(2016,), kinds=("town",))
    s = entry.summary.copy()
    s["award"] = ["first; second"] + [""] * (len(s) - 1)
    s["warning"] = ["", "rectification"] + [""] * (len(s) - 2)
    entry.summary = s
    entry.award_labels = {"first": "一等奖", "second": "二等奖"}
    entry.award_labels_en = {"first": "First prize", "second": "Second prize"}
    entry.warning_labels = {"rectification": "限期整改"}
    entry.warning_labels_en = {"rectification": "rectification within a deadline"}
    html = index_pages(spec(lang), [entry], pages, [])["index.html"]
    if lang == "zh":
        assert "一等奖; 二等奖" in html and "限期整改" in html
    else:
        assert "First prize; Second prize" in html and "rectification within a deadline" in html
