{#
    Data tests of an incremental refresh test only the rows it could have written. A test on an
    incremental model, or on a view over one, is one of the package's windowed generic tests
    (macros/tests/refresh_window_tests.sql: not_null_in_refresh_window, unique_in_refresh_window,
    accepted_values_in_refresh_window, relationships_in_refresh_window, or
    unique_combination_of_columns / accepted_range with the optional argument), given
    `refresh_window_date: <date expression>` (a column, or SQL such as `week_start + 6`). It tests:
    - on an incremental `product-metrics refresh`, which sets the environment variable
      PRODUCT_METRICS_TEST_WINDOW_START to the earliest refresh window start of the run (refresh.py),
      the rows dated from it on and the undated ones (var product_metrics__test_window_start does
      the same for a hand-run `dbt build`; the refresh uses the environment because a changed var
      makes dbt re-parse the whole project);
    - everywhere else (full builds, CI, `--full-refresh`) every row: no filter at all.
    Generic tests of the package's own, not a `where` config expanded by an override of dbt's
    get_where_subquery: an override of a `dbt` macro takes effect only in the root project, so in a
    host project the tests would fail. A `where` config on these tests still applies (dbt's own).
    Sound because the refresh leaves the rows before its window as they were when their own run
    tested them, and a key repeated across the window start is marked `duplicate` by the base model
    (keys_before_refresh_window), so a windowed uniqueness test misses nothing. The raw-rows
    reconciliation test stays whole: it is what catches a raw row dated before the window.
#}

{#- The condition on `date_expression` that keeps the window's rows, or none: every row. -#}
{% macro refresh_test_window(date_expression) -%}
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
    {{ return("(" ~ date_expression ~ " is null or " ~ date_expression ~ " >= cast('" ~ window_start ~ "' as date))") }}
{%- endmacro %}


{#- What a windowed test reads: `model`'s rows in the window, or `model` itself (no window, or no
    refresh_window_date given). -#}
{% macro refresh_test_window_rows(model, refresh_window_date) -%}
    {%- set condition = none if refresh_window_date is none else product_metrics.refresh_test_window(refresh_window_date) -%}
    {%- if condition is none -%}
        {{ return(model) }}
    {%- endif -%}
    {{ return("(select * from " ~ model ~ " where " ~ condition ~ ") refresh_window_rows") }}
{%- endmacro %}
