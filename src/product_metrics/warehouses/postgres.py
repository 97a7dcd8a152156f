"""PostgreSQL as a warehouse: the `postgres` dbt target's settings, and loading raw data into it.

The demo generator writes DuckDB; `copy_raw_tables` copies its raw tables into PostgreSQL with
the same column types (typed clean data) or as text (dirty data), through CSV written by DuckDB
and read by PostgreSQL's COPY, so NULL and the empty string stay apart.

psycopg2 and duckdb are imported inside the functions that need them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from product_metrics.demo_data import RAW_TABLES
from product_metrics.project import Project
from product_metrics.warehouse import open_duckdb, quote
from product_metrics.warehouses.column_types import duckdb_columns, loaded_type

if TYPE_CHECKING:
    import psycopg2.extensions

ENV_PREFIX = "PRODUCT_METRICS_POSTGRES_"
DBT_TARGET = "postgres"

# DuckDB column types of raw data, and the PostgreSQL type each one is loaded as.
_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(39, 0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "VARCHAR": "text",
}


@dataclass(frozen=True)
class PostgresSettings:
    """Where the `postgres` dbt target connects; the same names dbt reads from the environment."""

    user: str
    password: str
    dbname: str
    schema: str = "public"
    host: str = "127.0.0.1"
    port: int = 5432

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PostgresSettings:
        env = os.environ if env is None else env
        missing = [f"{ENV_PREFIX}{name}" for name in ("USER", "PASSWORD", "DBNAME", "SCHEMA")
                   if not env.get(f"{ENV_PREFIX}{name}")]
        if missing:
            raise ValueError(f"Set {', '.join(missing)} for the postgres target (see README, 'PostgreSQL').")
        return cls(
            user=env[f"{ENV_PREFIX}USER"],
            password=env[f"{ENV_PREFIX}PASSWORD"],
            dbname=env[f"{ENV_PREFIX}DBNAME"],
            schema=env[f"{ENV_PREFIX}SCHEMA"],
            host=env.get(f"{ENV_PREFIX}HOST", "127.0.0.1"),
            port=int(env.get(f"{ENV_PREFIX}PORT", "5432")),
        )

    @classmethod
    def from_url(cls, url: str, *, schema: str = "public") -> PostgresSettings:
        """From `postgresql[+driver]://user[:password]@host[:port]/dbname` (SQLAlchemy style too)."""
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(url)
        if not parts.scheme.startswith("postgres"):
            raise ValueError(f"Not a PostgreSQL URL: {url}")
        return cls(
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=parts.path.lstrip("/") or "postgres",
            schema=schema,
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
        )

    def with_database(self, dbname: str) -> PostgresSettings:
        return replace(self, dbname=dbname)

    def as_login(self, user: str, password: str) -> PostgresSettings:
        return replace(self, user=user, password=password)

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that select the `postgres` target of profiles.yml and reach this database."""
        return {
            "DBT_TARGET": DBT_TARGET,
            f"{ENV_PREFIX}HOST": self.host,
            f"{ENV_PREFIX}PORT": str(self.port),
            f"{ENV_PREFIX}USER": self.user,
            f"{ENV_PREFIX}PASSWORD": self.password,
            f"{ENV_PREFIX}DBNAME": self.dbname,
            f"{ENV_PREFIX}SCHEMA": self.schema,
        }

    def sqlalchemy_url(self) -> str:
        """The same server as a SQLAlchemy URL (the quality gate and the alerts connect with it)."""
        from urllib.parse import quote as url_quote

        return (f"postgresql+psycopg2://{url_quote(self.user, safe='')}:{url_quote(self.password, safe='')}"
                f"@{self.host}:{self.port}/{url_quote(self.dbname, safe='')}")

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor in one transaction: committed on success, rolled back on any error or interrupt."""
        connection = self.connect(autocommit=False)
        try:
            with connection.cursor() as cursor:
                yield cursor
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()

    def connect(self, *, autocommit: bool = True) -> psycopg2.extensions.connection:
        import psycopg2

        connection = psycopg2.connect(host=self.host, port=self.port, user=self.user,
                                      password=self.password, dbname=self.dbname, connect_timeout=10)
        connection.autocommit = autocommit
        return connection


@dataclass(frozen=True)
class PostgresProject(Project):
    """The dbt project run against PostgreSQL: run_dbt(PostgresProject(...), [...]) builds there."""

    postgres: PostgresSettings | None = field(default=None)
    publish_suffix: str = ""  # build the BI-facing schemas aside (postgres_publish); "" builds them in place
    # The settings reach dbt as DBT_TARGET=postgres and PRODUCT_METRICS_POSTGRES_* (the demo's profile
    # reads them); False: they came from the user's own profile, which dbt reads as it is.
    settings_in_env: bool = True

    def dbt_env(self) -> dict[str, str]:
        from product_metrics.warehouses.postgres_publish import SUFFIX_ENV

        env = super().dbt_env()
        if self.postgres is not None and self.settings_in_env:
            env.update(self.postgres.dbt_env())
        env[SUFFIX_ENV] = self.publish_suffix
        return env

    @property
    def warehouse_url(self) -> str | None:
        return self.postgres.sqlalchemy_url() if self.postgres is not None else None


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL type a DuckDB column of raw data is loaded as."""
    return loaded_type(duckdb_type, _TYPES, "numeric", "PostgreSQL")


