"""Governance on manifests dbt really writes: the fixture dbt project (tests/fixtures/governance/
project) built end to end, and the real project once its metrics carry the governance meta."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "governance"
sys.path.insert(0, str(FIXTURES))
import fixture_manifests as fx
import trim_manifest

from product_metrics.cli import app
from product_metrics.governance.registry import load_registry
from product_metrics.relations import RAW_TABLES

from .test_catalog import assert_catalog_page_renders, query

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO_PROJECT = REPO_ROOT / "integration_tests"
runner = CliRunner()
ENV = {"COLUMNS": "250"}


@pytest.fixture(scope="module")
def built_fixture_project(tmp_path_factory) -> tuple[Path, Path]:
    """`dbt build` of a copy of the fixture project: (its target directory, its DuckDB warehouse)."""
    workdir = tmp_path_factory.mktemp("governance_project")
    project = trim_manifest.copy_project(workdir / "project")
    warehouse = workdir / "wh.duckdb"
    env = {**os.environ, "DBT_PROFILES_DIR": str(project), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "GOVERNANCE_FIXTURE_DUCKDB_PATH": str(warehouse)}
    result = subprocess.run([sys.executable, "-m", "dbt.cli.main", "build", "--target-path", str(workdir / "target"),
                             "--log-path", str(workdir / "logs")], cwd=project, env=env, check=False,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    return workdir / "target", warehouse


def test_committed_fixture_manifests_are_a_trim_of_the_fixture_project(built_fixture_project):
    target, _ = built_fixture_project
    manifest, semantic = trim_manifest.trim(json.loads((target / "manifest.json").read_text()),
                                            json.loads((target / "semantic_manifest.json").read_text()))
    good_manifest, good_semantic = fx.load_good()
    assert manifest == good_manifest, "run `.venv/bin/python tests/fixtures/governance/trim_manifest.py`"
    assert semantic == good_semantic, "run `.venv/bin/python tests/fixtures/governance/trim_manifest.py`"


def test_check_catalog_and_alerts_on_the_built_fixture_project(built_fixture_project, tmp_path):
    target, warehouse = built_fixture_project
    result = runner.invoke(app, ["governance", "check", "--manifest-dir", str(target), "--today", fx.TODAY], env=ENV)
    assert result.exit_code == 0, result.output
    assert "12 metrics, all rules pass" in result.output

    result = runner.invoke(app, ["catalog", "--manifest-dir", str(target), "--database", str(warehouse),
                                 "--out", str(tmp_path / "html")], env=ENV)
    assert result.exit_code == 0, result.output
    latest = {r["metric_name"]: r["latest_value"] for r in query(warehouse, "select * from metrics.metric_catalog")}
    assert latest["dau_mau_ratio"] == 0.25 and latest["nps"] == 30.0 and latest["refund_rate"] == 0.02

    result = runner.invoke(app, ["alerts", "--manifest-dir", str(target), "--database", str(warehouse),
                                 "--fail-on", "warn"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "0 alert, 0 warn, 4 ok" in result.output


def test_check_without_manifest_dir_parses_the_project(monkeypatch):
    from product_metrics.governance import commands

    parsed = []

    def parse_project(project):
        parsed.append(project.root)
        return fx.GOOD

    monkeypatch.setattr(commands, "parse_project", parse_project)
    result = runner.invoke(app, ["governance", "check", "--today", fx.TODAY], env=ENV)
    assert result.exit_code == 0, result.output
    assert parsed == [DEMO_PROJECT]


# --- the real project ---------------------------------------------------------------------------

def test_the_real_project_passes_governance_and_its_catalog_renders(sample_warehouse, tmp_path):
    from product_metrics.dbt import run_dbt
    from product_metrics.governance.alerts import evaluate
    from product_metrics.project import Project
    from product_metrics.warehouse import Warehouse

    warehouse = tmp_path / "warehouse.duckdb"  # a copy: the catalog and alerts write tables
    shutil.copy(sample_warehouse, warehouse)
    run = run_dbt(Project(root=DEMO_PROJECT, duckdb_path=warehouse), ["parse"])
    assert run.success, "\n".join(run.error_lines[-20:])
    registry = load_registry(run.target_path)
    assert registry.governed(), "no metric of the real manifest carries governance meta"
    # Review deadlines against the latest review date, not the wall clock: the suite must not start
    # failing on a calendar date. `governance check` in CI uses the real today.
    today = max(m.governance.last_reviewed for m in registry.governed() if m.governance.last_reviewed)

    result = runner.invoke(app, ["governance", "check", "--manifest-dir", str(run.target_path),
                                 "--today", today.isoformat()], env=ENV)
    assert result.exit_code == 0, result.output
    assert f"{len(registry.metrics)} metrics, all rules pass" in result.output
    assert_model_governance(registry)

    result = runner.invoke(app, ["catalog", "--manifest-dir", str(run.target_path), "--database", str(warehouse),
                                 "--out", str(tmp_path / "html")], env=ENV)
    assert result.exit_code == 0, result.output
    rows = {r["metric_name"]: r for r in query(warehouse, "select * from metrics.metric_catalog")}
    assert sorted(rows) == sorted(registry.metrics)
    for metric in registry.governed():
        row, governance = rows[metric.name], metric.governance
        assert json.loads(row["governance"]) == json.loads(json.dumps(dict(governance.raw), default=str))
        assert (row["role"], row["status"], row["version"], row["owner_email"]) == (
            governance.role, governance.status, governance.version, governance.owner.email)
        assert row["last_reviewed"] == governance.last_reviewed

    from product_metrics.governance.tree import metric_tree

    assert_catalog_page_renders(tmp_path / "html" / "index.html", sorted(registry.metrics),
                                metric_tree(registry).nodes)

    with Warehouse.open(warehouse) as connection:
        evaluations = evaluate(registry, connection, before=dt.date.today())
    unreadable = {e.metric: e.latest.error for e in evaluations if e.level == "error"}
    assert not unreadable, f"lives_in that cannot be read from the built warehouse: {unreadable}"


@pytest.fixture(scope="module")
def parsed_real_project(tmp_path_factory) -> Path:
    """`dbt parse` of the real project: the directory of its manifest.json and semantic_manifest.json."""
    from product_metrics.dbt import run_dbt
    from product_metrics.project import Project

    warehouse = tmp_path_factory.mktemp("parsed") / "warehouse.duckdb"
    run = run_dbt(Project(root=DEMO_PROJECT, duckdb_path=warehouse), ["parse"])
    assert run.success, "\n".join(run.error_lines[-20:])
    return run.target_path


def overdue_lines(target: Path, today: dt.date) -> list[str]:
    from product_metrics.governance.rules import is_review_overdue

    return [f"review overdue: {m.name} (owner: {m.governance.owner.name}) was due {m.governance.next_review_due()}"
            for m in load_registry(target).governed()
            if is_review_overdue(m.governance.next_review_due(), m.governance.status, today)]


def test_the_shipped_project_passes_governance_check_on_the_real_date(parsed_real_project):
    """No shipped file turns red when the calendar moves: no --today, the wall clock's date."""
    result = runner.invoke(app, ["governance", "check", "--manifest-dir", str(parsed_real_project)], env=ENV)
    assert result.exit_code == 0, result.output
    for line in overdue_lines(parsed_real_project, dt.date.today()):
        assert line in result.output


