-- product_metrics raw input `orders`: Acme's purchases, refunds negative.
select
    purchase_id as order_id,
    account_id as user_id,
    purchased_at as ordered_at,
    total_usd as amount_usd
from {{ source('app', 'purchases') }}
