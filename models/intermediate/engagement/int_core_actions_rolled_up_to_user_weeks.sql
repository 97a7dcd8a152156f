-- One row per user and week (Monday start) in which the user did the core-action event
-- (var product_metrics__core_action_event_name) before the cutoff, with how many times.
-- Incremental: a refresh re-derives whole weeks from the Monday of its window's first
-- day on (a late event changes its week's count); a cutoff moved back removes the weeks after it.
{{ config(**product_metrics.refresh_window_config('week_start', refresh_window_grain='week')) }}
{% set window_start = product_metrics.refresh_window_start() %}
{% set core_action = var('product_metrics__core_action_event_name', 'core_action') %}

with

events as (
    select * from {{ ref('stg_raw__events') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

core_actions as (
    select
        events.user_id,
        {{ week_start('events.event_date') }} as week_start
    from events
    cross join cutoff
    where
        events.event_name = '{{ core_action }}'
        and events.event_date < cutoff.cutoff_date
        -- The window starts on a Monday: every event of the weeks it re-derives.
        and {{ product_metrics.in_refresh_window('events.event_date', window_start) }}
)

select
    user_id,
    week_start,
    count(*) as core_actions
from core_actions
group by user_id, week_start
