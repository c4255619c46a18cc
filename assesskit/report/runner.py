"""The report runner: plan the pages of a run, build what changed, write index and manifest.

Layout of ``reports/<run>/`` (``<scheme>/`` only when the run has several schemes, since
their years and unit ids may overlap)::

    index.html                     units × years per scheme: totals, ranks, awards, links, failures
    manifest.json                  parameters, hashes, package versions, seed, timings, status of each page
    [<scheme>/]<year>/<unit>.html  unit report (+ <unit>.ipynb, the executed notebook)
    [<scheme>/]<year>/overview.html
    [<scheme>/]<year>/compare-<id>.html

**Incremental rebuild.** Each page has a key: the SHA-256 of everything it reads — the
notebook template, the scheme file (and variant), the assesskit source, its parameters, the
unit registry, and the data rows it depends on (see :mod:`assesskit.report.pages`):

- unit page (u, y): u's rows in every year + every unit's rows of year y (+ the previous
  data year when the scheme has change rules; + every earlier year if some unit of y has
  no row in the previous year); with a rule type that compares units (not one of
  :data:`~assesskit.report.pages.PER_UNIT_RULES`) every row;
- overview (y): every row of the years up to y;
- comparison (y): the rows of year y (+ the previous year as above).

Rows are hashed in every input table that has ``unit`` and ``year`` columns (panel, targets,
grades); row order does not matter. A page whose key, status and files are unchanged is
skipped; ``force`` rebuilds everything. Failed pages are always retried.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing as mp
import os
import platform
import time
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from .._io import sha256, write_outputs
from ..data import read_table
from ..exceptions import AssessKitError, Problem, ReportError
from ..scheme import resolve_scheme_path
from . import html as H
from .pages import PER_UNIT_RULES, load_scheme_variant, page_stem
from .spec import RunSpec, SchemeRun, load_run_spec

__all__ = ["Job", "JobResult", "RunResult", "plan_run", "run_report"]

PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "matplotlib",
    "pydantic",
    "papermill",
    "nbclient",
    "nbconvert",
    "nbformat",
    "ipykernel",
    "jupyter_client",
    "ipython",
)
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
TEMPLATE_FILES = {
    "unit": "unit_report.ipynb",
    "overview": "annual_overview.ipynb",
    "comparison": "scheme_comparison.ipynb",
}


# --------------------------------------------------------------------------- jobs
@dataclass(frozen=True)
class Job:
    """One notebook to execute and render."""

    page: str  # html path relative to the run folder
    kind: str  # unit | overview | comparison
    scheme: str  # entry key
    year: int
    unit: str | None
    template: str
    parameters: dict[str, Any]
    key: str
    title: str
    synthetic: bool
    crumbs: tuple[tuple[str, str | None], ...]
    footer: str

    @property
    def label(self) -> str:
        what = f"unit {self.unit!r}" if self.unit is not None else self.kind
        return f"{self.scheme} {self.year} {what}"

    @property
    def notebook(self) -> str:
        return self.page[: -len(".html")] + ".ipynb"


@dataclass(frozen=True)
class JobResult:
    page: str
    status: str  # ok | failed
    seconds: float
    error: dict[str, Any] | None = None
    stderr: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_report` did.

    Attributes
    ----------
    out_dir : Path
    index, manifest : Path
    pages : DataFrame
        One row per page: ``page``, ``kind``, ``scheme``, ``year``, ``unit``, ``status``
        (``ok``/``failed``), ``rebuilt`` (bool), ``seconds``, ``error``.
    seconds : float
        Wall time of the run.
    warnings : tuple of str
        Problems that did not stop the run (e.g. no CJK font: English labels).
    """

    out_dir: Path
    index: Path
    manifest: Path
    pages: pd.DataFrame
    seconds: float
    warnings: tuple[str, ...] = ()

    @property
    def n_built(self) -> int:
        return int(self.pages["rebuilt"].sum())

    @property
    def n_failed(self) -> int:
        return int((self.pages["status"] == "failed").sum())

    @property
    def ok(self) -> bool:
        return self.n_failed == 0

    @property
    def failures(self) -> list[str]:
        f = self.pages[self.pages["status"] == "failed"]
        return [str(e) for e in f["error"]]


# --------------------------------------------------------------------------- hashing
def _h(*parts: object) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(
            json.dumps(p, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8")
            if not isinstance(p, bytes)
            else p
        )
        h.update(b"\x00")
    return h.hexdigest()


def _imports(path: Path, module: str, root: Path) -> set[Path]:
    """The assesskit source files one module imports (anywhere in it, lazily too)."""
    import ast

    pkg = module.split(".")
    if path.name != "__init__.py":
        pkg = pkg[:-1]
    found: set[Path] = set()

    def add(mod: list[str]) -> None:
        if not mod or mod[0] != "assesskit":
            return
        for k in range(1, len(mod) + 1):  # parent packages are imported too
            base = root.joinpath(*mod[1:k])
            for cand in (base / "__init__.py", base.with_suffix(".py")):
                if cand.is_file():
                    found.add(cand)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for a in node.names:
                add(a.name.split("."))
        elif isinstance(node, ast.ImportFrom):
            base = (pkg[: len(pkg) - node.level + 1] if node.level else []) + (
                node.module.split(".") if node.module else []
            )
            add(base)
            for a in node.names:  # `from . import pages` names a module
                add(base + [a.name])
    return found


def code_files() -> list[Path]:
    """The assesskit sources a report page depends on: every module reachable by imports
    from the page helpers, the kernel set-up, the HTML export and the runner."""
    root = Path(__file__).resolve().parents[1]
    start = [root / "report" / f for f in ("pages.py", "kernel.py", "html.py", "runner.py")]
    seen: set[Path] = set()
    todo = list(start)
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        mod = ".".join(("assesskit", *f.relative_to(root).with_suffix("").parts))
        mod = mod.removesuffix(".__init__")
        todo += sorted(_imports(f, mod, root) - seen)
    return sorted(seen)


def code_sha256() -> str:
    """SHA-256 over :func:`code_files` (a change elsewhere in the package rebuilds nothing)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    ref = sorted((root / "datasets" / "reference").glob("*.csv"))  # e.g. the national SRB series
    for p in [*code_files(), *ref]:
        h.update(p.relative_to(root).as_posix().encode() + b"\x00" + p.read_bytes() + b"\x00")
    return h.hexdigest()


@dataclass
class _RowHashes:
    """Hashes of an entry's input rows, by unit and by year (order-independent)."""

    by_unit: dict[str, str]
    by_year: dict[int, str]
    whole: str  # tables without unit/year columns, and the column headers
    units_in_year: dict[int, frozenset[str]]


def _group_digest(keys: np.ndarray, hashes: np.ndarray) -> dict:
    """Per key, the SHA-256 of its rows' sorted 64-bit hashes (loops over groups, not rows)."""
    order = np.lexsort((hashes, keys))
    k, v = keys[order], hashes[order]
    out = {}
    if len(k) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    ends = np.r_[starts[1:], len(k)]
    for s, e in zip(starts, ends):
        out[k[s]] = hashlib.sha256(v[s:e].tobytes()).hexdigest()
    return out


def _row_hashes(tables: Mapping[str, pd.DataFrame]) -> _RowHashes:
    unit_parts: list[tuple[np.ndarray, np.ndarray]] = []
    year_parts: list[tuple[np.ndarray, np.ndarray]] = []
    whole = []
    units_in_year: dict[int, set[str]] = {}
    for role, df in sorted(tables.items()):
        whole.append((role, [str(c) for c in df.columns]))
        if {"unit", "year"} <= set(df.columns):
            rh = pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy()
            rh = rh ^ np.uint64(int(hashlib.sha256(role.encode()).hexdigest()[:15], 16))
            units = df["unit"].astype(str).to_numpy()
            years = pd.to_numeric(df["year"], errors="coerce").fillna(-1).astype(np.int64).to_numpy()
            unit_parts.append((units, rh))
            year_parts.append((years, rh))
            if role == "data":
                for y in np.unique(years):
                    units_in_year[int(y)] = set(units[years == y])
        else:
            whole.append(
                (role, pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy().tobytes().hex())
            )
    by_unit: dict[str, str] = {}
    by_year: dict[int, str] = {}
    if unit_parts:
        by_unit = {
            str(k): v
            for k, v in _group_digest(
                np.concatenate([u for u, _ in unit_parts]).astype(object),
                np.concatenate([h for _, h in unit_parts]),
            ).items()
        }
        by_year = {
            int(k): v
            for k, v in _group_digest(
                np.concatenate([y for y, _ in year_parts]), np.concatenate([h for _, h in year_parts])
            ).items()
        }
    return _RowHashes(by_unit, by_year, _h(whole), {y: frozenset(u) for y, u in units_in_year.items()})


def _prev_years(rh: _RowHashes, year: int) -> list[int]:
    """The data years a change rule may look back to from ``year``."""
    earlier = sorted(y for y in rh.by_year if y < year)
    if not earlier:
        return []
    prev = earlier[-1]
    if rh.units_in_year.get(year, frozenset()) <= rh.units_in_year.get(prev, frozenset()):
        return [prev]
    return earlier  # a unit skips the previous year: its own previous row may be earlier


# --------------------------------------------------------------------------- planning
@dataclass
class _Entry:
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
    rows: _RowHashes
    label: str
    award_labels: dict[str, str] = field(default_factory=dict)


def _rel(path: Path, base: Path) -> str:
    """Path as the notebook gets it: relative to the run's base folder when inside it."""
    p = path.resolve()
    try:
        return p.relative_to(base).as_posix()
    except ValueError:
        return str(p)


def _abs(path: str | os.PathLike, base: Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else base / p


def _scheme_path(name: str | os.PathLike, base: Path) -> Path:
    """A scheme file relative to the base folder, or a bundled scheme id."""
    p = _abs(name, base)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    return resolve_scheme_path(name)


def _demo_files(spec: RunSpec, key: str, base: Path) -> dict[str, Path]:
    from ..datasets.demo import FILE_NAMES

    d = _abs(spec.demo.out, base) / key
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


def _load_entries(spec: RunSpec, base: Path) -> list[_Entry]:
    from ..data import read_panel
    from ..scoring import score_panel

    probs: list[Problem] = []
    entries: list[_Entry] = []
    multi = len(spec.schemes) > 1
    for i, e in enumerate(spec.schemes):
        where = f"schemes › [{i}] ({e.key})"
        try:
            scheme_path = _scheme_path(e.scheme, base)
            scheme = load_scheme_variant(scheme_path)
            if e.data is None:
                files = _demo_files(spec, Path(e.scheme).stem, base)
                if "data" not in files:
                    raise ReportError(f"no demo panel for scheme '{e.scheme}' in {spec.demo.out}")
            else:
                files = {
                    r: _abs(p, base)
                    for r, p in (
                        ("data", e.data),
                        ("units", e.units),
                        ("targets", e.targets),
                        ("grades", e.grades),
                    )
                    if p
                }
            tables = {r: read_table(p) for r, p in files.items()}
            panel = read_panel(scheme, tables["data"], **{r: t for r, t in tables.items() if r != "data"})
            res = score_panel(scheme, panel)
            scored = sorted(int(y) for y in res.summary["year"].unique())
            years = _select_years(e, scored)
            bad = [y for y in years if y not in scored]
            if bad:
                raise ReportError(f"years {bad} are not scored (scored years: {scored})")
            for c in e.compare:
                load_scheme_variant(_scheme_path(c.scheme, base) if c.scheme else scheme_path, c.set)
            reg = tables["units"].frame if "units" in tables else None
            if spec.synthetic is not None:
                synthetic = spec.synthetic
            else:
                from .pages import _truthy

                synthetic = bool(
                    reg is not None and "synthetic" in reg.columns and _truthy(reg["synthetic"]).any()
                )
            d = res.summary.drop_duplicates("unit")
            if e.units_only:
                missing = sorted(set(e.units_only) - set(d["unit"].astype(str)))
                if missing:
                    raise ReportError(f"units_only: {missing} are not units of the panel")
            entries.append(
                _Entry(
                    spec=e,
                    key=e.key,
                    folder=f"{e.key}/" if multi else "",
                    scheme_path=scheme_path,
                    scheme_sha=sha256(scheme_path),
                    files=files,
                    summary=res.summary,
                    names=dict(zip(d["unit"].astype(str), d["name"].astype(str))),
                    synthetic=synthetic,
                    years=years,
                    change=any(it.rule.type == "change" for _p, it in scheme.flat_items),
                    cross_unit=any(it.rule.type not in PER_UNIT_RULES for _p, it in scheme.flat_items),
                    rows=_row_hashes({r: t.frame for r, t in tables.items()}),
                    label=scheme.label,
                    award_labels={x.id: x.label for x in scheme.outcomes.tiers},
                )
            )
        except AssessKitError as exc:
            probs.append(Problem(where, str(exc)))
    if probs:
        raise ReportError(
            f"run '{spec.name}': {len(probs)} scheme entr{'ies' if len(probs) > 1 else 'y'} cannot be reported",
            probs,
        )
    return entries


def _template(spec: RunSpec, kind: str, base: Path) -> Path:
    p = _abs(spec.templates[kind], base) if kind in spec.templates else NOTEBOOKS / TEMPLATE_FILES[kind]
    if not p.exists():
        raise ReportError(f"notebook template for {kind} pages not found: {p}")
    return p


def plan_run(spec: RunSpec, base: Path | None = None) -> tuple[list[_Entry], list[Job]]:
    """Load every entry (validating all inputs) and list the pages with their keys."""
    base = (base or Path.cwd()).resolve()
    entries = _load_entries(spec, base)
    templates = {k: _template(spec, k, base) for k in TEMPLATE_FILES}
    tsha = {k: sha256(p) for k, p in templates.items()}
    code = code_sha256()
    title = spec.title or spec.name
    jobs: list[Job] = []
    for e in entries:
        files = {r: _rel(p, base) for r, p in e.files.items()}
        inputs = {
            "scheme": _rel(e.scheme_path, base),
            "data": files["data"],
            **{r: files.get(r) for r in ("units", "targets", "grades")},
        }
        rh = e.rows
        common = [code, e.scheme_sha, rh.whole, spec.code, spec.seed]
        all_rows = sorted(rh.by_year.items())
        summary = e.summary
        for y in e.years:
            prev = _prev_years(rh, y) if e.change else []
            year_rows = [rh.by_year.get(y, "")] + [rh.by_year.get(p, "") for p in prev]
            units = sorted(summary.loc[summary["year"] == y, "unit"].astype(str))
            page_units = [
                u for u in units if e.spec.unit_pages and (not e.spec.units_only or u in e.spec.units_only)
            ]
            index_link = "../" * (e.folder.count("/") + 1) + "index.html"
            crumbs_base = ((title, index_link), (f"{e.key} {y}", None))
            for u in page_units:
                params = {**inputs, "unit": u, "year": y, "seed": spec.seed}
                deps = all_rows if e.cross_unit else [rh.by_unit.get(u, ""), year_rows]
                jobs.append(
                    Job(
                        page=f"{e.folder}{y}/{page_stem(u)}.html",
                        kind="unit",
                        scheme=e.key,
                        year=y,
                        unit=u,
                        template=str(templates["unit"]),
                        parameters=params,
                        key=_h("unit", tsha["unit"], common, params, deps),
                        title=f"{e.names.get(u, u)} · {y} · {e.label}",
                        synthetic=e.synthetic,
                        crumbs=(*crumbs_base, (e.names.get(u, u), None)),
                        footer=f"assesskit {__version__} · unit report · {e.key} · {y} · {u}",
                    )
                )
            if e.spec.overview:
                params = {**inputs, "year": y, "unit_pages": page_units, "seed": spec.seed}
                deps = [v for k, v in all_rows if k <= y]
                jobs.append(
                    Job(
                        page=f"{e.folder}{y}/overview.html",
                        kind="overview",
                        scheme=e.key,
                        year=y,
                        unit=None,
                        template=str(templates["overview"]),
                        parameters=params,
                        key=_h("overview", tsha["overview"], common, params, deps),
                        title=f"{e.label} · {y} · overview",
                        synthetic=e.synthetic,
                        crumbs=(*crumbs_base, ("overview", None)),
                        footer=f"assesskit {__version__} · annual overview · {e.key} · {y}",
                    )
                )
            for c in e.spec.compare:
                cyears = e.years if c.years == "all" else (e.years[-1:] if c.years == "latest" else c.years)
                if y not in cyears:
                    continue
                b_path = _scheme_path(c.scheme, base) if c.scheme else e.scheme_path
                params = {
                    **inputs,
                    "year": y,
                    "scheme_b": _rel(b_path, base),
                    "variant_b": dict(c.set),
                    "label_a": e.key,
                    "label_b": c.label or c.id,
                    "seed": spec.seed,
                }
                b_change = any(
                    it.rule.type == "change" for _p, it in load_scheme_variant(b_path, c.set).flat_items
                )
                deps = (
                    all_rows
                    if e.cross_unit
                    else [
                        rh.by_year.get(y, ""),
                        [
                            rh.by_year.get(p, "")
                            for p in (_prev_years(rh, y) if (e.change or b_change) else [])
                        ],
                    ]
                )
                jobs.append(
                    Job(
                        page=f"{e.folder}{y}/compare-{c.id}.html",
                        kind="comparison",
                        scheme=e.key,
                        year=y,
                        unit=None,
                        template=str(templates["comparison"]),
                        parameters=params,
                        key=_h("comparison", tsha["comparison"], common, params, sha256(b_path), deps),
                        title=f"{e.label} · {y} · {e.key} ↔ {c.label or c.id}",
                        synthetic=e.synthetic,
                        crumbs=(*crumbs_base, (f"compare: {c.label or c.id}", None)),
                        footer=f"assesskit {__version__} · scheme comparison · {e.key} · {y} · {c.id}",
                    )
                )
    # what the page frame shows (title, navigation, banner) is part of the key too
    jobs = [replace(j, key=_h(j.key, j.title, j.crumbs, j.footer, j.synthetic)) for j in jobs]
    return entries, jobs


# --------------------------------------------------------------------------- execution
_WORKER: dict[str, Any] = {}


def _worker_init(base: str, kernel: dict[str, Any], code: str) -> None:
    """Set up a worker: a kernel session (started lazily) and one reused HTML exporter."""
    from .html import make_exporter
    from .kernel import KernelSession

    _WORKER.clear()
    _WORKER.update(
        session=KernelSession(base, timeout=kernel["timeout"], startup_timeout=kernel["startup_timeout"]),
        exporter=make_exporter(code),
        kernel=kernel,
        out=None,
    )
    if mp.parent_process() is not None:  # a worker process: shut its kernel down when it exits
        mp.util.Finalize(None, _worker_close, exitpriority=10)


def _worker_close() -> None:
    s = _WORKER.get("session")
    if s is not None:
        s.shutdown()


def _failing_cell(nb) -> tuple[int | None, str]:
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", [])):
            first = next((ln for ln in c.source.splitlines() if ln.strip()), "")
            return i + 1, first.strip()[:80]
    return None, ""


def _stderr(nb) -> tuple[str, ...]:
    return tuple(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stderr"
    )


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _run_job(job: Job, out_dir: str) -> JobResult:
    """Execute one notebook in the worker's kernel and write its page (atomically)."""
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from papermill.parameterize import parameterize_notebook

    from .html import export_html
    from .kernel import KernelError

    w = _WORKER
    t0 = time.perf_counter()
    out = Path(out_dir)
    page, nb_path = out / job.page, out / job.notebook
    error: dict[str, Any] | None = None
    nb = nbformat.v4.new_notebook()
    opts = w["kernel"]
    try:
        nb = nbformat.read(job.template, as_version=4)
        nb.metadata.setdefault("papermill", {})
        for c in nb.cells:
            c.metadata.setdefault("tags", [])
        nb = parameterize_notebook(nb, job.parameters, kernel_name="python3", language="python")
        for c in nb.cells:
            if "injected-parameters" in c.metadata.get("tags", []):
                c.id = "injected-parameters"
        nb.metadata["assesskit"] = {"page": job.page, "key": job.key, "parameters": job.parameters}
        w["session"].prepare(reuse=opts["reuse"], restart_every=opts["restart_every"])
        nb = w["session"].execute(nb)
    except CellExecutionError as exc:
        cell, first = _failing_cell(nb)
        error = {"cell": cell, "source": first, "ename": exc.ename, "evalue": exc.evalue}
    except (CellTimeoutError, DeadKernelError, KernelError, RuntimeError, TimeoutError) as exc:
        cell, first = _failing_cell(nb)
        error = {
            "cell": cell,
            "source": first,
            "ename": type(exc).__name__,
            "evalue": str(exc).strip().splitlines()[0] if str(exc).strip() else "",
        }
        w["session"].shutdown()  # the kernel may be stuck or dead: the next notebook gets a fresh one
    except Exception as exc:  # noqa: BLE001 - isolate any failure to its page
        error = {
            "cell": None,
            "source": "",
            "ename": type(exc).__name__,
            "evalue": str(exc),
            "traceback": traceback.format_exc(),
        }
        w["session"].shutdown()
    nb_text = nbformat.writes(nb)
    if error is None:
        try:
            body = export_html(
                w["exporter"],
                nb,
                title=job.title,
                synthetic=job.synthetic,
                crumbs=job.crumbs,
                footer=job.footer,
            )
            write_outputs(page.parent, {page.name: body, nb_path.name: nb_text})
        except Exception as exc:  # noqa: BLE001
            error = {
                "cell": None,
                "source": "",
                "ename": type(exc).__name__,
                "evalue": f"rendering HTML: {exc}",
            }
    if error is not None:
        where = f"cell {error['cell']} (`{error['source']}`)" if error.get("cell") else "outside the cells"
        error["message"] = f"{job.label}: {where}: {error['ename']}: {error['evalue']}"
        try:
            write_outputs(page.parent, {nb_path.name: nb_text})
        except AssessKitError:
            pass
        _remove(page)  # never leave a stale page for a failed notebook
    return JobResult(
        page=job.page,
        status="ok" if error is None else "failed",
        seconds=round(time.perf_counter() - t0, 3),
        error=error,
        stderr=_stderr(nb),
    )


def _execute(
    jobs: list[Job], out_dir: Path, base: Path, spec: RunSpec, n_jobs: int, progress: bool
) -> list[JobResult]:
    from tqdm.auto import tqdm

    kernel = spec.kernel.model_dump()
    results: list[JobResult] = []
    if not jobs:
        return results
    bar = None
    n_jobs = max(1, min(n_jobs, len(jobs)))
    if n_jobs == 1:
        _worker_init(str(base), kernel, spec.code)
        bar = tqdm(total=len(jobs), desc=f"{spec.name}: notebooks", unit="nb", disable=not progress)
        try:
            for j in jobs:
                r = _run_job(j, str(out_dir))
                results.append(r)
                bar.update(1)
                if r.status == "failed":
                    bar.write(f"FAILED {r.error['message']}")
        finally:
            bar.close()
            _worker_close()
        return results
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    with cf.ProcessPoolExecutor(
        max_workers=n_jobs, mp_context=ctx, initializer=_worker_init, initargs=(str(base), kernel, spec.code)
    ) as pool:
        futures = {pool.submit(_run_job, j, str(out_dir)): j for j in jobs}
        bar = tqdm(total=len(jobs), desc=f"{spec.name}: notebooks ×{n_jobs}", unit="nb", disable=not progress)
        try:
            for f in cf.as_completed(futures):
                j = futures[f]
                try:
                    r = f.result()
                except Exception as exc:  # noqa: BLE001 - a worker died: isolate it to this page
                    r = JobResult(
                        page=j.page,
                        status="failed",
                        seconds=0.0,
                        error={
                            "cell": None,
                            "source": "",
                            "ename": type(exc).__name__,
                            "evalue": str(exc),
                            "message": f"{j.label}: worker failed: {type(exc).__name__}: {exc}",
                        },
                    )
                results.append(r)
                bar.update(1)
                if r.status == "failed":
                    bar.write(f"FAILED {r.error['message']}")
        except BaseException:  # Ctrl-C: drop the queued notebooks instead of running them all
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            bar.close()
    return results


# --------------------------------------------------------------------------- index + manifest
def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "assesskit": __version__}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def _index(spec: RunSpec, entries: list[_Entry], pages: dict[str, dict], failures: list[str]) -> str:
    sections = []
    for e in entries:
        s = e.summary[e.summary["year"].isin(e.years)]
        by_page = {p["page"]: p for p in pages.values() if p["scheme"] == e.key}
        rows = []
        s = s.assign(unit=s["unit"].astype(str))
        order = s.sort_values(["kind", "unit"])["unit"].drop_duplicates()
        for u in order:
            cells = {}
            for r in s[s["unit"] == u].itertuples():
                page = f"{e.folder}{r.year}/{page_stem(u)}.html"
                info = by_page.get(page)
                text = "not scored" if pd.isna(r.total) else f"{r.total:.1f}"
                bits = []
                if not pd.isna(r.rank):
                    bits.append(f"{int(r.rank)}/{int(r.n_ranked)}")
                if r.award:
                    bits.append(e.award_labels.get(r.award, r.award))
                if r.veto:
                    bits.append("veto")
                fail = info["error"]["message"] if info and info["status"] == "failed" else None
                link = page if info and info["status"] == "ok" else None
                cells[int(r.year)] = H.IndexCell(text=text, detail=" · ".join(bits), link=link, failed=fail)
            rows.append((u, e.names.get(u, u), cells))
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
        sections.append(
            H.IndexSection(key=e.key, title=e.label, years=e.years, rows=rows, year_links=year_links)
        )
    synthetic = any(e.synthetic for e in entries)
    n_pages = len(pages)
    footer = f"assesskit {__version__} · run {spec.name} · {n_pages} pages · seed {spec.seed} · manifest.json has the inputs' SHA-256"
    return H.render_index(
        title=spec.title or spec.name,
        synthetic=synthetic,
        sections=sections,
        failures=failures,
        footer=footer,
    )


def _read_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def run_report(
    spec: str | os.PathLike | RunSpec,
    *,
    jobs: int | None = None,
    force: bool = False,
    out: str | os.PathLike | None = None,
    progress: bool = True,
    base: str | os.PathLike | None = None,
) -> RunResult:
    """Build a run's reports: every (unit, year) page, every overview and comparison.

    Parameters
    ----------
    spec : path or RunSpec
        ``params/runs/NAME.yaml`` or an already validated spec.
    jobs : int, optional
        Worker processes, each with its own warm kernel (default: the spec's ``jobs``, else
        the number of CPUs).
    force : bool
        Rebuild every page, even those whose inputs did not change.
    out : path, optional
        Output folder (default: the spec's ``out``, else ``reports/<name>``).
    progress : bool
        Show a progress bar (tqdm, on standard error).
    base : path, optional
        Folder relative paths are taken from (default: the current directory).

    Returns
    -------
    RunResult
        ``.ok`` is False when a page failed; ``.failures`` names unit, year, cell and error.

    Raises
    ------
    ReportError
        When the spec or an input is invalid (nothing is built then).
    """
    t_start = time.perf_counter()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    spec_path = None
    if not isinstance(spec, RunSpec):
        spec_path = Path(spec)
        spec = load_run_spec(spec_path)
    base_dir = Path(base or Path.cwd()).resolve()
    out_dir = Path(out) if out is not None else spec.out_dir
    if not out_dir.is_absolute():
        out_dir = base_dir / out_dir
    if spec.demo is not None:
        from ..datasets.demo import write_demo_data

        demo_out = Path(spec.demo.out)
        ids = [Path(e.scheme).stem for e in spec.schemes if e.data is None]
        write_demo_data(
            demo_out if demo_out.is_absolute() else base_dir / demo_out, seed=spec.demo.seed, schemes=ids
        )
    entries, all_jobs = plan_run(spec, base_dir)
    from ..plotting import setup_cjk_font

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        cjk_font = setup_cjk_font()
    run_warnings = (
        []
        if cjk_font is not None
        else [
            "no CJK font found (install Debian's fonts-wqy-microhei, or set ASSESSKIT_CJK_FONT): "
            "the figures use English labels and unit ids"
        ]
    )
    manifest_path = out_dir / "manifest.json"
    previous = _read_manifest(manifest_path).get("pages", {}) if not force else {}
    todo, kept = [], {}
    for j in all_jobs:
        p = previous.get(j.page)
        if (
            p
            and p.get("key") == j.key
            and p.get("status") == "ok"
            and (out_dir / j.page).exists()
            and (out_dir / j.notebook).exists()
        ):
            kept[j.page] = {**p, "rebuilt": False}
        else:
            todo.append(j)
    # remove the pages of an earlier run that this run no longer has
    current = {j.page for j in all_jobs}
    for page in set(_read_manifest(manifest_path).get("pages", {})) - current:
        target = (out_dir / page).resolve()
        if out_dir.resolve() in target.parents:
            _remove(target)
            _remove(target.with_suffix(".ipynb"))
    n_jobs = jobs or spec.jobs or os.cpu_count() or 1
    t_exec = time.perf_counter()
    results = {r.page: r for r in _execute(todo, out_dir, base_dir, spec, n_jobs, progress)}
    exec_s = time.perf_counter() - t_exec
    built_at = datetime.now(UTC).isoformat(timespec="seconds")
    pages: dict[str, dict] = {}
    for j in all_jobs:
        if j.page in kept:
            pages[j.page] = kept[j.page]
            continue
        r = results[j.page]
        pages[j.page] = {
            "page": j.page,
            "notebook": j.notebook,
            "kind": j.kind,
            "scheme": j.scheme,
            "year": j.year,
            "unit": j.unit,
            "template": Path(j.template).name,
            "parameters": j.parameters,
            "key": j.key,
            "status": r.status,
            "rebuilt": True,
            "seconds": r.seconds,
            "built_at": built_at,
            "error": r.error,
            "stderr": list(r.stderr),
        }
    failures = [p["error"]["message"] for p in pages.values() if p["status"] == "failed"]
    templates = {
        k: {"path": str(_template(spec, k, base_dir)), "sha256": sha256(_template(spec, k, base_dir))}
        for k in TEMPLATE_FILES
    }
    manifest = {
        "run": spec.name,
        "title": spec.title,
        "spec": {
            "path": str(spec_path) if spec_path else None,
            "sha256": sha256(spec_path) if spec_path else None,
            "parameters": spec.model_dump(mode="json"),
        },
        "seed": spec.seed,
        "synthetic": any(e.synthetic for e in entries),
        "cjk_font": cjk_font,
        "warnings": run_warnings,
        "assesskit": __version__,
        "code_sha256": code_sha256(),
        "packages": _versions(),
        "templates": templates,
        "schemes": {
            e.key: {
                "scheme": {"path": str(e.scheme_path), "sha256": e.scheme_sha},
                "inputs": {r: {"path": str(p), "sha256": sha256(p)} for r, p in e.files.items()},
                "years": e.years,
                "synthetic": e.synthetic,
                "folder": e.folder or ".",
            }
            for e in entries
        },
        "timing": {
            "started": started,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - t_start, 2),
            "execution_seconds": round(exec_s, 2),
            "jobs": n_jobs if todo else 0,
            "pages": len(pages),
            "rebuilt": len(todo),
            "skipped": len(kept),
            "failed": len(failures),
        },
        "kernel": spec.kernel.model_dump(),
        "pages": pages,
    }
    index = _index(spec, entries, pages, failures)
    write_outputs(out_dir, {"index.html": index, "manifest.json": manifest})
    frame = pd.DataFrame(
        [
            {
                "page": p["page"],
                "kind": p["kind"],
                "scheme": p["scheme"],
                "year": p["year"],
                "unit": p["unit"],
                "status": p["status"],
                "rebuilt": bool(p.get("rebuilt")),
                "seconds": p.get("seconds"),
                "error": (p.get("error") or {}).get("message"),
            }
            for p in pages.values()
        ],
        columns=["page", "kind", "scheme", "year", "unit", "status", "rebuilt", "seconds", "error"],
    )
    return RunResult(
        out_dir=out_dir,
        index=out_dir / "index.html",
        manifest=manifest_path,
        pages=frame,
        seconds=round(time.perf_counter() - t_start, 2),
        warnings=tuple(run_warnings),
    )


