-- AI suggestion outcomes, latency and cost per day, model version and feature.
-- Percentiles are computed from the day's rows (exact, linear interpolation), never from other
-- percentiles: a week's p90 must be recomputed from its rows, not averaged from these.
-- Incremental: a day's row depends on that day's suggestions only, so a refresh
-- re-derives the days of its window (macros/incremental) from the suggestions dated in it.
{{ config(**product_metrics.refresh_window_config('activity_date')) }}
-- depends_on: {{ ref('int_reporting_cutoff') }} (the window's cap, read by refresh_window_start)
{% set window_start = product_metrics.refresh_window_start() %}
{#- `var is defined`: dbt 1.10 renders a model without var() once, to set up its unit tests. -#}
{% set latency_decimals = var('product_metrics__latency_decimals', 3) | int if var is defined else 3 %}

with

suggestions as (
    select * from {{ ref('int_ai_suggestions_before_cutoff') }}
    where {{ product_metrics.in_refresh_window('created_date', window_start) }}
),

-- A missing model version or feature is still a suggestion shown: it is grouped as 'unknown'
-- (like a missing acquisition channel) rather than dropped or left as a null key.
labelled as (
    select
        created_date,
        coalesce(nullif(trim(model_version), ''), 'unknown') as model_version,
        coalesce(nullif(trim(feature), ''), 'unknown') as feature,
        outcome,
        escalated_to_human,
        latency_ms,
        cost_usd
    from suggestions
),

daily as (
    select
        created_date as activity_date,
        model_version,
        feature,
        count(*) as suggestions,
        sum(case when outcome = 'accepted' then 1 else 0 end) as accepted,
        sum(case when outcome = 'edited' then 1 else 0 end) as edited,
        sum(case when outcome = 'rejected' then 1 else 0 end) as rejected,
        sum(case when outcome = 'ignored' then 1 else 0 end) as ignored,
        sum(case when escalated_to_human then 1 else 0 end) as escalated,
        {{ percentile_cont('latency_ms', 0.5) }} as latency_p50_ms,
        {{ percentile_cont('latency_ms', 0.9) }} as latency_p90_ms,
        {{ percentile_cont('latency_ms', 0.99) }} as latency_p99_ms,
        coalesce(sum(cost_usd), 0) as cost_usd
    from labelled
    group by created_date, model_version, feature
)

select
    activity_date,
    cast(model_version as {{ dbt.type_string() }}) as model_version,
    cast(feature as {{ dbt.type_string() }}) as feature,
    cast(suggestions as {{ dbt.type_bigint() }}) as suggestions,
    cast(accepted as {{ dbt.type_bigint() }}) as accepted,
    cast(edited as {{ dbt.type_bigint() }}) as edited,
    cast(rejected as {{ dbt.type_bigint() }}) as rejected,
    cast(ignored as {{ dbt.type_bigint() }}) as ignored,
    cast(escalated as {{ dbt.type_bigint() }}) as escalated,
    {{ safe_divide('accepted', 'suggestions') }} as acceptance_rate,
    -- Of the suggestions users kept, the share they had to fix.
    {{ safe_divide('edited', 'accepted + edited') }} as correction_rate,
    {{ safe_divide('escalated', 'suggestions') }} as hitl_rate,
    {{ round_double('latency_p50_ms', latency_decimals) }} as latency_p50_ms,
    {{ round_double('latency_p90_ms', latency_decimals) }} as latency_p90_ms,
    {{ round_double('latency_p99_ms', latency_decimals) }} as latency_p99_ms,
    cast(cost_usd as {{ product_metrics.type_double() }}) as cost_usd,
    {{ safe_divide('1000 * cost_usd', 'suggestions') }} as cost_per_1k_suggestions_usd
from daily
