"""HTML for the reports: one reused nbconvert exporter, the page frame, the index page.

Pages are self-contained: no script and no link leaves the file. The exporter uses
nbconvert's ``basic`` template (cells only — no require.js, no MathJax, no web fonts, no
CDN) inside our own frame with an inline stylesheet; figures are PNG data URIs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from ..i18n import check_lang, t

__all__ = [
    "SYNTHETIC_BANNER",
    "IndexCell",
    "IndexSection",
    "export_html",
    "make_exporter",
    "render_index",
    "synthetic_banner",
]

CSS = """
:root{--fg:#1d2329;--muted:#5b6570;--line:#d9dee3;--accent:#2c6fbb;--bad:#c0392b;--hl:#fff6e0}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 "Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC","Source Han Sans SC",system-ui,sans-serif;color:var(--fg);background:#fff}
.ak-banner{position:sticky;top:0;z-index:10;background:#7a1f1f;color:#fff;padding:.45em 1em;font-weight:600;text-align:center}
.ak-wrap{display:flex;gap:2em;max-width:1280px;margin:0 auto;padding:1em 1.5em 3em}
nav.ak-toc{flex:0 0 14em;position:sticky;top:3em;align-self:flex-start;font-size:.9em;border-right:1px solid var(--line);padding-right:1em}
nav.ak-toc ol{list-style:none;padding-left:0;margin:.3em 0}nav.ak-toc ol ol{padding-left:1em}
nav.ak-toc a{color:var(--accent);text-decoration:none}
main{flex:1 1 auto;min-width:0}
.ak-crumbs{font-size:.9em;color:var(--muted);margin-bottom:.5em}.ak-crumbs a{color:var(--accent)}
h1{font-size:1.6em;margin:.2em 0}h1 small{font-size:.55em;color:var(--muted);font-weight:400}
h2{font-size:1.3em;border-bottom:2px solid var(--line);padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.05em;margin:1.2em 0 .4em}
a.anchor-link{opacity:0;margin-left:.3em;text-decoration:none;color:var(--muted)}h2:hover a.anchor-link{opacity:1}
.ak-title p{color:var(--muted);margin:.2em 0 1em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.88em}
th,td{border:1px solid var(--line);padding:.25em .55em;text-align:left;vertical-align:top}
thead th{background:#f3f5f7;position:sticky;top:2.3em}
tr.hl td{background:var(--hl)}
table.ak-card th{background:#f3f5f7;font-weight:600;width:16em}
table.ak-veto{border:2px solid var(--bad)}
.ak-note{color:var(--muted)}.ak-ok{color:#1e7b34}.ak-empty{color:var(--muted);font-style:italic}
figure.ak-fig{margin:.5em 0}figure.ak-fig img{max-width:100%;height:auto}
details.ak-code{margin:.3em 0;font-size:.85em}details.ak-code summary{color:var(--muted);cursor:pointer}
.input_area pre,.output_text pre{background:#f7f8fa;padding:.5em;overflow-x:auto;margin:.2em 0}
.output_stderr pre{background:#fff1f0}
.ak-index td.fail{background:#fde2e0}.ak-index td.ok a{font-weight:600}
.ak-index td small,.ak-index th small{display:block;color:var(--muted);font-weight:400}
footer{color:var(--muted);font-size:.85em;border-top:1px solid var(--line);margin-top:3em;padding-top:.5em}
"""

PAGE_TEMPLATE = """{%- extends 'basic/index.html.j2' -%}
{%- block header -%}
<!DOCTYPE html>
<html lang="{{ resources.ak.html_lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ resources.ak.title | e }}</title>
<style>{{ resources.ak.css }}</style>
</head>
<body>
{{ resources.ak.banner }}
<div class="ak-wrap">
<nav class="ak-toc"><!--ak-toc--></nav>
<main>
{{ resources.ak.crumbs }}
{%- endblock header -%}
{% block input_group -%}
{%- if resources.ak.code == 'folded' -%}
<details class="ak-code"><summary>{{ resources.ak.code_label | e }}</summary>{{ super() }}</details>
{%- else -%}{{ super() }}{%- endif -%}
{%- endblock input_group %}
{%- block footer -%}
<footer>{{ resources.ak.footer }}</footer>
</main>
</div>
</body>
</html>
{%- endblock footer -%}
"""


def synthetic_banner(lang: str | None = None) -> str:
    """The synthetic-data banner in ``lang`` (:mod:`assesskit.i18n`)."""
    return f'<div class="ak-banner" role="note">{esc(t("synthetic_banner", lang))}</div>'


def html_lang(lang: str | None = None) -> str:
    """The ``<html lang>`` of a page: ``en`` for English pages, else ``zh``."""
    return "en" if check_lang(lang) == "en" else "zh"


def page_lang(nb) -> str:
    """The language a page was executed in: its ``lang`` parameter (bilingual when absent)."""
    meta = nb.metadata.get("assesskit", {}) if hasattr(nb, "metadata") else {}
    params = meta.get("parameters", {}) if isinstance(meta, dict) else {}
    lang = params.get("lang") if isinstance(params, dict) else None
    return check_lang(lang if lang in ("zh", "en", "bilingual") else None)


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


SYNTHETIC_BANNER = (
    '<div class="ak-banner" role="note">合成数据 SYNTHETIC DATA — every number on this page is invented '
    "by the demo generator; do not cite it.</div>"
)  # the bilingual banner (kept for callers of earlier versions; see synthetic_banner)


def href(path: str) -> str:
    """A relative URL for a (sanitised) relative path, escaped for an attribute."""
    return esc(quote(path, safe="/"))


def make_exporter(code: str = "folded"):
    """An nbconvert HTMLExporter for report pages; build it once and reuse it.

    Parameters
    ----------
    code : {"folded", "hidden", "shown"}
        Code cells folded in a closed ``<details>`` (default), left out, or shown.
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from pygments.formatters import HtmlFormatter

    exp = HTMLExporter(
        template_name="basic",
        extra_loaders=[DictLoader({"assesskit_page.html.j2": PAGE_TEMPLATE})],
        template_file="assesskit_page.html.j2",
        exclude_input=code == "hidden",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exp._ak_code = code
    exp._ak_css = CSS + HtmlFormatter(style="default").get_style_defs(".highlight")
    return exp


_HEADING = re.compile(r"<(h[23])(\s[^>]*)?>(.*?)</\1>", re.S)
_TAG = re.compile(r"<[^>]+>")
_ANCHOR = re.compile(r'<a class="anchor-link"[^>]*>.*?</a>', re.S)
_ID = re.compile(r'\bid="([^"]*)"')


def _toc(body: str, lang: str | None = None) -> tuple[str, str]:
    """Give every h2/h3 an id and build the table of contents from them."""
    entries: list[tuple[int, str, str]] = []

    def number(m: re.Match) -> str:
        level, attrs, inner = m.group(1), m.group(2) or "", m.group(3)
        text = _TAG.sub("", _ANCHOR.sub("", inner)).strip()
        found = _ID.search(attrs)
        if found:
            entries.append((int(level[1]), found.group(1), text))
            return m.group(0)
        hid = f"s{len(entries) + 1}"
        entries.append((int(level[1]), hid, text))
        return f'<{level} id="{hid}"{attrs}>{inner}</{level}>'

    body = _HEADING.sub(number, body)
    if not entries:
        return body, ""
    out, open_sub = ["<ol>"], False
    for level, hid, text in entries:
        if level == 3 and not open_sub:
            out.append("<ol>")
            open_sub = True
        elif level == 2 and open_sub:
            out.append("</ol>")
            open_sub = False
        out.append(f'<li><a href="#{hid}">{text}</a></li>')
    out.append("</ol>" * (2 if open_sub else 1))
    return body, f"<strong>{esc(t('contents', lang))}</strong>" + "".join(out)


def export_html(
    exporter,
    nb,
    *,
    title: str,
    synthetic: bool,
    crumbs: Sequence[tuple[str, str | None]] = (),
    footer: str = "",
    lang: str | None = None,
) -> str:
    """Render an executed notebook to a self-contained page.

    Parameters
    ----------
    exporter
        From :func:`make_exporter` (reused across pages).
    nb : NotebookNode
        The executed notebook.
    title : str
        Page title (escaped here).
    synthetic : bool
        Show the synthetic-data banner.
    crumbs : sequence of (text, relative link or None)
        Navigation back to the index (escaped here).
    footer : str
        Plain text for the footer (escaped here).
    lang : {"bilingual", "zh", "en"}, optional
        The language of the frame (contents, code folding, banner); default: the page's
        ``lang`` parameter recorded in the notebook's metadata, else bilingual.
    """
    lang = check_lang(lang) if lang is not None else page_lang(nb)
    nav = " › ".join(f'<a href="{href(u)}">{esc(t)}</a>' if u else esc(t) for t, u in crumbs)
    resources = {
        "ak": {
            "title": title,
            "css": exporter._ak_css,
            "code": exporter._ak_code,
            "code_label": t("code", lang),
            "html_lang": html_lang(lang),
            "banner": synthetic_banner(lang) if synthetic else "",
            "crumbs": f'<div class="ak-crumbs">{nav}</div>' if nav else "",
            "footer": esc(footer),
        }
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    body, toc = _toc(body, lang)
    return body.replace("<!--ak-toc-->", toc, 1)


# --------------------------------------------------------------------------- index page
@dataclass(frozen=True)
class IndexCell:
    """One unit-year of the index grid."""

    text: str  # total, e.g. "912.4"
    detail: str  # rank and award, e.g. "1/10 · 一等奖"
    link: str | None  # relative path of the page, None when there is none
    failed: str | None = None  # the error when the page failed


@dataclass(frozen=True)
class IndexSection:
    """One scheme of a run: its units × years grid and its per-year pages."""

    key: str
    title: str
    years: list[int]
    rows: list[tuple[str, str, dict[int, IndexCell]]]  # (unit id, name, year → cell)
    year_links: dict[int, list[tuple[str, str | None, str | None]]]  # year → [(label, link, error)]


def render_index(
    *,
    title: str,
    synthetic: bool,
    sections: Sequence[IndexSection],
    failures: Sequence[str],
    footer: str,
    lang: str | None = None,
) -> str:
    """The run's index page: one grid of units × years per scheme, with the failures.

    For a large run, :func:`assesskit.report.index.index_pages` splits it into pages.
    """
    lang = check_lang(lang)
    parts = [f"<h1>{esc(title)}</h1>"]
    if failures:
        items = "".join(f"<li>{esc(f)}</li>" for f in failures)
        parts.append(
            f'<h2 id="failures">{esc(t("failures", lang))} ({len(failures)})</h2><ul class="ak-fail">{items}</ul>'
        )
    toc = [f"<strong>{esc(t('contents', lang))}</strong><ol>"]
    if failures:
        toc.append(f'<li><a href="#failures">{esc(t("failures", lang))}</a></li>')
    for i, s in enumerate(sections):
        sid = f"s{i + 1}"
        toc.append(f'<li><a href="#{sid}">{esc(s.key)}</a></li>')
        parts.append(f'<h2 id="{sid}">{esc(s.title)} <small>{esc(s.key)}</small></h2>')
        links = []
        for y in s.years:
            pages = []
            for label, link, err in s.year_links.get(y, []):
                if err:
                    pages.append(
                        f'<span class="fail" title="{esc(err)}">{esc(label)} ({esc(t("failed", lang))})</span>'
                    )
                elif link:
                    pages.append(f'<a href="{href(link)}">{esc(label)}</a>')
            if pages:
                links.append(f"<li>{y}: {' · '.join(pages)}</li>")
        if links:
            parts.append(f"<ul>{''.join(links)}</ul>")
        head = "".join(f"<th>{y}</th>" for y in s.years)
        body = []
        for unit, name, cells in s.rows:
            tds = []
            for y in s.years:
                c = cells.get(y)
                if c is None:
                    tds.append("<td></td>")
                elif c.failed:
                    fail = esc(t("failed_with", lang, why=c.failed))
                    tds.append(f'<td class="fail">{esc(c.text)}<small>{fail}</small></td>')
                elif c.link:
                    tds.append(
                        f'<td class="ok"><a href="{href(c.link)}">{esc(c.text)}</a><small>{esc(c.detail)}</small></td>'
                    )
                else:
                    tds.append(f"<td>{esc(c.text)}<small>{esc(c.detail)}</small></td>")
            body.append(f"<tr><th>{esc(name)}<small>{esc(unit)}</small></th>{''.join(tds)}</tr>")
        parts.append(
            f'<table class="ak-index"><thead><tr><th>{esc(t("unit", lang))}</th>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>"
        )
    toc.append("</ol>")
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{synthetic_banner(lang) if synthetic else ''}\n"
        f'<div class="ak-wrap">\n<nav class="ak-toc">{"".join(toc)}</nav>\n<main>\n'
        + "\n".join(parts)
        + f"\n<footer>{esc(footer)}</footer>\n</main>\n</div>\n</body>\n</html>\n"
    )
