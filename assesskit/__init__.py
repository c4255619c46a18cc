"""assesskit — target-based performance assessment of administrative units.

Schemes as data (:func:`load_scheme`), a vectorised scoring engine (:func:`score`) that
explains every lost point, and the tables and checks around them.

The package imports lazily (PEP 562): ``import assesskit`` loads only the version and
the exceptions; a public name (``assesskit.score``, ``from assesskit import Scheme``) loads
its module on first use, and so does a subpackage (``assesskit.stats``). This keeps
``assesskit --help`` instant: pandas, pydantic and the scientific stack load only when a
command needs them.
"""

from importlib import import_module as _import_module
from typing import TYPE_CHECKING
from typing import Any as _Any

from ._version import __version__ as __version__
from .exceptions import AssessKitError, AssessKitWarning, DataError, Problem, ReportError, SchemeError

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads these
    from .data import Panel, read_panel, read_table
    from .pipeline import score
    from .scheme import Scheme, bundled_schemes, load_scheme, parse_scheme, scheme_json_schema
    from .scoring import ScoreResult, score_panel

# public name → the module (relative to this package) that defines it
_LAZY: dict[str, str] = {
    "Panel": ".data",
    "read_panel": ".data",
    "read_table": ".data",
    "score": ".pipeline",
    "Scheme": ".scheme",
    "bundled_schemes": ".scheme",
    "load_scheme": ".scheme",
    "parse_scheme": ".scheme",
    "scheme_json_schema": ".scheme",
    "ScoreResult": ".scoring",
    "score_panel": ".scoring",
}

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


def __getattr__(name: str) -> _Any:
    """Load a public name's module, or a subpackage, on first access (PEP 562)."""
    if name.startswith("_"):  # dunder probes (__wrapped__, __path__ …) are not modules
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name in _LAZY:
        value = getattr(_import_module(_LAZY[name], __name__), name)
    else:
        try:
            value = _import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise  # the submodule exists but something it imports is missing
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    """The public names (loaded or not) and the version."""
    return sorted({*__all__, "__version__"})
