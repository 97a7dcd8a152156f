"""Expectation suites generated from `rules.py`: one suite per metric table (schema `metrics`), one per
staging model and one per raw source. Planning is plain Python (`Check`); `to_gx_suite` turns a plan
into a Great Expectations suite, importing GX only then."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from product_metrics.quality import sql
from product_metrics.quality.rules import (
    CRITICAL,
    RAW_SOURCES,
    WARNING,
    MetricTable,
    QualitySettings,
    RawSource,
    Severity,
)

# GX compares SQL column types with isinstance against the classes these names resolve to in the
# dialect's type module (names it does not find are skipped). DuckDB resolves to SQLAlchemy's generic
# types, where every integer type duckdb_engine reflects (BIGINT, HUGEINT, UBIGINT, ...) is an
# Integer; PostgreSQL's module has SMALLINT, INTEGER and BIGINT.
INTEGER_TYPES = ("Integer", "SMALLINT", "INTEGER", "BIGINT")


@dataclass(frozen=True)
class Check:
    """One expectation: which GX class, its arguments, and what it means for this project."""

    rule: str                      # the project's name for the rule, e.g. rate_within_0_1
    expectation: str               # the GX class, e.g. ExpectColumnValuesToBeBetween
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
    checks: list[Check] = [
        Check("columns_match_spec", "ExpectTableColumnsToMatchSet",
              {"column_set": list(table.columns), "exact_match": True},
              description=f"Exactly the spec's columns of {table.name}."),
        Check("not_empty", "ExpectTableRowCountToBeBetween", {"min_value": 1},
              description="A metric table with no rows cannot feed a dashboard."),
    ]
    grain = list(table.grain)
    if len(grain) == 1:
        checks.append(Check("one_row_per_grain", "ExpectColumnValuesToBeUnique", {"column": grain[0]},
                            column=grain[0], description=f"One row per {grain[0]}."))
    else:
        checks.append(Check("one_row_per_grain", "ExpectCompoundColumnsToBeUnique", {"column_list": grain},
                            column=", ".join(grain), description=f"One row per ({', '.join(grain)})."))
    for column in dict.fromkeys((*table.grain, *table.not_null)):
        checks.append(Check("not_null", "ExpectColumnValuesToNotBeNull", {"column": column}, column=column))
    for column, values in table.accepted_values.items():
        checks.append(Check("accepted_values", "ExpectColumnValuesToBeInSet",
                            {"column": column, "value_set": list(values)}, column=column))
    for column in (*table.counts, *table.positive_counts):
        minimum = 1 if column in table.positive_counts else 0
        checks.append(Check("count_positive" if minimum else "count_non_negative", "ExpectColumnValuesToBeBetween",
                            {"column": column, "min_value": minimum}, column=column,
                            description=f"{column} counts people or things: an integer >= {minimum}."))
        checks.append(Check("count_is_integer", "ExpectColumnValuesToBeInTypeList",
                            {"column": column, "type_list": list(INTEGER_TYPES)}, column=column))
    for column in table.rates:
        checks.append(Check("rate_within_0_1", "ExpectColumnValuesToBeBetween",
                            {"column": column, "min_value": 0, "max_value": 1}, column=column,
                            description=f"{column} is a share: within 0..1."))
    for column in table.non_negative:
        checks.append(Check("non_negative", "ExpectColumnValuesToBeBetween", {"column": column, "min_value": 0},
                            column=column))
    for column, (low, high) in table.ranges.items():
        checks.append(Check(f"{column}_within_range", "ExpectColumnValuesToBeBetween",
                            {"column": column, "min_value": low, "max_value": high}, column=column,
                            description=f"{column} lies within {low}..{high}."))
    for chain in table.ordered:
        for smaller, larger in itertools.pairwise(chain):
            if {smaller, larger} == {"wau", "mau"} and settings.mau_window_days < 7:
                continue  # a MAU window shorter than the WAU week can hold fewer users
            checks.append(Check(f"{smaller}_le_{larger}", "ExpectColumnPairValuesAToBeGreaterThanB",
                                {"column_A": larger, "column_B": smaller, "or_equal": True},
                                column=f"{smaller}, {larger}", description=f"{smaller} <= {larger} on every row."))
    for rule in table.constant_within:
        checks.append(_rows_check(f"{rule.column}_constant_within_{'_'.join(rule.group_by)}",
                                  sql.constant_within_violations(rule), column=rule.column,
                                  description=f"{rule.column} is one value per ({', '.join(rule.group_by)})."))
    for formula in table.formulas:
        checks.append(_rows_check(f"{formula.column}_formula", sql.formula_violations(formula, table.grain),
                                  column=formula.column, description=f"{formula.column} = {formula.expression}"))
    if table.freshness and last_included_date:
        checks.append(_rows_check("latest_period_reaches_cutoff",
                                  sql.freshness_violations(table.freshness, last_included_date),
                                  severity=table.freshness.severity,
                                  column=table.freshness.period_column or table.freshness.period_start,
                                  description=f"The latest period holds the last included day "
                                              f"{last_included_date.isoformat()} (cutoff − 1)."))
    for gaps in table.no_gaps:
        checks.append(_rows_check("no_gaps", sql.gap_violations(gaps), column=gaps.column,
                                  description=f"Every {gaps.period} has a row."))
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
    checks = [Check("volume", "ExpectTableRowCountToBeBetween", {"min_value": 1},
                    description=f"{source.staging_model} keeps at least one accepted row.")]
    if last_included_date:
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
    checks = (
        Check("volume", "ExpectTableRowCountToBeBetween", {"min_value": settings.min_raw_rows},
              description=f"At least {settings.min_raw_rows} raw rows."),
        _rows_check("reject_share_below_limit",
                    sql.reject_share_violations(source.name, rejected, settings.reject_share_limit),
                    description=f"At most {settings.reject_share_limit:.1%} of the raw rows end in "
                                f"{rejected}."),
    )
    identifier = identifier or source.name
    return SuitePlan(f"{raw_schema}.{identifier}", "raw", raw_schema, identifier, checks)


def plan_suites(settings: QualitySettings, last_included_date: dt.date | None, raw_schema: str) -> list[SuitePlan]:
    from product_metrics.quality.rules import METRIC_TABLES

    plans: list[SuitePlan] = []
    if "metrics" in settings.include_layers:
        plans += [metric_suite(t, settings, last_included_date) for t in METRIC_TABLES
                  if not settings.tables or t.name in settings.tables]
    if "staging" in settings.include_layers:
        plans += [staging_suite(s, settings, last_included_date) for s in RAW_SOURCES]
    if "raw" in settings.include_layers:
        read = {table: (schema, identifier) for table, schema, identifier in settings.raw_inputs}
        plans += [raw_suite(s, settings, *read.get(s.name, (raw_schema, s.name))) for s in RAW_SOURCES]
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
