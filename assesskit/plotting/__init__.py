"""matplotlib figures for assesskit: ``f(data, *, ax=None) -> Axes``, no file writes.

Chinese labels need a CJK font. :func:`setup_cjk_font` registers one *explicitly by file*
(never trusting matplotlib's cache): Debian's WenQuanYi Micro Hei or Noto Sans CJK (the
Makefile installs ``fonts-wqy-microhei``), or a path in ``$ASSESSKIT_CJK_FONT``. When none
is found, :func:`label` falls back to the English text and one
:class:`~assesskit.exceptions.AssessKitWarning` says so.

**Odd data never fails a figure.** A figure draws what it can; every row it could not draw
(a unit-year without female births, a missing rate, an interval without limits) is recorded
with the reason, and :func:`left_out` returns those lines so the page can say, under the
figure, what was left out and why. When nothing at all can be drawn, the axes say so.
"""

from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Iterable
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


def label(zh: str | None, en: str | None = None, *, lang: str | None = None) -> str:
    """A figure's text in ``lang``: the English text for ``en``; for ``zh`` and the default
    (``bilingual``: figures never doubled their text) the Chinese one when a CJK font is
    available, else the English one (so no glyph is ever missing).

    The choice is :func:`assesskit.i18n.pick`, the one the report pages use.
    """
    from ..i18n import check_lang, pick

    lang = check_lang(lang)
    if lang == "en" or setup_cjk_font() is None:
        return en or zh or ""
    return pick(zh, en, lang)


def new_axes(ax=None, *, figsize=(7, 4.5)):
    """The given axes, or a fresh figure's (with the CJK font set up first)."""
    setup_cjk_font()
    if ax is None:
        _fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


# The registry of what each figure left out, keyed by its Axes (weakly: it goes with the figure).
_LEFT_OUT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def note_left_out(ax, lines: Iterable[str]) -> None:
    """Record rows a figure could not draw, one line each (``"UNIT 2014 — why"``).

    Figures call this; readers call :func:`left_out`. Lines are kept in order, without
    repeats.
    """
    new = [str(x) for x in lines]
    if new:
        old = _LEFT_OUT.get(ax, [])
        _LEFT_OUT[ax] = list(dict.fromkeys(old + new))


def left_out(ax) -> list[str]:
    """What the figure on ``ax`` left out and why, one line per row (empty when it drew everything).

    Examples
    --------
    >>> ax = plot_srb_intervals(sex_ratio(rows))                      # doctest: +SKIP
    >>> left_out(ax)                                                  # doctest: +SKIP
    ['hutang 2014 — no female births: the sex ratio is undefined (drawn from its lower limit 125 134.8 on)']
    """
    return list(_LEFT_OUT.get(ax, []))


def nothing_to_draw(ax, why: str, *, lang: str | None = None):
    """Write in the middle of empty axes that there was nothing to draw, and why."""
    ax.text(
        0.5,
        0.5,
        label("无可绘制的数据", "nothing to draw", lang=lang) + f"\n{why}",
        ha="center",
        va="center",
        transform=ax.transAxes,
        fontsize=9,
        color="#666666",
    )
    return ax


def row_label(unit: object, year: object = None) -> str:
    """``"UNIT 2014"``: how a left-out row is named (the unit id, and the year when known)."""
    try:
        y = "" if year is None or (isinstance(year, float) and year != year) else f" {int(year)}"
    except (TypeError, ValueError):
        y = f" {year}"
    return f"{unit}{y}"
