{# Date arithmetic that always returns a date (dbt.dateadd may return a timestamp). #}
{% macro add_days(date_expression, days) -%}
    cast({{ dbt.dateadd('day', days, date_expression) }} as date)
{%- endmacro %}

{% macro add_months(date_expression, months) -%}
    cast({{ dbt.dateadd('month', months, date_expression) }} as date)
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


{# Fractional days between two timestamps. #}
{% macro days_between(start_timestamp, end_timestamp) -%}
    ({{ dbt.datediff(start_timestamp, end_timestamp, 'second') }} / 86400.0)
{%- endmacro %}


{#
    The integers 0 .. 99999 as a subquery with column `n`: a portable number spine for days,
    weeks and months (273 years of days), built from ten digits with no table scan.
#}
{% macro integer_series() -%}
    {{ return(adapter.dispatch('integer_series', 'product_metrics')()) }}
{%- endmacro %}

{% macro default__integer_series() -%}
    (
        select
            d1.digit + 10 * d2.digit + 100 * d3.digit + 1000 * d4.digit + 10000 * d5.digit as n
        from {{ product_metrics.digits() }} as d1
        cross join {{ product_metrics.digits() }} as d2
        cross join {{ product_metrics.digits() }} as d3
        cross join {{ product_metrics.digits() }} as d4
        cross join {{ product_metrics.digits() }} as d5
    )
{%- endmacro %}

{#
    PostgreSQL plans the ten-digit cross join as nested loops it re-runs for every outer row (minutes
    on the demo data); its set-returning generate_series gives the same numbers in one scan.
#}
{% macro postgres__integer_series() -%}
    (select n from generate_series(0, 99999) as numbers (n))
{%- endmacro %}

{% macro digits() -%}
    (
        {% for digit in range(10) -%}
        select {{ digit }} as digit{% if not loop.last %} union all {% endif %}
        {%- endfor %}
    )
{%- endmacro %}
