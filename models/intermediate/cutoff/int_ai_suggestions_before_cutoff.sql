-- One row per accepted AI suggestion created before the cutoff.
with

suggestions as (
    select * from {{ ref('stg_raw__ai_suggestions') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
)

select
    suggestions.suggestion_id,
    suggestions.user_id,
    suggestions.created_at,
    suggestions.created_date,
    suggestions.model_version,
    suggestions.feature,
    suggestions.latency_ms,
    suggestions.cost_usd,
    suggestions.outcome,
    suggestions.escalated_to_human
from suggestions
inner join cutoff on suggestions.created_date < cutoff.cutoff_date
