{#
    The raw row as JSON-like text, for `rejected_rows.raw_record` (portable string concat).
    `prefix`: the columns are carried under that prefix (raw_columns), keys keep the raw names.
#}
{% macro raw_record(columns, prefix='') -%}
    '{' ||
    {%- for column in columns %}
    '"{{ column }}": ' || coalesce('"' || replace(cast({{ prefix ~ column }} as {{ dbt.type_string() }}), '"', {{ product_metrics.string_literal('\\\\"') }}) || '"', 'null')
    {%- if not loop.last %} || ', ' ||{% endif %}
    {%- endfor %}
    || '}'
{%- endmacro %}


{#
    The raw columns as they are, prefixed `raw_`, for a select list: the raw record is built from
    them only for the rows that need it (rejected rows, tie-breaks), not for every row read.
#}
{% macro raw_columns(columns) -%}
    {%- for column in columns %}
    {{ column }} as raw_{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#
    A text constant as an SQL string literal of this engine. Spark reads a backslash in a literal
    as an escape character, so the same text needs its backslashes doubled there.
#}
{% macro string_literal(text) -%}
    {{ return(adapter.dispatch('string_literal', 'product_metrics')(text)) }}
{%- endmacro %}

{% macro default__string_literal(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__string_literal(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
