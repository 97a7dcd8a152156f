"""A short, readable account of a validation run for the terminal (rich)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from product_metrics.quality.results import CheckResult, ValidationReport, to_json_text

MAX_ROWS = 25


def print_report(report: ValidationReport, console) -> None:
    from rich.table import Table

    failures = sorted((r for r in report.results if not r.success),
                      key=lambda r: (r.severity != "critical", r.table, r.rule))
    passed = sum(r.success for r in report.results)
    critical, warnings = len(report.critical_failures), len(report.warnings)
    if failures:
        table = Table(title="Data quality: what failed", title_justify="left", show_lines=False)
        for column in ("", "table", "column", "check", "found", "failing rows / values"):
            table.add_column(column, overflow="fold", ratio=3 if column.startswith("failing") else None)
        for result in failures[:MAX_ROWS]:
            marker = "[red]✗[/]" if result.severity == "critical" else "[yellow]![/]"
            table.add_row(marker, result.table, result.column or "", _check_name(result), _found(result),
                          _examples(result))
        console.print(table)
        if len(failures) > MAX_ROWS:
            console.print(f"  … and {len(failures) - MAX_ROWS} more (see the Data Docs or the dq_results table)")
    status = "[green]✓ passed[/]" if report.success else "[red]✗ failed[/]"
    if failures:
        console.print("  [red]✗[/] critical (fails the gate)   [yellow]![/] warning (reported only)")
    console.print(
        f"{status} data quality: {len(report.results)} checks on {len(report.tables)} tables — "
        f"{passed} passed, {critical} critical failures, {warnings} warnings "
        f"({report.validation_s:.1f}s validating, {report.elapsed_s:.1f}s in all)"
    )
    if report.last_included_date:
        console.print(f"  cutoff: data through {report.last_included_date.isoformat()}")
    if report.stored_in:
        console.print(f"  results: {report.stored_in} (run_id = '{report.run_id}')", soft_wrap=True, highlight=False)
    if report.docs_index:
        console.print(f"  Data Docs: {report.docs_index}", soft_wrap=True, highlight=False)


def _check_name(result: CheckResult) -> str:
    if result.rule == result.expectation:
        return result.rule
    return f"{result.rule}\n[dim]{result.expectation}[/]"


def _found(result: CheckResult) -> str:
    if result.error:
        return f"error: {result.error.splitlines()[0][:200]}"
    parts = []
    if result.unexpected_count is not None:
        parts.append(f"{result.unexpected_count:,} failing")
    if result.observed_value is not None and not (isinstance(result.observed_value, int)
                                                  and result.observed_value == result.unexpected_count):
        parts.append(f"observed {_short(result.observed_value, 80)}")
    return "; ".join(parts)


def _examples(result: CheckResult) -> str:
    shown = result.examples[:3] if result.severity == "critical" else result.examples[:1]
    more = len(result.examples) - len(shown)
    return "\n".join([_short(example, 160) for example in shown] + ([f"… {more} more"] if more > 0 else []))


# Columns of a failing row that say nothing a reader needs (empty keys, the rule's own labels).
_QUIET = {"series_key", "metric", "reject_share_limit"}


def _short(value: Any, limit: int) -> str:
    if isinstance(value, dict) and "trailing_mean" in value:  # an anomaly: the numbers that explain it
        text = (f"{_format(value.get('period'))}: {_format(value.get('value'))} (mean "
                f"{_format(value.get('trailing_mean'))}, sd {_format(value.get('trailing_stddev'))}, "
                f"z {_format(value.get('z_score'))})")
    elif isinstance(value, dict):
        text = " ".join(f"{_label(k)}={_format(v)}" for k, v in value.items()
                        if not (k in _QUIET or v is None or v == ""))
    else:
        text = _format(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(key: str) -> str:
    return {"trailing_mean": "mean", "trailing_stddev": "sd", "z_score": "z",
            "expected_latest_period": "expected", "latest_period": "latest"}.get(key, key)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (str, int)) or value is None:
        return str(value)
    return to_json_text(value, limit=200) or ""