def test_a_year_ahead_overdue_reviews_warn_and_only_strict_fails(parsed_real_project):
    year_ahead = dt.date.today() + dt.timedelta(days=366)
    expected = overdue_lines(parsed_real_project, year_ahead)
    assert expected, "a year ahead, some review of the shipped metrics is overdue"
    args = ["governance", "check", "--manifest-dir", str(parsed_real_project), "--today", year_ahead.isoformat()]

    result = runner.invoke(app, args, env=ENV)
    assert result.exit_code == 0, result.output
    for line in expected:
        assert f"! {line}\n" in result.output  # one line per metric: name, owner, due date
    assert f"{len(expected)} warnings (review_overdue), not failures" in result.output

    strict = runner.invoke(app, [*args, "--strict"], env=ENV)
    assert strict.exit_code == 1, strict.output
    assert f"{len(expected)} problems in {len(expected)} of" in strict.output


def test_build_and_refresh_governance_stages_pass_with_overdue_reviews(parsed_real_project, tmp_path):
    from rich.console import Console

    from product_metrics.pipeline import StageResult, check_stages, governance_stage
    from product_metrics.project import Project
    from product_metrics.quality.settings import QualitySettings
    from product_metrics.refresh import RefreshOptions

    project = Project(root=DEMO_PROJECT, duckdb_path=tmp_path / "warehouse.duckdb")
    artifacts = {"target_path": parsed_real_project}
    year_ahead = dt.date.today() + dt.timedelta(days=366)
    console = Console(width=250, record=True)

    build = StageResult("governance")  # the stage `product-metrics build` runs, a year ahead
    assert governance_stage(project, console, build, artifacts, today=year_ahead), console.export_text()
    assert build.detail.startswith("no failing rule; ") and "review_overdue" in build.detail
    printed = console.export_text()
    assert all(line in printed for line in overdue_lines(parsed_real_project, year_ahead))

    (refresh_stage,) = [s for s in check_stages(project, RefreshOptions(), QualitySettings(), None, console,
                                                 artifacts) if s.name == "governance"]
    refreshed = StageResult("governance")  # the stage `product-metrics refresh` runs, on the real date
    assert refresh_stage.run(refreshed), console.export_text()
    assert not (tmp_path / "warehouse.duckdb").exists()


