"""Typer declarations of `product-metrics governance check`, `product-metrics catalog` and
`product-metrics alerts`, registered by product_metrics.cli. Only typer is imported here (the
bodies live in product_metrics.governance.commands): `product-metrics --help` stays instant."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from product_metrics.console import make_console

governance_app = typer.Typer(
    help="Metric governance: owners, guardrails, reviews and versions, enforced from the dbt manifest.",
    no_args_is_help=True,
)

ManifestDirOption = Annotated[
    Path | None,
    typer.Option("--manifest-dir", exists=True, file_okay=False,
                 help="Read manifest.json and semantic_manifest.json from this directory instead of running "
                      "`dbt parse` first."),
]
DatabaseOption = Annotated[
    Path | None,
    typer.Option("--database", help="DuckDB warehouse file (default: $PRODUCT_METRICS_DUCKDB_PATH, "
                                    "else the path of the dbt profile's DuckDB target)."),
]
UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="SQLAlchemy URL of a server warehouse instead of the DuckDB file, e.g. "
                               "postgresql+psycopg2://user@host/db (default: $PRODUCT_METRICS_WAREHOUSE_URL)."),
]


class FailOn(str, Enum):  # noqa: UP042 - str() of a member stays its qualified name, as typer shows it
    alert = "alert"
    warn = "warn"
    never = "never"


@governance_app.command("check")
def check(
    manifest_dir: ManifestDirOption = None,
    state: Annotated[Path | None, typer.Option(
        "--state", exists=True, file_okay=False,
        help="Directory with the previous manifest.json (+ semantic_manifest.json): a definition that changed "
             "since then needs a version bump and a DECISIONS.md entry.")] = None,
    today: Annotated[dt.datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="Date the review deadlines are checked against (default: today).")] = None,
    decisions: Annotated[Path | None, typer.Option(
        "--decisions", dir_okay=False,
        help="The decision log searched for '<metric> v<N>' entries (default: the project's DECISIONS.md).")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Fail on warnings too: an overdue review exits 1 (for CI that wants it).")] = False,
) -> None:
    """Check every metric's governance meta; exit 1 with the list of problems when a rule fails.

    An overdue review is a warning (one line per metric, exit 0) unless --strict. Exit 2: no manifest."""
    from product_metrics.governance.commands import run_check

    code = run_check(manifest_dir=manifest_dir, state=state, today=(today.date() if today else dt.date.today()),
                     decisions=decisions, console=make_console(), strict=strict)
    if code:
        raise typer.Exit(code)


def catalog(
    out: Annotated[Path | None, typer.Option(
        "--out", file_okay=False, help="Directory for the HTML catalog, index.html (default: target/metric_catalog).")
    ] = None,
    database: DatabaseOption = None,
    url: UrlOption = None,
    manifest_dir: ManifestDirOption = None,
    schema: Annotated[str | None, typer.Option(
        help="Schema of the metric_catalog table (default: the metric tables' schema, from the manifest).")] = None,
    table: Annotated[bool, typer.Option(help="Write the metric_catalog table to the warehouse.")] = True,
    today: Annotated[dt.datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="Date the review deadlines are checked against (default: today).")] = None,
) -> None:
    """Write the metric catalog: table metrics.metric_catalog and a static HTML page with the metric tree.

    One row per metric with every governance field, the tables it lives in and its latest value."""
    from product_metrics.governance.commands import run_catalog

    code = run_catalog(database=database, url=url, manifest_dir=manifest_dir, out=out, schema=schema,
                       write_table=table, console=make_console(), today=today.date() if today else None)
    if code:
        raise typer.Exit(code)


def alerts(
    fail_on: Annotated[FailOn, typer.Option(
        "--fail-on", help="Exit 1 on a breach at this level or worse (never: always exit 0).")] = FailOn.never,
    today: Annotated[dt.datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="As-of date: only periods before it count (default: every period); reviews "
                                   "due before it are listed as overdue (default: today).")] = None,
    database: DatabaseOption = None,
    url: UrlOption = None,
    manifest_dir: ManifestDirOption = None,
    schema: Annotated[str | None, typer.Option(
        help="Schema of the metric_alerts table (default: the audit schema, from the manifest).")] = None,
) -> None:
    """Compare each metric's latest complete value with its thresholds and dated targets, and find the
    anomalies of the latest complete periods; record them, with their top drivers, in audit.metric_alerts."""
    from product_metrics.governance.commands import run_alerts

    code = run_alerts(database=database, url=url, manifest_dir=manifest_dir, fail_on=fail_on.value,
                      today=today.date() if today else None, schema=schema, console=make_console())
    if code:
        raise typer.Exit(code)
