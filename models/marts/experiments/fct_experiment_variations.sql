-- One row per experiment and variation: its traffic weight and its included units, the counts the
-- sample-ratio-mismatch check compares with the weights.
with

variations as (
    select * from {{ ref('int_experiment_variations') }}
),

units as (
    select * from {{ ref('int_experiment_units') }}
),

unit_counts as (
    select
        experiment_id,
        variation,
        count(*) as units
    from units
    where exclusion_reason is null
    group by experiment_id, variation
)

select
    variations.experiment_id,
    variations.variation,
    cast(variations.variation_index as {{ dbt.type_int() }}) as variation_index,
    cast(variations.weight as {{ product_metrics.type_double() }}) as weight,
    cast(coalesce(unit_counts.units, 0) as {{ dbt.type_bigint() }}) as units
from variations
left join unit_counts
    on variations.experiment_id = unit_counts.experiment_id and variations.variation = unit_counts.variation
