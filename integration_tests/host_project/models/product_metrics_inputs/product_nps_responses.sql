-- product_metrics raw input `nps_responses`.
select
    id as response_id,
    account_id as user_id,
    answered_at as responded_at,
    score
from {{ source('app', 'nps_survey') }}
