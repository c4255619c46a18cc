"""The ``assesskit`` command: a thin click shell over the Python API.

Each command parses its options, calls one library function and prints.

Exit statuses
-------------
0
    Success.
1
    Something failed that is not the input's fault: report pages that failed, or an
    internal error (a bug: a one-line message; ``ASSESSKIT_DEBUG=1`` shows the traceback).
2
    The inputs or the output location: an invalid file (every problem is listed, naming
    the file, line or row), or an input/output failure (disk full, permission denied, a
    path that is a file …), with the path and what to do. Nothing is half written.
130
    Interrupted (Ctrl-C); nothing is half written.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

# Only what every command needs is imported here, so `assesskit --help` and `--version` answer
# without loading pandas or pydantic (tests/test_startup.py). A command imports what it uses
# inside its function; a new command does the same.
from ._version import __version__
from .exceptions import AssessKitError, SchemeError

BUG_HINT = (
    "this is a bug in assesskit; please report it with the command you ran and "
    "`assesskit --version` (set ASSESSKIT_DEBUG=1 to see the traceback)"
)


class _Group(click.Group):
    """Every error ends in one message and an exit status, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except AssessKitError as exc:
            _exit(f"error: {exc}", 2)
        except OSError as exc:
            from ._io import describe_os_error

            _exit(f"error: {describe_os_error(exc, 'read or write a file')}", 2)
        except KeyboardInterrupt as exc:
            # a report run says how many pages it kept (ReportInterrupted); anything else just stops
            _exit(f"interrupted: {exc}" if str(exc) else "interrupted", 130)
        except Exception as exc:
            if os.environ.get("ASSESSKIT_DEBUG"):
                raise
            _exit(f"internal error: {type(exc).__name__}: {exc}\n{BUG_HINT}", 1)


def score_files(*args, **kwargs):
    """:func:`assesskit.pipeline.score_files`, imported when first called.

    A module attribute (not an import inside ``score``) because the tests replace
    ``assesskit.cli.score_files`` to make the command fail in a chosen way.
    """
    from .pipeline import score_files as _score_files

    return _score_files(*args, **kwargs)


def _exit(message: str, code: int) -> None:
    click.echo(message, err=True)
    sys.exit(code)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="assesskit")
def main() -> None:
    """Score administrative units with assessment schemes kept as data."""


@main.command()
def schemes() -> None:
    """List the bundled schemes, one line each."""
    from .scheme import bundled_schemes, load_scheme

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


