{#
    The user-days a rolling DAU/WAU/MAU count (activity_intervals) reads to derive the dates of its
    refresh window, all of them on a full build: an interval opened more than N - 1 days before the
    window ends before it, so it counts on no date derived.
#}
{% macro user_days_for_rolling_counts(window_start) -%}
    {#- `var is defined`: dbt 1.10 renders a model without var() once, to set up its unit tests. -#}
    {%- set mau_days = var('product_metrics__mau_window_days', 30) | int if var is defined else 30 -%}
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
    where {{ product_metrics.in_refresh_window('activity_date', window_start, reach_days=mau_days - 1) }}
{%- endmacro %}
