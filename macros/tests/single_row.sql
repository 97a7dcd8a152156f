{#- The model holds exactly one row (e.g. the reporting cutoff). -#}
{% test single_row(model) %}
    select count(*) as row_count
    from {{ model }}
    having count(*) <> 1
{% endtest %}
