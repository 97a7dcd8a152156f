-- Is this month's NPS movement real or noise? The change against the previous month, its
-- standard error (independent samples: sqrt(se1² + se2²)) and whether it exceeds 1.96 of them.
with

nps as (
    select * from {{ ref('fct_nps_monthly') }}
),

with_previous as (
    select
        month_start,
        responses,
        nps,
        nps_standard_error,
        lag(nps) over (order by month_start) as previous_nps,
        lag(nps_standard_error) over (order by month_start) as previous_standard_error
    from nps
),

changes as (
    select
        *,
        nps - previous_nps as nps_change,
        sqrt(nps_standard_error * nps_standard_error + previous_standard_error * previous_standard_error)
            as change_standard_error
    from with_previous
)

select
    month_start,
    responses,
    nps,
    previous_nps,
    nps_change,
    1.96 * change_standard_error as change_margin_of_error_95,
    abs(nps_change) > 1.96 * change_standard_error as is_significant_at_95
from changes
order by month_start desc