def demo_spec(
    out: str | os.PathLike = "reports/demo", seed: int = 0, data_dir: str | os.PathLike | None = None
) -> RunSpec:
    """The demo run: ``params/runs/demo.yaml`` for every bundled scheme with demo data.

    Each bundled scheme the demo generator covers gets the demo spec's entry (or
    ``years: 2`` when the spec does not list it); the data come from ``data_dir`` (default
    ``<out>/data``, written by :func:`assesskit.datasets.demo.write_demo_data`).
    """
    from ..datasets.demo import FILE_NAMES, YEARS
    from ..scheme import bundled_schemes, schemes_dir

    path = schemes_dir().parent / "runs" / "demo.yaml"
    base = (
        load_run_spec(path)
        if path.exists()
        else RunSpec(name="demo", schemes=[SchemeRun(scheme="x", data="x")])
    )
    listed = {Path(e.scheme).stem: e for e in base.schemes}
    data = Path(data_dir) if data_dir is not None else Path(out) / "data"
    entries = []
    for sid in (p.stem for p in bundled_schemes()):
        if sid not in YEARS:
            continue
        e = listed.get(sid) or SchemeRun(scheme=sid, years=2)
        files = {
            r: data / sid / n for r, n in FILE_NAMES.items() if r != "truth" and (data / sid / n).exists()
        }
        entries.append(e.model_copy(update={r: p.as_posix() for r, p in files.items()}))
    return base.model_copy(update={"schemes": entries, "out": str(out), "seed": seed, "demo": None})
