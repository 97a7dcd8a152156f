{#
    Access for BI readers. The role named by var product_metrics__bi_role (default
    `bi_reader`) may read the metric tables and nothing else: no raw, staging, intermediate or
    audit data (audit.rejected_rows holds raw records, possibly personal data).

    - the marts folder's post-hook grant_bi_select() grants SELECT on each metric table every
      time it is built (a hook: it runs in the model's context, where the var set by the project
      that installs the package is seen; dbt's `+grants` in a package's dbt_project.yml never sees it).
    - on-run-start: create_bi_role() creates the role when it is missing (NOLOGIN: people and BI
      tools log in as their own users and are granted the role), on engines that have roles.
    - on-run-end: grant_bi_schema_usage() grants USAGE on every schema holding a model with that
      hook (the metric tables' schema only), so the role can reach them.
    Engines without these statements (DuckDB, Spark sessions) run nothing.
#}

{# The role's name, validated: it is written into SQL unquoted (as dbt's own grants write it). #}
{% macro bi_role() -%}
    {%- set role = var('product_metrics__bi_role', none) -%}
    {%- if role is none or role == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.match('^[a-z_][a-z0-9_]{0,62}$', role | string) -%}
        {%- do product_metrics.refuse_setting('product_metrics__bi_role', role,
            'null (no grants) or a lower-case SQL identifier (letters, digits, _)') -%}
    {%- endif -%}
    {{ return(role) }}
{%- endmacro %}


{# on-run-start: objects the models need on this engine (PostgreSQL: the try_cast functions). #}
{% macro create_engine_functions() -%}
    {{ return(adapter.dispatch('create_engine_functions', 'product_metrics')()) }}
{%- endmacro %}

{% macro default__create_engine_functions() -%}
{%- endmacro %}

{% macro postgres__create_engine_functions() -%}
    {{ product_metrics.postgres__create_cast_functions() }}
{%- endmacro %}


{# on-run-start: the BI role exists before dbt grants it SELECT on the metric tables. #}
{% macro create_bi_role() -%}
    {%- set role = product_metrics.bi_role() -%}
    {%- if role is none or not execute -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(adapter.dispatch('create_bi_role', 'product_metrics')(role)) }}
{%- endmacro %}

{% macro default__create_bi_role(role) -%}
{%- endmacro %}

{% macro postgres__create_bi_role(role) -%}
    do $product_metrics$
    begin
        if not exists (select from pg_catalog.pg_roles where rolname = '{{ role }}') then
            create role {{ role }} nologin;
        end if;
    exception
        -- Another run created it at the same moment: fine.
        when duplicate_object or unique_violation then null;
        when insufficient_privilege then
            raise exception 'product_metrics: the BI role "{{ role }}" does not exist and user % may not create it. Ask an administrator to run: create role {{ role }} nologin; (or set var product_metrics__bi_role)', current_user;
    end
    $product_metrics$;
{%- endmacro %}


{# post-hook of the metric tables: SELECT for the BI role, on engines with grants. #}
{% macro grant_bi_select(relation) -%}
    {%- set role = product_metrics.bi_role() -%}
    {%- if role is none or not execute or target.type in ['duckdb', 'spark'] -%}
        {{ return('') }}
    {%- endif -%}
    {{ return('grant select on ' ~ relation ~ ' to ' ~ role) }}
{%- endmacro %}


{#
    on-run-end: USAGE on the schemas of the models that grant SELECT to the BI role (their post-hook
    calls grant_bi_select), so the role can reach them. Schemas that do not exist (yet) are skipped.
#}
{% macro grant_bi_schema_usage() -%}
    {%- set role = product_metrics.bi_role() -%}
    {%- if role is none or not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set schemas = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- for hook in node.config.get('post-hook') or [] if 'grant_bi_select' in hook.sql and node.schema not in schemas -%}
            {%- do schemas.append(node.schema) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(adapter.dispatch('grant_bi_schema_usage', 'product_metrics')(role, schemas | sort)) }}
{%- endmacro %}

{% macro default__grant_bi_schema_usage(role, schemas) -%}
{%- endmacro %}

{% macro postgres__grant_bi_schema_usage(role, schemas) -%}
    {%- if schemas -%}
    do $product_metrics$
    declare
        schema_name text;
    begin
        foreach schema_name in array array[{% for schema in schemas %}'{{ schema }}'{{ ', ' if not loop.last }}{% endfor %}]::text[] loop
            if exists (select from pg_catalog.pg_namespace where nspname = schema_name) then
                execute format('grant usage on schema %I to {{ role }}', schema_name);
            end if;
        end loop;
    end
    $product_metrics$;
    {%- endif -%}
{%- endmacro %}
