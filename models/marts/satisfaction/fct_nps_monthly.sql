-- Net Promoter Score per month, with its standard error and 95% margin of error.
-- Per respondent (the user, or the response itself when anonymous) the latest response of the
-- month counts; ties go to the larger response_id.
with

responses as (
    select * from {{ ref('stg_raw__nps_responses') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

ranked as (
    select
        {{ month_start('responses.response_date') }} as month_start,
        responses.score,
        row_number() over (
            partition by
                {{ month_start('responses.response_date') }},
                coalesce('user:' || responses.user_id, 'response:' || responses.response_id)
            order by responses.responded_at desc, {{ natural_id_order('responses.response_id', 'desc') }}
        ) as response_rank
    from responses
    cross join cutoff
    where responses.response_date < cutoff.cutoff_date
),

counted as (
    select
        month_start,
        count(*) as responses,
        sum(case when score >= 9 then 1 else 0 end) as promoters,
        sum(case when score between 7 and 8 then 1 else 0 end) as passives,
        sum(case when score <= 6 then 1 else 0 end) as detractors
    from ranked
    where response_rank = 1
    group by month_start
),

shares as (
    select
        *,
        {{ safe_divide('promoters', 'responses') }} as promoter_share,
        {{ safe_divide('detractors', 'responses') }} as detractor_share
    from counted
),

scored as (
    select
        *,
        {{ net_promoter_score('promoters', 'detractors', 'responses') }} as nps,
        -- Variance of a +1/0/-1 score; greatest() absorbs rounding just below zero.
        100 * sqrt(greatest(
            promoter_share + detractor_share - (promoter_share - detractor_share) * (promoter_share - detractor_share),
            0
        ) / responses) as nps_standard_error
    from shares
)

select
    month_start,
    cast(responses as {{ dbt.type_bigint() }}) as responses,
    cast(promoters as {{ dbt.type_bigint() }}) as promoters,
    cast(passives as {{ dbt.type_bigint() }}) as passives,
    cast(detractors as {{ dbt.type_bigint() }}) as detractors,
    nps,
    nps_standard_error,
    1.96 * nps_standard_error as nps_margin_of_error_95
from scored
