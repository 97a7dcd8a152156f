-- product_metrics raw input `model_predictions`.
select
    id as prediction_id,
    model_version,
    evaluated_at,
    predicted as predicted_label,
    actual as actual_label
from {{ source('app', 'model_evals') }}
