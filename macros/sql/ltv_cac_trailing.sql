{#
    LTV/CAC over the trailing L months m-L+1..m (var product_metrics__ltv_lookback_months),
    from monthly inputs with one row per month and partition (no gaps):
    active_customers, churn_base_customers, churned_customers, revenue_usd, new_customers, spend_usd.
    Shared by the per-channel and the all-channel tables so the formula is written once.
#}
{% macro ltv_cac_trailing(monthly_relation, partition_columns=[]) -%}
    {%- set lookback = var('product_metrics__ltv_lookback_months', 6) | int -%}
    {%- set margin = var('product_metrics__gross_margin_rate', 0.75) -%}
    {%- set window -%}
        over (
            {% if partition_columns %}partition by {{ partition_columns | join(', ') }}{% endif %}
            order by month_start
            rows between {{ lookback - 1 }} preceding and current row
        )
    {%- endset %}
    with

    trailing_sums as (
        select
            {% for column in partition_columns %}{{ column }},{% endfor %}
            month_start,
            sum(active_customers) {{ window }} as active_customers,
            sum(revenue_usd) {{ window }} as revenue_usd,
            sum(churned_customers) {{ window }} as churned_customers,
            sum(churn_base_customers) {{ window }} as churn_base_customers,
            sum(new_customers) {{ window }} as new_customers,
            sum(spend_usd) {{ window }} as spend_usd
        from {{ monthly_relation }}
    ),

    trailing_rates as (
        select
            *,
            {{ safe_divide('revenue_usd', 'active_customers') }} as arpa_usd,
            {{ safe_divide('churned_customers', 'churn_base_customers') }} as churn_rate,
            {{ safe_divide('spend_usd', 'new_customers') }} as cac_usd
        from trailing_sums
    ),

    trailing_values as (
        select
            *,
            {{ safe_divide('arpa_usd * ' ~ margin, 'churn_rate') }} as ltv_usd
        from trailing_rates
    )

    select
        month_start,
        {% for column in partition_columns %}{{ column }},{% endfor %}
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        cast(revenue_usd as {{ product_metrics.type_double() }}) as revenue_usd,
        arpa_usd,
        cast(churned_customers as {{ dbt.type_bigint() }}) as churned_customers,
        churn_rate,
        ltv_usd,
        cac_usd,
        {{ safe_divide('ltv_usd', 'cac_usd') }} as ltv_cac_ratio,
        {{ safe_divide('cac_usd', 'arpa_usd * ' ~ margin) }} as payback_months
    from trailing_values
{%- endmacro %}
