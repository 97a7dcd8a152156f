-- One row per user and active date before the cutoff: the grain every engagement metric builds on.
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
)

select distinct
    user_id,
    event_date as activity_date
from active_events
