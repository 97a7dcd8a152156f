-- One row per user who signed up before the cutoff: whether, and how many hours after signing up,
-- they first did the activation event (var product_metrics__activation_event_name) within N days
-- of signup (var product_metrics__activation_window_days; an event exactly N days later counts).
-- The one definition of activation: fct_activation_weekly, fct_aarrr_monthly and the semantic
-- layer all count these rows.
{% set activation_event = var('product_metrics__activation_event_name', 'core_action') %}
{% set window_days = var('product_metrics__activation_window_days', 7) | int %}

with

users as (
    select * from {{ ref('int_users_cohorted') }}
),

events as (
    select * from {{ ref('stg_raw__events') }}
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
