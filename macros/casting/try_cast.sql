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
        {{ product_metrics.rounded_integer_in_range(product_metrics.postgres__is_number_text(text_expression), number,
                                                    data_type, integer_ranges[type_name]) }}
    {%- elif type_name in ['boolean', 'bool'] -%}
        {{ product_metrics.text_as_boolean(text_expression) }}
    {%- elif type_name in functions -%}
        {{ product_metrics.postgres__cast_function_name(functions[type_name]) }}({{ text_expression }})
    {%- elif type_name in ['text', 'varchar', 'character varying', 'string'] -%}
        cast({{ text_expression }} as {{ data_type }})
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "product_metrics.try_cast has no PostgreSQL implementation for type '" ~ data_type ~ "': "
            ~ "add one to postgres__try_cast in macros/casting/try_cast.sql") }}
    {%- endif -%}
{%- endmacro %}

{#
    Spark reads more text as dates and numbers than DuckDB does ('2026' is a timestamp, '1.5' an
    integer, 1 followed by 30 zeros a decimal overflow is null only without ANSI mode), and a failed
    cast raises under ANSI mode (Databricks SQL). As on PostgreSQL, the text is checked first (the
    same pattern) and then given to try_cast, which returns null instead of raising in either mode.
    Offset-less timestamps are read in the session's time zone, UTC (profiles.yml).
#}
{% macro spark__try_cast(text_expression, data_type) -%}
    {%- set type_name = data_type | lower | trim -%}
    {%- set is_decimal = modules.re.match('^(numeric|decimal)\\s*(\\(\\s*\\d+\\s*,\\s*\\d+\\s*\\))?$', type_name) -%}
    {%- set integer_ranges = {
        'tinyint': ['-128', '127'], 'byte': ['-128', '127'],
        'smallint': ['-32768', '32767'], 'short': ['-32768', '32767'],
        'int': ['-2147483648', '2147483647'], 'integer': ['-2147483648', '2147483647'],
        'bigint': ['-9223372036854775808', '9223372036854775807'], 'long': ['-9223372036854775808', '9223372036854775807'],
    } -%}
    {#- Wide enough for any accepted number text that can fit a bigint or a decimal(28, 6). -#}
    {%- set number = "try_cast(replace(" ~ text_expression ~ ", '_', '') as decimal(38, 6))" -%}
    {%- if is_decimal -%}
        case when {{ product_metrics.spark__is_number_text(text_expression) }}
            then try_cast(replace({{ text_expression }}, '_', '') as {{ data_type }}) end
    {%- elif type_name in integer_ranges -%}
        {#- Like DuckDB, a fractional value rounds half away from zero (7.5 -> 8). -#}
        {{ product_metrics.rounded_integer_in_range(product_metrics.spark__is_number_text(text_expression), number,
                                                    data_type, integer_ranges[type_name]) }}
    {%- elif type_name in ['boolean', 'bool'] -%}
        {{ product_metrics.text_as_boolean(text_expression) }}
    {%- elif type_name in ['date', 'timestamp', 'timestamp_ntz', 'timestamp_ltz'] -%}
        {#-
            ISO text only: a four-digit year, month and day first (Spark alone would take '2026').
            As DuckDB: a date's time part must be valid too, and a plain timestamp keeps the wall time
            written (timestamp_ntz ignores an offset); only timestamp_ltz (try_cast_utc_timestamp)
            converts an offset to UTC.
        -#}
        {%- set iso_date = "'^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}'" -%}
        {%- set wall_time = "try_cast(" ~ text_expression ~ " as timestamp_ntz)" -%}
        case
            {%- if type_name == 'date' %}
            when {{ text_expression }} rlike {{ iso_date[:-1] }}$' then try_cast({{ text_expression }} as date)
            when {{ text_expression }} rlike {{ iso_date[:-1] }}[T ]' then cast({{ wall_time }} as date)
            {%- elif type_name == 'timestamp_ltz' %}
            when {{ text_expression }} rlike {{ iso_date[:-1] }}([T ].*)?$' then try_cast({{ text_expression }} as timestamp)
            {%- else %}
            when {{ text_expression }} rlike {{ iso_date[:-1] }}([T ].*)?$' then cast({{ wall_time }} as {{ data_type }})
            {%- endif %}
        end
    {%- elif type_name in ['string', 'text', 'varchar'] -%}
        cast({{ text_expression }} as string)
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "product_metrics.try_cast has no Spark implementation for type '" ~ data_type ~ "': "
            ~ "add one to spark__try_cast in macros/casting/try_cast.sql") }}
    {%- endif -%}
{%- endmacro %}

{# The number pattern of postgres__is_number_text, for Spark's rlike (no backslash: Spark unescapes them). #}
{% macro spark__is_number_text(text_expression) -%}
    (length({{ text_expression }}) <= 1000
        and {{ text_expression }} rlike '^[+-]?([0-9]+(_[0-9]+)*([.]([0-9]+(_[0-9]+)*)?)?|[.][0-9]+(_[0-9]+)*)([eE][+-]?[0-9]{1,4})?$')
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


{#- Spark's timestamp is an instant shown in the session's time zone (UTC): offsets are converted. -#}
{% macro spark__try_cast_utc_timestamp(text_expression) -%}
    {{ product_metrics.try_cast(text_expression, 'timestamp_ltz') }}
{%- endmacro %}


{#
    Two select items for raw timestamp column `column`: `<column>_text`, its text for the
    `invalid_value` rule, and `<column>`, the UTC timestamp (without time zone). A column the loader
    already typed as a timestamp is taken as it is: the text round trip (print, parse with a zone)
    gives the same value and was a quarter of base_raw__events' time; its text is null, since a typed
    value cannot fail a cast. Any other column (text, or a type not listed in raw_timestamp_kind,
    such as DuckDB's TIMESTAMP_NS) is read as text and cast. The column's type is looked up once.
#}
{% macro raw_timestamp_columns(relation, column) -%}
    {%- set kind = product_metrics.raw_timestamp_kind(relation, column) -%}
    {%- if kind == 'utc' -%}
        cast(null as {{ dbt.type_string() }}) as {{ column }}_text,
        {{ column }} as {{ column }}
    {%- elif kind == 'instant' -%}
        cast(null as {{ dbt.type_string() }}) as {{ column }}_text,
        {{ adapter.dispatch('instant_as_utc_timestamp', 'product_metrics')(column) }} as {{ column }}
    {%- else -%}
        {{ product_metrics.raw_text(column) }} as {{ column }}_text,
        {{ product_metrics.try_cast_utc_timestamp(product_metrics.raw_text(column)) }} as {{ column }}
    {%- endif -%}
{%- endmacro %}

{#
    'utc': a timestamp without time zone, read as UTC (as offset-less text is);
    'instant': a timestamp with time zone; 'text': anything else, cast from its text.
#}
{% macro raw_timestamp_kind(relation, column) -%}
    {%- set raw_type = product_metrics.raw_column_type(relation, column) -%}
    {{ return(adapter.dispatch('raw_timestamp_kind', 'product_metrics')(raw_type)) }}
{%- endmacro %}

{% macro default__raw_timestamp_kind(raw_type) -%}
    {%- if raw_type in ('timestamp', 'timestamp without time zone') -%}
        {{ return('utc') }}
    {%- elif raw_type in ('timestamp with time zone', 'timestamptz') -%}
        {{ return('instant') }}
    {%- endif -%}
    {{ return('text') }}
{%- endmacro %}

{#- Spark's `timestamp` is an instant, which the models' timestamps are too: taken as it is. -#}
{% macro spark__raw_timestamp_kind(raw_type) -%}
    {{ return('utc' if raw_type == 'timestamp' else 'text') }}
{%- endmacro %}

{% macro default__instant_as_utc_timestamp(column) -%}
    ({{ column }} at time zone 'UTC')
{%- endmacro %}

{# True when a present raw value did not cast: the `invalid_value` rule. #}
{% macro failed_cast(text_expression, typed_expression) -%}
    ({{ text_expression }} is not null and {{ typed_expression }} is null)
{%- endmacro %}


{# An integer from number text on PostgreSQL and Spark: rounded half away from zero, null outside the type's range. #}
{% macro rounded_integer_in_range(is_number_text, number, data_type, bounds) -%}
    case when {{ is_number_text }} then
        case when round({{ number }}) between {{ bounds[0] }} and {{ bounds[1] }}
            then cast(round({{ number }}) as {{ data_type }}) end
    end
{%- endmacro %}

{# The boolean words DuckDB's cast accepts, on PostgreSQL and Spark; any other text is null. #}
{% macro text_as_boolean(text_expression) -%}
    case
        when lower({{ text_expression }}) in ('true', 't', 'yes', 'y', '1') then true
        when lower({{ text_expression }}) in ('false', 'f', 'no', 'n', '0') then false
    end
{%- endmacro %}
