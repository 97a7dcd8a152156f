-- Week-1 and month-1 retention counts per signup cohort and user-dimension segment (country,
-- platform, acquisition channel), for the cohorts whose period 1 starts before the cutoff.
-- Retained in period 1 as in fct_cohort_retention, per user in int_users_retained_in_period_one
-- (incremental). This model joins them to today's dimension values, so a changed value moves the
-- user. The cohort is already the signup period, so the signup cohort month is no dimension here.
with

users as (
    select * from {{ ref('int_users_cohorted') }}
),

segmented_users as (
    select * from {{ ref('int_users_segmented') }}
),

-- Every cohorted user has a row (int_users_retained_in_period_one): an inner join loses nobody.
retained_users as (
    select * from {{ ref('int_users_retained_in_period_one') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

cohort_members as (
    select
        'week' as cohort_granularity,
        users.cohort_week as cohort_start,
        {{ add_days('users.cohort_week', 7) }} as period_start,
        {{ add_days('users.cohort_week', 14) }} as period_end,
        retained_users.is_retained_week_1 as retained_users,
        segmented_users.country,
        segmented_users.platform,
        segmented_users.acquisition_channel
    from users
    inner join segmented_users on users.user_id = segmented_users.user_id
    inner join retained_users on users.user_id = retained_users.user_id
    union all
    select
        'month' as cohort_granularity,
        users.cohort_month as cohort_start,
        {{ add_months('users.cohort_month', 1) }} as period_start,
        {{ add_months('users.cohort_month', 2) }} as period_end,
        retained_users.is_retained_month_1 as retained_users,
        segmented_users.country,
        segmented_users.platform,
        segmented_users.acquisition_channel
    from users
    inner join segmented_users on users.user_id = segmented_users.user_id
    inner join retained_users on users.user_id = retained_users.user_id
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
