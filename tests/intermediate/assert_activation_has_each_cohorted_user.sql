-- int_users_activated has one row per user of int_users_cohorted, with the same signup. A refresh
-- keeps the activation of users who signed up before its window, so an old user loaded late, or an
-- old user's signup changed, would otherwise differ from a full rebuild without a word.
-- Returns the users that differ. Fix: product-metrics refresh --full-refresh.
with

cohorted as (
    select
        user_id,
        signed_up_at,
        signup_date
    from {{ ref('int_users_cohorted') }}
),

activated as (
    select
        user_id,
        signed_up_at,
        signup_date
    from {{ ref('int_users_activated') }}
)

select
    coalesce(cohorted.user_id, activated.user_id) as user_id,
    cohorted.signed_up_at as cohorted_signed_up_at,
    activated.signed_up_at as activated_signed_up_at
from cohorted
full outer join activated
    on
        cohorted.user_id = activated.user_id
        and cohorted.signed_up_at = activated.signed_up_at
        and cohorted.signup_date = activated.signup_date
where cohorted.user_id is null or activated.user_id is null
