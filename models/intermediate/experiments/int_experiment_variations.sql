-- One row per variation of each experiment (var product_metrics__experiments): its traffic
-- weight and its place in the list (0 = control).
{% set rows = [] %}
{% for experiment in product_metrics.experiment_definitions() %}
    {% for variation in experiment.variations %}
        {% do rows.append([experiment.id, variation.name, variation.index, variation.weight]) %}
    {% endfor %}
{% endfor %}

with

variations as (
    {{ product_metrics.experiment_rows([
        ('experiment_id', dbt.type_string()),
        ('variation', dbt.type_string()),
        ('variation_index', dbt.type_int()),
        ('weight', product_metrics.type_double()),
    ], rows) }}
)

select * from variations
