-- One row per month and channel with positive marketing spend before the cutoff.
with

spend as (
    select * from {{ ref('stg_raw__marketing_spend') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

spend_before_cutoff as (
    select
        {{ month_start('spend.spend_date') }} as month_start,
        spend.channel,
        spend.spend_usd
    from spend
    cross join cutoff
    where spend.spend_date < cutoff.cutoff_date
)

select
    month_start,
    channel,
    sum(spend_usd) as spend_usd
from spend_before_cutoff
group by month_start, channel
having sum(spend_usd) > 0
