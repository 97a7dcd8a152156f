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

{#
    PostgreSQL has no try_cast, and a failing cast aborts the whole statement. Numbers and booleans
    are checked in plain SQL first (a pattern, a range, a list of words) and cast only when the
    check passes, so the cast can never fail; the accepted text is DuckDB's (see DECISIONS.md).
    Dates and timestamps cannot be checked by a pattern alone (2024-02-30, 25:00): they go through
    small functions that return null when the cast raises, created by the on-run-start hook
    (macros/casting/postgres_cast_functions.sql).
#}
{% macro postgres__try_cast(text_expression, data_type) -%}
    {%- set type_name = data_type | lower | trim -%}
    {%- set precision_scale = modules.re.match('^(numeric|decimal)\\s*\\(\\s*(\\d+)\\s*,\\s*(\\d+)\\s*\\)$', type_name) -%}
    {%- set integer_ranges = {
        'smallint': ['-32768', '32767'], 'int2': ['-32768', '32767'],
        'integer': ['-2147483648', '2147483647'], 'int': ['-2147483648', '2147483647'], 'int4': ['-2147483648', '2147483647'],
        'bigint': ['-9223372036854775808', '9223372036854775807'], 'int8': ['-9223372036854775808', '9223372036854775807'],
    } -%}
    {%- set functions = {
        'date': 'date',
        'timestamp': 'timestamp', 'timestamp without time zone': 'timestamp',
        'timestamptz': 'timestamptz', 'timestamp with time zone': 'timestamptz',
    } -%}
    {%- set number = "cast(replace(" ~ text_expression ~ ", '_', '') as numeric)" -%}
    {%- if type_name in ['numeric', 'decimal'] or precision_scale -%}
        case when {{ product_metrics.postgres__is_number_text(text_expression) }} then
            {%- if precision_scale %}
            {%- set scale = precision_scale.group(3) | int -%}
            {%- set integer_digits = (precision_scale.group(2) | int) - scale %}
            case when abs(round({{ number }}, {{ scale }})) < 1e{{ integer_digits }} then cast({{ number }} as {{ data_type }}) end
            {%- else %}
            {{ number }}
            {%- endif %}
        end
    {%- elif type_name in integer_ranges -%}
        {#- Like DuckDB, a fractional value rounds half away from zero (7.5 -> 8), as the numeric cast does. -#}
        case when {{ product_metrics.postgres__is_number_text(text_expression) }} then
            case when round({{ number }}) between {{ integer_ranges[type_name][0] }} and {{ integer_ranges[type_name][1] }}
                then cast(round({{ number }}) as {{ data_type }}) end
        end
    {%- elif type_name in ['boolean', 'bool'] -%}
        case
            when lower({{ text_expression }}) in ('true', 't', 'yes', 'y', '1') then true
            when lower({{ text_expression }}) in ('false', 'f', 'no', 'n', '0') then false
        end
    {%- elif type_name in functions -%}
        {{ product_metrics.postgres__cast_function_name(functions[type_name]) }}({{ text_expression }})
    {%- elif type_name in ['text', 'varchar', 'character varying', 'string'] -%}
        cast({{ text_expression }} as {{ data_type }})
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "product_metrics.try_cast has no PostgreSQL implementation for type '" ~ data_type ~ "': "
            ~ "add one to postgres__try_cast in macros/casting/safe_cast.sql") }}
    {%- endif -%}
{%- endmacro %}

{#
    Number text as DuckDB reads it: optional sign, digits with single `_` separators, optional
    fraction and exponent. No NaN / Infinity (not amounts). Bounded length and exponent, so the
    numeric cast that follows can neither fail nor run away.
#}
{% macro postgres__is_number_text(text_expression) -%}
    (length({{ text_expression }}) <= 1000
        and {{ text_expression }} ~ '^[+-]?([0-9]+(_[0-9]+)*([.]([0-9]+(_[0-9]+)*)?)?|[.][0-9]+(_[0-9]+)*)([eE][+-]?[0-9]{1,4})?$')
{%- endmacro %}


{# A UTC timestamp (without time zone). Text with an explicit offset is converted to UTC. #}
{% macro try_cast_utc_timestamp(text_expression) -%}
    {{ return(adapter.dispatch('try_cast_utc_timestamp', 'product_metrics')(text_expression)) }}
{%- endmacro %}

{% macro default__try_cast_utc_timestamp(text_expression) -%}
    {#- The session time zone is UTC (profiles.yml), so offset-less text is read as UTC. -#}
    (try_cast({{ text_expression }} as timestamp with time zone) at time zone 'UTC')
{%- endmacro %}

{% macro postgres__try_cast_utc_timestamp(text_expression) -%}
    {#- The cast function reads offset-less text as UTC whatever the session's TimeZone. -#}
    ({{ product_metrics.try_cast(text_expression, 'timestamp with time zone') }} at time zone 'UTC')
{%- endmacro %}


{# True when a present raw value did not cast: the `invalid_value` rule. #}
{% macro failed_cast(text_expression, typed_expression) -%}
    ({{ text_expression }} is not null and {{ typed_expression }} is null)
{%- endmacro %}
