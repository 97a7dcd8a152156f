{#
    The last date a user counts in an N-day rolling window thanks to one active date: N-1 days
    later, or the day before their next active date (which opens the next interval).
#}
{% macro window_interval_end(activity_date, next_activity_date, window_days) -%}
    case
        when {{ next_activity_date }} is not null
            and {{ next_activity_date }} <= {{ add_days(activity_date, window_days - 1) }}
            then {{ add_days(next_activity_date, -1) }}
        else {{ add_days(activity_date, window_days - 1) }}
    end
{%- endmacro %}
