-- Viral coefficient per signup-month cohort (definitions: metric_k_factor and its input metrics' blocks).
-- An invitee converts at most once: the invites are ranked per invitee by (sent_at, invite_id) before
-- counting, so two inviters of the same person do not both count a conversion.
{#- `var is defined`: dbt 1.10 renders a model without var() once, to set up its unit tests. -#}
{% set window_days = var('product_metrics__invite_window_days', 30) | int if var is defined else 30 %}
{% set conversion_days = var('product_metrics__invite_conversion_days', 14) | int if var is defined else 14 %}

with

users as (
    select * from {{ ref('int_users_cohorted') }}
),

invites as (
    select * from {{ ref('stg_raw__invites') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

counted_invites as (
    select
        invites.invite_id,
        invites.invitee_user_id,
        invites.sent_at,
        inviters.user_id as inviter_user_id,
        inviters.signed_up_at as inviter_signed_up_at,
        inviters.cohort_month
    from invites
    inner join users as inviters on invites.inviter_user_id = inviters.user_id
    cross join cutoff
    where
        invites.sent_date < cutoff.cutoff_date
        and invites.sent_at >= inviters.signed_up_at
        and invites.sent_at <= {{ add_days_to_timestamp('inviters.signed_up_at', window_days) }}
),

-- Invites whose invitee signed up (before the cutoff: `users` holds only those) in time.
conversion_candidates as (
    select
        counted_invites.invite_id,
        counted_invites.cohort_month,
        {{ days_between('counted_invites.inviter_signed_up_at', 'invitees.signed_up_at') }} as cycle_time_days,
        row_number() over (
            partition by counted_invites.invitee_user_id
            order by counted_invites.sent_at asc, {{ natural_id_order('counted_invites.invite_id') }}
        ) as conversion_rank
    from counted_invites
    inner join users as invitees on counted_invites.invitee_user_id = invitees.user_id
    where
        invitees.signed_up_at >= counted_invites.sent_at
        and invitees.signed_up_at <= {{ add_days_to_timestamp('counted_invites.sent_at', conversion_days) }}
),

conversions as (
    select
        cohort_month,
        cycle_time_days
    from conversion_candidates
    where conversion_rank = 1
),

cohorts as (
    select
        cohort_month,
        count(*) as cohort_users
    from users
    group by cohort_month
),

invite_counts as (
    select
        cohort_month,
        count(distinct inviter_user_id) as inviting_users,
        count(*) as invites_sent
    from counted_invites
    group by cohort_month
),

conversion_counts as (
    select
        cohort_month,
        count(*) as invites_converted,
        {{ median('cycle_time_days') }} as median_cycle_time_days
    from conversions
    group by cohort_month
),

combined as (
    select
        cohorts.cohort_month,
        cohorts.cohort_users,
        coalesce(invite_counts.inviting_users, 0) as inviting_users,
        coalesce(invite_counts.invites_sent, 0) as invites_sent,
        coalesce(conversion_counts.invites_converted, 0) as invites_converted,
        conversion_counts.median_cycle_time_days,
        -- Complete once every counted invite of the cohort has had its full conversion window.
        {{ add_days(add_months('cohorts.cohort_month', 1), window_days + conversion_days) }} <= cutoff.cutoff_date as is_complete
    from cohorts
    cross join cutoff
    left join invite_counts on cohorts.cohort_month = invite_counts.cohort_month
    left join conversion_counts on cohorts.cohort_month = conversion_counts.cohort_month
)

select
    cohort_month,
    cast(cohort_users as {{ dbt.type_bigint() }}) as cohort_users,
    cast(inviting_users as {{ dbt.type_bigint() }}) as inviting_users,
    cast(invites_sent as {{ dbt.type_bigint() }}) as invites_sent,
    cast(invites_converted as {{ dbt.type_bigint() }}) as invites_converted,
    {{ safe_divide('invites_sent', 'cohort_users') }} as invites_per_user,
    {{ safe_divide('invites_converted', 'invites_sent') }} as invite_conversion_rate,
    {{ safe_divide('invites_converted', 'cohort_users') }} as k_factor,
    cast(median_cycle_time_days as {{ product_metrics.type_double() }}) as median_cycle_time_days,
    is_complete
from combined
