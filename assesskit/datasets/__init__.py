"""Data shipped with assesskit, and the synthetic demo generator.

- **Reference data** (real, public): the national sex ratio at birth series and two real
  pooled birth counts; the ASEM composite-indicator example. Load them by name with
  :func:`load`; :func:`catalog` lists them with their sources and licences
  (``reference/SOURCES.md`` has the full attributions).
- **Examples**: ``examples/<scheme id>/`` holds a small, hand-made, clearly synthetic
  example for each bundled scheme (``panel.csv``, ``units.csv`` and, where the scheme needs
  them, ``targets.csv`` and ``grades.csv``), used by the tests with hand-computed
  expectations.
- **Demo panels**: :func:`assesskit.datasets.demo.make_demo_data` generates realistic,
  seeded, clearly synthetic count-level panels for every bundled scheme.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE / "examples"
REFERENCE = HERE / "reference"

_ROLES = {"data": "panel.csv", "units": "units.csv", "targets": "targets.csv", "grades": "grades.csv"}


@dataclass(frozen=True)
class Dataset:
    """A shipped reference dataset and where it comes from."""

    name: str
    file: str
    title: str
    source: str
    licence: str
    query: str | None = None  # a pandas query selecting rows of the file


_SRB_SOURCE = (
    "official statistics (NBS, NHFPC), UN WPP 2022, Huang et al. 2016, Tang et al.; per row in 'source'"
)
DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            "china_srb",
            "china_srb.csv",
            "Sex ratio at birth in China: official, census and UN WPP 2022 series",
            _SRB_SOURCE,
            "official statistics; UN WPP 2022 CC BY 3.0 IGO",
        ),
        Dataset(
            "china_srb_official",
            "china_srb.csv",
            "Sex ratio at birth in China: official annual figures",
            "National Health and Family Planning Commission / NBS",
            "official statistics",
            "series == 'official_annual'",
        ),
        Dataset(
            "china_srb_wpp2022",
            "china_srb.csv",
            "Sex ratio at birth in China: UN WPP 2022 estimates and projections",
            "United Nations, World Population Prospects 2022",
            "CC BY 3.0 IGO",
            "series.str.startswith('un_wpp2022')",
        ),
        Dataset(
            "china_srb_pooled",
            "china_srb.csv",
            "Two real pooled birth counts by sex (441 facilities 2012–2015; Hangzhou 2005–2014)",
            "Huang et al., PLoS One 2016; Tang et al.",
            "as published (see SOURCES.md)",
            "male_births.notna()",
        ),
        Dataset(
            "asem_idata",
            "asem_idata.csv",
            "ASEM Sustainable Connectivity: indicator data (51 countries × 49 indicators)",
            "JRC ASEM portal, as shipped with COINr",
            "MIT (c) 2022 William Becker",
        ),
        Dataset(
            "asem_imeta",
            "asem_imeta.csv",
            "ASEM Sustainable Connectivity: indicator metadata (levels, weights, directions)",
            "JRC ASEM portal, as shipped with COINr",
            "MIT (c) 2022 William Becker",
        ),
    ]
}


def load(name: str) -> pd.DataFrame:
    """Load a shipped reference dataset by name.

    The frame's ``attrs`` carry ``name``, ``title``, ``source`` and ``licence``.

    Raises
    ------
    KeyError
        For an unknown name, listing the known ones.
    """
    try:
        d = DATASETS[name]
    except KeyError:
        raise KeyError(f"no dataset named '{name}'; available: {', '.join(DATASETS)}") from None
    df = pd.read_csv(REFERENCE / d.file, na_values=["NA"], keep_default_na=True)
    if d.query:
        df = df.query(d.query, engine="python").reset_index(drop=True)
    for col in ("male_births", "female_births"):
        if col in df.columns:
            df[col] = df[col].astype("Int64")
    df.attrs.update(name=d.name, title=d.title, source=d.source, licence=d.licence)
    return df


def catalog() -> pd.DataFrame:
    """The shipped reference datasets: name, title, rows, source, licence."""
    rows = [
        {
            "name": d.name,
            "title": d.title,
            "rows": len(load(d.name)),
            "source": d.source,
            "licence": d.licence,
        }
        for d in DATASETS.values()
    ]
    return pd.DataFrame(rows)


def example_ids() -> list[str]:
    """Scheme ids that have a bundled hand-made example."""
    return (
        sorted(p.name for p in EXAMPLES.iterdir() if (p / "panel.csv").exists()) if EXAMPLES.exists() else []
    )


def example_paths(scheme_id: str) -> dict[str, Path]:
    """The example's files by role (``data``, ``units``, ``targets``, ``grades``), for
    passing straight to :func:`assesskit.score` as keyword arguments."""
    folder = EXAMPLES / scheme_id
    if not (folder / "panel.csv").exists():
        raise KeyError(f"no bundled example for scheme '{scheme_id}' (have: {', '.join(example_ids())})")
    return {role: folder / name for role, name in _ROLES.items() if (folder / name).exists()}
