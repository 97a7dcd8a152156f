"""The CLI serving a user's own dbt project ("host"), not the demo project: a project `acme_analytics`
in a temporary directory, with its own profile (a DuckDB file of its own, not
PRODUCT_METRICS_DUCKDB_PATH), dbt's default generate_schema_name (so the package's tables land in
`main_metrics`, `main_audit`, ...), models and a metric of its own without governance meta, and the
package installed with `local:`. Every command runs from the host's directory with none of this
tool's environment variables, and reads the tables where dbt built them."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from product_metrics.governance.registry import build_registry
from product_metrics.governance.rules import check
from product_metrics.relations import RAW_TABLES, Relations

from .conftest import REPO_ROOT

HOST_SIZE = {"users": 300, "days": 60, "seed": 11}
WAREHOUSE = Path("warehouse") / "acme.duckdb"  # relative: dbt resolves it from the project directory

DBT_PROJECT = """\
name: acme_analytics
version: "1.0.0"
config-version: 2
profile: acme
model-paths: ["models"]
models:
  acme_analytics:
    +materialized: table
"""

PROFILE = """\
acme:
  target: {target}
  outputs:
    {target}:
      type: duckdb
      path: {path}
      schema: main
      threads: 2
      settings:
        TimeZone: UTC
"""

# The user's own models and metric: no group, no contract, no governance meta. Rules must leave them alone.
HOST_MODELS = {
    "acme_customers.sql": "select user_id, signed_up_at from {{ source('acme_app', 'users') }}",
    "acme_orders.sql": "select order_id, user_id, ordered_at, amount_usd from {{ source('acme_app', 'orders') }}",
    "_acme__models.yml": """\
version: 2
sources:
  - name: acme_app
    schema: raw
    tables: [{name: users}, {name: orders}]
models:
  - name: acme_customers
    config: {access: public}
  - name: acme_orders
semantic_models:
  - name: acme_order_facts
    model: ref('acme_orders')
    defaults: {agg_time_dimension: ordered_at}
    entities: [{name: acme_order, type: primary, expr: order_id}]
    dimensions: [{name: ordered_at, type: time, type_params: {time_granularity: day}}]
    measures: [{name: acme_order_amount, agg: sum, expr: amount_usd}]
metrics:
  - name: acme_revenue
    label: Acme revenue
    type: simple
    type_params: {measure: acme_order_amount}
""",
}


def _clean_env() -> dict[str, str]:
    """The environment of a user who never heard of this tool's variables."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith(("PRODUCT_METRICS_", "DBT_"))} | {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def product_metrics(*args: str, cwd: Path, env: dict[str, str] | None = None,
                    timeout: float = 900) -> subprocess.CompletedProcess:
    environment = {**_clean_env(), "PYTHONPATH": str(REPO_ROOT / "src"), "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "product_metrics.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=timeout, check=False)


def make_host(directory: Path, *, target: str = "dev") -> Path:
    (directory / "models").mkdir(parents=True)
    (directory / "warehouse").mkdir()
    (directory / "dbt_project.yml").write_text(DBT_PROJECT)
    (directory / "profiles.yml").write_text(PROFILE.format(target=target, path=WAREHOUSE))
    (directory / "packages.yml").write_text(f"packages:\n  - local: {REPO_ROOT}\n")
    for name, text in HOST_MODELS.items():
        (directory / "models" / name).write_text(text)
    return directory


def tables(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {f"{s}.{t}" for s, t in con.execute("select table_schema, table_name from information_schema.tables")
                .fetchall()}


@pytest.fixture(scope="module")
def host(tmp_path_factory) -> Path:
    """The host project, its raw data in schema `raw` of its own file, built by `product-metrics build`
    (run from elsewhere with --project-dir): dbt build, data quality, governance, publish."""
    from product_metrics.demo_data import generate_demo_data

    root = make_host(tmp_path_factory.mktemp("host") / "acme_analytics")
    generate_demo_data(root / WAREHOUSE, **HOST_SIZE)
    result = product_metrics("--project-dir", str(root), "build", "--no-docs", cwd=root.parent)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return root


def test_the_build_lands_in_the_host_schemas_of_the_host_file(host):
    built = tables(host / WAREHOUSE)
    assert {"main_metrics.fct_stickiness_daily", "main_audit.rejected_rows", "main_audit.dq_results",
            "main.acme_customers"} <= built
    assert not {t for t in built if t.split(".")[0] in ("metrics", "audit", "staging", "raw_sample")}, built
    assert not (host / "warehouse" / "product_metrics.duckdb").exists()


def test_headline_reads_the_host_tables(host):
    result = product_metrics("headline", cwd=host)
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(host / WAREHOUSE), read_only=True) as con:
        day, dau = con.execute("""
            select cast(occurred_at as date) as day, count(distinct user_id)
            from raw.events group by all order by day desc limit 1""").fetchone()
    row = re.search(rf"│\s*{day.isoformat()}\s*│\s*([\d,]+)\s*│", result.stdout)
    assert row, result.stdout
    assert int(row.group(1).replace(",", "")) == dau


