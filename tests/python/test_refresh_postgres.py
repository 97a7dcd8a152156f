"""Scheduled refresh on PostgreSQL: the incremental models and the `replace_window`
strategy give there what a full refresh gives, on the scenario of test_refresh.py (dirty data,
late events, duplicates of old and new ids, a late event of an old cohort).

Needs the PostgreSQL server of `scripts/start_postgres.sh` (or PRODUCT_METRICS_TEST_POSTGRES_URL);
skipped without one, except under CI (CI=true), where it fails. Only the incremental models and
what they read are run (`dbt run`): the other metric tables are recomputed in full on every run.
"""

from __future__ import annotations

import os
import uuid
from contextlib import closing

import duckdb
import pytest

from product_metrics.dbt import run_dbt
from product_metrics.warehouses.postgres import (
    PostgresProject,
    PostgresSettings,
    copy_raw_tables,
    drop_database,
    recreate_database,
)

from .conftest import DBT_PASSWORD, DBT_USER, DEMO_PROJECT, DEMO_SIZE
from .test_refresh import INCREMENTAL_SOURCES, _plant_late_arrivals, _withhold_new_rows

psycopg2 = pytest.importorskip("psycopg2")

SELECTION = ["-s", "+int_events_rolled_up_to_user_days", "+int_core_actions_rolled_up_to_user_weeks",
             "+int_users_activated", "+fct_north_star_weekly", "+fct_stickiness_daily",
             "+int_active_users_rolled_up_to_segment_days",
             "+fct_cohort_retention", "+fct_ai_suggestions_daily", "+rejected_rows"]


def _fingerprints(settings: PostgresSettings,
                  schemas: tuple[str, ...] = ("staging", "intermediate", "metrics", "audit")) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent md5 of every table dbt built (detected_at left out)."""
    fingerprints = {}
    with closing(settings.connect()) as connection, connection.cursor() as cursor:
        cursor.execute("select table_schema, table_name from information_schema.tables "
                       "where table_type = 'BASE TABLE' and table_schema = any(%s)", [list(schemas)])
        for schema, table in sorted(cursor.fetchall()):
            cursor.execute("select column_name from information_schema.columns where table_schema = %s and "
                           "table_name = %s and column_name <> 'detected_at' order by ordinal_position",
                           (schema, table))
            row = "concat_ws('|', " + ", ".join(f'"{c}"::text' for (c,) in cursor.fetchall()) + ")"
            cursor.execute(f"select count(*), md5(coalesce(string_agg({row}, '#' order by {row}), '')) "
                           f'from "{schema}"."{table}"')
            fingerprints[f"{schema}.{table}"] = cursor.fetchone()
    return fingerprints


def test_incremental_refresh_on_postgres_equals_full_refresh(postgres_admin, tmp_path):
    from product_metrics.demo_data import generate_demo_data

    database = f"product_metrics_test_refresh_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    recreate_database(postgres_admin, database, owner=DBT_USER)
    settings = postgres_admin.as_login(DBT_USER, DBT_PASSWORD).with_database(database)
    try:
        path = tmp_path / "demo.duckdb"
        generate_demo_data(path, dirty=True, **DEMO_SIZE)
        _withhold_new_rows(path)
        _plant_late_arrivals(path)
        copy_raw_tables(path, settings)
        project = PostgresProject(root=DEMO_PROJECT, duckdb_path=path, postgres=settings)

        def run(*args: str) -> None:
            result = run_dbt(project, ["run", *SELECTION, *args])
            assert result.success, [f"{n.unique_id}: {n.message}" for n in result.failed_nodes()]

        run()
        with duckdb.connect(str(path), read_only=True) as con, closing(settings.connect()) as connection, \
                connection.cursor() as cursor:
            for table in INCREMENTAL_SOURCES:
                incoming = con.execute(f"select * from incoming.{table}")
                columns = [d[0] for d in incoming.description]
                cursor.executemany(f"insert into raw.{table} ({', '.join(columns)}) "
                                   f"values ({', '.join(['%s'] * len(columns))})", incoming.fetchall())
        run()
        refreshed = _fingerprints(settings)
        run()
        assert _fingerprints(settings) == refreshed
        run("--full-refresh")
        rebuilt = _fingerprints(settings)
        assert "staging.base_raw__events" in rebuilt and "audit.rejected_rows" in rebuilt
        assert {name: value for name, value in refreshed.items() if value != rebuilt[name]} == {}
    finally:
        drop_database(postgres_admin, database)
