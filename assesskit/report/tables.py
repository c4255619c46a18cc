"""Presentation helpers of the report pages: HTML blocks, tables, figures and notes.

Everything here formats what the library computed; nothing computes. The output is
deterministic (the same inputs give byte-identical HTML), which is what lets the runner
reuse a warm kernel and still produce the pages a fresh kernel would.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["Html", "esc", "figure_html", "fmt", "note", "plot_safe", "show", "table_html"]

FIG_DPI = 80


class Html:
    """A block of HTML shown as one notebook output (``text/html``).

    Its plain-text form is a short placeholder, so the executed notebook does not carry
    every table twice.
    """

    def __init__(self, body: str, summary: str = "assesskit report block") -> None:
        self.html = body
        self.summary = summary

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<{self.summary}>"

    def __str__(self) -> str:
        return self.html

    def __add__(self, other: Html) -> Html:
        return Html(self.html + other.html, self.summary)


def esc(value: object) -> str:
    """HTML-escape any value (quotes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def fmt(v: object, digits: int = 2) -> str:
    """A value as short text: ``—`` for missing, ``yes``/``no``, integers bare, floats trimmed."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA:
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.{digits}f}".rstrip("0").rstrip(".") if digits else f"{float(v):.0f}"
    return str(v)


def note(text: str, cls: str = "ak-note") -> Html:
    """A paragraph of escaped text."""
    return Html(f'<p class="{cls}">{esc(text)}</p>')


def plot_safe(text: object) -> str:
    """Text for a matplotlib label: ``$`` would start mathtext, so it is escaped."""
    return str(text).replace("$", r"\$")


def table_html(
    df: pd.DataFrame,
    columns: Mapping[str, str] | None = None,
    *,
    digits: Mapping[str, int] | int = 2,
    classes: str = "ak-table",
    highlight: pd.Series | np.ndarray | None = None,
    links: Mapping[int, str] | None = None,
    link_column: str | None = None,
    empty: str = "nothing to show",
) -> Html:
    """An escaped HTML table of ``df``.

    Parameters
    ----------
    df : DataFrame
        The rows to show (not modified).
    columns : mapping, optional
        Column → header; only these columns are shown, in this order.
    digits : int or mapping
        Decimals for float columns (per column or for all).
    highlight : boolean array, optional
        Rows to mark (class ``hl``).
    links, link_column : optional
        Row position → relative URL, applied to the cells of ``link_column``.
    empty : str
        The text shown instead of an empty table.
    """
    if df is None or len(df) == 0:
        return Html(f'<p class="ak-empty">{esc(empty)}</p>')
    cols = dict(columns) if columns is not None else {c: c for c in df.columns}
    cols = {c: h for c, h in cols.items() if c in df.columns}
    cells = {}
    for c in cols:
        d = digits.get(c, 2) if isinstance(digits, Mapping) else digits
        s = df[c]
        if pd.api.types.is_float_dtype(s.dtype):
            vals = s.to_numpy(dtype=float)
            text = np.where(np.isfinite(vals), np.char.mod(f"%.{d}f", np.nan_to_num(vals)), "—")
            cells[c] = [esc(t) for t in text]
        else:
            cells[c] = [esc(fmt(v)) for v in s.astype(object).where(s.notna(), None)]
    if links and link_column in cells:
        cells[link_column] = [
            f'<a href="{esc(links[i])}">{t}</a>' if i in links else t
            for i, t in enumerate(cells[link_column])
        ]
    hl = np.zeros(len(df), bool) if highlight is None else np.asarray(highlight, dtype=bool)
    head = "".join(f"<th>{esc(h)}</th>" for h in cols.values())
    opener = np.where(hl, '<tr class="hl">', "<tr>")
    rows = [opener[i] + "".join(f"<td>{cells[c][i]}</td>" for c in cols) + "</tr>" for i in range(len(df))]
    return Html(
        f'<table class="{esc(classes)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def figure_html(fig, alt: str | None = None, *, close: bool = True) -> Html:
    """Render a matplotlib figure (or the figure of an Axes) to an embedded PNG and close it.

    The PNG carries no version metadata (so pages are byte-identical across runs). Under the
    image, a note lists what the figure left out and why
    (:func:`assesskit.plotting.left_out`), so odd data is never dropped silently.

    Parameters
    ----------
    fig : Figure or Axes
    alt : str, optional
        The image's alternative text (default: the titles of its axes).
    close : bool
        Close the figure afterwards (default); False keeps it for another rendering (the
        year-shared figures of :mod:`assesskit.report.shared`).
    """
    import matplotlib.pyplot as plt

    from ..plotting import left_out

    fig = getattr(fig, "figure", fig)
    missing = [line for ax in fig.axes for line in left_out(ax)]
    if alt is None:
        alt = "; ".join(t for t in (ax.get_title() for ax in fig.axes) if t) or "figure"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIG_DPI, metadata={"Software": None})
    if close:
        plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    caption = (
        '<figcaption class="ak-note ak-left-out">left out: '
        + "; ".join(esc(x) for x in missing)
        + "</figcaption>"
        if missing
        else ""
    )
    return Html(
        f'<figure class="ak-fig"><img alt="{esc(alt)}" src="data:image/png;base64,{data}">{caption}</figure>'
    )


def show(*parts: object) -> Html:
    """One HTML block of figures, tables and notes, in order.

    Each part may be a matplotlib Axes or Figure (rendered by :func:`figure_html`, closed,
    with its left-out note), an :class:`Html` block, a DataFrame (a plain table), a string
    (a note) or None (skipped).
    """
    out = Html("")
    for p in parts:
        if p is None:
            continue
        if isinstance(p, Html):
            out += p
        elif isinstance(p, pd.DataFrame):
            out += table_html(p)
        elif isinstance(p, str):
            out += note(p)
        elif hasattr(p, "savefig") or hasattr(p, "get_figure"):
            out += figure_html(p)
        else:
            raise TypeError(f"show: cannot show a {type(p).__name__}")
    return out
