{#
    A UTC timestamp's calendar date in the reporting time zone
    (var product_metrics__reporting_timezone): every date, week and month is taken there.
#}
{% macro local_date(utc_timestamp) -%}
    {{ return(adapter.dispatch('local_date', 'product_metrics')(utc_timestamp, var('product_metrics__reporting_timezone', 'UTC'))) }}
{%- endmacro %}

{% macro default__local_date(utc_timestamp, timezone) -%}
    {%- if timezone in ['UTC', 'Etc/UTC'] -%}
        cast({{ utc_timestamp }} as date)
    {%- else -%}
        cast(({{ utc_timestamp }} at time zone 'UTC') at time zone '{{ timezone }}' as date)
    {%- endif -%}
{%- endmacro %}

{# Spark has no `at time zone`: from_utc_timestamp reads the UTC instant's wall time in the zone. #}
{% macro spark__local_date(utc_timestamp, timezone) -%}
    {%- if timezone in ['UTC', 'Etc/UTC'] -%}
        cast({{ utc_timestamp }} as date)
    {%- else -%}
        cast(from_utc_timestamp({{ utc_timestamp }}, '{{ timezone }}') as date)
    {%- endif -%}
{%- endmacro %}


{#
    The UTC timestamp (without time zone) at which a date of the reporting time zone starts: a
    window of timestamps ends at or before the cutoff when its end is at most the cutoff date's start.
#}
{% macro local_day_start_at(date_expression) -%}
    {{ return(adapter.dispatch('local_day_start_at', 'product_metrics')(date_expression, var('product_metrics__reporting_timezone', 'UTC'))) }}
{%- endmacro %}

{% macro default__local_day_start_at(date_expression, timezone) -%}
    {%- if timezone in ['UTC', 'Etc/UTC'] -%}
        cast({{ date_expression }} as {{ dbt.type_timestamp() }})
    {%- else -%}
        ((cast({{ date_expression }} as {{ dbt.type_timestamp() }}) at time zone '{{ timezone }}') at time zone 'UTC')
    {%- endif -%}
{%- endmacro %}

{# Spark: to_utc_timestamp reads the wall time in the zone and gives its UTC instant. #}
{% macro spark__local_day_start_at(date_expression, timezone) -%}
    {%- if timezone in ['UTC', 'Etc/UTC'] -%}
        cast({{ date_expression }} as timestamp)
    {%- else -%}
        to_utc_timestamp(cast({{ date_expression }} as timestamp), '{{ timezone }}')
    {%- endif -%}
{%- endmacro %}
