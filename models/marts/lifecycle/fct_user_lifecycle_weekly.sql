-- Growth accounting: per week (Monday start) the users in each lifecycle status. Active users are
-- new (their first active week), returning (active last week too) or resurrecting (not active last
-- week, active some week before); dormant users were active last week and not this week. Every week
-- from the first active week to the cutoff's week has a row for each of the four statuses.
with

user_days as (
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
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
        user_id,
        week_start,
        case
            when previous_active_week is null then 'new'
            when previous_active_week = {{ add_days('week_start', -7) }} then 'returning'
            else 'resurrecting'
        end as lifecycle_status
    from user_weeks_in_sequence
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
    from (select min(week_start) as first_week_start from user_weeks) as first_week
    cross join last_week
    inner join {{ integer_series() }} as numbers
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
