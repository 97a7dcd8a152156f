{#
    Net Promoter Score from counts: 100 × (promoter share − detractor share) of the responses, each
    share a safe_divide (null when there are no responses).
#}
{% macro net_promoter_score(promoters, detractors, responses) -%}
    100 * (
        {{ product_metrics.safe_divide(promoters, responses) }}
        - {{ product_metrics.safe_divide(detractors, responses) }}
    )
{%- endmacro %}
