"""The ``assesskit`` command: a thin click shell over the Python API.

Exit codes: 0 success; 2 invalid input (every problem is listed); 1 unexpected failure.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import click
import pandas as pd

from . import __version__
from ._io import sha256, write_outputs
from .data import read_panel, read_table
from .exceptions import AssessKitError, SchemeError
from .scheme import bundled_schemes, load_scheme, resolve_scheme_path, scheme_json_schema
from .scoring import score_panel


def _fail(exc: AssessKitError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AssessKitError as exc:
            _fail(exc)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="assesskit")
def main() -> None:
    """Score administrative units with assessment schemes kept as data."""


@main.command()
def schemes() -> None:
    """List the bundled schemes, one line each."""
    for path in bundled_schemes():
        try:
            s = load_scheme(path)
        except SchemeError as exc:
            click.echo(f"{path.stem:<24} INVALID: {exc.message}")
            continue
        kinds = "+".join(f"{k}:{v:g}" for k, v in s.max_by_kind.items())
        click.echo(
            f"{s.id:<24} {s.years[0]}–{s.years[1]}  {len(s.flat_items):>3} items  {kinds:<22} {s.label}"
        )


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--scheme", "scheme_name", help="Validate data files against this scheme.")
@click.option("--units", type=click.Path(), help="Unit registry to check the data with.")
@click.option("--targets", type=click.Path(), help="Target table to check the data with.")
@click.option("--grades", type=click.Path(), help="Inspector grades to check the data with.")
@click.option("--encoding", default=None, help="Encoding of CSV data files (default: UTF-8, else GBK).")
def validate(
    paths: tuple[str, ...], scheme_name: str | None, units, targets, grades, encoding: str | None
) -> None:
    """Validate scheme files (.yaml), or data files against --scheme (with the same
    --units, --targets and --grades that `score` would get).

    Exits 0 when everything is valid; otherwise prints every problem and exits 2.
    """
    failed = 0
    scheme = load_scheme(scheme_name) if scheme_name else None
    for p in paths:
        try:
            if Path(p).suffix in (".yaml", ".yml") or scheme is None:
                s = load_scheme(resolve_scheme_path(p))
                click.echo(f"ok  {p}: scheme '{s.id}', {len(s.flat_items)} items")
            else:
                extra = {
                    k: read_table(v, encoding=encoding)
                    for k, v in (("units", units), ("targets", targets), ("grades", grades))
                    if v
                }
                panel = read_panel(scheme, read_table(p, encoding=encoding), **extra)
                click.echo(f"ok  {p}: {len(panel.data)} unit-years")
                for w in panel.warnings:
                    click.echo(f"    warning: {w}")
        except AssessKitError as exc:
            failed += 1
            click.echo(f"FAIL {exc}", err=True)
    sys.exit(2 if failed else 0)


@main.command()
@click.option("--scheme", "scheme_name", required=True, help="Scheme file or bundled scheme id.")
@click.option("--data", required=True, type=click.Path(), help="Panel: one row per unit and year.")
@click.option("--units", type=click.Path(), help="Unit registry (unit, name, kind, category).")
@click.option("--targets", type=click.Path(), help="Per-unit-year targets.")
@click.option("--grades", type=click.Path(), help="Inspector grades.")
@click.option("--year", type=int, multiple=True, help="Year to score (repeatable); default all.")
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Folder for the outputs.")
@click.option("--encoding", default=None, help="Encoding of the CSV inputs (default: UTF-8, else GBK).")
@click.option("--allow-missing-columns", is_flag=True, help="Score items of absent columns as missing.")
def score(scheme_name, data, units, targets, grades, year, out_dir, encoding, allow_missing_columns) -> None:
    """Score a panel; write summary.csv, items.csv, lines.csv and run.json to --out.

    Nothing is written unless every input is valid.
    """
    scheme_path = resolve_scheme_path(scheme_name)
    scheme = load_scheme(scheme_path)
    tables = {
        role: read_table(path, encoding=encoding)
        for role, path in (("data", data), ("units", units), ("targets", targets), ("grades", grades))
        if path
    }
    years = list(year) or None
    panel = read_panel(
        scheme,
        tables["data"],
        units=tables.get("units"),
        targets=tables.get("targets"),
        grades=tables.get("grades"),
        years=years,
        allow_missing_columns=allow_missing_columns,
    )
    res = score_panel(scheme, panel, years=years)
    run = {
        "assesskit": __version__,
        "scheme": {"id": scheme.id, "path": str(scheme_path), "sha256": sha256(scheme_path)},
        "inputs": {
            r: {"path": t.path, "sha256": sha256(t.path), "encoding": t.encoding} for r, t in tables.items()
        },
        "years": sorted(int(y) for y in res.summary["year"].unique()),
        "warnings": [str(w) for w in res.warnings],
    }
    files = write_outputs(
        out_dir, {"summary.csv": res.summary, "items.csv": res.items, "lines.csv": res.lines, "run.json": run}
    )
    for w in res.warnings:
        click.echo(f"warning: {w}", err=True)
    _print_table(res.summary)
    click.echo(f"wrote {', '.join(str(f) for f in files)}")


def _pad(text: str, width: int) -> str:
    """Pad to a display width, counting CJK characters as two columns."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - shown, 0)