def assert_model_governance(registry) -> None:
    """The real project's model governance as dbt_project.yml and models/_groups.yml set it: metric
    tables public, contracted, version 1 under the spec's relation name; base models private; every
    other model protected; every model in a group whose owner is a metric owner or the data platform."""
    models = [m for m in registry.models.values() if m.resource_type == "model" and m.package == registry.governed_package]
    metric_owners = {m.governance.owner.email for m in registry.governed() if m.governance.owner}
    for model in models:
        folders = Path(model.path).parent.parts
        group = registry.groups[model.group]
        assert group.owner_email in metric_owners | {"data-platform@example.com"}, (model.name, group)
        if model.is_mart:
            assert (model.access, model.contract_enforced, model.untyped_columns) == ("public", True, ()), model
            assert (model.version, model.latest_version) == (1, 1), model
            assert (model.schema, model.alias) == ("metrics", model.name), "the spec's relation, without _v1"
        else:
            assert model.version is None and model.group == "data_platform", model
            assert model.access == ("private" if folders[-1] == "base" else "protected"), model
    assert {"fct_cohort_retention", "fct_stickiness_daily", "fct_cac_by_channel", "fct_cac_monthly",
            "fct_ltv_cac_by_channel", "fct_ltv_cac_monthly", "fct_ltv_cohort", "fct_nps_monthly",
            "fct_k_factor_monthly", "fct_metric_values"} <= {m.name for m in models if m.is_mart}
    assert len([m for m in models if "base" in Path(m.path).parts]) == len(RAW_TABLES)  # one per raw input


def test_every_metric_points_once_at_a_real_table_column(parsed_real_project):
    """A metric's one pointer to the table holding its values is governance.lives_in: its table is a
    model of the package, its columns are that model's columns, and the table lists the metric. No
    second pointer in the metric's meta can disagree with it."""
    manifest = json.loads((parsed_real_project / "manifest.json").read_text())
    models = {node["name"]: node for node in manifest["nodes"].values()
              if node["resource_type"] == "model" and node["package_name"] == "product_metrics"}
    metrics = [m for m in manifest["metrics"].values() if m["package_name"] == "product_metrics"]
    pointed, wrong = 0, []
    for metric in metrics:
        meta = metric.get("config", {}).get("meta") or metric.get("meta") or {}
        assert set(meta) <= {"governance"}, f"{metric['name']}: meta beside governance: {sorted(set(meta) - {'governance'})}"
        lives_in = (meta.get("governance") or {}).get("lives_in")
        if not lives_in:
            continue
        pointed += 1
        table = models.get(lives_in["table"])
        if table is None:
            wrong.append(f"{metric['name']}: no model {lives_in['table']}")
            continue
        for key in ("column", "time_column", "complete_column"):
            if key in lives_in and lives_in[key] not in table["columns"]:
                wrong.append(f"{metric['name']}: {table['name']} has no column {lives_in[key]} ({key})")
        listed = (table["config"].get("meta") or {}).get("governance", {}).get("metrics") or []
        if metric["name"] not in listed:
            wrong.append(f"{metric['name']}: {table['name']} does not list it in governance.metrics")
    assert not wrong, "\n".join(wrong)
    assert pointed >= 57
