-- Every raw model_predictions row, typed, with the reason it is rejected (null = accepted).
with

source as (
    select * from {{ product_metrics.raw_table('model_predictions') }}
),

as_text as (
    select
        coalesce(cast(prediction_id as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('prediction_id') }} as prediction_id,
        {{ raw_text('model_version') }} as model_version,
        {{ raw_text('evaluated_at') }} as evaluated_at_text,
        {{ raw_text('predicted_label') }} as predicted_label_text,
        {{ raw_text('actual_label') }} as actual_label_text,
        {{ raw_record(['prediction_id', 'model_version', 'evaluated_at', 'predicted_label', 'actual_label']) }} as raw_record
    from source
),

typed as (
    select
        *,
        {{ try_cast_utc_timestamp('evaluated_at_text') }} as evaluated_at,
        {{ product_metrics.try_cast('predicted_label_text', dbt.type_boolean()) }} as predicted_label,
        {{ product_metrics.try_cast('actual_label_text', dbt.type_boolean()) }} as actual_label
    from as_text
),

ranked as (
    select
        *,
        {{ copy_number('prediction_id', 'evaluated_at', 'raw_record') }} as copy_number
    from typed
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
    case when rejection_reason is not null then raw_record end as raw_record
from checked
