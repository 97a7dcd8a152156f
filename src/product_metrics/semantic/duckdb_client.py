"""A MetricFlow `SqlClient` on a DuckDB connection, without a dbt adapter.

`mf` reaches the warehouse through a dbt adapter, which means loading a dbt project and profile
in-process. The Python API only needs to run SQL on the DuckDB file, so it talks to DuckDB
directly: one process, no dbt invocation, and any warehouse file can be queried with one parsed
semantic manifest (see `attach_warehouse`).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow.sql.render.sql_plan_renderer import SqlPlanRenderer
from metricflow_semantics.sql.sql_bind_parameters import SqlBindParameterSet

from product_metrics.warehouse import open_duckdb, quote

NO_PARAMETERS = SqlBindParameterSet()


def attach_warehouse(path: Path, catalog: str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session with the warehouse file attached as `catalog` and in use.

    The semantic manifest names relations `"<catalog>"."<schema>"."<table>"`, where the catalog
    is the stem of the file dbt parsed with. Attaching under that name lets the same manifest
    query any copy of the warehouse, whatever its file name.
    """
    if not path.is_file():
        raise FileNotFoundError(f"No DuckDB warehouse at {path}: build it first (`product-metrics demo` or `dbt build`).")
    con = open_duckdb(None)
    con.execute("set TimeZone = 'UTC'")
    escaped_path = str(path).replace("'", "''")
    mode = " (read_only)" if read_only else ""
    con.execute(f"attach '{escaped_path}' as {quote(catalog)}{mode}")
    con.execute(f"use {quote(catalog)}")
    return con


class DuckDbSqlClient:
    """Runs MetricFlow's SQL on a DuckDB connection (implements metricflow's SqlClient protocol)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection
        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self._connection

    @property
    def sql_engine_type(self) -> SqlEngine:
        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self) -> SqlPlanRenderer:
        return self._renderer

    def query(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_PARAMETERS) -> MetricFlowDataTable:
        cursor = self._connection.execute(stmt, self._parameters(sql_bind_parameter_set))
        column_names = [description[0] for description in cursor.description or []]
        return MetricFlowDataTable.create_from_rows(column_names=column_names, rows=cursor.fetchall())

    def execute(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_PARAMETERS) -> None:
        self._connection.execute(stmt, self._parameters(sql_bind_parameter_set))

    def dry_run(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_PARAMETERS) -> None:
        self._connection.execute(f"explain {stmt}", self._parameters(sql_bind_parameter_set))

    def close(self) -> None:
        self._connection.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"

    @staticmethod
    def _parameters(parameter_set: SqlBindParameterSet) -> dict[str, object] | None:
        return dict(parameter_set.param_dict) or None
