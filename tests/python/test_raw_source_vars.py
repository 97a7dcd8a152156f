"""Pointing the project at your own raw tables: schema and identifier vars (METRICS_SPEC section 1)."""

from __future__ import annotations

import duckdb

from product_metrics.demo_data import generate_demo_data

from .conftest import DEMO_PROJECT, DEMO_SIZE, build_warehouse


def test_raw_schema_and_identifier_vars_are_honoured(tmp_path, clean_demo_warehouse):
    path = tmp_path / "warehouse.duckdb"
    generate_demo_data(path, schema="landing", **DEMO_SIZE)
    with duckdb.connect(str(path)) as con:
        con.execute("alter table landing.events rename to app_events")
    build_warehouse(path, vars={
        "product_metrics__use_sample_data": False,
        "product_metrics__raw_schema": "landing",
        "product_metrics__events_identifier": "app_events",
    })
    # Same raw data under other names: the same numbers as the default layout.
    query = "select * from metrics.fct_stickiness_daily order by all"
    with duckdb.connect(str(path), read_only=True) as con:
        got = con.execute(query).fetchall()
    with duckdb.connect(str(clean_demo_warehouse), read_only=True) as con:
        expected = con.execute(query).fetchall()
    assert got and got == expected


def test_missing_raw_tables_fail_clearly_when_samples_are_off(tmp_path):
    from product_metrics.dbt import run_dbt
    from product_metrics.project import Project


    run = run_dbt(Project(DEMO_PROJECT, tmp_path / "empty.duckdb"), ["run", "--select", "base_raw__users"],
                  vars={"product_metrics__use_sample_data": False})
    assert not run.success
    assert any("raw" in line and "users" in line for line in run.error_lines), run.error_lines
