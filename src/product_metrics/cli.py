"""The `product-metrics` command line. Heavy libraries are imported inside the commands so
that `product-metrics --help` answers at once."""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from product_metrics.console import make_console
from product_metrics.errors import EXIT_INTERNAL, UserError, first_line

if TYPE_CHECKING:
    from rich.console import Console

    from product_metrics.demo_data import DemoDataResult
    from product_metrics.project import Project


class _Commands(TyperGroup):
    """Every command runs inside this group's `invoke`: the one place that turns an error into one
    or two lines and an exit code (see product_metrics.errors); `--debug` lets the traceback through."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # exit codes, usage errors: typer prints them
            raise
        except Exception as error:
            if ctx.params.get("debug"):
                raise
            from rich.markup import escape

            console = make_console(stderr=True, soft_wrap=True, highlight=False)
            if isinstance(error, UserError):
                console.print(f"[red]✗[/] {escape(str(error))}")
                raise typer.Exit(error.exit_code) from None
            console.print(f"[red]✗ unexpected error:[/] {type(error).__name__}: {escape(first_line(error))}")
            console.print("  Run again with --debug for the traceback.")
            raise typer.Exit(EXIT_INTERNAL) from None


app = typer.Typer(
    cls=_Commands,
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option(
        "--debug", envvar="PRODUCT_METRICS_DEBUG",
        help="Show the Python traceback of an error instead of its one-line explanation.")] = False,
    project_dir: Annotated[Path | None, typer.Option(
        "--project-dir", envvar="DBT_PROJECT_DIR",
        help="Your dbt project (default: the nearest one above the working directory).")] = None,
    profiles_dir: Annotated[Path | None, typer.Option(
        "--profiles-dir", envvar="DBT_PROFILES_DIR",
        help="Where profiles.yml is, as for dbt (default: the project directory, then ~/.dbt).")] = None,
    target: Annotated[str | None, typer.Option(
        "--target", "-t", envvar="DBT_TARGET", help="The profile's target, as for dbt.")] = None,
    dbt_vars: Annotated[str | None, typer.Option(
        "--vars", envvar="PRODUCT_METRICS_DBT_VARS",
        help="dbt vars (YAML or JSON) for every dbt call, as for dbt's --vars.")] = None,
) -> None:
    """Canonical product metrics (retention, stickiness, CAC, LTV/CAC, NPS, K-factor) built by dbt.

    Exit codes: 0 ok · 1 a check failed · 2 cannot run (the message says why) ·
    3 the warehouse is busy (another refresh or process holds its lock) · 4 unexpected error (--debug)."""
    import os

    from product_metrics.project import PROFILES_DIR_ENV, PROJECT_DIR_ENVS, TARGET_ENV, VARS_ENV

    # dbt's own variables: every dbt and MetricFlow call of the command reads the same settings.
    for name, value in ((PROJECT_DIR_ENVS[0], project_dir), (PROFILES_DIR_ENV, profiles_dir),
                        (TARGET_ENV, target), (VARS_ENV, dbt_vars)):
        if value is not None:
            os.environ[name] = str(Path(value).resolve()) if isinstance(value, Path) else value

DatabaseOption = Annotated[
    Path | None,
    typer.Option("--database", help="DuckDB warehouse file (default: $PRODUCT_METRICS_DUCKDB_PATH, "
                                    "else the path of the dbt profile's DuckDB target)."),
]


@app.command("demo-data")
def demo_data(
    users: Annotated[int, typer.Option(min=1, help="Number of users to generate.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 42,
    days: Annotated[int, typer.Option(min=28, help="Days of history.")] = 365,
    end_date: Annotated[
        dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Last day with data.")
    ] = dt.datetime(2026, 6, 30),
    dirty: Annotated[bool, typer.Option(help="Also plant every kind of bad row of the spec.")] = False,
    schema: Annotated[str, typer.Option(help="Schema to write the raw tables into.")] = "raw",
    database: DatabaseOption = None,
) -> None:
    """Write deterministic, realistic raw data for every raw table into the warehouse."""
    console = make_console()
    project, result = _write_demo_data(database, console, users=users, seed=seed, days=days,
                                       end_date=end_date.date(), dirty=dirty, schema=schema)
    console.print(f"Wrote raw data ({result.start_date} … {result.end_date}) to "
                  f"{project.duckdb_path} schema [bold]{schema}[/]:")
    for table, count in result.row_counts.items():
        console.print(f"  {table:<18} {count:>12,} rows")
    if dirty:
        console.print(f"  planted {len(result.planted):,} bad rows")


@app.command()
def demo(
    users: Annotated[int, typer.Option(min=1, help="Number of users to generate.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    dirty: Annotated[bool, typer.Option(help="Plant bad rows too (they end in rejected_rows).")] = False,
    database: DatabaseOption = None,
) -> None:
    """Generate the demo data, run `dbt build`, and print the headline numbers."""
    console = make_console()
    project, data = _write_demo_data(database, console, users=users, seed=seed, dirty=dirty)
    console.print(f"[green]✓[/] demo data: {sum(data.row_counts.values()):,} raw rows "
                  f"({data.row_counts.get('events', 0):,} events) in {project.duckdb_path}")
    run = _build(project, console)
    if not run.success:
        raise typer.Exit(1)
    _print_headline(project, console, run.target_path)
    _write_experiment_readouts(project, console, run.target_path)
    _write_change_drivers(project, console, run.target_path)


def _write_experiment_readouts(project, console, manifest_dir: Path) -> None:
    """The demo experiments' readouts written beside the marts, as the `experiments` stage of build does."""
    from product_metrics.experiments.commands import read_out_and_write
    from product_metrics.relations import Relations

    _, detail = read_out_and_write(project.duckdb_path, None, Relations.load(manifest_dir))
    console.print(f"[green]✓[/] experiments: {detail} (`product-metrics experiments` prints them)", highlight=False)


