"""The SQL of the checks GX has no built-in expectation for. Each function returns a query over
`{batch}` (GX substitutes the table) that returns the rows breaking the rule, with the numbers that
explain them; an empty result passes. Portable between DuckDB and PostgreSQL.

Braces other than `{batch}` would be read by GX's `str.format`, so none are used."""

from __future__ import annotations

import datetime as dt
from typing import get_args

from product_metrics.quality.rules import AnomalySeries, Freshness, Period


def date_literal(value: dt.date) -> str:
    return f"date '{value.isoformat()}'"


def period_start(day: dt.date, period: Period) -> dt.date:
    """The first day of the week (Monday), month, or the day itself, holding `day`."""
    if period == "day":
        return day
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def freshness_violations(rule: Freshness, last_included_date: dt.date) -> str:
    """The latest period per grid (or overall) must be the period holding the last included day:
    earlier is stale, later counts data at or after the cutoff."""
    if rule.period_column:
        expected = "case " + " ".join(
            f"when {rule.period_column} = '{p}' then {date_literal(period_start(last_included_date, p))}"
            for p in get_args(Period)
        ) + " end"
        return (
            f"select {rule.period_column} as period, max({rule.period_start}) as latest_period, "
            f"{expected} as expected_latest_period from {{batch}} group by {rule.period_column} "
            f"having max({rule.period_start}) is null or max({rule.period_start}) <> {expected}"
        )
    assert rule.period is not None
    expected = date_literal(period_start(last_included_date, rule.period))
    return (
        f"select '{rule.period}' as period, max({rule.period_start}) as latest_period, "
        f"{expected} as expected_latest_period from {{batch}} "
        f"having max({rule.period_start}) is null or max({rule.period_start}) <> {expected}"
    )


def series_key(series: AnomalySeries) -> str:
    """The SQL of a row's series within its table: its partition values joined by '|' ('' unpartitioned)."""
    joined = " || '|' || ".join(f"cast({c} as varchar)" for c in series.partition_by)
    return joined if series.partition_by else "''"


def series_filter(series: AnomalySeries) -> str:
    """The where clause of the rows a series holds: a value, and the series' own condition."""
    return (f"where {series.value} is not null and ({series.where})" if series.where
            else f"where {series.value} is not null")


def anomalies(series: AnomalySeries, *, k: float, window: int, min_points: int) -> str:
    """Values more than k standard deviations from the mean of their trailing `window` values
    (the value itself excluded), once `min_points` trailing values exist. A flat trailing window
    (stddev 0) flags any change; its z-score is null. Newest first."""
    return (
        "with series as ("
        f"select {series.order_by} as period, {series_key(series)} as series_key, "
        f"cast({series.value} as double precision) as value from {{batch}} {series_filter(series)}), "
        "scored as (select period, series_key, value, "
        "avg(value) over trailing_window as trailing_mean, "
        "stddev_samp(value) over trailing_window as trailing_stddev, "
        "count(value) over trailing_window as trailing_points from series "
        f"window trailing_window as (partition by series_key order by period "
        f"rows between {int(window)} preceding and 1 preceding)) "
        f"select period, series_key, '{series.name}' as metric, value, trailing_mean, trailing_stddev, "
        "case when trailing_stddev > 0 then (value - trailing_mean) / trailing_stddev end as z_score "
        f"from scored where trailing_points >= {int(min_points)} and ("
        f"(trailing_stddev > 0 and abs(value - trailing_mean) > {float(k)} * trailing_stddev) "
        "or (trailing_stddev = 0 and value <> trailing_mean)) "
        "order by period desc"
    )


def reject_share_violations(source: str, rejected_rows_table: str, limit: float,
                            ignored_reasons: tuple[str, ...] = ()) -> str:
    """The source when its rejected share is over the limit; rows rejected for `ignored_reasons` do not count."""
    ignored = "".join(f" and reason <> '{reason}'" for reason in ignored_reasons)
    return (
        f"select '{source}' as source_table, rejected.rejected_rows, raw.raw_rows, "
        "cast(rejected.rejected_rows as double precision) / nullif(raw.raw_rows, 0) as reject_share, "
        f"cast({float(limit)} as double precision) as reject_share_limit "
        "from (select count(*) as raw_rows from {batch} as raw_batch) raw "
        f"cross join (select count(*) as rejected_rows from {rejected_rows_table} "
        f"where source_table = '{source}'{ignored}) rejected "
        "where rejected.rejected_rows > 0 and (raw.raw_rows = 0 or "
        f"cast(rejected.rejected_rows as double precision) / raw.raw_rows > {float(limit)})"
    )


def staleness_violations(column: str, oldest_allowed: dt.date, last_included_date: dt.date) -> str:
    return (
        f"select max({column}) as latest, {date_literal(oldest_allowed)} as oldest_allowed_latest, "
        f"{date_literal(last_included_date)} as last_included_date from {{batch}} "
        f"having max({column}) is null or cast(max({column}) as date) < {date_literal(oldest_allowed)}"
    )
