"""The rules the data-quality gate checks, the ones dbt's tests do not state: how fresh each metric
table and staging model is against the reporting cutoff, volume, the share of raw rows rejected,
and the anomaly series. Suites are generated from these declarations (`suites.py`).

Everything else about a metric table lives in its mart's yml: grain, not-null, ranges, accepted
values, orderings and reconciliations are dbt data tests, the formulas are checked by the unit
tests, and the columns and their types by the enforced contract. SQL fragments here are portable
(DuckDB and PostgreSQL): `date + integer`, `date + n * interval '1 month'`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["critical", "warning"]
Period = Literal["day", "week", "month"]
CRITICAL: Severity = "critical"
WARNING: Severity = "warning"


@dataclass(frozen=True)
class Freshness:
    """The latest period a table measures is the period holding the last included day (cutoff − 1).

    `period_start` is the SQL of the period a row measures; `period` its grid, or `period_column`
    names a column whose value is the grid (retention: `cohort_granularity` = week / month)."""

    period_start: str
    period: Period | None = None
    period_column: str | None = None
    severity: Severity = CRITICAL


@dataclass(frozen=True)
class AnomalySeries:
    """A metric time series checked for values far from their trailing window (warning)."""

    value: str
    order_by: str
    partition_by: tuple[str, ...] = ()
    where: str | None = None
    label: str | None = None

    @property
    def name(self) -> str:
        return self.label or self.value


@dataclass(frozen=True)
class MetricTable:
    """One BI-facing table of schema `metrics`: it must hold rows, reach the cutoff, and its
    series stay near their trailing values."""

    name: str
    freshness: Freshness
    anomalies: tuple[AnomalySeries, ...] = ()


_MONTH_PERIOD = "cast({start} + {k} * interval '1 month' as date)"

METRIC_TABLES: tuple[MetricTable, ...] = (
    MetricTable(
        "fct_cohort_retention",
        Freshness(
            period_start=(
                "case when cohort_granularity = 'week' then cohort_start + 7 * period_number "
                f"else {_MONTH_PERIOD.format(start='cohort_start', k='period_number')} end"
            ),
            period_column="cohort_granularity",
        ),
        anomalies=(
            AnomalySeries("retention_rate", order_by="cohort_start", label="week_1_retention_rate",
                          where="cohort_granularity = 'week' and period_number = 1 and is_complete"),
        ),
    ),
    MetricTable(
        "fct_stickiness_daily",
        Freshness(period_start="activity_date", period="day"),
        anomalies=(
            AnomalySeries("dau", order_by="activity_date"),
            AnomalySeries("dau_mau_ratio", order_by="activity_date", where="is_full_window"),
        ),
    ),
    MetricTable(
        "fct_cac_by_channel",
        # A month with neither spend nor new customers has no row, so staleness may be real.
        Freshness(period_start="month_start", period="month", severity=WARNING),
        anomalies=(AnomalySeries("cac_usd", order_by="month_start", partition_by=("channel",)),),
    ),
    MetricTable(
        "fct_cac_monthly",
        Freshness(period_start="month_start", period="month", severity=WARNING),
        anomalies=(AnomalySeries("blended_cac_usd", order_by="month_start"),
                   AnomalySeries("new_customers", order_by="month_start")),
    ),
    MetricTable(
        "fct_ltv_cac_by_channel",
        Freshness(period_start="month_start", period="month"),
    ),
    MetricTable(
        "fct_ltv_cac_monthly",
        Freshness(period_start="month_start", period="month"),
        anomalies=(AnomalySeries("ltv_cac_ratio", order_by="month_start"),),
    ),
    MetricTable(
        "fct_ltv_cohort",
        Freshness(period_start=_MONTH_PERIOD.format(start="acquisition_month", k="months_since_acquisition"),
                  period="month"),
    ),
    MetricTable(
        "fct_nps_monthly",
        # Months without responses have no row.
        Freshness(period_start="month_start", period="month", severity=WARNING),
        anomalies=(AnomalySeries("nps", order_by="month_start"),),
    ),
    MetricTable(
        "fct_k_factor_monthly",
        Freshness(period_start="cohort_month", period="month", severity=WARNING),
        anomalies=(AnomalySeries("k_factor", order_by="cohort_month", where="is_complete"),),
    ),
    # -- the AI, lifecycle and funnel tables ----------------------------------------------
    MetricTable(
        "fct_ai_suggestions_daily",
        # A day without suggestions has no row.
        Freshness(period_start="activity_date", period="day", severity=WARNING),
        anomalies=(AnomalySeries("latency_p90_ms", order_by="activity_date", partition_by=("model_version", "feature")),
                   AnomalySeries("acceptance_rate", order_by="activity_date",
                                 partition_by=("model_version", "feature"))),
    ),
    MetricTable(
        "fct_model_performance_weekly",
        Freshness(period_start="week_start", period="week", severity=WARNING),
        anomalies=(AnomalySeries("f1", order_by="week_start", partition_by=("model_version",), where="is_complete"),),
    ),
    MetricTable(
        "fct_user_lifecycle_weekly",
        Freshness(period_start="week_start", period="week"),
    ),
    MetricTable(
        "fct_activation_weekly",
        # A week without signups has no row.
        Freshness(period_start="signup_week", period="week", severity=WARNING),
        anomalies=(AnomalySeries("activation_rate", order_by="signup_week", where="is_complete"),),
    ),
    MetricTable(
        "fct_north_star_weekly",
        Freshness(period_start="week_start", period="week"),
        anomalies=(AnomalySeries("north_star_users", order_by="week_start", where="is_complete"),),
    ),
    MetricTable(
        "fct_aarrr_monthly",
        Freshness(period_start="month_start", period="month"),
    ),
)


@dataclass(frozen=True)
class RawSource:
    """A raw table of METRICS_SPEC section 1 and its staging model."""

    name: str
    staging_model: str
    timestamp: str              # the staging column freshness is measured on
    max_lag_days: int | None    # how far its latest row may trail the last included day (None: no check)
    # An optional input (experiment_exposures) may not exist, and may be empty: no volume or freshness
    # checks (exposures stop when the experiments end); only its reject share, when it exists.
    optional: bool = False
    # Reject reasons that say nothing about the data's quality, left out of its reject share.
    not_data_errors: tuple[str, ...] = ()


RAW_SOURCES: tuple[RawSource, ...] = (
    RawSource("users", "stg_raw__users", "signed_up_at", 7),
    RawSource("events", "stg_raw__events", "occurred_at", 0),   # the cutoff comes from events
    RawSource("orders", "stg_raw__orders", "ordered_at", 7),
    RawSource("marketing_spend", "stg_raw__marketing_spend", "spend_date", 7),
    RawSource("nps_responses", "stg_raw__nps_responses", "responded_at", 31),
    RawSource("invites", "stg_raw__invites", "sent_at", 14),
    RawSource("ai_suggestions", "stg_raw__ai_suggestions", "created_at", 7),
    RawSource("model_predictions", "stg_raw__model_predictions", "evaluated_at", 7),
)
# Inputs a project may not have: checked only where the raw table exists (plan_suites).
OPTIONAL_RAW_SOURCES: tuple[RawSource, ...] = (
    # Exposures of experiments not defined in var product_metrics__experiments are rejected
    # (unknown_experiment) but are not bad data: a team defines only the experiments it reads out here.
    RawSource("experiment_exposures", "stg_raw__experiment_exposures", "exposed_at", None, optional=True,
              not_data_errors=("unknown_experiment",)),
)
