-- Every raw row that did not pass staging, with the one reason it was rejected.
-- With the staging models this accounts for every raw row: raw = accepted + rejected.
{% set sources = [
    'users', 'events', 'orders', 'marketing_spend', 'nps_responses', 'invites', 'ai_suggestions', 'model_predictions',
    'experiment_exposures',
] %}

with

{% for source_table in sources %}
rejected_{{ source_table }} as (
    {{ rejected_rows_of(source_table, 'base_raw__' ~ source_table) }}
),

{% endfor %}
unioned as (
    {% for source_table in sources %}
    select * from rejected_{{ source_table }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from unioned
