{#-
    A time series with no gaps: one row per `interval` (day, week or month) between the first and the
    last value of `date_column` (within each `partition_by` group). Returns the missing count.
-#}
{% test no_gaps(model, column_name, interval='day', partition_by=none) %}
    with bounds as (
        select
            {% if partition_by %}{{ partition_by }},{% endif %}
            min({{ column_name }}) as first_value,
            max({{ column_name }}) as last_value,
            count(distinct {{ column_name }}) as distinct_values
        from {{ model }}
        {% if partition_by %}group by {{ partition_by }}{% endif %}
    )
    select *
    from bounds
    where distinct_values <> 1 + {{ dbt.datediff('first_value', 'last_value', interval) }}
{% endtest %}
