"""The stages of `product-metrics build` and `product-metrics refresh`, and how they run.

A run is a list of stages run in order (run_stages): the first that fails skips the rest, and one
table says how each went (print_stages). Both commands run their stages aside and publish only
when every stage passed (run_published, product_metrics.publish), under the warehouse's lock
(product_metrics.refresh.refresh_lock):

- build: `dbt build` -> experiments -> drivers -> data quality -> governance check -> publish;
- refresh: an incremental `dbt build` (its arguments, vars and data-test window from
  product_metrics.refresh) -> experiments -> drivers -> data quality -> governance check (calendar rules warn)
  -> alerts (thresholds, targets, anomalies) -> publish. The Dagster job (product_metrics.orchestration)
  runs the same refresh_project with its dbt command going through dagster-dbt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from product_metrics.build_progress import failure_detail
from product_metrics.errors import UserError
from product_metrics.failure_hints import add_failure_hint
from product_metrics.quality.settings import QualitySettings
from product_metrics.refresh import (
    RefreshLocked,
    RefreshOptions,
    dbt_args,
    dbt_env,
    dbt_vars,
    refresh_lock,
    test_window_start,
)

if TYPE_CHECKING:  # pragma: no cover
    from product_metrics.dbt import DbtRun


@dataclass
class StageResult:
    name: str
    status: str = "pending"        # passed | failed | skipped
    elapsed_s: float = 0.0
    detail: str = ""
    how_to_see_more: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[StageResult], bool]


def run_stages(stages: list[Stage], console, title: str = "product-metrics build") -> int:
    """Run the stages in order, skip the rest after a failure, print the stage table: exit 1 on a failure."""
    results = [StageResult(stage.name) for stage in stages]
    failed = False
    for stage, result in zip(stages, results):
        if failed:
            result.status = "skipped"
            result.detail = "an earlier stage failed"
            continue
        console.rule(f"[bold]{stage.name}")
        started = time.perf_counter()
        ok = stage.run(result)
        result.elapsed_s = time.perf_counter() - started
        result.status = "passed" if ok else "failed"
        failed = not ok
    print_stages(results, console, title)
    return 1 if failed else 0


def print_stages(results: list[StageResult], console, title: str = "product-metrics build") -> None:
    """The stage table of `build` and `refresh`, then how to see more of each failed stage."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("stage", "status", "time", "detail"):
        table.add_column(column, overflow="fold")
    style = {"passed": "[green]✓ passed[/]", "failed": "[red]✗ failed[/]", "skipped": "[dim]– skipped[/]"}
    for result in results:
        table.add_row(result.name, style.get(result.status, result.status),
                      f"{result.elapsed_s:.1f}s" if result.status != "skipped" else "", result.detail)
    console.print(table)
    for result in results:
        if result.status == "failed" and result.how_to_see_more:
            console.print(f"[red]{result.name} failed.[/] To see more:")
            for line in result.how_to_see_more:  # unwrapped: commands and paths to copy
                console.print(f"  {line}", soft_wrap=True, highlight=False)


def run_published(project, make_stages: Callable[[object], list[Stage]], console,
                  title: str = "product-metrics build") -> int:
    """Write-audit-publish (product_metrics.publish): the stages run aside — on a copy of the DuckDB
    file, or in pending schemas on PostgreSQL — and a last stage publishes when every stage before
    passed. A failed or interrupted run leaves what BI reads as it was. Exit 2 when the run cannot
    start aside, 130 when interrupted (Ctrl-C or SIGTERM, in any stage; a running dbt is stopped)."""
    from product_metrics.dbt import sigterm_as_interrupt
    from product_metrics.publish import PublishError, publication_for

    try:
        publication = publication_for(project)
        publication.prepare()
    except PublishError as error:
        console.print(f"[red]✗ {title} could not start:[/] {error}")
        return 2

    def publish(result: StageResult) -> bool:
        try:
            result.detail = publication.publish()
        except PublishError as error:
            result.detail = str(error)
            return False
        return True

    try:
        with sigterm_as_interrupt():
            code = run_stages([*make_stages(publication.working(project)), Stage("publish", publish)], console, title)
    except KeyboardInterrupt:
        if publication.published:  # interrupted at the very end, after the swap
            console.print(f"[red]✗ {title} interrupted[/] after publishing.", soft_wrap=True, highlight=False)
        else:
            console.print(f"[red]✗ {title} interrupted:[/] nothing was published, {publication.discard()}",
                          soft_wrap=True, highlight=False)
        return 130
    if code:
        console.print(f"Nothing was published: {publication.discard()}", soft_wrap=True, highlight=False)
    return code


