-- product_metrics raw input `invites`.
select
    id as invite_id,
    sender_account_id as inviter_user_id,
    joined_account_id as invitee_user_id,
    sent_at
from {{ source('app', 'referrals') }}
