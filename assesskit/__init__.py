"""assesskit — target-based performance assessment of administrative units.

Schemes as data (:func:`load_scheme`), a vectorised scoring engine (:func:`score`) that
explains every lost point, and the tables and checks around them.

The package imports lazily (PEP 562): ``import assesskit`` loads only the version and
the exceptions; a public name (``assesskit.score``, ``from assesskit import Scheme``) loads
its module on first use, and so does a subpackage (``assesskit.stats``). This keeps
``assesskit --help`` instant: pandas, pydantic and the scientific stack load only when a
command needs them.
"""

from pkgutil import iter_modules as _iter_modules
from typing import TYPE_CHECKING

import lazy_loader as _lazy

from ._version import __version__ as __version__
from .exceptions import AssessKitError, AssessKitWarning, DataError, Problem, ReportError, SchemeError

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads these
    from .data import Panel, read_panel, read_table
    from .pipeline import score
    from .scheme import Scheme, bundled_schemes, load_scheme, parse_scheme, scheme_json_schema
    from .scoring import ScoreResult, score_panel

# public name → the module that defines it; every submodule (``assesskit.stats``) loads on
# first access too (lazy_loader, the scientific Python packages' mechanism for this)
__getattr__, _lazy_dir, _lazy_all = _lazy.attach(
    __name__,
    submodules=[m.name for m in _iter_modules(__path__) if not m.name.startswith("_")],
    submod_attrs={
        "data": ["Panel", "read_panel", "read_table"],
        "pipeline": ["score"],
        "scheme": ["Scheme", "bundled_schemes", "load_scheme", "parse_scheme", "scheme_json_schema"],
        "scoring": ["ScoreResult", "score_panel"],
    },
)

__all__ = [
    "AssessKitError",
    "AssessKitWarning",
    "DataError",
    "Panel",
    "Problem",
    "ReportError",
    "Scheme",
    "SchemeError",
    "ScoreResult",
    "bundled_schemes",
    "load_scheme",
    "parse_scheme",
    "read_panel",
    "read_table",
    "scheme_json_schema",
    "score",
    "score_panel",
]


def __dir__() -> list[str]:
    """The public names (loaded or not) and the version."""
    return sorted({*__all__, "__version__"})
