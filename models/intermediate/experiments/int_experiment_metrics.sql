-- One row per metric an experiment measures: its goal metrics, then its guardrails (named, or by
-- default the goal metrics' governance guardrails the catalog measures), with the catalog's kind,
-- the governance direction and unit, and the per-unit window in days after the analysis start.
{% set rows = [] %}
{% for experiment in product_metrics.experiment_definitions() %}
    {% for metric in experiment.metrics %}
        {% do rows.append([
            experiment.id, metric.name, metric.role, metric.kind, metric.direction, metric.unit,
            metric.window_start_days, metric.window_end_days,
        ]) %}
    {% endfor %}
{% endfor %}

with

metrics as (
    {{ product_metrics.experiment_rows([
        ('experiment_id', dbt.type_string()),
        ('metric_name', dbt.type_string()),
        ('metric_role', dbt.type_string()),
        ('metric_kind', dbt.type_string()),
        ('direction', dbt.type_string()),
        ('unit', dbt.type_string()),
        ('window_start_days', dbt.type_int()),
        ('window_end_days', dbt.type_int()),
    ], rows) }}
)

select * from metrics
