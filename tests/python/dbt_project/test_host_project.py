"""The package as users run it: installed with `local:` into Acme's own dbt project
(integration_tests/host_project), which has its own `customers` and `orders` models and semantic
layer, its own schema naming, and hands the raw inputs over with `ref`. One `dbt build` on an empty
warehouse builds it all, and the metric tables equal the demo project's on the same data."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from product_metrics.demo_data import generate_demo_data

from ..conftest import DEMO_SIZE
from ..host_project import HOST_SCHEMAS, copy_host_project, land_app_tables, run, tail


@pytest.fixture(scope="module")
def host(tmp_path_factory) -> Path:
    """Acme's project with the demo's clean data as its app tables (no `raw` schema), after
    `dbt deps` and ONE `dbt build`."""
    directory = copy_host_project(tmp_path_factory.mktemp("host") / "acme_analytics")
    database = directory / "acme.duckdb"
    generate_demo_data(database, dirty=False, **DEMO_SIZE)
    with duckdb.connect(str(database)) as connection:
        land_app_tables(connection.execute)
        connection.execute("drop schema raw cascade")
    deps = run(directory, "dbt", "deps")
    assert deps.returncode == 0, tail(deps)
    build = run(directory, "dbt", "build")
    assert build.returncode == 0, tail(build)
    return directory


def test_one_build_on_an_empty_warehouse_builds_the_host_and_the_package(host):
    with duckdb.connect(str(host / "acme.duckdb"), read_only=True) as connection:
        orders = connection.execute("select count(*) from acme_marts.orders").fetchone()[0]
        purchases = connection.execute("select count(*) from app.purchases").fetchone()[0]
        dau = connection.execute("select count(*) from acme_metrics.fct_stickiness_daily").fetchone()[0]
    assert orders == purchases > 0
    assert dau > 0


def test_everything_lands_where_the_hosts_schema_macro_says(host):
    with duckdb.connect(str(host / "acme.duckdb"), read_only=True) as connection:
        schemas = {row[0] for row in connection.execute(
            "select distinct table_schema from information_schema.tables where table_catalog = 'acme'").fetchall()}
        samples = connection.execute("select table_schema || '.' || table_name from information_schema.tables "
                                 "where table_name like 'sample%' or table_schema like '%sample%'").fetchall()
    assert schemas <= HOST_SCHEMAS, schemas - HOST_SCHEMAS
    assert {"acme_metrics", "acme_audit", "acme_staging", "acme_intermediate"} <= schemas
    assert samples == []


def _tables(connection, schema: str) -> list[str]:
    return [row[0] for row in connection.execute(
        f"select table_name from information_schema.tables where table_schema = '{schema}' "
        "and table_type = 'BASE TABLE' order by 1").fetchall()]


@pytest.mark.parametrize("schemas", [("metrics", "acme_metrics"), ("audit", "acme_audit")])
def test_metric_tables_equal_the_demo_projects_on_the_same_data(host, clean_demo_warehouse, schemas):
    demo_schema, host_schema = schemas
    with duckdb.connect(":memory:") as connection:
        connection.execute(f"attach '{clean_demo_warehouse}' as demo (read_only)")
        connection.execute(f"attach '{host / 'acme.duckdb'}' as acme (read_only)")
        connection.execute("use demo")
        demo_tables = _tables(connection, demo_schema)
        connection.execute("use acme")
        assert _tables(connection, host_schema) == demo_tables
        assert demo_tables
        for table in demo_tables:
            demo, acme = f"demo.{demo_schema}.{table}", f"acme.{host_schema}.{table}"
            counts = connection.execute(f"select (select count(*) from {demo}), (select count(*) from {acme})").fetchone()
            only_demo = connection.execute(
                f"select count(*) from (select * from {demo} except all select * from {acme})").fetchone()[0]
            only_host = connection.execute(
                f"select count(*) from (select * from {acme} except all select * from {demo})").fetchone()[0]
            assert (counts[0], only_demo, only_host) == (counts[1], 0, 0), table


def test_both_semantic_layers_validate(host):
    """Acme's semantic models `orders`/`customers` and metrics `orders`, `customers`, `revenue`,
    `order_total` beside the package's: MetricFlow validates both, against the built warehouse."""
    result = run(host, "mf", "validate-configs")
    assert result.returncode == 0, tail(result)
    listed = run(host, "mf", "list", "metrics")
    assert listed.returncode == 0, tail(listed)
    for metric in ("orders", "customers", "revenue", "order_total"):
        assert f"• {metric}:" in listed.stdout or f"{metric}:" in listed.stdout, metric


def test_a_misspelt_input_fails_with_the_var_and_the_relation(host):
    """No fallback to sample data: an input that does not exist stops the build and names it."""
    result = run(host, "dbt", "build", "--select", "base_raw__users", "--vars",
                 "{product_metrics__users_relation: '', product_metrics__raw_schema: landing}")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "product_metrics__raw_schema" in output and "landing" in output, tail(result)
