-- Every raw invites row, typed, with the reason it is rejected (null = accepted).
{% set raw_invites = product_metrics.raw_table('invites') %}
{% set raw_column_names = ['invite_id', 'inviter_user_id', 'invitee_user_id', 'sent_at'] %}

with

source as (
    select * from {{ raw_invites }}
),

users as (
    select user_id from {{ ref('stg_raw__users') }}
),

-- The values as trimmed text for the reject rules, and the timestamp typed (raw_timestamp_columns).
as_text as (
    select
        coalesce(cast(invite_id as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('invite_id') }} as invite_id,
        {{ raw_text('inviter_user_id') }} as inviter_user_id,
        {{ raw_text('invitee_user_id') }} as invitee_user_id,
        {{ product_metrics.raw_timestamp_columns(raw_invites, 'sent_at') }},
        {{ raw_columns(raw_column_names) }}
    from source
),

ranked as (
    {{ number_copies('as_text', 'invite_id', 'sent_at', raw_record(raw_column_names, prefix='raw_')) }}
),

checked as (
    select
        ranked.*,
        case
            when ranked.invite_id is null then 'missing_key'
            when ranked.copy_number > 1 then 'duplicate'
            when {{ failed_cast('ranked.sent_at_text', 'ranked.sent_at') }} then 'invalid_value'
            when ranked.sent_at is null then 'missing_timestamp'
            -- The inviter must be known; the invitee is null until someone joins.
            when inviters.user_id is null then 'unknown_user'
            when ranked.invitee_user_id is not null and invitees.user_id is null then 'unknown_user'
            when ranked.inviter_user_id = ranked.invitee_user_id then 'self_invite'
        end as rejection_reason
    from ranked
    left join users as inviters on ranked.inviter_user_id = inviters.user_id
    left join users as invitees on ranked.invitee_user_id = invitees.user_id
)

select
    invite_id,
    inviter_user_id,
    invitee_user_id,
    sent_at,
    {{ local_date('sent_at') }} as sent_date,
    source_key,
    rejection_reason,
    case when rejection_reason is not null then {{ raw_record(raw_column_names, prefix='raw_') }} end as raw_record
from checked
