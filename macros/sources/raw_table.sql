{#
    The relation a base model reads for raw input `name` (METRICS_SPEC section 1).

    var product_metrics__<name>_relation (default null): a relation of the host's project, written
    as Jinja that dbt renders in the model's context, e.g. "{{ ref('my_events') }}" or
    "{{ source('app', 'events') }}"; a ref makes dbt build that model first. Null: source('raw',
    name), placed by vars product_metrics__raw_database / _raw_schema / _<name>_identifier.

    The source is referenced either way, so unit tests give their rows as source('raw', name)
    (each pins the relation vars to null). When the model runs (`dbt run` / `build`), an input that
    does not exist stops it with one line naming the relation and the vars that place it
    (require_raw_input).

    `optional=true` (experiment_exposures): when the raw source does not exist, the models read
    empty_raw_input(name), a subquery with no rows and the input's typed columns (callers give it an
    alias), so a project without experiments builds. A relation handed over by var is never optional:
    naming one that does not exist is a mistake.
#}
{% macro raw_table(name, optional=false) -%}
    {%- set raw_source = source('raw', name) -%}
    {%- set given = product_metrics.raw_relation_var(name) -%}
    {%- if given is none -%}
        {%- set relation = raw_source -%}
    {%- else -%}
        {%- set relation = product_metrics.relation_from_text(given) -%}
    {%- endif -%}
    {%- if optional and given is none and execute and model.resource_type != 'unit_test'
            and adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) is none -%}
        {{ return(product_metrics.empty_raw_input(name)) }}
    {%- endif -%}
    {#- Only when the model runs: `dbt compile` or `docs generate` before the inputs are built is fine. -#}
    {%- if execute and model.resource_type != 'unit_test' and flags.WHICH in ['run', 'build'] -%}
        {%- do product_metrics.require_raw_input(name, relation, given is not none) -%}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}


{# The rendered value of var product_metrics__<name>_relation, none when it is null or blank. #}
{% macro raw_relation_var(name) -%}
    {%- set value = var('product_metrics__' ~ name ~ '_relation', none) -%}
    {%- if value is none or (value | string | trim) == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(value | string | trim) }}
{%- endmacro %}


{#
    A relation from its rendered name (what ref() or source() print): one to three dot-separated
    parts, each bare or quoted with " or `. An ephemeral model prints the name of its CTE.
#}
{% macro relation_from_text(text) -%}
    {%- set parts = [] -%}
    {%- for quoted, backticked, bare in modules.re.findall('"((?:[^"]|"")*)"|`([^`]*)`|([^."`\\s]+)', text) -%}
        {%- do parts.append(quoted | replace('""', '"') if quoted else (backticked or bare)) -%}
    {%- endfor -%}
    {%- if parts | length == 0 or parts | length > 3 -%}
        {{ exceptions.raise_compiler_error("product_metrics: '" ~ text ~ "' is not a relation. Set the input's "
            ~ "product_metrics__<table>_relation var to e.g. \"{{ ref('my_events') }}\" or \"{{ source('app', 'events') }}\".") }}
    {%- endif -%}
    {%- set identifier = parts[-1] -%}
    {%- set schema = parts[-2] if parts | length > 1 else (none if identifier.startswith('__dbt__cte__') else target.schema) -%}
    {%- set database = parts[-3] if parts | length > 2 else (none if target.type == 'spark' or schema is none else target.database) -%}
    {{ return(api.Relation.create(database=database, schema=schema, identifier=identifier)) }}
{%- endmacro %}


{# Stop with one line when raw input `name` does not exist (an ephemeral model's CTE always does). #}
{% macro require_raw_input(name, relation, from_relation_var) -%}
    {%- if relation.schema is none or adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) is not none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set relation_var = 'product_metrics__' ~ name ~ '_relation' -%}
    {%- if from_relation_var -%}
        {%- set placed_by = 'var ' ~ relation_var -%}
        {%- set what_to_do = 'Create it, or point ' ~ relation_var ~ ' at a model or source that exists.' -%}
    {%- else -%}
        {%- set var_names = ['product_metrics__raw_database'] if var('product_metrics__raw_database', none) else [] -%}
        {%- set placed_by = 'vars ' ~ (var_names + ['product_metrics__raw_schema', 'product_metrics__' ~ name ~ '_identifier']) | join(', ') -%}
        {%- set what_to_do = 'Create it or point ' ~ relation_var ~ ' at your model.' -%}
    {%- endif -%}
    {{ exceptions.raise_compiler_error('product_metrics: raw input ' ~ name ~ ' not found: ' ~ relation ~ ' (' ~ placed_by ~ '). ' ~ what_to_do) }}
{%- endmacro %}


{#
    An optional raw input that does not exist: no rows, its columns typed as the base model reads
    them (a relation, or text that names none: macro raw_column_type finds no columns in it).
#}
{% macro empty_raw_input(name) -%}
    {%- set columns = {
        'experiment_exposures': [('exposure_id', dbt.type_string()), ('experiment_id', dbt.type_string()),
            ('variation', dbt.type_string()), ('user_id', dbt.type_string()), ('exposed_at', dbt.type_timestamp())],
    } -%}
    {%- if name not in columns -%}
        {{ exceptions.raise_compiler_error('product_metrics: raw input ' ~ name ~ ' is not optional.') }}
    {%- endif -%}
    {%- set items = [] -%}
    {%- for column, data_type in columns[name] -%}
        {%- do items.append('cast(null as ' ~ data_type ~ ') as ' ~ column) -%}
    {%- endfor -%}
    {{ return('(select ' ~ items | join(', ') ~ ' from (select 1 as no_input) as no_input where 1 = 0)') }}
{%- endmacro %}
