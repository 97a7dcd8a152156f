{#- A compound key: one row per combination of the columns (the grain of a metric table).
    refresh_window_date (optional): test only an incremental refresh's window (refresh_test_window). -#}
{% test unique_combination_of_columns(model, combination_of_columns, refresh_window_date=none) %}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as rows_with_this_key
    from {{ product_metrics.refresh_test_window_rows(model, refresh_window_date) }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
