{#- Values within [min_value, max_value] (either bound optional); nulls pass.
    refresh_window_date (optional): test only an incremental refresh's window (refresh_test_window). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, refresh_window_date=none) %}
    select {{ column_name }}
    from {{ product_metrics.refresh_test_window_rows(model, refresh_window_date) }}
    where
        {{ column_name }} is not null
        and (
            false
            {% if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
            {% if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
        )
{% endtest %}
