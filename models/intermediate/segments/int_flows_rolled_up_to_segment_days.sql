-- Daily totals of the additive flow metrics, overall and per segment, for every date from the
-- segment's first record to the day before the cutoff (days without a record are 0):
--   signups        users by signup date (int_users_cohorted)
--   new_customers  customers by the date of their first positive order (int_customers_acquired, as CAC)
--   revenue_usd    amount_usd of every valid order by order date, refunds included
--   spend_usd      positive marketing spend by spend date; overall and per acquisition channel only
--                  (spend belongs to a channel, not to users)
-- Money stays decimal here so that sums over days, channels and segments are exact.
with

users as (
    select * from {{ ref('int_users_cohorted') }}
),

segmented_users as (
    select * from {{ ref('int_users_segmented') }}
),

customers as (
    select * from {{ ref('int_customers_acquired') }}
),

orders as (
    select * from {{ ref('stg_raw__orders') }}
),

spend as (
    select * from {{ ref('stg_raw__marketing_spend') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

numbers as (
    {{ integer_series() }}
),

user_records as (
    {{ flow_records('users', 'customers', 'orders', 'cutoff', metric_names={
        'signups': 'signups',
        'new_customers': 'new_customers',
        'revenue_usd': 'revenue_usd',
    }) }}
),

-- An order's user may have signed up after the cutoff (orders need not follow signup): the left
-- join keeps the order, in segment 'unknown' of every dimension.
user_record_combinations as (
    select
        user_records.metric_name,
        user_records.metric_date,
        segmented_users.country,
        segmented_users.platform,
        segmented_users.acquisition_channel,
        segmented_users.signup_cohort_month,
        sum(user_records.amount) as amount
    from user_records
    left join segmented_users on user_records.user_id = segmented_users.user_id
    group by
        user_records.metric_name,
        user_records.metric_date,
        segmented_users.country,
        segmented_users.platform,
        segmented_users.acquisition_channel,
        segmented_users.signup_cohort_month
),

-- "With spend" means positive spend (DECISIONS): a channel-day whose rows sum to 0 is no spend row.
channel_spend as (
    select
        'spend_usd' as metric_name,
        spend.spend_date as metric_date,
        spend.channel as acquisition_channel,
        cast(sum(spend.spend_usd) as {{ dbt.type_numeric() }}) as amount
    from spend
    cross join cutoff
    where spend.spend_date < cutoff.cutoff_date
    group by spend.spend_date, spend.channel
    having sum(spend.spend_usd) > 0
),

segment_records as (
    {{ roll_up_to_segments('user_record_combinations', keys=['metric_name', 'metric_date'], measures=['amount']) }}
    union all
    {{ roll_up_to_segments(
        'channel_spend',
        keys=['metric_name', 'metric_date'],
        measures=['amount'],
        dimensions=['acquisition_channel']
    ) }}
),

segment_first_dates as (
    select
        metric_name,
        dimension_name,
        dimension_value,
        min(metric_date) as first_metric_date
    from segment_records
    group by metric_name, dimension_name, dimension_value
),

segment_dates as (
    select
        segment_first_dates.metric_name,
        segment_first_dates.dimension_name,
        segment_first_dates.dimension_value,
        {{ add_days('segment_first_dates.first_metric_date', 'numbers.n') }} as metric_date
    from segment_first_dates
    cross join cutoff
    inner join numbers
        on numbers.n < {{ dbt.datediff('segment_first_dates.first_metric_date', 'cutoff.cutoff_date', 'day') }}
)

select
    segment_dates.metric_name,
    segment_dates.dimension_name,
    segment_dates.dimension_value,
    segment_dates.metric_date,
    -- A fixed decimal type, whatever the engine makes of sums (PostgreSQL's numeric has no scale).
    cast(coalesce(segment_records.amount, 0) as {{ dbt.type_numeric() }}) as amount
from segment_dates
left join segment_records
    on segment_dates.metric_name = segment_records.metric_name
        and segment_dates.dimension_name = segment_records.dimension_name
        and segment_dates.dimension_value = segment_records.dimension_value
        and segment_dates.metric_date = segment_records.metric_date
