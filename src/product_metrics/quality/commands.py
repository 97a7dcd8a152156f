"""Body of `product-metrics validate` (quality/cli.py only declares it), and the settings and table
locations the data-quality stage of build and refresh (product_metrics.pipeline) shares with it."""

from __future__ import annotations

import contextlib
from pathlib import Path

from product_metrics.errors import UserError
from product_metrics.quality.settings import QualitySettings, Schemas

LAYERS = ("metrics", "staging", "raw")


def settings_from_options(*, reject_share_limit: float, anomaly_k: float, anomaly_window: int,
                          tables: list[str] | None, layers: list[str] | None,
                          metrics_schema: str | None = None) -> QualitySettings:
    unknown = set(layers or ()) - set(LAYERS)
    if unknown:
        raise ValueError(f"Unknown layer(s) {sorted(unknown)}: choose from {', '.join(LAYERS)}.")
    return QualitySettings(schemas=Schemas(metrics=metrics_schema or Schemas.metrics),
                           reject_share_limit=reject_share_limit, anomaly_k=anomaly_k, anomaly_window=anomaly_window,
                           tables=tuple(tables or ()), include_layers=tuple(layers or LAYERS),
                           metrics_schema_option=metrics_schema)


def default_docs_dir(database: Path | None) -> Path:
    from product_metrics.project import Project

    return Project.locate(database).root / "target" / "data_docs"


def run_validate(*, database: Path | None, url: str | None, settings: QualitySettings, docs_dir: Path | None,
                 store: bool, console) -> int:
    """Validate, print the summary; the exit code is 1 on a critical failure, 2 when it cannot run,
    3 when another process holds the warehouse's lock."""
    from dataclasses import replace

    from product_metrics.quality.summary import print_report
    from product_metrics.quality.validate import validate_warehouse
    from product_metrics.quality.warehouse import DuckDBWarehouse, resolve_warehouse

    try:
        warehouse = resolve_warehouse(database, url)
        if isinstance(warehouse, DuckDBWarehouse) and not warehouse.path.is_file():
            warehouse.connect()  # raises WarehouseError naming the missing file, before the slow parse
        settings = settings.located(relations_with_status(console, database=database))
        if not store and isinstance(warehouse, DuckDBWarehouse):  # reads only: a read-only file will do
            warehouse = replace(warehouse, read_only=True)
        with console.status(f"Validating {warehouse.label} (loading Great Expectations)…") as status:
            report = validate_warehouse(
                warehouse, settings, docs_dir=docs_dir, store=store,
                on_progress=lambda p: status.update(progress_text(p)))
    except UserError as error:  # WarehouseError, or a manifest that says nothing (RelationsError)
        console.print(f"[red]✗ data quality could not run:[/] {error}", soft_wrap=True)
        return error.exit_code
    print_report(report, console)
    return 0 if report.success else 1


def relations_with_status(console, manifest_dir: Path | None = None, project=None, database: Path | None = None):
    """Where dbt built the tables and what it read: the manifest of `manifest_dir` (a run's), else
    a fresh `dbt parse` of the project (product_metrics.relations); the demo layout when there is no project."""
    from product_metrics.project import Project, ProjectNotFound
    from product_metrics.relations import relations_for

    if project is None:
        try:
            project = Project.locate(database)
        except ProjectNotFound:
            return relations_for(None, manifest_dir)
    with console.status("dbt parse (where the tables are)…") if manifest_dir is None else contextlib.nullcontext():
        return relations_for(project, manifest_dir)


def progress_text(progress) -> str:
    suites = f" {progress.total} suites" if progress.total else ""
    return f"Data quality: {progress.stage}{suites} (GX, as SQL in the warehouse)…"
