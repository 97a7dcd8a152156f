-- Week-1 and month-1 retention counts per signup cohort and user-dimension segment (country,
-- platform, acquisition channel), for the cohorts whose period 1 starts before the cutoff.
-- Retained in period 1, as in fct_cohort_retention: active on a date of
-- [cohort week + 7 days, + 14 days) for week cohorts, of the calendar month after the cohort
-- month for month cohorts. The cohort is already the signup period, so the signup cohort month
-- is no dimension here.
with

users as (
    select * from {{ ref('int_users_cohorted') }}
),

segmented_users as (
    select * from {{ ref('int_users_segmented') }}
),

user_days as (
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

-- Only the days that can fall in period 1 of either cohort: before the end of month 1.
period_one_activity as (
    select
        users.user_id,
        max(
            case
                when
                    user_days.activity_date >= {{ add_days('users.cohort_week', 7) }}
                    and user_days.activity_date < {{ add_days('users.cohort_week', 14) }}
                    then 1
                else 0
            end
        ) as is_retained_week_1,
        max(
            case
                when
                    user_days.activity_date >= {{ add_months('users.cohort_month', 1) }}
                    and user_days.activity_date < {{ add_months('users.cohort_month', 2) }}
                    then 1
                else 0
            end
        ) as is_retained_month_1
    from user_days
    inner join users on user_days.user_id = users.user_id
    where user_days.activity_date < {{ add_months('users.cohort_month', 2) }}
    group by users.user_id
),

cohort_members as (
    select
        'week' as cohort_granularity,
        users.cohort_week as cohort_start,
        {{ add_days('users.cohort_week', 7) }} as period_start,
        {{ add_days('users.cohort_week', 14) }} as period_end,
        coalesce(period_one_activity.is_retained_week_1, 0) as retained_users,
        segmented_users.country,
        segmented_users.platform,
        segmented_users.acquisition_channel
    from users
    inner join segmented_users on users.user_id = segmented_users.user_id
    left join period_one_activity on users.user_id = period_one_activity.user_id
    union all
    select
        'month' as cohort_granularity,
        users.cohort_month as cohort_start,
        {{ add_months('users.cohort_month', 1) }} as period_start,
        {{ add_months('users.cohort_month', 2) }} as period_end,
        coalesce(period_one_activity.is_retained_month_1, 0) as retained_users,
        segmented_users.country,
        segmented_users.platform,
        segmented_users.acquisition_channel
    from users
    inner join segmented_users on users.user_id = segmented_users.user_id
    left join period_one_activity on users.user_id = period_one_activity.user_id
),

combination_counts as (
    select
        cohort_members.cohort_granularity,
        cohort_members.cohort_start,
        cohort_members.period_end,
        cohort_members.country,
        cohort_members.platform,
        cohort_members.acquisition_channel,
        count(*) as cohort_size,
        sum(cohort_members.retained_users) as retained_users
    from cohort_members
    cross join cutoff
    where cohort_members.period_start < cutoff.cutoff_date
    group by
        cohort_members.cohort_granularity,
        cohort_members.cohort_start,
        cohort_members.period_end,
        cohort_members.country,
        cohort_members.platform,
        cohort_members.acquisition_channel
),

segment_counts as (
    {{ roll_up_to_segments(
        'combination_counts',
        keys=['cohort_granularity', 'cohort_start', 'period_end'],
        measures=['cohort_size', 'retained_users'],
        dimensions=['country', 'platform', 'acquisition_channel'],
        include_overall=false
    ) }}
)

select
    segment_counts.dimension_name,
    segment_counts.dimension_value,
    segment_counts.cohort_granularity,
    segment_counts.cohort_start,
    cast(segment_counts.cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
    cast(segment_counts.retained_users as {{ dbt.type_bigint() }}) as retained_users,
    segment_counts.period_end <= cutoff.cutoff_date as is_complete
from segment_counts
cross join cutoff
