select
    purchase_id as order_id,
    account_id as customer_id,
    purchased_at as ordered_at,
    total_usd as order_total
from {{ source('app', 'purchases') }}
