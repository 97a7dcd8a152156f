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


{#
    Per user and active date, the last date that active date keeps the user in the 7-day (WAU) and
    the N-day (MAU, var product_metrics__mau_window_days) window. A user's intervals never overlap,
    so a running sum of +1 at each start and -1 after each end counts distinct users per date: the
    rolling distinct count without a range join. Columns: user_id, activity_date, wau_end_date, mau_end_date.
#}
{% macro activity_intervals(user_days_relation) -%}
    {%- set mau_days = var('product_metrics__mau_window_days', 30) | int -%}
    select
        user_id,
        activity_date,
        {{ window_interval_end('activity_date', 'next_activity_date', 7) }} as wau_end_date,
        {{ window_interval_end('activity_date', 'next_activity_date', mau_days) }} as mau_end_date
    from (
        select
            user_id,
            activity_date,
            lead(activity_date) over (partition by user_id order by activity_date) as next_activity_date
        from {{ user_days_relation }}
    ) as user_days_with_next
{%- endmacro %}
