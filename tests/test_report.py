"""Reports: run specs, the warm-kernel runner, incremental rebuilds, failures, safety, browser.

The kernel-based tests share one small run (Foshan's synthetic panel, two years, two
units whose ids and names are hostile) built once per module with a warm kernel; the other
builds (fresh kernels, the incremental rebuild, failures) are kept as small as possible.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from assesskit.cli import main
from assesskit.datasets.demo import YEARS, make_demo_data
from assesskit.exceptions import ReportError
from assesskit.report import load_run_spec, page_stem, parse_run_spec, plan_run, run_report
from assesskit.report.runner import code_files, demo_spec

ROOT = Path(__file__).resolve().parents[1]
BAD_ID = "../x"
XSS_ID = "<script>alert(1)</script>"
BAD_NAME = '<img src=x onerror="window.__xss=1">$x$'
XSS_NAME = "<script>window.__xss=1</script>"
HOSTILE = [BAD_ID, XSS_ID]


# --------------------------------------------------------------------------- helpers
def write_panel(
    folder: Path, rename: dict[str, str] | None = None, names: dict[str, str] | None = None
) -> None:
    """Foshan's synthetic demo panel with some unit ids and names replaced."""
    p = make_demo_data(0, ["foshan_2006"])["foshan_2006"]
    folder.mkdir(parents=True, exist_ok=True)
    rename = rename or {}
    for role, df in p.tables().items():
        df = df.assign(unit=df["unit"].replace(rename))
        if role == "units" and names:
            df = df.assign(name=df["unit"].map(names).fillna(df["name"]))
        df.to_csv(folder / f"{role}.csv", index=False)


