"""Bodies of `product-metrics validate` and `product-metrics build` (cli.py only declares them)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from product_metrics.errors import UserError
from product_metrics.quality.rules import QualitySettings, Schemas

LAYERS = ("metrics", "staging", "raw")


def settings_from_options(*, reject_share_limit: float, anomaly_k: float, anomaly_window: int,
                          tables: list[str] | None, layers: list[str] | None,
                          metrics_schema: str | None = None) -> QualitySettings:
    unknown = set(layers or ()) - set(LAYERS)
    if unknown:
        raise ValueError(f"Unknown layer(s) {sorted(unknown)}: choose from {', '.join(LAYERS)}.")
    return QualitySettings(schemas=Schemas(metrics=metrics_schema or Schemas.metrics),
                           reject_share_limit=reject_share_limit, anomaly_k=anomaly_k, anomaly_window=anomaly_window,
                           tables=tuple(tables or ()), include_layers=tuple(layers or LAYERS),
                           metrics_schema_option=metrics_schema)


def default_docs_dir(database: Path | None) -> Path:
    from product_metrics.project import Project

    return Project.locate(database).root / "target" / "data_docs"


def run_validate(*, database: Path | None, url: str | None, settings: QualitySettings, docs_dir: Path | None,
                 store: bool, console) -> int:
    """Validate, print the summary; the exit code is 1 on a critical failure, 2 when it cannot run,
    3 when another process holds the warehouse's lock."""
    from dataclasses import replace

    from product_metrics.quality.summary import print_report
    from product_metrics.quality.validate import validate_warehouse
    from product_metrics.quality.warehouse import DuckDBWarehouse, resolve_warehouse

    try:
        warehouse = resolve_warehouse(database, url)
        if isinstance(warehouse, DuckDBWarehouse) and not warehouse.path.is_file():
            warehouse.connect()  # raises WarehouseError naming the missing file, before the slow parse
        settings = settings.located(_relations(console, database=database))
        if not store and isinstance(warehouse, DuckDBWarehouse):  # reads only: a read-only file will do
            warehouse = replace(warehouse, read_only=True)
        with console.status(f"Validating {warehouse.label} (loading Great Expectations)…") as status:
            report = validate_warehouse(
                warehouse, settings, docs_dir=docs_dir, store=store,
                on_progress=lambda p: status.update(_progress_text(p)))
    except UserError as error:  # WarehouseError, or a manifest that says nothing (RelationsError)
        console.print(f"[red]✗ data quality could not run:[/] {error}", soft_wrap=True)
        return error.exit_code
    print_report(report, console)
    return 0 if report.success else 1


def _relations(console, manifest_dir: Path | None = None, project=None, database: Path | None = None):
    """Where dbt built the tables and what it read: the manifest of `manifest_dir` (a run's), else
    a fresh `dbt parse` of the project (product_metrics.relations); the demo layout when there is no project."""
    from product_metrics.project import Project, ProjectNotFound
    from product_metrics.relations import relations_for

    if project is None:
        try:
            project = Project.locate(database)
        except ProjectNotFound:
            return relations_for(None, manifest_dir)
    with console.status("dbt parse (where the tables are)…") if manifest_dir is None else contextlib.nullcontext():
        return relations_for(project, manifest_dir)


def _progress_text(progress) -> str:
    suites = f" {progress.total} suites" if progress.total else ""
    return f"Data quality: {progress.stage}{suites} (GX, as SQL in the warehouse)…"


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


def run_build(*, database: Path | None, settings: QualitySettings, docs_dir: Path | None, console) -> int:
    """`dbt build` → data quality → governance check → publish, on a copy of the warehouse: stop at
    the first failing stage, and publish only when every stage passed."""
    from product_metrics.project import Project
    from product_metrics.publish import check_before_lock
    from product_metrics.refresh import RefreshLocked, refresh_lock

    project = Project.locate(database)
    check_before_lock(project)  # a wrong path fails in a second, before dbt, creating nothing
    try:
        with refresh_lock(project.duckdb_path):
            return run_published(project, lambda work: build_stages(work, settings, docs_dir, console), console)
    except RefreshLocked as error:
        console.print(f"[red]✗ build refused:[/] {error}")
        return 3


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


def build_stages(project, settings: QualitySettings, docs_dir: Path | None, console) -> list[Stage]:
    """The stages of `product-metrics build`, in order; the governance check reads the manifest
    that the dbt build stage wrote (its per-run target path)."""
    artifacts: dict[str, Path] = {}
    return [
        Stage("dbt build", lambda result: _dbt_build_stage(project, console, result, artifacts)),
        Stage("data quality", lambda result: quality_stage(project, settings, docs_dir, console, result, artifacts)),
        Stage("governance", lambda result: governance_stage(project, console, result, artifacts)),
    ]


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


def _dbt_build_stage(project, console, result: StageResult, artifacts: dict[str, Path]) -> bool:
    from product_metrics.build_progress import dbt_build_with_progress, failure_detail
    from product_metrics.failure_hints import add_failure_hint

    run = dbt_build_with_progress(project, console)
    artifacts["target_path"] = run.target_path
    if run.success:
        result.detail = f"{len(run.results)} models, seeds and tests passed"
        return True
    result.detail, result.how_to_see_more = failure_detail(project, run)
    add_failure_hint(result, run.failed_nodes())
    return False


def quality_stage(project, settings: QualitySettings, docs_dir: Path | None, console, result: StageResult,
                  artifacts: dict | None = None) -> bool:
    """The data-quality gate on the run's warehouse; its report goes to artifacts["quality_report"].
    The tables are where the run's dbt build put them (its manifest, artifacts["target_path"]): its
    copy of the DuckDB file, or its pending schemas on PostgreSQL."""
    from product_metrics.quality.summary import print_report
    from product_metrics.quality.validate import validate_warehouse
    from product_metrics.quality.warehouse import resolve_warehouse

    try:
        located = settings.located(_relations(console, (artifacts or {}).get("target_path"), project))
        with console.status("Data quality: loading Great Expectations…") as status:
            report = validate_warehouse(resolve_warehouse(project.duckdb_path, project.warehouse_url),
                                        located, docs_dir=docs_dir,
                                        on_progress=lambda p: status.update(_progress_text(p)))
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
