-- Blended and paid CAC per month, over all channels.
with

cac_by_channel as (
    select * from {{ ref('fct_cac_by_channel') }}
),

monthly as (
    select
        month_start,
        sum(spend_usd) as spend_usd,
        sum(new_customers) as new_customers,
        sum(case when is_paid_channel then new_customers else 0 end) as paid_new_customers
    from cac_by_channel
    group by month_start
)

select
    month_start,
    -- The contract's type (a decimal sum widens on DuckDB; PostgreSQL keeps each value's scale).
    cast(spend_usd as {{ dbt.type_numeric() }}) as spend_usd,
    cast(new_customers as {{ dbt.type_bigint() }}) as new_customers,
    cast(paid_new_customers as {{ dbt.type_bigint() }}) as paid_new_customers,
    {{ safe_divide('spend_usd', 'new_customers') }} as blended_cac_usd,
    {{ safe_divide('spend_usd', 'paid_new_customers') }} as paid_cac_usd
from monthly
