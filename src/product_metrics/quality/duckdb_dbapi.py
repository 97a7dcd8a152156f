"""A DuckDB DBAPI connection for SQLAlchemy engines on which Great Expectations runs its checks.

duckdb_engine's cursor is not a cursor: every `cursor()` of its connection wrapper delegates to
the one `DuckDBPyConnection`, which holds a single pending result. Great Expectations runs each
query as::

    with engine.connect() as connection:        # SqlAlchemyExecutionEngine.execute_query
        result = connection.execute(query)
    rows = result.fetchall()                    # after the block

Leaving the block closes the SQLAlchemy connection, which rolls back its (auto-begun)
transaction: a `ROLLBACK` on the same DuckDB connection replaces the pending result, so the fetch
after the block reads the ROLLBACK's empty result. GX then indexes `res[0]` of an empty list:
`MetricResolutionError: list index out of range` on every SQL-backed metric. A StaticPool alone
does not help (the rollback comes from closing the connection, not from the pool); keeping one
connection open would, but GX only does that for the dialects it knows.

The fix gives each DBAPI cursor its own result set, as PEP 249 cursors have: `cursor()` returns a
cursor over `DuckDBPyConnection.cursor()` (a new connection to the same in-process database), so a
later ROLLBACK or query on the parent no longer clobbers it, and `fetchmany(200)` still streams
only 200 rows. The database is opened once per session (quality.warehouse.DuckDBWarehouse.connect),
and every SQLAlchemy engine (GX builds its own from the same settings) gets connections to that
one database instance through `DuckDBConnections.connect`, its `creator`.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from product_metrics.warehouse import WarehouseError

if TYPE_CHECKING:  # pragma: no cover
    import duckdb


@dataclass
class QueryLog:
    """Every statement a session sent and how many rows came back into Python. On DuckDB the
    cursor records both; on other engines `capture_all_statements` records the statements and
    `rows_fetched` stays empty. Used to prove the checks run as SQL in the warehouse."""

    statements: list[str] = field(default_factory=list)
    rows_fetched: list[tuple[str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_statement(self, statement: str) -> None:
        with self._lock:
            self.statements.append(statement)

    def record_fetch(self, statement: str, rows: int) -> None:
        if rows:
            with self._lock:
                self.rows_fetched.append((statement, rows))

    def max_rows_fetched(self) -> int:
        return max((rows for _, rows in self.rows_fetched), default=0)


class _DuckDBCursor:
    """A PEP 249 cursor with its own DuckDB result set (see the module docstring)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, wrapper: Any, log: QueryLog | None) -> None:
        self._cursor = connection.cursor()
        self.connection = wrapper  # PEP 249: the connection this cursor belongs to
        self._log = log
        self._statement = ""
        self.description: Any = None
        self.rowcount = -1
        self.arraysize = 1

    def execute(self, statement: str, parameters: Any = None, context: Any = None) -> None:
        self._statement = statement
        if self._log is not None:
            self._log.record_statement(statement)
        if statement.strip().lower() == "commit":
            # SQLAlchemy commits through the connection; a literal COMMIT here (ipython-sql style)
            # has no transaction of its own to end on this autocommitting cursor.
            self.description = None
            return
        if parameters is None:
            self._cursor.execute(statement)
        else:
            self._cursor.execute(statement, parameters)
        # Type codes as text: SQLAlchemy caches them per dialect, and a DuckDB type object kept
        # alive until interpreter exit makes duckdb's bindings print leak warnings.
        self.description = None if self._cursor.description is None else [
            (name, str(type_code), *rest) for name, type_code, *rest in self._cursor.description]
        self.rowcount = -1

    def executemany(self, statement: str, parameters: Any = None, context: Any = None) -> None:
        self._statement = statement
        self._cursor.executemany(statement, list(parameters) if parameters else [])
        self.description = None

    def _counted(self, rows: list) -> list:
        if self._log is not None:
            self._log.record_fetch(self._statement, len(rows))
        return rows

    def fetchone(self) -> Any:
        row = self._cursor.fetchone()
        if row is not None:
            self._counted([row])
        return row

    def fetchmany(self, size: int | None = None) -> list:
        return self._counted(self._cursor.fetchmany(size or self.arraysize))

    def fetchall(self) -> list:
        return self._counted(self._cursor.fetchall())

    def close(self) -> None:
        import duckdb

        with contextlib.suppress(duckdb.Error):  # closing an already closed DuckDB connection is harmless
            self._cursor.close()

    def setinputsizes(self, *args: Any) -> None:
        pass

    def setoutputsize(self, *args: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def _duckdb_connection_class():
    import duckdb_engine

    class DuckDBConnection(duckdb_engine.ConnectionWrapper):
        """duckdb_engine's connection wrapper whose cursors each own a result set."""

        def __init__(self, connection: duckdb.DuckDBPyConnection, log: QueryLog | None) -> None:
            super().__init__(connection)
            self._connection = connection
            self._log = log

        def cursor(self) -> _DuckDBCursor:  # type: ignore[override]  # duck-typed: the cursor GX calls
            if self._connection is None:
                raise WarehouseError("The warehouse session is closed.")
            return _DuckDBCursor(self._connection, self, self._log)

        # Each cursor runs on its own DuckDB connection in autocommit mode, so a transaction on this
        # parent connection would cover nothing: SQLAlchemy's BEGIN / COMMIT / ROLLBACK are no-ops.
        def begin(self) -> None:
            pass

        def commit(self) -> None:
            pass

        def rollback(self) -> None:
            pass

        def close(self) -> None:
            """Close and forget the DuckDB connection: a DuckDB object still alive at interpreter
            exit (GX keeps its last context, engines included) makes duckdb's bindings print leak
            warnings."""
            if self._connection is not None:
                self._connection.close()
            self._connection = None
            self._ConnectionWrapper__c = None
            self.closed = True

    return DuckDBConnection


_EXIT_HOOK: list[bool] = []


def quiet_duckdb_exit() -> None:
    """duckdb 2.0's bindings print ~40 lines of "nanobind: leaked instances" at interpreter exit
    when duckdb_engine was imported in a process that also imported great_expectations (module
    teardown order; no object of ours is alive by then). Dropping duckdb_engine's module globals
    in an exit hook, once every connection is closed, lets duckdb's objects go in order."""
    if _EXIT_HOOK:
        return
    import atexit
    import gc
    import sys

    def release() -> None:
        for name in [n for n in sys.modules if n == "duckdb_engine" or n.startswith("duckdb_engine.")]:
            sys.modules.pop(name).__dict__.clear()
        gc.collect()

    atexit.register(release)
    _EXIT_HOOK.append(True)


class DuckDBConnections:
    """The session's one DuckDB database and every connection to it handed to a SQLAlchemy engine
    (ours and the ones GX builds from `engine_kwargs`), so closing the session closes them all."""

    def __init__(self, database: duckdb.DuckDBPyConnection, log: QueryLog) -> None:
        self._database: duckdb.DuckDBPyConnection | None = database
        self._log = log
        self._class = _duckdb_connection_class()
        self._open: list[Any] = []

    def connect(self) -> Any:
        if self._database is None:
            raise WarehouseError("The warehouse session is closed.")
        connection = self._class(self._database.cursor(), self._log)
        self._open.append(connection)
        return connection

    def close(self) -> None:
        for connection in self._open:
            connection.close()
        self._open.clear()
        if self._database is not None:
            self._database.close()
        self._database = None
