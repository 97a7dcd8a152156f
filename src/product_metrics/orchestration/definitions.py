"""Dagster definitions of the daily refresh, the way dagster-dbt models a dbt project: every dbt model,
seed and snapshot is an asset (dbt tests are its asset checks), and two gates run downstream as asset
checks — the data-quality validation (`product-metrics validate`) and the metric threshold alerts
(`product-metrics alerts`) — reported on the asset that built each table. A daily schedule runs the
job `daily_refresh`: dbt build, then the two checks (what `product-metrics refresh` does from cron).

    dagster dev -m product_metrics.orchestration.definitions     # the local UI on http://127.0.0.1:3000

Settings come from the environment (the same variables as the CLI):
    PRODUCT_METRICS_PROJECT_DIR        the dbt project (default: found from the working directory)
    PRODUCT_METRICS_DUCKDB_PATH        the warehouse (default: warehouse/product_metrics.duckdb)
    PRODUCT_METRICS_DAGSTER_TARGET     dbt target path for Dagster's runs (default: <project>/target/dagster)
    PRODUCT_METRICS_DBT_VARS           dbt vars as JSON, e.g. '{"product_metrics__use_sample_data": false}'
    PRODUCT_METRICS_REFRESH_CRON       the schedule (default "0 6 * * *": 06:00 every day)
    PRODUCT_METRICS_REFRESH_TIMEZONE   the schedule's time zone (default UTC)
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context and resource types) at definition time.
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.dbt_project import using_dagster_dev

from product_metrics.orchestration.checks import GateRun, TableFinding, run_quality_gate, run_threshold_alerts
from product_metrics.project import DUCKDB_PATH_ENV, Project

JOB_NAME = "daily_refresh"
DEFAULT_CRON = "0 6 * * *"
QUALITY_CHECK = "data_quality"
ALERTS_CHECK = "metric_thresholds"


@dataclass(frozen=True)
class OrchestrationSettings:
    project_dir: Path
    duckdb_path: Path
    target_path: Path
    dbt_vars: Mapping[str, Any] = field(default_factory=dict)
    cron: str = DEFAULT_CRON
    timezone: str = "UTC"

    @classmethod
    def from_env(cls) -> "OrchestrationSettings":
        project = Project.locate()
        target = os.environ.get("PRODUCT_METRICS_DAGSTER_TARGET")
        raw_vars = os.environ.get("PRODUCT_METRICS_DBT_VARS", "")
        try:
            dbt_vars = json.loads(raw_vars) if raw_vars else {}
        except json.JSONDecodeError as error:
            raise ValueError(f"PRODUCT_METRICS_DBT_VARS is not JSON ({error}): "
                             """use e.g. '{"product_metrics__use_sample_data": false}'""") from error
        return cls(project_dir=project.root, duckdb_path=project.duckdb_path,
                   target_path=Path(target) if target else project.root / "target" / "dagster",
                   dbt_vars=dbt_vars, cron=os.environ.get("PRODUCT_METRICS_REFRESH_CRON", DEFAULT_CRON),
                   timezone=os.environ.get("PRODUCT_METRICS_REFRESH_TIMEZONE", "UTC"))

    @property
    def vars_args(self) -> list[str]:
        return ["--vars", json.dumps(dict(self.dbt_vars))] if self.dbt_vars else []


def dbt_executable() -> str:
    """The dbt installed with this package (dagster-dbt looks on PATH, which a venv need not be on)."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.is_file() else (shutil.which("dbt") or "dbt")


def parse_manifest(settings: OrchestrationSettings) -> None:
    """`dbt parse` into the target path, with the run's vars (they decide which models are enabled)."""
    command = [dbt_executable(), "parse", "--quiet", "--target-path", str(settings.target_path), *settings.vars_args]
    env = {**os.environ, "DBT_PROFILES_DIR": str(settings.project_dir), DUCKDB_PATH_ENV: str(settings.duckdb_path)}
    result = subprocess.run(command, cwd=settings.project_dir, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"`dbt parse` failed, so Dagster has no manifest to load; run it in "
                           f"{settings.project_dir} to see why:\n{(result.stdout + result.stderr)[-2000:]}")


def dbt_project(settings: OrchestrationSettings) -> DbtProject:
    """The dbt project with its manifest: parsed now when missing, and on every load under `dagster dev`
    so edits show up (a deployment parses once, at build time)."""
    # The profile reads the warehouse path from the environment; dbt subprocesses inherit it.
    os.environ[DUCKDB_PATH_ENV] = str(settings.duckdb_path)
    project = DbtProject(project_dir=settings.project_dir, profiles_dir=settings.project_dir,
                         target_path=settings.target_path)
    if not project.manifest_path.exists() or using_dagster_dev():
        parse_manifest(settings)
    return project


