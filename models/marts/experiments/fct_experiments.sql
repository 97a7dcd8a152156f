-- One row per experiment of var product_metrics__experiments: its definition, how long it has run
-- by the cutoff, its units (included, and excluded by reason), the guardrails it cannot measure and
-- when the first unit's window ends (a readout without complete windows says when it will have one).
with

experiments as (
    select * from {{ ref('int_experiments') }}
),

units as (
    select * from {{ ref('int_experiment_units') }}
),

metrics as (
    select * from {{ ref('int_experiment_metrics') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

unit_counts as (
    select
        experiment_id,
        min(case when exclusion_reason is null then exposure_date end) as first_exposure_date,
        max(case when exclusion_reason is null then exposure_date end) as last_exposure_date,
        sum(case when exclusion_reason is null then 1 else 0 end) as exposed_users,
        sum(case when exclusion_reason = 'multiple_variations' then 1 else 0 end) as excluded_multiple_variations,
        sum(case when exclusion_reason = 'outside_dates' then 1 else 0 end) as excluded_outside_dates,
        min(case when exclusion_reason is null then analysis_start_at end) as first_analysis_start_at
    from units
    group by experiment_id
),

shortest_windows as (
    select
        experiment_id,
        min(window_end_days) as window_end_days
    from metrics
    group by experiment_id
),

-- The earliest end of any included unit's window: the earliest analysis start plus the shortest window.
first_windows as (
    select
        unit_counts.experiment_id,
        {{ product_metrics.local_date(
            product_metrics.add_days_to_timestamp('unit_counts.first_analysis_start_at', 'shortest_windows.window_end_days')
        ) }} as first_window_end_date
    from unit_counts
    inner join shortest_windows on unit_counts.experiment_id = shortest_windows.experiment_id
),

-- Runtime ends on the day after end_date, or at the cutoff while the experiment runs; an
-- experiment that starts after the cutoff has run 0 days.
runtime as (
    select
        experiments.experiment_id,
        case
            when {{ add_days('experiments.end_date', 1) }} < cutoff.cutoff_date then {{ add_days('experiments.end_date', 1) }}
            else cutoff.cutoff_date
        end as runtime_end_date,
        experiments.end_date < cutoff.cutoff_date as is_ended
    from experiments
    cross join cutoff
)

select
    experiments.experiment_id,
    experiments.hypothesis,
    experiments.owner_name,
    experiments.owner_email,
    experiments.start_date,
    experiments.end_date,
    cast(experiments.minimum_runtime_days as {{ dbt.type_int() }}) as minimum_runtime_days,
    cast(
        case
            when runtime.runtime_end_date > experiments.start_date
                then {{ dbt.datediff('experiments.start_date', 'runtime.runtime_end_date', 'day') }}
            else 0
        end
        as {{ dbt.type_int() }}
    ) as runtime_days,
    runtime.is_ended,
    unit_counts.first_exposure_date,
    unit_counts.last_exposure_date,
    cast(coalesce(unit_counts.exposed_users, 0) as {{ dbt.type_bigint() }}) as exposed_users,
    cast(coalesce(unit_counts.excluded_multiple_variations, 0) as {{ dbt.type_bigint() }}) as excluded_multiple_variations,
    cast(coalesce(unit_counts.excluded_outside_dates, 0) as {{ dbt.type_bigint() }}) as excluded_outside_dates,
    cast(experiments.alpha as {{ product_metrics.type_double() }}) as alpha,
    experiments.correction,
    cast(experiments.sequential_n_star as {{ product_metrics.type_double() }}) as sequential_n_star,
    cast(experiments.cuped_lookback_days as {{ dbt.type_int() }}) as cuped_lookback_days,
    experiments.unmeasured_guardrails,
    cast(first_windows.first_window_end_date as date) as first_window_end_date
from experiments
inner join runtime on experiments.experiment_id = runtime.experiment_id
left join unit_counts on experiments.experiment_id = unit_counts.experiment_id
left join first_windows on experiments.experiment_id = first_windows.experiment_id
