-- One row per user with an active day before the cutoff: the date of their last one, which says
-- up to which period a cohort member counts as retained or after (fct_cohort_retention).
-- Incremental: a user's last active date moves forward only, to a day in the refresh
-- window. A refresh re-derives the users active in its window, and the users whose kept date lies
-- in it but who have no day there any more (a cutoff moved back): their last date before it.
-- Config refresh_window_unique_key replaces a re-derived user's earlier row too.
{{ config(**product_metrics.refresh_window_config(
    'last_activity_date',
    refresh_window_unique_key='user_id',
)) }}
-- depends_on: {{ ref('int_reporting_cutoff') }} (the window's cap, read by refresh_window_start)
{% set window_start = product_metrics.refresh_window_start() %}

with

user_days as (
    select * from {{ ref('int_events_rolled_up_to_user_days') }}
),

last_days_in_window as (
    select
        user_id,
        max(activity_date) as last_activity_date
    from user_days
    where {{ product_metrics.in_refresh_window('activity_date', window_start) }}
    group by user_id
)

{%- if window_start is not none %},

-- Usually none: kept users whose last day in the window is gone.
users_without_days_in_window as (
    select kept.user_id
    from {{ this }} as kept
    where
        {{ product_metrics.in_refresh_window('kept.last_activity_date', window_start) }}
        and kept.user_id not in (select last_days_in_window.user_id from last_days_in_window)
),

last_days_before_window as (
    select
        user_days.user_id,
        max(user_days.activity_date) as last_activity_date
    from user_days
    inner join users_without_days_in_window on user_days.user_id = users_without_days_in_window.user_id
    group by user_days.user_id
)
{%- endif %}

select
    user_id,
    last_activity_date
from last_days_in_window
{%- if window_start is not none %}
union all
select
    user_id,
    last_activity_date
from last_days_before_window
{%- endif %}
