"""The two gates that follow a dbt build, as plain functions Dagster's asset checks call: the data-quality
validation (Great Expectations as SQL in the warehouse, results appended to audit.dq_results) and the
metric threshold alerts (breaches appended to audit.metric_alerts). Each returns its findings per
warehouse table (`schema.table`), so the checks can report them on the asset that built the table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class TableFinding:
    """What one gate found on one table."""

    checks: int = 0
    failed: tuple[str, ...] = ()          # critical failures (data quality) / alert-level breaches
    warnings: tuple[str, ...] = ()        # warnings (data quality) / warn-level breaches

    @property
    def passed(self) -> bool:
        return not self.failed and not self.warnings


@dataclass
class GateRun:
    run_id: str
    findings: dict[str, TableFinding] = field(default_factory=dict)   # schema.table → finding
    summary: str = ""


def run_quality_gate(duckdb_path: Path, *, store: bool = True) -> GateRun:
    """`product-metrics validate` without the terminal: every suite, results stored in audit.dq_results."""
    from product_metrics.quality.validate import validate_warehouse
    from product_metrics.quality.warehouse import DuckDBWarehouse

    report = validate_warehouse(DuckDBWarehouse(duckdb_path), store=store)
    findings: dict[str, TableFinding] = {}
    for table in report.tables:
        results = [r for r in report.results if r.table == table]
        findings[table] = TableFinding(
            checks=len(results),
            failed=tuple(f"{r.rule}{f' ({r.column})' if r.column else ''}" for r in results if r.is_critical_failure),
            warnings=tuple(f"{r.rule}{f' ({r.column})' if r.column else ''}" for r in results if r.is_warning))
    summary = (f"{len(report.results)} checks on {len(report.tables)} tables: {len(report.critical_failures)} "
               f"critical failures, {len(report.warnings)} warnings (run_id {report.run_id})")
    return GateRun(report.run_id, findings, summary)


def run_threshold_alerts(duckdb_path: Path, manifest_dir: Path, *, metrics_schema: str = "metrics") -> GateRun:
    """`product-metrics alerts` without the terminal: each governed metric's latest complete value against
    its thresholds; breaches appended to audit.metric_alerts."""
    from product_metrics.governance.alerts import evaluate, record_breaches
    from product_metrics.governance.registry import load_registry
    from product_metrics.governance.warehouse import Warehouse

    registry = load_registry(manifest_dir)
    run_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with Warehouse.open(duckdb_path) as warehouse:
        evaluations = evaluate(registry, warehouse)
        written = record_breaches(warehouse, evaluations, run_at=run_at)
    by_table: dict[str, list] = {}
    for evaluation in evaluations:
        table = evaluation.latest.table or "unknown"
        by_table.setdefault(table if "." in table else f"{metrics_schema}.{table}", []).append(evaluation)
    findings = {
        table: TableFinding(
            checks=len(items),
            # An unreadable metric fails the check too: the gate cannot vouch for it (as `alerts` exits 2).
            failed=tuple(f"{e.metric} = {e.latest.value:.4g} (alert {e.threshold:g})"
                         for e in items if e.level == "alert")
            + tuple(f"{e.metric}: could not be read: {e.latest.error}" for e in items if e.level == "error"),
            warnings=tuple(f"{e.metric} = {e.latest.value:.4g} (warn {e.threshold:g})"
                           for e in items if e.level == "warn"))
        for table, items in by_table.items()}
    levels = [e.level for e in evaluations]
    summary = (f"{len(evaluations)} metrics with thresholds: {levels.count('alert')} alert, {levels.count('warn')} "
               f"warn, {levels.count('ok')} ok; {written} breaches recorded in audit.metric_alerts")
    return GateRun(f"{run_at:%Y%m%dT%H%M%S}", findings, summary)
