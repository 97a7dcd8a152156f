-- The AARRR funnel, one row per month from the first signup month to the cutoff's month. Every
-- column is read from the table that defines its metric, never computed a second time:
--   acquisition  signups            int_flows_rolled_up_to_segment_days (signups, overall, by month)
--   activation   activation_rate    int_users_activated by signup month (as fct_activation_weekly)
--   retention    month_1_retention  fct_cohort_retention (month cohorts, period 1)
--   referral     k_factor           fct_k_factor_monthly
--   revenue      new_customers      fct_cac_monthly; revenue_usd int_flows_rolled_up_to_segment_days
--                                   (revenue_usd, overall, by month)
-- Activation, retention and referral are properties of the month's signup cohort.
{#- `var is defined`: dbt 1.10 renders a model without var() once, to set up its unit tests. -#}
{% set activation_window_days = var('product_metrics__activation_window_days', 7) | int if var is defined else 7 %}

with

daily_flows as (
    select * from {{ ref('int_flows_rolled_up_to_segment_days') }}
),

activated_users as (
    select * from {{ ref('int_users_activated') }}
),

retention as (
    select * from {{ ref('fct_cohort_retention') }}
),

k_factor as (
    select * from {{ ref('fct_k_factor_monthly') }}
),

cac as (
    select * from {{ ref('fct_cac_monthly') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

numbers as (
    {{ integer_series() }}
),

months as (
    select {{ add_months('first_month.first_month_start', 'numbers.n') }} as month_start
    from (select min(cohort_month) as first_month_start from activated_users) as first_month
    cross join cutoff
    inner join numbers
        on {{ add_months('first_month.first_month_start', 'numbers.n') }} <= cutoff.last_month_start
),

overall_monthly_values as (
    select
        {{ month_start('metric_date') }} as month_start,
        sum(case when metric_name = 'signups' then amount end) as signups,
        sum(case when metric_name = 'revenue_usd' then amount end) as revenue_usd
    from daily_flows
    where
        dimension_name = 'overall'
        and metric_name in ('signups', 'revenue_usd')
    group by {{ month_start('metric_date') }}
),

activation as (
    select
        cohort_month as month_start,
        count(*) as signups,
        sum(case when is_activated then 1 else 0 end) as activated_users
    from activated_users
    group by cohort_month
),

month_1_retention as (
    select
        cohort_start as month_start,
        retention_rate,
        is_complete
    from retention
    where cohort_granularity = 'month' and period_number = 1
)

select
    months.month_start,
    cast(coalesce(overall_monthly_values.signups, 0) as {{ dbt.type_bigint() }}) as signups,
    {{ safe_divide('activation.activated_users', 'activation.signups') }} as activation_rate,
    {{ add_days(add_months('months.month_start', 1), activation_window_days) }} <= cutoff.cutoff_date
        as is_activation_complete,
    month_1_retention.retention_rate as month_1_retention_rate,
    coalesce(month_1_retention.is_complete, false) as is_month_1_retention_complete,
    k_factor.k_factor,
    coalesce(k_factor.is_complete, false) as is_k_factor_complete,
    cast(coalesce(cac.new_customers, 0) as {{ dbt.type_bigint() }}) as new_customers,
    cast(coalesce(overall_monthly_values.revenue_usd, 0) as {{ product_metrics.type_double() }}) as revenue_usd,
    {{ add_months('months.month_start', 1) }} <= cutoff.cutoff_date as is_complete
from months
cross join cutoff
left join overall_monthly_values on months.month_start = overall_monthly_values.month_start
left join activation on months.month_start = activation.month_start
left join month_1_retention on months.month_start = month_1_retention.month_start
left join k_factor on months.month_start = k_factor.cohort_month
left join cac on months.month_start = cac.month_start
