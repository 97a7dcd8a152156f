"""The metric catalog: one row per metric with every governance field, where it lives, what it is
built from, who reads it, its latest value and its dated targets' statuses — written as `metrics.metric_catalog` for BI tools
and rendered as a static HTML page (product_metrics.governance.catalog_html)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from product_metrics.governance.definitions import input_metrics
from product_metrics.governance.latest_values import LatestValue
from product_metrics.governance.registry import Metric, Registry
from product_metrics.governance.rules import is_review_overdue
from product_metrics.governance.targets import TargetStatus
from product_metrics.warehouse import Warehouse

CATALOG_TABLE = "metric_catalog"
CATALOG_SCHEMA = "metrics"

# (column, SQL type) of metric_catalog, in order. Lists and mappings are JSON text.
CATALOG_COLUMNS: tuple[tuple[str, str], ...] = (
    ("metric_name", "text"),
    ("label", "text"),
    ("metric_type", "text"),
    ("description", "text"),
    ("formula", "text"),
    ("owner_name", "text"),
    ("owner_email", "text"),
    ("unit", "text"),
    ("grain", "text"),
    ("role", "text"),
    ("direction", "text"),
    ("indicator", "text"),
    ("guardrails", "text"),
    ("review_cadence", "text"),
    ("last_reviewed", "date"),
    ("next_review_due", "date"),
    ("is_review_overdue", "boolean"),
    ("status", "text"),
    ("version", "integer"),
    ("thresholds", "text"),
    ("threshold_warn", "double precision"),
    ("threshold_alert", "double precision"),
    ("lives_in", "text"),
    ("lives_in_table", "text"),
    ("lives_in_column", "text"),
    ("lives_in_time_column", "text"),
    ("lives_in_complete_column", "text"),
    ("tables", "text"),
    ("input_metrics", "text"),
    ("exposures", "text"),
    ("latest_period", "date"),
    ("latest_value", "double precision"),
    ("latest_value_note", "text"),
    ("has_governance", "boolean"),
    ("governance", "text"),
    ("catalog_built_at", "timestamp"),
    ("targets", "text"),  # JSON: each dated target's status (governance.targets.TargetStatus), by date
)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class CatalogEntry:
    """A metric as the catalog shows it: the registry's metric plus what the warehouse and the
    other nodes say about it."""

    metric: Metric
    inputs: tuple[str, ...]
    tables: tuple[str, ...]
    exposures: tuple[str, ...]
    latest: LatestValue | None
    targets: tuple[TargetStatus, ...] = ()  # the metric's dated targets, judged as of its latest period

    @property
    def name(self) -> str:
        return self.metric.name


def exposures_of(registry: Registry, metric: Metric) -> list[str]:
    """Exposures that read the metric directly, or a table that holds it."""
    tables = {m.unique_id for m in registry.tables_listing(metric.name)}
    return sorted(e.name for e in registry.exposures.values()
                  if metric.unique_id in e.depends_on or tables & set(e.depends_on))


def catalog_entries(registry: Registry, latest: dict[str, LatestValue],
                    targets: Mapping[str, Sequence[TargetStatus]] | None = None) -> list[CatalogEntry]:
    """`targets`: each metric's TargetStatus list (governance.targets.evaluate_targets)."""
    targets = targets or {}
    entries = []
    for metric in sorted(registry.scoped_metrics(), key=lambda m: m.name):
        governance = metric.governance
        tables = [governance.lives_in.table] if governance and governance.lives_in else []
        tables += [m.name for m in registry.tables_listing(metric.name) if m.name not in tables]
        entries.append(CatalogEntry(metric, tuple(input_metrics(registry, metric)), tuple(tables),
                                    tuple(exposures_of(registry, metric)), latest.get(metric.name),
                                    tuple(targets.get(metric.name, ()))))
    return entries


def catalog_row(entry: CatalogEntry, built_at: dt.datetime, today: dt.date | None = None) -> dict[str, Any]:
    """`today`: the date review deadlines are checked against (default: the day of built_at)."""
    metric, governance, latest = entry.metric, entry.metric.governance, entry.latest
    due = governance.next_review_due() if governance else None
    raw = dict(governance.raw) if governance else {}
    lives_in = governance.lives_in if governance else None
    note = (latest.error or latest.note) if latest else (None if lives_in else "no lives_in: semantic layer only")
    return {
        "metric_name": metric.name,
        "label": metric.label,
        "metric_type": metric.type,
        "description": (governance.description if governance else None) or metric.description,
        "formula": governance.formula if governance else None,
        "owner_name": governance.owner.name if governance and governance.owner else None,
        "owner_email": governance.owner.email if governance and governance.owner else None,
        "unit": governance.unit if governance else None,
        "grain": governance.grain if governance else None,
        "role": governance.role if governance else None,
        "direction": governance.direction if governance else None,
        "indicator": governance.indicator if governance else None,
        "guardrails": _json(list(governance.guardrails)) if governance and governance.guardrails is not None else None,
        "review_cadence": governance.review_cadence if governance else None,
        "last_reviewed": governance.last_reviewed if governance else None,
        "next_review_due": due,
        "is_review_overdue": is_review_overdue(due, governance.status, today or built_at.date()) if governance
        else None,
        "status": governance.status if governance else None,
        "version": governance.version if governance else None,
        "thresholds": _json(raw.get("thresholds")) if governance and governance.thresholds is not None else None,
        "threshold_warn": governance.warn if governance else None,
        "threshold_alert": governance.alert if governance else None,
        "lives_in": _json(raw.get("lives_in")) if lives_in else None,
        "lives_in_table": lives_in.table if lives_in else None,
        "lives_in_column": lives_in.column if lives_in else None,
        "lives_in_time_column": lives_in.time_column if lives_in else None,
        "lives_in_complete_column": lives_in.complete_column if lives_in else None,
        "tables": _json(list(entry.tables)),
        "input_metrics": _json(list(entry.inputs)),
        "exposures": _json(list(entry.exposures)),
        "latest_period": latest.period if latest and not latest.error else None,
        "latest_value": latest.value if latest and not latest.error else None,
        "latest_value_note": note,
        "has_governance": governance is not None,
        "governance": _json(raw) if governance else None,
        "catalog_built_at": built_at,
        "targets": _json([target_json(status) for status in entry.targets]) if entry.targets else None,
    }


def target_json(status: TargetStatus) -> dict[str, Any]:
    """A target's status as the catalog table's JSON holds it."""
    return {key: getattr(status, key) for key in (
        "target_value", "by", "set_on", "status", "as_of_period", "current_value", "baseline_value", "progress",
        "periods_left", "required_pace", "recent_pace", "projected_value", "summary")}


def write_catalog_table(warehouse: Warehouse, entries: list[CatalogEntry], *, built_at: dt.datetime,
                        schema: str = CATALOG_SCHEMA, today: dt.date | None = None) -> int:
    """Replace `<schema>.metric_catalog` with one row per metric (in one transaction)."""
    rows = [catalog_row(entry, built_at, today) for entry in entries]
    return warehouse.write(schema, CATALOG_TABLE, CATALOG_COLUMNS, rows, replace=True)
