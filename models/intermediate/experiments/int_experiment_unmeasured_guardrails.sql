-- The default guardrails (governance guardrails of an experiment's goal metrics) that the
-- experiment cannot measure per exposed user, with the reason: reported, never silently dropped.
{% set rows = [] %}
{% for experiment in product_metrics.experiment_definitions() %}
    {% for guardrail in experiment.unmeasured_guardrails %}
        {% do rows.append([experiment.id, guardrail.name, guardrail.reason]) %}
    {% endfor %}
{% endfor %}

with

unmeasured as (
    {{ product_metrics.experiment_rows([
        ('experiment_id', dbt.type_string()),
        ('metric_name', dbt.type_string()),
        ('reason', dbt.type_string()),
    ], rows) }}
)

select * from unmeasured
