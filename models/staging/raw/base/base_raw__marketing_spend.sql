-- Every raw marketing_spend row, typed, with the reason it is rejected (null = accepted).
-- The table has no key (METRICS_SPEC section 1): no row is ever a `duplicate`, and valid rows for
-- the same day, channel and campaign are all kept, to add up wherever spend is summed. A rejected
-- row is named by its whole raw row as text, `spend_date|channel|campaign|spend_usd` (DECISIONS.md).
with

source as (
    select * from {{ product_metrics.raw_table('marketing_spend') }}
),

as_text as (
    select
        coalesce(cast(spend_date as {{ dbt.type_string() }}), '')
        || '|' || coalesce(cast(channel as {{ dbt.type_string() }}), '')
        || '|' || coalesce(cast(campaign as {{ dbt.type_string() }}), '')
        || '|' || coalesce(cast(spend_usd as {{ dbt.type_string() }}), '') as source_key,
        {{ raw_text('spend_date') }} as spend_date_text,
        lower({{ raw_text('channel') }}) as channel,
        {{ raw_text('campaign') }} as campaign,
        {{ raw_text('spend_usd') }} as spend_usd_text,
        {{ raw_record(['spend_date', 'channel', 'campaign', 'spend_usd']) }} as raw_record
    from source
),

typed as (
    select
        *,
        -- Spend is booked per calendar day: the date is taken as is, not shifted to the reporting zone.
        cast({{ product_metrics.try_cast('spend_date_text', dbt.type_timestamp()) }} as date) as spend_date,
        {{ product_metrics.try_cast('spend_usd_text', dbt.type_numeric()) }} as spend_usd
    from as_text
),

checked as (
    select
        *,
        case
            when {{ failed_cast('spend_date_text', 'spend_date') }}
                or {{ failed_cast('spend_usd_text', 'spend_usd') }} then 'invalid_value'
            when spend_date is null then 'missing_timestamp'
            when channel is null then 'missing_channel'
            when spend_usd is null or spend_usd < 0 then 'invalid_amount'
        end as rejection_reason
    from typed
)

select
    spend_date,
    channel,
    campaign,
    spend_usd,
    source_key,
    rejection_reason,
    case when rejection_reason is not null then raw_record end as raw_record
from checked
