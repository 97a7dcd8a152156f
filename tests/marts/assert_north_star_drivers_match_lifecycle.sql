-- fct_north_star_weekly has one row per week of fct_user_lifecycle_weekly, with the same lifecycle
-- counts. A refresh keeps the weeks of both before its window, each from its own table: a kept
-- week on which they part fails here, not silently (the lifecycle's own counts are checked against
-- the user-days by assert_lifecycle_accounts_for_active_users).
-- Returns the weeks that differ. Fix: product-metrics refresh --full-refresh.
with

lifecycle as (
    select
        week_start,
        sum(case when lifecycle_status = 'new' then users else 0 end) as new_users,
        sum(case when lifecycle_status = 'returning' then users else 0 end) as returning_users,
        sum(case when lifecycle_status = 'resurrecting' then users else 0 end) as resurrecting_users,
        sum(case when lifecycle_status = 'dormant' then users else 0 end) as dormant_users
    from {{ ref('fct_user_lifecycle_weekly') }}
    group by week_start
),

north_star as (
    select
        week_start,
        new_users,
        returning_users,
        resurrecting_users,
        dormant_users
    from {{ ref('fct_north_star_weekly') }}
)

select
    coalesce(lifecycle.week_start, north_star.week_start) as week_start,
    lifecycle.new_users as lifecycle_new_users,
    north_star.new_users as north_star_new_users
from lifecycle
full outer join north_star
    on
        lifecycle.week_start = north_star.week_start
        and lifecycle.new_users = north_star.new_users
        and lifecycle.returning_users = north_star.returning_users
        and lifecycle.resurrecting_users = north_star.resurrecting_users
        and lifecycle.dormant_users = north_star.dormant_users
where lifecycle.week_start is null or north_star.week_start is null
