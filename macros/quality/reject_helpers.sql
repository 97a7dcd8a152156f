{#
    Building blocks of the reject rules (METRICS_SPEC section 1, "Bad input: nothing is lost").
#}

{#
    Deduplication: among rows with the same key, the earliest timestamp (nulls last) is copy 1
    and is kept and checked; every other copy is a `duplicate`. Ties are broken by the raw
    record's text so the choice never depends on the engine's scan order.
#}
{% macro copy_number(key_column, timestamp_column, tie_breaker) -%}
    row_number() over (
        partition by {{ key_column }}
        order by {{ timestamp_column }} asc nulls last, {{ product_metrics.text_sort_key(tie_breaker) }} asc
    )
{%- endmacro %}


{# The raw row as JSON-like text, for `rejected_rows.raw_record` (portable string concat). #}
{% macro raw_record(columns) -%}
    '{' ||
    {%- for column in columns %}
    '"{{ column }}": ' || coalesce('"' || replace(cast({{ column }} as {{ dbt.type_string() }}), '"', {{ product_metrics.string_literal('\\\\"') }}) || '"', 'null')
    {%- if not loop.last %} || ', ' ||{% endif %}
    {%- endfor %}
    || '}'
{%- endmacro %}


{# One row per rejected raw row of a base model, in the shape of `rejected_rows`. #}
{% macro rejected_rows_of(source_table, base_model) -%}
    select
        '{{ source_table }}' as source_table,
        source_key,
        rejection_reason as reason,
        raw_record,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as detected_at
    from {{ ref(base_model) }}
    where rejection_reason is not null
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
