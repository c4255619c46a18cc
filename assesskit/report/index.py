"""The run's index: one grid for a small run, split pages for a large one.

A small run keeps the grid it always had: ``index.html`` with one table of units × years
per scheme (:func:`assesskit.report.html.render_index`). A run with more than
:data:`SPLIT_OVER` unit-years (2,000: about a 40 × 50 grid, already more than a person
scrolls) gets a small ``index.html`` that links, per scheme, year and kind of unit, to
pages of at most :data:`PART_ROWS` units each, sorted by unit id like a dictionary
(``index-<scheme>-<year>-<kind>-<n>.html``, beside ``index.html``). No page needs a script;
at 41,000 units a part page is about 1.5 MB (the limit is 5 MB).

The index is built from the run's plan (the entries' scored summaries) and the manifest's
page records, without reading a notebook: :func:`index_pages` returns file name → HTML.
Everything here is presentation; the totals, ranks and awards come from the summaries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..i18n import check_lang, pick, t
from . import html as H
from .pages import page_stem

__all__ = ["PART_ROWS", "SPLIT_OVER", "index_pages", "stale_index_pages"]

SPLIT_OVER = 2000
"""A run with more unit-years than this gets a split index (one grid otherwise)."""
PART_ROWS = 5000
"""Units per page of a split index (≈ 1.5 MB of HTML with long names)."""
MAX_FAILURES_LISTED = 100
"""Failures listed on a split index's top page (the part pages mark every failed cell)."""


def _join(a: pd.Series, b: pd.Series) -> pd.Series:
    """``a · b`` per row, leaving out the empty ones."""
    sep = np.where((a.str.len() > 0) & (b.str.len() > 0), " · ", "")
    return a + sep + b


def _str(x: object) -> str | None:
    """A string, or None for a missing value (pandas may store None as NaN)."""
    return x if isinstance(x, str) else None


def _outcome_text(s: pd.DataFrame, col: str, labels: dict, labels_en: dict, lang: str | None) -> pd.Series:
    """The labels of a summary column of outcome ids (``;``-separated: a split award, several
    warnings), one look-up per distinct value, not per row."""
    if col not in s.columns:
        return pd.Series("", index=s.index)
    names = dict(labels_en or labels) if lang == "en" else dict(labels)
    ids = s[col].fillna("").astype(str)
    text = {
        v: "; ".join(names.get(a.strip(), a.strip()) for a in v.split(";") if a.strip()) for v in ids.unique()
    }
    return ids.map(text)


def _none_for_missing(s: pd.Series) -> np.ndarray:
    """An object array of the strings, ``None`` where missing (never NaN: a link must be falsy)."""
    out = np.array(s.astype(object), dtype=object)  # a copy (pandas may hand out a read-only view)
    out[pd.isna(out)] = None
    return out


def _cells(e: Any, pages: Mapping[str, dict], lang: str) -> pd.DataFrame:
    """One row per unit-year of an entry: unit, name, kind, year, text, detail, link, failed.

    Columns are computed on whole columns (a dictionary look-up per unit, not per row).
    """
    s = e.summary[e.summary["year"].isin(e.years)]
    unit = s["unit"].astype(str)
    units = pd.unique(unit)
    stems = dict(zip(units, (page_stem(u) for u in units)))
    year = s["year"].astype(int)
    page = e.folder + year.astype(str) + "/" + unit.map(stems) + ".html"
    info = page.map(lambda p: pages.get(p))
    status = info.map(lambda i: i.get("status") if i else None)
    total = s["total"].astype(float)
    text = np.where(total.isna(), t("not_scored", lang), total.map(lambda v: f"{v:.1f}"))
    rank = s["rank"].astype(float)
    n_ranked = s["n_ranked"].astype(float)
    rank_txt = np.where(
        rank.isna(),
        "",
        rank.fillna(0).astype(int).astype(str) + "/" + n_ranked.fillna(0).astype(int).astype(str),
    )
    award_txt = _outcome_text(s, "award", e.award_labels, getattr(e, "award_labels_en", {}), lang)
    warning_txt = _outcome_text(
        s, "warning", getattr(e, "warning_labels", {}), getattr(e, "warning_labels_en", {}), lang
    )
    veto_txt = np.where(s["veto"].astype(bool), t("veto_short", lang), "")
    detail = _join(_join(pd.Series(rank_txt, index=s.index), award_txt), pd.Series(veto_txt, index=s.index))
    detail = _join(detail, warning_txt)
    return pd.DataFrame(
        {
            "unit": unit.to_numpy(),
            "name": unit.map(lambda u: e.names.get(u, u)).to_numpy(),
            "kind": s["kind"].astype(str).to_numpy(),
            "year": year.to_numpy(),
            "text": text,
            "detail": np.asarray(detail, dtype=object),
            "link": _none_for_missing(page.where(status == "ok")),
            "failed": _none_for_missing(
                info.map(lambda i: i["error"]["message"] if i and i.get("status") == "failed" else None)
            ),
        }
    )


