-- One row per customer and month with an order before the cutoff: revenue (refunds included)
-- and whether the customer was active (an order with a positive amount) that month.
with

orders as (
    select * from {{ ref('stg_raw__orders') }}
),

customers as (
    select * from {{ ref('int_customers_acquired') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

customer_orders as (
    select
        customers.user_id,
        customers.channel,
        customers.acquisition_month,
        {{ month_start('orders.order_date') }} as order_month,
        orders.amount_usd
    from orders
    inner join customers on orders.user_id = customers.user_id
    cross join cutoff
    where orders.order_date < cutoff.cutoff_date
)

select
    user_id,
    channel,
    acquisition_month,
    order_month as month_start,
    sum(amount_usd) as revenue_usd,
    max(case when amount_usd > 0 then 1 else 0 end) = 1 as is_active
from customer_orders
group by user_id, channel, acquisition_month, order_month
