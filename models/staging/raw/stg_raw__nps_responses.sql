-- One row per accepted NPS response; user_id is null for anonymous responses.
with

checked as (
    select * from {{ ref('base_raw__nps_responses') }}
),

accepted as (
    select
        response_id,
        user_id,
        responded_at,
        response_date,
        score
    from checked
    where rejection_reason is null
)

select * from accepted
