-- Every raw orders row, typed, with the reason it is rejected (null = accepted).
-- Incremental: a refresh re-derives the rows dated in its window (macros/incremental).
{{ config(**product_metrics.refresh_window_config('order_date', capped_at_cutoff=false)) }}
{% set window_start = product_metrics.refresh_window_start() %}
{% set raw_orders = product_metrics.raw_table('orders') %}
{% set raw_column_names = ['order_id', 'user_id', 'ordered_at', 'amount_usd'] %}

with

source as (
    select * from {{ raw_orders }}
    where {{ product_metrics.raw_rows_near_refresh_window(raw_orders, 'ordered_at', window_start) }}
),

users as (
    select user_id from {{ ref('stg_raw__users') }}
),

-- The values as trimmed text for the reject rules, and the timestamp typed (raw_timestamp_columns).
as_text as (
    select
        coalesce(cast(order_id as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('order_id') }} as order_id,
        {{ raw_text('user_id') }} as user_id,
        {{ product_metrics.raw_timestamp_columns(raw_orders, 'ordered_at') }},
        {{ raw_text('amount_usd') }} as amount_usd_text,
        {{ raw_columns(raw_column_names) }}
    from source
),

typed as (
    select
        *,
        {{ product_metrics.try_cast('amount_usd_text', dbt.type_numeric()) }} as amount_usd
    from as_text
),

dated as (
    select
        *,
        {{ local_date('ordered_at') }} as order_date
    from typed
),

-- Undated rows are re-derived by every run: they belong to no day.
window_rows as (
    select * from dated
    where order_date is null or {{ product_metrics.in_refresh_window('order_date', window_start) }}
),

keys_before_window as (
    {{ product_metrics.keys_before_refresh_window('order_id', 'window_rows', window_start, raw_orders) }}
),

copies as (
    {{ number_copies('window_rows', 'order_id', 'ordered_at', raw_record(raw_column_names, prefix='raw_')) }}
),

ranked as (
    select
        copies.*,
        keys_before_window.order_id is not null as has_earlier_copy
    from copies
    left join keys_before_window on copies.order_id = keys_before_window.order_id
),

checked as (
    select
        ranked.*,
        case
            when ranked.order_id is null then 'missing_key'
            when ranked.copy_number > 1 or ranked.has_earlier_copy then 'duplicate'
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
    order_date,
    amount_usd,
    source_key,
    rejection_reason,
    case when rejection_reason is not null then {{ raw_record(raw_column_names, prefix='raw_') }} end as raw_record
from checked
