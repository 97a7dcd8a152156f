select
    accounts.account_id as customer_id,
    accounts.created_at as first_seen_at,
    count(orders.order_id) as number_of_orders,
    coalesce(sum(orders.order_total), 0) as lifetime_spend
from {{ source('app', 'accounts') }} as accounts
left join {{ ref('orders') }} as orders on accounts.account_id = orders.customer_id
group by accounts.account_id, accounts.created_at
