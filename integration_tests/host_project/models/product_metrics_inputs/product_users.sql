-- product_metrics raw input `users`, from Acme's accounts.
select
    account_id as user_id,
    created_at as signed_up_at,
    utm_channel as acquisition_channel,
    country_code as country,
    device as platform
from {{ source('app', 'accounts') }}
