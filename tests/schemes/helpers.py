"""Helpers shared by the per-scheme tests."""

import pandas as pd


def item_row(res, unit: str, item: str) -> pd.Series:
    """The one row of ``res.items`` for a unit and an item (fails if not exactly one)."""
    it = res.items
    sel = it[(it["unit"] == unit) & (it["item"] == item)]
    assert len(sel) == 1, f"{unit}/{item}: {len(sel)} rows"
    return sel.iloc[0]
