"""Run specifications: ``params/runs/NAME.yaml`` → a frozen, validated :class:`RunSpec`.

A run names one or more schemes with their data, the years and units to report, and how
to execute the notebooks. Relative paths are relative to the folder ``assesskit report``
is started from (the project root, like every command in the documentation). Unknown keys are
errors, and every problem is reported at once with the file and the key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .._io import read_yaml
from ..exceptions import Problem, ReportError

__all__ = [
    "Comparison",
    "DemoData",
    "KernelOptions",
    "RunSpec",
    "SchemeRun",
    "load_run_spec",
    "parse_run_spec",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Comparison(_Model):
    """A scheme comparison page per year: the entry's scheme (A) against scheme B.

    ``scheme`` defaults to the entry's own scheme, so ``set`` alone gives a variant:
    ``{id: no_vetoes, label: 无一票否决, set: {vetoes: []}}``.
    """

    id: str = Field(description="Short id, used in the file name compare-<id>.html.")
    label: str | None = Field(None, description="Name of scheme B on the page (default: the id).")
    scheme: str | None = Field(
        None, description="Scheme B: bundled id or file (default: the entry's scheme)."
    )
    set: dict[str, Any] = Field(default_factory=dict, description="Top-level keys of scheme B replaced.")
    years: list[int] | Literal["all", "latest"] = Field("latest", description="Years compared.")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("use letters, digits, '_', '-' and '.' only (it becomes a file name)")
        return v


class SchemeRun(_Model):
    """One scheme and its data."""

    scheme: str = Field(description="Bundled scheme id or path to a scheme file.")
    id: str | None = Field(
        None, description="Folder name in a multi-scheme run (default: the scheme file's stem)."
    )
    data: str | None = Field(
        None, description="Panel file; omit with `demo:` to use the synthetic demo panel."
    )
    units: str | None = None
    targets: str | None = None
    grades: str | None = None
    years: list[int] | Literal["all", "latest"] | int = Field(
        "all", description="Years to report: a list, 'all' scored years, 'latest', or N = the latest N."
    )
    units_only: list[str] | None = Field(None, description="Build unit pages for these units only.")
    unit_pages: bool = True
    overview: bool = True
    compare: list[Comparison] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is not None and not _NAME.match(v):
            raise ValueError("use letters, digits, '_', '-' and '.' only (it becomes a folder name)")
        return v

    @field_validator("years")
    @classmethod
    def _years(cls, v):
        if isinstance(v, int) and not isinstance(v, bool) and v < 1:
            raise ValueError("the number of latest years must be at least 1")
        if isinstance(v, list) and not v:
            raise ValueError("an empty list of years; give years, 'all' or 'latest'")
        return v

    @property
    def key(self) -> str:
        return self.id or Path(self.scheme).stem


class DemoData(_Model):
    """Generate the synthetic demo panels before building (for entries without ``data``)."""

    seed: int = 0
    out: str = Field("reports/demo/data", description="Folder for the generated panels.")


class KernelOptions(_Model):
    """How notebooks are executed."""

    reuse: bool = Field(True, description="Keep a warm kernel per worker, reset between notebooks.")
    restart_every: int = Field(
        0, ge=0, description="Also start a fresh kernel every K notebooks (0 = never)."
    )
    timeout: int = Field(600, ge=1, description="Seconds one cell may run.")
    startup_timeout: int = Field(120, ge=1, description="Seconds a kernel may take to start.")


class RunSpec(_Model):
    """A report run (``params/runs/NAME.yaml``)."""

    name: str = Field(description="Run name: the output folder is reports/<name> unless `out` is given.")
    title: str | None = None
    out: str | None = None
    seed: int = Field(0, description="Recorded in the manifest and passed to the notebooks.")
    demo: DemoData | None = None
    schemes: list[SchemeRun] = Field(min_length=1)
    jobs: int | None = Field(None, ge=1, description="Worker processes (default: the number of CPUs).")
    scheduler: str | None = Field(
        None,
        description="Dask scheduler address (tcp://host:8786) to build the pages on; "
        "default: a local cluster of `jobs` workers. `--scheduler` wins.",
    )
    code: Literal["folded", "hidden", "shown"] = Field(
        "folded", description="Code in the HTML: folded (hidden, one click away), hidden (left out) or shown."
    )
    templates: dict[Literal["unit", "overview", "comparison"], str] = Field(default_factory=dict)
    kernel: KernelOptions = Field(default_factory=KernelOptions)
    synthetic: bool | None = Field(
        None, description="Force the synthetic-data banner on or off (default: from the registry)."
    )
    lang: Literal["zh", "en", "bilingual"] = Field(
        "bilingual",
        description="Language of the pages' labels, headings, tables and figures: zh, en or bilingual "
        "(`assesskit report --lang` wins).",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("use letters, digits, '_', '-' and '.' only (it becomes a folder name)")
        return v

    @model_validator(mode="after")
    def _check(self) -> RunSpec:
        keys = [e.key for e in self.schemes]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"schemes: {', '.join(dup)} appear more than once; give each entry its own `id`")
        no_data = [e.key for e in self.schemes if e.data is None]
        if no_data and self.demo is None:
            raise ValueError(
                f"schemes {', '.join(no_data)} have no `data`: give a panel file, or `demo:` for the synthetic demo panels"
            )
        return self

    @property
    def out_dir(self) -> Path:
        return Path(self.out) if self.out else Path("reports") / self.name


def _where(loc: tuple) -> str:
    return " › ".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc) or "(top level)"


def parse_run_spec(raw: Any, where: str = "<run spec>") -> RunSpec:
    """Validate already-parsed YAML into a :class:`RunSpec`, reporting every problem."""
    if not isinstance(raw, dict):
        raise ReportError(f"{where}: a run spec must be a mapping of keys, got {type(raw).__name__}")
    try:
        return RunSpec.model_validate(raw)
    except ValidationError as exc:
        probs = []
        for e in exc.errors():
            loc = tuple(
                x
                for x in e["loc"]
                if not (isinstance(x, str) and x.startswith(("function-after", "literal")))
            )
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                msg = "unknown key"
            probs.append(Problem(f"{where} › {_where(loc)}", msg))
        raise ReportError(
            f"{where}: invalid run spec ({len(probs)} problem{'s' if len(probs) > 1 else ''})", probs
        ) from None


def load_run_spec(path: str | os.PathLike, base: str | os.PathLike | None = None) -> RunSpec:
    """Read and validate a run spec file, and check its notebook templates.

    Parameters
    ----------
    path : path
        The spec file.
    base : path, optional
        Folder the spec's relative paths are taken from (default: the current directory).

    Raises
    ------
    ReportError
        When the file is missing, is not YAML, has invalid keys (each named), or names a
        template that is not a notebook with a cell tagged ``parameters``.
    """
    from .templates import check_templates

    p = Path(path)
    spec = parse_run_spec(read_yaml(p, ReportError, "run spec"), where=str(p))
    check_templates(dict(spec.templates), Path(base or Path.cwd()).resolve(), where=str(p))
    return spec
