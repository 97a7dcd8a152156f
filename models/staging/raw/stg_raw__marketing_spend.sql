-- One row per accepted day, channel and campaign of marketing spend.
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
