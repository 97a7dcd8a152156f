-- One row per included unit and metric whose window has ended at or before the cutoff: the unit's
-- value of the catalog metric (macros/experiments/experiment_metric_catalog.sql) over its window,
-- the denominator of a ratio metric, and the CUPED covariate (the same measure over the lookback
-- before the first exposure; active days for the 0/1 activity metrics, whose 0/1 lookback would
-- hold little of a user's habit). Count and sum metrics are capped, value and covariate.
-- One pass over each input table: the units' windows become columns of one row per unit, and
-- each table is joined to the units once (user, timestamps between the unit's earliest and latest
-- bound) and summed with one conditional aggregate per metric.
-- Only the metrics some experiment of var product_metrics__experiments names are measured, and only
-- the tables they read are joined: each measured metric costs columns and aggregates over every
-- joined row. (A unit test names its metrics in that var.)
{% set measures = product_metrics.experiment_unit_measures() %}
{% set catalog = product_metrics.experiment_metric_catalog() %}
{% for metric_name in catalog if metric_name not in measures %}
    {{ exceptions.raise_compiler_error("int_experiment_unit_values has no per-unit measure for catalog metric " ~ metric_name ~ ": add one to macro experiment_unit_measures.") }}
{% endfor %}
{% set named = [] %}
{% for experiment in product_metrics.experiment_definitions() %}
    {% for metric in experiment.metrics %}{% do named.append(metric.name) %}{% endfor %}
{% endfor %}
{% set metrics = [] %}
{% for metric_name in catalog if metric_name in named %}{% do metrics.append(metric_name) %}{% endfor %}
{% set tables = {'events': 'occurred_at', 'orders': 'ordered_at', 'suggestions': 'created_at', 'responses': 'responded_at'} %}
{% set table_metrics = {} %}
{% for table in tables %}
{% for metric_name in metrics if measures[metric_name]['table'] == table %}
{% do table_metrics.setdefault(table, []).append("'" ~ metric_name ~ "'") %}
{% endfor %}
{% endfor %}

-- Every input stays a dependency, whichever tables the experiments read:
-- depends_on: {{ ref('int_events_before_cutoff') }}, {{ ref('int_orders_before_cutoff') }}
-- depends_on: {{ ref('int_ai_suggestions_before_cutoff') }}, {{ ref('int_nps_responses_before_cutoff') }}
{% set inputs = {
    'events': 'int_events_before_cutoff',
    'orders': 'int_orders_before_cutoff',
    'suggestions': 'int_ai_suggestions_before_cutoff',
    'responses': 'int_nps_responses_before_cutoff',
} %}

with

windows as (
    select * from {{ ref('int_experiment_unit_windows') }}
),

{% for table in table_metrics %}
{{ table }} as (
    select * from {{ ref(inputs[table]) }}
),

{% endfor %}
{% if 'events' in table_metrics %}
flagged_events as (
    select
        events.*,
        {{ product_metrics.is_active_event('events.event_name') }} as is_active
    from events
),

{% endif %}
{% if metrics %}
-- One row per unit: each measured metric's window and lookback as columns (null when the unit's
-- experiment does not measure it), and per input table the earliest and latest bound the unit needs.
spans as (
    select
        experiment_id,
        user_id,
        {% for metric_name in metrics %}
        max(case when metric_name = '{{ metric_name }}' then window_start_at end) as {{ metric_name }}__start_at,
        max(case when metric_name = '{{ metric_name }}' then window_end_at end) as {{ metric_name }}__end_at,
        max(case when metric_name = '{{ metric_name }}' then covariate_start_at end) as {{ metric_name }}__covariate_start_at,
        max(case when metric_name = '{{ metric_name }}' then covariate_end_at end) as {{ metric_name }}__covariate_end_at,
        {% endfor %}
        {% if 'pm_dormant_users' in metrics %}
        max(
            case
                when metric_name = 'pm_dormant_users'
                    then {{ product_metrics.add_days_to_timestamp('window_start_at', 7) }}
            end
        ) as pm_dormant_users__second_week_at,
        {% endif %}
        {% for table in table_metrics %}
        min(
            case
                when metric_name in ({{ table_metrics[table] | join(', ') }})
                    then coalesce(covariate_start_at, window_start_at)
            end
        ) as {{ table }}__scan_start_at,
        max(
            case when metric_name in ({{ table_metrics[table] | join(', ') }}) then window_end_at end
        ) as {{ table }}__scan_end_at{{ ',' if not loop.last }}
        {% endfor %}
    from windows
    group by experiment_id, user_id
),

