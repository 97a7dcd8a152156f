-- Active users per week and month and cell (one combination of the four user dimensions: country,
-- platform, acquisition channel, signup cohort month), summable over cells to any segment:
--   active_user_days   the period's user-days (sum of daily DAU); / measured_days = average DAU
--   dau, mau           on the period's snapshot day (its last day, or the last day before the cutoff)
--   weekly_active_users, north_star_users, core_actions (weeks only; int_active_user_weeks_rolled_up_to_segment_cells)
-- DAU and MAU on a snapshot day come from the intervals and running sums of fct_stickiness_daily
-- (macros activity_intervals, activity_count_changes) partitioned by cell; a marker row per cell and
-- snapshot day picks the running sum there, so no range join and no cell-by-day spine.
with

user_days as (
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
),

users as (
    select * from {{ ref('int_users_segmented') }}
),

active_user_weeks as (
    select * from {{ ref('int_active_user_weeks_rolled_up_to_segment_cells') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

numbers as (
    {{ integer_series() }}
),

-- Users sharing all four dimension values form one cell, counted by number (as in
-- int_active_users_rolled_up_to_segment_days).
cells as (
    select
        country,
        platform,
        acquisition_channel,
        signup_cohort_month,
        row_number() over (
            order by country, platform, acquisition_channel, signup_cohort_month
        ) as cell_id
    from (
        select distinct
            country,
            platform,
            acquisition_channel,
            signup_cohort_month
        from users
    ) as distinct_cells
),

user_cells as (
    select
        users.user_id,
        cells.cell_id
    from users
    inner join cells
        on users.country = cells.country
            and users.platform = cells.platform
            and users.acquisition_channel = cells.acquisition_channel
            and users.signup_cohort_month = cells.signup_cohort_month
),

-- The dates measured, as in fct_metric_values: from the first activity date to the day before the cutoff.
data_range as (
    select
        min(user_days.activity_date) as first_activity_date,
        max(cutoff.cutoff_date) as cutoff_date,
        max(cutoff.last_included_date) as last_included_date
    from user_days
    cross join cutoff
),

period_starts as (
    select
        'week' as period_grain,
        {{ add_days(week_start('data_range.first_activity_date'), 'numbers.n * 7') }} as period_start,
        {{ add_days(week_start('data_range.first_activity_date'), 'numbers.n * 7 + 7') }} as period_end
    from data_range
    inner join numbers
        on {{ add_days(week_start('data_range.first_activity_date'), 'numbers.n * 7') }}
            <= data_range.last_included_date
    union all
    select
        'month' as period_grain,
        {{ add_months(month_start('data_range.first_activity_date'), 'numbers.n') }} as period_start,
        {{ add_months(month_start('data_range.first_activity_date'), 'numbers.n + 1') }} as period_end
    from data_range
    inner join numbers
        on numbers.n <= {{ months_between(month_start('data_range.first_activity_date'), 'data_range.last_included_date') }}
),

periods as (
    select
        period_starts.period_grain,
        period_starts.period_start,
        period_starts.period_end,
        least({{ add_days('period_starts.period_end', -1) }}, data_range.last_included_date) as snapshot_date,
        {{ dbt.datediff(
            'greatest(period_starts.period_start, data_range.first_activity_date)',
            'least(period_starts.period_end, data_range.cutoff_date)',
            'day'
        ) }} as measured_days
    from period_starts
    cross join data_range
),

-- A user-day of no known user has no cell: its dimension values are 'unknown'.
user_day_cells as (
    select
        user_days.user_id,
        user_days.activity_date,
        user_cells.cell_id
    from user_days
    left join user_cells on user_days.user_id = user_cells.user_id
),

user_intervals as (
    {{ activity_intervals('user_days') }}
),

interval_cells as (
    select
        user_intervals.activity_date,
        user_intervals.wau_end_date,
        user_intervals.mau_end_date,
        user_cells.cell_id
    from user_intervals
    left join user_cells on user_intervals.user_id = user_cells.user_id
),

cell_changes as (
    {{ activity_count_changes('interval_cells', partition_by=['cell_id']) }}
),

-- One marker per cell and snapshot day, after that day's changes: the running sum at the marker is
-- the cell's count on the day.
changed_cells as (
    select distinct cell_id from cell_changes
),

snapshot_dates as (
    select distinct snapshot_date from periods
),

snapshot_markers as (
    select
        changed_cells.cell_id,
        snapshot_dates.snapshot_date
    from changed_cells
    cross join snapshot_dates
),

changes_and_markers as (
    select
        cell_id,
        change_date as count_date,
        0 as is_marker,
        dau_change,
        mau_change
    from cell_changes
    union all
    select
        cell_id,
        snapshot_date as count_date,
        1 as is_marker,
        0 as dau_change,
        0 as mau_change
    from snapshot_markers
),

running_counts as (
    select
        cell_id,
        count_date,
        is_marker,
        sum(dau_change) over (
            partition by cell_id order by count_date, is_marker rows unbounded preceding
        ) as dau,
        sum(mau_change) over (
            partition by cell_id order by count_date, is_marker rows unbounded preceding
        ) as mau
    from changes_and_markers
),

user_day_cell_periods as (
    {{ expand_to_periods('user_day_cells', 'user_day_cells.activity_date', grains=['week', 'month']) }}
),

-- The day measures per period and cell, then with the cells' dimension values.
cell_day_measures as (
    select
        period_grain,
        period_start,
        cell_id,
        count(*) as active_user_days,
        0 as dau,
        0 as mau
    from user_day_cell_periods
    group by period_grain, period_start, cell_id
    union all
    select
        periods.period_grain,
        periods.period_start,
        running_counts.cell_id,
        0 as active_user_days,
        running_counts.dau,
        running_counts.mau
    from running_counts
    inner join periods on running_counts.count_date = periods.snapshot_date
    where running_counts.is_marker = 1
),

-- A cell of no counted user (cell_id null) is 'unknown' in every dimension.
cell_measures as (
    select
        cell_day_measures.period_grain,
        cell_day_measures.period_start,
        coalesce(cells.country, 'unknown') as country,
        coalesce(cells.platform, 'unknown') as platform,
        coalesce(cells.acquisition_channel, 'unknown') as acquisition_channel,
        coalesce(cells.signup_cohort_month, 'unknown') as signup_cohort_month,
        cell_day_measures.active_user_days,
        cell_day_measures.dau,
        cell_day_measures.mau,
        0 as weekly_active_users,
        0 as north_star_users,
        0 as core_actions
    from cell_day_measures
    left join cells on cell_day_measures.cell_id = cells.cell_id
    union all
    select
        'week' as period_grain,
        week_start as period_start,
        country,
        platform,
        acquisition_channel,
        signup_cohort_month,
        0 as active_user_days,
        0 as dau,
        0 as mau,
        weekly_active_users,
        north_star_users,
        core_actions
    from active_user_weeks
),

cell_totals as (
    select
        period_grain,
        period_start,
        country,
        platform,
        acquisition_channel,
        signup_cohort_month,
        sum(active_user_days) as active_user_days,
        sum(dau) as dau,
        sum(mau) as mau,
        sum(weekly_active_users) as weekly_active_users,
        sum(north_star_users) as north_star_users,
        sum(core_actions) as core_actions
    from cell_measures
    group by period_grain, period_start, country, platform, acquisition_channel, signup_cohort_month
)

select
    cell_totals.period_grain,
    cell_totals.period_start,
    periods.period_end,
    cell_totals.country,
    cell_totals.platform,
    cell_totals.acquisition_channel,
    cell_totals.signup_cohort_month,
    cast(periods.measured_days as {{ dbt.type_int() }}) as measured_days,
    cast(cell_totals.active_user_days as {{ dbt.type_bigint() }}) as active_user_days,
    cast(cell_totals.dau as {{ dbt.type_bigint() }}) as dau,
    cast(cell_totals.mau as {{ dbt.type_bigint() }}) as mau,
    cast(cell_totals.weekly_active_users as {{ dbt.type_bigint() }}) as weekly_active_users,
    cast(cell_totals.north_star_users as {{ dbt.type_bigint() }}) as north_star_users,
    cast(cell_totals.core_actions as {{ dbt.type_bigint() }}) as core_actions
from cell_totals
inner join periods
    on cell_totals.period_grain = periods.period_grain
        and cell_totals.period_start = periods.period_start
where
    cell_totals.active_user_days > 0
    or cell_totals.mau > 0
    or cell_totals.weekly_active_users > 0
