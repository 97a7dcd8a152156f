"""Apache Spark as a warehouse: the `spark` dbt target's local session, and moving data in and out of it.

The `spark` target of profiles.yml runs Spark inside the dbt process (dbt-spark's `session` method),
with its table files and its Hive metastore under one directory (PRODUCT_METRICS_SPARK_DIR). The
metastore is an embedded Derby database, which one process opens at a time: loading the raw data,
`dbt build` and reading the results are successive processes, never concurrent ones on one directory.

- `copy_raw_tables` copies the raw tables of a DuckDB file into Spark (schema `raw`) with the same
  column types, through parquet files written by DuckDB: NULL and the empty string stay apart.
- `export_tables` writes Spark tables to parquet, for DuckDB (or anything else) to read and compare.

The Spark session of these functions uses the settings of the `spark` target in profiles.yml (read,
not copied), so it opens the same metastore with the same time zone as dbt. pyspark and duckdb are
imported inside the functions that need them; each function that starts Spark is best run in its
own process (`python -m product_metrics.warehouses.spark ...`): one JVM, one metastore, per process.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from product_metrics.demo_data import RAW_TABLES
from product_metrics.project import Project
from product_metrics.warehouse import open_duckdb
from product_metrics.warehouses.column_types import duckdb_columns, loaded_type

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DBT_TARGET = "spark"
DIR_ENV = "PRODUCT_METRICS_SPARK_DIR"
CORES_ENV = "PRODUCT_METRICS_SPARK_CORES"
DEFAULT_DIR = Path("warehouse") / "spark"
DRIVER_MEMORY = "2g"

# DuckDB column types of raw data, and the Spark type each one is loaded as.
_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "FLOAT": "float",
    "DOUBLE": "double",
    "DATE": "date",
    # The session time zone is UTC (profiles.yml), so a Spark timestamp shows the same UTC wall time.
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "VARCHAR": "string",
}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def spark_type(duckdb_type: str) -> str:
    """The Spark type a DuckDB column of raw data is loaded as."""
    return loaded_type(duckdb_type, _TYPES, "decimal", "Spark")


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _checked_name(name: str) -> str:
    # Schema and table names go into SQL and into file paths: plain identifiers only.
    if not _IDENTIFIER.match(name):
        raise ValueError(f"Not a plain identifier: {name!r}")
    return name


@dataclass(frozen=True)
class SparkSettings:
    """Where the local Spark warehouse lives: table files in `directory`/tables, the metastore beside them."""

    directory: Path
    cores: int = 2

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, root: Path | None = None) -> SparkSettings:
        env = os.environ if env is None else env
        directory = Path(env.get(DIR_ENV) or (root or Path.cwd()) / DEFAULT_DIR)
        return cls(directory=directory.resolve(), cores=int(env.get(CORES_ENV, "2")))

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that select the `spark` target of profiles.yml and reach this warehouse."""
        return {
            "DBT_TARGET": DBT_TARGET,
            DIR_ENV: str(self.directory),
            CORES_ENV: str(self.cores),
            # Before the JVM starts: the driver's memory, and Derby's log in the warehouse directory
            # (not derby.log in whatever directory dbt runs in).
            "PYSPARK_SUBMIT_ARGS": (f"--driver-memory {DRIVER_MEMORY} "
                                    f"--driver-java-options -Dderby.system.home={self.directory} pyspark-shell"),
        }


