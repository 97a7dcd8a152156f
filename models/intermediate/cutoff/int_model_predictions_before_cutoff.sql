-- One row per accepted, labelled model prediction evaluated before the cutoff, with its cell of the
-- confusion matrix as 0/1 flags the semantic layer sums.
{{ config(schema='intermediate', materialized='view') }}

with

predictions as (
    select * from {{ ref('stg_raw__model_predictions') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
)

select
    predictions.prediction_id,
    predictions.model_version,
    predictions.evaluated_at,
    predictions.evaluated_date,
    case when predictions.predicted_label and predictions.actual_label then 1 else 0 end as is_true_positive,
    case when predictions.predicted_label and not predictions.actual_label then 1 else 0 end as is_false_positive,
    case when not predictions.predicted_label and not predictions.actual_label then 1 else 0 end as is_true_negative,
    case when not predictions.predicted_label and predictions.actual_label then 1 else 0 end as is_false_negative
from predictions
inner join cutoff on predictions.evaluated_date < cutoff.cutoff_date
