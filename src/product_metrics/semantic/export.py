"""`product-metrics export`: every saved query becomes a table in the warehouse.

dbt Core cannot run saved-query exports (a dbt platform feature). This does the same with
MetricFlow's own engine: MetricFlow writes each saved query's SQL, and the warehouse runs
`create or replace table <schema>.<table> as <sql>`: the data never leaves the warehouse. The
table is the one the saved query's `exports:` names (`headline_*`). All tables are replaced in one
transaction, so a failure leaves the previous export intact.

The package's semantic-layer names carry the prefix `pm_` (they share a namespace with the host
project's); BI reads the tables by column, so the columns drop it: metric `pm_dau` is column `dau`,
group-by `pm_user__platform` is `user__platform`, `metric_time__week` stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from product_metrics.semantic.engine import SemanticLayer, SemanticLayerError
from product_metrics.warehouse import quote


@dataclass(frozen=True)
class ExportedTable:
    saved_query: str
    relation: str
    rows: int


NAME_PREFIX = "pm_"


def bi_column(name: str) -> str:
    """A MetricFlow output column without the package's name prefix, in each `__` part (entity paths)."""
    return "__".join(part.removeprefix(NAME_PREFIX) for part in name.split("__"))


def _bi_select(connection, sql: str) -> str:
    """`sql` with its columns renamed for BI (bi_column); refuses two columns that would get one name."""
    cursor = connection.execute(f"select * from (\n{sql}\n) as saved_query limit 0")
    columns = [column for column, *_ in cursor.description or []]
    renamed = [bi_column(column) for column in columns]
    if len(set(renamed)) != len(renamed):
        raise SemanticLayerError(f"Columns {columns} give duplicate names {renamed} once `{NAME_PREFIX}` is dropped; "
                                 "rename a metric or group-by of the saved query.")
    select = ", ".join(f"{quote(old)} as {quote(new)}" for old, new in zip(columns, renamed, strict=True))
    return f"select {select} from (\n{sql}\n) as saved_query"


def export_saved_queries(
    layer: SemanticLayer, *, schema: str = "metrics", names: Sequence[str] | None = None
) -> list[ExportedTable]:
    """Materialise the saved queries (all, or `names`: saved-query or table names) as tables
    `<schema>.<table>`, columns named by bi_column."""
    queries = layer.saved_queries()
    available = [query.name for query in queries]
    by_name = {query.name: query for query in queries} | {query.table: query for query in queries}
    selected = [by_name[name] for name in names if name in by_name] if names else queries
    if unknown := sorted(set(names or ()) - set(by_name)):
        raise SemanticLayerError(f"Unknown saved queries {unknown}; the project defines {available}.")
    if not selected:
        raise SemanticLayerError("The project defines no saved queries (models/marts/_marts__exposures.yml).")
    connection = layer.connection
    # Every query is planned before anything is written: a bad one fails the export up front.
    statements = {query.table: (query.name, _bi_select(connection, layer.sql(saved_query=query.name)))
                  for query in selected}

    exported: list[ExportedTable] = []
    connection.execute("begin transaction")
    try:
        connection.execute(f"create schema if not exists {quote(schema)}")
        for table, (name, sql) in statements.items():
            relation = f"{quote(schema)}.{quote(table)}"
            connection.execute(f"create or replace table {relation} as\n{sql}")
            [(rows,)] = connection.execute(f"select count(*) from {relation}").fetchall()
            exported.append(ExportedTable(saved_query=name, relation=f"{schema}.{table}", rows=int(rows)))
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise
    return exported
