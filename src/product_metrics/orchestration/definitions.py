"""Dagster definitions of the daily refresh. The job `daily_refresh` runs `product-metrics refresh`'s
own code (product_metrics.pipeline.refresh_project): the warehouse's lock, the stages on a copy of the
warehouse (dbt build with the refresh's arguments, vars and data-test window, the data-quality gate,
the governance check, the threshold alerts) and publishing only when every stage passed. Its dbt build
goes through dagster-dbt (DbtCliInvocation), which forwards a terminated run's interrupt to dbt.

As dagster-dbt models a dbt project, every dbt model, seed and snapshot is an asset (dbt tests are its
asset checks), and the two gates are asset checks reported on the asset that built each table: the
data-quality validation (`data_quality`) and the metric threshold alerts (`metric_thresholds`). The
assets are reported materialized only once the refresh has published them; a failed refresh fails the
step, reports the checks that ran (on the unpublished copy) and leaves the live warehouse as it was.

    dagster dev -m product_metrics.orchestration.definitions     # the local UI on http://127.0.0.1:3000

Settings come from the environment (the same variables as the CLI):
    PRODUCT_METRICS_PROJECT_DIR        the dbt project (default: found from the working directory)
    PRODUCT_METRICS_DUCKDB_PATH        the warehouse (default: warehouse/product_metrics.duckdb)
    PRODUCT_METRICS_DAGSTER_TARGET     dbt target path for Dagster's runs (default: <project>/target/dagster)
    PRODUCT_METRICS_REFRESH_CRON       the schedule (default "0 6 * * *": 06:00 every day)
    PRODUCT_METRICS_REFRESH_TIMEZONE   the schedule's time zone (default UTC)
A run's config (RefreshConfig) takes the refresh's options: as_of, full_refresh, timeout_minutes, ...
"""

# No `from __future__ import annotations`: Dagster reads the decorated functions' annotations
# (context and resource types) at definition time.
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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

from product_metrics.dbt import install_packages
from product_metrics.orchestration.checks import GateRun, TableFinding, quality_findings, threshold_findings
from product_metrics.pipeline import refresh_project
from product_metrics.project import (
    DUCKDB_PATH_ENV,
    PROFILES_DIR_ENV,
    TARGET_ENV,
    Project,
    vars_from_environment,
)
from product_metrics.refresh import RefreshOptions, dbt_vars
from product_metrics.relations import Relations

JOB_NAME = "daily_refresh"
DAGSTER_RUN_DIR = re.compile(r"^\w+-[0-9a-f]{7}-[0-9a-f]{7}$")  # dagster-dbt's per-invocation target directories
DEFAULT_CRON = "0 6 * * *"
QUALITY_CHECK = "data_quality"
ALERTS_CHECK = "metric_thresholds"


@dataclass(frozen=True)
class OrchestrationSettings:
    project_dir: Path
    duckdb_path: Path
    target_path: Path
    cron: str = DEFAULT_CRON
    timezone: str = "UTC"

    @classmethod
    def from_env(cls) -> "OrchestrationSettings":
        project = Project.locate()
        target = os.environ.get("PRODUCT_METRICS_DAGSTER_TARGET")
        return cls(project_dir=project.root, duckdb_path=project.duckdb_path,
                   target_path=Path(target) if target else project.root / "target" / "dagster",
                   cron=os.environ.get("PRODUCT_METRICS_REFRESH_CRON", DEFAULT_CRON),
                   timezone=os.environ.get("PRODUCT_METRICS_REFRESH_TIMEZONE", "UTC"))

    @property
    def vars_args(self) -> list[str]:
        """The refresh's vars (they decide which models are enabled, so the manifest is parsed with them)."""
        return ["--vars", json.dumps({**self.project().vars, **dbt_vars(RefreshOptions())})]

    def project(self) -> Project:
        """The dbt project with the profile, target and vars of the environment (as the CLI's)."""
        profiles = os.environ.get(PROFILES_DIR_ENV)
        return Project(root=self.project_dir, duckdb_path=self.duckdb_path,
                       profiles_dir=Path(profiles).resolve() if profiles else None,
                       target=os.environ.get(TARGET_ENV) or None, vars=vars_from_environment())


