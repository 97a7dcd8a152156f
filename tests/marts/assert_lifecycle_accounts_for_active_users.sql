-- fct_user_lifecycle_weekly accounts for every active user, counted here straight from the
-- user-days, apart from the model's per-user sequence of weeks: in each week, new + returning +
-- resurrecting users are that week's active users, and returning + dormant users are the week
-- before's. A refresh re-derives the lifecycle from its window's week on and checks the weeks that
-- end in the test window (macro refresh_test_window). Returns the weeks that differ.
{% set tested_lifecycle_weeks = product_metrics.refresh_test_window(add_days('week_start', 6)) %}
{#- A tested week needs the active users of the week before: user-days 13 days before it ends. -#}
{% set tested_user_days = product_metrics.refresh_test_window(add_days('activity_date', 13)) %}

with

lifecycle as (
    select
        week_start,
        sum(case when lifecycle_status <> 'dormant' then users else 0 end) as active_users,
        sum(case when lifecycle_status in ('returning', 'dormant') then users else 0 end) as active_users_week_before
    from {{ ref('fct_user_lifecycle_weekly') }}
    {%- if tested_lifecycle_weeks %}
    where {{ tested_lifecycle_weeks }}
    {%- endif %}
    group by week_start
),

weekly_active_users as (
    select
        {{ week_start('activity_date') }} as week_start,
        count(distinct user_id) as active_users
    from {{ ref('int_events_rolled_up_to_user_days') }}
    {%- if tested_user_days %}
    where {{ tested_user_days }}
    {%- endif %}
    group by {{ week_start('activity_date') }}
)

select
    lifecycle.week_start,
    lifecycle.active_users,
    coalesce(this_week.active_users, 0) as counted_active_users,
    lifecycle.active_users_week_before,
    coalesce(week_before.active_users, 0) as counted_active_users_week_before
from lifecycle
left join weekly_active_users as this_week on lifecycle.week_start = this_week.week_start
left join weekly_active_users as week_before
    on {{ add_days('lifecycle.week_start', -7) }} = week_before.week_start
where
    lifecycle.active_users <> coalesce(this_week.active_users, 0)
    or lifecycle.active_users_week_before <> coalesce(week_before.active_users, 0)