def copy_raw_tables(
    duckdb_path: str | os.PathLike[str],
    settings: PostgresSettings,
    *,
    source_schema: str = "raw",
    target_schema: str = "raw",
    tables: Iterable[str] = RAW_TABLES,
) -> dict[str, int]:
    """Replace `target_schema.<table>` in PostgreSQL by a copy of each DuckDB table; returns row counts.

    One transaction: readers see the old tables or all the new ones.
    """

    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="product_metrics_pg_") as tmp, \
            open_duckdb(Path(duckdb_path), read_only=True) as source, settings.transaction() as cursor:
        cursor.execute(f"create schema if not exists {quote(target_schema)}")
        for table in tables:
            columns = duckdb_columns(source, duckdb_path, source_schema, table)
            target = f"{quote(target_schema)}.{quote(table)}"
            column_sql = ", ".join(f"{quote(n)} {postgres_type(t)}" for n, t in columns)
            cursor.execute(f"drop table if exists {target}")
            cursor.execute(f"create table {target} ({column_sql})")
            # DuckDB writes NULL as an empty field and '' as "", as PostgreSQL's CSV reads them.
            csv_path = Path(tmp) / f"{table}.csv"
            source.execute(
                f"copy {quote(source_schema)}.{quote(table)} "
                f"to '{csv_path}' (format csv, header false)"
            )
            with csv_path.open("rb") as csv_file:
                cursor.copy_expert(f"copy {target} from stdin with (format csv)", csv_file)
            counts[table] = cursor.rowcount
            csv_path.unlink()
    return counts


def recreate_database(admin: PostgresSettings, dbname: str, *, owner: str | None = None) -> None:
    """Drop (if present) and create database `dbname`, as the admin connection's user."""
    connection = admin.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"drop database if exists {quote(dbname)} with (force)")
            owner_sql = f" owner {quote(owner)}" if owner else ""
            cursor.execute(f"create database {quote(dbname)}{owner_sql}")
    finally:
        connection.close()


def drop_database(admin: PostgresSettings, dbname: str) -> None:
    connection = admin.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"drop database if exists {quote(dbname)} with (force)")
    finally:
        connection.close()


def ensure_login_role(admin: PostgresSettings, role: str, password: str, *, attributes: str = "") -> None:
    """Create role `role` if missing, and (re)set it to LOGIN with `password` (and e.g. 'createrole')."""
    connection = admin.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1 from pg_catalog.pg_roles where rolname = %s", [role])
            verb = "alter" if cursor.fetchone() else "create"
            cursor.execute(f"{verb} role {quote(role)} with login password %s {attributes}", [password])
    finally:
        connection.close()


def load_demo_data(settings: PostgresSettings, *, users: int = 1500, days: int = 150, seed: int = 7,
                   dirty: bool = False, schema: str = "raw") -> dict[str, int]:
    """Generate the demo data (product_metrics.demo_data) and load it into `schema` of PostgreSQL."""
    from product_metrics.demo_data import generate_demo_data

    with tempfile.TemporaryDirectory(prefix="product_metrics_demo_") as tmp:
        path = Path(tmp) / "demo.duckdb"
        generate_demo_data(path, users=users, days=days, seed=seed, dirty=dirty)
        return copy_raw_tables(path, settings, target_schema=schema)


def main(argv: list[str] | None = None) -> int:
    """`python -m product_metrics.warehouses.postgres load-demo`: demo data into the postgres target's database."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m product_metrics.warehouses.postgres")
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load-demo", help="generate demo data and load it into schema raw "
                                                 f"of the database the {ENV_PREFIX}* variables name")
    load.add_argument("--users", type=int, default=1500)
    load.add_argument("--days", type=int, default=150)
    load.add_argument("--seed", type=int, default=7)
    load.add_argument("--dirty", action="store_true", help="plant every kind of bad row")
    load.add_argument("--schema", default="raw")
    args = parser.parse_args(argv)
    settings = PostgresSettings.from_env()
    counts = load_demo_data(settings, users=args.users, days=args.days, seed=args.seed, dirty=args.dirty,
                            schema=args.schema)
    target = f"{settings.host}:{settings.port}/{settings.dbname}"
    for table, rows in counts.items():
        print(f"{target} {args.schema}.{table}: {rows} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
