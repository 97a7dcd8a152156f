"""Pointing the project at the raw inputs (METRICS_SPEC section 1): the schema and identifier vars
for tables outside dbt, a relation var per input for a host project's own models and sources, and
one line naming the vars when a configured input does not exist (macros/sources/raw_table.sql)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from product_metrics.dbt import failure_line, run_dbt
from product_metrics.demo_data import generate_demo_data
from product_metrics.project import Project

from ..conftest import DEMO_PROJECT, DEMO_SIZE, REPO_ROOT, build_warehouse


def test_raw_schema_and_identifier_vars_are_honoured(tmp_path, clean_demo_warehouse):
    path = tmp_path / "warehouse.duckdb"
    generate_demo_data(path, schema="landing", **DEMO_SIZE)
    with duckdb.connect(str(path)) as con:
        con.execute("alter table landing.events rename to app_events")
    build_warehouse(path, vars={
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


@pytest.mark.parametrize(("vars", "line"), [
    ({}, ('product_metrics: raw input users not found: "warehouse"."raw"."users" (vars product_metrics__raw_schema, '
         "product_metrics__users_identifier). Create it or point product_metrics__users_relation at your model.")),
    ({"product_metrics__raw_database": "warehouse", "product_metrics__users_identifier": "usres"},
     ('product_metrics: raw input users not found: "warehouse"."raw"."usres" (vars product_metrics__raw_database, '
     "product_metrics__raw_schema, product_metrics__users_identifier). Create it or point "
     "product_metrics__users_relation at your model.")),
], ids=["no_raw_data", "misspelt_identifier"])
def test_a_missing_raw_input_fails_with_one_line_naming_its_vars(tmp_path, vars, line):
    """Never a fallback to other data: the base model stops before its query, with one line."""
    path = tmp_path / "warehouse.duckdb"
    if vars:
        generate_demo_data(path, users=50, days=30, seed=1)
    run = run_dbt(Project(DEMO_PROJECT, path), ["run", "--select", "base_raw__users"], vars=vars)
    assert not run.success
    [failed] = run.failed_nodes()
    assert failed.unique_id == "model.product_metrics.base_raw__users"
    # One line names the vars (dbt frames it with the node's name and path); the CLI shows it as is.
    assert [text for text in run.error_summary() if "product_metrics__" in text] == [line]
    assert failure_line(failed) == "base_raw__users: " + line.removeprefix("product_metrics: ")


# A host project that installs the package and hands two inputs over as its own models (events
# only up to March, so what the package reads is told apart from the raw table) and one as a
# source it has not loaded; the others stay the raw tables.
HOST_PROJECT = """
name: host_project
version: "1.0.0"
config-version: 2
profile: host_project
models:
  host_project:
    +materialized: view
vars:
  product_metrics__users_relation: "{{ ref('host_project', 'app_users') }}"
  product_metrics__events_relation: "{{ ref('host_project', 'app_events') }}"
  product_metrics__orders_relation: "{{ source('app', 'orders_not_loaded') }}"
"""
HOST_PROFILE = """
host_project:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('PRODUCT_METRICS_DUCKDB_PATH') }}"
      schema: main
      settings: {TimeZone: UTC}
"""
HOST_MODELS = {
    "app_users.sql": "select * from raw.users",
    "app_events.sql": "select * from raw.events where cast(occurred_at as date) < date '2026-04-01'",
    "_sources.yml": "version: 2\nsources:\n  - name: app\n    schema: raw\n    tables:\n      - name: orders_not_loaded\n",
}


@pytest.fixture(scope="module")
def host(tmp_path_factory) -> Project:
    root = tmp_path_factory.mktemp("host_project")
    (root / "dbt_project.yml").write_text(HOST_PROJECT)
    (root / "profiles.yml").write_text(HOST_PROFILE)
    (root / "packages.yml").write_text(f"packages:\n  - local: {REPO_ROOT}\n")
    (root / "models").mkdir()
    for name, text in HOST_MODELS.items():
        (root / "models" / name).write_text(text)
    project = Project(root, root / "warehouse.duckdb")
    generate_demo_data(project.duckdb_path, **DEMO_SIZE)
    deps = subprocess.run([sys.executable, "-m", "dbt.cli.main", "deps"], cwd=root, env=project.dbt_env(),
                          capture_output=True, text=True, timeout=300, check=False)
    assert deps.returncode == 0, deps.stdout[-2000:] + deps.stderr[-2000:]
    return project


def test_inputs_handed_over_as_host_models_are_built_first_and_read(host):
    """One run on a warehouse without the host's models: dbt builds them before the base models
    that read them (the relation vars are refs), and a source that does not exist is named by its var."""
    run = run_dbt(host, ["run", "--select", "+stg_raw__events", "base_raw__orders"])
    assert not run.success
    assert {r.unique_id: r.status for r in run.results if r.unique_id.startswith("model.")} == {
        "model.host_project.app_users": "success", "model.host_project.app_events": "success",
        "model.product_metrics.base_raw__users": "success", "model.product_metrics.stg_raw__users": "success",
        "model.product_metrics.base_raw__events": "success", "model.product_metrics.stg_raw__events": "success",
        "model.product_metrics.base_raw__orders": "error"}
    assert [text for text in run.error_summary() if "product_metrics__" in text] == [
        ('product_metrics: raw input orders not found: "warehouse"."raw"."orders_not_loaded" (var '
        "product_metrics__orders_relation). Create it, or point product_metrics__orders_relation at a model or "
        "source that exists.")]
    manifest = json.loads((Path(run.target_path) / "manifest.json").read_text())
    base_events = manifest["nodes"]["model.product_metrics.base_raw__events"]
    assert "model.host_project.app_events" in base_events["depends_on"]["nodes"]
    staged = manifest["nodes"]["model.product_metrics.stg_raw__events"]["relation_name"]
    with duckdb.connect(str(host.duckdb_path), read_only=True) as con:
        assert con.execute("select max(cast(occurred_at as date)) from raw.events").fetchone()[0].month == 6
        assert str(con.execute(f"select max(event_date) from {staged}").fetchone()[0]) == "2026-03-31"


def test_the_as_of_date_is_checked_against_the_host_model(host):
    """The on-run-start check reads the events the package reads: the host's model."""
    run_dbt(host, ["run", "--select", "app_events"])
    run = run_dbt(host, ["run", "--select", "stg_raw__users"], vars={"product_metrics__as_of_date": "1900-01-01"})
    assert not run.success and run.results == []
    assert run.error_summary() == [
        ("product_metrics__as_of_date is '1900-01-01': it must be a date from 2026-02-02 to 2026-04-01 (the first "
        "day not counted; the events run from 2026-02-01 to 2026-03-31), or null for the day after the latest event.")]
