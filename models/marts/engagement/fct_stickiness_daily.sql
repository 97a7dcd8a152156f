-- DAU, WAU and MAU for every date from the first activity date to the day before the cutoff.
--
-- Rolling distinct counts without a range join: each active day of a user opens an interval
-- of N days in which that user counts, cut short where the user's next active day opens the
-- next one. A user's intervals never overlap, so the users counted on a date are the
-- intervals covering it: a running sum of +1 at each interval start and -1 after each end.
-- One pass over the user-days, whatever N is.
{% set mau_days = var('product_metrics__mau_window_days', 30) | int %}

with

user_days as (
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

intervals as (
    {{ activity_intervals('user_days') }}
),

-- Count the intervals per start and end date first: a few hundred dates, not one row per user-day,
-- go into the union and the running sum.
starts as (
    select
        activity_date,
        count(*) as user_count
    from intervals
    group by activity_date
),

wau_ends as (
    select
        wau_end_date,
        count(*) as user_count
    from intervals
    group by wau_end_date
),

mau_ends as (
    select
        mau_end_date,
        count(*) as user_count
    from intervals
    group by mau_end_date
),

changes as (
    select
        activity_date as change_date,
        user_count as dau_change,
        user_count as wau_change,
        user_count as mau_change
    from starts
    union all
    select
        {{ add_days('activity_date', 1) }} as change_date,
        -user_count as dau_change,
        0 as wau_change,
        0 as mau_change
    from starts
    union all
    select
        {{ add_days('wau_end_date', 1) }} as change_date,
        0 as dau_change,
        -user_count as wau_change,
        0 as mau_change
    from wau_ends
    union all
    select
        {{ add_days('mau_end_date', 1) }} as change_date,
        0 as dau_change,
        0 as wau_change,
        -user_count as mau_change
    from mau_ends
),

daily_changes as (
    select
        change_date,
        sum(dau_change) as dau_change,
        sum(wau_change) as wau_change,
        sum(mau_change) as mau_change
    from changes
    group by change_date
),

bounds as (
    select
        min(user_days.activity_date) as first_activity_date,
        max(cutoff.cutoff_date) as cutoff_date
    from user_days
    cross join cutoff
),

dates as (
    select
        {{ add_days('bounds.first_activity_date', 'numbers.n') }} as activity_date,
        bounds.first_activity_date
    from bounds
    inner join {{ integer_series() }} as numbers
        on numbers.n < {{ dbt.datediff('bounds.first_activity_date', 'bounds.cutoff_date', 'day') }}
),

counted as (
    select
        dates.activity_date,
        dates.first_activity_date,
        sum(coalesce(daily_changes.dau_change, 0)) over (order by dates.activity_date rows unbounded preceding) as dau,
        sum(coalesce(daily_changes.wau_change, 0)) over (order by dates.activity_date rows unbounded preceding) as wau,
        sum(coalesce(daily_changes.mau_change, 0)) over (order by dates.activity_date rows unbounded preceding) as mau
    from dates
    left join daily_changes on dates.activity_date = daily_changes.change_date
)

select
    activity_date,
    cast(dau as {{ dbt.type_bigint() }}) as dau,
    cast(wau as {{ dbt.type_bigint() }}) as wau,
    cast(mau as {{ dbt.type_bigint() }}) as mau,
    {{ safe_divide('dau', 'mau') }} as dau_mau_ratio,
    {{ safe_divide('wau', 'mau') }} as wau_mau_ratio,
    -- The whole N-day window ending this date lies on or after the first activity date.
    {{ add_days('activity_date', 1 - mau_days) }} >= first_activity_date as is_full_window
from counted