def _write_change_drivers(project, console, manifest_dir: Path) -> None:
    """metrics.fct_metric_change_drivers written as the `drivers` stage of build does, and the north
    star's latest week explained in one line."""
    from product_metrics.drivers.explain import explain
    from product_metrics.drivers.tables import explain_and_write, latest_comparisons
    from product_metrics.governance.registry import load_registry
    from product_metrics.warehouse import Warehouse

    registry = load_registry(manifest_dir)
    detail = explain_and_write(project.duckdb_path, None, registry)
    console.print(f"[green]✓[/] change drivers: {detail} (`product-metrics explain` explains any change)",
                  highlight=False)
    stars = {m.name for m in registry.governed()
             if m.governance.role == "north_star" and m.governance.status == "certified"}
    with Warehouse.open(project.duckdb_path, None) as warehouse:
        for comparison in latest_comparisons(warehouse, registry):
            if comparison.metric in stars and comparison.after.grain == "week":
                explanation = explain(warehouse, registry, comparison.metric, comparison.before, comparison.after)
                console.print(f"  {explanation.summary()}", highlight=False, soft_wrap=True)


@app.command()
def headline(database: DatabaseOption = None) -> None:
    """Print the headline numbers of an already built warehouse."""
    from product_metrics.project import Project
    from product_metrics.warehouse import check_duckdb_warehouse

    project = Project.locate(database)
    check_duckdb_warehouse(project.duckdb_path, write=False, connect=False)  # before the slow parse
    _print_headline(project, make_console())


def _write_demo_data(database: Path | None, console: Console, *, users: int,
                     **options: Any) -> tuple[Project, DemoDataResult]:
    """Generate the demo data (`generate_demo_data`'s options) into the project's DuckDB file. The
    generator refuses impossible sizes with ValueError: a user error."""
    from product_metrics.demo_data import generate_demo_data
    from product_metrics.project import Project
    from product_metrics.warehouse import check_duckdb_warehouse

    project = Project.locate(database)
    check_duckdb_warehouse(project.duckdb_path, write=True, create=True)
    with console.status(f"Generating {users:,} users of demo data…"):
        try:
            return project, generate_demo_data(project.duckdb_path, users=users, **options)
        except ValueError as error:
            raise UserError(f"Demo data not written: {error}.") from error


def _build(project, console, vars: dict[str, object] | None = None):
    from product_metrics.build_progress import dbt_build_with_progress

    return dbt_build_with_progress(project, console, vars=vars)


def _print_headline(project, console, manifest_dir: Path | None = None) -> None:
    """The headline of the project's warehouse, from the tables the manifest of `manifest_dir` (a
    run's target path; default: a fresh parse) says dbt built."""
    from rich.table import Table

    from product_metrics.relations import relations_for
    from product_metrics.report.headline import format_cell, header, read_headline

    with console.status("dbt parse (where the metric tables are)…") if manifest_dir is None else nullcontext():
        relations = relations_for(project, manifest_dir)
    for section in read_headline(project.duckdb_path, relations):
        table = Table(title=section.title, title_justify="left", caption=section.note or None,
                      caption_justify="left")
        for column in section.columns:
            table.add_column(header(column), justify="left" if column in {"channel", "cohorts"} else "right")
        for row in section.rows:
            table.add_row(*(format_cell(c, v) for c, v in zip(section.columns, row, strict=True)))
        console.print(table)


# `product-metrics export` (saved queries -> tables); its body lives in product_metrics.semantic.
from product_metrics.semantic.cli import export as _export  # typer only: --help stays instant

app.command("export")(_export)

# `product-metrics validate` and `build` (the data-quality gate); bodies live in product_metrics.quality.
from product_metrics.quality import cli as _quality_cli  # typer only: --help stays instant

app.command("validate")(_quality_cli.validate)
app.command("build")(_quality_cli.build)

# `product-metrics governance check`, `catalog` and `alerts`; bodies live in product_metrics.governance.
from product_metrics.governance import cli as _governance_cli  # typer only: --help stays instant

app.add_typer(_governance_cli.governance_app, name="governance")
app.command("catalog")(_governance_cli.catalog)
app.command("alerts")(_governance_cli.alerts)

# `product-metrics report` (static HTML charts); its body lives in product_metrics.report.
from product_metrics.report import cli as _report_cli  # typer only: --help stays instant

app.command("report")(_report_cli.report)

# `product-metrics experiments` (the A/B readouts); its body lives in product_metrics.experiments.
from product_metrics.experiments import cli as _experiments_cli  # typer only: --help stays instant

app.command("experiments")(_experiments_cli.experiments)

# `product-metrics explain` (why a metric moved); its body lives in product_metrics.drivers.
from product_metrics.drivers import cli as _drivers_cli  # typer only: --help stays instant

app.command("explain")(_drivers_cli.explain)

# `product-metrics refresh` (scheduled incremental refresh); its body lives in product_metrics.pipeline.
from product_metrics.refresh_cli import refresh as _refresh  # typer only: --help stays instant

app.command("refresh")(_refresh)


if __name__ == "__main__":
    app()
