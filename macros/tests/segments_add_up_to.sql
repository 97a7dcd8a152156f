{#-
    A per-segment model (columns dimension_name, dimension_value, `keys`, `measures`) against the
    overall table it splits: for every dimension, the values add up to the `reference` row with the
    same keys (`reference_where` selects its comparable rows). Counts must match exactly; a key missing
    on one side counts as 0 there. Returns the rows that do not add up.
-#}
{% test segments_add_up_to(model, reference, keys, measures, reference_where=none) %}
    with

    dimension_sums as (
        select
            dimension_name,
            {% for key in keys %}{{ key }},{% endfor %}
            {% for measure in measures %}sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}{% endfor %}
        from {{ model }}
        group by dimension_name, {{ keys | join(', ') }}
    ),

    reference_rows as (
        select
            {% for key in keys %}{{ key }},{% endfor %}
            {% for measure in measures %}{{ measure }}{{ ',' if not loop.last }}{% endfor %}
        from {{ reference }}
        {% if reference_where %}where {{ reference_where }}{% endif %}
    ),

    dimensions as (
        select distinct dimension_name from {{ model }}
    ),

    expected as (
        select
            dimensions.dimension_name,
            {% for key in keys %}reference_rows.{{ key }},{% endfor %}
            {% for measure in measures %}reference_rows.{{ measure }}{{ ',' if not loop.last }}{% endfor %}
        from reference_rows
        cross join dimensions
    ),

    compared as (
        select
            coalesce(expected.dimension_name, dimension_sums.dimension_name) as dimension_name,
            {% for key in keys %}coalesce(expected.{{ key }}, dimension_sums.{{ key }}) as {{ key }},{% endfor %}
            {% for measure in measures %}
            coalesce(expected.{{ measure }}, 0) as reference_{{ measure }},
            coalesce(dimension_sums.{{ measure }}, 0) as summed_{{ measure }}{{ ',' if not loop.last }}
            {% endfor %}
        from expected
        full outer join dimension_sums
            on expected.dimension_name = dimension_sums.dimension_name
            {% for key in keys %}
            and expected.{{ key }} = dimension_sums.{{ key }}
            {% endfor %}
    )

    select *
    from compared
    where
        {% for measure in measures %}
        reference_{{ measure }} <> summed_{{ measure }}{{ ' or' if not loop.last }}
        {% endfor %}
{% endtest %}
