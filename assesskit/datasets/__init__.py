"""Data shipped with assesskit.

``examples/<scheme id>/`` holds a small, hand-made, clearly synthetic example for each
bundled scheme (``panel.csv``, ``units.csv`` and, where the scheme needs them,
``targets.csv`` and ``grades.csv``), used by the tests and by ``assesskit demo``.
"""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent / "examples"

_ROLES = {"data": "panel.csv", "units": "units.csv", "targets": "targets.csv", "grades": "grades.csv"}


def example_ids() -> list[str]:
    """Scheme ids that have a bundled example."""
    return sorted(p.name for p in EXAMPLES.iterdir() if (p / "panel.csv").exists()) if EXAMPLES.exists() else []


def example_paths(scheme_id: str) -> dict[str, Path]:
    """The example's files by role (``data``, ``units``, ``targets``, ``grades``), for
    passing straight to :func:`assesskit.score` as keyword arguments."""
    folder = EXAMPLES / scheme_id
    if not (folder / "panel.csv").exists():
        raise KeyError(f"no bundled example for scheme '{scheme_id}' (have: {', '.join(example_ids())})")
    return {role: folder / name for role, name in _ROLES.items() if (folder / name).exists()}
