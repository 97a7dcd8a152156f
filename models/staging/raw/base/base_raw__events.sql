-- Every raw events row, typed, with the reason it is rejected (null = accepted).
with

source as (
    select * from {{ product_metrics.raw_table('events') }}
),

users as (
    select
        user_id,
        signup_date
    from {{ ref('stg_raw__users') }}
),

as_text as (
    select
        coalesce(cast(event_id as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('event_id') }} as event_id,
        {{ raw_text('user_id') }} as user_id,
        {{ raw_text('occurred_at') }} as occurred_at_text,
        {{ raw_text('event_name') }} as event_name,
        {{ raw_record(['event_id', 'user_id', 'occurred_at', 'event_name']) }} as raw_record
    from source
),

typed as (
    select
        *,
        {{ try_cast_utc_timestamp('occurred_at_text') }} as occurred_at
    from as_text
),

ranked as (
    select
        *,
        {{ local_date('occurred_at') }} as event_date,
        {{ copy_number('event_id', 'occurred_at', 'raw_record') }} as copy_number
    from typed
),

checked as (
    select
        ranked.*,
        case
            when ranked.event_id is null then 'missing_key'
            when ranked.copy_number > 1 then 'duplicate'
            when {{ failed_cast('ranked.occurred_at_text', 'ranked.occurred_at') }} then 'invalid_value'
            when ranked.occurred_at is null then 'missing_timestamp'
            when users.user_id is null then 'unknown_user'
            when ranked.event_date < users.signup_date then 'before_signup'
        end as rejection_reason
    from ranked
    left join users on ranked.user_id = users.user_id
)

select
    event_id,
    user_id,
    occurred_at,
    event_date,
    event_name,
    source_key,
    rejection_reason,
    case when rejection_reason is not null then raw_record end as raw_record
from checked
