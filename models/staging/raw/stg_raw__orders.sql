-- One row per accepted order; a negative amount is a refund.
with

checked as (
    select * from {{ ref('base_raw__orders') }}
),

accepted as (
    select
        order_id,
        user_id,
        ordered_at,
        order_date,
        amount_usd
    from checked
    where rejection_reason is null
)

select * from accepted