# --- product-metrics build ---------------------------------------------------------------------

def run_build(*, database: Path | None, settings: QualitySettings, docs_dir: Path | None, console) -> int:
    """`dbt build` → experiments → drivers → data quality → governance check → publish, on a copy of the warehouse: stop at
    the first failing stage, and publish only when every stage passed."""
    from product_metrics.project import Project
    from product_metrics.publish import check_before_lock

    project = Project.locate(database)
    check_before_lock(project)  # a wrong path fails in a second, before dbt, creating nothing
    try:
        with refresh_lock(project.duckdb_path):
            return run_published(project, lambda work: build_stages(work, settings, docs_dir, console), console)
    except RefreshLocked as error:
        console.print(f"[red]✗ build refused:[/] {error}")
        return 3


def build_stages(project, settings: QualitySettings, docs_dir: Path | None, console) -> list[Stage]:
    """The stages of `product-metrics build`, in order; the governance check reads the manifest
    that the dbt build stage wrote (its per-run target path)."""
    artifacts: dict[str, Path] = {}
    return [
        Stage("dbt build", lambda result: _dbt_build_stage(project, console, result, artifacts)),
        Stage("experiments", lambda result: experiments_stage(project, console, result, artifacts)),
        Stage("drivers", lambda result: drivers_stage(project, console, result, artifacts)),
        Stage("data quality", lambda result: quality_stage(project, settings, docs_dir, console, result, artifacts)),
        Stage("governance", lambda result: governance_stage(project, console, result, artifacts)),
    ]


def _dbt_build_stage(project, console, result: StageResult, artifacts: dict[str, Path]) -> bool:
    from product_metrics.build_progress import dbt_build_with_progress

    run = dbt_build_with_progress(project, console)
    artifacts["target_path"] = run.target_path
    if run.success:
        result.detail = f"{len(run.results)} models, seeds and tests passed"
        return True
    result.detail, result.how_to_see_more = failure_detail(project, run)
    add_failure_hint(result, run.failed_nodes())
    return False


def experiments_stage(project, console, result: StageResult, artifacts: dict) -> bool:
    """The experiment readouts (product_metrics.experiments) from the marts the run's dbt build wrote,
    written next to them: metrics.fct_experiment_results, fct_experiment_daily and
    fct_experiment_decisions, in the run's copy of the DuckDB file or its pending schemas, so they
    publish with the rest. A decision against a
    variation is news, not a failure; only tables that cannot be read or written fail the stage."""
    from product_metrics.experiments.commands import read_out_and_write
    from product_metrics.experiments.tables import ExperimentMartsMissing
    from product_metrics.relations import relations_for

    try:
        relations = relations_for(project, artifacts.get("target_path"))
        _, result.detail = read_out_and_write(project.duckdb_path, project.warehouse_url, relations)
    except ExperimentMartsMissing:
        result.detail = "the project builds no experiment marts: nothing to read out"
        return True
    except UserError as error:  # WarehouseError, RelationsError
        result.detail = str(error)
        console.print(f"[red]✗ experiments could not be read out:[/] {error}", soft_wrap=True)
        result.how_to_see_more = ["rerun: product-metrics experiments --write " + (
            f"--url '{_without_password(project.warehouse_url)}'" if project.warehouse_url
            else f"--database {project.duckdb_path}")]
        return False
    console.print(result.detail, highlight=False)
    return True


def drivers_stage(project, console, result: StageResult, artifacts: dict) -> bool:
    """Every metric's latest week and month explained (product_metrics.drivers) from the cells the
    run's dbt build wrote, into metrics.fct_metric_change_drivers next to them, in the run's copy of
    the DuckDB file or its pending schemas, so it publishes with the rest. A metric that cannot be
    explained is a note; only tables that cannot be read or written fail the stage."""
    from product_metrics.drivers.cells import CellsMissing
    from product_metrics.drivers.tables import explain_and_write
    from product_metrics.governance.commands import load_current
    from product_metrics.governance.registry import ManifestError

    try:
        registry = load_current(artifacts.get("target_path"), console)
        result.detail = explain_and_write(project.duckdb_path, project.warehouse_url, registry)
    except CellsMissing:
        result.detail = "the project builds no fct_metric_segment_cells: nothing to explain"
        return True
    except (UserError, ManifestError) as error:  # WarehouseError
        result.detail = str(error)
        console.print(f"[red]✗ the change drivers could not be written:[/] {error}", soft_wrap=True)
        return False
    console.print(result.detail, highlight=False)
    return True


