{#
    How DAU, WAU and MAU change on each date, from activity intervals (activity_intervals' columns
    activity_date, wau_end_date and mau_end_date, plus the `partition_by` columns): every count
    gains the users whose interval starts on a date; DAU loses them the day after, WAU and MAU the
    day after their WAU or MAU end. A running sum of the changes over the dates (per partition) is
    the number of users counted on each date.
    The intervals are counted per start and end date first, so a few hundred dates (times the
    partitions), not one row per user-day, go into the union.
    Columns: change_date, the `partition_by` columns, dau_change, wau_change, mau_change.
#}
{% macro activity_count_changes(intervals_relation, partition_by=[]) -%}
    {%- set group_prefix = partition_by | join(', ') ~ (', ' if partition_by else '') -%}
    {%- set branches = [
        ('activity_date', 0, 'count(*)', 'count(*)', 'count(*)'),
        ('activity_date', 1, '-count(*)', '0', '0'),
        ('wau_end_date', 1, '0', '-count(*)', '0'),
        ('mau_end_date', 1, '0', '0', '-count(*)'),
    ] -%}
    select
        change_date,
        {%- for column in partition_by %}
        {{ column }},
        {%- endfor %}
        sum(dau_change) as dau_change,
        sum(wau_change) as wau_change,
        sum(mau_change) as mau_change
    from (
        {%- for date_column, days_after, dau_change, wau_change, mau_change in branches %}
        select
            {{ product_metrics.add_days(date_column, days_after) if days_after else date_column }} as change_date,
            {%- for column in partition_by %}
            {{ column }},
            {%- endfor %}
            {{ dau_change }} as dau_change,
            {{ wau_change }} as wau_change,
            {{ mau_change }} as mau_change
        from {{ intervals_relation }}
        group by {{ group_prefix }}{{ date_column }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as changes
    group by {{ group_prefix }}change_date
{%- endmacro %}
