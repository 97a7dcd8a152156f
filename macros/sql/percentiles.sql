{#
    The exact p-th percentile of a group's rows with linear interpolation between the two nearest
    ranks (position 1 + p × (n − 1)): percentile_cont on DuckDB and PostgreSQL. Never an
    approximation (approx_quantile, t-digest), so a table's percentile is the one a reader gets
    from the raw rows. Nulls are ignored; a group without values gives null.
#}
{% macro percentile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'product_metrics')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by cast({{ expression }} as {{ product_metrics.type_double() }}))
{%- endmacro %}

{% macro spark__percentile_cont(expression, fraction) -%}
    percentile(cast({{ expression }} as double), {{ fraction }})
{%- endmacro %}


{# The usual median: the middle value, or the mean of the middle two (the 50th percentile_cont). #}
{% macro median(expression) -%}
    {{ product_metrics.percentile_cont(expression, 0.5) }}
{%- endmacro %}


{#
    A double rounded to a fixed number of decimals, the same on every engine: interpolation leaves
    float noise in the last bits (901.0000000000001 for 901), which differs between engines.
    PostgreSQL rounds only numerics to a number of places, so the value passes through a decimal.
#}
{% macro round_double(expression, decimals) -%}
    {{ return(adapter.dispatch('round_double', 'product_metrics')(expression, decimals)) }}
{%- endmacro %}

{% macro default__round_double(expression, decimals) -%}
    cast(round(cast({{ expression }} as decimal(38, 9)), {{ decimals }}) as {{ product_metrics.type_double() }})
{%- endmacro %}