def _yaml_kind(path: str) -> str | None:
    """'run' or 'sensitivity' for a run or sensitivity spec (told by a top-level key), else
    None (a scheme; a file that cannot be read is reported by the scheme loader)."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(raw, dict):
        return None
    if "schemes" in raw and "lines" not in raw:
        return "run"
    if "factors" in raw and "lines" not in raw:
        return "sensitivity"
    return None


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
    from .pipeline import load_inputs, resolve_scheme
    from .scheme import load_scheme

    failed = 0
    scheme = load_scheme(resolve_scheme(scheme_name)) if scheme_name else None
    for p in paths:
        try:
            what = _yaml_kind(p) if Path(p).suffix in (".yaml", ".yml") else None
            if what == "run":  # a report run spec (top-level `schemes:`)
                from .report import load_run_spec

                r = load_run_spec(p)
                click.echo(f"ok  {p}: run spec '{r.name}', {len(r.schemes)} scheme(s)")
            elif what == "sensitivity":  # a sensitivity spec (top-level `factors:`)
                from .sensitivity.spec import load_spec

                sp = load_spec(p)
                click.echo(f"ok  {p}: sensitivity spec, {len(sp.factors)} factor(s)")
            elif Path(p).suffix in (".yaml", ".yml") or scheme is None:
                s = load_scheme(resolve_scheme(p))
                click.echo(f"ok  {p}: scheme '{s.id}', {len(s.flat_items)} items")
            else:
                inputs = load_inputs(
                    scheme, p, units=units, targets=targets, grades=grades, encoding=encoding
                )
                click.echo(f"ok  {p}: {len(inputs.panel.data)} unit-years")
                for w in inputs.panel.warnings:
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
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["csv", "parquet", "xlsx"]),
    help="Output format (repeatable; default csv): csv tables, parquet tables, results.xlsx.",
)
@click.option(
    "--lang",
    default="zh",
    show_default=True,
    type=click.Choice(["zh", "en"]),
    help="Language of the results.xlsx headers.",
)
def score(
    scheme_name, data, units, targets, grades, year, out_dir, encoding, allow_missing_columns, formats, lang
) -> None:
    """Score a panel; write the tables (summary, items, lines) and run.json to --out.

    --format csv (the default) writes summary.csv, items.csv and lines.csv; parquet the
    same tables as .parquet; xlsx results.xlsx (a league table per kind of unit, the items
    with reasons, the run's inputs and hashes). The --out folder holds these files only and
    is replaced as a whole. Nothing is written unless every input is valid.
    """
    from ._console import print_summary as _print_table
    from .pipeline import check_score_out, write_score_outputs

    check_score_out(out_dir)
    scored = score_files(
        scheme_name,
        data,
        units=units,
        targets=targets,
        grades=grades,
        years=list(year) or None,
        encoding=encoding,
        allow_missing_columns=allow_missing_columns,
    )
    files = write_score_outputs(scored, out_dir, formats or ("csv",), lang=lang)
    for w in scored.result.warnings:
        click.echo(f"warning: {w}", err=True)
    _print_table(scored.result.summary)
    click.echo(f"wrote {', '.join(str(f) for f in files)}")


@main.command("import-excel")
@click.argument("workbook", type=click.Path())
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Folder for <id>.yaml.")
def import_excel_cmd(workbook: str, out_dir: str) -> None:
    """Read a scheme workbook (sheets items, indicators, scheme, yaml) and write <id>.yaml.

    Every problem is listed with its sheet, row and column (exit 2, nothing written).
    Items without a rule become inspector-graded; they are listed.
    """
    from ._io import check_output_dir, write_outputs
    from .pipeline import import_excel_file

    check_output_dir(out_dir)
    scheme, files, graded = import_excel_file(workbook)
    written = write_outputs(out_dir, files)
    if graded:
        click.echo(
            f"{len(graded)} items have no rule and are inspector-graded (give them a rule): {', '.join(graded)}"
        )
    click.echo(
        f"wrote {', '.join(str(f) for f in written)} (scheme '{scheme.id}', {len(scheme.flat_items)} items)"
    )


@main.command("export-scheme")
@click.argument("scheme_name", metavar="ID_OR_PATH")
@click.option("--out", required=True, type=click.Path(), help="The workbook to write (.xlsx).")
def export_scheme_cmd(scheme_name: str, out: str) -> None:
    """Write a scheme as a workbook in the layout `import-excel` reads (a template)."""
    from .pipeline import export_scheme_file

    path = export_scheme_file(scheme_name, out)
    click.echo(f"wrote {path}")


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
    from ._io import check_output_dir, write_outputs
    from .pipeline import import_coinr_files

    check_output_dir(out_dir)
    sid, files = import_coinr_files(
        idata,
        imeta,
        scheme_id=scheme_id,
        normalisation=normalisation,
        scale=tuple(scale),
        aggregation=aggregation,
        year=year,
        encoding=encoding,
    )
    written = write_outputs(out_dir, files)
    click.echo(f"wrote {', '.join(str(f) for f in written)}")
    click.echo(
        f"score it: assesskit score --scheme {Path(out_dir) / (sid + '.yaml')} --data {Path(out_dir) / 'data.csv'} --out DIR"
    )


@main.command("json-schema")
@click.option("--out", type=click.Path(), help="Write to this file instead of standard output.")
def json_schema(out: str | None) -> None:
    """Print the JSON Schema of scheme files (for editors' YAML validation)."""
    from ._io import check_output_dir, write_outputs
    from .scheme import scheme_json_schema

    text = json.dumps(scheme_json_schema(), ensure_ascii=False, indent=2)
    if out:
        if Path(out).is_dir():
            _exit(f"error: {out}: is a folder; give the path of a file for the JSON Schema", 2)
        check_output_dir(Path(out).parent)
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
    """Generate the synthetic demo panels (one folder per bundled scheme).

    The --out folder holds the panels only and is replaced as a whole.
    """
    from ._io import check_replaceable, staged_folder
    from .datasets.demo import YEARS, write_demo_data

    out = check_replaceable(out_dir, frozenset(YEARS) | {"README.md", "manifest.json"})
    with staged_folder(out) as tmp:
        write_demo_data(tmp, seed=seed, schemes=list(scheme_ids) or None)
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


def _report_summary(result, out_hint: str) -> None:
    """Print what a report run did; exit 1 when a page failed."""
    p = result.pages
    click.echo(
        f"{len(p)} pages: {result.n_built} built, {len(p) - result.n_built} up to date, "
        f"{result.n_failed} failed ({result.seconds:.1f} s)"
    )
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    for f in result.failures:
        click.echo(f"FAILED {f}", err=True)
    click.echo(f"Open {out_hint} in a browser (file://{result.index.resolve()}); manifest: {result.manifest}")
    if not result.ok:
        sys.exit(1)


@main.command("report")
@click.option("--run", "run_path", required=True, type=click.Path(), help="Run spec: params/runs/NAME.yaml.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: the spec's, else the CPUs).",
)
@click.option("--force", is_flag=True, help="Rebuild every page, even those whose inputs did not change.")
@click.option(
    "--out", "out_dir", type=click.Path(), default=None, help="Output folder (default: reports/<run name>)."
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en", "bilingual"]),
    default=None,
    help="Language of the pages (default: the spec's `lang`, else bilingual).",
)
@click.option(
    "--scheduler",
    default=None,
    help="Dask scheduler address (tcp://host:8786) to build on (default: the spec's, else a local cluster).",
)
def report_cmd(
    run_path: str,
    jobs: int | None,
    force: bool,
    out_dir: str | None,
    lang: str | None,
    scheduler: str | None,
) -> None:
    """Build a run's HTML reports: a page per unit and year, an overview per year, comparisons.

    Only pages whose inputs changed are rebuilt; exits 1 when a page failed, 2 when the spec
    or an input is invalid.
    """
    from ._io import check_output_dir
    from .report import run_report

    if out_dir is not None:
        check_output_dir(out_dir)
    result = run_report(run_path, jobs=jobs, force=force, out=out_dir, scheduler=scheduler, lang=lang)
    _report_summary(result, str(result.index))


@main.command()
@click.option("--out", "out_dir", default="reports/demo", show_default=True, type=click.Path())
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for the reports (default 2).",
)
@click.option("--force", is_flag=True, help="Rebuild every report page.")
def demo(out_dir: str, seed: int, jobs: int | None, force: bool) -> None:
    """Generate the synthetic demo panels, score every bundled scheme and build the report set."""
    from ._console import print_summary as _print_table
    from ._io import check_output_dir, write_outputs
    from .datasets.demo import FILE_NAMES, YEARS, write_demo_data
    from .report.runner import demo_spec, run_report
    from .scheme import bundled_schemes

    check_output_dir(out_dir)
    ids = [p.stem for p in bundled_schemes() if p.stem in YEARS]
    data_dir = write_demo_data(Path(out_dir) / "data", seed=seed, schemes=ids)
    for sid in ids:
        paths = {role: data_dir / sid / name for role, name in FILE_NAMES.items() if role != "truth"}
        res = score_files(sid, **{role: p for role, p in paths.items() if p.exists()}).result
        write_outputs(
            Path(out_dir) / sid, {"summary.csv": res.summary, "items.csv": res.items, "lines.csv": res.lines}
        )
        click.echo(f"\n=== {res.scheme.id}: {res.scheme.label} — SYNTHETIC demo data")
        _print_table(res.summary[res.summary["year"] == res.summary["year"].max()], limit=6)
    click.echo(
        f"\nScored {len(ids)} schemes on synthetic demo panels (seed {seed}): {out_dir}/<scheme>/summary.csv, "
        f"items.csv and lines.csv; the panels and what they plant are in {data_dir}/ (README.md).\n"
        "Building the reports (a page per unit and year, an overview per year; params/runs/demo.yaml) …"
    )
    result = run_report(demo_spec(out_dir, seed, data_dir), jobs=jobs, force=force)
    _report_summary(result, f"{out_dir}/index.html")


@main.command()
@click.option("--scheme", "scheme_name", required=True, help="Scheme file or bundled scheme id.")
@click.option("--data", required=True, type=click.Path(), help="Panel: one row per unit and year.")
@click.option("--year", required=True, type=int, help="The year whose ranking is examined.")
@click.option(
    "--spec", "spec_path", required=True, type=click.Path(), help="Sensitivity spec (YAML) or its name."
)
@click.option("--draws", type=int, default=None, help="Monte Carlo draws (default: the spec's).")
@click.option(
    "--seed", type=int, default=None, help="Random seed (default: the spec's; same seed → same files)."
)
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Folder for the outputs.")
@click.option("--units", type=click.Path(), help="Unit registry (unit, name, kind, category).")
@click.option("--targets", type=click.Path(), help="Per-unit-year targets.")
@click.option("--grades", type=click.Path(), help="Inspector grades.")
@click.option(
    "--sobol-n",
    type=int,
    default=None,
    help="Sobol base samples, a power of 2 (default: the spec's; 0: none).",
)
@click.option("--encoding", default=None, help="Encoding of the CSV inputs (default: UTF-8, else GBK).")
@click.option("--allow-missing-columns", is_flag=True, help="Score items of absent columns as missing.")
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Score the draws on this Dask scheduler (e.g. tcp://host:8786); same files as a local run.",
)
def sensitivity(
    scheme_name, data, year, spec_path, draws, seed, out_dir, units, targets, grades, sobol_n, encoding,
    allow_missing_columns, scheduler,
) -> None:  # fmt: skip
    """Sensitivity of one year's ranking: rank intervals, tier probabilities, Sobol indices.

    Writes ranks.csv (one row per unit), sobol.csv (per factor: the mean absolute rank
    shift's and every unit's indices), loo.csv (leaving out each section or item),
    draws.csv (Kendall's tau per draw) and manifest.json to --out, all or nothing.
    With --scheduler the chunks of draws run as tasks on that Dask cluster.
    """
    from contextlib import ExitStack

    import pandas as pd
    from tqdm import tqdm

    from ._console import pad as _pad
    from ._io import write_outputs
    from .pipeline import analyse_files

    bars = []

    def progress(stage: str, total: int):
        bars.append(tqdm(total=total, desc=stage, unit="draw", file=sys.stderr, leave=False))
        return lambda done, _total, b=bars[-1]: b.update(done - b.n)

    try:
        with ExitStack() as stack:
            if scheduler:  # Dask only when asked for: the local path does not import it
                from distributed import Client

                from .sensitivity.cluster import use_client

                try:
                    client = stack.enter_context(Client(scheduler, timeout="20s"))
                except OSError as e:
                    raise click.ClickException(f"cannot reach the Dask scheduler at {scheduler}: {e}") from e
                stack.enter_context(use_client(client))
            res, manifest = analyse_files(
                scheme_name, data, year=year, spec=spec_path, units=units, targets=targets, grades=grades,
                draws=draws, seed=seed, sobol_n=sobol_n, encoding=encoding,
                allow_missing_columns=allow_missing_columns, progress=progress,
            )  # fmt: skip
    finally:
        for b in bars:
            b.close()
    draws, sobol_tab, ranks = res.draws, res.sobol, res.ranks
    files = write_outputs(out_dir, {**res.tables(), "manifest.json": manifest})
    for w in manifest["warnings"]:
        click.echo(f"warning: {w}", err=True)
    for kind, g in ranks.groupby("kind", sort=False):
        click.echo(f"\n{year} · {kind}: rank (5–95% of {draws} draws)")
        for row in g.head(12).itertuples():
            nominal = "—" if pd.isna(row.nominal_rank) else int(row.nominal_rank)
            span = "never ranked" if pd.isna(row.rank_q05) else f"{int(row.rank_q05)}–{int(row.rank_q95)}"
            veto = f"  P(veto) {row.p_veto:.2f}" if row.p_veto > 0 else ""
            click.echo(f"  {nominal!s:>3}  {_pad(str(row.name), 18)} {span:>8}{veto}")
    top = sobol_tab[sobol_tab["output"] == "mean_abs_shift"].sort_values("ST", ascending=False)
    if len(top):
        click.echo("\nSobol total indices (mean absolute rank shift): " + ", ".join(
            f"{r.factor} {r.ST:.2f}" for r in top.head(5).itertuples()
        ))  # fmt: skip
    click.echo(f"wrote {', '.join(str(f) for f in files)}")


@main.command("explore")
@click.option("--scheme", "scheme_name", required=True, help="Scheme file or bundled scheme id.")
@click.option("--data", required=True, type=click.Path(), help="Panel: one row per unit and year.")
@click.option("--units", type=click.Path(), help="Unit registry (unit, name, kind, category).")
@click.option("--targets", type=click.Path(), help="Per-unit-year targets.")
@click.option("--grades", type=click.Path(), help="Inspector grades.")
@click.option("--year", type=int, default=None, help="The year explored (default: the latest).")
@click.option("--port", type=int, default=8866, show_default=True, help="Port on 127.0.0.1.")
@click.option("--save-to", type=click.Path(), default=None, help="Where 'save variant' writes (.yaml).")
@click.option("--encoding", default=None, help="Encoding of the CSV inputs (default: UTF-8, else GBK).")
def explore_cmd(
    scheme_name: str, data: str, units, targets, grades, year, port: int, save_to, encoding
) -> None:
    """Serve the what-if explorer as a web app (Voila) on http://127.0.0.1:PORT/.

    The inputs are validated first (exit 2 with every problem, no server started).
    Stop it with Ctrl-C.
    """
    from .explore.serve import serve

    code = serve(
        scheme_name, data, units=units, targets=targets, grades=grades, year=year, port=port,
        save_to=save_to, encoding=encoding, announce=lambda m: click.echo(m, err=True),
    )  # fmt: skip
    if code:
        _exit(f"voila stopped with exit code {code}", code)


if __name__ == "__main__":  # pragma: no cover
    main()