def test_validate_checks_the_host_tables_and_raw_inputs(host):
    result = product_metrics("validate", "--no-docs", cwd=host)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    with duckdb.connect(str(host / WAREHOUSE), read_only=True) as con:
        checked = {name for (name,) in con.sql("""
            select distinct table_name from main_audit.dq_results
            where run_id = (select run_id from main_audit.dq_results order by run_at desc limit 1)""").fetchall()}
    assert {"main_metrics.fct_cohort_retention", "main_staging.stg_raw__users", "raw.users"} <= checked, checked


def test_governance_applies_to_the_package_not_to_the_host(host):
    result = product_metrics("governance", "check", cwd=host)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    assert "no rule fails" in result.stdout or "all rules pass" in result.stdout
    assert "acme" not in result.stdout


def test_alerts_and_report_read_and_write_the_host_schemas(host):
    alerts = product_metrics("alerts", cwd=host)
    assert alerts.returncode == 0, alerts.stdout[-6000:] + alerts.stderr
    assert "recorded in main_audit.metric_alerts" in alerts.stdout
    catalog = product_metrics("catalog", "--out", str(host / "target" / "catalog"), cwd=host)
    assert catalog.returncode == 0, catalog.stdout[-6000:] + catalog.stderr
    assert "main_metrics.metric_catalog" in catalog.stdout
    report = product_metrics("report", cwd=host)
    assert report.returncode == 0, report.stdout[-6000:] + report.stderr
    html = (host / "target" / "report" / "index.html").read_text()
    assert "definitions from main_metrics.metric_catalog" in html
    assert "not built" not in report.stdout, report.stdout


