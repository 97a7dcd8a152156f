-- One row per cohorted user: whether they were active in period 1 of their week cohort
-- ([cohort week + 7 days, + 14 days)) and of their month cohort (the calendar month after it), as
-- in fct_cohort_retention. int_retention_rolled_up_to_segment_cohorts counts them per segment.
-- Incremental (issue 6): only an active day in a user's period 1 changes their row, and period 1
-- ends with period_one_end_date (month 1's last day, after week 1's). A refresh re-derives the
-- users whose period 1 ends in its window, and every user whose cohort is not the kept one (a new
-- user, a signup date changed by a late copy), from all their period-1 days. The window comes
-- from the newest period-1 day kept (never later than the user-days it was derived from).
{{ config(
    materialized=product_metrics.refresh_materialization(),
    incremental_strategy='replace_window',
    refresh_window_column='period_one_end_date',
    refresh_window_state='last_activity_date',
    refresh_window_unique_key='user_id',
    refresh_window_capped_at_cutoff=true,
    on_schema_change='fail',
) }}
-- depends_on: {{ ref('int_reporting_cutoff') }} (the window's cap, read by refresh_window_start)
{% set window_start = product_metrics.refresh_window_start() %}

with

users as (
    select
        user_id,
        cohort_week,
        cohort_month,
        {{ add_days(add_months('cohort_month', 2), -1) }} as period_one_end_date
    from {{ ref('int_users_cohorted') }}
),

users_to_derive as (
    select users.*
    from users
    {%- if window_start is not none %}
    left join {{ this }} as kept on users.user_id = kept.user_id
    where
        {{ product_metrics.in_refresh_window('users.period_one_end_date', window_start) }}
        or kept.user_id is null
        or kept.cohort_week <> users.cohort_week
        or kept.cohort_month <> users.cohort_month
    {%- endif %}
),

user_days as (
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
),

-- The active days in either period 1 (the days between week 1 and month 1 count for neither).
period_one_days as (
    select
        users_to_derive.user_id,
        user_days.activity_date,
        case
            when
                user_days.activity_date >= {{ add_days('users_to_derive.cohort_week', 7) }}
                and user_days.activity_date < {{ add_days('users_to_derive.cohort_week', 14) }}
                then 1
            else 0
        end as is_in_week_1,
        case
            when
                user_days.activity_date >= {{ add_months('users_to_derive.cohort_month', 1) }}
                and user_days.activity_date <= users_to_derive.period_one_end_date
                then 1
            else 0
        end as is_in_month_1
    from user_days
    inner join users_to_derive on user_days.user_id = users_to_derive.user_id
    where user_days.activity_date <= users_to_derive.period_one_end_date
),

active_in_period_one as (
    select
        user_id,
        max(is_in_week_1) as is_retained_week_1,
        max(is_in_month_1) as is_retained_month_1,
        max(activity_date) as last_activity_date
    from period_one_days
    where is_in_week_1 = 1 or is_in_month_1 = 1
    group by user_id
)

select
    users_to_derive.user_id,
    users_to_derive.cohort_week,
    users_to_derive.cohort_month,
    users_to_derive.period_one_end_date,
    cast(coalesce(active_in_period_one.is_retained_week_1, 0) as {{ dbt.type_int() }}) as is_retained_week_1,
    cast(coalesce(active_in_period_one.is_retained_month_1, 0) as {{ dbt.type_int() }}) as is_retained_month_1,
    active_in_period_one.last_activity_date
from users_to_derive
left join active_in_period_one on users_to_derive.user_id = active_in_period_one.user_id
