"""The explorer served by Voilà, driven in headless Chromium: a target changed on the page
moves the league table to the engine's values for that variant."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from assesskit import load_scheme, read_panel, read_table
from assesskit.datasets.demo import write_demo_data
from assesskit.explore import Design, Rescorer, league
from assesskit.explore.serve import explorer_notebook, voila_command

from .browser import headless_chrome

SCHEME = "xpcc_2015"
ITEM = "pop_db_entry"  # a threshold item with one number as target (95)
NEW_TARGET = 60.0
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def voila(tmp_path):
    """Voilà serving the explorer on the demo data; yields (url, files); torn down after."""
    write_demo_data(tmp_path / "demo", schemes=[SCHEME])
    d = tmp_path / "demo" / SCHEME
    files = {
        "data": d / "panel.synthetic.csv",
        "units": d / "units.synthetic.csv",
        "grades": d / "grades.synthetic.csv",
    }
    nb_dir = tmp_path / "nb"
    nb_dir.mkdir()
    nb = explorer_notebook(nb_dir, SCHEME, files["data"], units=files["units"], grades=files["grades"])
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log = open(tmp_path / "voila.log", "wb")
    proc = subprocess.Popen(
        voila_command(nb, port),
        cwd=nb_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(url + "api", timeout=2)  # any answer: the server is up
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"voila did not start: {(tmp_path / 'voila.log').read_text(errors='replace')}"
                    )
                time.sleep(0.5)
        yield url, files
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _expected(files) -> list[tuple[str, str]]:
    s = load_scheme(SCHEME)
    tables = {k: read_table(v) for k, v in files.items()}
    panel = read_panel(s, tables["data"], units=tables["units"], grades=tables["grades"])
    year = int(panel.data["year"][panel.data["year"].between(*s.years)].max())
    r = Rescorer(s, panel, [year])
    tab = league(r.original, r.score(Design(s).set_target(ITEM, NEW_TARGET).to_scheme()))
    return list(zip(tab["unit"], tab["total"].map("{:.2f}".format), strict=True))


def _page_rows(drv) -> list[tuple[str, str]]:
    """(unit, total) of each row of the league table on the page."""
    rows = drv.execute_script(
        "const t = document.querySelector('table.ak-league'); if (!t) return [];"
        "return Array.from(t.tBodies[0].rows).map(r => [r.cells[1].textContent.trim(), r.cells[3].textContent.trim()]);"
    )
    return [tuple(r) for r in rows]


def test_target_change_in_the_browser_gives_the_engine_values(voila, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    url, files = voila
    drv = headless_chrome(tmp_path / "profile", "1500,1300")
    shot = tmp_path / "explorer.png"
    try:
        drv.get(url)
        WebDriverWait(drv, 120).until(lambda d: len(_page_rows(d)) > 0)
        before = _page_rows(drv)
        want = _expected(files)
        assert before != want  # the change must show
        # search by name: the item's section opens and the other items hide
        drv.find_element(By.CSS_SELECTOR, ".ak-search input").send_keys("全员人口信息")
        box = drv.find_element(By.CSS_SELECTOR, f".ak-target-{ITEM} input")
        WebDriverWait(drv, 30).until(lambda d: box.is_displayed())
        shown = drv.execute_script("return document.querySelectorAll('.ak-item').length")
        visible = [e for e in drv.find_elements(By.CSS_SELECTOR, ".ak-item") if e.is_displayed()]
        assert len(visible) == 1 < shown
        chart = "return (document.querySelector('.ak-chart img') || {}).src || ''"
        chart_before = drv.execute_script(chart)
        box.send_keys(Keys.CONTROL, "a")  # clear() does not empty a number box here
        box.send_keys(Keys.DELETE, str(NEW_TARGET), Keys.ENTER)
        try:
            WebDriverWait(drv, 60).until(lambda d: _page_rows(d) == want)
        except Exception:
            raise AssertionError(
                f"page {_page_rows(drv)} != engine {want}; box {box.get_attribute('value')}"
            ) from None
        WebDriverWait(drv, 60).until(
            lambda d: d.execute_script(chart) not in ("", chart_before)
        )  # then the chart
        drv.save_screenshot(str(shot))
        assert _page_rows(drv) == want
        assert shot.stat().st_size > 20_000
        status = drv.find_element(By.CSS_SELECTOR, ".ak-status").text
        assert "变更 1 项" in status, status
        if os.environ.get("ASSESSKIT_EXPLORER_SHOT"):  # refresh the picture in the docs
            shutil.copy(shot, os.environ["ASSESSKIT_EXPLORER_SHOT"])
    finally:
        if not shot.exists():
            drv.save_screenshot(str(shot))  # what the page showed when it failed
        drv.quit()
