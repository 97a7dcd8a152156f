"""The same gate on PostgreSQL: a metric table (and the reporting cutoff) loaded into a real server,
validated there, the results written there.

Needs the PostgreSQL server of `scripts/start_postgres.sh` (or PRODUCT_METRICS_TEST_POSTGRES_URL);
skipped without one, except under CI (CI=true), where it fails."""

from __future__ import annotations

import uuid

import duckdb
import pytest
import sqlalchemy as sa

from product_metrics.quality.settings import QualitySettings
from product_metrics.quality.validate import validate_warehouse
from product_metrics.quality.warehouse import SqlAlchemyWarehouse
from product_metrics.warehouses.postgres import drop_database, recreate_database

from ..conftest import sqlalchemy_url

TABLES = {"metrics": "fct_nps_monthly", "intermediate": "int_reporting_cutoff"}
PG_TYPES = {"BIGINT": "bigint", "INTEGER": "integer", "DOUBLE": "double precision", "DATE": "date",
            "VARCHAR": "text", "BOOLEAN": "boolean", "HUGEINT": "numeric(38)"}


@pytest.fixture(scope="module")
def postgres_url(postgres_admin):
    """A fresh database of the test server, dropped after the module."""
    database = f"pm_quality_{uuid.uuid4().hex[:10]}"
    recreate_database(postgres_admin, database)
    yield sqlalchemy_url(postgres_admin.with_database(database))
    drop_database(postgres_admin, database)


@pytest.fixture(scope="module")
def postgres_warehouse(postgres_url, clean_demo_warehouse):
    """fct_nps_monthly and the cutoff copied from the demo's DuckDB warehouse into PostgreSQL."""
    engine = sa.create_engine(postgres_url)
    with duckdb.connect(str(clean_demo_warehouse), read_only=True) as source, engine.begin() as target:
        for schema, table in TABLES.items():
            columns = source.execute("select column_name, data_type from information_schema.columns "
                                     "where table_schema = ? and table_name = ? order by ordinal_position",
                                     [schema, table]).fetchall()
            rows = source.execute(f"select * from {schema}.{table}").fetchall()
            target.execute(sa.text(f"create schema if not exists {schema}"))
            target.execute(sa.text(f"create table {schema}.{table} ("
                                   + ", ".join(f"{name} {PG_TYPES[kind]}" for name, kind in columns) + ")"))
            names = [name for name, _ in columns]
            target.execute(sa.text(f"insert into {schema}.{table} ({', '.join(names)}) values "
                                   f"({', '.join(':' + n for n in names)})"),
                           [dict(zip(names, row)) for row in rows])
    engine.dispose()
    return postgres_url


NPS_ONLY = QualitySettings(include_layers=("metrics",), tables=("fct_nps_monthly",))


def test_a_metric_table_validates_on_postgres(postgres_warehouse):
    warehouse = SqlAlchemyWarehouse(postgres_warehouse)
    session = warehouse.connect()
    try:
        report = validate_warehouse(warehouse, NPS_ONLY, session=session)
    finally:
        session.close()
    assert report.success, [(r.rule, r.observed_value, r.error) for r in report.critical_failures]
    assert not [r for r in report.results if r.error]
    rules = {r.rule for r in report.results}
    assert rules == {"not_empty", "latest_period_reaches_cutoff", "anomaly_nps"}
    assert report.last_included_date is not None, "the cutoff was read from PostgreSQL"
    # The checks ran as SQL on the server (GX's own engine included), and the results were written there.
    assert session.dialect == "postgresql"
    assert any("metrics.fct_nps_monthly" in s and "count(" in s.lower() for s in session.log.statements)
    engine = sa.create_engine(postgres_warehouse)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("select count(*) from audit.dq_results where run_id = :r"),
                                    {"r": report.run_id}).scalar()
    engine.dispose()
    assert stored == len(report.results)


def test_an_outlier_warns_and_an_empty_table_fails_on_postgres(postgres_warehouse):
    engine = sa.create_engine(postgres_warehouse)
    with engine.begin() as connection:
        connection.execute(sa.text("update metrics.fct_nps_monthly set nps = 120 "
                                   "where month_start = (select max(month_start) from metrics.fct_nps_monthly)"))
    report = validate_warehouse(SqlAlchemyWarehouse(postgres_warehouse), NPS_ONLY, store=False)
    [anomaly] = [r for r in report.results if r.rule == "anomaly_nps"]
    assert report.success and anomaly.is_warning and anomaly.unexpected_count == 1
    assert anomaly.examples[0]["value"] == 120

    with engine.begin() as connection:
        connection.execute(sa.text("delete from metrics.fct_nps_monthly"))
    engine.dispose()
    report = validate_warehouse(SqlAlchemyWarehouse(postgres_warehouse), NPS_ONLY, store=False)
    failed = {r.rule: r for r in report.critical_failures}
    assert failed["not_empty"].expectation == "expect_table_row_count_to_be_between"
    assert failed["not_empty"].observed_value == 0
