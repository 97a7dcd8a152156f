-- Every explainable headline metric per week and month, cut by all four user dimensions at once
-- (country x platform x acquisition_channel x signup_cohort_month): the cells any segment of one or
-- two dimensions rolls up from. A summable metric's cell holds its value (numerator); a ratio's
-- cell its numerator and denominator, so a segment's ratio is sum(numerator) / sum(denominator).
-- Cells add up to the overall values of the tables that define each metric (tested). Grain rules:
-- the docs block fct_metric_segment_cells.
with

active_users as (
    select * from {{ ref('int_active_users_rolled_up_to_segment_cells') }}
),

flows as (
    select * from {{ ref('int_flows_rolled_up_to_segment_cells') }}
),

cohorts as (
    select * from {{ ref('int_cohorts_rolled_up_to_segment_cells') }}
),

customer_months as (
    select * from {{ ref('int_customer_months_rolled_up_to_segment_cells') }}
),

cac_by_channel as (
    select * from {{ ref('fct_cac_by_channel') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

cells as (
    {#- One select per active-user metric: (metric, numerator, denominator, rows kept). average_dau
        is the period's user-days over its measured days, the same days for every cell, so the
        cells' averages add up to the overall average; dau / mau is on the period's snapshot day. #}
    {%- set weeks_with_users = "active_users.period_grain = 'week' and active_users.weekly_active_users > 0" -%}
    {%- set active_user_metrics = [
        (
            'pm_average_dau',
            safe_divide('active_users.active_user_days', 'active_users.measured_days'),
            'null',
            'active_users.active_user_days > 0',
        ),
        ('pm_dau', 'active_users.dau', 'null', 'active_users.dau > 0'),
        ('pm_dau_mau_ratio', 'active_users.dau', 'active_users.mau', 'active_users.mau > 0'),
        ('pm_weekly_active_users', 'active_users.weekly_active_users', 'null', weeks_with_users),
        ('pm_north_star_users', 'active_users.north_star_users', 'null', weeks_with_users),
        ('pm_core_actions', 'active_users.core_actions', 'null', weeks_with_users),
    ] -%}
    {%- for metric, numerator, denominator, condition in active_user_metrics %}
    select
        '{{ metric }}' as metric_name,
        active_users.period_grain,
        active_users.period_start,
        active_users.country,
        active_users.platform,
        active_users.acquisition_channel,
        active_users.signup_cohort_month,
        cast({{ numerator }} as {{ type_double() }}) as numerator,
        cast({{ denominator }} as {{ type_double() }}) as denominator,
        active_users.period_end <= cutoff.cutoff_date as is_complete
    from active_users
    cross join cutoff
    where {{ condition }}
    union all
    {%- endfor %}
    select
        flows.metric_name,
        flows.period_grain,
        flows.period_start,
        flows.country,
        flows.platform,
        flows.acquisition_channel,
        flows.signup_cohort_month,
        cast(flows.amount as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        flows.period_end <= cutoff.cutoff_date as is_complete
    from flows
    cross join cutoff
    union all
    -- Cohort metrics: the period is the signup cohort, complete when its measured period ended.
    select
        cohorts.metric_name,
        cohorts.period_grain,
        cohorts.period_start,
        cohorts.country,
        cohorts.platform,
        cohorts.acquisition_channel,
        cohorts.signup_cohort_month,
        cast(cohorts.numerator as {{ type_double() }}) as numerator,
        cast(cohorts.denominator as {{ type_double() }}) as denominator,
        cohorts.is_complete
    from cohorts
    union all
    -- CAC: spend belongs to a channel, not to users; the other dimensions are 'all'.
    select
        'pm_cac_usd' as metric_name,
        'month' as period_grain,
        cac_by_channel.month_start as period_start,
        'all' as country,
        'all' as platform,
        coalesce(cac_by_channel.channel, 'unknown') as acquisition_channel,
        'all' as signup_cohort_month,
        cast(cac_by_channel.spend_usd as {{ type_double() }}) as numerator,
        cast(cac_by_channel.new_customers as {{ type_double() }}) as denominator,
        {{ add_months('cac_by_channel.month_start', 1) }} <= cutoff.cutoff_date as is_complete
    from cac_by_channel
    cross join cutoff
    union all
    -- ARPA: trailing-L revenue over trailing-L active customers, as fct_ltv_cac_monthly.
    select
        'pm_arpa_usd' as metric_name,
        'month' as period_grain,
        customer_months.month_start as period_start,
        customer_months.country,
        customer_months.platform,
        customer_months.acquisition_channel,
        customer_months.signup_cohort_month,
        cast(customer_months.revenue_usd as {{ type_double() }}) as numerator,
        cast(customer_months.active_customers as {{ type_double() }}) as denominator,
        {{ add_months('customer_months.month_start', 1) }} <= cutoff.cutoff_date as is_complete
    from customer_months
    cross join cutoff
)

select
    cast(metric_name as {{ dbt.type_string() }}) as metric_name,
    cast(period_grain as {{ dbt.type_string() }}) as period_grain,
    cast(period_start as date) as period_start,
    cast(country as {{ dbt.type_string() }}) as country,
    cast(platform as {{ dbt.type_string() }}) as platform,
    cast(acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
    cast(signup_cohort_month as {{ dbt.type_string() }}) as signup_cohort_month,
    cast(numerator as {{ type_double() }}) as numerator,
    cast(denominator as {{ type_double() }}) as denominator,
    is_complete
from cells
