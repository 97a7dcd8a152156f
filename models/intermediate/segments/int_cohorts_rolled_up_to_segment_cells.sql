-- The cohort ratios per signup cohort and cell (one combination of the four user dimensions), as
-- numerator and denominator that add up over cells:
--   pm_retention_rate            week and month cohorts: members active in period 1 / cohort size
--                                (fct_cohort_retention, period 1; cohorts whose period 1 starts before the cutoff)
--   pm_product_activation_rate   signup weeks: activated users / signups (fct_activation_weekly)
-- A signup week can span two months, so its members are counted per user with their own signup
-- cohort month, not from the per-combination counts of int_active_users_rolled_up_to_cohort_periods.
{#- `var is defined`: dbt 1.10 renders a model without var() once, to set up its unit tests. -#}
{% set window_days = var('product_metrics__activation_window_days', 7) | int if var is defined else 7 %}

with

users as (
    select * from {{ ref('int_users_cohorted') }}
),

segmented_users as (
    select * from {{ ref('int_users_segmented') }}
),

activated_users as (
    select * from {{ ref('int_users_activated') }}
),

user_days as (
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

cohort_members as (
    {{ cohort_members('users') }}
),

-- Each user once per active week and month, however many days.
user_periods as (
    select distinct
        'week' as cohort_granularity,
        user_id,
        {{ week_start('activity_date') }} as period_start
    from user_days
    union all
    select distinct
        'month' as cohort_granularity,
        user_id,
        {{ month_start('activity_date') }} as period_start
    from user_days
),

-- Period 1 of each member's cohort: the period whose activity retains them.
member_periods as (
    select
        cohort_granularity,
        cohort_start,
        user_id,
        {{ cohort_period_start('cohort_granularity', 'cohort_start', 1) }} as retention_period_start,
        {{ cohort_period_start('cohort_granularity', 'cohort_start', 2) }} as retention_period_end
    from cohort_members
),

members_retained as (
    select
        member_periods.cohort_granularity,
        member_periods.cohort_start,
        member_periods.user_id,
        member_periods.retention_period_start,
        member_periods.retention_period_end,
        case when user_periods.user_id is not null then 1 else 0 end as is_retained
    from member_periods
    left join user_periods
        on member_periods.user_id = user_periods.user_id
            and member_periods.cohort_granularity = user_periods.cohort_granularity
            and member_periods.retention_period_start = user_periods.period_start
),

user_ratios as (
    select
        'pm_retention_rate' as metric_name,
        members_retained.cohort_granularity as period_grain,
        members_retained.cohort_start as period_start,
        members_retained.user_id,
        members_retained.is_retained as numerator,
        members_retained.retention_period_end <= cutoff.cutoff_date as is_complete
    from members_retained
    cross join cutoff
    where members_retained.retention_period_start < cutoff.cutoff_date
    union all
    select
        'pm_product_activation_rate' as metric_name,
        'week' as period_grain,
        activated_users.cohort_week as period_start,
        activated_users.user_id,
        case when activated_users.is_activated then 1 else 0 end as numerator,
        -- Complete once the week's last signup has had its full window before the cutoff.
        {{ add_days('activated_users.cohort_week', 7 + window_days) }} <= cutoff.cutoff_date as is_complete
    from activated_users
    cross join cutoff
)

select
    user_ratios.metric_name,
    user_ratios.period_grain,
    user_ratios.period_start,
    coalesce(segmented_users.country, 'unknown') as country,
    coalesce(segmented_users.platform, 'unknown') as platform,
    coalesce(segmented_users.acquisition_channel, 'unknown') as acquisition_channel,
    coalesce(segmented_users.signup_cohort_month, 'unknown') as signup_cohort_month,
    cast(sum(user_ratios.numerator) as {{ dbt.type_bigint() }}) as numerator,
    cast(count(*) as {{ dbt.type_bigint() }}) as denominator,
    user_ratios.is_complete
from user_ratios
left join segmented_users on user_ratios.user_id = segmented_users.user_id
group by
    user_ratios.metric_name,
    user_ratios.period_grain,
    user_ratios.period_start,
    coalesce(segmented_users.country, 'unknown'),
    coalesce(segmented_users.platform, 'unknown'),
    coalesce(segmented_users.acquisition_channel, 'unknown'),
    coalesce(segmented_users.signup_cohort_month, 'unknown'),
    user_ratios.is_complete
