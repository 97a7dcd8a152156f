-- One row per channel and month, from the channel's first customer, order or spend up to the
-- last month with data (no gaps, so trailing windows can count rows): the monthly inputs of LTV/CAC.
with

-- A user is a customer only from their acquisition month on: an order (a refund) before it is not
-- a customer's order, so it neither starts the channel's rows nor counts in its revenue.
customer_months as (
    select * from {{ ref('int_orders_rolled_up_to_customer_months') }}
    where month_start >= acquisition_month
),

customers as (
    select * from {{ ref('int_customers_acquired') }}
),

spend as (
    select * from {{ ref('int_spend_rolled_up_to_channel_months') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

numbers as (
    {{ integer_series() }}
),

channel_first_months as (
    select
        channel,
        min(month_start) as first_month_start
    from (
        select
            channel,
            month_start
        from customer_months
        union all
        select
            channel,
            acquisition_month as month_start
        from customers
        union all
        select
            channel,
            month_start
        from spend
    ) as channel_months
    group by channel
),

channel_month_spine as (
    select
        channel_first_months.channel,
        {{ add_months('channel_first_months.first_month_start', 'numbers.n') }} as month_start
    from channel_first_months
    cross join cutoff
    inner join numbers
        on numbers.n <= {{ months_between('channel_first_months.first_month_start', 'cutoff.last_month_start') }}
),

-- A customer churns in month j when active in month j-1 and not in month j.
active_months_with_next as (
    select
        channel,
        month_start,
        lead(month_start) over (partition by user_id order by month_start) as next_active_month_start
    from customer_months
    where is_active
),

churns as (
    select
        channel,
        {{ add_months('month_start', 1) }} as month_start,
        count(*) as churned_customers
    from active_months_with_next
    where
        next_active_month_start is null
        or next_active_month_start > {{ add_months('month_start', 1) }}
    group by channel, {{ add_months('month_start', 1) }}
),

activity as (
    select
        channel,
        month_start,
        sum(case when is_active then 1 else 0 end) as active_customers,
        sum(revenue_usd) as revenue_usd
    from customer_months
    group by channel, month_start
),

new_customers as (
    select
        channel,
        acquisition_month as month_start,
        count(*) as new_customers
    from customers
    group by channel, acquisition_month
),

combined as (
    select
        channel_month_spine.channel,
        channel_month_spine.month_start,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.revenue_usd, 0) as revenue_usd,
        coalesce(churns.churned_customers, 0) as churned_customers,
        coalesce(new_customers.new_customers, 0) as new_customers,
        coalesce(spend.spend_usd, 0) as spend_usd
    from channel_month_spine
    left join activity
        on channel_month_spine.channel = activity.channel
            and channel_month_spine.month_start = activity.month_start
    left join churns
        on channel_month_spine.channel = churns.channel
            and channel_month_spine.month_start = churns.month_start
    left join new_customers
        on channel_month_spine.channel = new_customers.channel
            and channel_month_spine.month_start = new_customers.month_start
    left join spend
        on channel_month_spine.channel = spend.channel
            and channel_month_spine.month_start = spend.month_start
)

select
    channel,
    month_start,
    active_customers,
    -- Customers active the month before: the population that could churn this month.
    coalesce(lag(active_customers) over (partition by channel order by month_start), 0) as churn_base_customers,
    churned_customers,
    revenue_usd,
    new_customers,
    spend_usd
from combined
