"""Expectation suites generated from `rules.py`: one suite per metric table (schema `metrics`), one per
staging model and one per raw source. Planning is plain Python (`Check`); `to_gx_suite` turns a plan
into a Great Expectations suite, importing GX only then."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from product_metrics.quality import sql
from product_metrics.quality.rules import (
    CRITICAL,
    METRIC_TABLES,
    OPTIONAL_RAW_SOURCES,
    RAW_SOURCES,
    WARNING,
    MetricTable,
    RawSource,
    Severity,
)
from product_metrics.quality.settings import QualitySettings


@dataclass(frozen=True)
class Check:
    """One expectation: which GX class, its arguments, and what it means for this project."""

    rule: str                      # the project's name for the rule, e.g. latest_period_reaches_cutoff
    expectation: str               # the GX class, e.g. ExpectTableRowCountToBeBetween
    kwargs: dict[str, Any]
    severity: Severity = CRITICAL
    column: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class SuitePlan:
    name: str                      # e.g. metrics.fct_cohort_retention
    layer: str                     # metrics | staging | raw
    schema: str
    table: str
    checks: tuple[Check, ...] = field(default_factory=tuple)


def metric_suite(table: MetricTable, settings: QualitySettings, last_included_date: dt.date | None) -> SuitePlan:
    """Volume, freshness (given the last included day) and anomalies of one metric table."""
    checks = [Check("not_empty", "ExpectTableRowCountToBeBetween", {"min_value": 1},
                    description="A metric table with no rows cannot feed a dashboard.")]
    freshness = table.freshness
    if last_included_date:
        checks.append(_rows_check("latest_period_reaches_cutoff", sql.freshness_violations(freshness, last_included_date),
                                  severity=freshness.severity, column=freshness.period_column or freshness.period_start,
                                  description=f"The latest period holds the last included day "
                                              f"{last_included_date.isoformat()} (cutoff − 1)."))
    for series in table.anomalies:
        checks.append(_rows_check(
            f"anomaly_{series.name}",
            sql.anomalies(series, k=settings.anomaly_k, window=settings.anomaly_window,
                          min_points=settings.anomaly_min_points),
            severity=WARNING, column=series.value,
            description=f"{series.name} within {settings.anomaly_k:g} standard deviations of its trailing "
                        f"{settings.anomaly_window} values."))
    return SuitePlan(f"{settings.schemas.metrics}.{table.name}", "metrics", settings.schemas.metrics, table.name,
                     tuple(checks))


def staging_suite(source: RawSource, settings: QualitySettings, last_included_date: dt.date | None) -> SuitePlan:
    checks = [] if source.optional else [
        Check("volume", "ExpectTableRowCountToBeBetween", {"min_value": 1},
              description=f"{source.staging_model} keeps at least one accepted row.")]
    if last_included_date and source.max_lag_days is not None:
        oldest = last_included_date - dt.timedelta(days=source.max_lag_days)
        checks.append(_rows_check(
            "fresh", sql.staleness_violations(source.timestamp, oldest, last_included_date),
            column=source.timestamp,
            description=f"The latest {source.timestamp} is at most {source.max_lag_days} days before the "
                        f"last included day."))
    return SuitePlan(f"{settings.schemas.staging}.{source.staging_model}", "staging", settings.schemas.staging,
                     source.staging_model, tuple(checks))


def raw_suite(source: RawSource, settings: QualitySettings, raw_schema: str, identifier: str | None = None) -> SuitePlan:
    """The raw input `source` read from `raw_schema`.`identifier` (default: the source's name)."""
    rejected = f"{settings.schemas.audit}.rejected_rows"
    volume = () if source.optional else (
        Check("volume", "ExpectTableRowCountToBeBetween", {"min_value": settings.min_raw_rows},
              description=f"At least {settings.min_raw_rows} raw rows."),)
    checks = (
        *volume,
        _rows_check("reject_share_below_limit",
                    sql.reject_share_violations(source.name, rejected, settings.reject_share_limit,
                                                source.not_data_errors),
                    description=f"At most {settings.reject_share_limit:.1%} of the raw rows end in "
                                f"{rejected}."),
    )
    identifier = identifier or source.name
    return SuitePlan(f"{raw_schema}.{identifier}", "raw", raw_schema, identifier, checks)


def plan_suites(settings: QualitySettings, last_included_date: dt.date | None, raw_schema: str,
                optional_inputs: Collection[str] = ()) -> list[SuitePlan]:
    """The suites to run. `optional_inputs`: the optional raw inputs (OPTIONAL_RAW_SOURCES) that exist;
    each gets its raw suite (its reject share). Its staging model has nothing to check: it may be
    empty, and its exposures stop when the experiments end."""
    plans: list[SuitePlan] = []
    if "metrics" in settings.include_layers:
        plans += [metric_suite(t, settings, last_included_date) for t in METRIC_TABLES
                  if not settings.tables or t.name in settings.tables]
    if "staging" in settings.include_layers:
        plans += [staging_suite(s, settings, last_included_date) for s in RAW_SOURCES]
    if "raw" in settings.include_layers:
        read = {table: (schema, identifier) for table, schema, identifier in settings.raw_inputs}
        plans += [raw_suite(s, settings, *read.get(s.name, (raw_schema, s.name))) for s in RAW_SOURCES]
        plans += [raw_suite(s, settings, *read.get(s.name, (raw_schema, s.name))) for s in OPTIONAL_RAW_SOURCES
                  if s.name in optional_inputs]
    return plans


def _rows_check(rule: str, query: str, *, severity: Severity = CRITICAL, column: str | None = None,
                description: str | None = None) -> Check:
    return Check(rule, "UnexpectedRowsExpectation", {"unexpected_rows_query": query}, severity=severity,
                 column=column, description=description)


def to_gx_suite(plan: SuitePlan):
    """The plan as a GX ExpectationSuite; each expectation carries its rule, table and column in `meta`."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=plan.name, meta={"layer": plan.layer, "table": f"{plan.schema}.{plan.table}"})
    for check in plan.checks:
        expectation_class = getattr(gx.expectations, check.expectation)
        extra: dict[str, Any] = {}
        if check.description:
            extra["description"] = check.description
        suite.add_expectation(expectation_class(
            **check.kwargs, severity=check.severity,
            meta={"rule": check.rule, "table": f"{plan.schema}.{plan.table}", "column": check.column}, **extra,
        ))
    return suite