{% for table, at_column in tables.items() if table in table_metrics and table != 'responses' %}
{%- set day_number = "cast('1970-01-01' as date)" %}
-- The join matches a unit with its user's rows of the same time bucket: buckets of whole UTC days,
-- as wide as the longest span, so a span covers one bucket or two consecutive ones (a unit row per
-- bucket). Matching on the user alone would compare each row with every unit of its user.
{{ table }}_bucket_width as (
    select
        max(
            {{ dbt.datediff(day_number, 'cast(' ~ table ~ '__scan_end_at as date)', 'day') }}
            - {{ dbt.datediff(day_number, 'cast(' ~ table ~ '__scan_start_at as date)', 'day') }}
            + 1
        ) as bucket_days
    from spans
),

{{ table }}_spans as (
    select
        spans.*,
        floor(
            {{ dbt.datediff(day_number, 'cast(spans.' ~ table ~ '__scan_start_at as date)', 'day') }}
            / bucket_width.bucket_days
        ) + bucket_offsets.bucket_offset as time_bucket
    from spans
    cross join {{ table }}_bucket_width as bucket_width
    cross join (select 0 as bucket_offset union all select 1 as bucket_offset) as bucket_offsets
    where
        floor(
            {{ dbt.datediff(day_number, 'cast(spans.' ~ table ~ '__scan_start_at as date)', 'day') }}
            / bucket_width.bucket_days
        ) + bucket_offsets.bucket_offset
        <= floor(
            {{ dbt.datediff(day_number, 'cast(spans.' ~ table ~ '__scan_end_at as date)', 'day') }}
            / bucket_width.bucket_days
        )
),

{{ table }}_bucketed as (
    select
        {{ table }}.*,
        floor(
            {{ dbt.datediff(day_number, 'cast(' ~ table ~ '.' ~ at_column ~ ' as date)', 'day') }}
            / bucket_width.bucket_days
        ) as time_bucket
    from {{ 'flagged_events as events' if table == 'events' else table }}
    cross join {{ table }}_bucket_width as bucket_width
),

{{ table }}_measured as (
    select
        spans.experiment_id,
        spans.user_id,
        {%- for metric_name in metrics if measures[metric_name]['table'] == table %}
        {%- set measure = measures[metric_name] %}
        {%- set aggregate = product_metrics.experiment_unit_aggregate %}
        {{ aggregate(metric_name, measure['value'], table, at_column) }} as {{ metric_name }}__value,
        {%- if 'denominator' in measure %}
        {{ aggregate(metric_name, measure['denominator'], table, at_column) }} as {{ metric_name }}__denominator,
        {%- endif %}
        {%- if 'covariate' in measure %}
        {{ aggregate(metric_name, measure['covariate'], table, at_column) }} as {{ metric_name }}__covariate,
        {%- endif %}
        {%- endfor %}
        count(*) as {{ table }}_rows
    from {{ table }}_spans as spans
    inner join {{ table }}_bucketed as {{ table }}
        on
            spans.user_id = {{ table }}.user_id
            and spans.time_bucket = {{ table }}.time_bucket
            and spans.{{ table }}__scan_start_at <= {{ table }}.{{ at_column }}
            and spans.{{ table }}__scan_end_at > {{ table }}.{{ at_column }}
    group by spans.experiment_id, spans.user_id
),

{% endfor %}
{% if 'pm_nps' in metrics %}
-- NPS counts a respondent's latest response in the window (as fct_nps_monthly does in a month).
responses_in_window as (
    select
        spans.experiment_id,
        spans.user_id,
        responses.score_group,
        row_number() over (
            partition by spans.experiment_id, spans.user_id
            order by responses.responded_at desc, responses.response_id desc
        ) as response_rank
    from spans
    inner join responses
        on
            spans.user_id = responses.user_id
            and spans.pm_nps__start_at <= responses.responded_at
            and spans.pm_nps__end_at > responses.responded_at
),

responses_measured as (
    select
        experiment_id,
        user_id,
        case score_group when 'promoter' then 100 when 'detractor' then -100 else 0 end as pm_nps__value,
        1 as pm_nps__denominator
    from responses_in_window
    where response_rank = 1
),