def _print_table(summary: pd.DataFrame, limit: int = 12) -> None:
    for (year, kind), g in summary.groupby(["year", "kind"], sort=True):
        click.echo(f"\n{year} · {kind} ({len(g)} units)")
        for row in g.head(limit).itertuples():
            rank = "—" if pd.isna(row.rank) else int(row.rank)
            total = "not scored" if pd.isna(row.total) else f"{row.total:8.2f}"
            veto = f"VETO: {row.veto_reason}" if row.veto else ""
            inel = f"no award: {row.ineligible_reason}" if not row.veto and row.ineligible_reason else ""
            flags = " ".join(x for x in (row.award, row.single_awards, row.warning, veto, inel) if x)
            click.echo(f"  {rank!s:>3}  {_pad(str(row.name), 18)} {total}  {flags}")
        if len(g) > limit:
            click.echo(f"  … {len(g) - limit} more")


@main.command("import-coinr")
@click.option(
    "--idata", required=True, type=click.Path(), help="COINr iData table (uCode, uName, Time, indicators)."
)
@click.option(
    "--imeta", required=True, type=click.Path(), help="COINr iMeta table (Level, iCode, Weight, Parent, …)."
)
@click.option(
    "--out", "out_dir", required=True, type=click.Path(), help="Folder for the scheme and the data."
)
@click.option("--id", "scheme_id", default=None, help="Scheme id (default: the iData file's stem).")
@click.option(
    "--normalise",
    "normalisation",
    default="minmax",
    show_default=True,
    type=click.Choice(["minmax", "zscore", "rank", "percentile"]),
    help="Normaliser for every indicator.",
)
@click.option(
    "--scale", nargs=2, type=float, default=(0.0, 100.0), show_default=True, help="Min-max onto [l, u]."
)
@click.option(
    "--aggregate",
    "aggregation",
    default="mean",
    show_default=True,
    type=click.Choice(["mean", "geometric", "harmonic", "sum"]),
    help="Aggregation at every level (weighted).",
)
@click.option("--year", type=int, default=None, help="Year of every row when iData has no Time column.")
@click.option("--encoding", default=None, help="Encoding of the CSV inputs (default: UTF-8, else GBK).")
def import_coinr_cmd(
    idata, imeta, out_dir, scheme_id, normalisation, scale, aggregation, year, encoding
) -> None:
    """Import COINr-style iData/iMeta tables: write <id>.yaml and data.csv for `assesskit score`."""
    import yaml

    from .composite import import_coinr
    from .scheme import parse_scheme

    ti, tm = read_table(idata, encoding=encoding), read_table(imeta, encoding=encoding)
    sid = scheme_id or Path(idata).stem.lower().replace("_idata", "").replace("-", "_") or "coinr_import"
    raw, data = import_coinr(
        ti.frame,
        tm.frame,
        scheme_id=sid,
        normalisation=normalisation,
        scale=tuple(scale),
        aggregation=aggregation,
        year=year,
        where=(ti.path, tm.path),
    )
    parse_scheme(raw, where=f"{sid}.yaml")  # the scheme written must load
    text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
    files = write_outputs(out_dir, {f"{sid}.yaml": text, "data.csv": data})
    click.echo(f"wrote {', '.join(str(f) for f in files)}")
    click.echo(
        f"score it: assesskit score --scheme {Path(out_dir) / (sid + '.yaml')} --data {Path(out_dir) / 'data.csv'} --out DIR"
    )


