-- One row per accepted NPS response before the cutoff, every response of a respondent included
-- (fct_nps_monthly keeps only the latest per respondent and month). The respondent is the user,
-- or the response itself when anonymous, as in fct_nps_monthly.
with

responses as (
    select * from {{ ref('stg_raw__nps_responses') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
)

select
    responses.response_id,
    responses.user_id,
    coalesce('user:' || responses.user_id, 'response:' || responses.response_id) as respondent_id,
    responses.responded_at,
    responses.response_date,
    responses.score,
    case
        when responses.score >= 9 then 'promoter'
        when responses.score >= 7 then 'passive'
        else 'detractor'
    end as score_group
from responses
inner join cutoff on responses.response_date < cutoff.cutoff_date
