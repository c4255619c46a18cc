"""Planning a run: load and score every entry, list its pages with their keys.

Nothing here runs a notebook or writes a file. Each page's key is derived from what its
template declares it reads (:mod:`assesskit.report.keys`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import sha256
from .._version import __version__
from ..exceptions import AssessKitError, Problem, ReportError
from ..i18n import pick, t
from ..scheme import resolve_scheme_path
from .job import Job
from .keys import EntryHashes, _h, _row_hashes, code_sha256, declared_parts
from .pages import PER_UNIT_RULES, load_scheme_variant, page_stem
from .spec import RunSpec, SchemeRun
from .templates import Template, check_templates

__all__ = ["Entry", "Job", "plan_run"]


@dataclass
class Entry:
    """One scheme of a run, loaded, validated and scored."""

    spec: SchemeRun
    key: str
    folder: str  # "" or "<key>/"
    scheme_path: Path
    scheme_sha: str
    files: dict[str, Path]
    summary: pd.DataFrame
    names: dict[str, str]
    synthetic: bool
    years: list[int]
    change: bool
    cross_unit: bool
    hashes: EntryHashes
    label: str
    sensitivity_spec: Path
    award_labels: dict[str, str] = field(default_factory=dict)
    label_en: str | None = None
    award_labels_en: dict[str, str] = field(default_factory=dict)
    warning_labels: dict[str, str] = field(default_factory=dict)
    warning_labels_en: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, Any] = field(default_factory=dict)  # kind id → the scheme's Kind (its labels)


def rel(path: Path, base: Path) -> str:
    """Path as the notebook gets it: relative to the run's base folder when inside it."""
    p = path.resolve()
    try:
        return p.relative_to(base).as_posix()
    except ValueError:
        return str(p)