def _year_links(e: Any, pages: Mapping[str, dict], lang: str) -> dict[int, list]:
    out: dict[int, list] = {}
    for p in pages.values():
        if p.get("scheme") != e.key or p.get("kind") == "unit":
            continue
        label = t("overview", lang) if p["kind"] == "overview" else str(p["page"]).rsplit("/", 1)[-1][:-5]
        err = p["error"]["message"] if p["status"] == "failed" else None
        out.setdefault(int(p["year"]), []).append((label, p["page"] if p["status"] == "ok" else None, err))
    for v in out.values():
        v.sort(key=lambda x: (x[0] != t("overview", lang), x[0]))
    return out


def _grid_section(e: Any, cells: pd.DataFrame, year_links: dict, lang: str) -> H.IndexSection:
    cells = cells.sort_values(["kind", "unit"], kind="stable")
    rows = [
        (
            u,
            g["name"].iloc[0],
            {
                int(r.year): H.IndexCell(r.text, r.detail, _str(r.link), _str(r.failed))
                for r in g.itertuples()
            },
        )
        for u, g in cells.groupby("unit", sort=False)
    ]
    return H.IndexSection(
        key=e.key,
        title=pick(e.label, getattr(e, "label_en", None), lang),
        years=list(e.years),
        rows=rows,
        year_links=year_links,
    )


def index_pages(
    spec: Any,
    entries: Sequence[Any],
    pages: Mapping[str, dict],
    failures: Sequence[str],
    note: str = "",
    *,
    lang: str | None = None,
    split_over: int = SPLIT_OVER,
    part_rows: int = PART_ROWS,
) -> dict[str, str]:
    """The index pages of a run: file name (beside ``index.html``) → HTML.

    Parameters
    ----------
    spec : RunSpec
        Its ``name``, ``title``, ``seed`` and ``lang`` are used.
    entries : sequence of Entry
        The planned entries (``key``, ``label``, ``years``, ``summary``, ``folder``, ``names``,
        ``award_labels``, ``synthetic``).
    pages : mapping
        The manifest's page records (``page``, ``kind``, ``scheme``, ``year``, ``status``,
        ``error``).
    failures : sequence of str
        The failure messages.
    note : str
        Added to the footer (e.g. the run was interrupted).
    lang : {"bilingual", "zh", "en"}, optional
        Default: the spec's ``lang``.
    split_over, part_rows : int
        More unit-years than ``split_over``: split pages of ``part_rows`` units each.

    Returns
    -------
    dict
        ``{"index.html": ...}`` for a small run; with the part pages for a large one.
    """
    lang = check_lang(lang if lang is not None else getattr(spec, "lang", None))
    title = spec.title or spec.name
    synthetic = any(e.synthetic for e in entries)
    footer = (
        f"assesskit {__version__} · {t('run', lang)} {spec.name} · {len(pages)} {t('pages', lang)}{note} · "
        f"{t('seed', lang)} {spec.seed} · {t('manifest_note', lang)}"
    )
    cells = {e.key: _cells(e, pages, lang) for e in entries}
    links = {e.key: _year_links(e, pages, lang) for e in entries}
    if sum(len(c) for c in cells.values()) <= split_over:
        sections = [_grid_section(e, cells[e.key], links[e.key], lang) for e in entries]
        return {
            "index.html": H.render_index(
                title=title,
                synthetic=synthetic,
                sections=sections,
                failures=failures,
                footer=footer,
                lang=lang,
            )
        }
    return _split(title, synthetic, entries, cells, links, failures, footer, lang, part_rows)


def _part_name(key: str, year: int, kind: str, n: int) -> str:
    return f"index-{page_stem(key)}-{year}-{page_stem(kind)}-{n}.html"


