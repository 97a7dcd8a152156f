-- One row per accepted user: signup time (UTC) and date (reporting time zone), first-touch channel.
with

checked as (
    select * from {{ ref('base_raw__users') }}
),

accepted as (
    select
        user_id,
        signed_up_at,
        signup_date,
        acquisition_channel,
        country,
        platform
    from checked
    where rejection_reason is null
)

select * from accepted
