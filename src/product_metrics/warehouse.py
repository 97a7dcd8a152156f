"""Access to the warehouse, in one place: where it is (the DuckDB file or a server's SQLAlchemy URL),
opening it with errors a user can act on, quoting identifiers, and `Warehouse`, the SQLAlchemy
connection the catalog and the alerts read metric values from and write their tables to.

Every DuckDB connection of the tool is opened by `open_duckdb`, every server warehouse reached by
`connect_url`: a missing file, a file that is not a database, a lock held by another process or a
server that does not answer is a `WarehouseError` that says what to do (product_metrics.errors).
The SQL is plain and portable (double-quoted identifiers, `text`, `double precision`, `date`,
`timestamp`), one transaction per write. Only the standard library is imported at module level:
duckdb and SQLAlchemy load when a warehouse is opened.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from product_metrics.errors import EXIT_LOCKED, UserError, bad_url, first_line

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

WAREHOUSE_URL_ENV = "PRODUCT_METRICS_WAREHOUSE_URL"
DUCKDB_PATH_HINT = "--database or PRODUCT_METRICS_DUCKDB_PATH"


class WarehouseError(UserError):
    """The warehouse cannot be opened, read or written; the message names the fix."""


class WarehouseMissing(WarehouseError):
    """There is no DuckDB file at the path: nothing is created for a command that only reads."""


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier (DuckDB and PostgreSQL; Spark SQL quotes with backticks)."""
    return '"' + identifier.replace('"', '""') + '"'


def warehouse_location(database: Path | None = None, url: str | None = None) -> Path | str:
    """Which warehouse a command uses: `url`, else an explicit `database`, else
    $PRODUCT_METRICS_WAREHOUSE_URL, else the project's DuckDB file (product_metrics.project)."""
    url = url or (None if database else os.environ.get(WAREHOUSE_URL_ENV))
    if url:
        return Path(url.removeprefix("duckdb:///")) if url.startswith("duckdb:///") else url
    if database is not None:
        path = Path(database)
        return path if path.is_absolute() else Path.cwd() / path
    from product_metrics.project import Project, ProjectNotFound

    try:
        return Project.locate().duckdb_path
    except ProjectNotFound as error:
        raise WarehouseError(f"{error} Or pass --database FILE or --url URL.") from error


# --- DuckDB ------------------------------------------------------------------------------------

def missing_warehouse(path: Path) -> str:
    where = "" if path.parent.is_dir() else f" (its directory {path.parent} does not exist either)"
    return (f"No DuckDB warehouse at {path}{where}. Check {DUCKDB_PATH_HINT}; "
            "to make one: `product-metrics demo` (demo data, built) or load your raw tables and run "
            "`product-metrics build`.")


def not_a_database(path: Path) -> str:
    return f"{path} is not a DuckDB database. Check {DUCKDB_PATH_HINT}: it must name the warehouse file."


def _has_duckdb_header(path: Path) -> bool:
    """DuckDB's file magic ("DUCK" after an 8-byte checksum); an empty file is a new database."""
    with path.open("rb") as file:
        head = file.read(12)
    return not head or head[8:12] == b"DUCK"


def duckdb_open_error(path: Path, error: Exception) -> WarehouseError:
    """A DuckDB error on opening `path`, explained: locked, not a database, not writable, or other."""
    message = first_line(error)
    lowered = message.lower()
    if "could not set lock" in lowered or "conflicting lock" in lowered:
        holder = re.search(r"held in (.+?) \(PID (\d+)\)", str(error))
        who = f"process {holder.group(2)} ({holder.group(1)})" if holder else "another process"
        return WarehouseError(f"The warehouse {path} is in use: {who} holds DuckDB's lock (one writer, or readers "
                              "without a writer). Nothing was done; run again when it has finished.",
                              exit_code=EXIT_LOCKED)
    if "not a valid duckdb database" in lowered:
        return WarehouseError(not_a_database(path))
    if "version" in lowered and "storage" in lowered:
        return WarehouseError(f"{path} cannot be opened by this DuckDB ({message}).")
    if "permission denied" in lowered or "read-only file system" in lowered or "operation not permitted" in lowered:
        return WarehouseError(f"{path} cannot be opened for writing ({message}). Give this user write access to "
                              f"the file and its directory, or point {DUCKDB_PATH_HINT} at a writable copy.")
    if "does not exist" in lowered or "no such file" in lowered:
        return WarehouseMissing(missing_warehouse(path))
    return WarehouseError(f"Cannot open the warehouse {path}: {message}")