{% endif %}
{% endif %}
{% set ratio_metrics = [] %}
{% for metric_name in metrics if 'denominator' in measures[metric_name] or metric_name == 'pm_nps' %}
{% do ratio_metrics.append(metric_name) %}
{% endfor %}
measured as (
    select
        windows.experiment_id,
        windows.user_id,
        windows.variation,
        windows.exposure_date,
        windows.metric_name,
        windows.capping_type,
        windows.capping_value,
        {% if metrics -%}
        case windows.metric_name
            {%- for metric_name in metrics %}
            when '{{ metric_name }}' then {{ measures[metric_name]['table'] }}_measured.{{ metric_name }}__value
            {%- endfor %}
        end
        {%- else -%}
        cast(null as {{ product_metrics.type_double() }})
        {%- endif %} as measured_value,
        {% if ratio_metrics -%}
        case windows.metric_name
            {%- for metric_name in ratio_metrics %}
            when '{{ metric_name }}'
                then coalesce({{ measures[metric_name]['table'] }}_measured.{{ metric_name }}__denominator, 0)
            {%- endfor %}
        end
        {%- else -%}
        cast(null as {{ product_metrics.type_double() }})
        {%- endif %} as denominator,
        case
            when windows.covariate_start_at is null then null
            {%- for metric_name in metrics if 'covariate' in measures[metric_name] %}
            when windows.metric_name = '{{ metric_name }}'
                then coalesce({{ measures[metric_name]['table'] }}_measured.{{ metric_name }}__covariate, 0)
            {%- endfor %}
        end as measured_covariate
    from windows
    {% for table in table_metrics -%}
    left join {{ table }}_measured
        on
            windows.experiment_id = {{ table }}_measured.experiment_id
            and windows.user_id = {{ table }}_measured.user_id
    {% endfor %}
),

uncapped as (
    select
        experiment_id,
        user_id,
        variation,
        exposure_date,
        metric_name,
        capping_type,
        capping_value,
        cast(coalesce(measured_value, 0) as {{ product_metrics.type_double() }}) as unit_value,
        cast(denominator as {{ product_metrics.type_double() }}) as denominator,
        cast(measured_covariate as {{ product_metrics.type_double() }}) as covariate
    from measured
),

-- A percentile cap is taken over every included complete unit of the experiment and metric, both
-- arms together, so capping treats the arms alike; the covariate gets its own percentile. The
-- percentile is percentile_cont's (position 1 + p x (n - 1), linear interpolation), computed from
-- ranks because the fraction is a column, which percentile_cont takes only as a constant.
percentile_ranked as (
    select
        experiment_id,
        metric_name,
        unit_value,
        covariate,
        1 + capping_value * (count(*) over (partition by experiment_id, metric_name) - 1) as value_position,
        1 + capping_value * (count(covariate) over (partition by experiment_id, metric_name) - 1) as covariate_position,
        row_number() over (partition by experiment_id, metric_name order by unit_value) as value_rank,
        row_number() over (partition by experiment_id, metric_name order by covariate) as covariate_rank
    from uncapped
    where capping_type = 'percentile'
),

percentile_caps as (
    select
        experiment_id,
        metric_name,
        max(case when value_rank = floor(value_position) then unit_value end)
        + (max(value_position) - floor(max(value_position)))
        * (
            max(case when value_rank = ceil(value_position) then unit_value end)
            - max(case when value_rank = floor(value_position) then unit_value end)
        ) as value_cap,
        max(case when covariate_rank = floor(covariate_position) then covariate end)
        + (max(covariate_position) - floor(max(covariate_position)))
        * (
            max(case when covariate_rank = ceil(covariate_position) then covariate end)
            - max(case when covariate_rank = floor(covariate_position) then covariate end)
        ) as covariate_cap
    from percentile_ranked
    group by experiment_id, metric_name
),

capped as (
    select
        uncapped.experiment_id,
        uncapped.user_id,
        uncapped.variation,
        uncapped.exposure_date,
        uncapped.metric_name,
        case
            when uncapped.capping_type = 'absolute' and uncapped.unit_value > uncapped.capping_value
                then uncapped.capping_value
            when uncapped.capping_type = 'percentile' and uncapped.unit_value > percentile_caps.value_cap
                then percentile_caps.value_cap
            else uncapped.unit_value
        end as unit_value,
        uncapped.denominator,
        case
            when uncapped.capping_type = 'absolute' and uncapped.covariate > uncapped.capping_value
                then uncapped.capping_value
            when uncapped.capping_type = 'percentile' and uncapped.covariate > percentile_caps.covariate_cap
                then percentile_caps.covariate_cap
            else uncapped.covariate
        end as covariate
    from uncapped
    left join percentile_caps
        on
            uncapped.experiment_id = percentile_caps.experiment_id
            and uncapped.metric_name = percentile_caps.metric_name
)

select
    experiment_id,
    user_id,
    variation,
    exposure_date,
    metric_name,
    cast(unit_value as {{ product_metrics.type_double() }}) as value,  -- noqa: RF04
    cast(denominator as {{ product_metrics.type_double() }}) as denominator,
    cast(covariate as {{ product_metrics.type_double() }}) as covariate
from capped
