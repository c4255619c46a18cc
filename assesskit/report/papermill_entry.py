"""The ``papermill.engine`` entry point of the warm engine, importable without papermill.

papermill loads its entry points while ``papermill.engines`` itself is being imported. The
engine (:class:`assesskit.report.engine.WarmEngine`) subclasses papermill's nbclient engine,
so an entry point naming it directly is a circular import whenever
``assesskit.report.engine`` is imported before papermill (it imports papermill, which loads
the entry point, which needs the half-imported module). This stand-in imports nothing at
load time and hands papermill's three engine calls to the real class on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WarmEngine"]


class WarmEngine:
    """papermill's view of :class:`assesskit.report.engine.WarmEngine` (see the module)."""

    @staticmethod
    def _engine() -> type:
        from .engine import WarmEngine as engine

        return engine

    @classmethod
    def execute_notebook(cls, *args: Any, **kwargs: Any):
        """papermill's ``Engine.execute_notebook``, run by the warm engine."""
        return cls._engine().execute_notebook(*args, **kwargs)

    @classmethod
    def nb_kernel_name(cls, *args: Any, **kwargs: Any) -> str:
        """papermill's ``Engine.nb_kernel_name``."""
        return cls._engine().nb_kernel_name(*args, **kwargs)

    @classmethod
    def nb_language(cls, *args: Any, **kwargs: Any) -> str:
        """papermill's ``Engine.nb_language``."""
        return cls._engine().nb_language(*args, **kwargs)
