-- One row per user with their value of each user dimension the long metric table is cut by, as text.
-- A missing country or platform is 'unknown', as a missing acquisition channel already is; the signup
-- cohort month is its first day in ISO form ('2026-01-01'), which sorts as text.
with

users as (
    select * from {{ ref('int_users_cohorted') }}
)

select
    user_id,
    coalesce(country, 'unknown') as country,
    coalesce(platform, 'unknown') as platform,
    acquisition_channel,
    cast(cohort_month as {{ dbt.type_string() }}) as signup_cohort_month
from users
