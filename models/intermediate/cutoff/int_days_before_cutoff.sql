-- The MetricFlow time spine: one row per day from the start of the week holding the first month
-- with data (so every day, week and month a metric is keyed on is covered) to the day before the
-- cutoff. It ends at the cutoff so that cumulative metrics never run past the data.
with

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

numbers as (
    {{ integer_series() }}
),

users as (
    select * from {{ ref('int_users_cohorted') }}
),

spend as (
    select * from {{ ref('int_spend_rolled_up_to_channel_months') }}
),

orders as (
    select * from {{ ref('int_orders_before_cutoff') }}
),

responses as (
    select * from {{ ref('int_nps_responses_before_cutoff') }}
),

invites as (
    select * from {{ ref('int_invites_before_cutoff') }}
),

suggestions as (
    select * from {{ ref('int_ai_suggestions_before_cutoff') }}
),

-- Events, user-days and customers all belong to accepted users, so signups bound them.
first_dates as (
    select min(signup_date) as first_date from users
    union all
    select min(month_start) as first_date from spend
    union all
    select min(order_date) as first_date from orders
    union all
    select min(response_date) as first_date from responses
    union all
    select min(sent_date) as first_date from invites
    union all
    select min(created_date) as first_date from suggestions
),

bounds as (
    select
        {{ week_start(month_start('min(first_dates.first_date)')) }} as first_date,
        max(cutoff.cutoff_date) as cutoff_date
    from first_dates
    cross join cutoff
)

select {{ add_days('bounds.first_date', 'numbers.n') }} as date_day
from bounds
inner join numbers
    on numbers.n < {{ dbt.datediff('bounds.first_date', 'bounds.cutoff_date', 'day') }}
