"""assesskit — target-based performance assessment of administrative units.

Schemes as data (:func:`load_scheme`), a vectorised scoring engine (:func:`score`) that
explains every lost point, and the tables and checks around them.
"""

from ._version import __version__ as __version__
from .data import Panel, read_panel, read_table
from .exceptions import AssessKitError, AssessKitWarning, DataError, Problem, ReportError, SchemeError
from .pipeline import score
from .scheme import Scheme, bundled_schemes, load_scheme, parse_scheme, scheme_json_schema
from .scoring import ScoreResult, score_panel

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