@main.command("json-schema")
@click.option("--out", type=click.Path(), help="Write to this file instead of standard output.")
def json_schema(out: str | None) -> None:
    """Print the JSON Schema of scheme files (for editors' YAML validation)."""
    text = json.dumps(scheme_json_schema(), ensure_ascii=False, indent=2)
    if out:
        write_outputs(Path(out).parent, {Path(out).name: text + "\n"})
    else:
        click.echo(text)


@main.command("demo-data")
@click.option(
    "--seed", default=0, show_default=True, type=int, help="Random seed (same seed → identical files)."
)
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Folder for the panels.")
@click.option("--scheme", "scheme_ids", multiple=True, help="Only these schemes (repeatable); default all.")
def demo_data(seed: int, out_dir: str, scheme_ids: tuple[str, ...]) -> None:
    """Generate the synthetic demo panels (one folder per bundled scheme)."""
    from .datasets.demo import write_demo_data

    out = write_demo_data(out_dir, seed=seed, schemes=list(scheme_ids) or None)
    click.echo(
        f"wrote synthetic demo panels (seed {seed}) to {out}; see {out / 'README.md'} for what is planted"
    )


@main.command()
def datasets() -> None:
    """List the shipped reference datasets with their sources and licences."""
    from .datasets import catalog

    for row in catalog().itertuples():
        click.echo(f"{row.name:<20} {row.rows:>4} rows  {row.title}")
        click.echo(f"{'':<20} source: {row.source}; licence: {row.licence}")


@main.command()
@click.option("--out", "out_dir", default="reports/demo", show_default=True, type=click.Path())
@click.option("--seed", default=0, show_default=True, type=int)
def demo(out_dir: str, seed: int) -> None:
    """Generate the synthetic demo panels and score every bundled scheme on them."""
    from .datasets.demo import FILE_NAMES, write_demo_data
    from .scoring import score as score_api

    data_dir = write_demo_data(Path(out_dir) / "data", seed=seed)
    ids = [p.stem for p in bundled_schemes()]
    for sid in ids:
        scheme = load_scheme(sid)
        paths = {role: data_dir / sid / name for role, name in FILE_NAMES.items() if role != "truth"}
        res = score_api(scheme, **{role: p for role, p in paths.items() if p.exists()})
        write_outputs(
            Path(out_dir) / sid, {"summary.csv": res.summary, "items.csv": res.items, "lines.csv": res.lines}
        )
        click.echo(f"\n=== {scheme.id}: {scheme.label} — SYNTHETIC demo data")
        _print_table(res.summary[res.summary["year"] == res.summary["year"].max()], limit=6)
    click.echo(
        f"\nScored {len(ids)} schemes on synthetic demo panels (seed {seed}). Open {out_dir}/<scheme>/summary.csv "
        f"and items.csv; the panels and what they plant are in {data_dir}/ (README.md)."
    )


if __name__ == "__main__":  # pragma: no cover
    main()
