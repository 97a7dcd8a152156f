-- One row per user who signed up before the cutoff: whether, and how many hours after signing up,
-- they first did the activation event (var product_metrics__activation_event_name) within N days
-- of signup (var product_metrics__activation_window_days; an event exactly N days later counts).
-- The one definition of activation: fct_activation_weekly, fct_aarrr_monthly and the semantic
-- layer all count these rows.
-- Incremental: a user's row depends only on their events in the N days after signup, so
-- a refresh re-derives the users who signed up at most N + 2 days (a DST hour, a time-zone day)
-- before its window, and keeps the others. The window comes from the newest activation kept (an
-- event date, never later than the events it was derived from); a cutoff moved back re-derives
-- from there. Old users loaded or changed late are caught by the test
-- assert_activation_has_each_cohorted_user (then: refresh --full-refresh).
{% set activation_event = var('product_metrics__activation_event_name', 'core_action') %}
{#- `var is defined`: dbt 1.10 renders a model without var() once, to set up its unit tests. -#}
{% set window_days = var('product_metrics__activation_window_days', 7) | int if var is defined else 7 %}
{{ config(**product_metrics.refresh_window_config(
    'signup_date',
    refresh_window_state='cast(activated_at as date)',
    refresh_window_reach_days=window_days + 2,
)) }}
{% set window_start = product_metrics.refresh_window_start() %}

with

users as (
    select * from {{ ref('int_users_cohorted') }}
    where {{ product_metrics.in_refresh_window('signup_date', window_start) }}
),

-- Staging rejects events dated before their user's signup date: none of these users' events is
-- dated before the window.
events as (
    select * from {{ ref('stg_raw__events') }}
    where {{ product_metrics.in_refresh_window('event_date', window_start) }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

first_activations as (
    select
        users.user_id,
        min(events.occurred_at) as activated_at
    from users
    inner join events on users.user_id = events.user_id
    cross join cutoff
    where
        events.event_name = '{{ activation_event }}'
        and events.event_date < cutoff.cutoff_date
        -- Staging rejects events dated before the signup date; earlier the same day is not onboarding either.
        and events.occurred_at >= users.signed_up_at
        and events.occurred_at <= {{ dbt.dateadd('day', window_days, 'users.signed_up_at') }}
    group by users.user_id
)

select
    users.user_id,
    users.signed_up_at,
    users.signup_date,
    users.cohort_week,
    users.cohort_month,
    first_activations.activated_at,
    first_activations.activated_at is not null as is_activated,
    cast(
        {{ product_metrics.hours_between('users.signed_up_at', 'first_activations.activated_at') }}
        as {{ product_metrics.type_double() }}
    ) as hours_to_activate
from users
left join first_activations on users.user_id = first_activations.user_id