def test_a_profile_elsewhere_with_another_target_name(host, tmp_path):
    """DBT_PROFILES_DIR (a copy of the profile, its target renamed) and --target: every command uses it."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(PROFILE.format(target="local", path=host / WAREHOUSE))
    env = {"DBT_PROFILES_DIR": str(profiles)}
    for command in (["governance", "check"], ["headline"], ["export"], ["validate", "--no-docs", "--no-store"]):
        result = product_metrics("--target", "local", *command, cwd=host, env=env)
        assert result.returncode == 0, (command, result.stdout[-4000:] + result.stderr)
    with duckdb.connect(str(host / WAREHOUSE), read_only=True) as con:
        exported = con.execute("select count(*) from information_schema.tables where table_schema = 'main_metrics' "
                               "and table_name like 'headline_%'").fetchone()[0]
    assert exported > 0


def test_validate_follows_the_raw_schema_var(host, tmp_path):
    """A warehouse built from raw tables in schema `landing` (--vars): validate with the same --vars
    checks landing.*, which passes."""
    copy_path = tmp_path / "acme.duckdb"
    shutil.copy(host / WAREHOUSE, copy_path)
    with duckdb.connect(str(copy_path)) as con:
        con.execute("create schema landing")
        for (name,) in con.sql("select table_name from information_schema.tables where table_schema = 'raw'"
                               ).fetchall():
            con.execute(f"create table landing.{name} as select * from raw.{name}")
    landing = ["--vars", "{product_metrics__raw_schema: landing}"]
    built = product_metrics(*landing, "build", "--no-docs", "--database", str(copy_path), cwd=host)
    assert built.returncode == 0, built.stdout[-6000:] + built.stderr
    result = product_metrics(*landing, "validate", "--no-docs", "--database", str(copy_path), cwd=host)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    with duckdb.connect(str(copy_path), read_only=True) as con:
        rows = con.sql("""
            select table_name, bool_and(success) from main_audit.dq_results
            where run_id = (select run_id from main_audit.dq_results order by run_at desc limit 1)
              and table_name like 'landing.%' group by all""").fetchall()
    assert len(rows) == len(RAW_TABLES) and all(ok for _, ok in rows), rows  # every raw input, exposures too


# --- governance scope on a manifest with the user's own models and metrics -----------------------

def _host_manifest(demo_manifest: dict) -> dict:
    manifest = copy.deepcopy(demo_manifest)
    manifest["metadata"]["project_name"] = "acme_analytics"
    manifest["nodes"]["model.acme_analytics.customers"] = {
        "name": "customers", "resource_type": "model", "package_name": "acme_analytics", "schema": "main",
        "alias": "customers", "original_file_path": "models/marts/customers.sql", "raw_code": "select 1",
        "config": {"access": "public", "meta": {}}, "depends_on": {"nodes": []}, "columns": {}}
    manifest["nodes"]["model.acme_analytics.stg_orders"] = {
        "name": "stg_orders", "resource_type": "model", "package_name": "acme_analytics", "schema": "main",
        "alias": "stg_orders", "original_file_path": "models/stg_orders.sql", "raw_code": "select 1",
        "config": {"access": "public", "meta": {}}, "depends_on": {"nodes": []}, "columns": {}}
    manifest["groups"]["group.acme_analytics.nobody"] = {"name": "nobody", "package_name": "acme_analytics",
                                                          "owner": {}}
    manifest["metrics"]["metric.acme_analytics.revenue"] = {
        "name": "revenue", "package_name": "acme_analytics", "type": "simple", "label": "Revenue",
        "type_params": {"measure": {"name": "order_total"}}, "config": {"meta": {}}, "depends_on": {"nodes": []}}
    return manifest


@pytest.fixture(scope="module")
def demo_manifest(tmp_path_factory) -> dict:
    from product_metrics.dbt import run_dbt
    from product_metrics.project import Project

    from .conftest import DEMO_PROJECT

    run = run_dbt(Project(root=DEMO_PROJECT, duckdb_path=tmp_path_factory.mktemp("parse") / "w.duckdb"), ["parse"])
    assert run.success, run.error_lines[-10:]
    return json.loads((run.target_path / "manifest.json").read_text())


def test_host_models_and_metrics_without_governance_meta_are_not_checked(demo_manifest):
    today = dt.date(2026, 12, 1)
    baseline = check(build_registry(demo_manifest), today=today)
    result = check(build_registry(_host_manifest(demo_manifest)), today=today)
    assert result.violations == baseline.violations
    assert result.metrics == baseline.metrics and result.models == baseline.models
    assert baseline.models > 50  # the package's own models are governed


def test_a_host_metric_with_governance_meta_is_checked(demo_manifest):
    manifest = _host_manifest(demo_manifest)
    manifest["metrics"]["metric.acme_analytics.revenue"]["config"]["meta"] = {"governance": {"owner": None}}
    manifest["nodes"]["model.acme_analytics.customers"]["config"]["meta"] = {"governance": {"metrics": ["revenue"]}}
    result = check(build_registry(manifest), today=dt.date(2026, 12, 1))
    subjects = {v.subject for v in result.violations}
    assert "revenue" in subjects and "model customers" in subjects
    assert "model stg_orders" not in subjects and "group nobody" not in subjects


def test_relations_of_a_host_manifest(demo_manifest):
    manifest = copy.deepcopy(demo_manifest)
    for node in manifest["nodes"].values():
        if node.get("package_name") == "product_metrics":
            node["schema"] = f"dbt_alice_{node['schema']}"
    relations = Relations.from_manifest(manifest)
    assert relations.metrics_schema == "dbt_alice_metrics" and relations.audit_schema == "dbt_alice_audit"
    assert relations.model("fct_cohort_retention").sql == '"dbt_alice_metrics"."fct_cohort_retention"'
    assert relations.table("audit.dq_results") == "dbt_alice_audit.dq_results"
    assert str(relations.raw_inputs["events"]) == "raw.events"


def test_refresh_runs_from_the_host_directory(host, tmp_path):
    """The scheduled refresh of the user's project, from its directory: incremental, gated and published
    into the host's own file; with no new data every metric table keeps its rows."""
    copy = tmp_path / "acme_analytics"
    shutil.copytree(host, copy, symlinks=True, ignore=shutil.ignore_patterns("target"))
    query = "select count(*), sum(dau) from main_metrics.fct_stickiness_daily"
    with duckdb.connect(str(copy / WAREHOUSE), read_only=True) as con:
        before = con.execute(query).fetchone()
    result = product_metrics("refresh", "--no-docs", cwd=copy)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    with duckdb.connect(str(copy / WAREHOUSE), read_only=True) as con:
        assert con.execute(query).fetchone() == before
        assert "metrics" not in {s for (s,) in con.execute("select schema_name from information_schema.schemata").fetchall()}
