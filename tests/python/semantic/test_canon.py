"""The issue-8 tables (AI, model quality, lifecycle, activation, north star, AARRR) agree with their
semantic-layer metrics on the clean demo: MetricFlow's SQL returns each table's values within 1e-9,
nulls alike, for the same grain. Reuses the fixtures and comparison of test_layer.py."""

from __future__ import annotations

import pytest

from product_metrics.semantic.engine import SemanticLayer

from .test_layer import Agreement, _keyed, _same

AI_DAILY = {
    "pm_ai_suggestions": "suggestions", "pm_accepted_ai_suggestions": "accepted", "pm_edited_ai_suggestions": "edited",
    "pm_rejected_ai_suggestions": "rejected", "pm_ignored_ai_suggestions": "ignored",
    "pm_escalated_ai_suggestions": "escalated", "pm_ai_acceptance_rate": "acceptance_rate",
    "pm_ai_correction_rate": "correction_rate", "pm_ai_hitl_rate": "hitl_rate", "pm_ai_latency_p50_ms": "latency_p50_ms",
    "pm_ai_latency_p90_ms": "latency_p90_ms", "pm_ai_latency_p99_ms": "latency_p99_ms", "pm_ai_cost_usd": "cost_usd",
    "pm_ai_cost_per_1k_suggestions_usd": "cost_per_1k_suggestions_usd",
}
MODEL_WEEKLY = {
    "pm_model_predictions": "predictions", "pm_model_true_positives": "true_positives",
    "pm_model_false_positives": "false_positives", "pm_model_true_negatives": "true_negatives",
    "pm_model_false_negatives": "false_negatives", "pm_model_precision": "precision", "pm_model_recall": "recall",
    "pm_model_f1": "f1", "pm_model_accuracy": "accuracy",
}
LIFECYCLE_PIVOT = """(
    select
        week_start,
        sum(case when lifecycle_status = 'new' then users end) as new_users,
        sum(case when lifecycle_status = 'returning' then users end) as returning_users,
        sum(case when lifecycle_status = 'resurrecting' then users end) as resurrecting_users,
        sum(case when lifecycle_status = 'dormant' then users end) as dormant_users
    from metrics.fct_user_lifecycle_weekly
    group by week_start
)"""
MONTH_1_RETENTION = [
    "{{ Dimension('pm_cohort_period__cohort_granularity') }} = 'month'",
    "{{ Dimension('pm_cohort_period__period_number') }} = 1",
]

AGREEMENTS = [
    Agreement("AI suggestions by day, model version and feature", "metrics.fct_ai_suggestions_daily", AI_DAILY,
              {"metric_time__day": "activity_date", "pm_suggestion__model_version": "model_version",
               "pm_suggestion__feature": "feature"}),
    Agreement("model performance by week and version", "metrics.fct_model_performance_weekly", MODEL_WEEKLY,
              {"metric_time__week": "week_start", "pm_prediction__model_version": "model_version"}),
    # Offset one week: null where the version was not evaluated the week before, in both.
    Agreement("f1 change by week and version", "metrics.fct_model_performance_weekly",
              {"pm_model_f1_change": "f1_change"},
              {"metric_time__week": "week_start", "pm_prediction__model_version": "model_version"}),
    Agreement("user lifecycle by week", LIFECYCLE_PIVOT,
              {"pm_new_users": "new_users", "pm_returning_users": "returning_users",
               "pm_resurrecting_users": "resurrecting_users", "pm_dormant_users": "dormant_users"},
              {"metric_time__week": "week_start"}),
    Agreement("north star and drivers by week", "metrics.fct_north_star_weekly",
              {"pm_north_star_users": "north_star_users", "pm_weekly_active_users": "weekly_active_users",
               "pm_core_action_users": "core_action_users", "pm_core_actions": "core_actions",
               "pm_north_star_share_of_active": "north_star_share_of_active",
               "pm_core_actions_per_core_action_user": "core_actions_per_core_action_user"},
              {"metric_time__week": "week_start"}),
    Agreement("activation by signup week", "metrics.fct_activation_weekly",
              {"pm_activation_signups": "signups", "pm_product_activated_users": "activated_users",
               "pm_product_activation_rate": "activation_rate",
               "pm_median_time_to_activate_hours": "median_time_to_activate_hours"},
              {"metric_time__week": "signup_week"}),
    Agreement("AARRR acquisition and activation by month", "metrics.fct_aarrr_monthly",
              {"pm_signups": "signups", "pm_product_activation_rate": "activation_rate"},
              {"metric_time__month": "month_start"}),
    Agreement("AARRR referral by month", "(select * from metrics.fct_aarrr_monthly where k_factor is not null)",
              {"pm_k_factor": "k_factor"}, {"metric_time__month": "month_start"}),
    Agreement("AARRR revenue by month", "(select * from metrics.fct_aarrr_monthly where new_customers > 0)",
              {"pm_new_customers": "new_customers", "pm_revenue_usd": "revenue_usd"}, {"metric_time__month": "month_start"}),
    Agreement("AARRR month-1 retention",
              "(select * from metrics.fct_aarrr_monthly where month_1_retention_rate is not null)",
              {"pm_retention_rate": "month_1_retention_rate"}, {"metric_time__month": "month_start"},
              where=tuple(MONTH_1_RETENTION)),
]


