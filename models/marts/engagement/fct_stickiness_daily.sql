-- DAU, WAU and MAU for every date from the first activity date to the day before the cutoff.
--
-- Rolling distinct counts without a range join: each active day of a user opens an interval
-- of N days in which that user counts, cut short where the user's next active day opens the
-- next one. A user's intervals never overlap, so the users counted on a date are the
-- intervals covering it: a running sum of +1 at each interval start and -1 after each end.
-- One pass over the user-days, whatever N is.
-- Incremental: a date's counts read only the user-days of the N days up to it, so a
-- refresh re-derives the dates of its window from the user-days of N - 1 days before it on. The
-- window comes from the newest date with an active user (the user-days' own newest date); a
-- cutoff moved back re-derives from the cutoff.
{{ config(**product_metrics.refresh_window_config(
    'activity_date',
    refresh_window_state='case when dau > 0 then activity_date end',
)) }}
{% set window_start = product_metrics.refresh_window_start() %}
{#- `var is defined`: dbt 1.10 renders a model without var() once, to set up its unit tests. -#}
{% set mau_days = var('product_metrics__mau_window_days', 30) | int if var is defined else 30 %}

with

user_days as (
    {{ user_days_for_rolling_counts(window_start) }}
),

-- The first activity date of all history (is_full_window): a min over one column.
first_activity as (
    select min(activity_date) as first_activity_date
    from {{ ref('int_events_rolled_up_to_user_days') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

numbers as (
    {{ integer_series() }}
),

intervals as (
    {{ activity_intervals('user_days') }}
),

daily_changes as (
    {{ activity_count_changes('intervals') }}
),

first_read as (
    select min(activity_date) as first_read_date
    from user_days
),

-- The running sums start at the first user-day read. On a refresh that is up to N - 1 days before
-- the window, or later when nobody was active then: the window's dates start no later than the
-- window (nor before the first activity date), so each still gets its row.
bounds as (
    select
        {%- if window_start is none %}
        first_read.first_read_date as first_counted_date,
        {%- else %}
        case when first_activity.first_activity_date is not null then
            greatest(
                first_activity.first_activity_date,
                least(
                    coalesce(first_read.first_read_date, cast('{{ window_start }}' as date)),
                    cast('{{ window_start }}' as date)
                )
            )
        end as first_counted_date,
        {%- endif %}
        first_activity.first_activity_date,
        cutoff.cutoff_date
    from first_read
    cross join first_activity
    cross join cutoff
),

dates as (
    select
        {{ add_days('bounds.first_counted_date', 'numbers.n') }} as activity_date,
        bounds.first_activity_date
    from bounds
    inner join numbers
        on numbers.n < {{ dbt.datediff('bounds.first_counted_date', 'bounds.cutoff_date', 'day') }}
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
where {{ product_metrics.in_refresh_window('activity_date', window_start) }}
