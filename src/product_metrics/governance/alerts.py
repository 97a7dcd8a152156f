"""Threshold alerts: each governed metric's latest complete value against its warn / alert
thresholds, in its direction. Breaches are appended to `audit.metric_alerts` (next to
`audit.dq_results`: both are the record of runs, not metrics BI reads as numbers).

higher_is_better: value < alert → alert, else value < warn → warn (lower_is_better: >). A value
equal to a threshold does not breach it. Deprecated metrics, metrics without thresholds or
without lives_in are not evaluated.

Each row says its `kind`: 'threshold' (a breach above) or 'target' (a dated target off track or
missed, product_metrics.governance.targets; level 'warn', threshold = the target value) or 'anomaly'
(a value of the latest complete period far from its trailing window, product_metrics.governance.anomalies;
level 'warn', threshold = the edge of the normal range it crossed), a one-line `detail` with units, and `top_drivers`: what moved the metric, from the `explain` callables given to
record_breaches (None: not explained). A metric_alerts table written before these columns existed
gets them added (null in its old rows) before the append.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from product_metrics.governance.latest_values import LatestValue, read_latest_values
from product_metrics.governance.registry import Registry
from product_metrics.warehouse import Warehouse

if TYPE_CHECKING:  # pragma: no cover
    from product_metrics.governance.anomalies import Anomaly
    from product_metrics.governance.targets import TargetStatus

ALERTS_TABLE = "metric_alerts"
ALERTS_SCHEMA = "audit"
ALERT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_at", "timestamp"),
    ("metric_name", "text"),
    ("period", "date"),
    ("value", "double precision"),
    ("threshold", "double precision"),
    ("level", "text"),
    ("direction", "text"),
    ("table", "text"),
    ("column", "text"),
    ("kind", "text"),  # threshold | target | anomaly
    ("detail", "text"),
    ("top_drivers", "text"),
)
KINDS = ("threshold", "target", "anomaly")


@dataclass(frozen=True)
class Evaluation:
    metric: str
    direction: str
    warn: float | None
    alert: float | None
    latest: LatestValue
    level: str  # alert | warn | ok | no_value | error
    threshold: float | None = None

    @property
    def is_breach(self) -> bool:
        return self.level in ("alert", "warn")


def breach_level(value: float, direction: str, warn: float | None, alert: float | None) -> tuple[str, float | None]:
    """('alert' | 'warn' | 'ok', the threshold breached)."""
    def worse(threshold: float) -> bool:
        return value < threshold if direction == "higher_is_better" else value > threshold

    if alert is not None and worse(alert):
        return "alert", alert
    if warn is not None and worse(warn):
        return "warn", warn
    return "ok", None


def evaluate(registry: Registry, warehouse: Warehouse, *, before: dt.date | None = None) -> list[Evaluation]:
    """Evaluate every live metric with thresholds and lives_in; `before`: the as-of date (only
    periods before it count)."""
    candidates = {m.name: m for m in registry.governed()
                  if m.governance.status != "deprecated" and m.governance.thresholds
                  and m.governance.lives_in and m.governance.direction}
    values = read_latest_values(warehouse, registry, candidates, before=before)
    evaluations = []
    for name in sorted(candidates):
        governance, latest = candidates[name].governance, values[name]
        if latest.error:
            level, threshold = "error", None
        elif latest.value is None:
            level, threshold = "no_value", None
        else:
            level, threshold = breach_level(latest.value, governance.direction, governance.warn, governance.alert)
        evaluations.append(Evaluation(name, governance.direction, governance.warn, governance.alert, latest,
                                      level, threshold))
    return evaluations


def breach_detail(evaluation: Evaluation, unit: str | None = None, noun: str | None = None) -> str:
    """One line with units, e.g. `dau_mau_ratio 12.0% in 2026-06-02, below the alert threshold 15.0%`."""
    from product_metrics.formatting import format_value

    def amount(value: float | None) -> str:
        return format_value(value, unit, evaluation.metric, noun=noun)

    side = "below" if evaluation.direction == "higher_is_better" else "above"
    return (f"{evaluation.metric} {amount(evaluation.latest.value)} in {evaluation.latest.period}, "
            f"{side} the {evaluation.level} threshold {amount(evaluation.threshold)}")


def target_row(status: TargetStatus, run_at: dt.datetime) -> dict[str, Any]:
    """An off-track or missed target as an alert row: the period and value it was judged on (the
    period holding the date for a missed target, the latest complete period otherwise)."""
    judged = status.status in ("met", "missed")
    return {"run_at": run_at, "metric_name": status.metric,
            "period": status.by_period if judged else status.as_of_period,
            "value": status.by_value if judged else status.current_value, "threshold": status.target_value,
            "level": "warn", "direction": status.direction, "table": status.table, "column": status.column,
            "kind": "target", "detail": status.summary, "top_drivers": None}


def anomaly_row(anomaly: Anomaly, run_at: dt.datetime, top_drivers: str | None = None) -> dict[str, Any]:
    """An anomaly as an alert row, under its governed metric's name (else its series' name)."""
    metric = anomaly.metric
    return {"run_at": run_at, "metric_name": anomaly.name, "period": anomaly.period, "value": anomaly.value,
            "threshold": anomaly.bound, "level": "warn",
            "direction": metric.governance.direction if metric is not None and metric.governance else None,
            "table": anomaly.table, "column": anomaly.column, "kind": "anomaly", "detail": anomaly.detail(),
            "top_drivers": top_drivers}


def record_breaches(warehouse: Warehouse, evaluations: list[Evaluation], *, run_at: dt.datetime,
                    schema: str = ALERTS_SCHEMA, explain: Callable[[Evaluation], str | None] | None = None,
                    targets: Sequence[TargetStatus] = (), units: dict[str, str | None] | None = None,
                    anomalies: Sequence[Anomaly] = (),
                    explain_anomaly: Callable[[Anomaly], str | None] | None = None) -> int:
    """Append the threshold breaches, the off-track / missed `targets` and the `anomalies` to
    `<schema>.metric_alerts` (created if missing, missing columns added); returns rows written.
    `explain` gives a breach's top drivers, `explain_anomaly` an anomaly's (None: none); `units`:
    metric -> governance unit, for the detail line."""
    units = units or {}
    rows = [{"run_at": run_at, "metric_name": e.metric, "period": e.latest.period, "value": e.latest.value,
             "threshold": e.threshold, "level": e.level, "direction": e.direction, "table": e.latest.table,
             "column": e.latest.column, "kind": "threshold", "detail": breach_detail(e, units.get(e.metric)),
             "top_drivers": explain(e) if explain is not None else None}
            for e in evaluations if e.is_breach]
    rows += [target_row(status, run_at) for status in targets if status.is_alert]
    rows += [anomaly_row(anomaly, run_at, explain_anomaly(anomaly) if explain_anomaly is not None else None)
             for anomaly in anomalies]
    return warehouse.write(schema, ALERTS_TABLE, ALERT_COLUMNS, rows, replace=False, add_columns=True)


def exit_code(evaluations: list[Evaluation], fail_on: str) -> int:
    """1 when a breach at or above `fail_on` happened; 2 when a metric could not be read (the gate
    cannot vouch for it) unless fail_on is never; else 0."""
    if fail_on == "never":
        return 0
    levels = {e.level for e in evaluations}
    if "alert" in levels or (fail_on == "warn" and "warn" in levels):
        return 1
    return 2 if "error" in levels else 0
