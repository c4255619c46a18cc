"""A run's record: the manifest, its checkpoint journal, and the index page.

``manifest.json`` is written once at the end of a run, atomically, together with
``index.html``. While the run goes on, each finished page is appended as one JSON line to
``.manifest-journal.jsonl`` (flushed and synced), so a run that is killed leaves a record
of the pages it finished; the next run reads the manifest, then the journal over it, and
rebuilds only what is missing. A torn last line (killed mid-write) is ignored.

A page is recorded with the key of the inputs it was built from. The runner checks, as
each page finishes, that the files the page reads still have the size, time and inode they
had when the run was planned; a page whose inputs changed under it is recorded without a
key, so the next run rebuilds it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from .._version import __version__
from ..exceptions import ReportError
from . import html as H
from .pages import page_stem

__all__ = ["JOURNAL_NAME", "Journal", "read_previous"]

JOURNAL_NAME = ".manifest-journal.jsonl"


def read_manifest(path: Path) -> dict:
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return m if isinstance(m, dict) else {}


def read_previous(out_dir: Path) -> dict[str, dict]:
    """The page entries of the last run: the manifest, updated by the journal of a killed run."""
    pages = read_manifest(out_dir / "manifest.json").get("pages", {})
    pages = dict(pages) if isinstance(pages, dict) else {}
    try:
        lines = (out_dir / JOURNAL_NAME).read_text(encoding="utf-8").splitlines()
    except OSError:
        return pages
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:  # the torn last line of a killed run
            continue
        if isinstance(entry, dict) and isinstance(entry.get("page"), str):
            pages[entry["page"]] = entry
    return pages


class Journal:
    """Append-only checkpoint of finished pages (one JSON line each, synced)."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / JOURNAL_NAME
        self.f = None

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str) + "\n"
        try:
            if self.f is None:
                self.f = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
            self.f.write(line)
            self.f.flush()
            os.fsync(self.f.fileno())
        except OSError as exc:
            raise ReportError(
                f"{self.path}: cannot record the finished page ({exc.strerror or exc})"
            ) from None

    def close(self, remove: bool) -> None:
        if self.f is not None:
            try:
                self.f.close()
            except OSError:
                pass
            self.f = None
        if remove:
            try:
                self.path.unlink()
            except OSError:
                pass


def page_entry(job, result, built_at: str, key: str | None) -> dict[str, Any]:
    """The manifest entry of a page built in this run."""
    return {
        "page": job.page,
        "notebook": job.notebook,
        "kind": job.kind,
        "scheme": job.scheme,
        "year": job.year,
        "unit": job.unit,
        "template": Path(job.template).name,
        "inputs": list(job.inputs),
        "parameters": job.parameters,
        "key": key,
        "status": result.status,
        "rebuilt": True,
        "seconds": result.seconds,
        "built_at": built_at,
        "worker": getattr(result, "worker", None),
        "error": result.error,
        "stderr": list(result.stderr),
    }


def pages_frame(pages: dict[str, dict]) -> pd.DataFrame:
    """One row per page, as :attr:`RunResult.pages` documents."""
    cols = ["page", "kind", "scheme", "year", "unit", "status", "rebuilt", "seconds", "error"]
    rows = [
        {
            **{c: p.get(c) for c in ("page", "kind", "scheme", "year", "unit", "status", "seconds")},
            "rebuilt": bool(p.get("rebuilt")),
            "error": (p.get("error") or {}).get("message"),
        }
        for p in pages.values()
    ]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- index
def _unit_rows(e, by_page: dict[str, dict]) -> list:
    s = e.summary[e.summary["year"].isin(e.years)]
    s = s.assign(unit=s["unit"].astype(str))
    rows = []
    for u in s.sort_values(["kind", "unit"])["unit"].drop_duplicates():
        cells = {}
        for r in s[s["unit"] == u].itertuples():
            info = by_page.get(f"{e.folder}{r.year}/{page_stem(u)}.html")
            text = "not scored" if pd.isna(r.total) else f"{r.total:.1f}"
            bits = []
            if not pd.isna(r.rank):
                bits.append(f"{int(r.rank)}/{int(r.n_ranked)}")
            if r.award:
                bits.append(e.award_labels.get(r.award, r.award))
            if r.veto:
                bits.append("veto")
            fail = info["error"]["message"] if info and info["status"] == "failed" else None
            link = info["page"] if info and info["status"] == "ok" else None
            cells[int(r.year)] = H.IndexCell(text=text, detail=" · ".join(bits), link=link, failed=fail)
        rows.append((u, e.names.get(u, u), cells))
    return rows


def _year_links(by_page: dict[str, dict]) -> dict[int, list]:
    year_links: dict[int, list] = {}
    for p in by_page.values():
        if p["kind"] == "unit":
            continue
        label = "overview" if p["kind"] == "overview" else Path(p["page"]).stem
        err = p["error"]["message"] if p["status"] == "failed" else None
        year_links.setdefault(int(p["year"]), []).append(
            (label, p["page"] if p["status"] == "ok" else None, err)
        )
    for v in year_links.values():
        v.sort(key=lambda t: (t[0] != "overview", t[0]))
    return year_links


def index_html(spec, entries: list, pages: dict[str, dict], failures: list[str], note: str = "") -> str:
    """The run's index page: units × years per scheme, links to the pages, failures."""
    sections = []
    for e in entries:
        by_page = {p["page"]: p for p in pages.values() if p["scheme"] == e.key}
        sections.append(
            H.IndexSection(
                key=e.key,
                title=e.label,
                years=e.years,
                rows=_unit_rows(e, by_page),
                year_links=_year_links(by_page),
            )
        )
    footer = (
        f"assesskit {__version__} · run {spec.name} · {len(pages)} pages{note} · seed {spec.seed} · "
        "manifest.json has the inputs' SHA-256"
    )
    return H.render_index(
        title=spec.title or spec.name,
        synthetic=any(e.synthetic for e in entries),
        sections=sections,
        failures=failures,
        footer=footer,
    )
