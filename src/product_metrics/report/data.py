"""What the HTML report reads from the warehouse: the metric tables it charts, the metric catalog
(definitions and owners) and the audit tables (threshold alerts, data-quality results). A table that
is not there is recorded as missing, never an error: the report says which command builds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import pandas as pd

# Logical schema names: the warehouse maps them to the schemas dbt built (ReportTables.name).
METRICS_SCHEMA = "metrics"
AUDIT_SCHEMA = "audit"


@dataclass(frozen=True)
class Definition:
    """A metric as the catalog describes it, shown under the chart that plots it."""

    metric_name: str
    label: str | None
    description: str | None
    formula: str | None
    owner_name: str | None
    owner_email: str | None
    unit: str | None
    status: str | None
    direction: str | None
    threshold_warn: float | None
    threshold_alert: float | None
    latest_period: object
    latest_value: float | None
    lives_in_table: str | None
    next_review_due: object


@dataclass
class ReportTables:
    """The built warehouse as the report reads it: a read-only DuckDB connection
    (product_metrics.warehouse.open_duckdb) and `tables`, every `schema.table` present.
    Tables are named logically (`metrics.fct_x`, `audit.dq_results`); `relations` (product_metrics.
    relations.Relations) maps them to where dbt built them (default: the demo's exact schemas)."""

    path: Path
    tables: set[str] = field(default_factory=set)
    _connection: Any = None
    relations: Any = None

    @classmethod
    def open(cls, path: Path, relations=None) -> ReportTables:
        """Raises product_metrics.errors.UserError when the file is missing or cannot be opened."""
        from product_metrics.relations import Relations
        from product_metrics.warehouse import open_duckdb

        connection = open_duckdb(path, read_only=True)
        names = connection.sql("select table_schema || '.' || table_name from information_schema.tables "
                               "where table_catalog = current_database()").fetchall()
        return cls(path=path, tables={name for (name,) in names}, _connection=connection,
                   relations=relations or Relations.default())

    def name(self, table: str) -> str:
        """The built name of logical `schema.table`: `metrics.fct_x` -> `main_metrics.fct_x`."""
        return self.relations.table(table)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def has(self, table: str) -> bool:
        """Whether logical `schema.table` was built."""
        return self.name(table) in self.tables

    def frame(self, sql: str) -> pd.DataFrame:
        return self._connection.sql(sql).df()

    def scalar(self, sql: str) -> object:
        rows = self._connection.sql(sql).fetchall()  # DuckDB 2: fetch everything, nothing left pending
        return rows[0][0] if rows else None


def read_definitions(warehouse: ReportTables) -> dict[str, Definition] | None:
    """Every metric of metrics.metric_catalog by name; None when `product-metrics catalog` has not run."""
    if not warehouse.has(f"{METRICS_SCHEMA}.metric_catalog"):
        return None
    table = warehouse.name(f"{METRICS_SCHEMA}.metric_catalog")
    columns = list(Definition.__dataclass_fields__)
    frame = warehouse.frame(f"select {', '.join(columns)} from {table}")
    # pandas turns a SQL null into NaN/NaT; the page shows None as "—".
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return {row["metric_name"]: Definition(**row) for row in records}


def latest_alert_run(warehouse: ReportTables) -> pd.DataFrame | None:
    """The breaches the latest `product-metrics alerts` run that recorded any wrote (the table holds
    breaches only, appended per run)."""
    if not warehouse.has(f"{AUDIT_SCHEMA}.metric_alerts"):
        return None
    table = warehouse.name(f"{AUDIT_SCHEMA}.metric_alerts")
    return warehouse.frame(f"""
        select run_at, metric_name, period, value, threshold, level, direction, "table", "column"
        from {table}
        where run_at = (select max(run_at) from {table})
        order by case level when 'alert' then 0 else 1 end, metric_name
    """)


def latest_quality_run(warehouse: ReportTables) -> pd.DataFrame | None:
    """Per table, the checks of the latest `product-metrics validate` run: passed, critical failures, warnings."""
    if not warehouse.has(f"{AUDIT_SCHEMA}.dq_results"):
        return None
    table = warehouse.name(f"{AUDIT_SCHEMA}.dq_results")
    return warehouse.frame(f"""
        with latest as (
            select * from {table}
            where run_id = (select run_id from {table} order by run_at desc limit 1)
        )
        select
            any_value(run_at) as run_at,
            table_name,
            count(*) as checks,
            count(*) filter (where success) as passed,
            count(*) filter (where not success and severity = 'critical') as critical_failures,
            count(*) filter (where not success and severity <> 'critical') as warnings,
            string_agg(distinct case when not success then rule end, ', ') as failed_rules
        from latest
        group by table_name
        order by critical_failures desc, warnings desc, table_name
    """)