def _relations(manifest: Mapping[str, Any], translator: DagsterDbtTranslator) -> dict[str, dg.AssetKey]:
    """`schema.table` → the asset that builds it. A raw source table maps to the staging models that
    read it (the source is not built by the job, its staging model is where a problem shows)."""
    relations: dict[str, dg.AssetKey] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "seed", "snapshot"):
            key = translator.get_asset_key(node)
            relations[f"{node['schema']}.{node.get('alias') or node['name']}"] = key
    for source_id, source in manifest["sources"].items():
        children = [manifest["nodes"][c] for c in manifest["child_map"].get(source_id, ())
                    if c in manifest["nodes"] and manifest["nodes"][c]["resource_type"] == "model"]
        if children:
            relations[f"{source['schema']}.{source.get('identifier') or source['name']}"] = \
                translator.get_asset_key(children[0])
    return relations


def _check_results(check_name: str, run: GateRun, relations: dict[str, dg.AssetKey],
                   keys: list[dg.AssetKey]) -> Iterator[dg.AssetCheckResult]:
    """One result per checked asset: failures are errors, warnings warn; tables with no rule pass."""
    per_key: dict[dg.AssetKey, list[tuple[str, TableFinding]]] = {key: [] for key in keys}
    for table, finding in run.findings.items():
        key = relations.get(table)
        if key in per_key:
            per_key[key].append((table, finding))
    for key in keys:
        findings = per_key[key]
        failed = [f"{t}: {item}" for t, f in findings for item in f.failed]
        warnings = [f"{t}: {item}" for t, f in findings for item in f.warnings]
        yield dg.AssetCheckResult(
            asset_key=key, check_name=check_name, passed=not failed and not warnings,
            severity=dg.AssetCheckSeverity.ERROR if failed else dg.AssetCheckSeverity.WARN,
            metadata={"checks": sum(f.checks for _, f in findings), "failed": failed[:50],
                      "warnings": warnings[:50], "run": run.run_id, "summary": run.summary})


def build_definitions(settings: OrchestrationSettings | None = None) -> dg.Definitions:
    settings = settings or OrchestrationSettings.from_env()
    project = dbt_project(settings)
    translator = DagsterDbtTranslator()
    manifest = json.loads(project.manifest_path.read_text())
    relations = _relations(manifest, translator)

    @dbt_assets(manifest=project.manifest_path, project=project, dagster_dbt_translator=translator)
    def product_metrics_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        """`dbt build` of the selected models (their tests run as asset checks), under the warehouse's
        refresh lock: a `product-metrics refresh` from cron cannot build at the same time."""
        from product_metrics.refresh import refresh_lock

        with refresh_lock(settings.duckdb_path):
            yield from dbt.cli(["build", *settings.vars_args], context=context).stream()

    built = sorted(set(relations.values()), key=lambda k: k.to_user_string())

    @dg.multi_asset_check(
        name=QUALITY_CHECK, description="The data-quality gate (Great Expectations as SQL in the warehouse, "
                                        "`product-metrics validate`); results in audit.dq_results.",
        specs=[dg.AssetCheckSpec(QUALITY_CHECK, asset=key) for key in built])
    def data_quality(context: dg.AssetCheckExecutionContext):
        run = run_quality_gate(settings.duckdb_path)
        context.log.info(run.summary)
        yield from _check_results(QUALITY_CHECK, run, relations, built)

    lives_in = _lives_in_tables(project)
    registry_tables = sorted({key for table, key in relations.items() if table.split(".", 1)[1] in lives_in},
                             key=lambda k: k.to_user_string())

    @dg.multi_asset_check(
        name=ALERTS_CHECK, description="Each governed metric's latest complete value against its warn / alert "
                                       "thresholds (`product-metrics alerts`); breaches in audit.metric_alerts.",
        specs=[dg.AssetCheckSpec(ALERTS_CHECK, asset=key) for key in registry_tables])
    def metric_thresholds(context: dg.AssetCheckExecutionContext):
        run = run_threshold_alerts(settings.duckdb_path, project.target_path)
        context.log.info(run.summary)
        yield from _check_results(ALERTS_CHECK, run, relations, registry_tables)

    job = dg.define_asset_job(JOB_NAME, selection=dg.AssetSelection.all(include_sources=False),
                              description="dbt build of every model, then the data-quality and threshold checks.")
    schedule = dg.ScheduleDefinition(job=job, cron_schedule=settings.cron, execution_timezone=settings.timezone,
                                     default_status=dg.DefaultScheduleStatus.RUNNING)
    dbt = DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
    return dg.Definitions(assets=[product_metrics_dbt], asset_checks=[data_quality, metric_thresholds],
                          jobs=[job], schedules=[schedule], resources={"dbt": dbt})


def _lives_in_tables(project: DbtProject) -> set[str]:
    """The tables the governed metrics live in (where threshold breaches are reported)."""
    from product_metrics.governance.registry import load_registry

    registry = load_registry(project.target_path)
    return {m.governance.lives_in.table.split(".")[-1] for m in registry.governed() if m.governance.lives_in}


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev -m product_metrics.orchestration.definitions` loads (built when loaded, not on
    import: importing this module parses nothing)."""
    return build_definitions()
