-- Every headline metric in one long table for BI: one row per metric, period grain (day, week,
-- month), period and segment (overall = dimension 'overall' / 'all', or one value of a user
-- dimension). Overall values are read from the metric tables that define them wherever one exists;
-- the per-segment values come from the int_*_rolled_up_to_segment_* models. Each row is compared
-- with the previous calendar period and the same period a year earlier. Grain and comparison rules:
-- see the docs block fct_metric_values.
with

stickiness as (
    select * from {{ ref('fct_stickiness_daily') }}
),

segment_active_users as (
    select * from {{ ref('int_active_users_rolled_up_to_segment_days') }}
),

segment_flows as (
    select * from {{ ref('int_flows_rolled_up_to_segment_days') }}
),

cac_monthly as (
    select * from {{ ref('fct_cac_monthly') }}
),

cac_by_channel as (
    select * from {{ ref('fct_cac_by_channel') }}
),

nps_monthly as (
    select * from {{ ref('fct_nps_monthly') }}
),

segment_nps as (
    select * from {{ ref('int_nps_scores_rolled_up_to_segment_months') }}
),

retention as (
    select * from {{ ref('fct_cohort_retention') }}
),

segment_retention as (
    select * from {{ ref('int_retention_rolled_up_to_segment_cohorts') }}
),

k_factor as (
    select * from {{ ref('fct_k_factor_monthly') }}
),

cutoff as (
    select * from {{ ref('int_reporting_cutoff') }}
),

-- Active users ------------------------------------------------------------------------------------

active_users_daily as (
    select
        'overall' as dimension_name,
        'all' as dimension_value,
        activity_date,
        dau,
        wau,
        mau,
        dau_mau_ratio
    from stickiness
    union all
    select
        dimension_name,
        dimension_value,
        activity_date,
        dau,
        wau,
        mau,
        {{ safe_divide('dau', 'mau') }} as dau_mau_ratio
    from segment_active_users
),

-- The dates measured: from the first activity date to the day before the cutoff.
data_range as (
    select
        min(stickiness.activity_date) as first_activity_date,
        max(cutoff.cutoff_date) as cutoff_date,
        max(cutoff.last_included_date) as last_included_date
    from stickiness
    cross join cutoff
),

active_user_periods as (
    {{ expand_to_periods('active_users_daily', 'active_users_daily.activity_date') }}
),

-- snapshot_date: the period's last day, or the last day before the cutoff for the current period.
-- measured_days: the period's days from the first activity date to the day before the cutoff.
active_user_period_days as (
    select
        active_user_periods.*,
        least({{ add_days('active_user_periods.period_end', -1) }}, data_range.last_included_date) as snapshot_date,
        {{ dbt.datediff(
            'greatest(active_user_periods.period_start, data_range.first_activity_date)',
            'least(active_user_periods.period_end, data_range.cutoff_date)',
            'day'
        ) }} as measured_days
    from active_user_periods
    cross join data_range
),

