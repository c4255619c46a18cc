"""Sphinx extension: one documentation page per bundled scheme, written at build time.

For every ``params/schemes/*.yaml`` it writes ``docs/schemes/<id>.md`` from the *loaded*
scheme (so the page shows what the engine reads, after validation) plus the comment block
at the top of the file, where each scheme states what its source fixes and what it leaves
open. The pages are generated on every build and are not kept in git, so they never go
stale; ``docs/schemes/index.md`` (hand-written) lists them with a glob toctree.

Written by hand because no Sphinx extension renders a pydantic model tree as a readable
page; it is a few string templates over :class:`assesskit.scheme.Scheme`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_SPECIAL = re.compile(r"([\\`*_\[\]<>|$~#{}])")


def esc(text) -> str:
    """Escape Markdown/MyST syntax in free text from a scheme (labels, assumptions)."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split())) if text is not None else ""


def code(text) -> str:
    """Inline code that survives a table cell (no backticks or pipes inside)."""
    s = str(text).replace("|", "¦").replace("`", "'")
    return f"`{s}`" if s else ""


def _num(x) -> str:
    return "" if x is None else (f"{x:g}" if isinstance(x, float) else str(x))


def _compact(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def header_comment(path: Path) -> list[str]:
    """The ``#`` comment lines before the first key of a YAML file, without the ``#``."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        out.append(line[1:].strip())
    return out


def _rule_cell(rule) -> str:
    d = rule.model_dump(exclude_defaults=True, exclude={"assumption"})
    kind = d.pop("type", getattr(rule, "type", ""))
    d.pop("indicator", None)
    if hasattr(rule, "op") and "op" not in d:
        d = {"op": rule.op, **d}  # the default comparison, stated
    return f"{code(kind)} {code(_compact(d)) if d else ''}".strip()


def _walk(node, path: tuple[str, ...], rows: list, notes: list) -> None:
    for child in node.items:
        where = " › ".join((*path, child.id))
        if getattr(child, "assumption", None):
            notes.append((where, child.assumption))
        if hasattr(child, "rule"):
            r = child.rule
            if getattr(r, "assumption", None):
                notes.append((where + " (rule)", r.assumption))
            rows.append(
                f"| {code(' › '.join(path)) if path else ''} | {code(child.id)} | {esc(child.label)} "
                f"| {_num(child.points)} | {code(getattr(r, 'indicator', '') or '')} | {_rule_cell(r)} |"
            )
        else:
            rows.append(
                f"| {code(' › '.join(path)) if path else ''} | **{code(child.id)}** | **{esc(child.label)}** "
                f"| {_num(child.points)} | | section, {code(child.aggregate)} |"
            )
            _walk(child, (*path, child.id), rows, notes)


def _terms(terms) -> str:
    """``["births", "-deaths"]`` → ``births − deaths``."""
    out = ""
    for i, t in enumerate(terms):
        neg = t.startswith("-")
        sign = ("−" if neg else "") if i == 0 else (" − " if neg else " + ")
        out += sign + t.lstrip("-")
    return out


def _condition(c) -> str:
    return _compact(c.model_dump(exclude_none=True))


def render(path: Path, scheme) -> str:
    """The Markdown page of one scheme."""
    s = scheme
    lines = [
        f"# {s.id}: {esc(s.label)}",
        "",
        f"*{esc(s.label_en)}*" if s.label_en else "",
        "",
        f"File: `params/schemes/{path.name}` (this page is generated from it at every build).",
        "",
        "## Source",
        "",
        esc(s.source),
        "",
    ]
    head = header_comment(path)
    if head:
        lines += ["## What the file says about its source", ""]
        paragraph: list[str] = []
        for h in [*head, ""]:
            if h:
                paragraph.append(h)
            elif paragraph:
                lines += [esc(" ".join(paragraph)), ""]
                paragraph = []
    lines += [
        "## At a glance",
        "",
        "| key | value |",
        "|---|---|",
        f"| years | {s.years[0]}–{s.years[1]} |",
        "| kinds of unit | "
        + "; ".join(f"{code(k)} {esc(v.label)} ({_num(v.points)} points)" for k, v in s.kinds.items())
        + " |",
        "| categories | "
        + ("; ".join(f"{code(k)} {esc(v.label)}" for k, v in s.categories.items()) or "none")
        + " |",
        f"| missing-data policy | {code(s.missing)} |",
        f"| floor | {_num(s.floor) or 'none'} |",
        f"| indicators | {len(s.indicators)} |",
        f"| vetoes and eligibility rules | {len(s.vetoes)} |",
        f"| bonuses and deductions | {len(s.adjustments)} |",
        "",
    ]
    if s.assumptions:
        lines += ["## Assumptions", "", "What the source leaves unstated, and what the file chose:", ""]
        lines += [f"{i}. {esc(a)}" for i, a in enumerate(s.assumptions, 1)] + [""]
    notes: list = []
    lines += ["## What it encodes", ""]
    for line in s.lines:
        lines += [
            f"### Line {code(line.id)}: {esc(line.label)}",
            "",
            f"For units of kind {code(line.unit_kind)}; {_num(line.points)} points; aggregate "
            f"{code(line.aggregate)}.",
            "",
            "| section | item | label | points | indicator | rule |",
            "|---|---|---|---|---|---|",
        ]
        if line.assumption:
            notes.append((line.id, line.assumption))
        rows: list = []
        _walk(line, (), rows, notes)
        lines += rows + [""]
    if s.indicators:
        lines += ["### Indicators", "", "| id | label | computed as | unit |", "|---|---|---|---|"]
        for k, ind in s.indicators.items():
            if ind.numerator:
                how = f"({_terms(ind.numerator)}) / ({_terms(ind.denominator or [])}) × {_num(ind.scale)}"
            else:
                how = f"column {ind.column or k}"
            lines.append(f"| {code(k)} | {esc(ind.label)} | {code(how)} | {esc(ind.unit)} |")
        lines.append("")
    if s.vetoes:
        lines += ["### Vetoes and eligibility", "", "| id | label | effect | when |", "|---|---|---|---|"]
        for v in s.vetoes:
            lines.append(f"| {code(v.id)} | {esc(v.label)} | {code(v.effect)} | {code(_condition(v.when))} |")
            if v.assumption:
                notes.append((v.id, v.assumption))
        lines.append("")
    if s.adjustments:
        lines += [
            "### Bonuses and deductions",
            "",
            "| id | label | kind | how | cap |",
            "|---|---|---|---|---|",
        ]
        for a in s.adjustments:
            how = _compact(a.model_dump(include={"per_case", "assessed", "applies_to"}, exclude_none=True))
            lines.append(f"| {code(a.id)} | {esc(a.label)} | {a.kind} | {code(how)} | {_num(a.cap)} |")
            if a.assumption:
                notes.append((a.id, a.assumption))
        lines.append("")
    o = s.outcomes
    if o.tiers or o.single_awards or o.warnings:
        lines += ["### Awards and warnings", "", "| kind | id | label | rule |", "|---|---|---|---|"]
        for group, entries in (("tier", o.tiers), ("single award", o.single_awards), ("warning", o.warnings)):
            for e in entries:
                d = e.model_dump(exclude={"id", "label", "label_en", "assumption"}, exclude_none=True)
                lines.append(f"| {group} | {code(e.id)} | {esc(e.label)} | {code(_compact(d))} |")
                if e.assumption:
                    notes.append((e.id, e.assumption))
        if o.tie_break:
            lines.append(f"\nTies are broken by {', '.join(code(t) for t in o.tie_break)}.")
        if o.assumption:
            notes.append(("outcomes", o.assumption))
        lines.append("")
    if notes:
        lines += ["### Assumptions on single elements", "", "| where | assumption |", "|---|---|"]
        lines += [f"| {code(w)} | {esc(a)} |" for w, a in notes] + [""]
    lines += [
        "## The file",
        "",
        f"```{{literalinclude}} ../../params/schemes/{path.name}",
        ":language: yaml",
        "```",
        "",
    ]
    return "\n".join(lines)


def write_pages(app) -> None:
    """builder-inited: (re)write docs/schemes/<id>.md for every bundled scheme."""
    from assesskit.scheme import bundled_schemes, load_scheme

    out = Path(app.srcdir) / "schemes"
    out.mkdir(exist_ok=True)
    wanted = {}
    for path in bundled_schemes():
        wanted[f"{path.stem}.md"] = render(path, load_scheme(path))
    for old in out.glob("*.md"):
        if old.name != "index.md" and old.name not in wanted:
            old.unlink()  # a scheme that was removed or renamed
    for name, text in wanted.items():
        target = out / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")  # unchanged pages keep their mtime


def setup(app):
    app.connect("builder-inited", write_pages)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