def quality_stage(project, settings: QualitySettings, docs_dir: Path | None, console, result: StageResult,
                  artifacts: dict | None = None) -> bool:
    """The data-quality gate on the run's warehouse; its report goes to artifacts["quality_report"].
    The tables are where the run's dbt build put them (its manifest, artifacts["target_path"]): its
    copy of the DuckDB file, or its pending schemas on PostgreSQL."""
    from product_metrics.quality.commands import progress_text, relations_with_status
    from product_metrics.quality.summary import print_report
    from product_metrics.quality.validate import validate_warehouse
    from product_metrics.quality.warehouse import resolve_warehouse

    try:
        located = settings.located(relations_with_status(console, (artifacts or {}).get("target_path"), project))
        with console.status("Data quality: loading Great Expectations…") as status:
            report = validate_warehouse(resolve_warehouse(project.duckdb_path, project.warehouse_url),
                                        located, docs_dir=docs_dir,
                                        on_progress=lambda p: status.update(progress_text(p)))
    except UserError as error:  # WarehouseError, or a manifest that says nothing (RelationsError)
        result.detail = str(error)
        console.print(f"[red]✗ data quality could not run:[/] {error}", soft_wrap=True)
        return False
    if artifacts is not None:
        artifacts["quality_report"] = report
    print_report(report, console)
    result.detail = (f"{len(report.results)} checks: {len(report.critical_failures)} critical failures, "
                     f"{len(report.warnings)} warnings")
    if not report.success:
        tables = sorted({r.table for r in report.critical_failures})
        result.detail += f" on {', '.join(tables[:4])}"
        result.how_to_see_more = [
            "rerun: product-metrics validate " + (f"--url '{_without_password(project.warehouse_url)}'"
                                                  if project.warehouse_url else f"--database {project.duckdb_path}"),
            f"select * from {report.stored_in} where run_id = '{report.run_id}' and not success",
        ] + ([f"Data Docs: {report.docs_index}"] if report.docs_index else [])
    return report.success


def _without_password(url: str) -> str:
    import sqlalchemy

    return sqlalchemy.make_url(url).render_as_string(hide_password=True)


def governance_stage(project, console, result: StageResult, artifacts: dict[str, Path], today=None,
                     warn_rules: frozenset[str] | None = None) -> bool:
    """`governance check` on the build's manifest. Violations of `warn_rules` (default: the rules
    only the calendar breaks, an overdue review) are warnings: they never fail a build or refresh."""
    import datetime as dt

    from product_metrics.governance.commands import EXIT_OK, check_and_print
    from product_metrics.governance.rules import CALENDAR_RULES

    warn_rules = CALENDAR_RULES if warn_rules is None else warn_rules

    manifest_dir = artifacts.get("target_path")
    code, warnings = check_and_print(manifest_dir=manifest_dir, state=None, today=today or dt.date.today(),
                                     decisions=project.root / "DECISIONS.md", console=console,
                                     warn_rules=warn_rules)
    if code != EXIT_OK:
        result.detail = "metric metadata breaks governance rules"
        result.how_to_see_more = [f"rerun: product-metrics governance check --manifest-dir {manifest_dir}"]
    elif warnings:
        result.detail = f"no failing rule; {warnings} warnings ({', '.join(sorted(warn_rules))}, listed above)"
    else:
        result.detail = "all rules pass"
    return code == EXIT_OK


# --- product-metrics refresh -------------------------------------------------------------------

def run_refresh(*, database: Path | None, options: RefreshOptions, settings, docs_dir: Path | None, console) -> int:
    """Take the lock, run the stages, print one summary. Exit code: 0 ok, 1 a stage failed,
    3 another refresh holds the lock, 130 interrupted. A warehouse that is missing or cannot be
    written raises UserError before anything runs (a refresh never creates a warehouse)."""
    from product_metrics.project import Project

    return refresh_project(Project.locate(database), options, settings, docs_dir, console)


# Runs the refresh's dbt command: (project, args, vars, env, timeout_s) -> DbtRun. The CLI's shows
# a progress bar (product_metrics.build_progress); Dagster's goes through dagster-dbt.
DbtRunner = Callable[[Any, list[str], dict[str, object], dict[str, str], float | None], "DbtRun"]


