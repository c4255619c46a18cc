"""Reproducible reports: parameterized notebooks per unit and year, rendered to HTML.

- :func:`run_report` — the runner behind ``assesskit report --run params/runs/NAME.yaml``:
  executes every unit page, overview and comparison of a run in warm kernels (one per
  worker process), renders self-contained HTML, writes ``index.html`` and ``manifest.json``,
  and rebuilds only the pages whose inputs changed (:mod:`assesskit.report.runner`);
- :func:`load_run_spec` — the validated run spec (:mod:`assesskit.report.spec`);
- :func:`load_context`, :class:`UnitPage`, :class:`OverviewPage`, :class:`ComparisonPage` —
  what the notebook templates in ``notebooks/`` call (:mod:`assesskit.report.pages`).
"""

from .pages import (
    ComparisonPage,
    Html,
    OverviewPage,
    ReportContext,
    UnitPage,
    load_context,
    load_scheme_variant,
    page_stem,
    table_html,
)
from .runner import ReportInterrupted, RunResult, plan_run, run_report
from .spec import RunSpec, load_run_spec, parse_run_spec

__all__ = [
    "ComparisonPage",
    "Html",
    "OverviewPage",
    "ReportContext",
    "ReportInterrupted",
    "RunResult",
    "RunSpec",
    "UnitPage",
    "load_context",
    "load_run_spec",
    "load_scheme_variant",
    "page_stem",
    "parse_run_spec",
    "plan_run",
    "run_report",
    "table_html",
]
