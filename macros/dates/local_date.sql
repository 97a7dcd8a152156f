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
