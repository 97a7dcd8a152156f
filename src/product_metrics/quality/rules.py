"""The data-quality rules, in one declarative place: what every metric table of METRICS_SPEC
section 3 promises (grain, counts, rates, orderings, formulas, freshness), what each raw source and
its staging model must satisfy (volume, freshness, reject share), and the anomaly series.

Expectation suites are generated from these declarations (`suites.py`); nothing else in the package
names a column of a metric table. A new metric table needs a `MetricTable` entry here and nothing
more. SQL fragments are portable (DuckDB and PostgreSQL): `cast(... as double precision)`,
`nullif`, `greatest`, `date + integer`, `date + n * interval '1 month'`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Severity = Literal["critical", "warning"]
Period = Literal["day", "week", "month"]
CRITICAL: Severity = "critical"
WARNING: Severity = "warning"


@dataclass(frozen=True)
class Formula:
    """`column` equals `expression` (both null, or equal within a relative tolerance).
    Ratios use `nullif(denominator, 0)`: the spec's zero denominator gives null, never 0."""

    column: str
    expression: str
    tolerance: float = 1e-9


@dataclass(frozen=True)
class ConstantWithin:
    """`column` has one value within each group (a cohort's size does not change with k)."""

    column: str
    group_by: tuple[str, ...]


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
class NoGaps:
    """Consecutive periods in `column` (per `partition_by`): days without activity are rows too."""

    column: str
    period: Period
    partition_by: tuple[str, ...] = ()


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
    """One BI-facing table of schema `metrics` and every rule the spec implies for it."""

    name: str
    columns: tuple[str, ...]                   # the spec's columns, exactly (the contract)
    grain: tuple[str, ...]
    counts: tuple[str, ...] = ()               # non-negative integers
    positive_counts: tuple[str, ...] = ()      # integers >= 1 (a row exists because someone is in it)
    rates: tuple[str, ...] = ()                # within 0..1
    non_negative: tuple[str, ...] = ()         # money, durations, unbounded ratios
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    not_null: tuple[str, ...] = ()             # besides the grain
    accepted_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ordered: tuple[tuple[str, ...], ...] = ()  # chains a <= b <= c
    constant_within: tuple[ConstantWithin, ...] = ()
    formulas: tuple[Formula, ...] = ()
    freshness: Freshness | None = None
    no_gaps: tuple[NoGaps, ...] = ()
    anomalies: tuple[AnomalySeries, ...] = ()


def ratio(numerator: str, denominator: str, scale: str = "") -> str:
    """Portable SQL for numerator / denominator as a double, null when the denominator is 0."""
    prefix = f"{scale} * " if scale else ""
    return f"{prefix}cast({numerator} as double precision) / nullif({denominator}, 0)"


_MONTH_PERIOD = "cast({start} + {k} * interval '1 month' as date)"

