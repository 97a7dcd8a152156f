-- Every raw nps_responses row, typed, with the reason it is rejected (null = accepted).
{% set raw_nps_responses = product_metrics.raw_table('nps_responses') %}
{% set raw_column_names = ['response_id', 'user_id', 'responded_at', 'score'] %}

with

source as (
    select * from {{ raw_nps_responses }}
),

users as (
    select user_id from {{ ref('stg_raw__users') }}
),

-- The values as trimmed text for the reject rules, and the timestamp typed (raw_timestamp_columns).
as_text as (
    select
        coalesce(cast(response_id as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('response_id') }} as response_id,
        {{ raw_text('user_id') }} as user_id,
        {{ product_metrics.raw_timestamp_columns(raw_nps_responses, 'responded_at') }},
        {{ raw_text('score') }} as score_text,
        {{ raw_columns(raw_column_names) }}
    from source
),

typed as (
    select
        *,
        -- Numeric first: 7.5 is a number (so not `invalid_value`) but not a valid score.
        {{ product_metrics.try_cast('score_text', dbt.type_numeric()) }} as score_number
    from as_text
),

ranked as (
    {{ number_copies('typed', 'response_id', 'responded_at', raw_record(raw_column_names, prefix='raw_')) }}
),

checked as (
    select
        ranked.*,
        case
            when ranked.response_id is null then 'missing_key'
            when ranked.copy_number > 1 then 'duplicate'
            when {{ failed_cast('ranked.responded_at_text', 'ranked.responded_at') }}
                or {{ failed_cast('ranked.score_text', 'ranked.score_number') }} then 'invalid_value'
            when ranked.responded_at is null then 'missing_timestamp'
            -- Anonymous responses (no user id) are legal.
            when ranked.user_id is not null and users.user_id is null then 'unknown_user'
            when ranked.score_number is null
                or ranked.score_number < 0
                or ranked.score_number > 10
                or ranked.score_number <> floor(ranked.score_number) then 'score_out_of_range'
        end as rejection_reason
    from ranked
    left join users on ranked.user_id = users.user_id
)

select
    response_id,
    user_id,
    responded_at,
    {{ local_date('responded_at') }} as response_date,
    cast(case when rejection_reason is null then score_number end as {{ dbt.type_int() }}) as score,
    source_key,
    rejection_reason,
    case when rejection_reason is not null then {{ raw_record(raw_column_names, prefix='raw_') }} end as raw_record
from checked
