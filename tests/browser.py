"""Headless Chromium for the browser tests (the report pages, the explorer): one set-up.

Skips the calling test with a message where Debian's chromium or chromium-driver is absent.
The flags keep Chromium off the network this machine does not have (see the env notes).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def headless_chrome(profile: Path, window: str, *, browser_log: bool = False):
    """A selenium Chrome driver on Debian's headless Chromium (``window`` as "W,H")."""
    chromium = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if chromium is None:
        pytest.skip(
            "Chromium is not installed (Debian: apt-get install chromium chromium-driver): browser test skipped"
        )
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not Path(driver).exists():
        pytest.skip(
            "Chromium is installed but chromedriver is not, and `make setup` could not install "
            "Debian's chromium-driver here: browser test skipped"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={window}"):
        opts.add_argument(a)
    if browser_log:
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=opts)
