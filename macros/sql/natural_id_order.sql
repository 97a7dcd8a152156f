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