class RefreshConfig(dg.Config):
    """The options of `product-metrics refresh`, with its defaults."""

    as_of: str | None = None              # YYYY-MM-DD, the cutoff (default: the day after the latest event)
    full_refresh: bool = False
    timeout_minutes: float | None = None  # dbt is stopped after it, as `refresh --timeout`
    reject_share_limit: float = 0.05      # the data-quality gate's, as `refresh --reject-share-limit`
    docs: bool = True                     # build the Data Docs (target/data_docs), as `refresh` does

    def options(self) -> RefreshOptions:
        return RefreshOptions(as_of=dt.date.fromisoformat(self.as_of) if self.as_of else None,
                              full_refresh=self.full_refresh, timeout_minutes=self.timeout_minutes)

    def quality_settings(self):
        from product_metrics.quality.commands import settings_from_options
        from product_metrics.quality.settings import QualitySettings

        defaults = QualitySettings()
        return settings_from_options(reject_share_limit=self.reject_share_limit, anomaly_k=defaults.anomaly_k,
                                     anomaly_window=defaults.anomaly_window, tables=None, layers=None)


def dbt_executable() -> str:
    """The dbt installed with this package (dagster-dbt looks on PATH, which a venv need not be on)."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.is_file() else (shutil.which("dbt") or "dbt")


def parse_manifest(settings: OrchestrationSettings) -> None:
    """`dbt parse` into the target path, with the run's vars (they decide which models are enabled)."""
    command = [dbt_executable(), "parse", "--quiet", "--target-path", str(settings.target_path), *settings.vars_args]
    project = settings.project()
    env = project.dbt_env()
    install_packages(project, env)
    result = subprocess.run(command, cwd=settings.project_dir, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"`dbt parse` failed, so Dagster has no manifest to load; run it in "
                           f"{settings.project_dir} to see why:\n{(result.stdout + result.stderr)[-2000:]}")


