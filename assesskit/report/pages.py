"""What the report templates call: the cached scoring context and the page helpers.

A template section in ``notebooks/`` is a few lines of public API: take rows from the
:class:`ReportContext`, compute with :mod:`assesskit.stats` or :mod:`assesskit.sensitivity`,
draw with :mod:`assesskit.plotting`, and :func:`show` the figures and tables. The page
helpers (:class:`UnitPage`, :class:`OverviewPage`, :class:`ComparisonPage` and the tables of
:mod:`assesskit.report.tables`) only lay out what they are given. Everything is
deterministic: the same inputs give byte-identical blocks, which is what lets the runner
reuse a warm kernel and still produce the pages a fresh kernel would.

What each page reads (the runner's incremental rebuild relies on it; see
:mod:`assesskit.report.runner`):

- a **unit page** (unit u, year y) reads u's own rows in every year (its trend, its
  compliance and sex-ratio series, its data-quality checks) and every unit's rows of year y
  (rank of N, peer median, the sex-ratio peers and their Holm family) — plus year y − 1 when
  the scheme has change rules, whose points depend on the previous year;
- an **annual overview** (year y) reads every row up to year y (its trend tests run over
  the years up to y), and the scheme's sensitivity spec ``params/sensitivity/<scheme>.yaml``
  when it exists;
- a **scheme comparison** (year y) reads the rows of year y (and y − 1 for change rules).

Each section computes its statistics on exactly those rows
(:meth:`ReportContext.rows_of_unit`, :meth:`ReportContext.rows_of_year`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from .._io import read_yaml, sha256
from ..data import Panel
from ..exceptions import ReportError
from ..pipeline import score_files
from ..rules import RULE_TYPES
from ..scheme import Scheme, load_scheme, parse_scheme, resolve_scheme_path
from ..scoring import ScoreResult
from .present_compare import ComparisonPage
from .present_overview import OverviewPage
from .present_unit import UnitPage
from .tables import FIG_DPI, Html, esc, figure_html, fmt, note, plot_safe, show, table_html

__all__ = [
    "FIG_DPI",
    "PER_UNIT_RULES",
    "ComparisonPage",
    "Html",
    "OverviewPage",
    "ReportContext",
    "UnitPage",
    "esc",
    "figure_html",
    "load_context",
    "load_scheme_variant",
    "note",
    "page_stem",
    "show",
    "table_html",
    "template_modules",
]

PER_UNIT_RULES = frozenset(
    n for n, t in RULE_TYPES.items() if not t.peer
)  # the registry knows which compare peers
"""Rule types whose points depend on the unit's own row only (and the previous year for
``change``). A scheme with any other rule type (e.g. a normalisation over units) makes every
unit's score depend on the other units: its unit pages then depend on all rows."""

RESERVED_STEMS = frozenset({"index", "overview", "manifest"})

_fmt = fmt  # the names earlier versions used inside the package
_plot_safe = plot_safe


def template_modules() -> tuple[ModuleType, ...]:
    """The modules the bundled templates compute and draw with, imported.

    Listing them here also puts them in the runner's code hash (it follows this module's
    imports), so a change to a statistic or a figure rebuilds the pages that show it.
    """
    from .. import plotting, sensitivity, stats
    from ..plotting import diagnostics, funnel, scores, srb
    from ..plotting import sensitivity as plot_sensitivity

    return (stats, sensitivity, plotting, diagnostics, funnel, scores, srb, plot_sensitivity)


def page_stem(unit: str) -> str:
    """A file-name stem for a unit id that cannot leave its folder or collide.

    Letters (any script), digits, ``-`` and ``_`` are kept, everything else becomes ``_``;
    when anything was changed, or the id is a reserved name (``index``, ``overview``…) or
    starts with ``compare-``, a short hash of the id is appended, so ``../x`` → ``___x-…``
    and two different ids never share a file (where file names ignore case, as on Windows
    and macOS, ``T01`` and ``t01`` would: the runner refuses such ids before it builds a page).
    """
    raw = str(unit)
    stem = "".join(ch if (ch.isalnum() or ch in "-_") else "_" for ch in raw)[:80] or "_"
    if stem != raw or stem.lower() in RESERVED_STEMS or stem.lower().startswith("compare-"):
        stem = f"{stem}-{hashlib.sha1(raw.encode('utf-8')).hexdigest()[:8]}"
    return stem


