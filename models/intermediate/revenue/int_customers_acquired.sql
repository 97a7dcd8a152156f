-- One row per customer: a user becomes a customer on the date of their first order with a
-- positive amount before the cutoff; they belong to their user's acquisition channel (first touch).
with

orders as (
    select * from {{ ref('stg_raw__orders') }}
),

users as (
    select * from {{ ref('int_users_cohorted') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

first_positive_orders as (
    select
        orders.user_id,
        min(orders.order_date) as acquired_date
    from orders
    cross join cutoff
    where orders.amount_usd > 0 and orders.order_date < cutoff.cutoff_date
    group by orders.user_id
)

select
    first_positive_orders.user_id,
    first_positive_orders.acquired_date,
    {{ month_start('first_positive_orders.acquired_date') }} as acquisition_month,
    users.acquisition_channel as channel
from first_positive_orders
inner join users on first_positive_orders.user_id = users.user_id
