-- One row per accepted AI suggestion; outcome is normalised to lower case.
with

checked as (
    select * from {{ ref('base_raw__ai_suggestions') }}
),

accepted as (
    select
        suggestion_id,
        user_id,
        created_at,
        created_date,
        model_version,
        feature,
        latency_ms,
        cost_usd,
        outcome,
        escalated_to_human
    from checked
    where rejection_reason is null
)

select * from accepted