def refresh_project(project, options: RefreshOptions, settings, docs_dir: Path | None, console,
                    dbt_runner: DbtRunner | None = None, artifacts: dict[str, object] | None = None) -> int:
    """The refresh, the one path both `product-metrics refresh` and the Dagster job run: under the
    lock, the stages on a copy of the warehouse, published only when all passed. `artifacts`
    receives what the stages produced (dbt's target path, the data-quality report, the alert evaluations)."""
    from product_metrics.publish import check_before_lock

    title = "product-metrics refresh" + (f" as of {options.as_of}" if options.as_of else "")
    runner = dbt_runner or _runner_with_progress(console)
    artifacts = {} if artifacts is None else artifacts
    check_before_lock(project)  # before the lock file is created next to the warehouse
    try:
        with refresh_lock(project.duckdb_path):
            return run_published(project, lambda work: refresh_stages(work, options, settings, docs_dir, console,
                                                                      runner, artifacts), console, title)
    except RefreshLocked as error:
        console.print(f"[red]✗ refresh refused:[/] {error}")
        return error.exit_code


def _runner_with_progress(console) -> DbtRunner:
    from product_metrics.build_progress import dbt_build_with_progress

    return lambda project, args, vars, env, timeout_s: dbt_build_with_progress(
        project, console, vars=vars, args=args, env=env, timeout_s=timeout_s)


def refresh_stages(project, options: RefreshOptions, settings, docs_dir: Path | None, console, runner: DbtRunner,
                   artifacts: dict) -> list[Stage]:
    """The stages of `product-metrics refresh`, in order: the incremental dbt build, then (unless
    `options.checks` is off) those of check_stages."""
    stages = [Stage("dbt build" + (" (full refresh)" if options.full_refresh else " (incremental)"),
                    lambda result: _refresh_dbt_stage(project, options, result, runner, artifacts))]
    if options.checks:
        stages += check_stages(project, options, settings, docs_dir, console, artifacts)
    return stages


def _refresh_dbt_stage(project, options: RefreshOptions, result: StageResult, runner: DbtRunner,
                       artifacts: dict) -> bool:
    # Read before dbt writes: the windows are computed from the rows the models hold now.
    # (On a server warehouse every row is tested: the window is looked up in the DuckDB file only.)
    window_start = (None if options.full_refresh or project.warehouse_url
                    else test_window_start(project.duckdb_path, as_of=options.as_of, project=project))
    timeout_s = options.timeout_minutes * 60 if options.timeout_minutes else None
    run = runner(project, dbt_args(options), dbt_vars(options), dbt_env(options, window_start), timeout_s)
    artifacts["target_path"] = run.target_path
    if run.success:
        result.detail = (f"{len(run.results)} models, seeds and tests passed"
                         + ("; the project was parsed in full" if run.full_parse else "; dbt's saved parse reused"))
        return True
    if run.timed_out:
        result.detail = (f"stopped: dbt ran longer than the timeout ({options.timeout_minutes:g} min) and was "
                         "interrupted")
        return False
    result.detail, result.how_to_see_more = failure_detail(project, run)
    add_failure_hint(result, run.failed_nodes())
    return False


def check_stages(project, options: RefreshOptions, settings, docs_dir, console, artifacts) -> list[Stage]:
    """The stages of `product-metrics build` after its dbt build (the experiment readouts, the change
    drivers, data quality, governance), reused as they are, except that governance findings only the calendar
    brings (an overdue review) are warnings: the data is right, and the alerts after it must still
    run. Then the alerts."""
    from product_metrics.governance.rules import CALENDAR_RULES

    return [
        Stage("experiments", lambda result: experiments_stage(project, console, result, artifacts)),
        Stage("drivers", lambda result: drivers_stage(project, console, result, artifacts)),
        Stage("data quality", lambda result: quality_stage(project, settings, docs_dir, console, result, artifacts)),
        Stage("governance", lambda result: governance_stage(project, console, result, artifacts,
                                                            warn_rules=CALENDAR_RULES)),
        Stage("alerts", lambda result: _alerts_stage(project, options, settings, console, result, artifacts)),
    ]


def _alerts_stage(project, options: RefreshOptions, settings, console, result: StageResult, artifacts: dict) -> bool:
    """Threshold breaches, targets and anomalies (with the data-quality stage's anomaly settings) are
    recorded and shown, never a failed refresh: the numbers are right, they are just bad news. Only
    metrics that cannot be read fail the stage."""
    from product_metrics.governance.commands import EXIT_OK, run_alerts

    code = run_alerts(database=project.duckdb_path, url=project.warehouse_url, manifest_dir=artifacts.get("target_path"),
                      fail_on="never", today=options.as_of, schema=None, console=console,
                      evaluations_out=artifacts.setdefault("alerts", []), quality_settings=settings)
    # fail_on never: a code other than 0 means the alerts could not run (2, or 3: the warehouse was busy)
    result.detail = "breaches recorded in metric_alerts (schema audit)" if code == EXIT_OK else "alerts could not run"
    return code == EXIT_OK
