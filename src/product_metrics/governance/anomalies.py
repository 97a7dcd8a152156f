"""Anomalies of the latest complete period, recorded as alerts of kind 'anomaly' next to the
threshold breaches: the data-quality gate's anomaly series (product_metrics.quality.rules
METRIC_TABLES, judged by the SQL of quality.sql.anomalies, the same k, window and minimum points)
run again on the periods complete by the data's reporting cutoff, keeping only the values of each
series' latest complete period. A historical outlier is the gate's business, not news.

The latest complete period of a series: its rows whose period starts before the period holding the
cutoff (int_reporting_cutoff.cutoff_date, the first day the data does not include; with an as-of
date `before`, the earlier of the two) are complete — up to the last included day for a daily
series, the last full Monday week, the last full calendar month — and the latest period among them
is judged, across the series' partitions (a partition without a row there, e.g. a retired model
version, is not). A table without a fixed period grid (cohort retention) is complete by its series'
own condition (is_complete). Without a cutoff table, every row counts.

Each anomalous series maps to the governed metric whose lives_in reads that table and column (not
deprecated; an unpartitioned series only: a metric reads one series of its table). The metric gives
the units, the direction and the top drivers; a series without one is recorded under its own name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from product_metrics.errors import first_line
from product_metrics.governance.contract import as_date
from product_metrics.governance.registry import Metric, Registry
from product_metrics.quality import sql
from product_metrics.quality.rules import METRIC_TABLES, AnomalySeries, MetricTable
from product_metrics.quality.settings import QualitySettings
from product_metrics.warehouse import Warehouse, WarehouseError, quote

CUTOFF_MODEL = "int_reporting_cutoff"


@dataclass(frozen=True)
class Anomaly:
    """One series' value of its latest complete period, more than k standard deviations from the
    mean of its `trailing_points` previous values (or any change after a flat window: z_score None)."""

    table: str
    column: str
    series: str                            # the series' name in the quality gate (its label or column)
    partition: tuple[tuple[str, str], ...]  # (column, value) of a partitioned series; () otherwise
    period: dt.date
    value: float
    trailing_mean: float
    trailing_stddev: float | None
    z_score: float | None
    trailing_points: int
    k: float
    metric: Metric | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        """The governed metric's name, else the series' own."""
        return self.metric.name if self.metric is not None else self.series

    @property
    def unit(self) -> str | None:
        return self.metric.governance.unit if self.metric is not None and self.metric.governance else None

    @property
    def below(self) -> bool:
        return self.value < self.trailing_mean

    @property
    def bound(self) -> float:
        """The edge of the normal range it crossed: mean ∓ k × stddev (a flat window: its value)."""
        spread = self.k * (self.trailing_stddev or 0.0)
        return self.trailing_mean - spread if self.below else self.trailing_mean + spread

    def detail(self) -> str:
        """One line with units, e.g. `pm_dau 310 users in 2026-06-14, 3.4 standard deviations below
        its trailing 12-period mean 1,020 users`."""
        from product_metrics.formatting import format_value, noun_of

        noun = noun_of(self.metric.label) if self.metric is not None else None

        def amount(value: float) -> str:
            return format_value(value, self.unit, self.name, noun=noun)

        where = "".join(f" {column}={value}" for column, value in self.partition)
        side = "below" if self.below else "above"
        head = f"{self.name}{where} {amount(self.value)} in {self.period}"
        window = f"its trailing {self.trailing_points}-period"
        if self.z_score is None:
            return f"{head}, {side} {window} value {amount(self.trailing_mean)}, which had not moved"
        return f"{head}, {abs(self.z_score):.1f} standard deviations {side} {window} mean {amount(self.trailing_mean)}"


@dataclass(frozen=True)
class AnomalyScan:
    """What latest_anomalies found: the anomalies, the day the data was complete to (None: no
    cutoff known), how many series were judged, and the series it could not read (one line each)."""

    anomalies: tuple[Anomaly, ...] = ()
    cutoff: dt.date | None = None
    series_checked: int = 0
    unread: tuple[str, ...] = ()


def _relation(registry: Registry, table: str) -> str | None:
    model = registry.model_named(table)
    if model is None:
        return None
    return f"{quote(model.schema)}.{quote(model.alias)}" if model.schema else quote(model.alias)


def read_cutoff(warehouse: Warehouse, registry: Registry) -> dt.date | None:
    """The first day the data does not include (int_reporting_cutoff), None when it cannot be read."""
    import sqlalchemy

    relation = _relation(registry, CUTOFF_MODEL)
    if relation is None:
        return None
    try:
        rows = warehouse.query(f"select max(cutoff_date) from {relation}")
    except (sqlalchemy.exc.SQLAlchemyError, WarehouseError):
        return None
    return as_date(rows[0][0]) if rows and rows[0][0] is not None else None


def governed_metric(registry: Registry, table: str, series: AnomalySeries) -> Metric | None:
    """The live governed metric whose lives_in reads `table`.`series.value` (first by name when several),
    else the metric named after the series that `table` lists (fct_cac_monthly.new_customers is
    pm_new_customers, which lives in the long table); None for a partitioned series."""
    if series.partition_by:
        return None
    found = [m for m in registry.governed()
             if m.governance is not None and m.governance.status != "deprecated" and m.governance.lives_in is not None
             and m.governance.lives_in.table == table and m.governance.lives_in.column == series.value]
    if not found:
        named = registry.metrics.get(f"pm_{series.name}")
        if (named is not None and named.governance is not None and named.governance.status != "deprecated"
                and table in {model.name for model in registry.tables_listing(named.name)}):
            found = [named]
    return min(found, key=lambda m: m.name) if found else None


def _complete_before(table: MetricTable, cutoff: dt.date | None, before: dt.date | None) -> dt.date | None:
    """Rows whose period starts before this date are complete (None: every row)."""
    as_of = min((day for day in (cutoff, before) if day is not None), default=None)
    if as_of is None:
        return None
    grid = table.freshness.period
    return sql.period_start(as_of, grid) if grid else before


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _series_anomalies(warehouse: Warehouse, registry: Registry, table: MetricTable, relation: str,
                      series: AnomalySeries, settings: QualitySettings, limit: dt.date | None) -> list[Anomaly]:
    batch = (f"(select * from {relation} where {series.order_by} < {sql.date_literal(limit)}) as anomaly_batch"
             if limit else relation)
    rows = warehouse.query(f"select max({series.order_by}) from {batch} {sql.series_filter(series)}")
    latest = as_date(rows[0][0]) if rows and rows[0][0] is not None else None
    if latest is None:
        return []
    query = sql.anomalies(series, k=settings.anomaly_k, window=settings.anomaly_window,
                          min_points=settings.anomaly_min_points).replace("{batch}", batch)
    flagged = [row for row in warehouse.query(query) if as_date(row[0]) == latest]
    if not flagged:
        return []
    earlier = warehouse.query(
        f"select series_key, count(*) from (select {sql.series_key(series)} as series_key from {batch} "
        f"{sql.series_filter(series)} and {series.order_by} < {sql.date_literal(latest)}) as keyed "
        "group by series_key")
    counts = {str(key): int(count) for key, count in earlier}
    metric = governed_metric(registry, table.name, series)
    found = []
    for _, key, _, value, mean, stddev, z_score in flagged:
        values = str(key).split("|") if series.partition_by else []
        found.append(Anomaly(table.name, series.value, series.name, tuple(zip(series.partition_by, values)), latest,
                             float(value), float(mean), _float(stddev), _float(z_score),
                             min(settings.anomaly_window, counts.get(str(key), 0)), settings.anomaly_k, metric))
    return found


def latest_anomalies(warehouse: Warehouse, registry: Registry, settings: QualitySettings | None = None, *,
                     before: dt.date | None = None, tables: Sequence[MetricTable] = METRIC_TABLES) -> AnomalyScan:
    """The anomalies of each series' latest complete period, in the tables this project built
    (`settings.tables`: only those). `before`: an as-of date (periods complete before it)."""
    import sqlalchemy

    settings = settings or QualitySettings()
    cutoff = read_cutoff(warehouse, registry)
    anomalies: list[Anomaly] = []
    unread: list[str] = []
    checked = 0
    for table in tables:
        relation = _relation(registry, table.name)
        if not table.anomalies or relation is None or (settings.tables and table.name not in settings.tables):
            continue
        limit = _complete_before(table, cutoff, before)
        for series in table.anomalies:
            try:
                anomalies += _series_anomalies(warehouse, registry, table, relation, series, settings, limit)
            except (sqlalchemy.exc.SQLAlchemyError, WarehouseError) as error:
                unread.append(f"{table.name}.{series.value}: {first_line(error)}")
                continue
            checked += 1
    return AnomalyScan(tuple(anomalies), cutoff, checked, tuple(unread))


def anomaly_explainer(warehouse: Warehouse, registry: Registry) -> Callable[[Anomaly], str | None]:
    """The top drivers of an anomaly's governed metric in its period (drivers.explain.top_drivers_text:
    that period against the one before); None without a governed metric or cells."""
    from product_metrics.drivers.explain import top_drivers_text

    def explain_anomaly(anomaly: Anomaly) -> str | None:
        metric = anomaly.metric
        grain = metric.governance.grain if metric is not None and metric.governance else None
        if metric is None or grain is None:
            return None
        return top_drivers_text(warehouse, registry, metric.name, anomaly.period, grain)

    return explain_anomaly
