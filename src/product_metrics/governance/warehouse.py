"""The warehouse the catalog and the alerts read metric values from and write their tables to:
the DuckDB file by default, any SQLAlchemy URL (PostgreSQL) with `--url`. Plain, portable SQL
(quoted identifiers, `text`, `double precision`, `date`, `timestamp`), one transaction per write."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Self

from product_metrics.errors import UserError, bad_url, check_duckdb_warehouse, first_line, missing_warehouse
from product_metrics.governance.contract import LivesIn
from product_metrics.governance.registry import Registry

WAREHOUSE_URL_ENV = "PRODUCT_METRICS_WAREHOUSE_URL"


class WarehouseError(UserError):
    """The warehouse cannot be opened or written; the message names the fix."""


class WarehouseMissing(WarehouseError):
    """There is no DuckDB file at the path: nothing is created for a command that only reads."""


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass
class Warehouse:
    engine: Any  # sqlalchemy.Engine
    label: str

    @classmethod
    def open(cls, database: Path | None = None, url: str | None = None, *, read_only: bool = False) -> Warehouse:
        """`url` (or $PRODUCT_METRICS_WAREHOUSE_URL) when given, else the project's DuckDB file, which
        must exist (WarehouseMissing) and open (WarehouseError naming the problem)."""
        import sqlalchemy

        url = url or os.environ.get(WAREHOUSE_URL_ENV)
        if url:
            try:
                engine = sqlalchemy.create_engine(url)
            except sqlalchemy.exc.ArgumentError as error:  # unparsable, or a dialect that is not installed
                raise WarehouseError(bad_url(url, error)) from error
            label = engine.url.render_as_string(hide_password=True)
            try:  # one clear error up front, not one per metric read
                with engine.connect():
                    pass
            except sqlalchemy.exc.SQLAlchemyError as error:
                engine.dispose()
                raise WarehouseError(f"Cannot connect to {label}: {first_line(error)}. Is the server running, "
                                     "and are the URL and credentials right?") from error
            return cls(engine, label)
        if database is None:
            from product_metrics.project import Project, ProjectNotFound

            try:
                database = Project.locate().duckdb_path
            except ProjectNotFound as error:
                raise WarehouseError(f"{error} Or pass --database FILE or --url URL.") from error
        database = Path(database)
        if not database.is_file():
            raise WarehouseMissing(missing_warehouse(database))
        check_duckdb_warehouse(database, write=not read_only, error=WarehouseError)
        return cls(sqlalchemy.create_engine(sqlalchemy.URL.create("duckdb", database=str(database)),
                                            connect_args={"read_only": read_only}),
                   str(database))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
        import sqlalchemy

        try:
            with self.engine.connect() as connection:
                return [tuple(row) for row in connection.execute(sqlalchemy.text(sql), dict(params or {}))]
        except sqlalchemy.exc.OperationalError as error:
            raise WarehouseError(_explain(error, self.label)) from error

    def write(self, schema: str, table: str, columns: Sequence[tuple[str, str]], rows: Iterable[Mapping[str, Any]],
              *, replace: bool) -> int:
        """Create `schema.table` (replacing it, or only if missing) and insert `rows`, in one transaction."""
        import sqlalchemy

        rows = [dict(row) for row in rows]
        relation = f"{quote(schema)}.{quote(table)}"
        names = [name for name, _ in columns]
        ddl = ", ".join(f"{quote(name)} {sql_type}" for name, sql_type in columns)
        insert = (f"insert into {relation} ({', '.join(quote(n) for n in names)}) "
                  f"values ({', '.join(f':p{i}' for i in range(len(names)))})")
        try:
            with self.engine.begin() as connection:
                connection.execute(sqlalchemy.text(f"create schema if not exists {quote(schema)}"))
                if replace:
                    connection.execute(sqlalchemy.text(f"drop table if exists {relation}"))
                connection.execute(sqlalchemy.text(f"create table if not exists {relation} ({ddl})"))
                if rows:
                    connection.execute(sqlalchemy.text(insert),
                                       [{f"p{i}": row.get(name) for i, name in enumerate(names)} for row in rows])
        except sqlalchemy.exc.SQLAlchemyError as error:
            raise WarehouseError(f"could not write {schema}.{table} to {self.label}: {_explain(error, self.label)}") \
                from error
        return len(rows)


def _explain(error: Exception, label: str) -> str:
    message = str(getattr(error, "orig", None) or error).splitlines()[0]
    if "lock" in message.lower():
        return (f"{message} — another process (a dbt build, a BI tool) holds {label}; wait for it or close it, "
                "then retry")
    return message


@dataclass(frozen=True)
class LatestValue:
    """A metric's latest complete value read from its lives_in table. `value` is None when there is
    none; `error` says why it could not be read at all (then it is not a measurement)."""

    metric: str
    table: str
    column: str
    period: dt.date | None = None
    value: float | None = None
    note: str | None = None
    error: str | None = None


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def latest_value_sql(relation: str, lives_in: LivesIn, before: dt.date | None) -> str:
    """The rows of the latest complete period (at most 2: more than one means the table holds several
    series and lives_in.where must pick one)."""
    filters = [f"{quote(lives_in.time_column)} is not null"]
    if lives_in.complete_column:
        filters.append(f"{quote(lives_in.complete_column)}")
    if lives_in.where:
        filters.append(f"({lives_in.where})")
    if before is not None:
        filters.append(f"{quote(lives_in.time_column)} < :before")
    return (
        f"with candidates as (\n"
        f"    select {quote(lives_in.time_column)} as period,"
        f" cast({quote(lives_in.column)} as double precision) as value\n"
        f"    from {relation}\n"
        f"    where {' and '.join(filters)}\n"
        f")\n"
        f"select period, value from candidates\n"
        f"where period = (select max(period) from candidates)\n"
        f"limit 2"
    )


def read_latest_values(warehouse: Warehouse, registry: Registry, names: Iterable[str] | None = None,
                       *, before: dt.date | None = None) -> dict[str, LatestValue]:
    """The latest complete value of every governed metric with lives_in (or of `names`), by name.
    `before`: only periods before that date count (an as-of date)."""
    import sqlalchemy

    values: dict[str, LatestValue] = {}
    for metric in registry.governed():
        lives_in = metric.governance.lives_in
        if lives_in is None or (names is not None and metric.name not in names):
            continue
        base = LatestValue(metric.name, lives_in.table, lives_in.column)
        model = registry.model_named(lives_in.table)
        if model is None:
            values[metric.name] = replace(base, error=f"{lives_in.table} is not a dbt model")
            continue
        relation = f"{quote(model.schema)}.{quote(model.alias)}" if model.schema else quote(model.alias)
        sql = latest_value_sql(relation, lives_in, before)
        try:
            rows = warehouse.query(sql, {"before": before} if before else None)
        except (sqlalchemy.exc.SQLAlchemyError, WarehouseError) as error:
            message = str(getattr(error, "orig", None) or error).splitlines()[0]
            values[metric.name] = replace(base, error=f"cannot read {relation}: {message}")
            continue
        if not rows:
            values[metric.name] = replace(base, note="no complete period yet")
        elif len(rows) > 1:
            values[metric.name] = replace(base, period=_as_date(rows[0][0]), error=(
                f"{lives_in.table} has several rows for {rows[0][0]}: add lives_in.where to pick one series"))
        else:
            period, value = rows[0]
            values[metric.name] = replace(base, period=_as_date(period), value=value,
                                          note=None if value is not None else "null in the latest period")
    return values
