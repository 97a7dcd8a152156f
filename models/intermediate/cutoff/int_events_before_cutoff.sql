-- One row per accepted event before the cutoff: what the semantic layer counts by event name.
-- event_id is not tested unique here: this only filters stg_raw__events, where it is.
with

events as (
    select * from {{ ref('stg_raw__events') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
)

select
    events.event_id,
    events.user_id,
    events.occurred_at,
    events.event_date,
    events.event_name
from events
inner join cutoff on events.event_date < cutoff.cutoff_date
