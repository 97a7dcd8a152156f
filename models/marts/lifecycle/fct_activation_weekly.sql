-- Activation per signup week (Monday start): the share of signups who did the activation event
-- within N days of signing up (int_users_activated holds the per-user definition).
{#- `var is defined`: dbt 1.10 renders a model without var() once, to set up its unit tests. -#}
{% set window_days = var('product_metrics__activation_window_days', 7) | int if var is defined else 7 %}

with

users as (
    select * from {{ ref('int_users_activated') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

signup_weeks as (
    select
        cohort_week as signup_week,
        count(*) as signups,
        sum(case when is_activated then 1 else 0 end) as activated_users,
        {{ median('hours_to_activate') }} as median_time_to_activate_hours
    from users
    group by cohort_week
)

select
    signup_weeks.signup_week,
    cast(signup_weeks.signups as {{ dbt.type_bigint() }}) as signups,
    cast(signup_weeks.activated_users as {{ dbt.type_bigint() }}) as activated_users,
    {{ safe_divide('signup_weeks.activated_users', 'signup_weeks.signups') }} as activation_rate,
    cast(signup_weeks.median_time_to_activate_hours as {{ product_metrics.type_double() }})
        as median_time_to_activate_hours,
    -- Complete once the week's last signup has had its full window before the cutoff.
    {{ add_days('signup_weeks.signup_week', 7 + window_days) }} <= cutoff.cutoff_date as is_complete
from signup_weeks
cross join cutoff
