-- One row: the exclusive end of the data every metric respects (METRICS_SPEC section 2).
-- var product_metrics__as_of_date if set, else the day after the latest valid event date.
{% set as_of_date = var('product_metrics__as_of_date', none) %}

with

events as (
    select * from {{ ref('stg_raw__events') }}
),

latest_event as (
    select max(event_date) as latest_event_date
    from events
),

cutoff as (
    {% if as_of_date %}
    select cast('{{ as_of_date }}' as date) as cutoff_date
    {% else %}
    select {{ add_days('latest_event_date', 1) }} as cutoff_date
    {% endif %}
    from latest_event
)

select
    cutoff_date,
    {{ add_days('cutoff_date', -1) }} as last_included_date,
    -- The last month with data: months after it would be empty, not measured.
    {{ month_start(add_days('cutoff_date', -1)) }} as last_month_start
from cutoff
