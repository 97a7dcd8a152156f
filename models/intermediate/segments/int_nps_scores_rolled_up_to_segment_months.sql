-- NPS and its counts per month and user-dimension segment, over identified respondents only: an
-- anonymous response has no user, so no country, platform, channel or cohort. As in
-- fct_nps_monthly, a respondent's latest response of the month counts (ties: the larger
-- response_id), and the score is the same formula (macro net_promoter_score).
with

responses as (
    select * from {{ ref('stg_raw__nps_responses') }}
),

users as (
    select * from {{ ref('int_users_segmented') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

ranked as (
    select
        {{ month_start('responses.response_date') }} as month_start,
        responses.user_id,
        responses.score,
        row_number() over (
            partition by {{ month_start('responses.response_date') }}, responses.user_id
            order by responses.responded_at desc, {{ natural_id_order('responses.response_id', 'desc') }}
        ) as response_rank
    from responses
    cross join cutoff
    where
        responses.user_id is not null
        and responses.response_date < cutoff.cutoff_date
),

-- A respondent who signed up after the cutoff is no counted user: segment 'unknown'.
combination_counts as (
    select
        ranked.month_start,
        users.country,
        users.platform,
        users.acquisition_channel,
        users.signup_cohort_month,
        count(*) as responses,
        sum(case when ranked.score >= 9 then 1 else 0 end) as promoters,
        sum(case when ranked.score <= 6 then 1 else 0 end) as detractors
    from ranked
    left join users on ranked.user_id = users.user_id
    where ranked.response_rank = 1
    group by
        ranked.month_start,
        users.country,
        users.platform,
        users.acquisition_channel,
        users.signup_cohort_month
),

segment_counts as (
    {{ roll_up_to_segments(
        'combination_counts',
        keys=['month_start'],
        measures=['responses', 'promoters', 'detractors'],
        include_overall=false
    ) }}
)

select
    dimension_name,
    dimension_value,
    month_start,
    cast(responses as {{ dbt.type_bigint() }}) as responses,
    cast(promoters as {{ dbt.type_bigint() }}) as promoters,
    cast(detractors as {{ dbt.type_bigint() }}) as detractors,
    {{ net_promoter_score('promoters', 'detractors', 'responses') }} as nps
from segment_counts
