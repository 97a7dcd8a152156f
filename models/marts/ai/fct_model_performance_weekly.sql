-- Offline quality of each model version per week (definitions: the metric_model_* docs blocks).
-- The ratios are computed from the week's confusion matrix, never averaged from finer grains.
with

predictions as (
    select * from {{ ref('stg_raw__model_predictions') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

scored as (
    select
        {{ week_start('predictions.evaluated_date') }} as week_start,
        coalesce(nullif(trim(predictions.model_version), ''), 'unknown') as model_version,
        predictions.predicted_label,
        predictions.actual_label
    from predictions
    cross join cutoff
    where predictions.evaluated_date < cutoff.cutoff_date
),

confusion as (
    select
        week_start,
        model_version,
        count(*) as predictions,
        sum(case when predicted_label and actual_label then 1 else 0 end) as true_positives,
        sum(case when predicted_label and not actual_label then 1 else 0 end) as false_positives,
        sum(case when not predicted_label and not actual_label then 1 else 0 end) as true_negatives,
        sum(case when not predicted_label and actual_label then 1 else 0 end) as false_negatives
    from scored
    group by week_start, model_version
),

rates as (
    select
        *,
        {{ safe_divide('true_positives', 'true_positives + false_positives') }} as precision_rate,
        {{ safe_divide('true_positives', 'true_positives + false_negatives') }} as recall,
        -- f1 = 2TP / (2TP + FP + FN): the harmonic mean of precision and recall, defined (as 0)
        -- when one of them is 0 and the other is not, null only when there is nothing to score.
        {{ safe_divide('2 * true_positives', '2 * true_positives + false_positives + false_negatives') }} as f1,
        {{ safe_divide('true_positives + true_negatives', 'predictions') }} as accuracy
    from confusion
),

-- The newest model version evaluated each week (natural order: v10 after v9): the series the
-- drift alert watches.
ranked as (
    select
        *,
        row_number() over (
            partition by week_start order by {{ natural_id_order('model_version', 'desc') }}
        ) as version_rank
    from rates
),

compared as (
    select
        this_week.*,
        -- Only the immediately preceding week counts: a model not evaluated last week has no change.
        this_week.f1 - previous_week.f1 as f1_change
    from ranked as this_week
    left join rates as previous_week
        on
            this_week.model_version = previous_week.model_version
            and previous_week.week_start = {{ add_days('this_week.week_start', -7) }}
)

select
    compared.week_start,
    cast(compared.model_version as {{ dbt.type_string() }}) as model_version,
    cast(compared.predictions as {{ dbt.type_bigint() }}) as predictions,
    cast(compared.true_positives as {{ dbt.type_bigint() }}) as true_positives,
    cast(compared.false_positives as {{ dbt.type_bigint() }}) as false_positives,
    cast(compared.true_negatives as {{ dbt.type_bigint() }}) as true_negatives,
    cast(compared.false_negatives as {{ dbt.type_bigint() }}) as false_negatives,
    compared.precision_rate as precision,  -- noqa: RF04
    compared.recall,
    compared.f1,
    compared.accuracy,
    cast(compared.f1_change as {{ product_metrics.type_double() }}) as f1_change,
    compared.version_rank = 1 as is_newest_model_version,
    {{ add_days('compared.week_start', 7) }} <= cutoff.cutoff_date as is_complete
from compared
cross join cutoff
