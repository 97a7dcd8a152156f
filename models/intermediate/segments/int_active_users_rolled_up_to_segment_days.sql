-- DAU, WAU and MAU of every user-dimension segment (a country, a platform, an acquisition channel,
-- a signup cohort month), for every date from the segment's first activity date to the day before
-- the cutoff. The overall counts are fct_stickiness_daily's; these split them.
--
-- The same intervals and changes as fct_stickiness_daily (macros activity_intervals and
-- activity_count_changes), never a range join: each active day of a user opens an interval in
-- which the user counts, cut short where their next active day opens the next one; the users
-- counted on a date are a running sum of +1 at interval starts and -1 after interval ends, here
-- partitioned by segment. A user is in exactly one segment of each dimension, so the changes are
-- summed per date and combination of dimension values first, then rolled up to each dimension.
-- Incremental, as fct_stickiness_daily: a refresh re-derives the dates of its window
-- from the user-days of N - 1 days before it on, for every segment already counted and every new one.
{{ config(**product_metrics.refresh_window_config(
    'activity_date',
    refresh_window_state='case when dau > 0 then activity_date end',
)) }}
{% set window_start = product_metrics.refresh_window_start() %}

with

user_days as (
    {{ user_days_for_rolling_counts(window_start) }}
),

users as (
    select * from {{ ref('int_users_segmented') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

numbers as (
    {{ integer_series() }}
),

user_intervals as (
    {{ activity_intervals('user_days') }}
),

-- Users sharing all four dimension values form one combination (a few hundred of them): the
-- intervals are counted per combination number, not per four text columns (with the separate
-- aggregates below, 1.45 s to 0.80 s at 10M events; bench/RESULTS.md).
combinations as (
    select
        country,
        platform,
        acquisition_channel,
        signup_cohort_month,
        row_number() over (
            order by country, platform, acquisition_channel, signup_cohort_month
        ) as combination_id
    from (
        select distinct
            country,
            platform,
            acquisition_channel,
            signup_cohort_month
        from users
    ) as distinct_combinations
),

-- Numbered once per combination, then joined to the users (none of the four values is null): a
-- join instead of a window sorting every user (1.0 s against 0.1 s on 2M users).
user_combinations as (
    select
        users.user_id,
        combinations.combination_id
    from users
    inner join combinations
        on users.country = combinations.country
            and users.platform = combinations.platform
            and users.acquisition_channel = combinations.acquisition_channel
            and users.signup_cohort_month = combinations.signup_cohort_month
),

user_day_combinations as (
    select
        user_intervals.activity_date,
        user_intervals.wau_end_date,
        user_intervals.mau_end_date,
        user_combinations.combination_id
    from user_intervals
    left join user_combinations on user_intervals.user_id = user_combinations.user_id
),

summed_changes as (
    {{ activity_count_changes('user_day_combinations', partition_by=['combination_id']) }}
),

-- A user-day of no known user has no combination: its dimension values are null ('unknown').
combination_changes as (
    select
        summed_changes.change_date,
        combinations.country,
        combinations.platform,
        combinations.acquisition_channel,
        combinations.signup_cohort_month,
        summed_changes.dau_change,
        summed_changes.wau_change,
        summed_changes.mau_change
    from summed_changes
    left join combinations on summed_changes.combination_id = combinations.combination_id
),

segment_changes as (
    {{ roll_up_to_segments(
        'combination_changes',
        keys=['change_date'],
        measures=['dau_change', 'wau_change', 'mau_change'],
        include_overall=false
    ) }}
),

-- A segment's earliest change is the +1 of its first active day. On a refresh, a segment with rows
-- already has a row on every date from its first one to the cutoff, though no user-day read may
-- be its own: its dates start at the window, or at its first row when that is later.
segment_first_dates as (
    select
        dimension_name,
        dimension_value,
        min(change_date) as first_activity_date
    from (
        select
            dimension_name,
            dimension_value,
            change_date
        from segment_changes
        {%- if window_start is not none %}
        union all
        select
            dimension_name,
            dimension_value,
            greatest(min(activity_date), cast('{{ window_start }}' as date)) as change_date
        from {{ this }}
        group by dimension_name, dimension_value
        {%- endif %}
    ) as segment_dates_known
    group by dimension_name, dimension_value
),

segment_dates as (
    select
        segment_first_dates.dimension_name,
        segment_first_dates.dimension_value,
        {{ add_days('segment_first_dates.first_activity_date', 'numbers.n') }} as activity_date
    from segment_first_dates
    cross join cutoff
    inner join numbers
        on numbers.n < {{ dbt.datediff('segment_first_dates.first_activity_date', 'cutoff.cutoff_date', 'day') }}
),

counted as (
    select
        segment_dates.dimension_name,
        segment_dates.dimension_value,
        segment_dates.activity_date,
        sum(coalesce(segment_changes.dau_change, 0)) over (
            partition by segment_dates.dimension_name, segment_dates.dimension_value
            order by segment_dates.activity_date rows unbounded preceding
        ) as dau,
        sum(coalesce(segment_changes.wau_change, 0)) over (
            partition by segment_dates.dimension_name, segment_dates.dimension_value
            order by segment_dates.activity_date rows unbounded preceding
        ) as wau,
        sum(coalesce(segment_changes.mau_change, 0)) over (
            partition by segment_dates.dimension_name, segment_dates.dimension_value
            order by segment_dates.activity_date rows unbounded preceding
        ) as mau
    from segment_dates
    left join segment_changes
        on segment_dates.dimension_name = segment_changes.dimension_name
            and segment_dates.dimension_value = segment_changes.dimension_value
            and segment_dates.activity_date = segment_changes.change_date
)

select
    dimension_name,
    dimension_value,
    activity_date,
    cast(dau as {{ dbt.type_bigint() }}) as dau,
    cast(wau as {{ dbt.type_bigint() }}) as wau,
    cast(mau as {{ dbt.type_bigint() }}) as mau
from counted
where {{ product_metrics.in_refresh_window('activity_date', window_start) }}
