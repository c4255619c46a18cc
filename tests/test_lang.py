"""Report languages: the label catalogue, the run spec's ``lang``, pages and figures in zh / en.

One unit page per language is built through the real runner (Foshan's synthetic panel,
one unit, the latest year, no overview), ``en`` through ``assesskit report --lang`` over a
spec that says ``zh``. What counts as a label: the text of headings, table headers, the
score card's row labels, the section sentences, the table of contents and the page frame
(the catalogue's texts). The units' names, the scheme's data where the scheme gives no
English name, the scoring engine's reasons and the statistics' notes are data, not labels.
"""

from __future__ import annotations

import os
import re
import string
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import assesskit as ak
from assesskit import stats
from assesskit.cli import main
from assesskit.exceptions import ReportError
from assesskit.i18n import LABELS, check_lang, pick, t
from assesskit.plotting import label, setup_cjk_font
from assesskit.report import load_run_spec, parse_run_spec, plan_run, run_report
from assesskit.report.html import SYNTHETIC_BANNER, synthetic_banner

from .test_report import write_panel

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
UNIT = "nanhai"
# method and people's names, file names and ids that a Chinese page writes as they are
ZH_ALLOWED = {
    "Armitage", "Cochran", "Holm", "Kendall", "Mann", "Wilson", "Pearson", "Spearman", "SRB",
    "assesskit", "foshan", "nanhai", "CI", "README", "Sensitivity", "of", "rankings", "params", "yaml",
    "sensitivity", "compare_schemes",
}  # fmt: skip


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


# --------------------------------------------------------------------------- the catalogue
def test_catalogue_renders_each_language_by_hand():
    assert (t("total", "zh"), t("total", "en"), t("total", "bilingual"), t("total")) == (
        "总分",
        "total",
        "总分 total",
        "总分 total",
    )
    assert t("points", "zh") == "得分" and t("points", "en") == "points" and t("points") == "points"
    assert t("rank_of", "zh", rank=3, n=10) == "第 3 名，共 10 个"
    assert t("rank_of", "en", rank=3, n=10) == t("rank_of", rank=3, n=10) == "3 of 10"
    assert t("year_n", "en", year=2016) == "2016" and t("year_n", year=2016) == "2016 年"
    assert pick("湖塘镇", "Hutang", "en") == "Hutang" and pick("湖塘镇", "Hutang", "zh") == "湖塘镇"
    assert pick("湖塘镇", None, "en") == "湖塘镇"  # no English name: the scheme's own
    assert pick("湖塘镇", "Hutang") == "湖塘镇"  # bilingual pages show the scheme's names as written
    assert check_lang(None) == "bilingual"
    with pytest.raises(ValueError, match="unknown report language 'fr'"):
        t("total", "fr")


def test_every_entry_has_both_languages_with_the_same_fields():
    for key, lab in LABELS.items():
        assert lab.zh and lab.en, key
        assert not CJK.search(lab.en), key
        assert _fields(lab.zh) == _fields(lab.en), key
        if lab.bilingual is not None:
            assert _fields(lab.bilingual) == _fields(lab.en), key
    # keys that carry Latin text in Chinese (method names) are the exception, not the rule
    latin_zh = [k for k, lab in LABELS.items() if WORD.search(re.sub(r"\{[^}]*\}", "", lab.zh))]
    assert len(latin_zh) < len(LABELS) // 8, latin_zh


def test_bilingual_banner_is_the_one_pages_always_had():
    assert synthetic_banner() == synthetic_banner("bilingual") == SYNTHETIC_BANNER
    assert "SYNTHETIC" not in synthetic_banner("zh") and "合成" not in synthetic_banner("en")


# --------------------------------------------------------------------------- spec and keys
def test_spec_lang_defaults_to_bilingual_and_is_checked():
    base = {"name": "x", "schemes": [{"scheme": "foshan_2006", "data": "d.csv"}]}
    assert parse_run_spec(base).lang == "bilingual"
    assert parse_run_spec({**base, "lang": "en"}).lang == "en"
    with pytest.raises(ReportError, match=r"lang"):
        parse_run_spec({**base, "lang": "fr"})


