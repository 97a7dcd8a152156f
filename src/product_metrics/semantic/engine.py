"""MetricFlow's engine on a parsed semantic manifest and a DuckDB warehouse, in one process.

MetricFlow writes the SQL (the same SQL `mf query --explain` prints); DuckDB runs it where the
data is. Used by `product-metrics export` and by the tests that check the semantic layer agrees
with the metric tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

SEMANTIC_MANIFEST = "semantic_manifest.json"


class SemanticLayerError(RuntimeError):
    pass


class QueryOptions(TypedDict, total=False):
    """The optional parts of a metric query (SemanticLayer.sql and .query), as MetricFlow takes them."""

    where: Sequence[str]
    order_by: Sequence[str]
    limit: int | None
    saved_query: str | None


@dataclass(frozen=True)
class QueryResult:
    """Rows of a MetricFlow query, with the SQL MetricFlow generated for it."""

    sql: str
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class SavedQuery:
    name: str
    description: str
    metrics: list[str]
    group_by: list[str]
    table: str  # the table `product-metrics export` writes: the export's alias, else the query's name


def manifest_catalog(manifest: dict[str, Any]) -> str:
    """The single database every semantic model and time spine of the manifest lives in."""
    relations = [model["node_relation"] for model in manifest.get("semantic_models", [])]
    relations += [spine["node_relation"] for spine in
                  manifest.get("project_configuration", {}).get("time_spines", [])]
    catalogs = {relation.get("database") for relation in relations}
    if len(catalogs) != 1 or None in catalogs:
        raise SemanticLayerError(
            f"The semantic manifest's models live in databases {sorted(map(str, catalogs))}; "
            "the DuckDB engine needs exactly one (the warehouse file dbt parsed with)."
        )
    return catalogs.pop()


def _export_table(query: dict[str, Any]) -> str:
    """The table name a saved query's (first) export declares: `config.alias`, else the export's name."""
    for export in query.get("exports") or []:
        alias = (export.get("config") or {}).get("alias")
        return alias or export["name"]
    return query["name"]


class SemanticLayer:
    """Query metrics and saved queries of a semantic manifest on a DuckDB warehouse."""

    def __init__(self, manifest_path: Path, warehouse_path: Path, *, read_only: bool = True) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        from product_metrics.semantic.duckdb_client import DuckDbSqlClient, attach_warehouse

        if not manifest_path.is_file():
            raise SemanticLayerError(f"No semantic manifest at {manifest_path}: run `dbt parse` first.")
        raw = manifest_path.read_text()
        self.manifest_path = manifest_path
        self.warehouse_path = warehouse_path
        self._raw_manifest: dict[str, Any] = json.loads(raw)
        catalog = manifest_catalog(self._raw_manifest)
        self._client = DuckDbSqlClient(attach_warehouse(warehouse_path, catalog, read_only=read_only))
        manifest = parse_manifest_from_dbt_generated_manifest(manifest_json_string=raw)
        self._engine = MetricFlowEngine(semantic_manifest_lookup=SemanticManifestLookup(manifest),
                                        sql_client=self._client)

    @classmethod
    @contextmanager
    def open(cls, manifest_path: Path, warehouse_path: Path, *, read_only: bool = True) -> Iterator[SemanticLayer]:
        layer = cls(manifest_path, warehouse_path, read_only=read_only)
        try:
            yield layer
        finally:
            layer.close()

    def close(self) -> None:
        self._client.close()

    @property
    def connection(self):
        """The DuckDB session (warehouse attached and in use)."""
        return self._client.connection

    def saved_queries(self) -> list[SavedQuery]:
        return [
            SavedQuery(
                name=query["name"],
                description=query.get("description") or "",
                metrics=list(query["query_params"].get("metrics", [])),
                group_by=list(query["query_params"].get("group_by", [])),
                table=_export_table(query),
            )
            for query in self._raw_manifest.get("saved_queries", [])
        ]

    def metric_names(self) -> list[str]:
        return [metric["name"] for metric in self._raw_manifest.get("metrics", [])]

    def sql(
        self,
        metrics: Sequence[str] = (),
        group_by: Sequence[str] = (),
        **options: Unpack[QueryOptions],
    ) -> str:
        """The SQL MetricFlow generates for a query or a saved query (what `mf query --explain` shows)."""
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        request = MetricFlowQueryRequest.create(
            saved_query_name=options.get("saved_query"),
            metric_names=list(metrics) or None,
            group_by_names=list(group_by) or None,
            where_constraints=list(options.get("where", ())) or None,
            order_by_names=list(options.get("order_by", ())) or None,
            limit=options.get("limit"),
        )
        return self._engine.explain(request).sql_statement.sql

    def query(
        self,
        metrics: Sequence[str] = (),
        group_by: Sequence[str] = (),
        **options: Unpack[QueryOptions],
    ) -> QueryResult:
        """Run a metric query in the warehouse; values keep DuckDB's types (dates, decimals, doubles)."""
        sql = self.sql(metrics, group_by, **options)
        cursor = self.connection.execute(sql)
        columns = [description[0] for description in cursor.description or []]
        return QueryResult(sql=sql, columns=columns, rows=cursor.fetchall())
