"""What a page is built with: the assesskit code it runs and the packages' versions.

- :func:`code_sha256` — a digest of the assesskit sources a page depends on
  (:func:`code_files`, found by walking the imports from the page helpers, the kernel
  set-up, the HTML export and the runner) and the reference tables the pages read; a page
  is rebuilt when it changes, and a change elsewhere in the package rebuilds nothing;
- :func:`versions` — Python's, assesskit's and the page stack's package versions.

Both run on the client and on every Dask worker (which must match the client), so this
module imports only the standard library: a worker checks its versions without loading
pandas.
"""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path

from .._version import __version__

__all__ = ["PACKAGES", "code_files", "code_paths", "code_sha256", "versions"]

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


def versions() -> dict[str, str]:
    """Python's, assesskit's and each of ``PACKAGES``' installed version."""
    out = {"python": platform.python_version(), "assesskit": __version__}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


_IMPORTS_SEEN: dict[tuple[Path, str, int, int], frozenset[Path]] = {}
"""``_imports`` by (file, module, mtime, size): parsing the package's ~75 modules costs
~0.6 s, and a run asks for :func:`code_sha256` on the client and on every worker; an edited
file has a new mtime or size, so a long-lived process (a notebook session) sees its changes."""


def _imports(path: Path, module: str, root: Path) -> frozenset[Path]:
    """The assesskit source files one module imports (anywhere in it, lazily too)."""
    st = path.stat()
    key = (path, module, st.st_mtime_ns, st.st_size)
    if key not in _IMPORTS_SEEN:
        _IMPORTS_SEEN[key] = frozenset(_parse_imports(path, module, root))
    return _IMPORTS_SEEN[key]


def _parse_imports(path: Path, module: str, root: Path) -> set[Path]:
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


def code_paths() -> list[str]:
    """What :func:`~assesskit.report.provenance.code_sha256` hashes: :func:`~assesskit.report.provenance.code_files` and the bundled reference tables the
    pages read (e.g. the national SRB series), as paths relative to the package."""
    root = Path(__file__).resolve().parents[1]
    ref = sorted((root / "datasets" / "reference").glob("*.csv"))
    return [p.relative_to(root).as_posix() for p in [*code_files(), *ref]]


def code_sha256(paths: list[str] | None = None) -> str:
    """SHA-256 over :func:`~assesskit.report.provenance.code_paths` (a change elsewhere in the package rebuilds nothing).

    ``paths`` (relative to the package) hashes those files of this installation instead of
    walking the imports: a Dask worker checks the client's list, which gives the client's
    digest exactly when every file on it is the same here (the walk reads only those files,
    so it would find the same list). A file missing here is hashed as missing.
    """
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for rel in code_paths() if paths is None else paths:
        try:
            data = (root / rel).read_bytes()
        except OSError:
            data = b"\x00missing"
        h.update(rel.encode() + b"\x00" + data + b"\x00")
    return h.hexdigest()