def _spec(base: Path, lang: str, **entry) -> Path:
    spec = {
        "name": f"l-{lang}",
        "out": f"out-{lang}",
        "lang": lang,
        "jobs": 1,
        "schemes": [
            {
                "scheme": "foshan_2006",
                "data": "data/data.csv",
                "units": "data/units.csv",
                "targets": "data/targets.csv",
                "years": "latest",
                "units_only": [UNIT],
                "overview": False,
                **entry,
            }
        ],
    }
    path = base / f"{lang}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def test_switching_language_changes_every_key_and_passes_lang(tmp_path):
    write_panel(tmp_path / "data")
    plans = {
        lang: {j.page: j for j in plan_run(load_run_spec(_spec(tmp_path, lang, overview=True)), tmp_path)[1]}
        for lang in ("zh", "en", "bilingual")
    }
    assert set(plans["zh"]) == set(plans["en"]) == {"2010/nanhai.html", "2010/overview.html"}
    for page in plans["zh"]:
        keys = {lang: plans[lang][page].key for lang in plans}
        assert len(set(keys.values())) == 3, page  # another language: another key, the page is rebuilt
        for lang in plans:
            assert plans[lang][page].parameters["lang"] == lang
    assert plans["en"]["2010/overview.html"].crumbs[-1] == ("overview", None)
    assert plans["zh"]["2010/overview.html"].crumbs[-1] == ("年度总览", None)
    # the same language twice: the same keys (nothing rebuilt)
    again = plan_run(load_run_spec(_spec(tmp_path, "zh", overview=True)), tmp_path)[1]
    assert {j.page: j.key for j in again} == {p: j.key for p, j in plans["zh"].items()}


# --------------------------------------------------------------------------- pages through the runner
class _Text(HTMLParser):
    """The visible text of a page, and separately the text of its labels."""

    LABEL_TAGS = frozenset({"th", "h1", "h2", "h3", "summary", "nav", "title"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str]] = []
        self.all: list[str] = []
        self.labels: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ("br", "img", "meta", "link", "input", "hr"):
            self.stack.append((tag, dict(attrs).get("class") or ""))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        tags = {tg for tg, _ in self.stack}
        classes = " ".join(c for _, c in self.stack)
        if tags & {"style", "script", "pre"} or "input_area" in classes:
            return  # the stylesheet and the folded code
        self.all.append(data)
        if tags & self.LABEL_TAGS or "ak-intro" in classes:
            self.labels.append(data)