# --------------------------------------------------------------------------- context
def load_scheme_variant(scheme: str | os.PathLike, set_: Mapping[str, Any] | None = None) -> Scheme:
    """A scheme, or a variant of it with some top-level keys replaced.

    Parameters
    ----------
    scheme : str or path
        A bundled scheme id or a scheme file.
    set_ : mapping, optional
        Top-level keys to replace before validation, e.g. ``{"vetoes": []}`` (the same
        scheme without its vetoes). The variant is validated like any scheme file.
    """
    if not set_:
        return load_scheme(scheme)
    path = resolve_scheme_path(scheme)
    raw = read_yaml(path, ReportError, "scheme")  # duplicate keys refused, as for every YAML we read
    if not isinstance(raw, dict):
        raise ReportError(f"{path}: a scheme file must be a mapping of keys")
    raw = {**raw, **dict(set_)}
    return parse_scheme(raw, where=f"{path} (variant: set {', '.join(sorted(set_))})")


def _truthy(s: pd.Series) -> np.ndarray:
    if s.dtype == bool:
        return s.to_numpy()
    txt = s.astype(str).str.strip().str.lower()
    return txt.isin(["true", "1", "yes", "y", "t"]).to_numpy()


@dataclass(frozen=True, eq=False)
class ReportContext:
    """Everything a report page needs, computed once per scheme and inputs.

    Attributes
    ----------
    scheme : Scheme
    result : ScoreResult
        The scheme scored on every year of the panel it can score.
    panel : Panel
        The validated inputs (``panel.data`` holds every year, history included).
    registry : DataFrame
        The unit registry as given (``unit``, ``name``…, ``synthetic`` when present).
    synthetic : bool
        True when any registry row says ``synthetic``.
    """

    scheme: Scheme
    result: ScoreResult
    panel: Panel
    registry: pd.DataFrame
    synthetic: bool

    @cached_property
    def names(self) -> dict[str, str]:
        """Unit id → display name (the id when the registry has no name)."""
        d = self.panel.data.drop_duplicates("unit")
        return dict(zip(d["unit"].astype(str), d["name"].astype(str)))

    @cached_property
    def plot_names(self) -> dict[str, str]:
        """Names for figures: the registry's (Chinese) names when a CJK font is available,
        else the unit ids (so no glyph is ever missing)."""
        from ..plotting import setup_cjk_font

        cjk = setup_cjk_font() is not None
        return {u: plot_safe(n if cjk else u) for u, n in self.names.items()}

    @cached_property
    def named(self) -> dict[str, Any]:
        """The scheme's labelled objects by id: lines, sections, items and adjustments
        (their ``label`` and ``label_en``), for showing an item or section id in a language."""
        return {**{a.id: a for a in self.scheme.adjustments}, **self.scheme.nodes}

    @property
    def summary(self) -> pd.DataFrame:
        return self.result.summary

    @property
    def data(self) -> pd.DataFrame:
        return self.panel.data

    @cached_property
    def years(self) -> list[int]:
        """The scored years."""
        return sorted(int(y) for y in self.summary["year"].unique())

    @cached_property
    def has_change_rules(self) -> bool:
        return any(it.rule.type == "change" for _p, it in self.scheme.flat_items)

    @cached_property
    def cross_unit(self) -> bool:
        """True when some rule's points depend on other units (not a per-unit rule type)."""
        return any(it.rule.type not in PER_UNIT_RULES for _p, it in self.scheme.flat_items)

    def rows_of_year(self, year: int, *, upto: bool = False) -> pd.DataFrame:
        """Panel rows of one year (or of every year up to it)."""
        d = self.data
        return d[d["year"] <= year] if upto else d[d["year"] == year]

    def rows_of_unit(self, unit: str) -> pd.DataFrame:
        """Panel rows of one unit, every year."""
        return self.data[self.data["unit"] == unit]

    def has(self, *columns: str) -> bool:
        return all(c in self.data.columns for c in columns)

    def label_of(self, table: str, id_: str, lang: str | None = None) -> str:
        """Label of an award tier, single award or warning id (``label_en`` under ``lang="en"``)."""
        from ..i18n import pick

        o = self.scheme.outcomes
        pool = {"award": o.tiers, "single_awards": o.single_awards, "warning": o.warnings}[table]
        found = {x.id: pick(x.label, x.label_en, lang) for x in pool}
        return "; ".join(found.get(p.strip(), p.strip()) for p in str(id_).split(";") if p.strip())

    def veto_text(self, reason: object, lang: str | None = None) -> str:
        """A veto, not-scored or ineligibility reason (the vetoes' labels, ``"; "``-joined) in
        ``lang``: each label is replaced by its ``label_en`` under ``en``."""
        from ..i18n import check_lang

        text = "" if reason is None or (isinstance(reason, float) and reason != reason) else str(reason)
        if check_lang(lang) != "en" or not text:
            return text
        names = {v.label: v.label_en or v.label for v in self.scheme.vetoes}
        return "; ".join(names.get(p, p) for p in text.split("; "))

    def link(self, unit: str) -> str:
        """Relative link from a page of a year to the unit's page of the same year."""
        return f"{page_stem(unit)}.html"


