-- One row per user who signed up before the cutoff, with the signup cohorts they belong to.
with

users as (
    select * from {{ ref('stg_raw__users') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

cohorted as (
    select
        users.user_id,
        users.signed_up_at,
        users.signup_date,
        {{ week_start('users.signup_date') }} as cohort_week,
        {{ month_start('users.signup_date') }} as cohort_month,
        users.acquisition_channel,
        users.country,
        users.platform
    from users
    cross join cutoff
    where users.signup_date < cutoff.cutoff_date
)

select * from cohorted