def _text(page: str) -> _Text:
    p = _Text()
    p.feed(page)
    return p


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The unit page in zh (run spec) and en (the spec says zh; --lang en wins) and bilingual."""
    base = tmp_path_factory.mktemp("lang")
    write_panel(base / "data")
    out = {}
    res = run_report(_spec(base, "zh"), base=base, progress=False)
    assert res.ok, res.failures
    out["zh"] = (base / "out-zh" / "2010" / f"{UNIT}.html").read_text(encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(base)  # the command takes relative paths from where it is started
    try:
        cli = CliRunner().invoke(main, ["report", "--run", "zh.yaml", "--lang", "en", "--out", "out-en"])
    finally:
        os.chdir(cwd)
    assert cli.exit_code == 0, cli.output
    out["en"] = (base / "out-en" / "2010" / f"{UNIT}.html").read_text(encoding="utf-8")
    res = run_report(_spec(base, "bilingual"), base=base, progress=False)
    assert res.ok, res.failures
    out["bilingual"] = (base / "out-bilingual" / "2010" / f"{UNIT}.html").read_text(encoding="utf-8")
    units = pd.read_csv(base / "data" / "units.csv")
    return out, set(units["name"])


def test_english_page_has_no_chinese_outside_the_units_names(built):
    pages, names = built
    page = pages["en"]
    assert '<html lang="en">' in page
    text = " ".join(_text(page).all)
    for n in names:  # the units' own names (the registry's) stay as they are
        text = text.replace(n, "")
    assert not CJK.search(text), sorted(set(CJK.findall(text)))
    for heading in (
        "Score card",
        "Items",
        "Sections against the peer median",
        "Sex ratio at birth",
        "Contents",
    ):
        assert heading in text
    assert "total" in _text(page).labels and "rank (same kind, same year)" in _text(page).labels


def test_chinese_page_has_no_english_label(built):
    pages, _ = built
    page = pages["zh"]
    parsed = _text(page)
    labels = " ".join(parsed.labels)
    leftover = set(WORD.findall(labels)) - ZH_ALLOWED
    assert not leftover, sorted(leftover)
    for heading in ("得分卡", "考核指标", "各部分与同类中位数", "出生人口性别比", "目录"):
        assert heading in labels
    # no label of the catalogue's English side remains anywhere on the page
    text = " ".join(parsed.all)
    for key in ("h_score_card", "h_items", "p_items", "reason_lost", "rank_same_kind", "contents", "where"):
        assert LABELS[key].en not in text, key
    assert "<summary>代码</summary>" in page  # the folded code


def test_bilingual_page_keeps_todays_labels(built):
    pages, _ = built
    page = pages["bilingual"]
    labels = " ".join(_text(page).labels)
    for old in (
        "总分 total",
        "名次 rank (same kind, same year)",
        "Score card",
        "reason for lost points",
        "Contents",
    ):
        assert old in labels, old
    assert "<summary>code</summary>" in page and SYNTHETIC_BANNER in page


# --------------------------------------------------------------------------- figures
def _figure_texts(ax) -> list[str]:
    """Every text of a figure: titles, axis labels, legends, tick labels, annotations, colour bars."""
    out = []
    for a in ax.figure.axes:
        out += [a.get_title(), a.get_xlabel(), a.get_ylabel()]
        out += [x.get_text() for x in a.get_xticklabels() + a.get_yticklabels() + a.texts]
        if a.get_legend() is not None:
            out += [x.get_text() for x in a.get_legend().get_texts()]
    return [s for s in out if s]


@pytest.fixture(scope="module")
def figures_data():
    from assesskit.datasets.demo import make_demo_data

    demo = make_demo_data(0, ["foshan_2006"])["foshan_2006"]
    res = ak.score("foshan_2006", **demo.tables())
    rows = demo.tables()["data"]
    return res, rows


def _all_figures(res, rows, lang: str) -> dict[str, object]:
    from assesskit.plotting.diagnostics import plot_ceiling_floor, plot_effective_weights
    from assesskit.plotting.funnel import plot_bunching, plot_funnel
    from assesskit.plotting.scores import plot_section_shares, plot_total_trend
    from assesskit.plotting.srb import plot_srb_intervals, plot_srb_series, plot_trend

    year = int(res.summary["year"].max())
    this = rows[rows["year"] == year]
    unit = str(res.summary["unit"].iloc[0])
    shares = pd.DataFrame(
        {"label": ["计划生育", "出生人口"], "label_en": ["Family planning", "Births"], "share": [0.8, 0.5]}
    ).assign(share_peer_median=[0.7, 0.6])
    own = stats.sex_ratio(rows[rows["unit"] == unit], family=None)
    rates = stats.proportion_ci(rows[rows["unit"] == unit], "policy_births", "births", scale=100)
    ca = stats.cochran_armitage(rows[rows["unit"] == unit], "policy_births", "births")
    diag = stats.item_diagnostics(res)
    ylabel = label("出生政策符合率 %", "policy compliance, %", lang=lang)
    return {
        "section_shares": plot_section_shares(shares, lang=lang),
        "total_trend": plot_total_trend(res.summary, unit=unit, year=year, lang=lang),
        "srb_series": plot_srb_series(own, units=[unit], lang=lang),
        "srb_intervals": plot_srb_intervals(stats.sex_ratio(this), year=year, lang=lang),
        "trend": plot_trend(rates, ca, ylabel=ylabel, lang=lang),
        "funnel": plot_funnel(stats.funnel_sex_ratio(this), lang=lang),
        "bunching": plot_bunching(this, target=90, lang=lang),
        "ceiling_floor": plot_ceiling_floor(diag, year=year, lang=lang),
        "effective_weights": plot_effective_weights(stats.effective_weights(res), year=year, lang=lang),
    }


def test_english_figures_have_no_chinese_text(figures_data):
    res, rows = figures_data
    for name, ax in _all_figures(res, rows, "en").items():
        texts = _figure_texts(ax)
        assert texts, name
        assert not [s for s in texts if CJK.search(s)], (name, [s for s in texts if CJK.search(s)])
    assert _all_figures(res, rows, "en")["section_shares"].get_title() == "Sections"
    plt.close("all")


@pytest.mark.skipif(setup_cjk_font() is None, reason="no CJK font: figures fall back to English")
def test_chinese_figures_have_chinese_titles_and_axes(figures_data):
    res, rows = figures_data
    plt.close("all")
    for name, ax in _all_figures(res, rows, "zh").items():
        assert CJK.search(ax.get_title()), (name, ax.get_title())
        for s in (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()):
            assert not re.search(r"\b(Sections|Funnel|Trend|share|rank|year|Births|Sex ratio)\b", s), (
                name,
                s,
            )
    plt.close("all")
    zh = _all_figures(res, rows, "zh")["section_shares"]
    assert zh.get_title() == "各部分得分率" and zh.get_xlabel() == "得分率 %"
    bi = _all_figures(res, rows, "bilingual")[
        "section_shares"
    ]  # today's figures: Chinese when the font exists
    assert bi.get_title() == "各部分得分率"
    plt.close("all")


def test_without_a_cjk_font_chinese_figures_fall_back_to_english(monkeypatch):
    import assesskit.plotting as P

    monkeypatch.setattr(P, "setup_cjk_font", lambda: None)
    assert label("各部分得分率", "Sections", lang="zh") == "Sections"
    assert label("各部分得分率", "Sections") == "Sections"
    assert label("各部分得分率", None, lang="zh") == "各部分得分率"  # nothing else to show
