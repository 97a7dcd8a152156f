"""The same metrics on PostgreSQL as on DuckDB, and BI access control there.

Needs a PostgreSQL server: `scripts/start_postgres.sh` (run by `make test`) starts one on
127.0.0.1:54329; PRODUCT_METRICS_TEST_POSTGRES_URL points elsewhere. Without a server these tests
are skipped, except under CI (CI=true), where they fail.

The demo data of conftest (clean and dirty, DEMO_SIZE) is built on DuckDB by conftest's fixtures;
its raw tables are copied into a PostgreSQL database of this test session and built there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from product_metrics.dbt import DbtRun, run_dbt
from product_metrics.warehouses.postgres import (
    PostgresProject,
    PostgresSettings,
    copy_raw_tables,
    drop_database,
    ensure_login_role,
    recreate_database,
)

from ..conftest import DBT_PASSWORD, DBT_USER, DEMO_PROJECT, sqlalchemy_url
from .parity import CAST_PROBES, Table, metric_table_differences, metric_tables, normalise, same, sorted_table

psycopg2 = pytest.importorskip("psycopg2")

# The BI role's password is set here so the tests can log in as BI would.
BI_ROLE, BI_PASSWORD = "bi_reader", "bi_reader_test_password"


@dataclass(frozen=True)
class PostgresBuild:
    settings: PostgresSettings
    duckdb_path: Path
    run: DbtRun


@pytest.fixture(scope="module")
def postgres_builds(postgres_admin, clean_demo_warehouse, dirty_demo, tmp_path_factory):
    """Clean and dirty demo data copied into two fresh databases and built there (concurrently)."""
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    sources = {"clean": clean_demo_warehouse, "dirty": dirty_demo[0]}
    databases = {kind: f"product_metrics_test_{kind}_{suffix}" for kind in sources}

    def build(kind: str) -> PostgresBuild:
        recreate_database(postgres_admin, databases[kind], owner=DBT_USER)
        with closing(postgres_admin.connect()) as connection, connection.cursor() as cursor:
            # JIT compiling costs seconds per query and never pays off on these sizes (README).
            cursor.execute(f'alter database "{databases[kind]}" set jit = off')
        settings = postgres_admin.as_login(DBT_USER, DBT_PASSWORD).with_database(databases[kind])
        copy_raw_tables(sources[kind], settings)
        project = PostgresProject(root=DEMO_PROJECT, duckdb_path=tmp_path_factory.mktemp(f"pg_{kind}") / "unused.duckdb",
                                  postgres=settings)
        # Unit tests run once, in test_unit_tests_pass_on_postgres; every data test runs here.
        run = run_dbt(project, ["build", "--exclude", "test_type:unit"])
        return PostgresBuild(settings, sources[kind], run)

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            builds = dict(zip(sources, pool.map(build, sources)))
        yield builds
    finally:
        for database in databases.values():
            drop_database(postgres_admin, database)


def _assert_success(run: DbtRun) -> None:
    failed = "\n".join(f"{n.unique_id}: {n.message}" for n in run.failed_nodes())
    assert run.success, f"dbt {' '.join(run.args)} failed on PostgreSQL:\n{failed}\n" + "\n".join(run.error_lines[-20:])


@pytest.mark.parametrize("kind", ["clean", "dirty"])
def test_build_and_data_tests_pass_on_postgres(postgres_builds, kind):
    _assert_success(postgres_builds[kind].run)


@pytest.fixture(scope="module")
def postgres_checks(postgres_builds, tmp_path_factory):
    """On the clean database, at the same time: the dbt unit tests, and try_cast compiled for PostgreSQL."""
    build = postgres_builds["clean"]
    project = PostgresProject(root=DEMO_PROJECT, duckdb_path=tmp_path_factory.mktemp("pg_checks") / "unused.duckdb",
                              postgres=build.settings)
    with ThreadPoolExecutor(max_workers=2) as pool:
        unit_tests = pool.submit(run_dbt, project, ["test", "--select", "test_type:unit"])
        try_cast_sql = pool.submit(_compiled_inline, project, _try_cast_template())
        return {"unit_tests": unit_tests.result(), "try_cast_sql": try_cast_sql.result()}


def test_unit_tests_pass_on_postgres(postgres_checks):
    run = postgres_checks["unit_tests"]
    _assert_success(run)
    assert len([r for r in run.results if r.unique_id.startswith("unit_test.")]) > 30


# ------------------------------------------------------------------------------------------------
# Parity: the same metric tables and the same rejects
# ------------------------------------------------------------------------------------------------


def _postgres_table(settings: PostgresSettings, table: str) -> Table:
    with closing(settings.connect()) as connection, connection.cursor() as cursor:
        cursor.execute(f'select * from "metrics"."{table}"')
        return sorted_table([d[0] for d in cursor.description], cursor.fetchall())


@pytest.mark.parametrize("kind", ["clean", "dirty"])
def test_metric_tables_are_the_same_on_postgres_and_duckdb(postgres_builds, kind):
    build = postgres_builds[kind]
    _assert_success(build.run)
    tables = metric_tables(build.duckdb_path)
    assert "fct_cohort_retention" in tables and len(tables) >= 9
    differences = metric_table_differences(build.duckdb_path, tables,
                                           lambda table: _postgres_table(build.settings, table), "PostgreSQL")
    assert not differences, "\n".join(differences)


@pytest.mark.parametrize("kind", ["clean", "dirty"])
def test_rejected_rows_are_the_same_on_postgres_and_duckdb(postgres_builds, kind):
    build = postgres_builds[kind]
    _assert_success(build.run)
    query = "select source_table, source_key, reason from audit.rejected_rows"
    with duckdb.connect(str(build.duckdb_path), read_only=True) as con:
        duck = Counter(con.execute(query).fetchall())
    with closing(build.settings.connect()) as connection, connection.cursor() as cursor:
        cursor.execute(query)
        postgres = Counter(cursor.fetchall())
    assert postgres == duck
    assert (kind == "clean") == (not duck)


# ------------------------------------------------------------------------------------------------
# try_cast: PostgreSQL reads text as DuckDB's try_cast does
# ------------------------------------------------------------------------------------------------

# Where PostgreSQL deliberately reads text differently (DECISIONS.md): DuckDB takes these as the
# infinite / epoch timestamps and '0x10' as the integer 16; PostgreSQL returns null.
KNOWN_DIFFERENCES = {
    *((probe, column) for probe in ("inf", "Infinity", "infinity", "epoch")
      for column in ("as_date", "as_timestamp", "as_utc")),
    ("0x10", "as_integer"), ("0x10", "as_bigint"),
}
CAST_TYPES = {
    # column: (type expression passed to the macro, DuckDB's own try_cast type)
    "as_numeric": ("dbt.type_numeric()", "decimal(28, 6)"),
    "as_integer": ("'integer'", "integer"),
    "as_bigint": ("'bigint'", "bigint"),
    "as_boolean": ("dbt.type_boolean()", "boolean"),
    "as_date": ("'date'", "date"),
    "as_timestamp": ("dbt.type_timestamp()", "timestamp"),
}


def _compiled_inline(project: PostgresProject, sql: str) -> str:
    command = [sys.executable, "-m", "dbt.cli.main", "--log-format", "json", "compile", "--inline", sql,
               "--target-path", str(project.duckdb_path.parent / "target")]
    result = subprocess.run(command, cwd=project.root, env=project.dbt_env(), capture_output=True, text=True,
                            check=False)
    for line in result.stdout.splitlines():
        try:
            data = json.loads(line).get("data", {})
        except json.JSONDecodeError:
            continue
        if "compiled" in data:
            return data["compiled"]
    raise AssertionError(f"dbt compile --inline failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")


def _probe_values() -> str:
    return ", ".join("('" + value.replace("'", "''") + "')" for value in CAST_PROBES)


def _try_cast_template() -> str:
    casts = ",\n".join(f"{{{{ product_metrics.try_cast('probe', {macro_type}) }}}} as {column}"
                       for column, (macro_type, _) in CAST_TYPES.items())
    return (f"select probe, {casts},\n{{{{ product_metrics.try_cast_utc_timestamp('probe') }}}} as as_utc\n"
            f"from (values {_probe_values()}) as probes (probe)")


def test_try_cast_reads_text_as_duckdb_does(postgres_builds, postgres_checks):
    build = postgres_builds["clean"]
    postgres_sql = postgres_checks["try_cast_sql"]
    assert "try_cast(" not in postgres_sql.replace("product_metrics_try_cast", "")
    values = _probe_values()

    duckdb_sql = ("select probe, "
                  + ", ".join(f"try_cast(probe as {duck_type}) as {column}"
                              for column, (_, duck_type) in CAST_TYPES.items())
                  + ", try_cast(probe as timestamptz) at time zone 'UTC' as as_utc"
                  + f" from (values {values}) as probes (probe)")
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        duck = {row[0]: tuple(map(normalise, row[1:])) for row in con.execute(duckdb_sql).fetchall()}
    with closing(build.settings.connect()) as connection, connection.cursor() as cursor:
        cursor.execute(postgres_sql)
        postgres = {row[0]: tuple(map(normalise, row[1:])) for row in cursor.fetchall()}

    columns = [*CAST_TYPES, "as_utc"]
    differences = [f"{probe!r} {column}: DuckDB {d!r}, PostgreSQL {p!r}"
                   for probe in CAST_PROBES
                   for column, d, p in zip(columns, duck[probe], postgres[probe])
                   if not same(d, p) and (probe, column) not in KNOWN_DIFFERENCES]
    assert not differences, "\n".join(differences)
    assert all(postgres[probe][columns.index(column)] is None for probe, column in KNOWN_DIFFERENCES)


# ------------------------------------------------------------------------------------------------
# Access control: the BI role reads the metric tables and nothing else
# ------------------------------------------------------------------------------------------------

FORBIDDEN = [
    ("raw", "users"), ("raw", "events"), ("raw_sample", "users"),
    ("staging", "stg_raw__users"), ("staging", "base_raw__users"), ("staging", "stg_raw__orders"),
    ("intermediate", "int_users_cohorted"), ("intermediate", "int_customers_acquired"),
    ("audit", "rejected_rows"),
]


@pytest.fixture(scope="module")
def bi_login(postgres_admin, postgres_builds) -> PostgresSettings:
    _assert_success(postgres_builds["clean"].run)
    ensure_login_role(postgres_admin, BI_ROLE, BI_PASSWORD)  # dbt's hook created it NOLOGIN; let the test log in
    return postgres_builds["clean"].settings.as_login(BI_ROLE, BI_PASSWORD)


def test_bi_role_reads_every_metric_table(postgres_builds, bi_login):
    tables = metric_tables(postgres_builds["clean"].duckdb_path)
    with closing(bi_login.connect()) as connection, connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'select count(*) from metrics."{table}"')
            assert cursor.fetchone()[0] > 0, table


@pytest.mark.parametrize(("schema", "table"), FORBIDDEN)
def test_bi_role_is_refused_raw_staging_intermediate_and_audit_data(bi_login, schema, table):
    connection = bi_login.connect()
    try:
        with connection.cursor() as cursor, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute(f'select count(*) from "{schema}"."{table}"')
    finally:
        connection.close()


def test_bi_role_owns_nothing_and_cannot_create_in_metrics(bi_login):
    connection = bi_login.connect()
    try:
        with connection.cursor() as cursor, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cursor.execute("create table metrics.bi_scratch (x integer)")
    finally:
        connection.close()


def test_experiment_readouts_are_the_same_on_postgres_and_duckdb(postgres_builds):
    """The readout (product_metrics.experiments) of the demo experiments, from each warehouse's marts."""
    from product_metrics.experiments.commands import compute_readouts
    from product_metrics.experiments.readout import result_rows
    from product_metrics.relations import Relations
    from product_metrics.warehouse import Warehouse

    build = postgres_builds["clean"]
    _assert_success(build.run)
    readouts = {}
    for engine, location in (("duckdb", {"database": build.duckdb_path}), ("postgres", {"url": sqlalchemy_url(build.settings)})):
        with Warehouse.open(**location, read_only=True) as warehouse:
            readouts[engine] = result_rows(compute_readouts(warehouse, Relations.default()))
    assert len(readouts["duckdb"]) >= 10
    assert {row["decision"] for row in readouts["duckdb"]} == {"ship", "do_not_ship", "keep_running", "invalid"}
    for duck, postgres in zip(readouts["duckdb"], readouts["postgres"], strict=True):
        assert postgres == {key: pytest.approx(value, rel=1e-9, abs=1e-12) if isinstance(value, float) else value
                            for key, value in duck.items()}, (duck["experiment_id"], duck["metric_name"])
