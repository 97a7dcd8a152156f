{#- A row-level rule, e.g. `dau <= wau and wau <= mau`; returns the rows that break it. -#}
{% test expression_is_true(model, expression, where_clause=none) %}
    select *
    from {{ model }}
    where
        not ({{ expression }})
        {% if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}
