"""Typer declarations of `product-metrics validate` and `product-metrics build`, registered by
product_metrics.cli. Only typer is imported here: `product-metrics --help` stays instant."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from product_metrics.console import make_console

DatabaseOption = Annotated[
    Path | None,
    typer.Option("--database", help="DuckDB warehouse file (default: $PRODUCT_METRICS_DUCKDB_PATH, "
                                    "else the path of the dbt profile's DuckDB target)."),
]
DocsDirOption = Annotated[
    Path | None,
    typer.Option("--docs-dir", help="Where to write the GX Data Docs (static HTML; default: target/data_docs)."),
]
NoDocsOption = Annotated[bool, typer.Option("--no-docs", help="Skip building the Data Docs.")]
RejectShareOption = Annotated[
    float, typer.Option(min=0.0, max=1.0, help="Largest share of a source's raw rows that may be rejected.")]
AnomalyKOption = Annotated[
    float, typer.Option(min=0.0, help="Anomaly: a value more than k standard deviations from its trailing mean.")]
AnomalyWindowOption = Annotated[int, typer.Option(min=2, help="Anomaly: trailing periods the mean and stddev use.")]


def _settings(reject_share_limit: float, anomaly_k: float, anomaly_window: int, tables, layers, metrics_schema):
    from product_metrics.quality.commands import settings_from_options

    try:
        return settings_from_options(reject_share_limit=reject_share_limit, anomaly_k=anomaly_k,
                                     anomaly_window=anomaly_window, tables=tables, layers=layers,
                                     metrics_schema=metrics_schema)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


def validate(
    database: DatabaseOption = None,
    url: Annotated[str | None, typer.Option(
        "--url", help="SQLAlchemy URL of a server warehouse instead of the DuckDB file, e.g. "
                      "postgresql+psycopg2://user@host/db (default: $PRODUCT_METRICS_WAREHOUSE_URL).")] = None,
    docs_dir: DocsDirOption = None,
    no_docs: NoDocsOption = False,
    store: Annotated[bool, typer.Option(help="Append the results to dq_results (schema audit).")] = True,
    table: Annotated[list[str] | None, typer.Option(
        "--table", help="Only this metric table (repeatable; default: all).")] = None,
    layer: Annotated[list[str] | None, typer.Option(
        "--layer", help="Only this layer: metrics, staging or raw (repeatable; default: all).")] = None,
    metrics_schema: Annotated[str | None, typer.Option(
        help="Schema of the metric tables (default: where dbt builds them, from the manifest).")] = None,
    reject_share_limit: RejectShareOption = 0.05,
    anomaly_k: AnomalyKOption = 3.0,
    anomaly_window: AnomalyWindowOption = 12,
) -> None:
    """Run the data-quality gate (Great Expectations, as SQL in the warehouse) on a built warehouse.

    Writes the results to audit.dq_results and the Data Docs to --docs-dir; exits 1 on a critical
    failure (warnings, such as anomalies, are reported and do not fail)."""
    from product_metrics.quality.commands import default_docs_dir, run_validate

    settings = _settings(reject_share_limit, anomaly_k, anomaly_window, table, layer, metrics_schema)
    docs = None if no_docs else (docs_dir or default_docs_dir(database))
    code = run_validate(database=database, url=url, settings=settings, docs_dir=docs, store=store,
                        console=make_console())
    if code:
        raise typer.Exit(code)


def build(
    database: DatabaseOption = None,
    docs_dir: DocsDirOption = None,
    no_docs: NoDocsOption = False,
    reject_share_limit: RejectShareOption = 0.05,
    anomaly_k: AnomalyKOption = 3.0,
    anomaly_window: AnomalyWindowOption = 12,
) -> None:
    """`dbt build`, then the data-quality gate, with one summary; exits 1 if a stage fails."""
    from product_metrics.pipeline import run_build
    from product_metrics.quality.commands import default_docs_dir

    settings = _settings(reject_share_limit, anomaly_k, anomaly_window, None, None, None)
    docs = None if no_docs else (docs_dir or default_docs_dir(database))
    code = run_build(database=database, settings=settings, docs_dir=docs, console=make_console())
    if code:
        raise typer.Exit(code)
