-- Growth accounting per week and lifecycle status (definitions: metric_new_users, metric_returning_users,
-- metric_resurrecting_users, metric_dormant_users). The weeks are a spine crossed with the four statuses,
-- so a status nobody is in still has its row (0), and the statuses of a week add up.
-- Incremental: a user's status in a week depends on that week, the week before and
-- whether they were active at all before, so a refresh re-derives whole weeks from the Monday of
-- its window, from the user-days of the week before it on and, for the users active there, whether
-- they were active earlier. The window comes from the newest week with an active user (never later
-- than the user-days it was derived from); a cutoff moved back re-derives from the cutoff's week.
{{ config(**product_metrics.refresh_window_config(
    'week_start',
    refresh_window_grain='week',
    refresh_window_state="case when lifecycle_status <> 'dormant' and users > 0 then week_start end",
)) }}
{% set window_start = product_metrics.refresh_window_start() %}

with

user_days as (
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
    -- The window starts on a Monday: its first week's returning and dormant users need the week before.
    where {{ product_metrics.in_refresh_window('activity_date', window_start, reach_days=7) }}
),

-- The first active week of all history, where the grid of weeks starts: a min over one column.
first_activity as (
    select {{ week_start('min(activity_date)') }} as first_week_start
    from {{ ref('int_events_rolled_up_to_user_days') }}
),

-- On a refresh, the users read who were active before the days read: their first week read is not
-- their first active week. None on a full build, which reads every user-day.
users_active_before as (
    {%- if window_start is none %}
    select user_days.user_id
    from user_days
    where 1 = 0
    {%- else %}
    select distinct earlier_days.user_id
    from {{ ref('int_events_rolled_up_to_user_days') }} as earlier_days
    where
        not ({{ product_metrics.in_refresh_window('earlier_days.activity_date', window_start, reach_days=7) }})
        and earlier_days.user_id in (select user_days.user_id from user_days)
    {%- endif %}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

numbers as (
    {{ integer_series() }}
),

user_weeks as (
    select distinct
        user_id,
        {{ week_start('activity_date') }} as week_start
    from user_days
),

user_weeks_in_sequence as (
    select
        user_id,
        week_start,
        lag(week_start) over (partition by user_id order by week_start) as previous_active_week,
        lead(week_start) over (partition by user_id order by week_start) as next_active_week
    from user_weeks
),

last_week as (
    select {{ week_start('last_included_date') }} as last_week_start
    from cutoff
),

active_statuses as (
    select
        user_weeks_in_sequence.user_id,
        user_weeks_in_sequence.week_start,
        case
            when user_weeks_in_sequence.previous_active_week = {{ add_days('user_weeks_in_sequence.week_start', -7) }}
                then 'returning'
            when user_weeks_in_sequence.previous_active_week is not null
                or users_active_before.user_id is not null
                then 'resurrecting'
            else 'new'
        end as lifecycle_status
    from user_weeks_in_sequence
    left join users_active_before on user_weeks_in_sequence.user_id = users_active_before.user_id
),

-- A user goes dormant the week after an active week not followed by another active week.
dormant_statuses as (
    select
        user_weeks_in_sequence.user_id,
        {{ add_days('user_weeks_in_sequence.week_start', 7) }} as week_start,
        'dormant' as lifecycle_status
    from user_weeks_in_sequence
    cross join last_week
    where
        (
            user_weeks_in_sequence.next_active_week is null
            or user_weeks_in_sequence.next_active_week > {{ add_days('user_weeks_in_sequence.week_start', 7) }}
        )
        and {{ add_days('user_weeks_in_sequence.week_start', 7) }} <= last_week.last_week_start
),

statuses as (
    select * from active_statuses
    union all
    select * from dormant_statuses
),

status_counts as (
    select
        week_start,
        lifecycle_status,
        count(*) as users  -- noqa: RF04
    from statuses
    group by week_start, lifecycle_status
),

weeks as (
    select {{ add_days('first_week.first_week_start', 'numbers.n * 7') }} as week_start
    from first_activity as first_week
    cross join last_week
    inner join numbers
        on {{ add_days('first_week.first_week_start', 'numbers.n * 7') }} <= last_week.last_week_start
),

lifecycle_statuses as (
    select 'new' as lifecycle_status
    union all
    select 'returning' as lifecycle_status
    union all
    select 'resurrecting' as lifecycle_status
    union all
    select 'dormant' as lifecycle_status
),

grid as (
    select
        weeks.week_start,
        lifecycle_statuses.lifecycle_status
    from weeks
    cross join lifecycle_statuses
)

select
    grid.week_start,
    cast(grid.lifecycle_status as {{ dbt.type_string() }}) as lifecycle_status,
    -- `users` is the table's column name, though a keyword to the linter.
    cast(coalesce(status_counts.users, 0) as {{ dbt.type_bigint() }}) as users,  -- noqa: RF04
    {{ add_days('grid.week_start', 7) }} <= cutoff.cutoff_date as is_complete
from grid
cross join cutoff
left join status_counts
    on
        grid.week_start = status_counts.week_start
        and grid.lifecycle_status = status_counts.lifecycle_status
where {{ product_metrics.in_refresh_window('grid.week_start', window_start) }}
