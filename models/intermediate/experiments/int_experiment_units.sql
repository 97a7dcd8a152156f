-- One row per experiment and user with an accepted exposure before the cutoff: the unit of analysis.
-- Only exposures dated within [start_date, end_date] (reporting time zone) count: a user with none is
-- excluded as 'outside_dates'; a user whose counted exposures name more than one variation is
-- excluded as 'multiple_variations' (variation null), since their effect cannot be attributed.
-- Excluded users keep a row so the marts can count them.
with

exposures as (
    select * from {{ ref('stg_raw__experiment_exposures') }}
),

experiments as (
    select * from {{ ref('int_experiments') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

dated_exposures as (
    select
        exposures.experiment_id,
        exposures.user_id,
        exposures.variation,
        exposures.exposed_at,
        exposures.exposure_date,
        experiments.exposure_delay_hours,
        exposures.exposure_date >= experiments.start_date
        and exposures.exposure_date <= experiments.end_date as is_in_dates
    from exposures
    inner join experiments on exposures.experiment_id = experiments.experiment_id
    cross join cutoff
    where exposures.exposure_date < cutoff.cutoff_date
),

users_exposed as (
    select
        experiment_id,
        user_id,
        max(exposure_delay_hours) as exposure_delay_hours,
        min(case when is_in_dates then variation end) as variation_in_dates,
        max(case when is_in_dates then variation end) as last_variation_in_dates,
        min(variation) as first_variation,
        max(variation) as last_variation,
        min(case when is_in_dates then exposed_at end) as first_exposed_in_dates_at,
        min(exposed_at) as first_exposed_at,
        min(case when is_in_dates then exposure_date end) as exposure_date
    from dated_exposures
    group by experiment_id, user_id
),

classified as (
    select
        experiment_id,
        user_id,
        exposure_delay_hours,
        -- More than one variation = the least and the greatest differ (cheaper than count(distinct)).
        case
            when variation_in_dates <> last_variation_in_dates then null
            when variation_in_dates is not null then variation_in_dates
            -- Only out-of-dates exposures: their variation when there is one.
            when first_variation = last_variation then first_variation
        end as variation,
        coalesce(first_exposed_in_dates_at, first_exposed_at) as first_exposed_at,
        exposure_date,
        case
            when variation_in_dates <> last_variation_in_dates then 'multiple_variations'
            when variation_in_dates is null then 'outside_dates'
        end as exclusion_reason
    from users_exposed
)

select
    cast(experiment_id as {{ dbt.type_string() }}) as experiment_id,
    cast(user_id as {{ dbt.type_string() }}) as user_id,
    cast(variation as {{ dbt.type_string() }}) as variation,
    cast(first_exposed_at as {{ dbt.type_timestamp() }}) as first_exposed_at,
    cast(
        case
            when exposure_date is not null
                then {{ product_metrics.add_hours_to_timestamp('first_exposed_at', 'exposure_delay_hours') }}
        end
        as {{ dbt.type_timestamp() }}
    ) as analysis_start_at,
    exposure_date,
    cast(exclusion_reason as {{ dbt.type_string() }}) as exclusion_reason
from classified
