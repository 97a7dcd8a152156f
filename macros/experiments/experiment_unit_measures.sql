{#
    The per-unit measure of each metric of experiment_metric_catalog, read by int_experiment_unit_values:
    the input table it reads ('events', 'orders', 'suggestions' or 'responses') and its aggregates
    over that table's rows of one unit: `value`, `denominator` (ratio metrics) and `covariate` (none
    for ratio metrics). In an expression, ROW. stands for the table's alias, W for "the row is in the
    metric's window", C for "... in its CUPED lookback", FIRST_WEEK / SECOND_WEEK for the two weeks of
    a two_weeks window.
    The definitions are the catalog's `measure` and the project's: activity is is_active_event's,
    an order counts when its amount is positive, NPS points are the latest response's (promoter
    100, passive 0, detractor -100; the responses model's score groups). Latency is averaged over the
    suggestions that have one, as avg(latency_ms) does for pm_ai_latency_ms_average.
#}
{% macro experiment_unit_measures() -%}
    {#- `var is defined`: dbt 1.10 renders a model without var() once, to set up its unit tests. -#}
    {% set activation_event = var('product_metrics__activation_event_name', 'core_action') if var is defined else 'core_action' %}
    {% set core_action_event = var('product_metrics__core_action_event_name', 'core_action') if var is defined else 'core_action' %}
    {% set min_core_actions = var('product_metrics__north_star_min_core_actions', 3) | int if var is defined else 3 %}
    {{ return({
        'pm_product_activation_rate': {'table': 'events',
            'value': "max(case when ROW.event_name = '" ~ activation_event ~ "' and W then 1 else 0 end)",
            'covariate': "max(case when ROW.event_name = '" ~ activation_event ~ "' and C then 1 else 0 end)"},
        'pm_north_star_users': {'table': 'events',
            'value': "case when sum(case when ROW.event_name = '" ~ core_action_event ~ "' and W then 1 else 0 end) >= " ~ min_core_actions ~ " then 1 else 0 end",
            'covariate': "case when sum(case when ROW.event_name = '" ~ core_action_event ~ "' and C then 1 else 0 end) >= " ~ min_core_actions ~ " then 1 else 0 end"},
        'pm_dormant_users': {'table': 'events',
            'value': "case when max(case when ROW.is_active and FIRST_WEEK then 1 else 0 end) = 1 and max(case when ROW.is_active and SECOND_WEEK then 1 else 0 end) = 0 then 1 else 0 end",
            'covariate': "count(distinct case when ROW.is_active and C then ROW.event_date end)"},
        'pm_retention_rate': {'table': 'events',
            'value': "max(case when ROW.is_active and W then 1 else 0 end)",
            'covariate': "count(distinct case when ROW.is_active and C then ROW.event_date end)"},
        'pm_core_actions': {'table': 'events',
            'value': "sum(case when ROW.event_name = '" ~ core_action_event ~ "' and W then 1 else 0 end)",
            'covariate': "sum(case when ROW.event_name = '" ~ core_action_event ~ "' and C then 1 else 0 end)"},
        'pm_events': {'table': 'events',
            'value': "sum(case when W then 1 else 0 end)",
            'covariate': "sum(case when C then 1 else 0 end)"},
        'pm_active_user_days': {'table': 'events',
            'value': "count(distinct case when ROW.is_active and W then ROW.event_date end)",
            'covariate': "count(distinct case when ROW.is_active and C then ROW.event_date end)"},
        'pm_activation_rate': {'table': 'orders',
            'value': "max(case when ROW.amount_usd > 0 and W then 1 else 0 end)",
            'covariate': "max(case when ROW.amount_usd > 0 and C then 1 else 0 end)"},
        'pm_orders': {'table': 'orders',
            'value': "sum(case when ROW.amount_usd > 0 and W then 1 else 0 end)",
            'covariate': "sum(case when ROW.amount_usd > 0 and C then 1 else 0 end)"},
        'pm_revenue_usd': {'table': 'orders',
            'value': "coalesce(sum(case when W then ROW.amount_usd end), 0)",
            'covariate': "coalesce(sum(case when C then ROW.amount_usd end), 0)"},
        'pm_ai_suggestions': {'table': 'suggestions',
            'value': "sum(case when W then 1 else 0 end)",
            'covariate': "sum(case when C then 1 else 0 end)"},
        'pm_ai_acceptance_rate': {'table': 'suggestions',
            'value': "sum(case when ROW.outcome = 'accepted' and W then 1 else 0 end)",
            'denominator': "sum(case when W then 1 else 0 end)"},
        'pm_ai_correction_rate': {'table': 'suggestions',
            'value': "sum(case when ROW.outcome = 'edited' and W then 1 else 0 end)",
            'denominator': "sum(case when ROW.outcome in ('accepted', 'edited') and W then 1 else 0 end)"},
        'pm_ai_hitl_rate': {'table': 'suggestions',
            'value': "sum(case when ROW.escalated_to_human and W then 1 else 0 end)",
            'denominator': "sum(case when W then 1 else 0 end)"},
        'pm_ai_cost_per_1k_suggestions_usd': {'table': 'suggestions',
            'value': "1000 * coalesce(sum(case when W then ROW.cost_usd end), 0)",
            'denominator': "sum(case when W then 1 else 0 end)"},
        'pm_ai_latency_ms_average': {'table': 'suggestions',
            'value': "coalesce(sum(case when W then ROW.latency_ms end), 0)",
            'denominator': "count(case when W then ROW.latency_ms end)"},
        'pm_nps': {'table': 'responses'},
    }) }}
{%- endmacro %}


{# The SQL condition "the row's timestamp is in the metric's window (or CUPED lookback)" of the unit's `spans` row. #}
{% macro experiment_unit_in_window(metric_name, at_column, bound='window') -%}
    {%- set prefix = metric_name ~ ('__covariate_' if bound == 'covariate' else '__') -%}
    ({{ at_column }} >= spans.{{ prefix }}start_at and {{ at_column }} < spans.{{ prefix }}end_at)
{%- endmacro %}


{# An aggregate of experiment_unit_measures with its W, C and week placeholders written out. #}
{% macro experiment_unit_aggregate(metric_name, expression, table, at_column) -%}
    {%- set at_column = table ~ '.' ~ at_column -%}
    {{ expression
        | replace('ROW.', table ~ '.')
        | replace('FIRST_WEEK', '(' ~ at_column ~ ' >= spans.' ~ metric_name ~ '__start_at and ' ~ at_column ~ ' < spans.' ~ metric_name ~ '__second_week_at)')
        | replace('SECOND_WEEK', '(' ~ at_column ~ ' >= spans.' ~ metric_name ~ '__second_week_at and ' ~ at_column ~ ' < spans.' ~ metric_name ~ '__end_at)')
        | replace(' W ', ' ' ~ product_metrics.experiment_unit_in_window(metric_name, at_column) ~ ' ')
        | replace(' C ', ' ' ~ product_metrics.experiment_unit_in_window(metric_name, at_column, 'covariate') ~ ' ') }}
{%- endmacro %}