# The scored contexts of this process, least recently used first. Two entries: a comparison
# page holds two contexts; a warm kernel builds many pages of one run from one of them.
_CACHE: OrderedDict[tuple, ReportContext] = OrderedDict()
_CACHE_SIZE = 2


def _file_key(path: str | os.PathLike | None) -> tuple[str, str] | None:
    """A file's identity for the cache: its content's SHA-256 and its suffix (which chooses
    the reader), never its folder or name (the runner may hand a worker its own copy of an
    input under another path)."""
    if path is None:
        return None
    p = Path(path)
    try:
        return (p.suffix.lower(), sha256(p))
    except OSError:
        return (p.suffix.lower(), f"unreadable:{p}")  # reading it for scoring reports the problem


def load_context(
    scheme: str | os.PathLike,
    data: str | os.PathLike,
    *,
    units: str | os.PathLike | None = None,
    targets: str | os.PathLike | None = None,
    grades: str | os.PathLike | None = None,
    variant: Mapping[str, Any] | None = None,
) -> ReportContext:
    """Load, validate and score once (:func:`assesskit.pipeline.score_files`); later calls
    with the same file contents reuse it.

    The cache is keyed by each file's SHA-256 (not its name, path or time), so a changed file
    is always read again and a copy of a file under another path is not; it keeps the two
    most recently used contexts. The pages never modify a context (tested), so sharing one
    between the notebooks of a kernel is safe: treat it as read-only.

    Parameters
    ----------
    scheme : str or path
        Bundled scheme id or scheme file.
    data, units, targets, grades : path
        The panel and optional registry, targets and grades (see :func:`assesskit.score`).
    variant : mapping, optional
        Top-level scheme keys to replace (see :func:`load_scheme_variant`).
    """
    key = (
        _file_key(resolve_scheme_path(scheme)),
        json.dumps(variant or {}, sort_keys=True, default=str),
        _file_key(data),
        _file_key(units),
        _file_key(targets),
        _file_key(grades),
    )
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    scored = score_files(
        load_scheme_variant(scheme, variant), data, units=units, targets=targets, grades=grades
    )
    s, res, panel = scored.inputs.scheme, scored.result, scored.inputs.panel
    if units is not None:
        registry = scored.inputs.tables["units"].frame.copy()
        registry["unit"] = registry["unit"].astype(str)
    else:
        registry = panel.data[["unit", "name"]].drop_duplicates("unit").reset_index(drop=True)
    synthetic = bool("synthetic" in registry.columns and _truthy(registry["synthetic"]).any())
    ctx = ReportContext(scheme=s, result=res, panel=panel, registry=registry, synthetic=synthetic)
    _CACHE[key] = ctx
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return ctx
