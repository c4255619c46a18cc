"""matplotlib figures for assesskit: ``f(data, *, ax=None) -> Axes``, no file writes.

Chinese labels need a CJK font. :func:`setup_cjk_font` registers one *explicitly by file*
(never trusting matplotlib's cache): Debian's WenQuanYi Micro Hei or Noto Sans CJK (the
Makefile installs ``fonts-wqy-microhei``), or a path in ``$ASSESSKIT_CJK_FONT``. When none
is found, :func:`label` falls back to the English text and one
:class:`~assesskit.exceptions.AssessKitWarning` says so.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from ..exceptions import AssessKitWarning  # noqa: E402

CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


@lru_cache(maxsize=1)
def setup_cjk_font() -> str | None:
    """Register a CJK font with matplotlib and put it first in ``font.sans-serif``.

    Returns the font's family name, or None (with one warning) when no CJK font exists.
    """
    candidates = [os.environ.get("ASSESSKIT_CJK_FONT", "")] + list(CJK_FONT_FILES)
    for path in candidates:
        if path and Path(path).exists():
            font_manager.fontManager.addfont(path)
            name = font_manager.FontProperties(fname=path).get_name()
            matplotlib.rcParams["font.sans-serif"] = [name, *matplotlib.rcParams["font.sans-serif"]]
            matplotlib.rcParams["font.family"] = "sans-serif"
            matplotlib.rcParams["axes.unicode_minus"] = False
            return name
    warnings.warn(
        "no CJK font found (install Debian's fonts-wqy-microhei, or set ASSESSKIT_CJK_FONT to a .ttf/.ttc): "
        "figures use the English labels",
        AssessKitWarning,
        stacklevel=2,
    )
    return None


def label(zh: str | None, en: str | None = None) -> str:
    """The Chinese label when a CJK font is available, else the English one."""
    if zh and setup_cjk_font() is not None:
        return zh
    return en or zh or ""


def new_axes(ax=None, *, figsize=(7, 4.5)):
    """The given axes, or a fresh figure's (with the CJK font set up first)."""
    setup_cjk_font()
    if ax is None:
        _fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax
