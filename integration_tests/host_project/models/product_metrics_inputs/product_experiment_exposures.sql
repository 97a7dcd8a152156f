-- product_metrics raw input `experiment_exposures`: who saw which arm of Acme's A/B tests.
select
    id as exposure_id,
    experiment_key as experiment_id,
    arm as variation,
    account_id as user_id,
    seen_at as exposed_at
from {{ source('app', 'ab_exposures') }}
