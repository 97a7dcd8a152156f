-- One row per experiment of var product_metrics__experiments, every default filled in
-- (macro experiment_definitions); no rows when no experiment is defined. unmeasured_guardrails
-- names the defaulted guardrails it cannot measure, so a readout shows what it did not check.
{% set rows = [] %}
{% for experiment in product_metrics.experiment_definitions() %}
    {% set unmeasured = [] %}
    {% for guardrail in experiment.unmeasured_guardrails %}
        {% do unmeasured.append(guardrail.name ~ ' (' ~ guardrail.short_reason ~ ')') %}
    {% endfor %}
    {% do rows.append([
        experiment.id, experiment.hypothesis, experiment.owner_name, experiment.owner_email,
        experiment.start_date, experiment.end_date, experiment.conversion_window_days,
        experiment.exposure_delay_hours, experiment.minimum_runtime_days, experiment.cuped_lookback_days,
        experiment.capping_type, experiment.capping_value, experiment.retention_week, experiment.alpha,
        experiment.correction, experiment.sequential_n_star, unmeasured | join(', ') or none,
    ]) %}
{% endfor %}

with

experiments as (
    {{ product_metrics.experiment_rows([
        ('experiment_id', dbt.type_string()),
        ('hypothesis', dbt.type_string()),
        ('owner_name', dbt.type_string()),
        ('owner_email', dbt.type_string()),
        ('start_date', 'date'),
        ('end_date', 'date'),
        ('conversion_window_days', dbt.type_int()),
        ('exposure_delay_hours', dbt.type_int()),
        ('minimum_runtime_days', dbt.type_int()),
        ('cuped_lookback_days', dbt.type_int()),
        ('capping_type', dbt.type_string()),
        ('capping_value', product_metrics.type_double()),
        ('retention_week', dbt.type_int()),
        ('alpha', product_metrics.type_double()),
        ('correction', dbt.type_string()),
        ('sequential_n_star', product_metrics.type_double()),
        ('unmeasured_guardrails', dbt.type_string()),
    ], rows) }}
)

select * from experiments
