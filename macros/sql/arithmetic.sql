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


{# The usual median: the middle value, or the mean of the middle two (the 50th percentile_cont). #}
{% macro median(expression) -%}
    {{ product_metrics.percentile_cont(expression, 0.5) }}
{%- endmacro %}


{#
    Ids are text. So that "the larger id" means what people expect for numeric-looking ids
    ('10' after '9'), ids order by length first, then by text (natural order).
#}
{% macro natural_id_order(column, direction='asc') -%}
    length({{ column }}) {{ direction }}, {{ product_metrics.text_sort_key(column) }} {{ direction }}
{%- endmacro %}


{#
    Text that orders by its characters' codes, whatever the database's collation, so a tie-break
    picks the same row on every engine (DuckDB compares text bytewise already).
#}
{% macro text_sort_key(text_expression) -%}
    {{ return(adapter.dispatch('text_sort_key', 'product_metrics')(text_expression)) }}
{%- endmacro %}

{% macro default__text_sort_key(text_expression) -%}
    {{ text_expression }}
{%- endmacro %}

{% macro postgres__text_sort_key(text_expression) -%}
    ({{ text_expression }}) collate "C"
{%- endmacro %}
