"""Composite indices: the COINr import, and the old home of the composite kernels and analyses.

A composite-index scheme is an ordinary scheme whose items use the ``normalise`` rule and
whose sections aggregate by a weighted mean (``aggregate: mean | geometric | harmonic``).
Its pieces now live by layer:

- kernels (``normalise``, ``aggregate``, ``tree_nodes``, ``aggregate_tree``,
  ``check_aggregable``, ``competition_ranks``): :mod:`assesskit.kernel.aggregate`,
  re-exported here (``competition_ranks`` is deprecated: the one ranking is
  :func:`assesskit.kernel.rank.rank_within`);
- analyses (``node_scores``, ``leave_level_out``, ``node_alpha``, ``uncertainty``,
  ``composite_counterpart``): :mod:`assesskit.analyses.composite`; effective weights:
  :func:`assesskit.stats.diagnostics.effective_weights` (``nominal_weight`` is the old
  ``effective_weight``, ``effective_weight`` the old ``variance_share``; the deprecated
  ``effective_weights`` here keeps the old columns). The old names here are deprecated
  aliases (a ``DeprecationWarning``), imported on first use so this module imports nothing
  above the kernel. Uncertainty and leave-a-level-out of an index run in the sensitivity
  engine (:mod:`assesskit.sensitivity`, factor kinds ``weight_noise``, ``normalisation``,
  ``aggregation``); ``uncertainty`` and ``leave_level_out`` are deprecated wrappers of it;
- :func:`import_coinr`, which turns COINr's ``iData``/``iMeta`` into a scheme:
  :mod:`assesskit.importers.coinr` (the old name here is a deprecated alias).
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from .kernel.aggregate import (  # noqa: F401  (re-exported: the kernels' old import path)
    AGGREGATES,
    SEP,
    TreeNode,
    aggregate,
    aggregate_tree,
    check_aggregable,
    competition_ranks,
    normalise,
    tree_nodes,
)

_MOVED = {
    # old name: (module, new name)
    "node_scores": ("assesskit.analyses.composite", "node_scores"),
    "leave_one_out": ("assesskit.analyses.composite", "leave_level_out"),
    "LeaveOneOut": ("assesskit.analyses.composite", "LeaveOneOut"),
    "cronbach_alpha": ("assesskit.analyses.composite", "node_alpha"),
    "effective_weights": ("assesskit.analyses.composite", "_legacy_effective_weights"),
    "uncertainty": ("assesskit.analyses.composite", "uncertainty"),
    "Uncertainty": ("assesskit.analyses.composite", "Uncertainty"),
    "composite_counterpart": ("assesskit.analyses.composite", "composite_counterpart"),
    "import_coinr": ("assesskit.importers.coinr", "import_coinr"),
    "IMETA_COLUMNS": ("assesskit.importers.coinr", "IMETA_COLUMNS"),
}


def __getattr__(name: str) -> Any:
    """Deprecated aliases of the analyses that moved, imported lazily (no import cycle)."""
    if name not in _MOVED:
        raise AttributeError(f"module 'assesskit.composite' has no attribute '{name}'")
    module, new = _MOVED[name]
    warnings.warn(
        f"assesskit.composite.{name} is deprecated; use {module}.{new}",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(module), new)
