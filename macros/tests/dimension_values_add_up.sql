{#-
    Additive metrics of the long metric table: for every metric in `metric_names`, period and
    dimension the metric is cut by, the values of the dimension add up to the overall value.
    A period missing on one side counts as 0 there. Returns the rows that do not add up (relative
    tolerance: sums of doubles depend on the order they are added in).
-#}
{% test dimension_values_add_up(model, metric_names, tolerance=1e-9) %}
    {%- set metric_list -%}
        ({% for name in metric_names %}'{{ name }}'{{ ',' if not loop.last }}{% endfor %})
    {%- endset %}
    with

    metric_rows as (
        select * from {{ model }}
        where metric_name in {{ metric_list }}
    ),

    overall as (
        select
            metric_name,
            period_grain,
            period_start,
            value
        from metric_rows
        where dimension_name = 'overall'
    ),

    dimension_sums as (
        select
            metric_name,
            period_grain,
            period_start,
            dimension_name,
            sum(value) as value
        from metric_rows
        where dimension_name <> 'overall'
        group by metric_name, period_grain, period_start, dimension_name
    ),

    -- Every period of the metric, for every dimension the metric is cut by.
    expected as (
        select
            periods.metric_name,
            periods.period_grain,
            periods.period_start,
            dimensions.dimension_name
        from (
            select metric_name, period_grain, period_start from overall
            union
            select metric_name, period_grain, period_start from dimension_sums
        ) as periods
        inner join (
            select distinct metric_name, dimension_name from dimension_sums
        ) as dimensions on periods.metric_name = dimensions.metric_name
    ),

    compared as (
        select
            expected.metric_name,
            expected.period_grain,
            expected.period_start,
            expected.dimension_name,
            coalesce(overall.value, 0) as overall_value,
            coalesce(dimension_sums.value, 0) as dimension_sum
        from expected
        left join overall
            on expected.metric_name = overall.metric_name
                and expected.period_grain = overall.period_grain
                and expected.period_start = overall.period_start
        left join dimension_sums
            on expected.metric_name = dimension_sums.metric_name
                and expected.period_grain = dimension_sums.period_grain
                and expected.period_start = dimension_sums.period_start
                and expected.dimension_name = dimension_sums.dimension_name
    )

    select *
    from compared
    where abs(overall_value - dimension_sum) > {{ tolerance }} * greatest(1, abs(overall_value))
{% endtest %}