def session_conf(root: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The `server_side_parameters` of the `spark` target in `root`/profiles.yml, rendered with `env`.

    dbt's profile is the one definition of the session (metastore, time zone, table format); this
    renders its `env_var(...)` calls the way dbt does, so that a session opened here matches dbt's.
    """
    import jinja2
    import yaml

    profile = yaml.safe_load((root / "profiles.yml").read_text())
    parameters = profile["product_metrics"]["outputs"][DBT_TARGET]["server_side_parameters"]

    def env_var(name: str, default: str | None = None) -> str:
        if name in env:
            return env[name]
        if default is None:
            raise KeyError(f"profiles.yml needs environment variable {name}")
        return default

    jinja = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {key: jinja.from_string(str(value)).render(env_var=env_var) for key, value in parameters.items()}


def start_session(root: Path, settings: SparkSettings) -> SparkSession:
    """A Spark session on the warehouse of `settings`, configured as the `spark` dbt target."""
    env = {**os.environ, **settings.dbt_env()}
    # The JVM reads these when it starts, which getOrCreate below does.
    os.environ["PYSPARK_SUBMIT_ARGS"] = env["PYSPARK_SUBMIT_ARGS"]
    settings.directory.mkdir(parents=True, exist_ok=True)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_conf(root, env).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@dataclass(frozen=True)
class SparkProject(Project):
    """The dbt project run against a local Spark warehouse: run_dbt(SparkProject(...), [...]) builds there."""

    spark: SparkSettings | None = field(default=None)

    def dbt_env(self) -> dict[str, str]:
        env = super().dbt_env()
        if self.spark is not None:
            env.update(self.spark.dbt_env())
        return env


def copy_raw_tables(
    session: SparkSession,
    duckdb_path: str | os.PathLike[str],
    *,
    source_schema: str = "raw",
    target_schema: str = "raw",
    tables: Iterable[str] = RAW_TABLES,
) -> dict[str, int]:
    """Replace `target_schema.<table>` in Spark by a copy of each DuckDB table; returns row counts."""

    target_schema = _checked_name(target_schema)
    counts: dict[str, int] = {}
    session.sql(f"create database if not exists {quote_identifier(target_schema)}")
    with tempfile.TemporaryDirectory(prefix="product_metrics_spark_") as tmp, \
            open_duckdb(Path(duckdb_path), read_only=True) as source:
        for table in map(_checked_name, tables):
            columns = duckdb_columns(source, duckdb_path, source_schema, table)
            parquet_path = Path(tmp) / f"{table}.parquet"
            source.execute(f'copy "{source_schema}"."{table}" to \'{parquet_path}\' (format parquet)')
            # Explicit casts: the Spark table has the DuckDB table's types, whatever parquet inferred.
            select_list = ", ".join(
                f"cast({quote_identifier(name)} as {spark_type(data_type)}) as {quote_identifier(name)}"
                for name, data_type in columns
            )
            target = f"{quote_identifier(target_schema)}.{quote_identifier(table)}"
            session.sql(f"drop table if exists {target}")
            session.sql(f"create table {target} using parquet as "
                        f"select {select_list} from parquet.`{parquet_path}`")
            counts[table] = session.table(target).count()
    return counts


def export_tables(session: SparkSession, tables: Iterable[str], directory: Path) -> dict[str, int]:
    """Write each Spark table `schema.table` to `directory`/`schema.table` (parquet files); returns row counts.

    Timestamps are written as parquet's microsecond timestamps (Spark's default INT96 is legacy).
    """
    session.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    counts: dict[str, int] = {}
    for name in tables:
        schema, table = (_checked_name(part) for part in name.split(".", 1))
        frame = session.table(f"{quote_identifier(schema)}.{quote_identifier(table)}")
        frame.write.mode("overwrite").parquet(str(directory / f"{schema}.{table}"))
        counts[f"{schema}.{table}"] = frame.count()
    return counts


def export_query(session: SparkSession, name: str, sql: str, directory: Path) -> int:
    """Write the result of one Spark SQL query to `directory`/`name` (parquet files); returns its row count."""
    session.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    frame = session.sql(sql)
    frame.write.mode("overwrite").parquet(str(directory / _checked_name(name)))
    return frame.count()


def tables_in(session: SparkSession, schema: str) -> list[str]:
    """`schema.table` for every table (not view) of a Spark database, sorted."""
    return sorted(f"{schema}.{t.name}" for t in session.catalog.listTables(_checked_name(schema))
                  if t.tableType != "VIEW" and not t.isTemporary)


def main(argv: list[str] | None = None) -> int:
    """`python -m product_metrics.warehouses.spark load-demo | load | export`: data into and out of local Spark."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m product_metrics.warehouses.spark",
                                     description=f"The local Spark warehouse of ${DIR_ENV} (default {DEFAULT_DIR}).")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("load-demo", help="generate demo data and load it into Spark schema raw")
    demo.add_argument("--users", type=int, default=1500)
    demo.add_argument("--days", type=int, default=150)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--dirty", action="store_true", help="plant every kind of bad row")
    load = commands.add_parser("load", help="copy the raw tables of a DuckDB file into Spark schema raw")
    load.add_argument("duckdb_path", type=Path)
    for command in (demo, load):
        command.add_argument("--schema", default="raw")
    export = commands.add_parser("export", help="write Spark tables to parquet, one directory per table")
    export.add_argument("--schema", action="append", default=[], help="every table of this schema (repeatable)")
    export.add_argument("--table", action="append", default=[], help="one table, schema.table (repeatable)")
    export.add_argument("--query", action="append", default=[], metavar="NAME=SQL",
                        help="the result of a query, written as NAME (repeatable)")
    export.add_argument("--to", type=Path, required=True)
    args = parser.parse_args(argv)

    root = Project.locate().root
    settings = SparkSettings.from_env(root=root)
    session = start_session(root, settings)
    try:
        if args.command == "export":
            tables = [*(t for schema in args.schema for t in tables_in(session, schema)), *args.table]
            counts = export_tables(session, tables, args.to)
            for query in args.query:
                name, _, sql = query.partition("=")
                counts[name] = export_query(session, name, sql, args.to)
        elif args.command == "load":
            counts = copy_raw_tables(session, args.duckdb_path, target_schema=args.schema)
            counts = {f"{args.schema}.{table}": rows for table, rows in counts.items()}
        else:
            from product_metrics.demo_data import generate_demo_data

            with tempfile.TemporaryDirectory(prefix="product_metrics_demo_") as tmp:
                path = Path(tmp) / "demo.duckdb"
                generate_demo_data(path, users=args.users, days=args.days, seed=args.seed, dirty=args.dirty)
                counts = copy_raw_tables(session, path, target_schema=args.schema)
            counts = {f"{args.schema}.{table}": rows for table, rows in counts.items()}
    finally:
        session.stop()
    for table, rows in counts.items():
        print(f"{settings.directory} {table}: {rows} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