def absolute(path: str | os.PathLike, base: Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else base / p


def scheme_path(name: str | os.PathLike, base: Path) -> Path:
    """A scheme file relative to the base folder, or a bundled scheme id."""
    p = absolute(name, base)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    return resolve_scheme_path(name)


def _demo_files(spec: RunSpec, key: str, base: Path) -> dict[str, Path]:
    from ..datasets.demo import FILE_NAMES

    d = absolute(spec.demo.out, base) / key
    return {role: d / name for role, name in FILE_NAMES.items() if role != "truth" and (d / name).exists()}


def _select_years(entry: SchemeRun, scored: list[int]) -> list[int]:
    y = entry.years
    if y == "all":
        return scored
    if y == "latest":
        return scored[-1:]
    if isinstance(y, int):
        return scored[-y:]
    return sorted(set(y))


def _input_files(spec: RunSpec, e: SchemeRun, base: Path) -> dict[str, Path]:
    if e.data is None:
        files = _demo_files(spec, Path(e.scheme).stem, base)
        if "data" not in files:
            raise ReportError(f"no demo panel for scheme '{e.scheme}' in {spec.demo.out}")
        return files
    roles = (("data", e.data), ("units", e.units), ("targets", e.targets), ("grades", e.grades))
    return {r: absolute(p, base) for r, p in roles if p}


def _is_synthetic(spec: RunSpec, tables: dict) -> bool:
    if spec.synthetic is not None:
        return spec.synthetic
    from .pages import _truthy

    reg = tables["units"].frame if "units" in tables else None
    return bool(reg is not None and "synthetic" in reg.columns and _truthy(reg["synthetic"]).any())


def _sensitivity_sha(path: Path) -> str:
    return sha256(path) if path.is_file() else "absent"


def _load_entry(spec: RunSpec, e: SchemeRun, base: Path, multi: bool) -> Entry:
    from ..pipeline import load_inputs, score_inputs
    from ..sensitivity import spec as sens_spec

    path = scheme_path(e.scheme, base)
    scheme = load_scheme_variant(path)
    files = _input_files(spec, e, base)
    inputs = load_inputs(scheme, files["data"], **{r: p for r, p in files.items() if r != "data"})
    res = score_inputs(inputs).result  # the one load → validate → score sequence
    tables = dict(inputs.tables)
    scored = sorted(int(y) for y in res.summary["year"].unique())
    years = _select_years(e, scored)
    bad = [y for y in years if y not in scored]
    if bad:
        raise ReportError(f"years {bad} are not scored (scored years: {scored})")
    for c in e.compare:
        load_scheme_variant(scheme_path(c.scheme, base) if c.scheme else path, c.set)
    d = res.summary.drop_duplicates("unit")
    if e.units_only:
        missing = sorted(set(e.units_only) - set(d["unit"].astype(str)))
        if missing:
            raise ReportError(f"units_only: {missing} are not units of the panel")
    if e.unit_pages:
        only = set(e.units_only or ())
        _refuse_case_collisions(u for u in d["unit"].astype(str) if not only or u in only)
    change = any(it.rule.type == "change" for _p, it in scheme.flat_items)
    cross = any(it.rule.type not in PER_UNIT_RULES for _p, it in scheme.flat_items)
    sens = sens_spec.specs_dir() / f"{scheme.id}.yaml"
    scheme_sha = sha256(path)
    rows = _row_hashes({r: t.frame for r, t in tables.items()})
    return Entry(
        spec=e,
        key=e.key,
        folder=f"{e.key}/" if multi else "",
        scheme_path=path,
        scheme_sha=scheme_sha,
        files=files,
        summary=res.summary,
        names=dict(zip(d["unit"].astype(str), d["name"].astype(str))),
        synthetic=_is_synthetic(spec, tables),
        years=years,
        change=change,
        cross_unit=cross,
        hashes=EntryHashes(scheme_sha, rows, _sensitivity_sha(sens), spec.seed, change, cross),
        label=scheme.label,
        sensitivity_spec=sens,
        award_labels={x.id: x.label for x in scheme.outcomes.tiers},
        label_en=scheme.label_en,
        award_labels_en={x.id: x.label_en or x.label for x in scheme.outcomes.tiers},
        warning_labels={x.id: x.label for x in scheme.outcomes.warnings},
        warning_labels_en={x.id: x.label_en or x.label for x in scheme.outcomes.warnings},
        kinds=dict(scheme.kinds),
    )


def _refuse_case_collisions(units) -> None:
    """Refuse unit ids whose pages would share a file where names ignore case (``T01``/``t01``).

    :func:`~assesskit.report.pages.page_stem` keeps such ids apart on Linux, but on the
    file systems of Windows and macOS one page would overwrite the other. Unit ids that
    differ only in case are much likelier a typing error in the registry than two units.
    """
    groups: dict[str, list[str]] = {}
    for u in units:
        groups.setdefault(page_stem(u).casefold(), []).append(u)
    clash = [sorted(g) for g in groups.values() if len(g) > 1]
    if clash:
        shown = "; ".join(" and ".join(repr(u) for u in g) for g in sorted(clash)[:5])
        raise ReportError(
            f"unit ids that differ only in case: {shown} ({len(clash)} group(s)); their pages "
            "would overwrite each other on Windows and macOS file systems — rename them in the "
            "units file, or leave one out with units_only"
        )


def load_entries(spec: RunSpec, base: Path) -> list[Entry]:
    """Load, validate and score every scheme entry; every problem is reported together."""
    probs: list[Problem] = []
    entries: list[Entry] = []
    multi = len(spec.schemes) > 1
    for i, e in enumerate(spec.schemes):
        try:
            entries.append(_load_entry(spec, e, base, multi))
        except AssessKitError as exc:
            probs.append(Problem(f"schemes › [{i}] ({e.key})", str(exc)))
    if probs:
        n = len(probs)
        raise ReportError(
            f"run '{spec.name}': {n} scheme entr{'ies' if n > 1 else 'y'} cannot be reported", probs
        )
    return entries


@dataclass(frozen=True)
class _Ctx:
    """What every page of one entry shares."""

    spec: RunSpec
    entry: Entry
    base: Path
    templates: dict[str, Template]
    code: str
    inputs: dict[str, str | None]
    title: str
    lang: str = "bilingual"

    @property
    def label(self) -> str:
        """The scheme's name in the run's language."""
        return pick(self.entry.label, self.entry.label_en, self.lang)


def _job(
    c: _Ctx, kind: str, year: int, page: str, params: dict, parts: dict, extra: tuple = (), **kw: Any
) -> Job:
    """A job whose key is the template, the code, the parameters and the declared inputs."""
    e = c.entry
    tp = c.templates[kind]
    if "seed" in tp.inputs:
        params = {**params, "seed": c.spec.seed}
    params = {**params, "lang": c.lang}  # in the key: switching language rebuilds every page
    files = [e.scheme_path, *e.files.values(), tp.path, *extra]
    if "sensitivity_spec" in tp.inputs:
        files.append(e.sensitivity_spec)
    key = _h(kind, tp.sha256, c.code, params, parts)
    return Job(
        page=page,
        kind=kind,
        scheme=e.key,
        year=year,
        template=str(tp.path),
        parameters=params,
        key=key,
        synthetic=e.synthetic,
        inputs=tp.inputs,
        files=tuple(sorted({str(f) for f in files})),
        **kw,
    )


def _year_jobs(c: _Ctx, y: int) -> list[Job]:
    e = c.entry
    summary = e.summary
    units = sorted(summary.loc[summary["year"] == y, "unit"].astype(str))
    only = set(e.spec.units_only or ())
    page_units = [u for u in units if e.spec.unit_pages and (not only or u in only)]
    index_link = "../" * (e.folder.count("/") + 1) + "index.html"
    crumbs = ((c.title, index_link), (f"{e.key} {y}", None))
    jobs = []
    for u in page_units:
        params = {**c.inputs, "unit": u, "year": y}
        jobs.append(
            _job(
                c,
                "unit",
                y,
                f"{e.folder}{y}/{page_stem(u)}.html",
                params,
                declared_parts(c.templates["unit"].inputs, e.hashes, year=y, unit=u),
                unit=u,
                title=f"{e.names.get(u, u)} · {y} · {c.label}",
                crumbs=(*crumbs, (e.names.get(u, u), None)),
                footer=f"assesskit {__version__} · {t('unit_report', c.lang)} · {e.key} · {y} · {u}",
            )
        )
    if e.spec.overview:
        jobs.append(
            _job(
                c,
                "overview",
                y,
                f"{e.folder}{y}/overview.html",
                {**c.inputs, "year": y, "unit_pages": page_units},
                declared_parts(c.templates["overview"].inputs, e.hashes, year=y),
                unit=None,
                title=f"{c.label} · {y} · {t('overview', c.lang)}",
                crumbs=(*crumbs, (t("overview", c.lang), None)),
                footer=f"assesskit {__version__} · {t('footer_overview', c.lang)} · {e.key} · {y}",
            )
        )
    return jobs + _comparison_jobs(c, y, crumbs)


def _comparison_jobs(c: _Ctx, y: int, crumbs: tuple) -> list[Job]:
    e = c.entry
    jobs = []
    for cmp in e.spec.compare:
        cyears = e.years if cmp.years == "all" else (e.years[-1:] if cmp.years == "latest" else cmp.years)
        if y not in cyears:
            continue
        b_path = scheme_path(cmp.scheme, c.base) if cmp.scheme else e.scheme_path
        b_change = any(it.rule.type == "change" for _p, it in load_scheme_variant(b_path, cmp.set).flat_items)
        params = {
            **c.inputs,
            "year": y,
            "scheme_b": rel(b_path, c.base),
            "variant_b": dict(cmp.set),
            "label_a": e.key,
            "label_b": cmp.label or cmp.id,
        }
        parts = declared_parts(
            c.templates["comparison"].inputs,
            e.hashes,
            year=y,
            scheme_b=_h(sha256(b_path), dict(cmp.set)),
            change_b=b_change,
        )
        jobs.append(
            _job(
                c,
                "comparison",
                y,
                f"{e.folder}{y}/compare-{cmp.id}.html",
                params,
                parts,
                unit=None,
                extra=(b_path,),
                title=f"{c.label} · {y} · {e.key} ↔ {cmp.label or cmp.id}",
                crumbs=(*crumbs, (t("compare_with", c.lang, what=cmp.label or cmp.id), None)),
                footer=f"assesskit {__version__} · {t('footer_comparison', c.lang)} · {e.key} · {y} · {cmp.id}",
            )
        )
    return jobs


def plan_run(
    spec: RunSpec, base: Path | None = None, templates: dict[str, Template] | None = None
) -> tuple[list[Entry], list[Job]]:
    """Load every entry (validating all inputs) and list the pages with their keys.

    Parameters
    ----------
    spec : RunSpec
    base : path, optional
        Folder relative paths are taken from (default: the current directory).
    templates : dict, optional
        Already checked templates (default: checked here).

    Returns
    -------
    entries, jobs
        The loaded entries and one :class:`Job` per page.
    """
    base = (base or Path.cwd()).resolve()
    templates = templates or check_templates(dict(spec.templates), base)
    entries = load_entries(spec, base)
    code = code_sha256()
    jobs: list[Job] = []
    for e in entries:
        files = {r: rel(p, base) for r, p in e.files.items()}
        inputs = {
            "scheme": rel(e.scheme_path, base),
            "data": files["data"],
            **{r: files.get(r) for r in ("units", "targets", "grades")},
        }
        c = _Ctx(spec, e, base, templates, code, inputs, spec.title or spec.name, spec.lang)
        for y in e.years:
            jobs += _year_jobs(c, y)
    # what the page frame shows (title, navigation, banner, code display) is part of the key too
    return entries, [
        replace(j, key=_h(j.key, j.title, j.crumbs, j.footer, j.synthetic, spec.code)) for j in jobs
    ]
