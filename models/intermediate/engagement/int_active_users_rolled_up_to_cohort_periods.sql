-- Per signup cohort (week or month), calendar period of the same granularity in which any of its
-- users was active, and combination of the users' country, platform and acquisition channel: how
-- many of them were active, and the newest active day among them. The retained users of
-- fct_cohort_retention (summed over the combinations) before periods are numbered from the
-- cohort's start, and of the segment retention (int_retention_rolled_up_to_segment_cohorts).
-- Incremental: a late event changes the period holding its day. A refresh re-derives the
-- periods that end in its window (period_end_date, the period's last day), from the user-days of
-- their first days on. The window comes from the newest active day kept (never later than the
-- user-days it was derived from); a cutoff moved back re-derives from the cutoff.
{{ config(**product_metrics.refresh_window_config(
    'period_end_date',
    refresh_window_state='last_activity_date',
)) }}
-- depends_on: {{ ref('int_reporting_cutoff') }} (the window's cap, read by refresh_window_start)
{% set window_start = product_metrics.refresh_window_start() %}

with

users as (
    select * from {{ ref('int_users_cohorted') }}
),

-- A month that ends in the window starts at most 30 days before the window, a week 6 days.
user_days as (
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
    where {{ product_metrics.in_refresh_window('activity_date', window_start, reach_days=30) }}
),

cohort_members as (
    {{ cohort_members('users', columns=['country', 'platform', 'acquisition_channel']) }}
),

-- Each user once per active week and month, however many days.
user_periods as (
    select
        'week' as cohort_granularity,
        user_id,
        {{ week_start('activity_date') }} as period_start,
        max(activity_date) as last_activity_date
    from user_days
    group by user_id, {{ week_start('activity_date') }}
    union all
    select
        'month' as cohort_granularity,
        user_id,
        {{ month_start('activity_date') }} as period_start,
        max(activity_date) as last_activity_date
    from user_days
    group by user_id, {{ month_start('activity_date') }}
),

cohort_periods as (
    select
        cohort_members.cohort_granularity,
        cohort_members.cohort_start,
        user_periods.period_start,
        cohort_members.country,
        cohort_members.platform,
        cohort_members.acquisition_channel,
        count(*) as active_users,
        max(user_periods.last_activity_date) as last_activity_date
    from cohort_members
    inner join user_periods
        on cohort_members.user_id = user_periods.user_id
            and cohort_members.cohort_granularity = user_periods.cohort_granularity
    group by
        cohort_members.cohort_granularity,
        cohort_members.cohort_start,
        user_periods.period_start,
        cohort_members.country,
        cohort_members.platform,
        cohort_members.acquisition_channel
),

bounded as (
    select
        cohort_granularity,
        cohort_start,
        period_start,
        {{ add_days(cohort_period_start('cohort_granularity', 'period_start', 1), -1) }} as period_end_date,
        country,
        platform,
        acquisition_channel,
        active_users,
        last_activity_date
    from cohort_periods
)

select
    cohort_granularity,
    cohort_start,
    period_start,
    period_end_date,
    country,
    platform,
    acquisition_channel,
    cast(active_users as {{ dbt.type_bigint() }}) as active_users,
    last_activity_date
from bounded
where {{ product_metrics.in_refresh_window('period_end_date', window_start) }}
