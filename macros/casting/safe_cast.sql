{#
    Raw columns may arrive typed or as text. Every typed column goes through these macros:
    the value is read as trimmed text, and cast with a cast that yields null instead of failing,
    so that staging can tell a missing value (null or blank) from an invalid one.
#}

{# The raw value as trimmed text; blank becomes null. #}
{% macro raw_text(column) -%}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}


{% macro try_cast(text_expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast', 'product_metrics')(text_expression, data_type)) }}
{%- endmacro %}

{% macro default__try_cast(text_expression, data_type) -%}
    try_cast({{ text_expression }} as {{ data_type }})
{%- endmacro %}


{# A UTC timestamp (without time zone). Text with an explicit offset is converted to UTC. #}
{% macro try_cast_utc_timestamp(text_expression) -%}
    {{ return(adapter.dispatch('try_cast_utc_timestamp', 'product_metrics')(text_expression)) }}
{%- endmacro %}

{% macro default__try_cast_utc_timestamp(text_expression) -%}
    {#- The session time zone is UTC (profiles.yml), so offset-less text is read as UTC. -#}
    (try_cast({{ text_expression }} as timestamp with time zone) at time zone 'UTC')
{%- endmacro %}


{# True when a present raw value did not cast: the `invalid_value` rule. #}
{% macro failed_cast(text_expression, typed_expression) -%}
    ({{ text_expression }} is not null and {{ typed_expression }} is null)
{%- endmacro %}
