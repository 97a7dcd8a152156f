-- Did week-4 retention drop for one platform? Week-4 retention per weekly signup cohort and
-- platform, against that platform's average over the previous four complete cohorts.
with

users as (
    select * from {{ ref('int_users_cohorted') }}
),

user_days as (
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

week4_active as (
    select distinct users.user_id
    from users
    inner join user_days on users.user_id = user_days.user_id
    where {{ weeks_between('users.cohort_week', 'user_days.activity_date') }} = 4
),

cohorts as (
    select
        users.platform,
        users.cohort_week,
        count(*) as cohort_size,
        count(week4_active.user_id) as retained_week4
    from users
    cross join cutoff
    left join week4_active on users.user_id = week4_active.user_id
    -- Only cohorts whose week 4 has ended.
    where {{ add_days('users.cohort_week', 35) }} <= cutoff.cutoff_date
    group by users.platform, users.cohort_week
),

rates as (
    select
        platform,
        cohort_week,
        cohort_size,
        {{ safe_divide('retained_week4', 'cohort_size') }} as week4_retention_rate
    from cohorts
)

select
    platform,
    cohort_week,
    cohort_size,
    week4_retention_rate,
    avg(week4_retention_rate) over (
        partition by platform order by cohort_week rows between 4 preceding and 1 preceding
    ) as previous_four_cohorts_rate,
    week4_retention_rate - avg(week4_retention_rate) over (
        partition by platform order by cohort_week rows between 4 preceding and 1 preceding
    ) as change_vs_previous
from rates
order by cohort_week desc, platform asc
