{#
    The records the additive flow metrics count, one row each (metric_name, metric_date, user_id,
    amount): a user on their signup date, a customer on the date of their first positive order, and
    the amount_usd of every valid order before the cutoff (refunds included). `users`, `customers`,
    `orders` and `cutoff` are relations shaped as int_users_cohorted, int_customers_acquired,
    stg_raw__orders and int_reporting_cutoff; `metric_names` maps 'signups', 'new_customers' and
    'revenue_usd' to the metric names the caller uses.
#}
{% macro flow_records(users, customers, orders, cutoff, metric_names) -%}
    select
        '{{ metric_names['signups'] }}' as metric_name,
        {{ users }}.signup_date as metric_date,
        {{ users }}.user_id,
        cast(1 as {{ dbt.type_numeric() }}) as amount
    from {{ users }}
    union all
    select
        '{{ metric_names['new_customers'] }}' as metric_name,
        {{ customers }}.acquired_date as metric_date,
        {{ customers }}.user_id,
        cast(1 as {{ dbt.type_numeric() }}) as amount
    from {{ customers }}
    union all
    select
        '{{ metric_names['revenue_usd'] }}' as metric_name,
        {{ orders }}.order_date as metric_date,
        {{ orders }}.user_id,
        cast({{ orders }}.amount_usd as {{ dbt.type_numeric() }}) as amount
    from {{ orders }}
    cross join {{ cutoff }}
    where {{ orders }}.order_date < {{ cutoff }}.cutoff_date
{%- endmacro %}
