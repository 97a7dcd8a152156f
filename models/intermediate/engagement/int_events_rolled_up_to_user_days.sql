-- One row per user and active date before the cutoff: the grain every engagement metric builds on.
-- Incremental: a refresh re-derives the dates of its window from the accepted events;
-- the window also starts at the cutoff when that is earlier, so a cutoff moved back removes rows.
{{ config(**product_metrics.refresh_window_config('activity_date')) }}
{% set window_start = product_metrics.refresh_window_start() %}

with

events as (
    select * from {{ ref('stg_raw__events') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

active_events as (
    select
        events.user_id,
        events.event_date
    from events
    cross join cutoff
    where
        {{ is_active_event('events.event_name') }}
        and events.event_date < cutoff.cutoff_date
        and {{ product_metrics.in_refresh_window('events.event_date', window_start) }}
)

select distinct
    user_id,
    event_date as activity_date
from active_events
