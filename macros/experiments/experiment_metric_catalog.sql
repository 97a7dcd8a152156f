{#
    The governed metrics an experiment can measure per exposed user, and how. Goal and guardrail metrics
    of var product_metrics__experiments are named from this catalog; a metric's direction, unit and
    owner are its governance meta's. Each entry:

    kind: conversion (0/1: the event happened in the window), count (events in the window), sum (an
    amount in the window), ratio (numerator / denominator over the window, read by the delta method),
    retention (0/1: active in week k after the analysis start).
    window: 'conversion' (0 to the experiment's conversion_window_days), 'week' (the first 7 days),
    'retention' (days 7k to 7k + 7, k = the experiment's retention_week) or 'two_weeks' (0 to 14).

    A metric that is absent is not measurable per user (a percentile, a monthly customer rate, spend):
    named as a goal or guardrail it is refused; a governance guardrail that is absent is listed as
    not measured.
#}
{% macro experiment_metric_catalog() -%}
    {{ return({
        'pm_product_activation_rate': {'kind': 'conversion', 'window': 'conversion',
            'measure': 'the activation event (var product_metrics__activation_event_name) happened'},
        'pm_activation_rate': {'kind': 'conversion', 'window': 'conversion',
            'measure': 'an order with a positive amount was placed'},
        'pm_north_star_users': {'kind': 'conversion', 'window': 'week',
            'measure': 'at least product_metrics__north_star_min_core_actions core-action events'},
        'pm_dormant_users': {'kind': 'conversion', 'window': 'two_weeks',
            'measure': 'active in the first week and not in the second'},
        'pm_retention_rate': {'kind': 'retention', 'window': 'retention',
            'measure': 'active in week k after the analysis start'},
        'pm_core_actions': {'kind': 'count', 'window': 'conversion',
            'measure': 'core-action events (var product_metrics__core_action_event_name)'},
        'pm_events': {'kind': 'count', 'window': 'conversion', 'measure': 'events'},
        'pm_active_user_days': {'kind': 'count', 'window': 'conversion', 'measure': 'days with activity'},
        'pm_orders': {'kind': 'count', 'window': 'conversion', 'measure': 'orders with a positive amount'},
        'pm_revenue_usd': {'kind': 'sum', 'window': 'conversion', 'measure': 'order amounts, refunds included'},
        'pm_ai_suggestions': {'kind': 'count', 'window': 'conversion', 'measure': 'AI suggestions'},
        'pm_ai_acceptance_rate': {'kind': 'ratio', 'window': 'conversion',
            'measure': 'accepted suggestions / suggestions'},
        'pm_ai_correction_rate': {'kind': 'ratio', 'window': 'conversion',
            'measure': 'edited suggestions / (accepted + edited) suggestions'},
        'pm_ai_hitl_rate': {'kind': 'ratio', 'window': 'conversion',
            'measure': 'suggestions escalated to a human / suggestions'},
        'pm_ai_cost_per_1k_suggestions_usd': {'kind': 'ratio', 'window': 'conversion',
            'measure': '1000 x cost_usd / suggestions'},
        'pm_ai_latency_ms_average': {'kind': 'ratio', 'window': 'conversion',
            'measure': 'latency_ms / suggestions that have a latency'},
        'pm_nps': {'kind': 'ratio', 'window': 'conversion',
            'measure': 'score points of the latest response (promoter 100, passive 0, detractor -100) / respondents'},
    }) }}
{%- endmacro %}
