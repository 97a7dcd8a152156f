-- Every raw ai_suggestions row, typed, with the reason it is rejected (null = accepted).
-- Incremental: a refresh re-derives the rows dated in its window (macros/incremental).
{{ config(**product_metrics.refresh_window_config('created_date', capped_at_cutoff=false)) }}
{% set window_start = product_metrics.refresh_window_start() %}
{% set raw_ai_suggestions = product_metrics.raw_table('ai_suggestions') %}
{% set raw_column_names = [
    'suggestion_id', 'user_id', 'created_at', 'model_version', 'feature',
    'latency_ms', 'cost_usd', 'outcome', 'escalated_to_human',
] %}

with

source as (
    select * from {{ raw_ai_suggestions }}
    where {{ product_metrics.raw_rows_near_refresh_window(raw_ai_suggestions, 'created_at', window_start) }}
),

users as (
    select user_id from {{ ref('stg_raw__users') }}
),

-- The values as trimmed text for the reject rules, and the timestamp typed (raw_timestamp_columns).
as_text as (
    select
        coalesce(cast(suggestion_id as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('suggestion_id') }} as suggestion_id,
        {{ raw_text('user_id') }} as user_id,
        {{ product_metrics.raw_timestamp_columns(raw_ai_suggestions, 'created_at') }},
        {{ raw_text('model_version') }} as model_version,
        {{ raw_text('feature') }} as feature,
        {{ raw_text('latency_ms') }} as latency_ms_text,
        {{ raw_text('cost_usd') }} as cost_usd_text,
        lower({{ raw_text('outcome') }}) as outcome,
        {{ raw_text('escalated_to_human') }} as escalated_to_human_text,
        {{ raw_columns(raw_column_names) }}
    from source
),

typed as (
    select
        *,
        {{ product_metrics.try_cast('latency_ms_text', dbt.type_numeric()) }} as latency_ms,
        {{ product_metrics.try_cast('cost_usd_text', dbt.type_numeric()) }} as cost_usd,
        {{ product_metrics.try_cast('escalated_to_human_text', dbt.type_boolean()) }} as escalated_to_human
    from as_text
),

dated as (
    select
        *,
        {{ local_date('created_at') }} as created_date
    from typed
),

-- Undated rows are re-derived by every run: they belong to no day.
window_rows as (
    select * from dated
    where created_date is null or {{ product_metrics.in_refresh_window('created_date', window_start) }}
),

keys_before_window as (
    {{ product_metrics.keys_before_refresh_window('suggestion_id', 'window_rows', window_start, raw_ai_suggestions) }}
),

copies as (
    {{ number_copies('window_rows', 'suggestion_id', 'created_at', raw_record(raw_column_names, prefix='raw_')) }}
),

ranked as (
    select
        copies.*,
        keys_before_window.suggestion_id is not null as has_earlier_copy
    from copies
    left join keys_before_window on copies.suggestion_id = keys_before_window.suggestion_id
),

checked as (
    select
        ranked.*,
        case
            when ranked.suggestion_id is null then 'missing_key'
            when ranked.copy_number > 1 or ranked.has_earlier_copy then 'duplicate'
            when {{ failed_cast('ranked.created_at_text', 'ranked.created_at') }}
                or {{ failed_cast('ranked.latency_ms_text', 'ranked.latency_ms') }}
                or {{ failed_cast('ranked.cost_usd_text', 'ranked.cost_usd') }}
                or {{ failed_cast('ranked.escalated_to_human_text', 'ranked.escalated_to_human') }} then 'invalid_value'
            when ranked.created_at is null then 'missing_timestamp'
            when users.user_id is null then 'unknown_user'
            when ranked.outcome is null
                or ranked.outcome not in ('accepted', 'edited', 'rejected', 'ignored') then 'invalid_outcome'
        end as rejection_reason
    from ranked
    left join users on ranked.user_id = users.user_id
)

select
    suggestion_id,
    user_id,
    created_at,
    created_date,
    model_version,
    feature,
    latency_ms,
    cost_usd,
    outcome,
    escalated_to_human,
    source_key,
    rejection_reason,
    case when rejection_reason is not null then {{ raw_record(raw_column_names, prefix='raw_') }} end as raw_record
from checked
