"""Sphinx configuration for the assesskit documentation (``make docs``).

The build is strict: ``make docs`` runs ``sphinx-build -W --keep-going -n`` (warnings are
errors, every broken cross-reference is reported, all of them in one run), and myst-nb
executes every tutorial notebook and fails the build on a cell error. It works offline:
no intersphinx (CI reaches the package registries only), no web fonts or CDN files.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # autodoc imports this checkout's assesskit, not an installed one
sys.path.insert(0, str(DOCS / "_ext"))

import assesskit  # noqa: E402

project = "assesskit"
author = "the assesskit authors"
copyright = "2026, the assesskit authors"  # noqa: A001 (Sphinx's name)
release = assesskit.__version__
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "scheme_pages",  # docs/_ext/scheme_pages.py: one page per params/schemes/*.yaml, at build time
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "_templates", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# --------------------------------------------------------------------------- MyST / myst-nb
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath", "attrs_inline"]
myst_heading_anchors = 4  # [text](page.md#a-heading) links are checked like any reference
# "more than one target found" (ref.python): a short name in a docstring's type text, such
# as ``n`` or ``spec``, matches several documented objects; Sphinx links the first. That is
# an ambiguity, not a broken reference, so it is not an error.
# "Non-consecutive header level increase" (myst.header) is a matter of style; the guide pages
# are written by several people in parallel, so it does not fail the build either.
suppress_warnings = ["ref.python", "myst.header"]

# Every tutorial is executed on every build (no cache: CI starts from a fresh clone) and a
# cell error fails the build. The kernel imports the checkout through PYTHONPATH (the
# Makefile sets it), so the tutorials run against the code being documented.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 120
nb_execution_show_tb = True
nb_execution_excludepatterns = []
nb_merge_streams = True
nb_kernel_rgx_aliases = {".*": "python3"}

# --------------------------------------------------------------------------- API reference
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = False
autodoc_default_options = {"members": True, "show-inheritance": False, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_pydantic_model_show_json = False
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_param = False  # types stay text in the parameter list (see the nitpick note below)
napoleon_preprocess_types = False

# Nitpicky mode (-n) reports every cross-reference that does not resolve. Without network
# there is no intersphinx, so references to types *outside* assesskit (builtins, numpy,
# pandas, matplotlib, pydantic, the standard library, typing constructs in signatures)
# cannot resolve; they are ignored by the patterns below. References to assesskit's own
# names are still checked: a moved or misspelt assesskit name fails the build.
_external = (
    r"(builtins\.)?(int|float|str|bool|bytes|dict|list|tuple|set|frozenset|object|type|None|"
    r"complex|slice|callable|Callable|Iterable|Iterator|Sequence|Mapping|Any|Literal|"
    r"Path|PathLike|Exception|ValueError|OSError|TypeError|KeyError|RuntimeError|Warning|"
    r"DeprecationWarning|UserWarning|NoneType|ellipsis|optional|default)"
)
_modules = (
    r"(np|numpy|pd|pandas|plt|matplotlib|mpl|scipy|statsmodels|pydantic|pydantic_core|yaml|"
    r"click|openpyxl|pyarrow|SALib|nbformat|nbclient|papermill|jupyter_client|ipykernel|"
    r"typing|typing_extensions|collections|collections\.abc|pathlib|os|io|datetime|enum|"
    r"concurrent|multiprocessing|threading|subprocess|signal|dataclasses|functools|abc|"
    r"types|numbers|contextlib|tempfile|json|hashlib|logging|weakref|queue|_io|annotationlib)"
)
nitpick_ignore_regex = [
    # a py:class reference that does not name assesskit is the free text of a numpydoc type
    # field ("ndarray (k, d)", "dict item id → float", "Long item table") or a third-party
    # annotation: not checkable offline, so not checked. Explicit roles (:func:, :mod:,
    # :meth:, :attr:, :data:, :obj:) and every assesskit.* class are checked.
    (r"py:class", r"(?!.*assesskit).*"),
    (r"py:.*", _external),
    (r"py:.*", _modules + r"(\..*)?"),
    (r"py:.*", r"annotated_types\..*"),
    # internal classes that appear only in signatures of documented functions
    (r"py:class", r"assesskit\.report\.(plan|templates|present_legacy|execute)\..*"),
    # a generic annotation that Sphinx failed to split (``tuple[Problem, ...]``)
    (r"py:class", r".*\[.*"),
    # module constants without a doc-comment are not in the reference (see the docs report)
    (r"py:data", r".*\b(RULE_TYPES|STATUS|SOBOL_COLUMNS|ALIASES|DEFAULT_LANG|LANGS|LEAGUE_COLUMNS)"),
    (r"py:meth", r"str\..*"),
    (r"py:class", r"assesskit\.scheme\.Annotated"),
    # private names (a leading underscore in any part) are not documented by design
    (r"py:.*", r"assesskit\.(.*\.)?_[A-Za-z].*"),
    (
        r"py:.*",
        r"(DataFrame|Series|Index|ndarray|Axes|Figure|ArrayLike|NDArray|BaseModel|"
        r"StringDType|dtype|Generator|RandomState|Timestamp|Categorical|FieldInfo|"
        r"ConfigDict|Workbook|NotebookNode|KernelManager|Any|Self)",
    ),
]

# --------------------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"assesskit {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False


# --------------------------------------------------------------------------- re-exported names
def _home(dotted: str) -> str | None:
    """Where the object named ``dotted`` is defined (``assesskit.score`` → its home module)."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        if cut == len(parts):
            return dotted  # a module
        rest = parts[cut:]
        for i, name in enumerate(rest):
            obj = getattr(obj, name, None)
            if obj is None:
                return None
            if isinstance(obj, type):  # a class: its attributes are documented under its home
                home = ".".join([obj.__module__, obj.__qualname__, *rest[i + 1 :]])
                return home if home.startswith("assesskit.") else None
        home = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
        return home if home.startswith("assesskit.") else None
    return None


def _resolve_reexport(app, env, node, contnode):
    """Resolve a reference to an assesskit name where that name is documented.

    The reference documents each name once, in its home module. Docstrings also refer to
    re-exports (``assesskit.score`` is ``assesskit.pipeline.score``) and to names imported
    into their own module (:func:`load_inputs` in :mod:`assesskit.pipeline`, relative
    :mod:`rank` in :mod:`assesskit.kernel.aggregate`); these are looked up where Python
    finds them. Anything that still does not resolve stays a broken reference and fails
    the build.
    """
    if node.get("refdomain") != "py":
        return None
    raw = node.get("reftarget", "").lstrip("~.")
    py = env.get_domain("py")
    known = py.objects
    if raw.startswith("assesskit."):
        candidates = [raw]
    else:
        parts = (node.get("py:module") or "").split(".")
        candidates = [
            ".".join([*parts[:i], raw]) for i in range(len(parts), 0, -1) if parts[0] == "assesskit"
        ]
    if not candidates:  # no module context (an autosummary line): a unique assesskit name
        hits = [k for k in known if k.startswith("assesskit.") and k.endswith("." + raw)]
        candidates = hits if len(hits) == 1 else []
    for cand in candidates:
        home = cand if cand in known else _home(cand)
        if home and home in known:
            for role in (node["reftype"], "obj"):
                found = py.resolve_xref(env, node["refdoc"], app.builder, role, home, node, contnode)
                if found is not None:
                    return found
    return None


def setup(app):
    app.connect("missing-reference", _resolve_reexport)
