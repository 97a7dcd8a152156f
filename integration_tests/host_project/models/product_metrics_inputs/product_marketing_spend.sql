-- product_metrics raw input `marketing_spend`.
select
    day as spend_date,
    channel,
    campaign,
    cost_usd as spend_usd
from {{ source('app', 'ad_spend') }}
