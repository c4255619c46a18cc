"""The documentation's own machinery: the scheme-page generator and the build wiring.

The docs build itself (every tutorial executed, warnings as errors) runs in ``make docs``,
which ``make test`` runs before pytest; these tests are the fast checks of the pieces.
"""

import importlib.util
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from assesskit import load_scheme

ROOT = Path(__file__).resolve().parents[1]
SCHEMES = ROOT / "params" / "schemes"


@pytest.fixture(scope="module")
def pages():
    spec = importlib.util.spec_from_file_location("scheme_pages", ROOT / "docs" / "_ext" / "scheme_pages.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_terms_and_escaping(pages):
    assert pages._terms(["births", "-deaths"]) == "births − deaths"
    assert pages._terms(["-a", "b"]) == "−a + b"
    assert pages._terms(["policy_births"]) == "policy_births"
    assert pages.esc("a|b *c* <x> $1  \n  y") == r"a\|b \*c\* \<x\> \$1 y"
    assert pages.code("a|b`c") == "`a¦b'c`"


def test_header_comment_stops_at_the_first_key(pages):
    head = pages.header_comment(SCHEMES / "foshan_2006.yaml")
    assert head[0] == "佛山市人口与计划生育目标管理责任制 (seed 002, part 5)"
    assert head[1] == ""
    assert not any(line.startswith("id:") for line in head)


def test_foshan_page_states_what_the_file_encodes(pages):
    text = pages.render(SCHEMES / "foshan_2006.yaml", load_scheme("foshan_2006"))
    assert text.startswith("# foshan_2006: 佛山市人口与计划生育目标管理责任制")
    # the four items, each worth 25 points, with their rules; the default >= stated
    for item in ("birth_rate_item", "natural_growth_item", "policy_rate_item", "srb_item"):
        assert f"| `{item}` |" in text
    assert text.count("| 25 |") == 4
    assert '`threshold` `{"op": ">=", "target": {"table": "policy_rate_target"}}`' in text
    assert '`threshold` `{"op": "<=", "target": {"table": "birth_rate_target"}}`' in text
    assert "`(births − deaths) / (population) × 1000`" in text
    # the eight scheme-level assumptions, numbered, and the veto
    assert "\n8. The assessment also covers" in text and "\n9. " not in text
    assert "| `task_missed` |" in text and "| `veto` |" in text
    assert "```{literalinclude} ../../params/schemes/foshan_2006.yaml" in text


def test_write_pages_writes_every_bundled_scheme_and_removes_stale_ones(pages, tmp_path):
    (tmp_path / "schemes").mkdir()
    (tmp_path / "schemes" / "index.md").write_text("# Bundled schemes\n", encoding="utf-8")
    (tmp_path / "schemes" / "gone_1999.md").write_text("# a scheme that was removed\n", encoding="utf-8")
    pages.write_pages(SimpleNamespace(srcdir=str(tmp_path)))
    names = sorted(p.name for p in (tmp_path / "schemes").glob("*.md"))
    assert names == sorted(["index.md", *(f"{p.stem}.md" for p in SCHEMES.glob("*.yaml"))])
    assert (tmp_path / "schemes" / "index.md").read_text(encoding="utf-8") == "# Bundled schemes\n"
    assert len(names) == 7  # six bundled schemes and the index


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_builds_the_docs_strictly():
    dry = subprocess.run(["make", "-n", "-B", "test"], cwd=ROOT, capture_output=True, text=True, check=True)
    sphinx = [line for line in dry.stdout.splitlines() if "-m sphinx" in line]
    assert len(sphinx) == 1
    for flag in (" -W ", " --keep-going ", " -n ", " docs docs/_build/html"):
        assert flag in sphinx[0], flag
    assert dry.stdout.index("-m sphinx") < dry.stdout.index("-m pytest")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_docs_with_another_environment_sets_nothing_up():
    dry = subprocess.run(
        ["make", "-n", "-B", "docs", "BIN=/elsewhere/bin"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "-m venv" not in dry.stdout and "apt-get" not in dry.stdout
    assert "/elsewhere/bin/python -m sphinx" in dry.stdout


def test_generated_docs_are_not_in_git():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    for pattern in ("docs/_build/", "docs/api/generated/", "docs/schemes/*.md", "!docs/schemes/index.md"):
        assert pattern in ignored
