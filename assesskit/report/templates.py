"""Notebook templates of a run: where they are, that they are notebooks, what they read.

A template is checked when the run spec is loaded, before anything runs: it must be a
regular file that nbformat reads as a version-4 notebook, with a code cell tagged
``parameters`` (where the runner injects the page's values after it), and its declared
inputs (``metadata.assesskit.inputs``, see :mod:`assesskit.report.keys`) must be names the
runner knows. Messages name the template and what is wrong, never the file's content: a
template path may point anywhere (``/etc/passwd``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .._io import sha256
from ..exceptions import Problem, ReportError
from .keys import DEFAULT_INPUTS, INPUTS, KIND_INPUTS

__all__ = ["NOTEBOOKS", "TEMPLATE_FILES", "Template", "check_templates", "load_template"]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
TEMPLATE_FILES = {
    "unit": "unit_report.ipynb",
    "overview": "annual_overview.ipynb",
    "comparison": "scheme_comparison.ipynb",
}
MAX_TEMPLATE_BYTES = 20 << 20
"""A notebook template larger than this is refused (templates are stored without outputs)."""


@dataclass(frozen=True)
class Template:
    """A checked template: its file, SHA-256 and the inputs its pages read."""

    kind: str
    path: Path
    sha256: str
    inputs: tuple[str, ...]
    declared: bool  # False: no declaration, DEFAULT_INPUTS apply


def template_path(templates: dict[str, str], kind: str, base: Path) -> Path:
    """The template file of ``kind``: the spec's (relative to ``base``) or the bundled one."""
    if kind in templates:
        p = Path(templates[kind])
        return p if p.is_absolute() else base / p
    return NOTEBOOKS / TEMPLATE_FILES[kind]


def _read_notebook(p: Path):
    """nbformat's notebook, or a ReportError saying why not (never quoting the file)."""
    import nbformat

    if not p.exists():
        raise ReportError(f"{p}: no such notebook file")
    if not p.is_file():
        raise ReportError(f"{p}: not a regular file; a template is a Jupyter notebook (.ipynb)")
    try:
        size = p.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise ReportError(f"{p}: {size:,} bytes is too large for a notebook template")
        raw = p.read_bytes()
    except OSError as exc:
        raise ReportError(f"{p}: cannot read the template ({exc.strerror})") from None
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception:  # noqa: BLE001 - nbformat's messages may quote the file: say it in our words
        raise ReportError(
            f"{p}: not a Jupyter notebook (nbformat cannot read it as JSON notebook); a template is an .ipynb file"
        ) from None
    try:
        nbformat.validate(nb)
    except Exception:  # noqa: BLE001 - the schema error quotes the content
        raise ReportError(f"{p}: not a valid notebook (it does not follow the nbformat 4 schema)") from None
    return nb


def load_template(path: str | os.PathLike, kind: str) -> Template:
    """Check one template and read its input declaration.

    Raises
    ------
    ReportError
        When the file is not a notebook, has no cell tagged ``parameters``, or declares
        inputs the runner does not know.
    """
    p = Path(path)
    nb = _read_notebook(p)
    if not any(
        c.cell_type == "code" and "parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells
    ):
        raise ReportError(
            f"{p}: no code cell tagged `parameters`; the runner injects each page's values after it "
            "(tag the cell that sets the defaults)"
        )
    meta = nb.metadata.get("assesskit", {})
    declared = isinstance(meta, dict) and "inputs" in meta
    inputs = meta.get("inputs") if declared else list(DEFAULT_INPUTS[kind])
    if not isinstance(inputs, list) or not all(isinstance(x, str) for x in inputs):
        raise ReportError(f"{p}: metadata.assesskit.inputs must be a list of names")
    unknown = sorted(set(inputs) - set(INPUTS))
    if unknown:
        raise ReportError(f"{p}: metadata.assesskit.inputs: unknown {unknown}; known: {', '.join(INPUTS)}")
    wrong = sorted(set(inputs) - KIND_INPUTS[kind])
    if wrong:
        raise ReportError(f"{p}: metadata.assesskit.inputs: {wrong} cannot be read by {kind} pages")
    return Template(kind, p, sha256(p), tuple(sorted(set(inputs))), declared)


def check_templates(templates: dict[str, str], base: Path, where: str = "run spec") -> dict[str, Template]:
    """Check every template of a run (the spec's and the bundled ones), reporting all problems.

    Raises
    ------
    ReportError
        Naming ``where`` (the spec file), ``templates › <kind>`` and the file for each problem.
    """
    out: dict[str, Template] = {}
    probs: list[Problem] = []
    for kind in TEMPLATE_FILES:
        try:
            out[kind] = load_template(template_path(templates, kind, base), kind)
        except ReportError as exc:
            probs.append(Problem(f"{where} › templates › {kind}", str(exc)))
    if probs:
        raise ReportError(
            f"{where}: {len(probs)} notebook template{'s' if len(probs) > 1 else ''} cannot be used", probs
        )
    return out
