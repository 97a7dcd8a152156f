-- Every raw orders row, typed, with the reason it is rejected (null = accepted).
with

source as (
    select * from {{ product_metrics.raw_table('orders') }}
),

users as (
    select user_id from {{ ref('stg_raw__users') }}
),

as_text as (
    select
        coalesce(cast(order_id as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('order_id') }} as order_id,
        {{ raw_text('user_id') }} as user_id,
        {{ raw_text('ordered_at') }} as ordered_at_text,
        {{ raw_text('amount_usd') }} as amount_usd_text,
        {{ raw_record(['order_id', 'user_id', 'ordered_at', 'amount_usd']) }} as raw_record
    from source
),

typed as (
    select
        *,
        {{ try_cast_utc_timestamp('ordered_at_text') }} as ordered_at,
        {{ product_metrics.try_cast('amount_usd_text', dbt.type_numeric()) }} as amount_usd
    from as_text
),

ranked as (
    select
        *,
        {{ copy_number('order_id', 'ordered_at', 'raw_record') }} as copy_number
    from typed
),

checked as (
    select
        ranked.*,
        case
            when ranked.order_id is null then 'missing_key'
            when ranked.copy_number > 1 then 'duplicate'
            when {{ failed_cast('ranked.ordered_at_text', 'ranked.ordered_at') }}
                or {{ failed_cast('ranked.amount_usd_text', 'ranked.amount_usd') }} then 'invalid_value'
            when ranked.ordered_at is null then 'missing_timestamp'
            when users.user_id is null then 'unknown_user'
            -- A negative amount is a refund and is kept; only a missing amount is unusable.
            when ranked.amount_usd is null then 'invalid_amount'
        end as rejection_reason
    from ranked
    left join users on ranked.user_id = users.user_id
)

select
    order_id,
    user_id,
    ordered_at,
    {{ local_date('ordered_at') }} as order_date,
    amount_usd,
    source_key,
    rejection_reason,
    case when rejection_reason is not null then raw_record end as raw_record
from checked
