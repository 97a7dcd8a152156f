{#
    Each user of a cohorted relation (int_users_cohorted's columns) once per cohort granularity:
    cohort_granularity 'week' with their signup week, 'month' with their signup month.
    Columns: cohort_granularity, user_id, cohort_start, then the `columns` asked for.
#}
{% macro cohort_members(users_relation, columns=[]) -%}
    {%- for granularity in ['week', 'month'] %}
    select
        '{{ granularity }}' as cohort_granularity,
        user_id,
        cohort_{{ granularity }} as cohort_start
        {%- for column in columns %},
        {{ column }}
        {%- endfor %}
    from {{ users_relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}


{#
    Period k of a cohort is [cohort_start + k periods, cohort_start + k+1 periods), a period being
    a week or a calendar month (cohort_granularity). A cohort week starts on the same weekday as
    the week_start of a date, so whole weeks from it to a period's start are the period number.
#}
{% macro cohort_period_start(cohort_granularity, cohort_start, period_number) -%}
    case {{ cohort_granularity }}
        when 'week' then {{ add_days(cohort_start, '7 * (' ~ period_number ~ ')') }}
        else {{ add_months(cohort_start, period_number) }}
    end
{%- endmacro %}

{% macro cohort_period_number(cohort_granularity, cohort_start, period_start) -%}
    case {{ cohort_granularity }}
        when 'week' then {{ weeks_between(cohort_start, period_start) }}
        else {{ months_between(cohort_start, period_start) }}
    end
{%- endmacro %}
