"""`product-metrics export`: every saved query becomes a table in the warehouse.

dbt Core cannot run saved-query exports (a dbt platform feature). This does the same with
MetricFlow's own engine: MetricFlow writes each saved query's SQL, and the warehouse runs
`create or replace table <schema>.<saved query> as <sql>`: the data never leaves the warehouse.
All tables are replaced in one transaction, so a failure leaves the previous export intact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from product_metrics.semantic.engine import SemanticLayer, SemanticLayerError


@dataclass(frozen=True)
class ExportedTable:
    saved_query: str
    relation: str
    rows: int


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def export_saved_queries(
    layer: SemanticLayer, *, schema: str = "metrics", names: Sequence[str] | None = None
) -> list[ExportedTable]:
    """Materialise the saved queries (all, or `names`) as tables `<schema>.<saved query name>`."""
    available = [query.name for query in layer.saved_queries()]
    selected = list(names) if names else available
    if unknown := sorted(set(selected) - set(available)):
        raise SemanticLayerError(f"Unknown saved queries {unknown}; the project defines {available}.")
    if not selected:
        raise SemanticLayerError("The project defines no saved queries (models/semantic/_semantic__saved_queries.yml).")
    # Every query is planned before anything is written: a bad one fails the export up front.
    statements = {name: layer.sql(saved_query=name) for name in selected}

    connection = layer.connection
    exported: list[ExportedTable] = []
    connection.execute("begin transaction")
    try:
        connection.execute(f"create schema if not exists {_quote(schema)}")
        for name, sql in statements.items():
            relation = f"{_quote(schema)}.{_quote(name)}"
            connection.execute(f"create or replace table {relation} as\n{sql}")
            [(rows,)] = connection.execute(f"select count(*) from {relation}").fetchall()
            exported.append(ExportedTable(saved_query=name, relation=f"{schema}.{name}", rows=int(rows)))
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise
    return exported
