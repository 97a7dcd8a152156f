"""The latest complete value of each governed metric, read from its lives_in table in the
warehouse (product_metrics.warehouse): what the catalog shows and the alerts compare with their
thresholds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from product_metrics.governance.contract import LivesIn, as_date
from product_metrics.governance.registry import Registry
from product_metrics.warehouse import Warehouse, WarehouseError, quote


@dataclass(frozen=True)
class LatestValue:
    """A metric's latest complete value read from its lives_in table. `value` is None when there is
    none; `error` says why it could not be read at all (then it is not a measurement)."""

    metric: str
    table: str
    column: str
    period: dt.date | None = None
    value: float | None = None
    note: str | None = None
    error: str | None = None


def _period_date(value: Any) -> dt.date | None:
    # A text period may hold a timestamp (a date column read as text): its first ten characters are the date.
    return as_date(value[:10] if isinstance(value, str) else value)


def _complete_filters(lives_in: LivesIn, before: dt.date | None) -> list[str]:
    """The conditions of a complete period of the metric's series (before `before`, when given)."""
    filters = [f"{quote(lives_in.time_column)} is not null"]
    if lives_in.complete_column:
        filters.append(f"{quote(lives_in.complete_column)}")
    if lives_in.where:
        filters.append(f"({lives_in.where})")
    if before is not None:
        filters.append(f"{quote(lives_in.time_column)} < :before")
    return filters


def latest_value_sql(relation: str, lives_in: LivesIn, before: dt.date | None) -> str:
    """The rows of the latest complete period (at most 2: more than one means the table holds several
    series and lives_in.where must pick one)."""
    filters = _complete_filters(lives_in, before)
    return (
        f"with candidates as (\n"
        f"    select {quote(lives_in.time_column)} as period,"
        f" cast({quote(lives_in.column)} as double precision) as value\n"
        f"    from {relation}\n"
        f"    where {' and '.join(filters)}\n"
        f")\n"
        f"select period, value from candidates\n"
        f"where period = (select max(period) from candidates)\n"
        f"limit 2"
    )


def _relation(registry: Registry, lives_in: LivesIn) -> str | None:
    model = registry.model_named(lives_in.table)
    if model is None:
        return None
    return f"{quote(model.schema)}.{quote(model.alias)}" if model.schema else quote(model.alias)


def read_latest_values(warehouse: Warehouse, registry: Registry, names: Iterable[str] | None = None,
                       *, before: dt.date | None = None) -> dict[str, LatestValue]:
    """The latest complete value of every governed metric with lives_in (or of `names`), by name.
    `before`: only periods before that date count (an as-of date)."""
    import sqlalchemy

    values: dict[str, LatestValue] = {}
    for metric in registry.governed():
        lives_in = metric.governance.lives_in
        if lives_in is None or (names is not None and metric.name not in names):
            continue
        base = LatestValue(metric.name, lives_in.table, lives_in.column)
        relation = _relation(registry, lives_in)
        if relation is None:
            values[metric.name] = replace(base, error=f"{lives_in.table} is not a dbt model")
            continue
        sql = latest_value_sql(relation, lives_in, before)
        try:
            rows = warehouse.query(sql, {"before": before} if before else None)
        except (sqlalchemy.exc.SQLAlchemyError, WarehouseError) as error:
            message = str(getattr(error, "orig", None) or error).splitlines()[0]
            values[metric.name] = replace(base, error=f"cannot read {relation}: {message}")
            continue
        if not rows:
            values[metric.name] = replace(base, note="no complete period yet")
        elif len(rows) > 1:
            values[metric.name] = replace(base, period=_period_date(rows[0][0]), error=(
                f"{lives_in.table} has several rows for {rows[0][0]}: add lives_in.where to pick one series"))
        else:
            period, value = rows[0]
            values[metric.name] = replace(base, period=_period_date(period), value=value,
                                          note=None if value is not None else "null in the latest period")
    return values


@dataclass(frozen=True)
class Series:
    """A metric's complete periods read from its lives_in table, oldest first: (period start, value;
    None when the table holds null). `error` says why it could not be read (then `points` is empty)."""

    metric: str
    table: str
    column: str
    points: tuple[tuple[dt.date, float | None], ...] = ()
    error: str | None = None


def series_sql(relation: str, lives_in: LivesIn, before: dt.date | None) -> str:
    """Every complete period's value, oldest first, with how many rows each period has (more than one:
    lives_in.where must pick one series)."""
    return (
        f"select {quote(lives_in.time_column)} as period,"
        f" max(cast({quote(lives_in.column)} as double precision)) as value, count(*) as row_count\n"
        f"from {relation}\n"
        f"where {' and '.join(_complete_filters(lives_in, before))}\n"
        f"group by {quote(lives_in.time_column)}\n"
        f"order by period"
    )


def read_series(warehouse: Warehouse, registry: Registry, name: str, *, before: dt.date | None = None) -> Series:
    """The complete periods of governed metric `name` (its lives_in: the periods read_latest_values
    takes the latest of). `before`: only periods before that date count (an as-of date)."""
    import sqlalchemy

    metric = registry.metrics.get(name)
    lives_in = metric.governance.lives_in if metric is not None and metric.governance is not None else None
    if lives_in is None:
        return Series(name, "", "", error=f"{name} has no lives_in")
    base = Series(name, lives_in.table, lives_in.column)
    relation = _relation(registry, lives_in)
    if relation is None:
        return replace(base, error=f"{lives_in.table} is not a dbt model")
    try:
        rows = warehouse.query(series_sql(relation, lives_in, before), {"before": before} if before else None)
    except (sqlalchemy.exc.SQLAlchemyError, WarehouseError) as error:
        message = str(getattr(error, "orig", None) or error).splitlines()[0]
        return replace(base, error=f"cannot read {relation}: {message}")
    doubled = next((period for period, _, count in rows if count > 1), None)
    if doubled is not None:
        return replace(base, error=(f"{lives_in.table} has several rows for {doubled}: add lives_in.where to pick "
                                    "one series"))
    points = [(_period_date(period), value) for period, value, _ in rows]
    return replace(base, points=tuple((period, value) for period, value in points if period is not None))
