-- Nothing is lost: for every source, raw rows = accepted rows + rejected rows.
-- Returns the sources that do not reconcile. After a refresh, that means raw rows older than its
-- window changed (loaded late, edited or deleted in place): the incremental base models kept their
-- old rows. Fix: product-metrics refresh --full-refresh (the CLI says so: failure_hints.py).
-- experiment_exposures is optional: absent, it reads no rows and reconciles at 0 = 0 + 0.
{% set sources = ['users', 'events', 'orders', 'marketing_spend', 'nps_responses', 'invites', 'ai_suggestions', 'model_predictions',
                  'experiment_exposures'] %}
{% set optional_sources = ['experiment_exposures'] %}

with

counts as (
    {% for source_table in sources %}
    select
        '{{ source_table }}' as source_table,
        (select count(*) from {{ product_metrics.raw_table(source_table, optional=source_table in optional_sources) }} as raw_rows) as raw_rows,
        (select count(*) from {{ ref('stg_raw__' ~ source_table) }}) as accepted_rows,
        (select count(*) from {{ ref('rejected_rows') }} where source_table = '{{ source_table }}') as rejected_rows
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select *
from counts
where raw_rows <> accepted_rows + rejected_rows
