-- Weekly active users, north star users and core actions per week (Monday start) and cell (one
-- combination of the four user dimensions), counted as in fct_north_star_weekly: a user active in
-- the week counts once; core actions count only for users active that week; a north star user did
-- at least k of them (var product_metrics__north_star_min_core_actions). A user-day of no counted
-- user is 'unknown' in every dimension.
{#- `var is defined`: dbt 1.10 renders a model without var() once, to set up its unit tests. -#}
{% set min_core_actions = var('product_metrics__north_star_min_core_actions', 3) | int if var is defined else 3 %}

with

user_days as (
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
),

users as (
    select * from {{ ref('int_users_segmented') }}
),

core_action_weeks as (
    select * from {{ ref('int_core_actions_rolled_up_to_user_weeks') }}
),

user_weeks as (
    select distinct
        user_id,
        {{ week_start('activity_date') }} as week_start
    from user_days
),

user_week_core_actions as (
    select
        user_weeks.week_start,
        coalesce(users.country, 'unknown') as country,
        coalesce(users.platform, 'unknown') as platform,
        coalesce(users.acquisition_channel, 'unknown') as acquisition_channel,
        coalesce(users.signup_cohort_month, 'unknown') as signup_cohort_month,
        coalesce(core_action_weeks.core_actions, 0) as core_actions
    from user_weeks
    left join core_action_weeks
        on user_weeks.user_id = core_action_weeks.user_id
            and user_weeks.week_start = core_action_weeks.week_start
    left join users on user_weeks.user_id = users.user_id
)

select
    week_start,
    country,
    platform,
    acquisition_channel,
    signup_cohort_month,
    cast(count(*) as {{ dbt.type_bigint() }}) as weekly_active_users,
    cast(sum(case when core_actions >= {{ min_core_actions }} then 1 else 0 end) as {{ dbt.type_bigint() }})
        as north_star_users,
    cast(sum(core_actions) as {{ dbt.type_bigint() }}) as core_actions
from user_week_core_actions
group by week_start, country, platform, acquisition_channel, signup_cohort_month
