{#
    BI tools need a stable place: on the embedded target and on production targets a model's
    custom schema is used exactly (`metrics`, `staging`, ...). Development targets (name
    starting with `dev`) on a shared warehouse prefix it with their own schema, as dbt does.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.name.startswith('dev') -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