def dbt_project(settings: OrchestrationSettings) -> DbtProject:
    """The dbt project with its manifest: parsed now when missing, and on every load under `dagster dev`
    so edits show up (a deployment parses once, at build time)."""
    # The profile reads the warehouse path from the environment; dbt subprocesses inherit it.
    os.environ[DUCKDB_PATH_ENV] = str(settings.duckdb_path)
    profiles_dir = settings.project().dbt_env().get(PROFILES_DIR_ENV)
    project = DbtProject(project_dir=settings.project_dir, profiles_dir=profiles_dir,
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
    metrics_schema = Relations.from_manifest(manifest).metrics_schema
    built = sorted(set(relations.values()), key=lambda k: k.to_user_string())
    lives_in = _lives_in_tables(project)
    registry_tables = sorted({key for table, key in relations.items() if table.split(".", 1)[1] in lives_in},
                             key=lambda k: k.to_user_string())

    # dagster-dbt's specs of every dbt node (assets, dbt tests as checks), plus the two gates' checks.
    @dbt_assets(manifest=project.manifest_path, project=project, dagster_dbt_translator=translator)
    def _dbt_specs(context: dg.AssetExecutionContext):
        raise NotImplementedError  # only its specs are used

    gate_specs = ([dg.AssetCheckSpec(QUALITY_CHECK, asset=key, description=QUALITY_DESCRIPTION) for key in built]
                  + [dg.AssetCheckSpec(ALERTS_CHECK, asset=key, description=ALERTS_DESCRIPTION)
                     for key in registry_tables])

    @dg.multi_asset(name="product_metrics_refresh", specs=list(_dbt_specs.specs),
                    check_specs=[*_dbt_specs.check_specs, *gate_specs], can_subset=True, op_tags=_dbt_specs.op.tags,
                    allow_arbitrary_check_specs=True)
    def product_metrics_refresh(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: RefreshConfig):
        """`product-metrics refresh` (refresh_project): lock, stages on a copy, publish when all passed."""

        from product_metrics.console import make_console

        console = make_console(width=160, record=True)
        events: list = []
        artifacts: dict[str, object] = {}
        live = settings.project()
        code = refresh_project(live, config.options(), config.quality_settings(),
                               settings.project_dir / "target" / "data_docs" if config.docs else None, console,
                               dbt_runner=_dagster_dbt_runner(context, dbt, settings.target_path, events),
                               artifacts=artifacts)
        checks = [e for e in events if isinstance(e, dg.AssetCheckResult)]
        checks += _gate_results(artifacts, relations, built, registry_tables, metrics_schema)
        selected = context.selected_asset_check_keys
        checks = [c for c in checks if dg.AssetCheckKey(c.asset_key, c.check_name) in selected]
        if code == 0:
            yield from (e for e in events if not isinstance(e, dg.AssetCheckResult))
            yield from checks
            return
        # Nothing was published: no asset is reported materialized; the checks that ran are shown.
        yield from checks
        raise dg.Failure(description=_failure_line(code, settings.duckdb_path),
                         metadata={"refresh output": dg.MetadataValue.md(f"```\n{console.export_text()[-8000:]}\n```")})

    job = dg.define_asset_job(JOB_NAME, selection=dg.AssetSelection.all(include_sources=False),
                              description="`product-metrics refresh`: dbt build, data quality, governance, alerts on "
                                          "a copy of the warehouse, published when every stage passed.")
    schedule = dg.ScheduleDefinition(job=job, cron_schedule=settings.cron, execution_timezone=settings.timezone,
                                     default_status=dg.DefaultScheduleStatus.RUNNING)
    dbt = DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
    return dg.Definitions(assets=[product_metrics_refresh], jobs=[job], schedules=[schedule], resources={"dbt": dbt})


QUALITY_DESCRIPTION = ("The data-quality gate (Great Expectations as SQL in the warehouse, `product-metrics "
                       "validate`); results in audit.dq_results. A critical failure stops the refresh before "
                       "publishing.")
ALERTS_DESCRIPTION = ("Each governed metric's latest complete value against its warn / alert thresholds "
                      "(`product-metrics alerts`); breaches in audit.metric_alerts.")


def _dagster_dbt_runner(context: dg.AssetExecutionContext, dbt: DbtCliResource, target_path: Path, events: list):
    """The refresh's dbt runner (product_metrics.refresh.DbtRunner) through dagster-dbt: the same
    command, vars and environment as the CLI's, on the run's copy of the warehouse. Its Dagster events
    are collected in `events`, to be reported once the refresh has published. A terminated run's
    interrupt is forwarded to dbt by DbtCliInvocation (SIGINT, then a wait); dbt still running after
    that, or past the timeout, is stopped by product_metrics.dbt.stop_dbt."""
    from product_metrics.dbt import (
        PARTIAL_PARSE_FILE,
        DbtRun,
        Deadline,
        _read_run_results,
        _save_partial_parse_state,
        keep_runs,
        prune_runs,
        stop_dbt,
    )

    def run(project: Project, args: list[str], variables: dict, env: dict[str, str], timeout_s: float | None):
        # The profile reads the warehouse path from the environment; dagster-dbt makes each run's
        # target path under DBT_TARGET_PATH and reuses the saved parse it finds there (see below).
        with _environment({**project.dbt_env(), **env, "DBT_TARGET_PATH": str(target_path)}):
            invocation = dbt.cli([*args, "--vars", json.dumps(variables)], context=context, raise_on_error=False)
        result = DbtRun(args=list(args), returncode=-1, target_path=invocation.target_path)
        started = time.perf_counter()
        with Deadline(invocation.process, timeout_s) as deadline:
            try:
                for raw in invocation.stream_raw_events():
                    # dagster-dbt writes each event to the step's stdout (the compute log).
                    result.full_parse |= raw.raw_event["info"].get("name") == "UnableToPartialParse"
                    events.extend(raw.to_default_asset_events(
                        manifest=invocation.manifest, dagster_dbt_translator=invocation.dagster_dbt_translator,
                        context=context, target_path=invocation.target_path, project=invocation.project))
            except BaseException:
                stop_dbt(invocation.process)
                raise
        result.returncode = invocation.process.wait()
        result.timed_out = deadline.expired
        result.elapsed_s = time.perf_counter() - started
        result.results = _read_run_results(invocation.target_path)
        # Kept for the next run's dbt (dagster-dbt copies it in): parsed for the run's copy, not the live file.
        _save_partial_parse_state(invocation.target_path / PARTIAL_PARSE_FILE, target_path / PARTIAL_PARSE_FILE)
        # dagster-dbt names each invocation's directory `<op>-<run id>-<uuid>`: pruned like the CLI's runs.
        prune_runs(target_path, keep_runs(), pattern=DAGSTER_RUN_DIR, age=lambda path: path.stat().st_mtime)
        return result

    return run


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ with `values` while the block runs (DbtCliResource.cli copies it into dbt's)."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _gate_results(artifacts: Mapping[str, Any], relations: dict[str, dg.AssetKey], built: list[dg.AssetKey],
                  registry_tables: list[dg.AssetKey], metrics_schema: str = "metrics") -> Iterator[dg.AssetCheckResult]:
    """The checks of the gates that ran in this refresh (none for a gate the refresh did not reach)."""
    if "quality_report" in artifacts:
        yield from _check_results(QUALITY_CHECK, quality_findings(artifacts["quality_report"]), relations, built)
    if artifacts.get("alerts"):
        yield from _check_results(ALERTS_CHECK, threshold_findings(artifacts["alerts"], metrics_schema=metrics_schema),
                                  relations, registry_tables)


def _failure_line(code: int, database: Path) -> str:
    reason = {3: "another build or refresh of the warehouse is running", 2: "the run's copy could not be made",
              130: "interrupted"}
    return (f"product-metrics refresh failed ({reason.get(code, 'a stage failed, see the stage table')}): "
            f"nothing was published, {database} is unchanged.")


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
