-- Every raw events row, typed, with the reason it is rejected (null = accepted).
-- Incremental: a refresh re-derives the rows dated in its window (macros/incremental).
{{ config(**product_metrics.refresh_window_config('event_date', capped_at_cutoff=false)) }}
{% set window_start = product_metrics.refresh_window_start() %}
{% set raw_events = product_metrics.raw_table('events') %}
{% set raw_column_names = ['event_id', 'user_id', 'occurred_at', 'event_name'] %}

with

source as (
    select * from {{ raw_events }}
    where {{ product_metrics.raw_rows_near_refresh_window(raw_events, 'occurred_at', window_start) }}
),

users as (
    select
        user_id,
        signup_date
    from {{ ref('stg_raw__users') }}
),

-- The values as trimmed text for the reject rules, and the timestamp typed (raw_timestamp_columns).
as_text as (
    select
        coalesce(cast(event_id as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('event_id') }} as event_id,
        {{ raw_text('user_id') }} as user_id,
        {{ product_metrics.raw_timestamp_columns(raw_events, 'occurred_at') }},
        {{ raw_text('event_name') }} as event_name,
        {{ raw_columns(raw_column_names) }}
    from source
),

dated as (
    select
        *,
        {{ local_date('occurred_at') }} as event_date
    from as_text
),

-- Undated rows are re-derived by every run: they belong to no day.
window_rows as (
    select * from dated
    where event_date is null or {{ product_metrics.in_refresh_window('event_date', window_start) }}
),

keys_before_window as (
    {{ product_metrics.keys_before_refresh_window('event_id', 'window_rows', window_start, raw_events) }}
),

copies as (
    {{ number_copies('window_rows', 'event_id', 'occurred_at', raw_record(raw_column_names, prefix='raw_')) }}
),

ranked as (
    select
        copies.*,
        keys_before_window.event_id is not null as has_earlier_copy
    from copies
    left join keys_before_window on copies.event_id = keys_before_window.event_id
),

checked as (
    select
        ranked.*,
        case
            when ranked.event_id is null then 'missing_key'
            when ranked.copy_number > 1 or ranked.has_earlier_copy then 'duplicate'
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
    case when rejection_reason is not null then {{ raw_record(raw_column_names, prefix='raw_') }} end as raw_record
from checked
