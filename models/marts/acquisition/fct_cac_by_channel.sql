-- CAC per month and channel (definitions: metric_cac_usd and the column docs in _acquisition__models.yml).
-- Spend and new customers are stacked (union all) and summed per channel month, so a month with spend
-- and no new customers (CAC null), or new customers and no spend, still has its row.
with

spend as (
    select * from {{ ref('int_spend_rolled_up_to_channel_months') }}
),

customers as (
    select * from {{ ref('int_customers_acquired') }}
),

new_customers as (
    select
        acquisition_month as month_start,
        channel,
        count(*) as new_customers
    from customers
    group by acquisition_month, channel
),

paid_channels as (
    select distinct channel from spend
),

channel_months as (
    select
        month_start,
        channel,
        spend_usd,
        0 as new_customers
    from spend
    union all
    select
        month_start,
        channel,
        0 as spend_usd,
        new_customers
    from new_customers
),

combined as (
    select
        month_start,
        channel,
        sum(spend_usd) as spend_usd,
        sum(new_customers) as new_customers
    from channel_months
    group by month_start, channel
)

select
    combined.month_start,
    combined.channel,
    -- Money stays decimal so that sums over channels are exact (double sums depend on order).
    -- The contract's scale: PostgreSQL numeric otherwise keeps each value's own (300 vs 300.000000).
    cast(combined.spend_usd as {{ dbt.type_numeric() }}) as spend_usd,
    cast(combined.new_customers as {{ dbt.type_bigint() }}) as new_customers,
    {{ safe_divide('combined.spend_usd', 'combined.new_customers') }} as cac_usd,
    paid_channels.channel is not null as is_paid_channel
from combined
left join paid_channels on combined.channel = paid_channels.channel
