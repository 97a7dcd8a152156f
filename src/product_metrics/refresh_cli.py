"""Typer declaration of `product-metrics refresh`, registered by product_metrics.cli. Only typer
is imported here (the body lives in product_metrics.pipeline): `product-metrics --help` stays instant."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from product_metrics.quality.cli import (
    AnomalyKOption,
    AnomalyWindowOption,
    DatabaseOption,
    DocsDirOption,
    NoDocsOption,
    RejectShareOption,
)


def refresh(
    as_of: Annotated[dt.datetime | None, typer.Option(
        "--as-of", formats=["%Y-%m-%d"],
        help="Cutoff date (exclusive end of the data; default: the day after the latest valid event).")] = None,
    full_refresh: Annotated[bool, typer.Option(
        "--full-refresh", help="Rebuild every incremental model from all raw rows (after a change older than "
                               "the late-arrival window, or to a var that shapes history).")] = False,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", min=0.01, metavar="MINUTES",
        help="Stop dbt when it runs longer (interrupted like Ctrl-C, killed 25 s later); the refresh fails "
             "and publishes nothing.")] = None,
    database: DatabaseOption = None,
    docs_dir: DocsDirOption = None,
    no_docs: NoDocsOption = False,
    reject_share_limit: RejectShareOption = 0.05,
    anomaly_k: AnomalyKOption = 3.0,
    anomaly_window: AnomalyWindowOption = 12,
) -> None:
    """Scheduled refresh: incremental `dbt build`, data quality, governance check, threshold alerts.

    Re-derives only the last days (var product_metrics__late_arrival_days) of the event-heavy
    models: the tables a full rebuild gives. Idempotent; refused (exit 3) while another refresh of
    the same warehouse runs; a killed refresh needs nothing cleaned up before the next one. Ctrl-C
    or SIGTERM stops dbt (exit 130); nothing is published unless every stage passed."""
    from product_metrics.console import make_console
    from product_metrics.pipeline import run_refresh
    from product_metrics.quality.commands import default_docs_dir, settings_from_options
    from product_metrics.refresh import RefreshOptions

    settings = settings_from_options(reject_share_limit=reject_share_limit, anomaly_k=anomaly_k,
                                     anomaly_window=anomaly_window, tables=None, layers=None)
    docs = None if no_docs else (docs_dir or default_docs_dir(database))
    options = RefreshOptions(as_of=as_of.date() if as_of else None, full_refresh=full_refresh, timeout_minutes=timeout)
    code = run_refresh(database=database, options=options, settings=settings, docs_dir=docs, console=make_console())
    if code:
        raise typer.Exit(code)
