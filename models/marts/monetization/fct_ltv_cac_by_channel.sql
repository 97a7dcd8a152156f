-- LTV, CAC and their ratio per month and acquisition channel, over the trailing L months.
with

channel_months as (
    select * from {{ ref('int_customer_months_rolled_up_to_channels') }}
),

ltv_cac as (
    {{ ltv_cac_trailing('channel_months', partition_columns=['channel']) }}
)

select * from ltv_cac
