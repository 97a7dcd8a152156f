"""Connections the quality checks run on: a SQLAlchemy engine per warehouse, so every check is
SQL executed inside the warehouse (DuckDB by default, PostgreSQL too). On DuckDB the engines get
their DBAPI connections from quality.duckdb_dbapi, which makes Great Expectations' queries work there.

duckdb_engine also reflects columns through SQLAlchemy's PostgreSQL dialect; SQLAlchemy 2.1's
version of that query reads `pg_catalog.pg_collation`, which DuckDB does not have, so GX's
`table.column_types` falls back to a schema-less `SELECT *` and fails. The pinned SQLAlchemy
2.0.x reflects fine; `check_reflection` turns a regression into an error that names the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy

from product_metrics.quality.duckdb_dbapi import DuckDBConnections, QueryLog, quiet_duckdb_exit
from product_metrics.warehouse import WarehouseError, connect_url, open_duckdb, warehouse_location


@dataclass
class Session:
    """An open warehouse: engine settings GX can use (`connection_string` + `engine_kwargs`), our own
    engine for the checks written in SQL, and the schemas to look in."""

    dialect: str
    connection_string: str
    engine_kwargs: dict[str, Any]
    engine: sqlalchemy.Engine
    log: QueryLog
    _close: list = field(default_factory=list, repr=False)

    def scalar(self, sql: str, **params: Any) -> Any:
        import sqlalchemy as sa

        with self.engine.connect() as connection:
            return connection.execute(sa.text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        import sqlalchemy as sa

        with self.engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(sa.text(sql), params).fetchall()]

    def table_names(self, schema: str) -> set[str]:
        import sqlalchemy as sa

        inspector = sa.inspect(self.engine)
        try:
            return set(inspector.get_table_names(schema=schema)) | set(inspector.get_view_names(schema=schema))
        except sa.exc.SQLAlchemyError:  # a missing schema has no tables
            return set()

    def check_reflection(self, schema: str, table: str) -> None:
        """GX reads column names and types by reflection; fail early and clearly if it is broken."""
        import sqlalchemy as sa

        try:
            sa.inspect(self.engine).get_columns(table, schema=schema)
        except Exception as error:
            raise WarehouseError(
                f"SQLAlchemy {sa.__version__} cannot reflect {schema}.{table} on {self.dialect} "
                f"({type(error).__name__}: {str(error).splitlines()[0]}). Install the pinned versions: "
                "`pip install -c requirements.lock -e .` (SQLAlchemy 2.0.x: 2.1's PostgreSQL reflection, "
                "which duckdb_engine reuses, reads pg_catalog.pg_collation, absent in DuckDB)."
            ) from error

    def close(self) -> None:
        self.engine.dispose()
        for close in reversed(self._close):
            close()
        self._close.clear()


@dataclass(frozen=True)
class DuckDBWarehouse:
    path: Path
    read_only: bool = False

    @property
    def label(self) -> str:
        return f"duckdb:{self.path}"

    def connect(self) -> Session:
        import sqlalchemy as sa

        database = open_duckdb(self.path, read_only=self.read_only)
        quiet_duckdb_exit()
        log = QueryLog()
        connections = DuckDBConnections(database, log)
        engine_kwargs: dict[str, Any] = {"creator": connections.connect, "poolclass": sa.pool.StaticPool}
        engine = sa.create_engine("duckdb://", **engine_kwargs)
        return Session(dialect="duckdb", connection_string="duckdb://", engine_kwargs=engine_kwargs,
                       engine=engine, log=log, _close=[connections.close])


@dataclass(frozen=True)
class SqlAlchemyWarehouse:
    """Any other warehouse by SQLAlchemy URL; PostgreSQL (psycopg2) is the tested one."""

    url: str

    @property
    def label(self) -> str:
        import sqlalchemy as sa

        try:
            return sa.make_url(self.url).render_as_string(hide_password=True)
        except sa.exc.ArgumentError:  # not a URL: connect() says so
            return self.url

    def connect(self) -> Session:
        engine, _ = connect_url(self.url, pool_pre_ping=True)
        return Session(dialect=engine.dialect.name, connection_string=self.url, engine_kwargs={},
                       engine=engine, log=QueryLog())


ChecksWarehouse = DuckDBWarehouse | SqlAlchemyWarehouse


def resolve_warehouse(database: Path | None = None, url: str | None = None) -> ChecksWarehouse:
    """The warehouse of product_metrics.warehouse.warehouse_location: a server's URL, else the DuckDB file."""
    location = warehouse_location(database, url)
    return SqlAlchemyWarehouse(location) if isinstance(location, str) else DuckDBWarehouse(location)


@contextmanager
def capture_all_statements(log: QueryLog) -> Iterator[QueryLog]:
    """Record the SQL of every SQLAlchemy engine in the process (GX builds its own engines)."""
    import sqlalchemy as sa

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        log.record_statement(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield log
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", before_cursor_execute)
