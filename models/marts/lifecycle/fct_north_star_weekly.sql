-- The north star per week with its drivers (definitions: metric_north_star_users and the column docs).
-- The active-user drivers are read from fct_user_lifecycle_weekly, not counted a second time.
-- Incremental: a week's row reads only that week's rows of its three inputs, and a late
-- event changes no lifecycle status before its own week, so a refresh re-derives whole weeks from
-- the Monday of its window. The window comes from the newest week with an active user (never later
-- than the user-days it was derived from); a cutoff moved back re-derives from the cutoff's week.
{{ config(**product_metrics.refresh_window_config(
    'week_start',
    refresh_window_grain='week',
    refresh_window_state='case when weekly_active_users > 0 then week_start end',
)) }}
-- depends_on: {{ ref('int_reporting_cutoff') }} (the window's cap, read by refresh_window_start)
{% set window_start = product_metrics.refresh_window_start() %}
{#- `var is defined`: dbt 1.10 renders a model without var() once, to set up its unit tests. -#}
{% set min_core_actions = var('product_metrics__north_star_min_core_actions', 3) | int if var is defined else 3 %}

with

lifecycle as (
    select * from {{ ref('fct_user_lifecycle_weekly') }}
    where {{ product_metrics.in_refresh_window('week_start', window_start) }}
),

core_action_weeks as (
    select * from {{ ref('int_core_actions_rolled_up_to_user_weeks') }}
    where {{ product_metrics.in_refresh_window('week_start', window_start) }}
),

user_days as (
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
    where {{ product_metrics.in_refresh_window('activity_date', window_start) }}
),

active_user_weeks as (
    select distinct
        user_id,
        {{ week_start('activity_date') }} as week_start
    from user_days
),

-- Core actions count only for users active that week (var product_metrics__active_event_names).
core_action_counts as (
    select
        core_action_weeks.week_start,
        count(*) as core_action_users,
        sum(core_action_weeks.core_actions) as core_actions,
        sum(case when core_action_weeks.core_actions >= {{ min_core_actions }} then 1 else 0 end) as north_star_users
    from core_action_weeks
    inner join active_user_weeks
        on
            core_action_weeks.user_id = active_user_weeks.user_id
            and core_action_weeks.week_start = active_user_weeks.week_start
    group by core_action_weeks.week_start
),

drivers as (
    select
        week_start,
        sum(case when lifecycle_status = 'new' then users else 0 end) as new_users,
        sum(case when lifecycle_status = 'returning' then users else 0 end) as returning_users,
        sum(case when lifecycle_status = 'resurrecting' then users else 0 end) as resurrecting_users,
        sum(case when lifecycle_status = 'dormant' then users else 0 end) as dormant_users,
        sum(case when lifecycle_status != 'dormant' then users else 0 end) as weekly_active_users,
        -- is_complete is a property of the week: the same on its four rows.
        min(case when is_complete then 1 else 0 end) = 1 as is_complete
    from lifecycle
    group by week_start
)

select
    drivers.week_start,
    cast(coalesce(core_action_counts.north_star_users, 0) as {{ dbt.type_bigint() }}) as north_star_users,
    cast(drivers.weekly_active_users as {{ dbt.type_bigint() }}) as weekly_active_users,
    cast(drivers.new_users as {{ dbt.type_bigint() }}) as new_users,
    cast(drivers.returning_users as {{ dbt.type_bigint() }}) as returning_users,
    cast(drivers.resurrecting_users as {{ dbt.type_bigint() }}) as resurrecting_users,
    cast(drivers.dormant_users as {{ dbt.type_bigint() }}) as dormant_users,
    cast(coalesce(core_action_counts.core_action_users, 0) as {{ dbt.type_bigint() }}) as core_action_users,
    cast(coalesce(core_action_counts.core_actions, 0) as {{ dbt.type_bigint() }}) as core_actions,
    {{ safe_divide('coalesce(core_action_counts.north_star_users, 0)', 'drivers.weekly_active_users') }}
        as north_star_share_of_active,
    {{ safe_divide('coalesce(core_action_counts.core_actions, 0)', 'core_action_counts.core_action_users') }}
        as core_actions_per_core_action_user,
    drivers.is_complete
from drivers
left join core_action_counts on drivers.week_start = core_action_counts.week_start
