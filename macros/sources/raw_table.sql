{#
    The relation a staging model reads for raw table `name`.

    A fresh clone has no raw data, yet `dbt build` should work: the sample seeds (schema
    `raw_sample`, never the raw schema, so generated data is never overwritten) stand in.
    var product_metrics__use_sample_data: true / false, or `auto` = the samples only when the
    raw `users` table does not exist. The choice is made once for all tables, never per table,
    so raw and sample rows are never mixed.
#}
{% macro raw_table(name) -%}
    {#- Parsing references both, so that dbt orders the seeds before staging; running resolves only
        the chosen one (a unit test then reads only its input: dbt 1.10 names the fixtures of
        source raw.users and seed sample_users, alias users, alike and fails on the duplicate). -#}
    {%- if not execute -%}
        {%- do source('raw', name) -%}
        {%- do ref('sample_' ~ name) -%}
        {{ return(source('raw', name)) }}
    {%- endif -%}
    {{ return(ref('sample_' ~ name) if product_metrics.use_sample_data() else source('raw', name)) }}
{%- endmacro %}


{% macro use_sample_data() -%}
    {%- set setting = var('product_metrics__use_sample_data', 'auto') -%}
    {%- if setting in [true, 'true', 'True'] -%}
        {{ return(true) }}
    {%- elif setting in [false, 'false', 'False'] -%}
        {{ return(false) }}
    {%- elif not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set users = source('raw', 'users') -%}
    {%- set found = adapter.get_relation(database=users.database, schema=users.schema, identifier=users.identifier) -%}
    {%- if found is none -%}
        {{ log("product_metrics: raw table " ~ users ~ " not found; building from the sample seeds (schema raw_sample). Set var product_metrics__use_sample_data to false to require raw data.", info=false) }}
    {%- endif -%}
    {{ return(found is none) }}
{%- endmacro %}
