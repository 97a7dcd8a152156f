{#
    Segments of the long metric table (fct_metric_values): the overall population
    (dimension_name 'overall', dimension_value 'all') and each value of a user dimension.
#}

{# The user dimensions, named as the columns of int_users_segmented. #}
{% macro user_dimension_names() -%}
    {{ return(['country', 'platform', 'acquisition_channel', 'signup_cohort_month']) }}
{%- endmacro %}


{#
    Rolls additive measures of `relation` up to every segment: one select per dimension, stacked.
    `relation` has the `keys`, the `measures` and one column per dimension (named as the dimension);
    each row is a set of users (or their records) sharing those dimension values. Every user has
    exactly one value of each user dimension, so counts of users and sums add up over the values of a
    dimension. A null value (a record whose user is not a known user) becomes 'unknown', so that
    nothing is lost and the values of a dimension still add up to the overall total.
#}
{% macro roll_up_to_segments(relation, keys, measures, dimensions=none, include_overall=true) -%}
    {%- set dimensions = product_metrics.user_dimension_names() if dimensions is none else dimensions -%}
    {%- set segments = [] -%}
    {%- if include_overall -%}
        {%- do segments.append({'name': 'overall', 'value': "'all'"}) -%}
    {%- endif -%}
    {%- for dimension in dimensions -%}
        {%- do segments.append({'name': dimension, 'value': "coalesce(" ~ dimension ~ ", 'unknown')"}) -%}
    {%- endfor -%}
    {%- for segment in segments %}
    select
        '{{ segment.name }}' as dimension_name,
        {{ segment.value }} as dimension_value,
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    group by {% if segment.name != 'overall' %}{{ segment.value }}, {% endif %}{{ keys | join(', ') }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}


{#
    Each row of `relation` once in each period of `grains` that holds its `date_column`: its day, its
    Monday week, its calendar month (columns period_grain, period_start, period_end — the exclusive end).
#}
{% macro expand_to_periods(relation, date_column, grains=['day', 'week', 'month']) -%}
    {%- set bounds = {
        'day': (date_column, product_metrics.add_days(date_column, 1)),
        'week': (
            product_metrics.week_start(date_column),
            product_metrics.add_days(product_metrics.week_start(date_column), 7),
        ),
        'month': (
            product_metrics.month_start(date_column),
            product_metrics.add_months(product_metrics.month_start(date_column), 1),
        ),
    } -%}
    {%- for grain in grains %}
    select
        {{ relation }}.*,
        '{{ grain }}' as period_grain,
        {{ bounds[grain][0] }} as period_start,
        {{ bounds[grain][1] }} as period_end
    from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
