-- Realised value per acquisition cohort (month and channel), month k by month k (columns: _monetization__models.yml).
-- Every month k up to the cutoff's month gets a row from a number series, months without orders
-- included, so the running sum has no gaps.
with

customers as (
    select * from {{ ref('int_customers_acquired') }}
),

customer_months as (
    select * from {{ ref('int_orders_rolled_up_to_customer_months') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

numbers as (
    {{ integer_series() }}
),

cohorts as (
    select
        acquisition_month,
        channel,
        count(*) as customers
    from customers
    group by acquisition_month, channel
),

cohort_revenue as (
    select
        acquisition_month,
        channel,
        {{ months_between('acquisition_month', 'month_start') }} as months_since_acquisition,
        sum(revenue_usd) as revenue_usd
    from customer_months
    where month_start >= acquisition_month
    group by acquisition_month, channel, {{ months_between('acquisition_month', 'month_start') }}
),

cohort_months as (
    select
        cohorts.acquisition_month,
        cohorts.channel,
        cohorts.customers,
        numbers.n as months_since_acquisition,
        {{ add_months('cohorts.acquisition_month', 'numbers.n + 1') }} <= cutoff.cutoff_date as is_complete
    from cohorts
    cross join cutoff
    inner join numbers
        on numbers.n <= {{ months_between('cohorts.acquisition_month', 'cutoff.last_month_start') }}
),

cumulated as (
    select
        cohort_months.acquisition_month,
        cohort_months.channel,
        cohort_months.months_since_acquisition,
        cohort_months.customers,
        sum(coalesce(cohort_revenue.revenue_usd, 0)) over (
            partition by cohort_months.acquisition_month, cohort_months.channel
            order by cohort_months.months_since_acquisition
            rows unbounded preceding
        ) as cumulative_revenue_usd,
        cohort_months.is_complete
    from cohort_months
    left join cohort_revenue
        on cohort_months.acquisition_month = cohort_revenue.acquisition_month
            and cohort_months.channel = cohort_revenue.channel
            and cohort_months.months_since_acquisition = cohort_revenue.months_since_acquisition
)

select
    acquisition_month,
    channel,
    months_since_acquisition,
    cast(customers as {{ dbt.type_bigint() }}) as customers,
    cast(cumulative_revenue_usd as {{ product_metrics.type_double() }}) as cumulative_revenue_usd,
    {{ safe_divide('cumulative_revenue_usd', 'customers') }} as cumulative_revenue_per_customer_usd,
    is_complete
from cumulated