METRIC_TABLES: tuple[MetricTable, ...] = (
    MetricTable(
        name="fct_cohort_retention",
        columns=("cohort_granularity", "cohort_start", "period_number", "cohort_size", "retained_users",
                 "retention_rate", "retained_or_after_users", "unbounded_retention_rate", "is_complete"),
        grain=("cohort_granularity", "cohort_start", "period_number"),
        counts=("period_number", "retained_users", "retained_or_after_users"),
        positive_counts=("cohort_size",),
        rates=("retention_rate", "unbounded_retention_rate"),
        not_null=("is_complete",),
        accepted_values={"cohort_granularity": ("week", "month")},
        ordered=(("retained_users", "retained_or_after_users", "cohort_size"),),
        constant_within=(ConstantWithin("cohort_size", ("cohort_granularity", "cohort_start")),),
        formulas=(
            Formula("retention_rate", ratio("retained_users", "cohort_size")),
            Formula("unbounded_retention_rate", ratio("retained_or_after_users", "cohort_size")),
        ),
        freshness=Freshness(
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
        name="fct_stickiness_daily",
        columns=("activity_date", "dau", "wau", "mau", "dau_mau_ratio", "wau_mau_ratio", "is_full_window"),
        grain=("activity_date",),
        counts=("dau", "wau", "mau"),
        rates=("dau_mau_ratio", "wau_mau_ratio"),
        not_null=("is_full_window",),
        # wau <= mau holds while the MAU window is at least the 7-day WAU window (settings).
        ordered=(("dau", "wau", "mau"),),
        formulas=(Formula("dau_mau_ratio", ratio("dau", "mau")), Formula("wau_mau_ratio", ratio("wau", "mau"))),
        freshness=Freshness(period_start="activity_date", period="day"),
        no_gaps=(NoGaps("activity_date", "day"),),
        anomalies=(
            AnomalySeries("dau", order_by="activity_date"),
            AnomalySeries("dau_mau_ratio", order_by="activity_date", where="is_full_window"),
        ),
    ),
    MetricTable(
        name="fct_cac_by_channel",
        columns=("month_start", "channel", "spend_usd", "new_customers", "cac_usd", "is_paid_channel"),
        grain=("month_start", "channel"),
        counts=("new_customers",),
        non_negative=("spend_usd", "cac_usd"),
        not_null=("spend_usd", "new_customers", "is_paid_channel"),
        formulas=(Formula("cac_usd", ratio("spend_usd", "new_customers")),),
        # A month with neither spend nor new customers has no row, so staleness may be real.
        freshness=Freshness(period_start="month_start", period="month", severity=WARNING),
        anomalies=(AnomalySeries("cac_usd", order_by="month_start", partition_by=("channel",)),),
    ),
    MetricTable(
        name="fct_cac_monthly",
        columns=("month_start", "spend_usd", "new_customers", "paid_new_customers", "blended_cac_usd",
                 "paid_cac_usd"),
        grain=("month_start",),
        counts=("new_customers", "paid_new_customers"),
        non_negative=("spend_usd", "blended_cac_usd", "paid_cac_usd"),
        not_null=("spend_usd", "new_customers", "paid_new_customers"),
        ordered=(("paid_new_customers", "new_customers"),),
        formulas=(
            Formula("blended_cac_usd", ratio("spend_usd", "new_customers")),
            Formula("paid_cac_usd", ratio("spend_usd", "paid_new_customers")),
        ),
        freshness=Freshness(period_start="month_start", period="month", severity=WARNING),
        anomalies=(AnomalySeries("blended_cac_usd", order_by="month_start"),
                   AnomalySeries("new_customers", order_by="month_start")),
    ),
    MetricTable(
        name="fct_ltv_cac_by_channel",
        columns=("month_start", "channel", "active_customers", "revenue_usd", "arpa_usd",
                 "churned_customers", "churn_rate", "ltv_usd", "cac_usd", "ltv_cac_ratio", "payback_months"),
        grain=("month_start", "channel"),
        counts=("active_customers", "churned_customers"),
        rates=("churn_rate",),
        non_negative=("cac_usd",),
        formulas=(
            Formula("arpa_usd", ratio("revenue_usd", "active_customers")),
            Formula("ltv_cac_ratio", ratio("ltv_usd", "cac_usd")),
        ),
        freshness=Freshness(period_start="month_start", period="month"),
        no_gaps=(NoGaps("month_start", "month", partition_by=("channel",)),),
    ),
    MetricTable(
        name="fct_ltv_cac_monthly",
        columns=("month_start", "active_customers", "revenue_usd", "arpa_usd", "churned_customers",
                 "churn_rate", "ltv_usd", "cac_usd", "ltv_cac_ratio", "payback_months"),
        grain=("month_start",),
        counts=("active_customers", "churned_customers"),
        rates=("churn_rate",),
        non_negative=("cac_usd",),
        formulas=(
            Formula("arpa_usd", ratio("revenue_usd", "active_customers")),
            Formula("ltv_cac_ratio", ratio("ltv_usd", "cac_usd")),
        ),
        freshness=Freshness(period_start="month_start", period="month"),
        no_gaps=(NoGaps("month_start", "month"),),
        anomalies=(AnomalySeries("ltv_cac_ratio", order_by="month_start"),),
    ),
    MetricTable(
        name="fct_ltv_cohort",
        columns=("acquisition_month", "channel", "months_since_acquisition", "customers",
                 "cumulative_revenue_usd", "cumulative_revenue_per_customer_usd", "is_complete"),
        grain=("acquisition_month", "channel", "months_since_acquisition"),
        counts=("months_since_acquisition",),
        positive_counts=("customers",),
        not_null=("cumulative_revenue_usd", "is_complete"),
        constant_within=(ConstantWithin("customers", ("acquisition_month", "channel")),),
        formulas=(Formula("cumulative_revenue_per_customer_usd", ratio("cumulative_revenue_usd", "customers")),),
        freshness=Freshness(
            period_start=_MONTH_PERIOD.format(start="acquisition_month", k="months_since_acquisition"),
            period="month",
        ),
    ),
    MetricTable(
        name="fct_nps_monthly",
        columns=("month_start", "responses", "promoters", "passives", "detractors", "nps",
                 "nps_standard_error", "nps_margin_of_error_95"),
        grain=("month_start",),
        counts=("promoters", "passives", "detractors"),
        positive_counts=("responses",),
        non_negative=("nps_standard_error", "nps_margin_of_error_95"),
        ranges={"nps": (-100, 100)},
        not_null=("nps",),
        formulas=(
            Formula("responses", "promoters + passives + detractors"),
            Formula("nps", ratio("promoters - detractors", "responses", scale="100")),
            Formula("nps_margin_of_error_95", "1.96 * nps_standard_error"),
        ),
        # Months without responses have no row.
        freshness=Freshness(period_start="month_start", period="month", severity=WARNING),
        anomalies=(AnomalySeries("nps", order_by="month_start"),),
    ),
    MetricTable(
        name="fct_k_factor_monthly",
        columns=("cohort_month", "cohort_users", "inviting_users", "invites_sent", "invites_converted",
                 "invites_per_user", "invite_conversion_rate", "k_factor", "median_cycle_time_days", "is_complete"),
        grain=("cohort_month",),
        counts=("inviting_users", "invites_sent", "invites_converted"),
        positive_counts=("cohort_users",),
        rates=("invite_conversion_rate",),
        non_negative=("invites_per_user", "k_factor", "median_cycle_time_days"),
        not_null=("is_complete",),
        ordered=(("invites_converted", "invites_sent"), ("inviting_users", "invites_sent"),
                 ("inviting_users", "cohort_users")),
        formulas=(
            Formula("invites_per_user", ratio("invites_sent", "cohort_users")),
            Formula("invite_conversion_rate", ratio("invites_converted", "invites_sent")),
            Formula("k_factor", ratio("invites_converted", "cohort_users")),
        ),
        freshness=Freshness(period_start="cohort_month", period="month", severity=WARNING),
        anomalies=(AnomalySeries("k_factor", order_by="cohort_month", where="is_complete"),),
    ),
    # -- the AI, lifecycle and funnel tables ----------------------------------------------
    MetricTable(
        name="fct_ai_suggestions_daily",
        columns=("activity_date", "model_version", "feature", "suggestions", "accepted", "edited", "rejected",
                 "ignored", "escalated", "acceptance_rate", "correction_rate", "hitl_rate", "latency_p50_ms",
                 "latency_p90_ms", "latency_p99_ms", "cost_usd", "cost_per_1k_suggestions_usd"),
        grain=("activity_date", "model_version", "feature"),
        counts=("accepted", "edited", "rejected", "ignored", "escalated"),
        positive_counts=("suggestions",),
        rates=("acceptance_rate", "correction_rate", "hitl_rate"),
        non_negative=("latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "cost_usd",
                      "cost_per_1k_suggestions_usd"),
        not_null=("cost_usd",),
        ordered=(("latency_p50_ms", "latency_p90_ms", "latency_p99_ms"), ("escalated", "suggestions")),
        formulas=(
            Formula("suggestions", "accepted + edited + rejected + ignored"),
            Formula("acceptance_rate", ratio("accepted", "suggestions")),
            Formula("correction_rate", ratio("edited", "accepted + edited")),
            Formula("hitl_rate", ratio("escalated", "suggestions")),
            Formula("cost_per_1k_suggestions_usd", ratio("cost_usd", "suggestions", scale="1000")),
        ),
        # A day without suggestions has no row.
        freshness=Freshness(period_start="activity_date", period="day", severity=WARNING),
        anomalies=(AnomalySeries("latency_p90_ms", order_by="activity_date", partition_by=("model_version", "feature")),
                   AnomalySeries("acceptance_rate", order_by="activity_date",
                                 partition_by=("model_version", "feature"))),
    ),
    MetricTable(
        name="fct_model_performance_weekly",
        columns=("week_start", "model_version", "predictions", "true_positives", "false_positives", "true_negatives",
                 "false_negatives", "precision", "recall", "f1", "accuracy", "f1_change", "is_newest_model_version",
                 "is_complete"),
        grain=("week_start", "model_version"),
        counts=("true_positives", "false_positives", "true_negatives", "false_negatives"),
        positive_counts=("predictions",),
        rates=("precision", "recall", "f1", "accuracy"),
        ranges={"f1_change": (-1, 1)},
        not_null=("is_newest_model_version", "is_complete"),
        formulas=(
            Formula("predictions", "true_positives + false_positives + true_negatives + false_negatives"),
            Formula("precision", ratio("true_positives", "true_positives + false_positives")),
            Formula("recall", ratio("true_positives", "true_positives + false_negatives")),
            Formula("f1", ratio("2 * true_positives", "2 * true_positives + false_positives + false_negatives")),
            Formula("accuracy", ratio("true_positives + true_negatives", "predictions")),
        ),
        freshness=Freshness(period_start="week_start", period="week", severity=WARNING),
        anomalies=(AnomalySeries("f1", order_by="week_start", partition_by=("model_version",), where="is_complete"),),
    ),
    MetricTable(
        name="fct_user_lifecycle_weekly",
        columns=("week_start", "lifecycle_status", "users", "is_complete"),
        grain=("week_start", "lifecycle_status"),
        counts=("users",),
        not_null=("users", "is_complete"),
        accepted_values={"lifecycle_status": ("new", "returning", "resurrecting", "dormant")},
        freshness=Freshness(period_start="week_start", period="week"),
        no_gaps=(NoGaps("week_start", "week", partition_by=("lifecycle_status",)),),
    ),
    MetricTable(
        name="fct_activation_weekly",
        columns=("signup_week", "signups", "activated_users", "activation_rate", "median_time_to_activate_hours",
                 "is_complete"),
        grain=("signup_week",),
        counts=("activated_users",),
        positive_counts=("signups",),
        rates=("activation_rate",),
        non_negative=("median_time_to_activate_hours",),
        not_null=("is_complete",),
        ordered=(("activated_users", "signups"),),
        formulas=(Formula("activation_rate", ratio("activated_users", "signups")),),
        # A week without signups has no row.
        freshness=Freshness(period_start="signup_week", period="week", severity=WARNING),
        anomalies=(AnomalySeries("activation_rate", order_by="signup_week", where="is_complete"),),
    ),
    MetricTable(
        name="fct_north_star_weekly",
        columns=("week_start", "north_star_users", "weekly_active_users", "new_users", "returning_users",
                 "resurrecting_users", "dormant_users", "core_action_users", "core_actions",
                 "north_star_share_of_active", "core_actions_per_core_action_user", "is_complete"),
        grain=("week_start",),
        counts=("north_star_users", "weekly_active_users", "new_users", "returning_users", "resurrecting_users",
                "dormant_users", "core_action_users", "core_actions"),
        non_negative=("north_star_share_of_active", "core_actions_per_core_action_user"),
        not_null=("is_complete",),
        ordered=(("north_star_users", "core_action_users", "weekly_active_users"), ("core_action_users", "core_actions")),
        formulas=(
            Formula("weekly_active_users", "new_users + returning_users + resurrecting_users"),
            Formula("north_star_share_of_active", ratio("north_star_users", "weekly_active_users")),
            Formula("core_actions_per_core_action_user", ratio("core_actions", "core_action_users")),
        ),
        freshness=Freshness(period_start="week_start", period="week"),
        no_gaps=(NoGaps("week_start", "week"),),
        anomalies=(AnomalySeries("north_star_users", order_by="week_start", where="is_complete"),),
    ),
    MetricTable(
        name="fct_aarrr_monthly",
        columns=("month_start", "signups", "activation_rate", "is_activation_complete", "month_1_retention_rate",
                 "is_month_1_retention_complete", "k_factor", "is_k_factor_complete", "new_customers", "revenue_usd",
                 "is_complete"),
        grain=("month_start",),
        counts=("signups", "new_customers"),
        rates=("activation_rate", "month_1_retention_rate"),
        non_negative=("k_factor",),
        not_null=("revenue_usd", "is_activation_complete", "is_month_1_retention_complete", "is_k_factor_complete",
                  "is_complete"),
        freshness=Freshness(period_start="month_start", period="month"),
        no_gaps=(NoGaps("month_start", "month"),),
    ),
)


@dataclass(frozen=True)
class RawSource:
    """A raw table of METRICS_SPEC section 1 and its staging model."""

    name: str
    staging_model: str
    timestamp: str              # the staging column freshness is measured on
    max_lag_days: int           # how far its latest row may trail the last included day


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


@dataclass(frozen=True)
class Schemas:
    """Where each layer lives. Defaults are the embedded target's exact schema names; `dev*`
    targets prefix them (`dbt_alice_metrics`) and pass their own."""

    metrics: str = "metrics"
    staging: str = "staging"
    audit: str = "audit"
    intermediate: str = "intermediate"
    raw: str = "raw"


@dataclass(frozen=True)
class QualitySettings:
    """Every threshold of the gate, configurable from the CLI (`product-metrics validate --help`)."""

    schemas: Schemas = Schemas()
    reject_share_limit: float = 0.05       # rejected / raw rows per source
    min_raw_rows: int = 1                  # volume: a source with fewer rows is empty or broken
    anomaly_k: float = 3.0                 # |value − trailing mean| > k × trailing stddev
    anomaly_window: int = 12               # trailing periods (days for daily series, months for monthly)
    anomaly_min_points: int = 4            # trailing points needed before a value is judged
    mau_window_days: int = 30              # dbt var product_metrics__mau_window_days
    include_layers: tuple[str, ...] = ("metrics", "staging", "raw")
    tables: tuple[str, ...] = ()           # only these metric tables (default: all)
    # The raw relations the build read, (table, schema, identifier), from the manifest
    # (product_metrics.relations); empty: schema `raw`, or the sample seeds when dbt built from them.
    raw_inputs: tuple[tuple[str, str, str], ...] = ()
    metrics_schema_option: str | None = None  # --metrics-schema: wins over the manifest's

    def with_(self, **changes) -> QualitySettings:
        return replace(self, **changes)

    def located(self, relations) -> QualitySettings:
        """These settings on the tables as dbt built them (product_metrics.relations.Relations)."""
        schemas = Schemas(metrics=self.metrics_schema_option or relations.metrics_schema,
                          staging=relations.staging_schema, audit=relations.audit_schema,
                          intermediate=relations.intermediate_schema, raw=self.schemas.raw)
        raw_inputs = tuple((table, relation.schema, relation.identifier)
                           for table, relation in relations.raw_inputs.items())
        return replace(self, schemas=schemas, raw_inputs=raw_inputs or self.raw_inputs)


def metric_table(name: str) -> MetricTable:
    for table in METRIC_TABLES:
        if table.name == name:
            return table
    raise KeyError(f"No quality rules for metric table {name!r}; known: {[t.name for t in METRIC_TABLES]}")
