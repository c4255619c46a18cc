"""The command line starts at once: a command imports only what it uses.

Each check runs in a fresh interpreter (a subprocess), because the test session itself has
imported everything long before. It runs the click command in that process and reports
which of the watched libraries ended up in ``sys.modules``. No timings are asserted here
(the machine is shared); docs/guide/startup-and-peer-conventions.md gives the measured wall times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import assesskit

ROOT = Path(__file__).resolve().parents[1]

# the scientific and notebook stack: never on the path of --help, score or validate
HEAVY = (
    "scipy",
    "matplotlib",
    "statsmodels",
    "SALib",
    "nbconvert",
    "papermill",
    "nbclient",
    "dask",
    "distributed",
    "ipywidgets",
)
# the data stack: not even loaded by --help / --version
DATA_STACK = ("pandas", "pydantic", "numpy", "pyarrow", "yaml", "openpyxl")

# Runs in the subprocess: the command given as JSON in argv[1], in-process, then the watched
# top-level packages present in sys.modules as the last line of standard output.
_PROBE = """
import json, sys
args, watched = json.loads(sys.argv[1]), json.loads(sys.argv[2])
from assesskit.cli import main
code = 0
if args is not None:
    try:
        main.main(args=args, prog_name="assesskit", standalone_mode=False)
    except SystemExit as exc:
        code = exc.code
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(watched))
print("\\n@@" + json.dumps({"code": code, "loaded": loaded}))
"""


def _probe(args: list[str] | None, watched=HEAVY + DATA_STACK) -> dict:
    """Import assesskit.cli in a fresh interpreter, run ``args`` (if any) and return
    ``{"code": exit status, "loaded": watched packages imported}``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args), json.dumps(list(watched))],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.rstrip().splitlines()[-1]
    assert last.startswith("@@"), proc.stdout + proc.stderr
    return json.loads(last[2:])


def test_the_probe_sees_what_a_command_imports():
    """The probe is not blind: `datasets` reads its catalogue with pandas, and a library
    imported by the probe's own command is reported."""
    out = _probe(["datasets"])
    assert out["code"] == 0
    assert "pandas" in out["loaded"]


def test_importing_the_cli_loads_no_heavy_library():
    out = _probe(None)
    assert out["loaded"] == [], f"import assesskit.cli loads {out['loaded']}"


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["score", "--help"], ["validate", "--help"], ["report", "--help"]],
    ids=lambda a: " ".join(a),
)
def test_help_and_version_load_neither_pandas_nor_pydantic(args):
    out = _probe(args)
    assert out["code"] == 0
    assert out["loaded"] == [], f"assesskit {' '.join(args)} loads {out['loaded']}"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    from assesskit.datasets.demo import write_demo_data

    return write_demo_data(tmp_path_factory.mktemp("demo"), schemes=["district_1000"]) / "district_1000"


def test_scoring_the_district_demo_year_loads_no_heavy_library(demo_dir, tmp_path):
    out_dir = tmp_path / "out"
    args = ["score", "--scheme", "district_1000", "--year", "2013", "--out", str(out_dir)]
    for opt, name in [("--data", "panel"), ("--units", "units"), ("--grades", "grades")]:
        args += [opt, str(demo_dir / f"{name}.synthetic.csv")]
    args += ["--targets", str(demo_dir / "targets.csv")]
    out = _probe(args, watched=HEAVY + ("pandas",))
    assert out["code"] == 0
    assert (out_dir / "summary.csv").exists()
    assert out["loaded"] == ["pandas"], f"assesskit score loads {out['loaded']}"


