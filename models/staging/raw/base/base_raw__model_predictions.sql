-- Every raw model_predictions row, typed, with the reason it is rejected (null = accepted).
{% set raw_model_predictions = product_metrics.raw_table('model_predictions') %}
{% set raw_column_names = ['prediction_id', 'model_version', 'evaluated_at', 'predicted_label', 'actual_label'] %}

with

source as (
    select * from {{ raw_model_predictions }}
),

-- The values as trimmed text for the reject rules, and the timestamp typed (raw_timestamp_columns).
as_text as (
    select
        coalesce(cast(prediction_id as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('prediction_id') }} as prediction_id,
        {{ raw_text('model_version') }} as model_version,
        {{ product_metrics.raw_timestamp_columns(raw_model_predictions, 'evaluated_at') }},
        {{ raw_text('predicted_label') }} as predicted_label_text,
        {{ raw_text('actual_label') }} as actual_label_text,
        {{ raw_columns(raw_column_names) }}
    from source
),

typed as (
    select
        *,
        {{ product_metrics.try_cast('predicted_label_text', dbt.type_boolean()) }} as predicted_label,
        {{ product_metrics.try_cast('actual_label_text', dbt.type_boolean()) }} as actual_label
    from as_text
),

ranked as (
    {{ number_copies('typed', 'prediction_id', 'evaluated_at', raw_record(raw_column_names, prefix='raw_')) }}
),

checked as (
    select
        *,
        case
            when prediction_id is null then 'missing_key'
            when copy_number > 1 then 'duplicate'
            -- A prediction without both labels cannot be scored: its missing label is an invalid value.
            when {{ failed_cast('evaluated_at_text', 'evaluated_at') }}
                or predicted_label is null
                or actual_label is null then 'invalid_value'
            when evaluated_at is null then 'missing_timestamp'
        end as rejection_reason
    from ranked
)

select
    prediction_id,
    model_version,
    evaluated_at,
    {{ local_date('evaluated_at') }} as evaluated_date,
    predicted_label,
    actual_label,
    source_key,
    rejection_reason,
    case when rejection_reason is not null then {{ raw_record(raw_column_names, prefix='raw_') }} end as raw_record
from checked
