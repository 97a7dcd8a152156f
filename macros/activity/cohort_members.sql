{#
    Each user of a cohorted relation (int_users_cohorted's columns) once per cohort granularity:
    cohort_granularity 'week' with their signup week, 'month' with their signup month.
    Columns: cohort_granularity, user_id, cohort_start.
#}
{% macro cohort_members(users_relation) -%}
    select
        'week' as cohort_granularity,
        user_id,
        cohort_week as cohort_start
    from {{ users_relation }}
    union all
    select
        'month' as cohort_granularity,
        user_id,
        cohort_month as cohort_start
    from {{ users_relation }}
{%- endmacro %}
