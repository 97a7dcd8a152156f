{#
    Period-over-period comparisons of the long metric table (fct_metric_values), calendar-aligned:
    a period is compared with the period that starts where the calendar says, never with the
    previous row, so a missing period gives a null comparison instead of a comparison across a gap.
#}

{#
    The start of the previous period of the same grain: the day before, the previous Monday week,
    the previous calendar month (whatever its length). A cohort metric's period is its signup
    cohort, so this is the previous cohort.
#}
{% macro previous_period_start(grain_column, start_column) -%}
    case {{ grain_column }}
        when 'day' then {{ product_metrics.add_days(start_column, -1) }}
        when 'week' then {{ product_metrics.add_days(start_column, -7) }}
        when 'month' then {{ product_metrics.add_months(start_column, -1) }}
    end
{%- endmacro %}


{#
    The start of the same period a year earlier: for a day 364 days earlier and for a week 52 weeks
    earlier (the same weekday, so weekday and weekend days are compared with their like), for a month
    the same calendar month of the previous year.
#}
{% macro year_ago_period_start(grain_column, start_column) -%}
    case {{ grain_column }}
        when 'day' then {{ product_metrics.add_days(start_column, -364) }}
        when 'week' then {{ product_metrics.add_days(start_column, -364) }}
        when 'month' then {{ product_metrics.add_months(start_column, -12) }}
    end
{%- endmacro %}


{#
    (value - base) / abs(base) as a double: null when the base is null or 0. Dividing by the absolute
    base keeps the sign of the change when the base is negative (a month whose refunds exceeded sales).
#}
{% macro relative_change(value, base) -%}
    {{ product_metrics.safe_divide('(' ~ value ~ ') - (' ~ base ~ ')', 'abs(' ~ base ~ ')') }}
{%- endmacro %}
