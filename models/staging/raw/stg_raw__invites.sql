-- One row per accepted invite; invitee_user_id is null until someone joins.
with

checked as (
    select * from {{ ref('base_raw__invites') }}
),

accepted as (
    select
        invite_id,
        inviter_user_id,
        invitee_user_id,
        sent_at,
        sent_date
    from checked
    where rejection_reason is null
)

select * from accepted