-- A week's or month's dau, wau, mau and dau_mau_ratio are those of its snapshot date (so the ratio
-- is dau / mau of the same row, at every grain); average_dau is the mean DAU over its measured days
-- (a day before a segment's first activity counts as 0, so averages add up over segments).
active_users_by_period as (
    select
        dimension_name,
        dimension_value,
        period_grain,
        period_start,
        period_end,
        max(case when activity_date = snapshot_date then dau end) as dau,
        max(case when activity_date = snapshot_date then wau end) as wau,
        max(case when activity_date = snapshot_date then mau end) as mau,
        max(case when activity_date = snapshot_date then dau_mau_ratio end) as dau_mau_ratio,
        {{ safe_divide('sum(dau)', 'max(measured_days)') }} as average_dau
    from active_user_period_days
    group by dimension_name, dimension_value, period_grain, period_start, period_end
),

-- Flow metrics: the sum over the period's days -------------------------------------------------

flow_periods as (
    {{ expand_to_periods('segment_flows', 'segment_flows.metric_date') }}
),

flows_by_period as (
    select
        metric_name,
        dimension_name,
        dimension_value,
        period_grain,
        period_start,
        period_end,
        sum(amount) as amount
    from flow_periods
    group by metric_name, dimension_name, dimension_value, period_grain, period_start, period_end
),

-- The long table -----------------------------------------------------------------------------------

metric_values as (
    {% for metric in ['dau', 'wau', 'mau', 'dau_mau_ratio', 'average_dau'] %}
    select
        '{{ metric }}' as metric_name,
        active_users_by_period.period_grain,
        active_users_by_period.period_start,
        active_users_by_period.dimension_name,
        active_users_by_period.dimension_value,
        cast(active_users_by_period.{{ metric }} as {{ type_double() }}) as metric_value,
        active_users_by_period.period_end <= cutoff.cutoff_date as is_complete
    from active_users_by_period
    cross join cutoff
    union all
    {% endfor %}
    select
        flows_by_period.metric_name,
        flows_by_period.period_grain,
        flows_by_period.period_start,
        flows_by_period.dimension_name,
        flows_by_period.dimension_value,
        cast(flows_by_period.amount as {{ type_double() }}) as metric_value,
        flows_by_period.period_end <= cutoff.cutoff_date as is_complete
    from flows_by_period
    cross join cutoff
    union all
    select
        'cac_usd' as metric_name,
        'month' as period_grain,
        cac_monthly.month_start as period_start,
        'overall' as dimension_name,
        'all' as dimension_value,
        cac_monthly.blended_cac_usd as metric_value,
        {{ add_months('cac_monthly.month_start', 1) }} <= cutoff.cutoff_date as is_complete
    from cac_monthly
    cross join cutoff
    union all
    select
        'cac_usd' as metric_name,
        'month' as period_grain,
        cac_by_channel.month_start as period_start,
        'acquisition_channel' as dimension_name,
        cac_by_channel.channel as dimension_value,
        cac_by_channel.cac_usd as metric_value,
        {{ add_months('cac_by_channel.month_start', 1) }} <= cutoff.cutoff_date as is_complete
    from cac_by_channel
    cross join cutoff
    union all
    select
        'nps' as metric_name,
        'month' as period_grain,
        nps_monthly.month_start as period_start,
        'overall' as dimension_name,
        'all' as dimension_value,
        nps_monthly.nps as metric_value,
        {{ add_months('nps_monthly.month_start', 1) }} <= cutoff.cutoff_date as is_complete
    from nps_monthly
    cross join cutoff
    union all
    select
        'nps_responses' as metric_name,
        'month' as period_grain,
        nps_monthly.month_start as period_start,
        'overall' as dimension_name,
        'all' as dimension_value,
        nps_monthly.responses as metric_value,
        {{ add_months('nps_monthly.month_start', 1) }} <= cutoff.cutoff_date as is_complete
    from nps_monthly
    cross join cutoff
    union all
    select
        'nps' as metric_name,
        'month' as period_grain,
        segment_nps.month_start as period_start,
        segment_nps.dimension_name,
        segment_nps.dimension_value,
        segment_nps.nps as metric_value,
        {{ add_months('segment_nps.month_start', 1) }} <= cutoff.cutoff_date as is_complete
    from segment_nps
    cross join cutoff
    union all
    select
        'nps_responses' as metric_name,
        'month' as period_grain,
        segment_nps.month_start as period_start,
        segment_nps.dimension_name,
        segment_nps.dimension_value,
        segment_nps.responses as metric_value,
        {{ add_months('segment_nps.month_start', 1) }} <= cutoff.cutoff_date as is_complete
    from segment_nps
    cross join cutoff
    union all
    -- Cohort metrics: the period is the signup cohort (week or month), not the period measured.
    select
        case retention.cohort_granularity
            when 'week' then 'week_1_retention_rate'
            else 'month_1_retention_rate'
        end as metric_name,
        retention.cohort_granularity as period_grain,
        retention.cohort_start as period_start,
        'overall' as dimension_name,
        'all' as dimension_value,
        retention.retention_rate as metric_value,
        retention.is_complete
    from retention
    where retention.period_number = 1
    union all
    select
        case segment_retention.cohort_granularity
            when 'week' then 'week_1_retention_rate'
            else 'month_1_retention_rate'
        end as metric_name,
        segment_retention.cohort_granularity as period_grain,
        segment_retention.cohort_start as period_start,
        segment_retention.dimension_name,
        segment_retention.dimension_value,
        {{ safe_divide('segment_retention.retained_users', 'segment_retention.cohort_size') }} as metric_value,
        segment_retention.is_complete
    from segment_retention
    union all
    select
        'k_factor' as metric_name,
        'month' as period_grain,
        k_factor.cohort_month as period_start,
        'overall' as dimension_name,
        'all' as dimension_value,
        k_factor.k_factor as metric_value,
        k_factor.is_complete
    from k_factor
),

typed_values as (
    select
        cast(metric_name as {{ dbt.type_string() }}) as metric_name,
        cast(period_grain as {{ dbt.type_string() }}) as period_grain,
        cast(period_start as date) as period_start,
        cast(dimension_name as {{ dbt.type_string() }}) as dimension_name,
        cast(dimension_value as {{ dbt.type_string() }}) as dimension_value,
        cast(metric_value as {{ type_double() }}) as metric_value,
        is_complete
    from metric_values
),

-- Period over period ------------------------------------------------------------------------------

-- A self-join on the calendar-aligned start (not lag(), which would compare across a missing period).
compared_periods as (
    select
        typed_values.*,
        {{ previous_period_start('typed_values.period_grain', 'typed_values.period_start') }} as previous_period_start,
        {{ year_ago_period_start('typed_values.period_grain', 'typed_values.period_start') }} as year_ago_period_start
    from typed_values
),

period_over_period as (
    select
        compared_periods.metric_name,
        compared_periods.period_grain,
        compared_periods.period_start,
        compared_periods.dimension_name,
        compared_periods.dimension_value,
        compared_periods.metric_value,
        compared_periods.is_complete,
        previous_periods.metric_value as previous_value,
        year_ago_periods.metric_value as year_ago_value
    from compared_periods
    left join typed_values as previous_periods
        on
            compared_periods.metric_name = previous_periods.metric_name
            and compared_periods.period_grain = previous_periods.period_grain
            and compared_periods.dimension_name = previous_periods.dimension_name
            and compared_periods.dimension_value = previous_periods.dimension_value
            and compared_periods.previous_period_start = previous_periods.period_start
    left join typed_values as year_ago_periods
        on
            compared_periods.metric_name = year_ago_periods.metric_name
            and compared_periods.period_grain = year_ago_periods.period_grain
            and compared_periods.dimension_name = year_ago_periods.dimension_name
            and compared_periods.dimension_value = year_ago_periods.dimension_value
            and compared_periods.year_ago_period_start = year_ago_periods.period_start
)

select
    metric_name,
    period_grain,
    period_start,
    dimension_name,
    dimension_value,
    -- `value` and `change` are the contract's names for the columns, though keywords to the linter.
    metric_value as value,  -- noqa: RF04
    is_complete,
    previous_value,
    cast(metric_value - previous_value as {{ type_double() }}) as change,  -- noqa: RF04
    cast({{ relative_change('metric_value', 'previous_value') }} as {{ type_double() }}) as relative_change,
    year_ago_value,
    cast({{ relative_change('metric_value', 'year_ago_value') }} as {{ type_double() }})
        as year_over_year_relative_change
from period_over_period
