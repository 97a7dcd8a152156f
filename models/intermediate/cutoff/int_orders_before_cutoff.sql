-- One row per accepted order before the cutoff, refunds included: the semantic layer's revenue.
with

orders as (
    select * from {{ ref('stg_raw__orders') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
)

select
    orders.order_id,
    orders.user_id,
    orders.ordered_at,
    orders.order_date,
    orders.amount_usd,
    orders.amount_usd < 0 as is_refund
from orders
inner join cutoff on orders.order_date < cutoff.cutoff_date
