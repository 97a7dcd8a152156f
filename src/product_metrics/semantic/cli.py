"""The `product-metrics export` command. Registered in product_metrics.cli; only typer and the
standard library are imported at module level, so `product-metrics --help` stays instant."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def export(
    database: Annotated[
        Path | None,
        typer.Option("--database", help="DuckDB warehouse file (default: $PRODUCT_METRICS_DUCKDB_PATH, "
                                        "else the path of the dbt profile's DuckDB target)."),
    ] = None,
    schema: Annotated[str | None, typer.Option(
        help="Schema the tables are written to (default: the metric tables' schema, from the manifest).")] = None,
    saved_query: Annotated[
        list[str] | None,
        typer.Option("--saved-query", help="Export only this saved query, by its name (pm_headline_...) or its "
                                           "table's (headline_...); repeatable; default: all."),
    ] = None,
    semantic_manifest: Annotated[
        Path | None,
        typer.Option("--semantic-manifest", exists=True, dir_okay=False,
                     help="Use this semantic_manifest.json instead of running `dbt parse` first."),
    ] = None,
) -> None:
    """Write each saved query of the semantic layer as the table its export names, <metrics schema>.headline_*.

    MetricFlow writes the SQL, the warehouse runs it (what dbt platform exports do): the data
    never leaves the warehouse. Columns drop the semantic layer's `pm_` prefix (metric pm_nps is
    column nps). Prints the rows written per table.
    """
    import duckdb

    from product_metrics.console import make_console
    from product_metrics.errors import EXIT_CANNOT_RUN
    from product_metrics.project import Project
    from product_metrics.relations import MANIFEST, Relations, relations_for
    from product_metrics.semantic.engine import SemanticLayer, SemanticLayerError
    from product_metrics.semantic.export import export_saved_queries
    from product_metrics.semantic.manifest import parse_semantic_manifest
    from product_metrics.warehouse import check_duckdb_warehouse

    console = make_console()
    project = Project.locate(database)
    check_duckdb_warehouse(project.duckdb_path, write=True)  # it must exist: export never creates one
    try:
        if semantic_manifest is None:
            with console.status("dbt parse (semantic manifest)…"):
                semantic_manifest = parse_semantic_manifest(project)
        if schema is None:  # the manifest beside the semantic manifest says where the metric tables are
            schema = Relations.load(semantic_manifest.parent).metrics_schema \
                if (semantic_manifest.parent / MANIFEST).is_file() else relations_for(project).metrics_schema
        with SemanticLayer.open(semantic_manifest, project.duckdb_path, read_only=False) as layer:
            exported = export_saved_queries(layer, schema=schema, names=saved_query)
    except (SemanticLayerError, FileNotFoundError, duckdb.Error) as error:
        console.print(f"[red]✗ export failed:[/] {error}")
        raise typer.Exit(EXIT_CANNOT_RUN) from error

    console.print(f"Saved queries exported to {project.duckdb_path} with MetricFlow's SQL:")
    for item in exported:
        console.print(f"  {item.relation:<52} {item.rows:>10,} rows")
    tables = "table" if len(exported) == 1 else "tables"
    console.print(f"[green]✓[/] {len(exported)} {tables}, {sum(item.rows for item in exported):,} rows")
