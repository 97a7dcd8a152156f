-- One row per accepted product event.
with

checked as (
    select * from {{ ref('base_raw__events') }}
),

accepted as (
    select
        event_id,
        user_id,
        occurred_at,
        event_date,
        event_name
    from checked
    where rejection_reason is null
)

select * from accepted
