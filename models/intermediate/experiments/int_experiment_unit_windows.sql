-- One row per included unit and metric of its experiment whose measurement window has ended at or
-- before the cutoff: the window [analysis_start_at + window_start_days, analysis_start_at +
-- window_end_days) and the CUPED lookback [first_exposed_at - cuped_lookback_days, first_exposed_at)
-- as timestamps. A unit whose window is still open is left out of that metric, not measured on part
-- of its window (a short window would bias the arm with the most recent units).
with

units as (
    select * from {{ ref('int_experiment_units') }}
),

experiments as (
    select * from {{ ref('int_experiments') }}
),

metrics as (
    select * from {{ ref('int_experiment_metrics') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

unit_metrics as (
    select
        units.experiment_id,
        units.user_id,
        units.variation,
        units.exposure_date,
        metrics.metric_name,
        metrics.metric_kind,
        {{ product_metrics.add_days_to_timestamp('units.analysis_start_at', 'metrics.window_start_days') }} as window_start_at,
        {{ product_metrics.add_days_to_timestamp('units.analysis_start_at', 'metrics.window_end_days') }} as window_end_at,
        -- Ratio metrics have no covariate: their pre-period ratio is undefined for most users.
        case
            when experiments.cuped_lookback_days > 0 and metrics.metric_kind <> 'ratio'
                then {{ product_metrics.add_days_to_timestamp('units.first_exposed_at', '-experiments.cuped_lookback_days') }}
        end as covariate_start_at,
        case
            when experiments.cuped_lookback_days > 0 and metrics.metric_kind <> 'ratio'
                then units.first_exposed_at
        end as covariate_end_at,
        -- Capping applies to count and sum metrics only: 0/1 values and ratios are bounded already.
        case when metrics.metric_kind in ('count', 'sum') then experiments.capping_type end as capping_type,
        case when metrics.metric_kind in ('count', 'sum') then experiments.capping_value end as capping_value
    from units
    inner join experiments on units.experiment_id = experiments.experiment_id
    inner join metrics on units.experiment_id = metrics.experiment_id
    where units.exclusion_reason is null
)

select
    unit_metrics.experiment_id,
    unit_metrics.user_id,
    unit_metrics.variation,
    unit_metrics.exposure_date,
    unit_metrics.metric_name,
    unit_metrics.metric_kind,
    cast(unit_metrics.window_start_at as {{ dbt.type_timestamp() }}) as window_start_at,
    cast(unit_metrics.window_end_at as {{ dbt.type_timestamp() }}) as window_end_at,
    cast(unit_metrics.covariate_start_at as {{ dbt.type_timestamp() }}) as covariate_start_at,
    cast(unit_metrics.covariate_end_at as {{ dbt.type_timestamp() }}) as covariate_end_at,
    cast(unit_metrics.capping_type as {{ dbt.type_string() }}) as capping_type,
    cast(unit_metrics.capping_value as {{ product_metrics.type_double() }}) as capping_value
from unit_metrics
cross join cutoff
where unit_metrics.window_end_at <= {{ product_metrics.local_day_start_at('cutoff.cutoff_date') }}
