{#
    Var product_metrics__experiments, checked by the first on-run-start hook (validate_settings):
    each mistake stops the run with one line naming the experiment (its id, or its place in the
    list while it has no valid id), the key, the value and what is allowed. Keys and defaults:
    dbt_project.yml; the defaults are filled in by macro experiment_definitions.
#}
{% macro validate_experiments() -%}
    {%- set var_name = 'product_metrics__experiments' -%}
    {%- set experiments = var(var_name, []) -%}
    {%- if experiments is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- if experiments is string or experiments is mapping or experiments is not iterable -%}
        {%- do product_metrics.refuse_setting(var_name, experiments, 'a list of experiments (keys: dbt_project.yml), or [] for none') -%}
    {%- endif -%}
    {%- set catalog_names = product_metrics.experiment_metric_catalog().keys() | sort -%}
    {%- set catalog_text = 'experiment_metric_catalog (' ~ catalog_names | join(', ') ~ ')' -%}
    {%- set known_keys = ['id', 'hypothesis', 'owner', 'start_date', 'end_date', 'variations', 'goal_metrics',
                          'guardrail_metrics', 'conversion_window_days', 'exposure_delay_hours', 'minimum_runtime_days',
                          'cuped_lookback_days', 'capping', 'retention_week', 'alpha', 'correction', 'sequential_n_star'] -%}
    {%- set seen_ids = {} -%}
    {%- for experiment in experiments -%}
        {%- set position = loop.index0 -%}
        {%- if experiment is not mapping -%}
            {%- do product_metrics.refuse_setting(var_name ~ '[' ~ position ~ ']', experiment,
                'an experiment: a mapping with keys id, hypothesis, owner, start_date, end_date, variations and goal_metrics') -%}
        {%- endif -%}

        {#- The id first: the other lines name the experiment by it. -#}
        {%- set id = experiment.get('id') -%}
        {%- if not (id is string and modules.re.match('^[a-z0-9_]+$', id)) -%}
            {%- do product_metrics.refuse_setting(var_name ~ '[' ~ position ~ '].id', id,
                'text of lower-case letters, digits and _ (required)') -%}
        {%- endif -%}
        {%- if id in seen_ids -%}
            {%- do product_metrics.refuse_setting(var_name ~ '[' ~ position ~ '].id', id,
                'unique: experiment ' ~ seen_ids[id] ~ ' of the list has that id too') -%}
        {%- endif -%}
        {%- do seen_ids.update({id: position}) -%}
        {%- set name = var_name ~ '[' ~ id ~ ']' -%}

        {%- for key in experiment.keys() | sort -%}
            {%- if key not in known_keys -%}
                {%- do product_metrics.refuse_setting(name ~ '.' ~ key, experiment[key],
                    'removed, or a key spelled as one of ' ~ known_keys | join(', ')) -%}
            {%- endif -%}
        {%- endfor -%}

        {%- set hypothesis = experiment.get('hypothesis') -%}
        {%- if not (hypothesis is string and hypothesis | trim != '') -%}
            {%- do product_metrics.refuse_setting(name ~ '.hypothesis', hypothesis, 'non-empty text (required)') -%}
        {%- endif -%}

        {%- set owner = experiment.get('owner') -%}
        {%- set owner_allowed = '{name: ..., email: ...}: a non-empty name (required), an email or null' -%}
        {%- if owner is not mapping
                or (owner.keys() | reject('in', ['name', 'email']) | list)
                or not (owner.get('name') is string and owner.get('name') | trim != '')
                or not (owner.get('email') is none or (owner.get('email') is string and '@' in owner.get('email'))) -%}
            {%- do product_metrics.refuse_setting(name ~ '.owner', owner, owner_allowed) -%}
        {%- endif -%}

        {%- for key in ['start_date', 'end_date'] -%}
            {%- set value = experiment.get(key) -%}
            {%- if value is none or value is number or not product_metrics.is_iso_date(value | string) -%}
                {%- do product_metrics.refuse_setting(name ~ '.' ~ key, value, 'a date written YYYY-MM-DD (required)') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if (experiment['end_date'] | string) < (experiment['start_date'] | string) -%}
            {%- do product_metrics.refuse_setting(name ~ '.end_date', experiment['end_date'] | string,
                'on or after start_date ' ~ experiment['start_date'] ~ ' (the last day exposures count)') -%}
        {%- endif -%}

        {%- do product_metrics.validate_experiment_variations(name, experiment.get('variations')) -%}

        {%- set goals = experiment.get('goal_metrics') -%}
        {%- set goal_list = goals if goals is iterable and goals is not string and goals is not mapping else none -%}
        {%- if goal_list is none or goal_list | length == 0 or goal_list | reject('in', catalog_names) | list -%}
            {%- do product_metrics.refuse_setting(name ~ '.goal_metrics', goals,
                'a non-empty list of metrics of ' ~ catalog_text) -%}
        {%- endif -%}
        {%- set guardrails = experiment.get('guardrail_metrics') -%}
        {%- set guardrail_list = guardrails if guardrails is iterable and guardrails is not string and guardrails is not mapping else none -%}
        {%- if guardrails is not none and (guardrail_list is none or guardrail_list | reject('in', catalog_names) | list) -%}
            {%- do product_metrics.refuse_setting(name ~ '.guardrail_metrics', guardrails,
                "null (the goal metrics' governance guardrails) or a list of metrics of " ~ catalog_text) -%}
        {%- endif -%}

        {%- for key, minimum, maximum, unit in [
                ('conversion_window_days', 1, 365, 'days'), ('exposure_delay_hours', 0, 720, 'hours'),
                ('minimum_runtime_days', 1, 365, 'days'), ('cuped_lookback_days', 0, 365, 'days (0 = no CUPED)'),
                ('retention_week', 1, 52, 'weeks')] -%}
            {%- set value = experiment.get(key) -%}
            {%- if value is not none and not product_metrics.is_whole_in_range(value, minimum, maximum) -%}
                {%- do product_metrics.refuse_setting(name ~ '.' ~ key, value,
                    'a whole number of ' ~ unit ~ ' from ' ~ minimum ~ ' to ' ~ maximum) -%}
            {%- endif -%}
        {%- endfor -%}

        {%- set capping = experiment.get('capping') -%}
        {%- if capping is not none -%}
            {%- set cap = product_metrics.settings_number(capping.get('value')) if capping is mapping else none -%}
            {%- set capping_type = capping.get('type') if capping is mapping else none -%}
            {%- if capping is not mapping
                    or (capping.keys() | reject('in', ['type', 'value']) | list)
                    or cap is none
                    or not ((capping_type == 'absolute' and cap > 0) or (capping_type == 'percentile' and cap > 0 and cap < 1)) -%}
                {%- do product_metrics.refuse_setting(name ~ '.capping', capping,
                    'null, {type: absolute, value: a number above 0} or {type: percentile, value: a number between 0 and 1, e.g. 0.99}') -%}
            {%- endif -%}
        {%- endif -%}

        {%- set alpha = experiment.get('alpha') -%}
        {%- set alpha_number = product_metrics.settings_number(alpha) -%}
        {%- if alpha is not none and (alpha_number is none or alpha_number <= 0 or alpha_number > 0.5) -%}
            {%- do product_metrics.refuse_setting(name ~ '.alpha', alpha, 'a number above 0 and at most 0.5 (default 0.05)') -%}
        {%- endif -%}

        {%- set correction = experiment.get('correction') -%}
        {%- if correction is not none and correction not in ['holm', 'benjamini_hochberg'] -%}
            {%- do product_metrics.refuse_setting(name ~ '.correction', correction, "holm or benjamini_hochberg (default holm)") -%}
        {%- endif -%}

        {%- set n_star = experiment.get('sequential_n_star') -%}
        {%- set n_star_number = product_metrics.settings_number(n_star) -%}
        {%- if n_star is not none and (n_star_number is none or n_star_number <= 0) -%}
            {%- do product_metrics.refuse_setting(name ~ '.sequential_n_star', n_star,
                'null (a fixed horizon) or a number above 0 (sequential testing, e.g. 5000)') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}


{#
    An experiment's variations: at least 2 (control first), each {name: non-empty text, unique in
    the experiment, weight: a number above 0}, the weights summing to 1 (within 1e-6).
#}
{% macro validate_experiment_variations(name, variations) -%}
    {%- set allowed = 'a list of at least 2 variations, control first, each {name: ..., weight: ...}' -%}
    {%- if variations is string or variations is mapping or variations is not iterable or variations | length < 2 -%}
        {%- do product_metrics.refuse_setting(name ~ '.variations', variations, allowed) -%}
    {%- endif -%}
    {%- set names = [] -%}
    {%- set weights = [] -%}
    {%- for variation in variations -%}
        {%- set item = name ~ '.variations[' ~ loop.index0 ~ ']' -%}
        {%- if variation is not mapping or (variation.keys() | reject('in', ['name', 'weight']) | list) -%}
            {%- do product_metrics.refuse_setting(item, variation, '{name: ..., weight: ...}') -%}
        {%- endif -%}
        {%- set variation_name = variation.get('name') -%}
        {%- if not (variation_name is string and variation_name | trim != '' and variation_name == variation_name | trim) -%}
            {%- do product_metrics.refuse_setting(item ~ '.name', variation_name, 'non-empty text without leading or trailing spaces') -%}
        {%- endif -%}
        {%- if variation_name in names -%}
            {%- do product_metrics.refuse_setting(item ~ '.name', variation_name, 'unique within the experiment') -%}
        {%- endif -%}
        {%- do names.append(variation_name) -%}
        {%- set weight = variation.get('weight') -%}
        {%- set weight_number = product_metrics.settings_number(weight) -%}
        {%- if weight_number is none or weight_number <= 0 -%}
            {%- do product_metrics.refuse_setting(item ~ '.weight', weight, 'a number above 0 (its share of the traffic)') -%}
        {%- endif -%}
        {%- do weights.append(weight_number) -%}
    {%- endfor -%}
    {%- set total = weights | sum -%}
    {%- if total < 1 - 0.000001 or total > 1 + 0.000001 -%}
        {%- do product_metrics.refuse_setting(name ~ '.variations', variations,
            'weights summing to 1 (these sum to ' ~ (total | round(6)) ~ ')') -%}
    {%- endif -%}
{%- endmacro %}


{# A whole number (an integer, or text of digits) from minimum to maximum. #}
{% macro is_whole_in_range(value, minimum, maximum) -%}
    {%- set is_whole = (value is integer and value is not boolean)
        or (value is string and modules.re.match('^[0-9]+$', value)) -%}
    {{ return(is_whole and value | int >= minimum and value | int <= maximum) }}
{%- endmacro %}
