{#
    A model's post-hook (dbt_project.yml): refresh the planner statistics of a table just built.
    PostgreSQL does not analyze a new table until autovacuum comes by, and without statistics it
    plans the next models' joins on guesses (the number spine joins took minutes instead of
    seconds on the demo data). Engines that keep statistics up to date themselves run nothing.
#}
{% macro refresh_table_statistics(relation) -%}
    {{ return(adapter.dispatch('refresh_table_statistics', 'product_metrics')(relation)) }}
{%- endmacro %}

{% macro default__refresh_table_statistics(relation) -%}
{%- endmacro %}

{% macro postgres__refresh_table_statistics(relation) -%}
    {%- if config.get('materialized') in ['table', 'incremental'] -%}
        analyze {{ relation }}
    {%- endif -%}
{%- endmacro %}
