"""metrics.fct_metric_change_drivers: for every metric of fct_metric_segment_cells, its latest
complete week against the week before and its latest complete month against the month before,
explained by all four user dimensions (segments up to two deep, or mix and rate for a ratio), plus
the metric-tree rows of a metric with a governance decomposition. Written by the `drivers` stage of
build and refresh next to the cells (the run's copy of the DuckDB file or its pending schemas, so it
publishes with the rest), replaced in one transaction."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from product_metrics.drivers.cells import CELLS_TABLE, CellsMissing, available_periods, cell_metrics
from product_metrics.drivers.periods import Period
from product_metrics.governance.registry import Registry
from product_metrics.warehouse import Warehouse

DRIVERS_TABLE = "fct_metric_change_drivers"
DRIVERS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("metric_name", "text"), ("period_grain", "text"), ("from_period_start", "date"), ("to_period_start", "date"),
    ("analysis", "text"), ("dimensions", "text"), ("segment", "text"), ("depth", "integer"),
    ("from_value", "double precision"), ("to_value", "double precision"), ("difference", "double precision"),
    ("expected_value", "double precision"), ("unexpected_difference", "double precision"),
    ("relative_unexpected_difference", "double precision"), ("support", "double precision"),
    ("mix_effect", "double precision"), ("rate_effect", "double precision"), ("contribution", "double precision"),
    ("contribution_share", "double precision"), ("driver_rank", "integer"),
)


@dataclass(frozen=True)
class Comparison:
    metric: str
    before: Period
    after: Period


def latest_comparisons(warehouse: Warehouse, registry: Registry) -> list[Comparison]:
    """Per metric and grain: the latest period whose cells are all complete against the calendar
    period before it (when that one has cells too). As of the data, never the wall clock."""
    comparisons = []
    for metric, grains in cell_metrics(warehouse, registry).items():
        for grain in grains:
            periods = available_periods(warehouse, registry, metric, grain)
            complete = [period for period, done in periods if done]
            if not complete:
                continue
            after = complete[-1]
            if after.previous() in {period for period, _ in periods}:
                comparisons.append(Comparison(metric, after.previous(), after))
    return comparisons


def driver_rows(warehouse: Warehouse, registry: Registry) -> tuple[list[dict[str, Any]], list[str]]:
    """Every row of the table, and one note per comparison that could not be explained."""
    from product_metrics.drivers.explain import ExplainError, explain

    rows: list[dict[str, Any]] = []
    notes = []
    for comparison in latest_comparisons(warehouse, registry):
        try:
            explanation = explain(warehouse, registry, comparison.metric, comparison.before, comparison.after)
        except ExplainError as error:  # e.g. a metric cut by no dimension: nothing to rank
            notes.append(f"{comparison.metric} {comparison.after.label}: {error}")
            continue
        rows += explanation.rows()
    return rows, notes


def drivers_schema(registry: Registry) -> str:
    """Where the table is written: the schema dbt built fct_metric_segment_cells in."""
    model = registry.model_named(CELLS_TABLE)
    if model is None or not model.schema:
        raise CellsMissing(f"The manifest has no {CELLS_TABLE} model: nothing to explain.")
    return model.schema


def write_drivers(warehouse: Warehouse, schema: str, rows: Iterable[Mapping[str, Any]]) -> int:
    """Replace `schema`.fct_metric_change_drivers with `rows` (an empty table when there are none)."""
    return warehouse.replace_tables(schema, [(DRIVERS_TABLE, DRIVERS_COLUMNS, map(_finite, rows))])[0]


def _finite(row: Mapping[str, Any]) -> dict[str, Any]:
    """NaN and infinities are stored as null: PostgreSQL and BI tools treat them as numbers."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def explain_and_write(database: Path | None, url: str | None, registry: Registry) -> str:
    """The stage's work: explain every metric's latest changes and replace the table; a one-line detail."""
    with Warehouse.open(database, url) as warehouse:
        schema = drivers_schema(registry)
        rows, notes = driver_rows(warehouse, registry)
        written = write_drivers(warehouse, schema, rows)
    metrics = len({row["metric_name"] for row in rows})
    detail = f"{written} rows for {metrics} metrics in {schema}.{DRIVERS_TABLE}"
    return detail + (f" ({len(notes)} comparisons not explained: {notes[0]})" if notes else "")
