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