@pytest.fixture(scope="module")
def layer(semantic_project, clean_demo_warehouse):
    with SemanticLayer.open(semantic_project.manifest, clean_demo_warehouse) as semantic_layer:
        yield semantic_layer


@pytest.mark.parametrize("agreement", AGREEMENTS, ids=[a.name for a in AGREEMENTS])
def test_canon_metrics_agree_with_their_tables(agreement: Agreement, layer):
    metrics, group_by = list(agreement.metrics), list(agreement.group_by)
    result = layer.query(metrics, group_by, where=agreement.where)
    semantic = _keyed(result.columns, result.rows, group_by, metrics)

    columns = list(agreement.group_by.values()) + list(agreement.metrics.values())
    cursor = layer.connection.execute(f"select {', '.join(columns)} from {agreement.table} as t")
    table = _keyed(columns, cursor.fetchall(), list(agreement.group_by.values()), list(agreement.metrics.values()))

    assert table, f"{agreement.table} is empty"
    assert semantic.keys() == table.keys(), sorted(set(semantic) ^ set(table))[:10]
    mismatches = [
        (key, metric, semantic[key][i], table[key][i])
        for key in table for i, metric in enumerate(metrics)
        if not _same(semantic[key][i], table[key][i])
    ]
    assert not mismatches, mismatches[:10]


def test_the_demo_tells_the_model_version_story(layer):
    """The newer model is more precise offline and more accepted, but slower and costlier."""
    [(v1_precision, v2_precision)] = layer.connection.execute("""
        select
            sum(true_positives) filter (where model_version = 'v1')
                / sum(true_positives + false_positives) filter (where model_version = 'v1'),
            sum(true_positives) filter (where model_version = 'v2')
                / sum(true_positives + false_positives) filter (where model_version = 'v2')
        from metrics.fct_model_performance_weekly
    """).fetchall()
    assert v2_precision > v1_precision + 0.05
    p90 = dict(layer.connection.execute(
        "select model_version, median(latency_p90_ms) from metrics.fct_ai_suggestions_daily group by 1").fetchall())
    assert p90["v2"] > 1.3 * p90["v1"]
    acceptance = dict(layer.connection.execute(
        "select model_version, sum(accepted) / sum(suggestions) from metrics.fct_ai_suggestions_daily group by 1"
    ).fetchall())
    assert acceptance["v2"] > acceptance["v1"]
    # The data shift late in the window shows as a week-over-week f1 drop beyond the alert threshold.
    [(worst_drop,)] = layer.connection.execute(
        "select min(f1_change) from metrics.fct_model_performance_weekly where is_complete").fetchall()
    assert worst_drop < -0.05
