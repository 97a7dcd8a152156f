{#- dbt's built-in tests on the rows of an incremental refresh's window (macro refresh_test_window:
    every row on full builds). refresh_window_date: the rows' date, a column or SQL expression. -#}

{% test not_null_in_refresh_window(model, column_name, refresh_window_date) %}
    {{ adapter.dispatch('test_not_null', 'dbt')(product_metrics.refresh_test_window_rows(model, refresh_window_date), column_name) }}
{% endtest %}


{% test unique_in_refresh_window(model, column_name, refresh_window_date) %}
    {{ adapter.dispatch('test_unique', 'dbt')(product_metrics.refresh_test_window_rows(model, refresh_window_date), column_name) }}
{% endtest %}


{% test accepted_values_in_refresh_window(model, column_name, values, refresh_window_date, quote=True) %}
    {{ adapter.dispatch('test_accepted_values', 'dbt')(product_metrics.refresh_test_window_rows(model, refresh_window_date), column_name, values, quote) }}
{% endtest %}


{% test relationships_in_refresh_window(model, column_name, to, field, refresh_window_date) %}
    {{ adapter.dispatch('test_relationships', 'dbt')(product_metrics.refresh_test_window_rows(model, refresh_window_date), column_name, to, field) }}
{% endtest %}
