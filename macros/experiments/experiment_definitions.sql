{#
    The experiments of var product_metrics__experiments, normalised: the defaults of every optional
    key filled in, the metrics resolved. The on-run-start hook has refused anything malformed
    (validate_experiments); dbt parses the models before that hook runs, so a malformed item or
    value is skipped here rather than failing the parse. Each item:

    id, hypothesis, owner_name, owner_email (none when not given), start_date / end_date
    ('YYYY-MM-DD'), variations [{name, weight, index}] (index 0 = control), the settings with their
    defaults (experiment_setting_defaults), capping_type / capping_value (none = no capping),
    metrics [{name, role, kind, direction, unit, window_start_days, window_end_days}] and
    unmeasured_guardrails [{name, reason, short_reason}] (short_reason: 'a percentile' when the
    governance formula is a percentile or median, else 'no per-user value').

    Metrics: the goal metrics, then the guardrails. guardrail_metrics null (or absent) = the goal
    metrics' governance guardrails (config.meta.governance.guardrails of the metric, graph.metrics);
    those the catalog (experiment_metric_catalog) cannot measure per user are listed as unmeasured.
    A metric that is both a goal and a guardrail is a goal. Direction and unit are the governance
    meta's, read when the models execute (the graph is empty while dbt parses).
#}
{% macro experiment_definitions() -%}
    {%- set experiments = var('product_metrics__experiments', []) or [] -%}
    {%- set catalog = product_metrics.experiment_metric_catalog() -%}
    {#- Unqualified: a unit test overrides it by this name (a graph without metrics). -#}
    {%- set governance = experiment_metric_governance() -%}
    {%- set defaults = product_metrics.experiment_setting_defaults() -%}
    {%- set definitions = [] -%}
    {%- for experiment in (experiments if experiments is iterable and experiments is not string and experiments is not mapping else []) if experiment is mapping -%}
        {%- set owner = experiment.get('owner') if experiment.get('owner') is mapping else {} -%}
        {%- set definition = {
            'id': experiment.get('id') | string,
            'hypothesis': experiment.get('hypothesis'),
            'owner_name': owner.get('name'),
            'owner_email': owner.get('email'),
            'start_date': experiment.get('start_date') | string,
            'end_date': experiment.get('end_date') | string,
        } -%}
        {%- for key, default in defaults.items() -%}
            {%- set value = experiment.get(key) -%}
            {%- do definition.update({key: default if value is none else value}) -%}
        {%- endfor -%}
        {%- set capping = experiment.get('capping') if experiment.get('capping') is mapping else {} -%}
        {%- do definition.update({'capping_type': capping.get('type'), 'capping_value': capping.get('value')}) -%}

        {%- set variations = [] -%}
        {%- for variation in product_metrics.experiment_list(experiment.get('variations')) if variation is mapping -%}
            {%- do variations.append({'name': variation.get('name') | string, 'weight': variation.get('weight'),
                                      'index': loop.index0}) -%}
        {%- endfor -%}
        {%- do definition.update({'variations': variations}) -%}

        {%- set goals = [] -%}
        {%- for name in product_metrics.experiment_list(experiment.get('goal_metrics')) -%}
            {%- if name in catalog and name not in goals -%}{%- do goals.append(name) -%}{%- endif -%}
        {%- endfor -%}
        {%- set guardrails = [] -%}
        {%- set unmeasured = [] -%}
        {%- set named_guardrails = experiment.get('guardrail_metrics') -%}
        {%- if named_guardrails is none -%}
            {%- for goal in goals -%}
                {%- for name in (governance.get(goal) or {}).get('guardrails') or [] -%}
                    {%- if name in goals or name in guardrails or name in unmeasured | map(attribute='name') | list -%}
                    {%- elif name in catalog -%}
                        {%- do guardrails.append(name) -%}
                    {%- else -%}
                        {%- set formula = ((governance.get(name) or {}).get('formula') or '') | lower -%}
                        {%- set percentile = formula.startswith('percentile') or formula.startswith('median') -%}
                        {%- do unmeasured.append({'name': name, 'reason': 'a governance guardrail of ' ~ goal
                            ~ ' that experiment_metric_catalog cannot measure per exposed user',
                            'short_reason': 'a percentile' if percentile else 'no per-user value'}) -%}
                    {%- endif -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- else -%}
            {%- for name in product_metrics.experiment_list(named_guardrails) -%}
                {%- if name in catalog and name not in goals and name not in guardrails -%}{%- do guardrails.append(name) -%}{%- endif -%}
            {%- endfor -%}
        {%- endif -%}

        {%- set metrics = [] -%}
        {%- for role, names in [('goal', goals), ('guardrail', guardrails)] -%}
            {%- for name in names -%}
                {%- set entry = catalog[name] -%}
                {%- set window = product_metrics.experiment_metric_window(entry['window'], definition) -%}
                {%- do metrics.append({
                    'name': name, 'role': role, 'kind': entry['kind'],
                    'direction': (governance.get(name) or {}).get('direction'),
                    'unit': (governance.get(name) or {}).get('unit'),
                    'window_start_days': window[0], 'window_end_days': window[1],
                }) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- do definition.update({'metrics': metrics, 'unmeasured_guardrails': unmeasured}) -%}
        {%- do definitions.append(definition) -%}
    {%- endfor -%}
    {{ return(definitions) }}
{%- endmacro %}


{# A list of the var as it is; anything else (a mistake the hook refuses) as no items. #}
{% macro experiment_list(value) -%}
    {{ return(value if value is iterable and value is not string and value is not mapping else []) }}
{%- endmacro %}


{# The optional settings of an experiment and their defaults (capping and guardrails aside). #}
{% macro experiment_setting_defaults() -%}
    {{ return({
        'conversion_window_days': 14,
        'exposure_delay_hours': 0,
        'minimum_runtime_days': 14,
        'cuped_lookback_days': 14,
        'retention_week': 1,
        'alpha': 0.05,
        'correction': 'holm',
        'sequential_n_star': none,
    }) }}
{%- endmacro %}


{#
    [start, end) days after the analysis start of a catalog window: 'conversion' = the experiment's
    conversion_window_days, 'week' = 7 days, 'two_weeks' = 14, 'retention' = week k (days 7k to 7k + 7).
#}
{% macro experiment_metric_window(window, definition) -%}
    {%- if window == 'conversion' -%}
        {{ return([0, definition['conversion_window_days'] | int]) }}
    {%- elif window == 'week' -%}
        {{ return([0, 7]) }}
    {%- elif window == 'two_weeks' -%}
        {{ return([0, 14]) }}
    {%- elif window == 'retention' -%}
        {%- set week = definition['retention_week'] | int -%}
        {{ return([7 * week, 7 * week + 7]) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("experiment_metric_catalog: unknown window '" ~ window ~ "'.") }}
{%- endmacro %}


{#
    Governance meta of the project's metrics by name: {direction, unit, guardrails, formula}. Empty while
    dbt parses (the graph is filled when models execute) and in unit tests, whose graph has no
    metrics: those override this macro with the meta they need.
#}
{% macro experiment_metric_governance() -%}
    {%- set governance = {} -%}
    {%- if execute -%}
        {%- for metric in (graph.get('metrics') or {}).values() -%}
            {%- set meta = (metric.get('config') or {}).get('meta') or metric.get('meta') or {} -%}
            {%- set governed = meta.get('governance') or {} -%}
            {%- do governance.update({metric['name']: {
                'direction': governed.get('direction'),
                'unit': governed.get('unit'),
                'guardrails': governed.get('guardrails') or [],
                'formula': governed.get('formula'),
            }}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(governance) }}
{%- endmacro %}


{#
    Rows as a select: each row a list of values in the order of `columns` ([(name, data type)]),
    cast to the column's type; no rows = an empty select of the same typed columns.
#}
{% macro experiment_rows(columns, rows) -%}
    {%- if rows | length == 0 %}
    select
        {%- for name, data_type in columns %}
        cast(null as {{ data_type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (select 1 as no_row) as no_rows
    where 1 = 0
    {%- endif -%}
    {%- for row in rows %}
    select
        {%- for name, data_type in columns %}
        cast({{ product_metrics.experiment_literal(row[loop.index0]) }} as {{ data_type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (select 1 as one_row) as one_row
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}


{# A value of the var as an SQL literal: null, a number, or text (quoted for this engine). #}
{% macro experiment_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is boolean -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        {{ product_metrics.string_literal(value | string) }}
    {%- endif -%}
{%- endmacro %}
