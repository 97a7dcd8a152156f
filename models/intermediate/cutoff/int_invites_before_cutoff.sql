-- One row per accepted invite sent before the cutoff (all of them: K-factor counts only those
-- sent within the invite window of the inviter's signup, in fct_k_factor_monthly).
with

invites as (
    select * from {{ ref('stg_raw__invites') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
)

select
    invites.invite_id,
    invites.inviter_user_id,
    invites.invitee_user_id,
    invites.sent_at,
    invites.sent_date,
    invites.invitee_user_id is not null as has_invitee
from invites
inner join cutoff on invites.sent_date < cutoff.cutoff_date