def write_spec(base: Path, **extra) -> Path:
    spec = {
        "name": "t",
        "out": "out",
        "schemes": [
            {
                "scheme": "foshan_2006",
                "data": "data/data.csv",
                "units": "data/units.csv",
                "targets": "data/targets.csv",
                **extra.pop("entry", {}),
            }
        ],
        **extra,
    }
    path = base / "run.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def thin_template(path: Path, body: str) -> Path:
    """A minimal unit template: the parameters cell, then ``body``."""
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    params = nbformat.v4.new_code_cell(
        'scheme = data = units = targets = grades = None\nunit = "x"\nyear = 0\nseed = 0'
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    for i, c in enumerate(nb.cells):
        c.id = f"t{i}"
    nbformat.write(nb, path)
    return path


def pages_of(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.html"))}


def outputs_of(nb_path: Path) -> list:
    nb = nbformat.read(nb_path, as_version=4)
    return [(c.cell_type, c.source, c.get("execution_count"), c.get("outputs")) for c in nb.cells]


# --------------------------------------------------------------------------- no kernel
def test_spec_errors_name_file_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "../evil",
                "colour": "red",
                "schemes": [{"scheme": "foshan_2006", "years": [], "typo": 1}],
                "kernel": {"restart_every": -1},
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(ReportError) as e:
        load_run_spec(path)
    text = str(e.value)
    assert str(path) in text
    for key in ("name", "colour", "schemes › [0] › years", "schemes › [0] › typo", "kernel › restart_every"):
        assert key in text, key
    assert "unknown key" in text


def test_spec_yaml_error_and_missing_data(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\nschemes: [\n", encoding="utf-8")
    with pytest.raises(ReportError, match=r"broken.yaml: broken YAML \(line \d+, column \d+\)"):
        load_run_spec(bad)
    with pytest.raises(ReportError, match="have no `data`"):
        parse_run_spec({"name": "x", "schemes": [{"scheme": "foshan_2006"}]})
    with pytest.raises(ReportError, match="absent.yaml: no such run spec file"):
        load_run_spec(tmp_path / "absent.yaml")


def test_cli_report_invalid_spec_exits_2(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: r\nschemes: [{scheme: foshan_2006, data: absent.csv}]\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["report", "--run", str(path)])
    assert res.exit_code == 2
    assert "absent.csv" in res.output and "foshan_2006" in res.output


def test_page_stem_is_safe_and_unique():
    stems = {
        u: page_stem(u) for u in [BAD_ID, XSS_ID, "a/b", "a_b", "overview", "index", "hutang", "湖塘镇", ".."]
    }
    assert stems["hutang"] == "hutang" and stems["湖塘镇"] == "湖塘镇"
    assert len(set(stems.values())) == len(stems)
    for u, s in stems.items():
        assert re.fullmatch(r"[\w-]+", s), (u, s)
        assert s not in ("overview", "index") and not s.startswith(".")


def test_params_and_demo_spec(tmp_path):
    from assesskit.datasets.demo import write_demo_data

    spec = load_run_spec(ROOT / "params" / "runs" / "demo.yaml")
    assert spec.demo is not None and spec.jobs == 2
    bundled = sorted(p.stem for p in (ROOT / "params" / "schemes").glob("*.yaml"))
    # the demo writes its panels first, then plans the run over the files it wrote
    write_demo_data(tmp_path / "data", seed=0, schemes=[s for s in bundled if s in YEARS])
    demo = demo_spec(tmp_path, 0)
    ids = [e.scheme for e in demo.schemes]
    assert ids == [s for s in bundled if s in YEARS]
    assert all(e.data and e.data.startswith((tmp_path / "data").as_posix()) for e in demo.schemes)


@pytest.mark.parametrize("name", ["unit_report", "annual_overview", "scheme_comparison"])
def test_templates_are_thin_and_stored_without_outputs(name):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    for c in code:
        assert c.outputs == [] and c.execution_count is None
    for c in code[1:]:
        assert len(c.source.splitlines()) <= 6
        assert not re.search(r"^\s*(def|class|for|while|import (?!assesskit))\b", c.source, re.M), c.source
        imports = re.findall(r"^\s*from (\S+) import", c.source, re.M)
        assert all(m.startswith("assesskit") for m in imports)


def test_code_hash_covers_what_pages_import():
    files = {p.relative_to(ROOT / "assesskit").as_posix() for p in code_files()}
    assert {"report/pages.py", "scoring.py", "stats/proportions.py", "plotting/srb.py"} <= files
    assert "cli.py" not in files


def test_code_hash_of_the_clients_file_list_equals_the_walk_and_sees_edits(tmp_path):
    """A Dask worker hashes the client's list of code files; the import walk is cached on
    each file's mtime and size, so an edited module is read again."""
    from assesskit.report.provenance import _imports, code_paths, code_sha256

    assert code_sha256(code_paths()) == code_sha256()
    assert code_sha256([*code_paths(), "report/no_such_module.py"]) != code_sha256()
    root = tmp_path / "assesskit"
    root.mkdir()
    for name in ("scoring.py", "data.py"):
        (root / name).write_text("", encoding="utf-8")
    mod = root / "m.py"
    mod.write_text("from . import scoring\n", encoding="utf-8")
    assert _imports(mod, "assesskit.m", root) == {root / "scoring.py"}
    mod.write_text("from . import scoring, data\n", encoding="utf-8")
    assert _imports(mod, "assesskit.m", root) == {root / "scoring.py", root / "data.py"}


def test_keys_ignore_row_order_and_follow_dependencies(tmp_path):
    """Planning only: which pages a change of one unit's data touches."""
    write_panel(tmp_path / "data")
    spec = load_run_spec(write_spec(tmp_path, entry={"years": [2009, 2010]}))
    _, jobs = plan_run(spec, tmp_path)
    keys = {j.page: j.key for j in jobs}
    panel = pd.read_csv(tmp_path / "data" / "data.csv")
    panel.sample(frac=1, random_state=1).to_csv(tmp_path / "data" / "data.csv", index=False)
    assert {j.page: j.key for j in plan_run(spec, tmp_path)[1]} == keys
    m = (panel["unit"] == "nanhai") & (panel["year"] == 2009)
    panel.loc[m, "policy_births"] -= 1
    panel.to_csv(tmp_path / "data" / "data.csv", index=False)
    changed = {j.page for j in plan_run(spec, tmp_path)[1] if keys[j.page] != j.key}
    expected = (
        {f"2009/{u}.html" for u in ("chancheng", "gaoming", "nanhai", "sanshui", "shunde")}  # 2009's ranking
        | {
            f"2010/{u}.html" for u in ("chancheng", "gaoming", "nanhai", "sanshui", "shunde")
        }  # change rule: 2009 is 2010's previous year
        | {"2009/overview.html", "2010/overview.html"}
    )
    assert changed == expected
    panel.loc[(panel["unit"] == "nanhai") & (panel["year"] == 2010), "policy_births"] -= 1
    panel.to_csv(tmp_path / "data" / "data.csv", index=False)
    keys = {j.page: j.key for j in plan_run(spec, tmp_path)[1]}
    panel.loc[(panel["unit"] == "nanhai") & (panel["year"] == 2006), "policy_births"] -= 1
    panel.to_csv(tmp_path / "data" / "data.csv", index=False)
    changed = {j.page for j in plan_run(spec, tmp_path)[1] if keys[j.page] != j.key}
    # 2006 is no reported year's previous year: only nanhai's own pages (its trend) and the overviews
    assert changed == {"2009/nanhai.html", "2010/nanhai.html", "2009/overview.html", "2010/overview.html"}


def test_unit_ids_differing_only_in_case_are_refused(tmp_path):
    """`Nanhai` and `nanhai` would write one file on Windows and macOS: refused when planning."""
    write_panel(tmp_path / "data", rename={"chancheng": "Nanhai"})
    spec = load_run_spec(write_spec(tmp_path, entry={"years": [2010]}))
    with pytest.raises(ReportError) as err:
        plan_run(spec, tmp_path)
    assert "differ only in case: 'Nanhai' and 'nanhai'" in str(err.value)
    assert "foshan_2006" in str(err.value)  # the scheme entry is named
    # leaving one of them out of the pages is enough
    spec = load_run_spec(write_spec(tmp_path, entry={"years": [2010], "units_only": ["nanhai", "shunde"]}))
    assert {j.page for j in plan_run(spec, tmp_path)[1]} == {
        "2010/nanhai.html",
        "2010/shunde.html",
        "2010/overview.html",
    }


# --------------------------------------------------------------------------- one warm build
@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """Two years, two hostile units, overviews and a comparison, built with one warm kernel."""
    base = tmp_path_factory.mktemp("warm")
    write_panel(
        base / "data",
        rename={"chancheng": BAD_ID, "gaoming": XSS_ID},
        names={BAD_ID: BAD_NAME, XSS_ID: XSS_NAME},
    )
    entry = {
        "years": 2,
        "units_only": HOSTILE,
        "compare": [{"id": "no-vetoes", "label": "无否决", "set": {"vetoes": []}}],
    }
    spec = write_spec(base, entry=entry, title="test <run>")
    result = run_report(spec, jobs=1, base=base, progress=False)
    assert result.ok, result.failures
    return base, spec, result


def test_warm_build_pages_index_manifest(warm):
    base, _spec, result = warm
    out = base / "out"
    pages = pages_of(out)
    expected = {f"{y}/{page_stem(u)}.html" for y in (2009, 2010) for u in HOSTILE}
    expected |= {"2009/overview.html", "2010/overview.html", "2010/compare-no-vetoes.html", "index.html"}
    assert set(pages) == expected
    assert result.n_built == 7 and len(result.pages) == 7
    # executed notebooks beside the pages; nothing written outside the output folder
    for page in expected - {"index.html"}:
        assert (out / page).with_suffix(".ipynb").exists()
    assert sorted(p.relative_to(base).parts[0] for p in base.rglob("*.html")) == ["out"] * len(expected)
    index = pages["index.html"]
    for page in expected - {"index.html"}:
        assert f'href="{page}"' in index, page
    for html in pages.values():
        assert "<script" not in html.lower()  # no script at all, hostile or not
        assert not re.search(r'(src|href)="(https?:)?//', html)  # self-contained
        assert "SYNTHETIC DATA" in html  # the registry says synthetic
        assert XSS_NAME not in html and BAD_NAME not in html
        assert "Traceback (most recent" not in html and "output_error" not in html
    unit_page = pages[f"2010/{page_stem(XSS_ID)}.html"]
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in unit_page
    assert unit_page.count("<img ") >= 5  # sections, trend, SRB series, SRB peers, compliance
    assert '<nav class="ak-toc"><strong>Contents</strong>' in unit_page
    assert '<details class="ak-code"><summary>code</summary>' in unit_page  # code folded, not shown
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["seed"] == 0 and m["synthetic"] is True
    assert len(m["schemes"]["foshan_2006"]["scheme"]["sha256"]) == 64
    assert set(m["schemes"]["foshan_2006"]["inputs"]) == {"data", "units", "targets"}
    assert all(len(t["sha256"]) == 64 for t in m["templates"].values())
    assert {"papermill", "nbclient", "nbconvert", "pandas", "matplotlib"} <= set(m["packages"])
    assert m["timing"]["rebuilt"] == 7 and m["timing"]["failed"] == 0
    assert all(p["status"] == "ok" and p["seconds"] > 0 for p in m["pages"].values())


def test_no_missing_glyph_warning_in_any_notebook(warm):
    base, _spec, _ = warm
    out = base / "out"
    texts = []
    for nb_path in out.rglob("*.ipynb"):
        for c in nbformat.read(nb_path, as_version=4).cells:
            for o in c.get("outputs", []):
                if o.get("output_type") == "stream":
                    texts.append((nb_path.name, o.get("text", "")))
    glyphs = [(n, t) for n, t in texts if "missing from font" in t or "Glyph" in t]
    assert not glyphs, glyphs
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert not any("missing from font" in s for p in manifest["pages"].values() for s in p["stderr"])


def test_warm_kernel_pages_equal_fresh_kernel_pages(warm, tmp_path):
    base, spec, _ = warm
    fresh_base = tmp_path / "fresh"
    shutil.copytree(base / "data", fresh_base / "data")
    raw = yaml.safe_load(spec.read_text(encoding="utf-8"))
    raw["kernel"] = {"reuse": False}  # a fresh kernel for every notebook
    (fresh_base / "run.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = run_report(fresh_base / "run.yaml", jobs=2, base=fresh_base, progress=False)
    assert result.ok, result.failures
    warm_pages, fresh_pages = pages_of(base / "out"), pages_of(fresh_base / "out")
    assert set(warm_pages) == set(fresh_pages)
    for page, html in warm_pages.items():
        assert html == fresh_pages[page], page
        if page != "index.html":
            nb = Path(page).with_suffix(".ipynb")
            assert outputs_of(base / "out" / nb) == outputs_of(fresh_base / "out" / nb), nb


def test_second_run_rebuilds_nothing_and_a_change_rebuilds_its_dependents(warm, tmp_path):
    base, spec, _ = warm
    again = run_report(spec, jobs=1, base=base, progress=False)
    assert again.n_built == 0 and again.ok
    # change one hostile unit's compliance in 2010, in a copy of the whole run folder
    copy = tmp_path / "copy"
    shutil.copytree(base, copy)
    panel = pd.read_csv(copy / "data" / "data.csv")
    panel.loc[(panel["unit"] == XSS_ID) & (panel["year"] == 2010), "policy_births"] -= 3
    panel.to_csv(copy / "data" / "data.csv", index=False)
    inc = run_report(copy / "run.yaml", jobs=1, base=copy, progress=False)
    rebuilt = set(inc.pages.loc[inc.pages["rebuilt"], "page"])
    assert rebuilt == {
        f"2010/{page_stem(XSS_ID)}.html",  # its own page
        f"2009/{page_stem(XSS_ID)}.html",  # its trend over the years
        f"2010/{page_stem(BAD_ID)}.html",  # its peer: the 2010 ranking and peers changed
        "2010/overview.html",
        "2010/compare-no-vetoes.html",
    }
    # what was kept is what a full rebuild gives
    full = run_report(copy / "run.yaml", jobs=1, base=copy, force=True, out=copy / "full", progress=False)
    assert full.n_built == 7
    inc_pages, full_pages = pages_of(copy / "out"), pages_of(copy / "full")
    for page, html in full_pages.items():
        if page != "index.html":
            assert inc_pages[page] == html, page


def test_browser_renders_index_and_unit_page(warm, tmp_path):
    from .browser import headless_chrome

    drv = headless_chrome(tmp_path / "profile", "1280,1600", browser_log=True)
    out = warm[0] / "out"
    try:
        for name, page in (("index", "index.html"), ("unit", f"2010/{page_stem(XSS_ID)}.html")):
            drv.get((out / page).resolve().as_uri())
            assert drv.execute_script("return document.readyState") == "complete"
            images = drv.execute_script(
                "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])"
            )
            assert all(done and width > 0 for done, width, _alt in images), images
            assert drv.execute_script("return window.__xss === undefined")  # hostile names did not run
            external = drv.execute_script(
                "return performance.getEntriesByType('resource').map(e => e.name)"
                ".filter(n => !n.startsWith('data:') && !n.startsWith('file:'))"
            )
            assert external == []
            errors = [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]
            assert errors == [], errors
            shot = tmp_path / f"{name}.png"
            assert drv.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
            if name == "unit":
                assert len(images) >= 5
    finally:
        drv.quit()


# --------------------------------------------------------------------------- failures, reset
def test_failures_are_isolated_named_and_retried(tmp_path, monkeypatch):
    write_panel(tmp_path / "data", rename={"chancheng": "bad", "gaoming": "dies"})
    tpl = thin_template(
        tmp_path / "t.ipynb",
        'import os\nif unit == "bad":\n    raise ValueError("planted failure")\n'
        'if unit == "dies":\n    os._exit(1)\nprint(unit, year)',
    )
    spec = write_spec(tmp_path, entry={"years": "latest", "overview": False}, templates={"unit": str(tpl)})
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["report", "--run", str(spec), "-j", "2"])
    assert res.exit_code == 1, res.output
    m = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    status = {p["unit"]: p["status"] for p in m["pages"].values()}
    assert status == {"bad": "failed", "dies": "failed", "nanhai": "ok", "sanshui": "ok", "shunde": "ok"}
    bad = m["pages"]["2010/bad.html"]["error"]["message"]
    assert "unit 'bad'" in bad and "2010" in bad and "cell 3" in bad and "ValueError: planted failure" in bad
    assert "DeadKernelError" in m["pages"]["2010/dies.html"]["error"]["message"]
    assert "planted failure" in res.output
    assert not (tmp_path / "out" / "2010" / "bad.html").exists()  # no page for a failed notebook
    assert (tmp_path / "out" / "2010" / "bad.ipynb").exists()  # but its notebook, with the error
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "Failures (2)" in index and "planted failure" in index
    assert 'href="2010/nanhai.html"' in index and 'href="2010/bad.html"' not in index
    again = run_report(spec, jobs=1, progress=False)
    assert set(again.pages.loc[again.pages["rebuilt"], "page"]) == {"2010/bad.html", "2010/dies.html"}


def test_kernel_reset_restores_what_a_notebook_changed(tmp_path):
    write_panel(tmp_path / "data")
    probe = """import json, os, sys, random, warnings, logging
import numpy as np, pandas as pd, matplotlib, matplotlib.pyplot as plt
state = dict(
    lw=matplotlib.rcParams["lines.linewidth"], font=matplotlib.rcParams["font.sans-serif"][:1],
    rows=pd.get_option("display.max_rows"), cwd=os.getcwd(), env=os.environ.get("AK_POLLUTED"),
    names=sorted(k for k in globals() if not k.startswith("_")), path=len(sys.path),
    filters=len(warnings.filters), np=float(np.random.random()), py=random.random(),
    figs=len(plt.get_fignums()), log=logging.getLogger().level, backend=matplotlib.get_backend(),
)
print(json.dumps(state, sort_keys=True))
matplotlib.rcParams["lines.linewidth"] = 9; pd.set_option("display.max_rows", 3); os.chdir("/")
os.environ["AK_POLLUTED"] = "1"; polluted = 1; sys.path.append("/nowhere"); warnings.simplefilter("ignore")
np.random.seed(1); random.seed(1); plt.figure(); logging.getLogger().setLevel(50)
len(state)"""
    tpl = thin_template(tmp_path / "probe.ipynb", probe)
    spec = write_spec(tmp_path, entry={"years": "latest", "overview": False}, templates={"unit": str(tpl)})
    result = run_report(spec, jobs=1, base=tmp_path, progress=False)
    assert result.ok, result.failures
    seen = []
    for nb_path in sorted((tmp_path / "out" / "2010").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        seen.append(json.dumps(nb.cells[-1].outputs, sort_keys=True))
    assert len(seen) == 5 and len(set(seen)) == 1, seen  # every notebook started from the same state
    outputs = json.loads(seen[0])
    assert outputs[1]["execution_count"] == 3  # the kernel's counter was reset too (3rd cell)
    state = json.loads(outputs[0]["text"])
    # the kernel works in its worker's copy of the run's inputs (no shared file system), not in base
    cwd = Path(state["cwd"])
    assert cwd != tmp_path.resolve() and cwd.parent.name.startswith("assesskit-worker-"), cwd
    assert state["env"] is None and state["lw"] != 9
