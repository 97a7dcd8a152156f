-- Every raw users row, typed, with the reason it is rejected (null = accepted).
{% set raw_users = product_metrics.raw_table('users') %}
{% set raw_column_names = ['user_id', 'signed_up_at', 'acquisition_channel', 'country', 'platform'] %}

with

source as (
    select * from {{ raw_users }}
),

-- The values as trimmed text for the reject rules, and the timestamp typed (raw_timestamp_columns).
as_text as (
    select
        coalesce(cast(user_id as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('user_id') }} as user_id,
        {{ product_metrics.raw_timestamp_columns(raw_users, 'signed_up_at') }},
        {{ raw_text('acquisition_channel') }} as acquisition_channel_text,
        {{ raw_text('country') }} as country,
        {{ raw_text('platform') }} as platform,
        {{ raw_columns(raw_column_names) }}
    from source
),

ranked as (
    {{ number_copies('as_text', 'user_id', 'signed_up_at', raw_record(raw_column_names, prefix='raw_')) }}
),

checked as (
    select
        *,
        case
            when user_id is null then 'missing_key'
            when copy_number > 1 then 'duplicate'
            when {{ failed_cast('signed_up_at_text', 'signed_up_at') }} then 'invalid_value'
            when signed_up_at is null then 'missing_timestamp'
        end as rejection_reason
    from ranked
)

select
    user_id,
    signed_up_at,
    {{ local_date('signed_up_at') }} as signup_date,
    -- Channels are compared across tables, so they are normalised once here.
    coalesce(lower(acquisition_channel_text), 'unknown') as acquisition_channel,
    country,
    platform,
    source_key,
    rejection_reason,
    case when rejection_reason is not null then {{ raw_record(raw_column_names, prefix='raw_') }} end as raw_record
from checked
