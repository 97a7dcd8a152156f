"""What a validation run found, as plain dataclasses, and the `dq_results` table it is stored in."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from dataclasses import dataclass, field
from typing import Any

from product_metrics.quality.rules import CRITICAL, WARNING

DQ_RESULTS_TABLE = "dq_results"


@dataclass(frozen=True)
class CheckResult:
    """One expectation's outcome on one table."""

    suite: str
    table: str                     # schema.table
    rule: str                      # the project's rule name (suites.py)
    expectation: str               # GX expectation type, e.g. expect_column_values_to_be_between
    success: bool
    severity: str = CRITICAL
    column: str | None = None
    observed_value: Any = None
    unexpected_count: int | None = None
    examples: tuple[Any, ...] = ()     # a few failing values or rows
    error: str | None = None           # the check could not run (counts as a failure)

    @property
    def is_critical_failure(self) -> bool:
        return not self.success and self.severity == CRITICAL

    @property
    def is_warning(self) -> bool:
        return not self.success and self.severity == WARNING


@dataclass
class ValidationReport:
    run_id: str
    run_at: dt.datetime
    warehouse: str
    results: list[CheckResult] = field(default_factory=list)
    docs_index: str | None = None
    elapsed_s: float = 0.0
    validation_s: float = 0.0
    stored_in: str | None = None
    last_included_date: dt.date | None = None

    @property
    def critical_failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.is_critical_failure]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if r.is_warning]

    @property
    def success(self) -> bool:
        """The gate: no critical failure (warnings are reported, not blocking)."""
        return not self.critical_failures

    def failed(self, rule: str | None = None, table: str | None = None) -> list[CheckResult]:
        return [r for r in self.results if not r.success
                and (rule is None or r.rule == rule) and (table is None or r.table.endswith(table))]

    @property
    def tables(self) -> list[str]:
        return list(dict.fromkeys(r.table for r in self.results))


def to_json_text(value: Any, limit: int = 2000) -> str | None:
    if value is None:
        return None
    text = json.dumps(value, default=_json_default, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return str(value)


def store_results(session, report: ValidationReport, schema: str) -> str:
    """Append the run's results to `<schema>.dq_results` in the warehouse (created if missing)."""
    import sqlalchemy as sa

    metadata = sa.MetaData(schema=schema)
    table = sa.Table(
        DQ_RESULTS_TABLE, metadata,
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("run_at", sa.DateTime, nullable=False),
        sa.Column("suite", sa.String(200), nullable=False),
        sa.Column("table_name", sa.String(200), nullable=False),
        sa.Column("column_name", sa.String(200)),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("expectation", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("observed_value", sa.Text),
        sa.Column("unexpected_count", sa.BigInteger),
        sa.Column("examples", sa.Text),
        sa.Column("error", sa.Text),
    )
    rows = [
        {
            "run_id": report.run_id, "run_at": report.run_at.replace(tzinfo=None), "suite": r.suite,
            "table_name": r.table, "column_name": r.column, "rule": r.rule, "expectation": r.expectation,
            "severity": r.severity, "success": r.success, "observed_value": to_json_text(r.observed_value),
            "unexpected_count": r.unexpected_count, "examples": to_json_text(list(r.examples) or None),
            "error": r.error,
        }
        for r in report.results
    ]
    with session.engine.begin() as connection:
        connection.execute(sa.text(f"create schema if not exists {schema}"))
        metadata.create_all(connection, checkfirst=True)
        if rows:
            connection.execute(table.insert(), rows)
    return f"{schema}.{DQ_RESULTS_TABLE}"
