{#
    Scheduled refreshes: the event-heavy models are incremental. Each run re-derives a
    window of dates, [window start, +inf), and keeps every row before it:

        window start = (latest date already in the model) - var product_metrics__late_arrival_days

    Each model computes its window from its own rows, so a refresh killed between two models
    heals itself: the next run starts every model from what that model actually committed. The
    model selects the window's rows and the strategy `replace_window` below deletes the same
    window from the table and inserts them, in one transaction.
#}


{#
    The first date a refresh re-derives in the current model, as a 'YYYY-MM-DD' string, or none
    when everything is (re)built: a full refresh, a first build or an empty table. Config
    `refresh_window_column`: the model's date column. Config `refresh_window_capped_at_cutoff`:
    the window also starts no later than the reporting cutoff, so rows a cutoff moved back in time
    now excludes are deleted too. Config `refresh_window_grain='week'`, for a model with one row per
    week (the column holds its Monday): the window starts at the Monday of the week holding that
    date, since a late row anywhere in a week changes the week's row. Config
    `refresh_window_state`: the expression, over the model's rows, whose newest date says how far
    the model was derived (default: the window column); config `refresh_window_reach_days`: how many
    days before the date of a changed input row the rows it can change start (default 0). Config
    `refresh_window_rederive_when`: a predicate over the model's rows; when a row matches (it was
    derived from settings that have changed since), the whole model is derived again.
#}
{% macro refresh_window_start() -%}
    {#- Unit tests have no table of their own (`this` is none): they test the full derivation. -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set column = config.get('refresh_window_column') -%}
    {%- if not column -%}
        {{ exceptions.raise_compiler_error("Model " ~ this ~ " needs config refresh_window_column for its refresh window.") }}
    {%- endif -%}
    {%- set late_days = var('product_metrics__late_arrival_days', 3) | int -%}
    {%- if late_days < 0 -%}
        {{ exceptions.raise_compiler_error("var product_metrics__late_arrival_days must be 0 or more, got " ~ late_days) }}
    {%- endif -%}
    {%- set grain = config.get('refresh_window_grain', 'day') -%}
    {%- if grain not in ('day', 'week') -%}
        {{ exceptions.raise_compiler_error("Model " ~ this ~ ": refresh_window_grain must be 'day' or 'week', got " ~ grain) }}
    {%- endif -%}
    {%- set reach_days = config.get('refresh_window_reach_days', 0) | int -%}
    {%- set state = config.get('refresh_window_state', column) -%}
    {%- set earliest = product_metrics.add_days('min(window_start)', -reach_days) -%}
    {%- set window_start = earliest if grain == 'day' else product_metrics.week_start(earliest) -%}
    {%- set query -%}
        select cast({{ window_start }} as {{ dbt.type_string() }}) as window_start
        from (
            select {{ product_metrics.add_days('max(' ~ state ~ ')', -late_days) }} as window_start
            from {{ this }}
            {%- if config.get('refresh_window_capped_at_cutoff', false) %}
            union all
            select cutoff_date as window_start
            from {{ ref('int_reporting_cutoff') }}
            {%- endif %}
            {%- if config.get('refresh_window_rederive_when') %}
            union all
            select cast(null as date) as window_start
            from {{ this }}
            where {{ config.get('refresh_window_rederive_when') }}
            having count(*) > 0
            {%- endif %}
        ) as candidates
        having count(window_start) = count(*)
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {#- No row: the table is empty (a null max), so the whole model is derived. -#}
    {{ return(rows[0][0] if rows | length > 0 and rows[0][0] is not none else none) }}
{%- endmacro %}


{#
    A predicate: the date lies in the refresh window (always true on a full build). With
    `reach_days`, the window is widened by that many days before its start: the input rows a model
    reads to re-derive its window (a rolling N-day count reads N - 1 days before the window).
#}
{% macro in_refresh_window(date_expression, window_start, reach_days=0) -%}
    {%- if window_start is none -%}
        true
    {%- elif reach_days == 0 -%}
        {{ date_expression }} >= cast('{{ window_start }}' as date)
    {%- else -%}
        {{ date_expression }} >= {{ product_metrics.add_days("cast('" ~ window_start ~ "' as date)", -reach_days) }}
    {%- endif -%}
{%- endmacro %}


{#
    A cheap first filter on a raw table, before any cast: when the raw timestamp column is typed
    (a timestamp, as loaders usually write it), rows a day or more before the window are skipped
    in the scan itself (the day absorbs any reporting time zone). Null and text timestamps always
    pass: the exact filter on the typed local date comes after the casts.
#}
{% macro raw_rows_near_refresh_window(source_relation, timestamp_column, window_start) -%}
    {%- if window_start is none -%}
        true
    {%- else -%}
        {%- set raw_type = product_metrics.raw_column_type(source_relation, timestamp_column) -%}
        {%- if 'timestamp' in raw_type or raw_type == 'date' -%}
            ({{ timestamp_column }} is null
                or {{ timestamp_column }} >= {{ dbt.dateadd('day', -1, "cast('" ~ window_start ~ "' as timestamp)") }})
        {%- else -%}
            true
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{# The lower-case data type of a column of a relation, '' when unknown. #}
{% macro raw_column_type(relation, column_name) -%}
    {#- An absent optional input is a subquery (macro empty_raw_input), no relation: nothing to look up. -#}
    {%- if relation is string -%}
        {{ return('') }}
    {%- endif -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name | lower == column_name | lower -%}
            {{ return(column.data_type | lower) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}


{#
    The keys that already have a row before the refresh window. A raw row in the window whose key
    is among them is a `duplicate`: the kept copy is the earliest, and every row before the window
    is earlier than every row in it (dated rows by the window's definition; undated rows sort last).
    A key counts only while the raw table still holds that earlier row outside the window: more raw
    rows with its raw id text (`source_key`, exact, so the probe is a cheap equality) than window rows.
    When the earlier row was changed in place (dated into the window, its timestamp blanked) or
    deleted, the window row is not a copy of anything: it is checked on its own, the stale row stays
    beside it, and the raw-rows reconciliation test fails the run until a full refresh (DECISIONS.md,
    "Old raw rows changed in place"). `source_relation`: the raw table, its id column named like the
    key. Empty on a full build, where the model ranks every row itself.
#}
{% macro keys_before_refresh_window(key_column, window_rows, window_start, source_relation) -%}
    {%- if window_start is none -%}
        select cast(null as {{ dbt.type_string() }}) as {{ key_column }}
        where 1 = 0
    {%- else -%}
        select distinct kept.{{ key_column }}
        from (
            select distinct
                earlier.{{ key_column }},
                earlier.source_key
            from {{ this }} as earlier
            where
                earlier.{{ key_column }} is not null
                and not ({{ in_refresh_window('earlier.' ~ config.get('refresh_window_column'), window_start) }})
                and earlier.{{ key_column }} in (select window_rows.{{ key_column }} from {{ window_rows }} as window_rows)
        ) as kept
        where (
            select count(*)
            from {{ source_relation }} as raw_rows
            where cast(raw_rows.{{ key_column }} as {{ dbt.type_string() }}) = kept.source_key
        ) > (
            select count(*)
            from {{ window_rows }} as window_copies
            where window_copies.source_key = kept.source_key
        )
    {%- endif -%}
{%- endmacro %}


{#
    Incremental strategy `replace_window`: delete the refresh window (and the undated rows, which
    every run re-derives) from the table, insert the rows the model selected for it. dbt runs both in
    the model's transaction, so a killed run leaves the table as it was. Config
    `refresh_window_unique_key`, for a model with one row per key whose date moves forward (a
    user's last active date): the rows of the keys the model re-derived are deleted too, wherever
    their old date lies.
#}
{% macro get_incremental_replace_window_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set column = config.get('refresh_window_column') -%}
    {%- set unique_key = config.get('refresh_window_unique_key') -%}
    {%- set window_start = product_metrics.refresh_window_start() -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ column }} is null or {{ product_metrics.in_refresh_window(column, window_start) }}
    {%- if unique_key %}
        or {{ unique_key }} in (select rederived.{{ unique_key }} from {{ arg_dict['temp_relation'] }} as rederived)
    {%- endif %};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}


{#
    The materialization of the incremental models: `incremental` with `replace_window` where the
    engine can delete rows in a transaction (DuckDB, PostgreSQL). Spark's parquet tables cannot
    delete rows and dbt-spark accepts only its own strategies, so there they are rebuilt as tables
    (same rows, full cost).
#}
{% macro refresh_materialization() -%}
    {{ return(adapter.dispatch('refresh_materialization', 'product_metrics')()) }}
{%- endmacro %}

{% macro default__refresh_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__refresh_materialization() -%}
    {{ return('table') }}
{%- endmacro %}
