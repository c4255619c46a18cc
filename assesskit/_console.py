"""Plain-text tables for the terminal (the CLI's printing helpers)."""

from __future__ import annotations

import unicodedata

import click
import pandas as pd


def pad(text: str, width: int) -> str:
    """Pad to a display width, counting CJK characters as two columns."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - shown, 0)


def print_summary(summary: pd.DataFrame, limit: int = 12) -> None:
    """Print each year and kind's ranking (the first ``limit`` units) with their flags."""
    for (year, kind), g in summary.groupby(["year", "kind"], sort=True):
        click.echo(f"\n{year} · {kind} ({len(g)} units)")
        for row in g.head(limit).itertuples():
            rank = "—" if pd.isna(row.rank) else int(row.rank)
            total = "not scored" if pd.isna(row.total) else f"{row.total:8.2f}"
            veto = f"VETO: {row.veto_reason}" if row.veto else ""
            inel = f"no award: {row.ineligible_reason}" if not row.veto and row.ineligible_reason else ""
            flags = " ".join(x for x in (row.award, row.single_awards, row.warning, veto, inel) if x)
            click.echo(f"  {rank!s:>3}  {pad(str(row.name), 18)} {total}  {flags}")
        if len(g) > limit:
            click.echo(f"  … {len(g) - limit} more")
