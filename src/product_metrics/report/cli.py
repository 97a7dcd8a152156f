"""Typer declaration of `product-metrics report`, registered by product_metrics.cli. Only typer is
imported here (plotly and duckdb load inside the command): `product-metrics --help` stays instant."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def report(
    out: Annotated[Path | None, typer.Option(
        "--out", file_okay=False, help="Directory for the report, index.html (default: target/report).")] = None,
    database: Annotated[Path | None, typer.Option(
        "--database", help="DuckDB warehouse file (default: $PRODUCT_METRICS_DUCKDB_PATH, "
                           "else the path of the dbt profile's DuckDB target).")] = None,
) -> None:
    """Write a static, self-contained HTML report of the built warehouse: charts of every headline metric
    with their definitions and owners, the north star's target and drivers, threshold, target and anomaly
    alerts and data-quality status. Viewing it needs no network."""

    from product_metrics.console import make_console
    from product_metrics.project import Project
    from product_metrics.relations import relations_for
    from product_metrics.report.html import write_report
    from product_metrics.warehouse import check_duckdb_warehouse

    console = make_console()
    project = Project.locate(database)
    # A missing or unreadable warehouse raises UserError: product_metrics.cli prints it (exit 2, 3 if locked).
    check_duckdb_warehouse(project.duckdb_path, write=False, connect=False)  # before the slow parse
    with console.status("dbt parse (where the tables are)…"):
        relations = relations_for(project)
    targets = _target_statuses(project)
    path, result = write_report(out or project.root / "target" / "report", project.duckdb_path, relations=relations,
                                targets=targets)
    console.print(f"[green]✓[/] report: {path} ({len(result.drawn)} charts)")
    for key, reason in result.not_drawn.items():
        console.print(f"  [yellow]![/] {key}: {reason}")


def _target_statuses(project) -> list:
    """The metrics' dated targets, judged as of their latest complete period (product_metrics.governance.
    targets), shown with the north star and the tiles."""
    from product_metrics.governance.registry import load_registry
    from product_metrics.governance.targets import evaluate_targets
    from product_metrics.relations import parsed_manifest_dir
    from product_metrics.warehouse import Warehouse

    registry = load_registry(parsed_manifest_dir(project))
    with Warehouse.open(project.duckdb_path, read_only=True) as warehouse:
        return evaluate_targets(registry, warehouse, project)
