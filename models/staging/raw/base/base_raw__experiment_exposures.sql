-- Every raw experiment_exposures row, typed, with the reason it is rejected (null = accepted).
-- Optional input: when the raw table does not exist, no rows (macro raw_table, optional=true).
-- Incremental: a refresh re-derives the rows dated in its window (macros/incremental). Whether an
-- experiment and its variations are defined comes from var product_metrics__experiments: a row
-- checked against other definitions (its definitions_key) makes the next run derive every row again.
{% set definitions = product_metrics.experiment_definitions() %}
{% set defined_pairs = [] %}
{% for experiment in definitions %}
    {% for variation in experiment.variations %}
        {% do defined_pairs.append([experiment.id, variation.name]) %}
    {% endfor %}
{% endfor %}
{% set definitions_key = local_md5(tojson(defined_pairs | sort)) %}
{{ config(**product_metrics.refresh_window_config('exposure_date', capped_at_cutoff=false,
    refresh_window_rederive_when="definitions_key <> '" ~ definitions_key ~ "'")) }}
{% set window_start = product_metrics.refresh_window_start() %}
{% set raw_exposures = product_metrics.raw_table('experiment_exposures', optional=true) %}
{% set raw_column_names = ['exposure_id', 'experiment_id', 'variation', 'user_id', 'exposed_at'] %}

with

source as (
    select * from {{ raw_exposures }} as raw_exposures
    where {{ product_metrics.raw_rows_near_refresh_window(raw_exposures, 'exposed_at', window_start) }}
),

users as (
    select user_id from {{ ref('stg_raw__users') }}
),

defined_variations as (
    {{ product_metrics.experiment_rows([
        ('experiment_id', dbt.type_string()),
        ('variation', dbt.type_string()),
    ], defined_pairs) }}
),

defined_experiments as (
    select distinct experiment_id from defined_variations
),

-- The values as trimmed text for the reject rules, and the timestamp typed (raw_timestamp_columns).
as_text as (
    select
        coalesce(cast(exposure_id as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('exposure_id') }} as exposure_id,
        {{ raw_text('experiment_id') }} as experiment_id,
        {{ raw_text('variation') }} as variation,
        {{ raw_text('user_id') }} as user_id,
        {{ product_metrics.raw_timestamp_columns(raw_exposures, 'exposed_at') }},
        {{ raw_columns(raw_column_names) }}
    from source
),

dated as (
    select
        *,
        {{ local_date('exposed_at') }} as exposure_date
    from as_text
),

-- Undated rows are re-derived by every run: they belong to no day.
window_rows as (
    select * from dated
    where exposure_date is null or {{ product_metrics.in_refresh_window('exposure_date', window_start) }}
),

keys_before_window as (
    {{ product_metrics.keys_before_refresh_window('exposure_id', 'window_rows', window_start, raw_exposures) }}
),

copies as (
    {{ number_copies('window_rows', 'exposure_id', 'exposed_at', raw_record(raw_column_names, prefix='raw_')) }}
),

ranked as (
    select
        copies.*,
        keys_before_window.exposure_id is not null as has_earlier_copy
    from copies
    left join keys_before_window on copies.exposure_id = keys_before_window.exposure_id
),

checked as (
    select
        ranked.*,
        case
            when ranked.exposure_id is null then 'missing_key'
            when ranked.copy_number > 1 or ranked.has_earlier_copy then 'duplicate'
            when {{ failed_cast('ranked.exposed_at_text', 'ranked.exposed_at') }} then 'invalid_value'
            when ranked.exposed_at is null then 'missing_timestamp'
            when users.user_id is null then 'unknown_user'
            when defined_experiments.experiment_id is null then 'unknown_experiment'
            when defined_variations.variation is null then 'unknown_variation'
        end as rejection_reason
    from ranked
    left join users on ranked.user_id = users.user_id
    left join defined_experiments on ranked.experiment_id = defined_experiments.experiment_id
    left join defined_variations
        on ranked.experiment_id = defined_variations.experiment_id
        and ranked.variation = defined_variations.variation
)

select
    exposure_id,
    experiment_id,
    variation,
    user_id,
    exposed_at,
    exposure_date,
    source_key,
    rejection_reason,
    case when rejection_reason is not null then {{ raw_record(raw_column_names, prefix='raw_') }} end as raw_record,
    cast('{{ definitions_key }}' as {{ dbt.type_string() }}) as definitions_key
from checked
