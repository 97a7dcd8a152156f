{# Acme's own schema naming: every custom schema is `acme_<name>`, whichever project the model is from. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        acme_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
