{#
    Building blocks of the reject rules (METRICS_SPEC section 1, "Bad input: nothing is lost").
#}

{#
    Deduplication: among rows with the same key, the earliest timestamp (nulls last) is copy 1
    and is kept and checked; every other copy is a `duplicate`. Ties are broken by the raw
    record's text so the choice never depends on the engine's scan order.
#}
{% macro copy_number(key_column, timestamp_column, tie_breaker) -%}
    row_number() over (
        partition by {{ key_column }}
        order by {{ timestamp_column }} asc nulls last, {{ product_metrics.text_sort_key(tie_breaker) }} asc
    )
{%- endmacro %}


{#
    The rows of CTE `rows` with their `copy_number`, as copy_number numbers them (`tie_breaker`:
    an expression over the rows, computed for the repeated keys' rows only). Only the keys
    that occur more than once are ranked (a sort); every other row is copy 1 as it is read. That
    is cheaper than ranking every row, and the rows keep the order they were read in: a raw table
    loaded in time order stays clustered by date, so a read of a date window (a refresh, its data
    tests) skips the older row groups on DuckDB. A null key is copy 1 (it is `missing_key` anyway).
#}
{% macro number_copies(rows, key_column, timestamp_column, tie_breaker) -%}
    {%- set repeated_keys -%}
        select repeated.{{ key_column }}
        from {{ rows }} as repeated
        group by repeated.{{ key_column }}
        having count(*) > 1
    {%- endset %}
    select
        {{ rows }}.*,
        {{ product_metrics.copy_number(key_column, timestamp_column, tie_breaker) }} as copy_number
    from {{ rows }}
    where {{ rows }}.{{ key_column }} in ({{ repeated_keys }})
    union all
    select
        {{ rows }}.*,
        1 as copy_number
    from {{ rows }}
    where not exists (
        select 1 as is_repeated
        from ({{ repeated_keys }}) as repeated_keys
        where repeated_keys.{{ key_column }} = {{ rows }}.{{ key_column }}
    )
{%- endmacro %}
