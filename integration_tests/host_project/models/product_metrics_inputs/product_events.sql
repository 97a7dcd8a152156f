-- product_metrics raw input `events`.
select
    id as event_id,
    account_id as user_id,
    happened_at as occurred_at,
    name as event_name
from {{ source('app', 'app_events') }}
