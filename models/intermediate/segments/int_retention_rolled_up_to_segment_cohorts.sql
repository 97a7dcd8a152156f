-- Week-1 and month-1 retention counts per signup cohort and user-dimension segment (country,
-- platform, acquisition channel), for the cohorts whose period 1 starts before the cutoff. The
-- inputs of fct_cohort_retention split by segment: cohort members from int_users_cohorted, the
-- users active in period 1 from int_active_users_rolled_up_to_cohort_periods (counted there per
-- combination of the three dimensions). The cohort is already the signup period, so the signup
-- cohort month is no dimension here.
with

users as (
    select * from {{ ref('int_users_cohorted') }}
),

cohort_period_activity as (
    select * from {{ ref('int_active_users_rolled_up_to_cohort_periods') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

cohort_members as (
    {{ cohort_members('users', columns=['country', 'platform', 'acquisition_channel']) }}
),

-- Members and period-1 active users stacked, then summed per combination: a group by, where a
-- join on the dimension values would lose a missing (null) country or platform.
member_and_retained_counts as (
    select
        cohort_granularity,
        cohort_start,
        country,
        platform,
        acquisition_channel,
        1 as cohort_size,
        0 as retained_users
    from cohort_members
    union all
    select
        cohort_granularity,
        cohort_start,
        country,
        platform,
        acquisition_channel,
        0 as cohort_size,
        active_users as retained_users
    from cohort_period_activity
    where {{ cohort_period_number('cohort_granularity', 'cohort_start', 'period_start') }} = 1
),

combination_counts as (
    select
        counts.cohort_granularity,
        counts.cohort_start,
        {{ cohort_period_start('counts.cohort_granularity', 'counts.cohort_start', 2) }} as period_end,
        counts.country,
        counts.platform,
        counts.acquisition_channel,
        sum(counts.cohort_size) as cohort_size,
        sum(counts.retained_users) as retained_users
    from member_and_retained_counts as counts
    cross join cutoff
    where {{ cohort_period_start('counts.cohort_granularity', 'counts.cohort_start', 1) }} < cutoff.cutoff_date
    group by
        counts.cohort_granularity,
        counts.cohort_start,
        counts.country,
        counts.platform,
        counts.acquisition_channel
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