def _split(title, synthetic, entries, cells, links, failures, footer, lang, part_rows) -> dict[str, str]:
    """The top page and the part pages of a split index."""
    out: dict[str, str] = {}
    body: list[str] = [f"<h1>{H.esc(title)}</h1>"]
    if failures:
        shown = "".join(f"<li>{H.esc(f)}</li>" for f in failures[:MAX_FAILURES_LISTED])
        more = len(failures) - MAX_FAILURES_LISTED
        if more > 0:
            shown += f"<li>{H.esc(t('index_more_failures', lang, n=more))}</li>"
        body.append(
            f'<h2 id="failures">{H.esc(t("failures", lang))} ({len(failures)})</h2><ul class="ak-fail">{shown}</ul>'
        )
    for i, e in enumerate(entries):
        scheme_title = pick(e.label, getattr(e, "label_en", None), lang)
        body.append(f'<h2 id="s{i + 1}">{H.esc(scheme_title)} <small>{H.esc(e.key)}</small></h2>')
        c = cells[e.key].sort_values(["year", "kind", "unit"], kind="stable")
        for y in e.years:
            body.append(f"<h3>{y}</h3>")
            year_pages = [
                f'<span class="fail" title="{H.esc(err)}">{H.esc(lab)} ({H.esc(t("failed", lang))})</span>'
                if err
                else f'<a href="{H.href(link)}">{H.esc(lab)}</a>'
                for lab, link, err in links[e.key].get(y, [])
                if err or link
            ]
            if year_pages:
                body.append(f"<p>{' · '.join(year_pages)}</p>")
            items = []
            for kind, g in c[c["year"] == y].groupby("kind", sort=False):
                kind_obj = (getattr(e, "kinds", None) or {}).get(kind)
                kind_txt = pick(kind_obj.label, kind_obj.label_en, lang) if kind_obj is not None else kind
                chunks = [g.iloc[k : k + part_rows] for k in range(0, len(g), part_rows)]
                names = [_part_name(e.key, y, kind, n + 1) for n in range(len(chunks))]
                part_links = []
                for n, (chunk, name) in enumerate(zip(chunks, names)):
                    what = t(
                        "index_part",
                        lang,
                        first=chunk["unit"].iloc[0],
                        last=chunk["unit"].iloc[-1],
                        n=len(chunk),
                    )
                    part_links.append(f'<a href="{H.href(name)}">{H.esc(what)}</a>')
                    head = f"{scheme_title} · {y} · {kind_txt} ({n + 1}/{len(chunks)})"
                    nav = [("index.html", t("index_back", lang))]
                    nav += [(names[n - 1], "←")] if n > 0 else []
                    nav += [(names[n + 1], "→")] if n + 1 < len(chunks) else []
                    out[name] = _part_page(head, chunk, nav, synthetic, footer, lang)
                items.append(f"<li>{H.esc(kind_txt)}: {' · '.join(part_links)}</li>")
            body.append(f"<ul>{''.join(items)}</ul>")
    out["index.html"] = _frame(title, body, synthetic, footer, lang)
    return dict(sorted(out.items(), key=lambda kv: kv[0] != "index.html"))


def _part_page(head: str, chunk: pd.DataFrame, nav: list, synthetic: bool, footer: str, lang: str) -> str:
    """One page of a split index: a table of units with their total, rank, award and link."""
    links = " · ".join(f'<a href="{H.href(u)}">{H.esc(txt)}</a>' for u, txt in nav)
    name = chunk["name"].map(H.esc)
    unit = chunk["unit"].map(H.esc)
    text = chunk["text"].map(H.esc)
    detail = chunk["detail"].map(H.esc)
    link = chunk["link"].map(lambda x: H.href(x) if isinstance(x, str) else "")
    failed = chunk["failed"].map(lambda x: H.esc(x) if isinstance(x, str) else "")
    ok_cell = '<td class="ok"><a href="' + link + '">' + text + "</a><small>" + detail + "</small></td>"
    before, after = (H.esc(x) for x in t("failed_with", lang, why="\0").split("\0"))
    fail_cell = '<td class="fail">' + text + "<small>" + before + failed + after + "</small></td>"
    plain = "<td>" + text + "<small>" + detail + "</small></td>"
    cell = np.where(chunk["failed"].notna(), fail_cell, np.where(chunk["link"].notna(), ok_cell, plain))
    rows = (
        "<tr><th>" + name + "<small>" + unit + "</small></th>" + pd.Series(cell, index=chunk.index) + "</tr>"
    )
    table = (
        f'<table class="ak-index"><thead><tr><th>{H.esc(t("unit", lang))}</th><th>{H.esc(t("total", lang))}</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return _frame(
        head,
        [
            f"<h1>{H.esc(head)}</h1>",
            f'<p class="ak-crumbs">{links}</p>',
            table,
            f'<p class="ak-crumbs">{links}</p>',
        ],
        synthetic,
        footer,
        lang,
    )


def _frame(title: str, body: list[str], synthetic: bool, footer: str, lang: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{H.html_lang(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{H.esc(title)}</title>\n<style>{H.CSS}</style>\n</head>\n<body>\n"
        f"{H.synthetic_banner(lang) if synthetic else ''}\n"
        '<div class="ak-wrap">\n<main>\n'
        + "\n".join(body)
        + f"\n<footer>{H.esc(footer)}</footer>\n</main>\n</div>\n</body>\n</html>\n"
    )


def stale_index_pages(out_dir, names: Sequence[str]) -> list:
    """Index part pages of an earlier run (``index-*.html``) that are not in ``names``."""
    from pathlib import Path

    keep = set(names)
    return sorted(p for p in Path(out_dir).glob("index-*.html") if p.name not in keep)
