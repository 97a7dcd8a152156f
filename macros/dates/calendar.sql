{# Date arithmetic that always returns a date (dbt.dateadd may return a timestamp). #}
{% macro add_days(date_expression, days) -%}
    {{ return(adapter.dispatch('add_days', 'product_metrics')(date_expression, days)) }}
{%- endmacro %}

{% macro default__add_days(date_expression, days) -%}
    cast({{ dbt.dateadd('day', days, date_expression) }} as date)
{%- endmacro %}

{#- DuckDB and PostgreSQL add whole days to a date directly (date + integer is a date): several
    times faster than dbt.dateadd's timestamp arithmetic and cast back, on every user-day. -#}
{% macro duckdb__add_days(date_expression, days) -%}
    (cast({{ date_expression }} as date) + cast({{ days }} as integer))
{%- endmacro %}

{% macro postgres__add_days(date_expression, days) -%}
    (cast({{ date_expression }} as date) + cast({{ days }} as integer))
{%- endmacro %}

{#
    Spark: dbt.dateadd goes through unix seconds and assert_true, which fails the query on a null
    date (a user's missing next active date); date_add and add_months are plain calendar arithmetic
    and take only an int count (a number spine's n is a bigint).
#}
{% macro spark__add_days(date_expression, days) -%}
    date_add(cast({{ date_expression }} as date), cast({{ days }} as int))
{%- endmacro %}

{% macro add_months(date_expression, months) -%}
    {{ return(adapter.dispatch('add_months', 'product_metrics')(date_expression, months)) }}
{%- endmacro %}

{% macro default__add_months(date_expression, months) -%}
    cast({{ dbt.dateadd('month', months, date_expression) }} as date)
{%- endmacro %}

{% macro spark__add_months(date_expression, months) -%}
    add_months(cast({{ date_expression }} as date), cast({{ months }} as int))
{%- endmacro %}


{#
    A timestamp `days` whole days later (same clock time), as a timestamp. Spark's dbt.dateadd
    drops the fraction of a second; an interval keeps it.
#}
{% macro add_days_to_timestamp(timestamp_expression, days) -%}
    {{ return(adapter.dispatch('add_days_to_timestamp', 'product_metrics')(timestamp_expression, days)) }}
{%- endmacro %}

{% macro default__add_days_to_timestamp(timestamp_expression, days) -%}
    {{ dbt.dateadd('day', days, timestamp_expression) }}
{%- endmacro %}

{% macro spark__add_days_to_timestamp(timestamp_expression, days) -%}
    ({{ timestamp_expression }} + make_dt_interval(cast({{ days }} as int)))
{%- endmacro %}


{# A timestamp a whole number of hours later, as a timestamp (Spark: an interval, as above). #}
{% macro add_hours_to_timestamp(timestamp_expression, hours) -%}
    {{ return(adapter.dispatch('add_hours_to_timestamp', 'product_metrics')(timestamp_expression, hours)) }}
{%- endmacro %}

{% macro default__add_hours_to_timestamp(timestamp_expression, hours) -%}
    {{ dbt.dateadd('hour', hours, timestamp_expression) }}
{%- endmacro %}

{% macro spark__add_hours_to_timestamp(timestamp_expression, hours) -%}
    ({{ timestamp_expression }} + make_dt_interval(0, cast({{ hours }} as int)))
{%- endmacro %}


{# Start of the Monday week / calendar month holding a date, as a date. #}
{% macro week_start(date_expression) -%}
    {{ return(adapter.dispatch('week_start', 'product_metrics')(date_expression)) }}
{%- endmacro %}

{% macro default__week_start(date_expression) -%}
    cast({{ dbt.date_trunc('week', date_expression) }} as date)
{%- endmacro %}

{#
    PostgreSQL's date_trunc has no date version: a date would be read as a timestamptz at midnight
    in the session's time zone. Truncating a plain timestamp keeps it a calendar computation.
#}
{% macro postgres__week_start(date_expression) -%}
    cast(date_trunc('week', cast({{ date_expression }} as timestamp)) as date)
{%- endmacro %}

{% macro month_start(date_expression) -%}
    {{ return(adapter.dispatch('month_start', 'product_metrics')(date_expression)) }}
{%- endmacro %}

{% macro default__month_start(date_expression) -%}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}

{% macro postgres__month_start(date_expression) -%}
    cast(date_trunc('month', cast({{ date_expression }} as timestamp)) as date)
{%- endmacro %}


{# Whole calendar months from one month start to another, as an integer. #}
{% macro months_between(start_month, end_month) -%}
    cast(
        (extract(year from {{ end_month }}) - extract(year from {{ start_month }})) * 12
        + extract(month from {{ end_month }}) - extract(month from {{ start_month }})
        as {{ dbt.type_int() }}
    )
{%- endmacro %}


{# Whole weeks (7-day periods, rounded down) from one date to a later one, as an integer. #}
{% macro weeks_between(start_date, end_date) -%}
    cast(floor({{ dbt.datediff(start_date, end_date, 'day') }} / 7.0) as {{ dbt.type_int() }})
{%- endmacro %}


{# Fractional days / hours between two timestamps (whole seconds apart, as dbt.datediff counts them). #}
{% macro days_between(start_timestamp, end_timestamp) -%}
    {{ product_metrics.seconds_between_in_units(start_timestamp, end_timestamp, 86400) }}
{%- endmacro %}

{% macro hours_between(start_timestamp, end_timestamp) -%}
    {{ product_metrics.seconds_between_in_units(start_timestamp, end_timestamp, 3600) }}
{%- endmacro %}

{% macro seconds_between_in_units(start_timestamp, end_timestamp, unit_seconds) -%}
    {{ return(adapter.dispatch('seconds_between_in_units', 'product_metrics')(start_timestamp, end_timestamp, unit_seconds)) }}
{%- endmacro %}

{% macro default__seconds_between_in_units(start_timestamp, end_timestamp, unit_seconds) -%}
    ({{ dbt.datediff(start_timestamp, end_timestamp, 'second') }} / {{ unit_seconds }}.0)
{%- endmacro %}

{# Spark divides by a decimal literal in decimal arithmetic, rounded to 6 places: divide as doubles. #}
{% macro spark__seconds_between_in_units(start_timestamp, end_timestamp, unit_seconds) -%}
    (cast({{ dbt.datediff(start_timestamp, end_timestamp, 'second') }} as double) / {{ unit_seconds }})
{%- endmacro %}


{#
    The integers 0 .. 99999 as a select with column `n`: a portable number spine for days, weeks
    and months (273 years of days), built from ten digits with no table scan. A model reads it
    as a CTE (`numbers as ({{ integer_series() }})`), so the spine is joined by name.
#}
{% macro integer_series() -%}
    {{ return(adapter.dispatch('integer_series', 'product_metrics')()) }}
{%- endmacro %}

{% macro default__integer_series() -%}
    with digits as (
        {% for digit in range(10) -%}
        select {{ digit }} as digit
        {%- if not loop.last %}
        union all
        {% endif -%}
        {%- endfor %}
    )

    select d1.digit + 10 * d2.digit + 100 * d3.digit + 1000 * d4.digit + 10000 * d5.digit as n
    from digits as d1
    cross join digits as d2
    cross join digits as d3
    cross join digits as d4
    cross join digits as d5
{%- endmacro %}

{#
    PostgreSQL plans the ten-digit cross join as nested loops it re-runs for every outer row (minutes
    on the demo data); its set-returning generate_series gives the same numbers in one scan.
#}
{% macro postgres__integer_series() -%}
    select numbers.n from generate_series(0, 99999) as numbers (n)
{%- endmacro %}

{# Spark: the range table function, one scan (the digit cross join works too, in five joins). #}
{% macro spark__integer_series() -%}
    select cast(id as int) as n from range(0, 100000)
{%- endmacro %}
