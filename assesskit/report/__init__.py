"""Reproducible reports: parameterized notebooks per unit and year, rendered to HTML.

- :func:`run_report` — the runner behind ``assesskit report --run params/runs/NAME.yaml``:
  executes every unit page, overview and comparison of a run in warm kernels (one per
  worker process), renders self-contained HTML, writes ``index.html`` and ``manifest.json``,
  and rebuilds only the pages whose inputs changed (:mod:`assesskit.report.runner`);
- :func:`load_run_spec` — the validated run spec (:mod:`assesskit.report.spec`);
- :func:`load_context`, :class:`UnitPage`, :class:`OverviewPage`, :class:`ComparisonPage` —
  what the notebook templates in ``notebooks/`` call (:mod:`assesskit.report.pages`).

The package imports lazily (PEP 562, as ``assesskit`` does): a name loads its module on
first use. papermill loads the warm engine's entry point (``.papermill_entry``) whenever it
is imported, in any process where assesskit is installed; importing this package must not
cost that process pandas, scipy and the page helpers (~0.7 s).
"""

from pkgutil import iter_modules as _iter_modules
from typing import TYPE_CHECKING

import lazy_loader as _lazy

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads these
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

# public name → the module that defines it; the modules themselves load on first access too
__getattr__, _lazy_dir, _lazy_all = _lazy.attach(
    __name__,
    submodules=[m.name for m in _iter_modules(__path__) if not m.name.startswith("_")],
    submod_attrs={
        "pages": [
            "ComparisonPage",
            "Html",
            "OverviewPage",
            "ReportContext",
            "UnitPage",
            "load_context",
            "load_scheme_variant",
            "page_stem",
            "table_html",
        ],
        "runner": ["ReportInterrupted", "RunResult", "plan_run", "run_report"],
        "spec": ["RunSpec", "load_run_spec", "parse_run_spec"],
    },
)

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


def __dir__() -> list[str]:
    """The public names, loaded or not."""
    return sorted(__all__)
