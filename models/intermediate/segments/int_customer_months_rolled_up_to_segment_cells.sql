-- ARPA's inputs per month and cell (one combination of the four user dimensions), over the trailing
-- L months m-L+1..m (var product_metrics__ltv_lookback_months) as fct_ltv_cac_monthly sums them:
-- revenue_usd (refunds included) and active_customers (customer-months with a positive order), from
-- the customer's acquisition month on (int_customer_months_rolled_up_to_channels' rule). Each
-- customer-month counts in the L months from its own to L-1 later (up to the last month with data):
-- an equi-join on a few numbers, not a range join.
{#- `var is defined`: dbt 1.10 renders a model without var() once, to set up its unit tests. -#}
{% set lookback = var('product_metrics__ltv_lookback_months', 6) | int if var is defined else 6 %}

with

customer_months as (
    select * from {{ ref('int_orders_rolled_up_to_customer_months') }}
    where month_start >= acquisition_month
),

segmented_users as (
    select * from {{ ref('int_users_segmented') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

numbers as (
    {{ integer_series() }}
),

cell_months as (
    select
        customer_months.month_start,
        coalesce(segmented_users.country, 'unknown') as country,
        coalesce(segmented_users.platform, 'unknown') as platform,
        coalesce(segmented_users.acquisition_channel, 'unknown') as acquisition_channel,
        coalesce(segmented_users.signup_cohort_month, 'unknown') as signup_cohort_month,
        sum(customer_months.revenue_usd) as revenue_usd,
        sum(case when customer_months.is_active then 1 else 0 end) as active_customers
    from customer_months
    left join segmented_users on customer_months.user_id = segmented_users.user_id
    group by
        customer_months.month_start,
        coalesce(segmented_users.country, 'unknown'),
        coalesce(segmented_users.platform, 'unknown'),
        coalesce(segmented_users.acquisition_channel, 'unknown'),
        coalesce(segmented_users.signup_cohort_month, 'unknown')
),

trailing_months as (
    select
        {{ add_months('cell_months.month_start', 'numbers.n') }} as month_start,
        cell_months.country,
        cell_months.platform,
        cell_months.acquisition_channel,
        cell_months.signup_cohort_month,
        cell_months.revenue_usd,
        cell_months.active_customers
    from cell_months
    cross join cutoff
    inner join numbers
        on numbers.n < {{ lookback }}
            and {{ add_months('cell_months.month_start', 'numbers.n') }} <= cutoff.last_month_start
)

select
    month_start,
    country,
    platform,
    acquisition_channel,
    signup_cohort_month,
    cast(sum(revenue_usd) as {{ dbt.type_numeric() }}) as revenue_usd,
    cast(sum(active_customers) as {{ dbt.type_bigint() }}) as active_customers
from trailing_months
group by month_start, country, platform, acquisition_channel, signup_cohort_month
