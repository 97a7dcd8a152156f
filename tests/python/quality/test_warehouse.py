"""The DuckDB connection the quality checks run on: the root cause of GX's
`MetricResolutionError: list index out of range` with duckdb_engine, the fix, and the pins."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from product_metrics.quality.warehouse import DuckDBWarehouse
from product_metrics.warehouse import WarehouseError

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def small_warehouse(tmp_path) -> Path:
    path = tmp_path / "small.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema metrics")
        connection.execute("create table metrics.rates as select i, i / 10.0 as rate from range(10) t(i)")
    return path


def test_root_cause_plain_duckdb_engine_loses_a_result_fetched_after_its_connection_closes(small_warehouse):
    """What GX does (execute in a `with engine.connect()` block, fetch after it) with duckdb_engine as
    is: the ROLLBACK on closing shares the cursor's DuckDB connection and replaces the result. If this
    starts passing, duckdb_engine fixed it upstream and the workaround can go."""
    engine = sa.create_engine(f"duckdb:///{small_warehouse}")
    with engine.connect() as connection:
        result = connection.execute(sa.text("select count(*) from metrics.rates"))
    assert result.fetchall() == []
    engine.dispose()


def test_the_session_engine_keeps_each_result(small_warehouse):
    session = DuckDBWarehouse(small_warehouse).connect()
    try:
        with session.engine.connect() as connection:
            result = connection.execute(sa.text("select count(*) from metrics.rates"))
            other = connection.execute(sa.text("select max(rate) from metrics.rates"))
        assert result.fetchall() == [(10,)]
        assert other.fetchall() == [(pytest.approx(0.9),)]
        assert session.log.statements[-2:] == ["select count(*) from metrics.rates", "select max(rate) from metrics.rates"]
        assert session.log.rows_fetched[-2:] == [("select count(*) from metrics.rates", 1),
                                                 ("select max(rate) from metrics.rates", 1)]
    finally:
        session.close()
    with pytest.raises(WarehouseError, match="closed"):
        session.engine_kwargs["creator"]()


def test_great_expectations_runs_sql_expectations_on_the_session(small_warehouse):
    """The failure the issue names, end to end: a SQL-backed expectation on DuckDB through GX."""
    from product_metrics.quality.validate import _gx

    gx = _gx()
    session = DuckDBWarehouse(small_warehouse).connect()
    try:
        context = gx.get_context(mode="ephemeral")
        source = context.data_sources.add_sql(name="w", connection_string=session.connection_string,
                                              kwargs=session.engine_kwargs)
        with pytest.warns(DeprecationWarning):
            asset = source.add_table_asset(name="rates", table_name="rates", schema_name="metrics")
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        result = batch.validate(gx.expectations.ExpectColumnValuesToBeBetween(column="rate", min_value=0,
                                                                              max_value=0.5))
    finally:
        session.close()
    assert not result.exception_info.get("raised_exception"), result.exception_info
    assert result.result["element_count"] == 10
    assert result.result["unexpected_count"] == 4 and not result.success


def test_column_reflection_works_on_duckdb(small_warehouse):
    """GX reads column types by reflection; SQLAlchemy 2.1 broke it for duckdb_engine (pinned 2.0.x)."""
    session = DuckDBWarehouse(small_warehouse).connect()
    try:
        session.check_reflection("metrics", "rates")
        assert [c["name"] for c in sa.inspect(session.engine).get_columns("rates", schema="metrics")] == ["i", "rate"]
    finally:
        session.close()


def test_the_fix_is_tested_with_the_pinned_versions():
    pins = dict(re.match(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?==(\S+)", line).groups() for line in
                tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    for package in ("great-expectations", "duckdb-engine", "duckdb", "SQLAlchemy", "psycopg2-binary"):
        assert version(package) == pins[package], package
    assert sa.__version__.startswith("2.0.")


def test_a_missing_warehouse_names_the_fix(tmp_path):
    with pytest.raises(WarehouseError, match="product-metrics build"):
        DuckDBWarehouse(tmp_path / "nothing.duckdb").connect()


def test_help_does_not_import_great_expectations():
    code = ("import sys; from product_metrics.cli import app; "
            "heavy = {'great_expectations', 'sqlalchemy', 'duckdb', 'pandas'} & set(sys.modules); "
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
