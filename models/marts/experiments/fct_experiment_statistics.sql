-- The per-arm sufficient statistics of every experiment metric, one row per experiment, variation,
-- metric and exposure date (the date of the unit's first counted exposure): units, the sums and sums
-- of squares and products the readout needs for the means, variances, the ratio delta method and
-- CUPED. They add up: the sums over exposure dates give the arm, over dates up to d the arm on day d.
with

unit_values as (
    select * from {{ ref('int_experiment_unit_values') }}
),

metrics as (
    select * from {{ ref('int_experiment_metrics') }}
),

variations as (
    select * from {{ ref('int_experiment_variations') }}
),

sums as (
    select
        experiment_id,
        variation,
        metric_name,
        exposure_date,
        count(*) as units,
        -- Each term rounded to 12 decimals and summed as a decimal: the sums are exact, so they do not
        -- move with the order a parallel aggregation adds doubles in (reruns and engines agree).
        sum(cast(value as decimal(38, 12))) as value_sum,
        sum(cast(value * value as decimal(38, 12))) as value_sum_squares,
        sum(cast(denominator as decimal(38, 12))) as denominator_sum,
        sum(cast(denominator * denominator as decimal(38, 12))) as denominator_sum_squares,
        sum(cast(value * denominator as decimal(38, 12))) as value_denominator_sum,
        sum(cast(covariate as decimal(38, 12))) as covariate_sum,
        sum(cast(covariate * covariate as decimal(38, 12))) as covariate_sum_squares,
        sum(cast(value * covariate as decimal(38, 12))) as value_covariate_sum
    from unit_values
    group by experiment_id, variation, metric_name, exposure_date
)

select
    sums.experiment_id,
    sums.variation,
    sums.metric_name,
    sums.exposure_date,
    cast(variations.variation_index as {{ dbt.type_int() }}) as variation_index,
    metrics.metric_role,
    metrics.metric_kind,
    metrics.direction,
    metrics.unit,
    cast(sums.units as {{ dbt.type_bigint() }}) as units,
    cast(sums.value_sum as {{ product_metrics.type_double() }}) as value_sum,
    cast(sums.value_sum_squares as {{ product_metrics.type_double() }}) as value_sum_squares,
    cast(sums.denominator_sum as {{ product_metrics.type_double() }}) as denominator_sum,
    cast(sums.denominator_sum_squares as {{ product_metrics.type_double() }}) as denominator_sum_squares,
    cast(sums.value_denominator_sum as {{ product_metrics.type_double() }}) as value_denominator_sum,
    cast(sums.covariate_sum as {{ product_metrics.type_double() }}) as covariate_sum,
    cast(sums.covariate_sum_squares as {{ product_metrics.type_double() }}) as covariate_sum_squares,
    cast(sums.value_covariate_sum as {{ product_metrics.type_double() }}) as value_covariate_sum
from sums
inner join metrics
    on sums.experiment_id = metrics.experiment_id and sums.metric_name = metrics.metric_name
inner join variations
    on sums.experiment_id = variations.experiment_id and sums.variation = variations.variation
