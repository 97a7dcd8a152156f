-- Every raw users row, typed, with the reason it is rejected (null = accepted).
with

source as (
    select * from {{ product_metrics.raw_table('users') }}
),

as_text as (
    select
        coalesce(cast(user_id as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('user_id') }} as user_id,
        {{ raw_text('signed_up_at') }} as signed_up_at_text,
        {{ raw_text('acquisition_channel') }} as acquisition_channel_text,
        {{ raw_text('country') }} as country,
        {{ raw_text('platform') }} as platform,
        {{ raw_record(['user_id', 'signed_up_at', 'acquisition_channel', 'country', 'platform']) }} as raw_record
    from source
),

typed as (
    select
        *,
        {{ try_cast_utc_timestamp('signed_up_at_text') }} as signed_up_at
    from as_text
),

ranked as (
    select
        *,
        {{ copy_number('user_id', 'signed_up_at', 'raw_record') }} as copy_number
    from typed
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
    case when rejection_reason is not null then raw_record end as raw_record
from checked
