{#
    The incremental strategy of the refresh-window models (macros/incremental/refresh_window.sql),
    per engine. dbt-spark accepts only its own strategies (append, merge, insert_overwrite), and a
    parquet table has no DELETE: on Spark the model's table is partitioned by its window's date
    column and refreshed with insert_overwrite in dynamic partition mode, which replaces every date
    the refresh selects (the window, and the undated rows' null partition) and keeps the dates before
    it: the same rows as replace_window. Used in the model's config:

        incremental_strategy=product_metrics.refresh_window_strategy(),
        partition_by=product_metrics.refresh_window_partition_by('event_date'),
#}
{% macro refresh_window_strategy() -%}
    {{ return(adapter.dispatch('refresh_window_strategy', 'product_metrics')()) }}
{%- endmacro %}

{% macro default__refresh_window_strategy() -%}
    {{ return('replace_window') }}
{%- endmacro %}

{% macro spark__refresh_window_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}


{# The table's partitioning: none where replace_window deletes the window, the date column on Spark. #}
{% macro refresh_window_partition_by(column) -%}
    {{ return(adapter.dispatch('refresh_window_partition_by', 'product_metrics')(column)) }}
{%- endmacro %}

{% macro default__refresh_window_partition_by(column) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro spark__refresh_window_partition_by(column) -%}
    {{ return([column]) }}
{%- endmacro %}
