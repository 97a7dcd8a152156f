"""What the HTML report reads from the warehouse: the metric tables it charts, the metric catalog
(definitions and owners) and the audit tables (threshold alerts, data-quality results). A table that
is not there is recorded as missing, never an error: the report says which command builds it."""

from __future__ import annotations

import datetime as dt
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
    role: str | None = None
    grain: str | None = None
    guardrails: str | None = None       # JSON list of metric names
    lives_in: str | None = None         # JSON: table, column, time_column, complete_column, where

    def guardrail_names(self) -> list[str]:
        import json

        return list(json.loads(self.guardrails)) if self.guardrails else []


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
    present = {name for (name,) in warehouse._connection.sql(f"select column_name from (describe {table})").fetchall()}
    # A catalog written by an older version lacks the newer columns: they read as null.
    columns = [c if c in present else f"null as {c}" for c in Definition.__dataclass_fields__]
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
    present = {c for (c,) in warehouse._connection.sql(f"select column_name from (describe {table})").fetchall()}
    # kind, detail and top_drivers: written by newer alerts runs (target alerts and their explanation)
    extra = "".join(f", {c}" for c in ("kind", "detail", "top_drivers") if c in present)
    return warehouse.frame(f"""
        select run_at, metric_name, period, value, threshold, level, direction, "table", "column"{extra}
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


DRIVERS = f"{METRICS_SCHEMA}.fct_metric_change_drivers"


def read_series(warehouse: ReportTables, definition: Definition, limit: int = 27) -> pd.DataFrame | None:
    """The metric's last `limit` periods from its lives_in table: period, value, is_complete (oldest
    first); None when it lives nowhere the report can read."""
    import json

    if not definition.lives_in:
        return None
    lives_in = json.loads(definition.lives_in)
    table = f"{METRICS_SCHEMA}.{lives_in['table']}"
    if not warehouse.has(table):
        return None
    complete = f'"{lives_in["complete_column"]}"' if lives_in.get("complete_column") else "true"
    where = f"and ({lives_in['where']})" if lives_in.get("where") else ""
    frame = warehouse.frame(f"""
        select * from (
            select cast("{lives_in['time_column']}" as date) as period,
                cast("{lives_in['column']}" as double) as value, coalesce({complete}, false) as is_complete
            from {warehouse.name(table)}
            where "{lives_in['time_column']}" is not null {where}
            order by period desc limit {int(limit)}
        ) order by period
    """)
    return None if frame.empty or frame["period"].duplicated().any() else frame


def read_period_over_period(warehouse: ReportTables, definition: Definition) -> dict[str, float | None] | None:
    """previous_value, change, relative_change, year_ago_value and year_over_year_relative_change of
    the metric's latest complete period, when it lives in fct_metric_values and that table has them
    (calendar-aligned: a month against the previous month)."""
    import json

    table = f"{METRICS_SCHEMA}.fct_metric_values"
    if not definition.lives_in or not warehouse.has(table):
        return None
    lives_in = json.loads(definition.lives_in)
    if lives_in.get("table") != "fct_metric_values" or definition.latest_period is None:
        return None
    name = warehouse.name(table)
    present = {c for (c,) in warehouse._connection.sql(f"select column_name from (describe {name})").fetchall()}
    wanted = ("previous_value", "change", "relative_change", "year_ago_value", "year_over_year_relative_change")
    if not set(wanted) <= present:
        return None
    where = f"and ({lives_in['where']})" if lives_in.get("where") else ""
    rows = warehouse._connection.execute(
        f"select {', '.join(wanted)} from {name} where period_start = ? {where}",
        [definition.latest_period]).fetchall()
    if len(rows) != 1:
        return None
    return {key: (None if value is None else float(value)) for key, value in zip(wanted, rows[0], strict=True)}


def read_change_drivers(warehouse: ReportTables, metric: str, top: int = 3, *,
                        period: dt.date | None = None) -> pd.DataFrame | None:
    """The metric's top drivers of one explained change, as the drivers stage writes
    fct_metric_change_drivers: the `top` tree inputs of the first level (their contributions sum to
    the change; deeper rows split one of them), then the `top` segments and mix/rate rows, each in
    its `driver_rank` order (ranked within metric, grain, period and analysis). The change is the one
    ending at `period` when the table has it, else the latest, weekly before monthly. None when the
    table is not there or holds nothing for the metric."""
    if not warehouse.has(DRIVERS):
        return None
    quoted = metric.replace("'", "''")
    table = warehouse.name(DRIVERS)
    wanted = f"to_period_start = date '{period.isoformat()}'" if period is not None else "false"
    frame = warehouse.frame(f"""
        with chosen as (
            select period_grain, to_period_start from (
                select period_grain,
                    coalesce(max(case when {wanted} then to_period_start end), max(to_period_start))
                        as to_period_start,
                    max(case when {wanted} then 1 else 0 end) as at_period
                from {table} where metric_name = '{quoted}'
                group by period_grain
            ) order by at_period desc, case period_grain when 'week' then 0 else 1 end limit 1
        ),
        ranked as (
            select d.*, row_number() over (partition by d.analysis order by d.driver_rank) as shown_rank
            from {table} as d
            join chosen using (period_grain, to_period_start)
            where d.metric_name = '{quoted}' and (d.analysis <> 'tree' or d.depth = 1)
        )
        select * exclude (shown_rank) from ranked
        where shown_rank <= {int(top)}
        order by case analysis when 'tree' then 0 when 'segment' then 1 else 2 end, driver_rank
    """)
    return None if frame.empty else frame
