-- One row per accepted raw marketing_spend row. The table has no key: rows for the same day,
-- channel and campaign are all kept, and every model that reads spend sums them.
with

checked as (
    select * from {{ ref('base_raw__marketing_spend') }}
),

accepted as (
    select
        spend_date,
        channel,
        campaign,
        spend_usd
    from checked
    where rejection_reason is null
)

select * from accepted
