-- LTV, CAC and their ratio per month over all channels, over the trailing L months.
-- Every customer has exactly one channel, so the monthly inputs are the channels' sums.
with

channel_months as (
    select * from {{ ref('int_customer_months_rolled_up_to_channels') }}
),

months as (
    select
        month_start,
        sum(active_customers) as active_customers,
        sum(churn_base_customers) as churn_base_customers,
        sum(churned_customers) as churned_customers,
        sum(revenue_usd) as revenue_usd,
        sum(new_customers) as new_customers,
        sum(spend_usd) as spend_usd
    from channel_months
    group by month_start
),

ltv_cac as (
    {{ ltv_cac_trailing('months') }}
)

select * from ltv_cac
