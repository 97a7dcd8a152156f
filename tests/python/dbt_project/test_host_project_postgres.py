"""The integration host project on PostgreSQL: Acme's app tables in a fresh database, one `dbt build`
with Acme's own profile, and metric tables equal to the demo project's DuckDB build of the same data."""

from __future__ import annotations

import os
import uuid
from contextlib import closing

import pytest

from product_metrics.warehouses.postgres import copy_raw_tables, drop_database, recreate_database

from ..conftest import DBT_PASSWORD, DBT_USER
from ..host_project import HOST_SCHEMAS, copy_host_project, host_env, land_app_tables, run, tail
from .parity import Table, metric_table_differences, metric_tables, sorted_table

pytest.importorskip("psycopg2")


@pytest.fixture(scope="module")
def host_on_postgres(postgres_admin, clean_demo_warehouse, tmp_path_factory):
    database = f"acme_host_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    recreate_database(postgres_admin, database, owner=DBT_USER)
    settings = postgres_admin.as_login(DBT_USER, DBT_PASSWORD).with_database(database)
    try:
        copy_raw_tables(clean_demo_warehouse, settings)
        with closing(settings.connect()) as connection, connection.cursor() as cursor:
            land_app_tables(cursor.execute)
            cursor.execute("drop schema raw cascade")
        directory = copy_host_project(tmp_path_factory.mktemp("host_pg") / "acme_analytics")
        env = host_env(ACME_POSTGRES_HOST=settings.host, ACME_POSTGRES_PORT=str(settings.port),
                       ACME_POSTGRES_USER=settings.user, ACME_POSTGRES_PASSWORD=settings.password,
                       ACME_POSTGRES_DBNAME=database)
        deps = run(directory, "dbt", "deps", env=env)
        assert deps.returncode == 0, tail(deps)
        build = run(directory, "dbt", "build", "--target", "postgres", env=env)
        yield settings, build
    finally:
        drop_database(postgres_admin, database)


def _host_table(settings, table: str) -> Table:
    with closing(settings.connect()) as connection, connection.cursor() as cursor:
        cursor.execute(f'select * from "acme_metrics"."{table}"')
        return sorted_table([d[0] for d in cursor.description], cursor.fetchall())


def test_one_build_on_an_empty_postgres_database(host_on_postgres):
    _, build = host_on_postgres
    assert build.returncode == 0, tail(build)


def test_host_metric_tables_on_postgres_equal_the_demo_projects_on_duckdb(host_on_postgres, clean_demo_warehouse):
    settings, build = host_on_postgres
    assert build.returncode == 0, tail(build)
    tables = metric_tables(clean_demo_warehouse)
    assert "fct_cohort_retention" in tables
    differences = metric_table_differences(clean_demo_warehouse, tables, lambda t: _host_table(settings, t),
                                           "the host project on PostgreSQL")
    assert not differences, "\n".join(differences)


def test_nothing_lands_outside_the_hosts_schemas_on_postgres(host_on_postgres):
    settings, _ = host_on_postgres
    with closing(settings.connect()) as connection, connection.cursor() as cursor:
        cursor.execute("select distinct table_schema from information_schema.tables "
                       "where table_schema not in ('pg_catalog', 'information_schema')")
        schemas = {row[0] for row in cursor.fetchall()}
    assert schemas <= HOST_SCHEMAS, schemas
    assert "acme_metrics" in schemas
