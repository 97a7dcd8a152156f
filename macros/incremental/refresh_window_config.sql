{#
    The config of a model refreshed by a window of dates (refresh_window.sql): incremental with
    `replace_window` where the engine supports it, the window capped at the reporting cutoff unless
    `capped_at_cutoff=false` (the base models, which hold rows of every date), and a run that fails
    on a schema change. `column`: the model's date column (refresh_window_column); other keyword
    arguments add the model's own refresh_window_* settings. Use: `{{ config(**refresh_window_config(...)) }}`.
#}
{% macro refresh_window_config(column, capped_at_cutoff=true) -%}
    {%- set settings = {
        'materialized': product_metrics.refresh_materialization(),
        'incremental_strategy': 'replace_window',
        'refresh_window_column': column,
        'refresh_window_capped_at_cutoff': capped_at_cutoff,
        'on_schema_change': 'fail',
    } -%}
    {%- do settings.update(kwargs) -%}
    {{ return(settings) }}
{%- endmacro %}