def open_duckdb(path: Path | None, *, read_only: bool = True, create: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to the warehouse file `path`, or a WarehouseError saying why there is none.
    The file must exist unless `create`; `None` opens an in-memory database."""
    import duckdb

    if path is None:
        return duckdb.connect()
    path = Path(path)
    if not create and not path.is_file():
        raise WarehouseMissing(missing_warehouse(path))
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as failure:
        raise duckdb_open_error(path, failure) from failure


def check_duckdb_warehouse(path: Path, *, write: bool, create: bool = False, connect: bool = True) -> None:
    """Before a command that runs dbt or writes: the warehouse opens (read-write when `write`), or a
    WarehouseError says why not. `create`: a missing file is fine (the command creates it; its
    directory must exist). Opens and closes the file at once, holding no lock afterwards;
    `connect=False` checks without opening it (without DuckDB's lock: path, permissions, file header)."""
    if not path.exists():
        if not create:
            raise WarehouseMissing(missing_warehouse(path))
        if not path.parent.is_dir():  # a mistyped path never creates directories
            raise WarehouseError(f"The directory of the warehouse {path} does not exist. Check {DUCKDB_PATH_HINT}, "
                                 f"or create it: mkdir -p {path.parent}")
        if not os.access(path.parent, os.W_OK):
            raise WarehouseError(f"Cannot create the warehouse {path}: its directory is not writable. Give this "
                                 f"user write access, or point {DUCKDB_PATH_HINT} elsewhere.")
        return
    if path.is_dir():
        raise WarehouseError(f"{path} is a directory, not a DuckDB file. Check {DUCKDB_PATH_HINT}.")
    if write and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        unwritable = "the file" if not os.access(path, os.W_OK) else f"its directory {path.parent}"
        raise WarehouseError(f"{path} cannot be written: {unwritable} is read-only for this user. Give this user "
                             f"write access, or point {DUCKDB_PATH_HINT} at a writable copy.")
    if not _has_duckdb_header(path):
        raise WarehouseError(not_a_database(path))
    if connect:
        open_duckdb(path, read_only=not write).close()


# --- a server warehouse (SQLAlchemy URL) ------------------------------------------------------

def connect_url(url: str, **engine_options: Any) -> tuple[Any, str]:
    """A SQLAlchemy engine for `url` that has connected once (one clear error up front, not one per
    query), and its label (the URL without its password)."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url, **engine_options)
    except sqlalchemy.exc.ArgumentError as error:  # unparsable, or a dialect that is not installed
        raise WarehouseError(bad_url(url, error)) from error
    label = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect():
            pass
    except Exception as error:
        engine.dispose()
        raise WarehouseError(f"Cannot connect to {label}: {first_line(error)}. Is the server running, "
                             "and are the URL and credentials right?") from error
    return engine, label


# --- the warehouse as one SQLAlchemy engine ---------------------------------------------------

@dataclass
class Warehouse:
    """A SQLAlchemy engine on the DuckDB file or a server warehouse: `query` reads rows, `write`
    replaces or fills a table."""

    engine: Any  # sqlalchemy.Engine
    label: str

    @classmethod
    def open(cls, database: Path | None = None, url: str | None = None, *, read_only: bool = False) -> Warehouse:
        """The warehouse of warehouse_location(database, url); a DuckDB file must exist (WarehouseMissing)
        and open (WarehouseError naming the problem)."""
        import sqlalchemy

        location = warehouse_location(database, url)
        if isinstance(location, str):
            return cls(*connect_url(location))
        check_duckdb_warehouse(location, write=not read_only)
        return cls(sqlalchemy.create_engine(sqlalchemy.URL.create("duckdb", database=str(location)),
                                            connect_args={"read_only": read_only}),
                   str(location))

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
              *, replace: bool, add_columns: bool = False) -> int:
        """Create `schema.table` (replacing it, or only if missing) and insert `rows`, in one transaction.
        `add_columns`: a table that exists without some of `columns` (written by an older version)
        gets them added (null in its old rows) before the insert."""
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
                if add_columns and not replace:
                    _add_missing_columns(connection, schema, table, columns)
                if rows:
                    connection.execute(sqlalchemy.text(insert),
                                       [{f"p{i}": row.get(name) for i, name in enumerate(names)} for row in rows])
        except sqlalchemy.exc.SQLAlchemyError as error:
            raise WarehouseError(f"could not write {schema}.{table} to {self.label}: {_explain(error, self.label)}") \
                from error
        return len(rows)

    def replace_tables(self, schema: str, tables: Sequence[tuple[str, Sequence[tuple[str, str]],
                                                                 Iterable[Mapping[str, Any]]]]) -> list[int]:
        """Replace each (table, columns, rows) of `schema` in ONE transaction: readers see all the old
        tables or all the new ones. Returns the rows written to each."""
        import sqlalchemy

        written = []
        try:
            with self.engine.begin() as connection:
                connection.execute(sqlalchemy.text(f"create schema if not exists {quote(schema)}"))
                for table, columns, rows in tables:
                    relation = f"{quote(schema)}.{quote(table)}"
                    names = [name for name, _ in columns]
                    values = [{f"p{i}": row.get(name) for i, name in enumerate(names)} for row in rows]
                    connection.execute(sqlalchemy.text(f"drop table if exists {relation}"))
                    connection.execute(sqlalchemy.text(
                        f"create table {relation} ({', '.join(f'{quote(n)} {t}' for n, t in columns)})"))
                    if values:
                        connection.execute(sqlalchemy.text(
                            f"insert into {relation} ({', '.join(quote(n) for n in names)}) "
                            f"values ({', '.join(f':p{i}' for i in range(len(names)))})"), values)
                    written.append(len(values))
        except sqlalchemy.exc.SQLAlchemyError as error:
            targets = ", ".join(f"{schema}.{table}" for table, _, _ in tables)
            raise WarehouseError(f"could not write {targets} to {self.label}: {_explain(error, self.label)}") from error
        return written


def _add_missing_columns(connection, schema: str, table: str, columns: Sequence[tuple[str, str]]) -> list[str]:
    """ALTER TABLE ... ADD COLUMN for each of `columns` the table lacks (DuckDB and PostgreSQL both
    list a table's columns in information_schema.columns); returns the names added."""
    import sqlalchemy

    present = {name for (name,) in connection.execute(sqlalchemy.text(
        "select column_name from information_schema.columns where table_schema = :schema and table_name = :table"),
        {"schema": schema, "table": table})}
    missing = [(name, sql_type) for name, sql_type in columns if name not in present]
    for name, sql_type in missing:
        connection.execute(sqlalchemy.text(
            f"alter table {quote(schema)}.{quote(table)} add column {quote(name)} {sql_type}"))
    return [name for name, _ in missing]


def _explain(error: Exception, label: str) -> str:
    message = str(getattr(error, "orig", None) or error).splitlines()[0]
    if "lock" in message.lower():
        return (f"{message} — another process (a dbt build, a BI tool) holds {label}; wait for it or close it, "
                "then retry")
    return message
