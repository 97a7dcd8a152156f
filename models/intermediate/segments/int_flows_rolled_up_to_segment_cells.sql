-- The additive flow metrics per week and month and cell (one combination of the four user
-- dimensions), records counted as in int_flows_rolled_up_to_segment_days (macro flow_records):
--   pm_signups        users by signup date (int_users_cohorted)
--   pm_new_customers  customers by the date of their first positive order (int_customers_acquired)
--   pm_revenue_usd    amount_usd of every valid order before the cutoff, refunds included
-- A record whose user is not a counted user is kept in 'unknown' of every dimension. Money stays
-- decimal so that sums over cells are exact.
with

users as (
    select * from {{ ref('int_users_cohorted') }}
),

segmented_users as (
    select * from {{ ref('int_users_segmented') }}
),

customers as (
    select * from {{ ref('int_customers_acquired') }}
),

orders as (
    select * from {{ ref('stg_raw__orders') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

user_records as (
    {{ flow_records('users', 'customers', 'orders', 'cutoff', metric_names={
        'signups': 'pm_signups',
        'new_customers': 'pm_new_customers',
        'revenue_usd': 'pm_revenue_usd',
    }) }}
),

record_periods as (
    {{ expand_to_periods('user_records', 'user_records.metric_date', grains=['week', 'month']) }}
)

select
    record_periods.metric_name,
    record_periods.period_grain,
    record_periods.period_start,
    record_periods.period_end,
    coalesce(segmented_users.country, 'unknown') as country,
    coalesce(segmented_users.platform, 'unknown') as platform,
    coalesce(segmented_users.acquisition_channel, 'unknown') as acquisition_channel,
    coalesce(segmented_users.signup_cohort_month, 'unknown') as signup_cohort_month,
    -- A fixed decimal type, whatever the engine makes of sums (PostgreSQL's numeric has no scale).
    cast(sum(record_periods.amount) as {{ dbt.type_numeric() }}) as amount
from record_periods
left join segmented_users on record_periods.user_id = segmented_users.user_id
group by
    record_periods.metric_name,
    record_periods.period_grain,
    record_periods.period_start,
    record_periods.period_end,
    coalesce(segmented_users.country, 'unknown'),
    coalesce(segmented_users.platform, 'unknown'),
    coalesce(segmented_users.acquisition_channel, 'unknown'),
    coalesce(segmented_users.signup_cohort_month, 'unknown')
