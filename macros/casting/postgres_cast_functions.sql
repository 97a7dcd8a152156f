{#
    PostgreSQL: the functions behind postgres__try_cast for dates and timestamps, which a pattern
    alone cannot validate (2024-02-30, 25:00). Each returns null instead of raising when its text
    does not cast. Created (or replaced) by the on-run-start hook in the target's own schema, so
    `dbt build`, `dbt test` (unit tests too) and `dbt run` find them.

    - Only ISO 8601 text is read (a four-digit year first: `2026-01-06`, `2026-01-06 10:00:00`,
      `2026-01-06T10:00:00Z`, `...+02:00`), as DuckDB reads it; PostgreSQL's other spellings
      ('now', 'today', 'epoch', 'infinity', 'Jan 6 2026', '01/06/2026') are not observation
      times and are invalid.
    - TimeZone and DateStyle are fixed on the function: offset-less text is UTC and parsing does
      not depend on the session or the server's settings (the same result on every connection).
#}
{% macro postgres__cast_function_name(kind) -%}
    {{ adapter.quote(target.schema) }}.product_metrics_try_cast_{{ kind }}
{%- endmacro %}

{% macro postgres__create_cast_functions() -%}
    create schema if not exists {{ adapter.quote(target.schema) }};
    {% for kind, sql_type in [('date', 'date'), ('timestamp', 'timestamp'), ('timestamptz', 'timestamptz')] %}
    create or replace function {{ product_metrics.postgres__cast_function_name(kind) }}(value text)
    returns {{ sql_type }}
    language plpgsql immutable strict parallel safe
    set timezone = 'UTC'
    set datestyle = 'ISO, YMD'
    as $product_metrics$
    begin
        -- ISO text only: a four-digit year first, and no era (PostgreSQL would read '... BC').
        if value !~ '^\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ]|\s*$)' or value ~* '\s(BC|AD)\s*$' then
            return null;
        end if;
        begin
            return cast(value as {{ sql_type }});
        exception when data_exception then
            return null;
        end;
    end
    $product_metrics$;
    {% endfor %}
{%- endmacro %}
