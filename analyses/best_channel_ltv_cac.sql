-- Which acquisition channel returns the most per dollar, and how fast does it pay back?
-- Latest month, trailing window: LTV/CAC above 3 and payback under 12 months is the usual bar.
with

ltv_cac as (
    select * from {{ ref('fct_ltv_cac_by_channel') }}
),

latest_month as (
    select max(month_start) as month_start
    from ltv_cac
),

latest as (
    select ltv_cac.*
    from ltv_cac
    inner join latest_month on ltv_cac.month_start = latest_month.month_start
)

select
    channel,
    cac_usd,
    ltv_usd,
    ltv_cac_ratio,
    payback_months,
    coalesce(ltv_cac_ratio >= 3 and payback_months <= 12, false) as meets_the_bar,
    rank() over (order by ltv_cac_ratio desc nulls last) as ltv_cac_rank
from latest
where cac_usd > 0
order by ltv_cac_rank
