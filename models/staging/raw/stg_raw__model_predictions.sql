-- One row per accepted, labelled model prediction.
with

checked as (
    select * from {{ ref('base_raw__model_predictions') }}
),

accepted as (
    select
        prediction_id,
        model_version,
        evaluated_at,
        evaluated_date,
        predicted_label,
        actual_label
    from checked
    where rejection_reason is null
)

select * from accepted
