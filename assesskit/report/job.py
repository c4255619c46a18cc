"""One page to build: what the plan gives a worker (kept free of pandas, for the workers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Job"]


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
    inputs: tuple[str, ...] = ()  # what the template declares it reads
    files: tuple[str, ...] = ()  # the files it reads (checked unchanged when it is recorded)

    @property
    def label(self) -> str:
        what = f"unit {self.unit!r}" if self.unit is not None else self.kind
        return f"{self.scheme} {self.year} {what}"

    @property
    def notebook(self) -> str:
        return self.page[: -len(".html")] + ".ipynb"
