{#- One value of the column within each group of `group_by` columns, e.g. a cohort's size for
    every period of the cohort. Returns the groups holding more than one value. -#}
{% test one_value_per_group(model, column_name, group_by) %}
    select
        {{ group_by | join(', ') }},
        count(distinct {{ column_name }}) as distinct_values
    from {{ model }}
    group by {{ group_by | join(', ') }}
    having count(distinct {{ column_name }}) > 1
{% endtest %}
