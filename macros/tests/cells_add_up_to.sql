{#-
    A cell table (fct_metric_segment_cells' columns: metric_name, period_grain, period_start, the cell's
    `measure`) against the table that defines the metric: for every period, the sum of the cells'
    `measure` (numerator or denominator) of `metric_name` equals `reference_value` of the `reference`
    row with the same grain (`reference_grain`: a column or a quoted literal) and period start
    (`reference_period`); `reference_where` selects the comparable rows. A period missing on one side
    counts as 0 there. Returns the periods that do not add up (relative `tolerance`: 0 for counts;
    sums of doubles depend on the order they are added in).
-#}
{% test cells_add_up_to(
    model, metric_name, reference, reference_period, reference_value,
    reference_grain="'week'", measure='numerator', reference_where=none, tolerance=0
) %}
    with

    cell_sums as (
        select
            period_grain,
            period_start,
            sum({{ measure }}) as summed_value
        from {{ model }}
        where metric_name = '{{ metric_name }}'
        group by period_grain, period_start
    ),

    reference_rows as (
        select
            {{ reference_grain }} as period_grain,
            {{ reference_period }} as period_start,
            {{ reference_value }} as reference_value
        from {{ reference }}
        {% if reference_where %}where {{ reference_where }}{% endif %}
    ),

    compared as (
        select
            coalesce(reference_rows.period_grain, cell_sums.period_grain) as period_grain,
            coalesce(reference_rows.period_start, cell_sums.period_start) as period_start,
            coalesce(reference_rows.reference_value, 0) as reference_value,
            coalesce(cell_sums.summed_value, 0) as summed_value
        from reference_rows
        full outer join cell_sums
            on reference_rows.period_grain = cell_sums.period_grain
                and reference_rows.period_start = cell_sums.period_start
    )

    select *
    from compared
    where abs(reference_value - summed_value) > {{ tolerance }} * greatest(1, abs(reference_value))
{% endtest %}