def test_validate_loads_no_heavy_library(demo_dir):
    scheme = str(ROOT / "params" / "schemes" / "district_1000.yaml")
    data = ["--units", str(demo_dir / "units.synthetic.csv"), "--targets", str(demo_dir / "targets.csv")]
    data += ["--grades", str(demo_dir / "grades.synthetic.csv")]
    for args in (
        ["validate", scheme],
        ["validate", "--scheme", "district_1000", *data, str(demo_dir / "panel.synthetic.csv")],
    ):
        out = _probe(args, watched=HEAVY + ("pydantic",))
        assert out["code"] == 0, args
        assert out["loaded"] == ["pydantic"], f"assesskit {' '.join(args)} loads {out['loaded']}"


def test_import_assesskit_is_lazy():
    """`import assesskit` loads the version and the exceptions only; a public name loads
    its module when first used."""
    code = (
        "import sys, assesskit\n"
        "before = sorted(m for m in sys.modules if m.startswith('assesskit'))\n"
        "assert 'pandas' not in sys.modules and 'pydantic' not in sys.modules, 'eager'\n"
        "from assesskit import Scheme\n"
        "print(before, 'assesskit.scheme' in sys.modules, Scheme.__module__, assesskit.stats.__name__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        "['assesskit',",
        "'assesskit._version',",
        "'assesskit.exceptions']",
        "True",
        "assesskit.scheme",
        "assesskit.stats",
    ]


def test_every_public_name_resolves_and_dir_lists_it():
    from assesskit import data, pipeline, scheme, scoring

    expected = {
        "Panel": data.Panel,
        "read_panel": data.read_panel,
        "read_table": data.read_table,
        "score": pipeline.score,
        "Scheme": scheme.Scheme,
        "bundled_schemes": scheme.bundled_schemes,
        "load_scheme": scheme.load_scheme,
        "parse_scheme": scheme.parse_scheme,
        "scheme_json_schema": scheme.scheme_json_schema,
        "ScoreResult": scoring.ScoreResult,
        "score_panel": scoring.score_panel,
    }
    for name, obj in expected.items():
        assert getattr(assesskit, name) is obj, name
    assert set(assesskit.__all__) == set(expected) | {
        "AssessKitError",
        "AssessKitWarning",
        "DataError",
        "Problem",
        "ReportError",
        "SchemeError",
    }
    assert set(dir(assesskit)) == set(assesskit.__all__) | {"__version__"}
    namespace: dict = {}
    exec("from assesskit import *", namespace)
    assert namespace["score"] is pipeline.score and namespace["SchemeError"] is assesskit.SchemeError


def test_unknown_names_fail_as_attributes_and_as_imports():
    with pytest.raises(AttributeError, match="No assesskit attribute no_such_thing"):
        assesskit.no_such_thing  # noqa: B018
    with pytest.raises(AttributeError, match="No assesskit attribute __wrapped__"):
        assesskit.__wrapped__  # noqa: B018
    with pytest.raises(ImportError, match="cannot import name 'no_such_thing'"):
        from assesskit import no_such_thing  # noqa: F401


def test_importing_papermill_does_not_import_the_report_pages():
    """papermill loads the warm engine's entry point whenever it is imported, wherever
    assesskit is installed: that must cost neither pandas nor the page helpers."""
    code = (
        "import sys, papermill.engines as pe\n"
        "print(pe.papermill_engines.get_engine('assesskit').__module__)\n"
        "print(sorted(m for m in ('pandas', 'scipy', 'assesskit.report.pages', 'assesskit.report.runner') if m in sys.modules))\n"
        "import assesskit.report as r\n"
        "print(r.run_report.__module__, r.UnitPage.__name__, r.cluster.__name__)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "assesskit.report.papermill_entry",
        "[]",
        "assesskit.report.runner UnitPage assesskit.report.cluster",
    ]


def test_explore_is_the_callable_subpackage():
    """``assesskit.explore(...)`` opens the explorer and ``assesskit.explore.Design`` stays reachable."""
    import importlib

    explore = importlib.import_module("assesskit.explore")
    assert assesskit.explore is explore
    assert callable(assesskit.explore)
    assert assesskit.explore.Design is importlib.import_module("assesskit.explore.design").Design
