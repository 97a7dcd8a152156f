"""What the refresh's two gates found, per warehouse table (`schema.table`), so that Dagster's asset
checks report it on the asset that built each table: the data-quality validation (Great Expectations
as SQL in the warehouse, results appended to audit.dq_results) and the metric threshold alerts
(breaches appended to audit.metric_alerts). The gates themselves run inside the refresh
(product_metrics.pipeline), once; these functions only read their results."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


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


def quality_findings(report) -> GateRun:
    """The data-quality gate's report (product_metrics.quality.validate) per table."""
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


def threshold_findings(evaluations: list, *, metrics_schema: str = "metrics") -> GateRun:
    """The threshold alerts' evaluations (product_metrics.governance.alerts) per table: `schema.table`,
    with `metrics_schema` the schema dbt built the metric tables in (from the manifest)."""
    run_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
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
               f"warn, {levels.count('ok')} ok; breaches recorded in metric_alerts")
    return GateRun(f"{run_at:%Y%m%dT%H%M%S}", findings, summary)
