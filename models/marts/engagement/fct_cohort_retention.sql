-- Cohort retention by signup week and month (definitions: metric_retention_rate and the column docs).
-- Every period k that starts before the cutoff gets a row from a spine, periods without activity
-- included; period 0 is measured like any other period, not forced to 1.
with

users as (
    select * from {{ ref('int_users_cohorted') }}
),

cohort_period_activity as (
    select * from {{ ref('int_active_users_rolled_up_to_cohort_periods') }}
),

last_active as (
    select * from {{ ref('int_users_last_active') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

numbers as (
    {{ integer_series() }}
),

cohort_members as (
    {{ cohort_members('users') }}
),

cohort_sizes as (
    select
        cohort_granularity,
        cohort_start,
        count(*) as cohort_size
    from cohort_members
    group by cohort_granularity, cohort_start
),

-- The users of each cohort active in each period, counted per calendar period (and combination of
-- user dimensions) upstream.
retained as (
    select
        cohort_granularity,
        cohort_start,
        {{ cohort_period_number('cohort_granularity', 'cohort_start', 'period_start') }} as period_number,
        cast(sum(active_users) as {{ dbt.type_bigint() }}) as retained_users
    from cohort_period_activity
    group by cohort_granularity, cohort_start, period_start
),

-- A user is "retained or after" in every period up to the one holding their last active day.
last_active_periods as (
    select
        cohort_members.cohort_granularity,
        cohort_members.cohort_start,
        case cohort_members.cohort_granularity
            when 'week' then {{ weeks_between('cohort_members.cohort_start', week_start('last_active.last_activity_date')) }}
            else {{ months_between('cohort_members.cohort_start', month_start('last_active.last_activity_date')) }}
        end as last_period_number
    from cohort_members
    inner join last_active on cohort_members.user_id = last_active.user_id
),

users_by_last_period as (
    select
        cohort_granularity,
        cohort_start,
        last_period_number as period_number,
        count(*) as users_last_active
    from last_active_periods
    group by cohort_granularity, cohort_start, last_period_number
),

-- Every period that starts before the cutoff, active or not.
cohort_periods as (
    select
        cohort_sizes.cohort_granularity,
        cohort_sizes.cohort_start,
        cohort_sizes.cohort_size,
        numbers.n as period_number,
        {{ cohort_period_start('cohort_sizes.cohort_granularity', 'cohort_sizes.cohort_start', 'numbers.n') }} as period_start,
        {{ cohort_period_start('cohort_sizes.cohort_granularity', 'cohort_sizes.cohort_start', 'numbers.n + 1') }} as period_end,
        cutoff.cutoff_date
    from cohort_sizes
    cross join cutoff
    inner join numbers
        -- Enough periods for the longest granularity; the period_start filter below trims them.
        on numbers.n <= {{ weeks_between('cohort_sizes.cohort_start', 'cutoff.cutoff_date') }} + 1
),

measured as (
    select
        cohort_periods.cohort_granularity,
        cohort_periods.cohort_start,
        cohort_periods.period_number,
        cohort_periods.cohort_size,
        coalesce(retained.retained_users, 0) as retained_users,
        sum(coalesce(users_by_last_period.users_last_active, 0)) over (
            partition by cohort_periods.cohort_granularity, cohort_periods.cohort_start
            order by cohort_periods.period_number
            rows between current row and unbounded following
        ) as retained_or_after_users,
        cohort_periods.period_end <= cohort_periods.cutoff_date as is_complete
    from cohort_periods
    left join retained
        on cohort_periods.cohort_granularity = retained.cohort_granularity
            and cohort_periods.cohort_start = retained.cohort_start
            and cohort_periods.period_number = retained.period_number
    left join users_by_last_period
        on cohort_periods.cohort_granularity = users_by_last_period.cohort_granularity
            and cohort_periods.cohort_start = users_by_last_period.cohort_start
            and cohort_periods.period_number = users_by_last_period.period_number
    where cohort_periods.period_start < cohort_periods.cutoff_date
)

select
    cohort_granularity,
    cohort_start,
    period_number,
    cohort_size,
    retained_users,
    {{ safe_divide('retained_users', 'cohort_size') }} as retention_rate,
    -- A window sum is hugeint on DuckDB and numeric on PostgreSQL; the contract says bigint.
    cast(retained_or_after_users as {{ dbt.type_bigint() }}) as retained_or_after_users,
    {{ safe_divide('retained_or_after_users', 'cohort_size') }} as unbounded_retention_rate,
    is_complete
from measured
