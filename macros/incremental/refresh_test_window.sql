{#
    Data tests of an incremental refresh test only the rows it could have written. A test on an
    incremental model, or on a view over one, says `where: "refresh_test_window(<date column>)"`
    (dbt does not call project macros in a test's config, so the `where` is a marker that
    get_where_subquery below expands):
    - on an incremental `product-metrics refresh`, which sets the environment variable
      PRODUCT_METRICS_TEST_WINDOW_START to the earliest refresh window start of the run (refresh.py),
      the rows dated from it on and the undated ones (var product_metrics__test_window_start does
      the same for a hand-run `dbt build`; the refresh uses the environment because a changed var
      makes dbt re-parse the whole project);
    - everywhere else (full builds, CI, `--full-refresh`) every row: no filter at all.
    Sound because the refresh leaves the rows before its window as they were when their own run
    tested them, and a key repeated across the window start is marked `duplicate` by the base model
    (keys_before_refresh_window), so a windowed uniqueness test misses nothing. The raw-rows
    reconciliation test stays whole: it is what catches a raw row dated before the window.
#}
{% macro refresh_test_window(date_column) -%}
    {#- Read at run time only: parse-time reads would tie dbt's saved parse to the value. -#}
    {%- set window_start = var('product_metrics__test_window_start', none) if execute else none -%}
    {%- if execute and (window_start is none or window_start == '') -%}
        {%- set window_start = env_var('PRODUCT_METRICS_TEST_WINDOW_START', '') -%}
    {%- endif -%}
    {%- if window_start is none or window_start == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', window_start | string) -%}
        {{ exceptions.raise_compiler_error("product_metrics__test_window_start (var) or PRODUCT_METRICS_TEST_WINDOW_START (environment) must be a 'YYYY-MM-DD' date, got " ~ window_start) }}
    {%- endif -%}
    {{ return("(" ~ date_column ~ " is null or " ~ date_column ~ " >= cast('" ~ window_start ~ "' as date))") }}
{%- endmacro %}


{# dbt's get_where_subquery, plus the `refresh_test_window(<column>)` marker. #}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = (config.get('where', '') or '') | trim -%}
    {%- if where.startswith('refresh_test_window(') and where.endswith(')') -%}
        {%- set where = product_metrics.refresh_test_window(where[20:-1] | trim) -%}
    {%- endif -%}
    {%- if where -%}
        {{ return("(select * from " ~ relation ~ " where " ~ where ~ ") dbt_subquery") }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
