-- One row per user and week (Monday start) in which the user did the core-action event
-- (var product_metrics__core_action_event_name) before the cutoff, with how many times.
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
)

select
    user_id,
    week_start,
    count(*) as core_actions
from core_actions
group by user_id, week_start
