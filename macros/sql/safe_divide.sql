{#
    A ratio whose denominator is zero is null, never 0 and never an error (METRICS_SPEC section 2).
    Both sides are cast to double so the result does not depend on the engine's decimal rules.
#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ product_metrics.type_double() }}) / nullif(cast({{ denominator }} as {{ product_metrics.type_double() }}), 0))
{%- endmacro %}


{# dbt.type_float() is a 4-byte REAL on some engines; metrics need double precision everywhere. #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'product_metrics')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
