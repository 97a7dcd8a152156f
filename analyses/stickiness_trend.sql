-- Is the product getting stickier? Monthly average DAU/MAU over full windows only
-- (the first N days understate MAU), with the change against the month before.
with

stickiness as (
    select * from {{ ref('fct_stickiness_daily') }}
),

monthly as (
    select
        {{ month_start('activity_date') }} as month_start,
        avg(dau_mau_ratio) as average_dau_mau_ratio,
        avg(dau) as average_dau,
        max(mau) as peak_mau
    from stickiness
    where is_full_window
    group by {{ month_start('activity_date') }}
)

select
    month_start,
    average_dau,
    peak_mau,
    average_dau_mau_ratio,
    average_dau_mau_ratio - lag(average_dau_mau_ratio) over (order by month_start) as change_vs_previous_month
from monthly
order by month_start
