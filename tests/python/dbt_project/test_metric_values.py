"""fct_metric_values, the long BI table, against the metric tables that define each metric.

On the clean demo warehouse every overall value must equal its source table's (within 1e-9,
nulls alike), the values of each dimension must add up to the overall value for the additive
metrics, every row's period-over-period columns must be those of its calendar-previous and
year-ago rows, and the dirty build must give the same table as the clean one.
"""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pytest

TOLERANCE = 1e-9

# metric -> (grains, dimensions besides 'overall'): the coverage the docs promise.
USER_DIMENSIONS = {"country", "platform", "acquisition_channel", "signup_cohort_month"}
ALL_GRAINS = {"day", "week", "month"}
COVERAGE = {
    "dau": (ALL_GRAINS, USER_DIMENSIONS),
    "wau": (ALL_GRAINS, USER_DIMENSIONS),
    "mau": (ALL_GRAINS, USER_DIMENSIONS),
    "dau_mau_ratio": (ALL_GRAINS, USER_DIMENSIONS),
    "average_dau": (ALL_GRAINS, USER_DIMENSIONS),
    "signups": (ALL_GRAINS, USER_DIMENSIONS),
    "new_customers": (ALL_GRAINS, USER_DIMENSIONS),
    "revenue_usd": (ALL_GRAINS, USER_DIMENSIONS),
    "spend_usd": (ALL_GRAINS, {"acquisition_channel"}),
    "cac_usd": ({"month"}, {"acquisition_channel"}),
    "nps": ({"month"}, USER_DIMENSIONS),
    "nps_responses": ({"month"}, USER_DIMENSIONS),
    "week_1_retention_rate": ({"week"}, {"country", "platform", "acquisition_channel"}),
    "month_1_retention_rate": ({"month"}, {"country", "platform", "acquisition_channel"}),
    "k_factor": ({"month"}, set()),
}
ADDITIVE = ["dau", "wau", "mau", "average_dau", "signups", "new_customers", "revenue_usd", "spend_usd"]

# The expected overall value of each metric and grain, straight from the table that defines it
# (columns: period_start, value, is_complete). Week/month stickiness: the value on the period's
# last day, or on the day before the cutoff for the current period; average_dau: the period's mean.
PERIOD = {
    "week": ("date_trunc('week', activity_date)::date", "interval 7 day"),
    "month": ("date_trunc('month', activity_date)::date", "interval 1 month"),
}


def _stickiness_expected(metric: str, grain: str) -> str:
    if grain == "day":
        column = "dau" if metric == "average_dau" else metric
        return f"select activity_date, {column}, true from metrics.fct_stickiness_daily"
    start, length = PERIOD[grain]
    periods = f"""
        with cutoff as (select * from intermediate.int_reporting_cutoff),
        days as (
            select s.*, {start} as period_start, ({start} + {length})::date as period_end, cutoff.*
            from metrics.fct_stickiness_daily as s cross join cutoff
        )"""
    if metric == "average_dau":
        return periods + """
            select period_start, sum(dau) / count(*), max(period_end) <= max(cutoff_date)
            from days group by period_start"""
    return periods + f"""
        select period_start, {metric}, period_end <= cutoff_date
        from days where activity_date = least(period_end - 1, last_included_date)"""


def _monthly(table: str, column: str, month: str = "month_start") -> str:
    return f"""
        select {month}, {column}, ({month} + interval 1 month)::date <= cutoff_date
        from metrics.{table} cross join intermediate.int_reporting_cutoff"""


def _flow_expected(sql_by_day: str, grain: str) -> str:
    """Daily (date, amount) rows summed to the grain; every period from the first record on."""
    start = {"day": "d", "week": "date_trunc('week', d)::date", "month": "date_trunc('month', d)::date"}[grain]
    end = {"day": "d + 1", "week": f"{start} + 7", "month": f"({start} + interval 1 month)::date"}[grain]
    return f"""
        with cutoff as (select * from intermediate.int_reporting_cutoff),
        records as ({sql_by_day}),
        days as (
            select unnest(generate_series(
                (select min(d) from records), (select cutoff_date - 1 from cutoff), interval 1 day))::date as d
        )
        select {start}, coalesce(sum(records.amount), 0), max({end}) <= max(cutoff.cutoff_date)
        from days left join records using (d) cross join cutoff
        group by {start}"""


SIGNUPS = """select signup_date as d, count(*) as amount from staging.stg_raw__users
             where signup_date < (select cutoff_date from cutoff) group by 1"""
NEW_CUSTOMERS = "select acquired_date as d, count(*) as amount from intermediate.int_customers_acquired group by 1"
REVENUE = """select order_date as d, sum(amount_usd) as amount from staging.stg_raw__orders
             where order_date < (select cutoff_date from cutoff) group by 1"""
SPEND = """select spend_date as d, sum(spend_usd) as amount from staging.stg_raw__marketing_spend
           where spend_date < (select cutoff_date from cutoff) group by 1 having sum(spend_usd) > 0"""

EXPECTED_OVERALL = {
    **{(m, g): _stickiness_expected(m, g) for m in ["dau", "wau", "mau", "dau_mau_ratio", "average_dau"] for g in ALL_GRAINS},
    **{("signups", g): _flow_expected(SIGNUPS, g) for g in ALL_GRAINS},
    **{("new_customers", g): _flow_expected(NEW_CUSTOMERS, g) for g in ALL_GRAINS},
    **{("revenue_usd", g): _flow_expected(REVENUE, g) for g in ALL_GRAINS},
    **{("spend_usd", g): _flow_expected(SPEND, g) for g in ALL_GRAINS},
    ("cac_usd", "month"): _monthly("fct_cac_monthly", "blended_cac_usd"),
    ("nps", "month"): _monthly("fct_nps_monthly", "nps"),
    ("nps_responses", "month"): _monthly("fct_nps_monthly", "responses"),
    ("week_1_retention_rate", "week"): """
        select cohort_start, retention_rate, is_complete from metrics.fct_cohort_retention
        where cohort_granularity = 'week' and period_number = 1""",
    ("month_1_retention_rate", "month"): """
        select cohort_start, retention_rate, is_complete from metrics.fct_cohort_retention
        where cohort_granularity = 'month' and period_number = 1""",
    ("k_factor", "month"): "select cohort_month, k_factor, is_complete from metrics.fct_k_factor_monthly",
}


def _rows(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def _assert_same_series(got: dict, expected: dict, label: str) -> None:
    assert got, f"{label}: no rows in fct_metric_values"
    assert set(got) == set(expected), (
        f"{label}: periods only in fct_metric_values {sorted(set(got) - set(expected))[:5]}, "
        f"only in the source {sorted(set(expected) - set(got))[:5]}")
    wrong = [(k, got[k], expected[k]) for k in sorted(got)
             if not (_same(got[k][0], expected[k][0]) and got[k][1] == expected[k][1])]
    assert not wrong, f"{label}: (period, (value, is_complete) got, expected) {wrong[:5]}"


@pytest.fixture(scope="module")
def demo(clean_demo_warehouse):
    with duckdb.connect(str(clean_demo_warehouse), read_only=True) as con:
        yield con


@pytest.mark.parametrize(("metric", "grain"), sorted(EXPECTED_OVERALL))
def test_overall_values_agree_with_the_source_tables(demo, metric, grain):
    got = {r[0]: (r[1], r[2]) for r in _rows(demo, """
        select period_start, value, is_complete from metrics.fct_metric_values
        where metric_name = ? and period_grain = ? and dimension_name = 'overall'""", [metric, grain])}
    expected = {r[0]: (r[1], r[2]) for r in _rows(demo, EXPECTED_OVERALL[(metric, grain)])}
    _assert_same_series(got, expected, f"{metric}/{grain}")


def test_month_grain_flows_agree_with_the_cac_tables(demo):
    """new_customers and spend: the months of fct_cac_monthly (it also has months with no spend)."""
    for metric, column, where in [("new_customers", "new_customers", "true"), ("spend_usd", "spend_usd", "spend_usd > 0")]:
        expected = dict(_rows(demo, f"select month_start, {column} from metrics.fct_cac_monthly where {where}"))
        got = dict(_rows(demo, """select period_start, value from metrics.fct_metric_values
                                  where metric_name = ? and period_grain = 'month' and dimension_name = 'overall'
                                    and value <> 0""", [metric]))
        assert got.keys() == expected.keys(), metric
        assert all(_same(got[k], expected[k]) for k in got), metric


def test_channel_values_agree_with_fct_cac_by_channel(demo):
    cac = {(r[0], r[1]): r[2] for r in _rows(demo, "select month_start, channel, cac_usd from metrics.fct_cac_by_channel")}
    got = {(r[0], r[1]): r[2] for r in _rows(demo, """
        select period_start, dimension_value, value from metrics.fct_metric_values
        where metric_name = 'cac_usd' and dimension_name = 'acquisition_channel'""")}
    assert got.keys() == cac.keys()
    assert all(_same(got[k], cac[k]) for k in got)
    spend = {(r[0], r[1]): r[2] for r in _rows(demo, """
        select month_start, channel, spend_usd from metrics.fct_cac_by_channel where spend_usd > 0""")}
    got_spend = {(r[0], r[1]): r[2] for r in _rows(demo, """
        select period_start, dimension_value, value from metrics.fct_metric_values
        where metric_name = 'spend_usd' and period_grain = 'month' and dimension_name = 'acquisition_channel'
          and value > 0""")}
    assert got_spend.keys() == spend.keys()
    assert all(_same(got_spend[k], spend[k]) for k in spend)


def test_every_metric_has_its_grains_and_dimensions(demo):
    got: dict[str, tuple[set, set]] = {}
    for metric, grain, dimension in _rows(demo, """
            select distinct metric_name, period_grain, dimension_name from metrics.fct_metric_values"""):
        grains, dimensions = got.setdefault(metric, (set(), set()))
        grains.add(grain)
        dimensions.add(dimension)
    assert {m: (g, d - {"overall"}) for m, (g, d) in got.items()} == COVERAGE
    assert all("overall" in d for _, d in got.values())


def test_the_grain_is_unique(demo):
    duplicates = _rows(demo, """
        select metric_name, period_grain, period_start, dimension_name, dimension_value
        from metrics.fct_metric_values group by all having count(*) > 1""")
    assert not duplicates


@pytest.mark.parametrize("metric", ADDITIVE)
def test_dimension_values_add_up_to_the_overall_value(demo, metric):
    rows = _rows(demo, """
        with segments as (
            select period_grain, period_start, dimension_name, sum(value) as total
            from metrics.fct_metric_values
            where metric_name = ? and dimension_name <> 'overall'
            group by all
        )
        select segments.period_grain, segments.period_start, segments.dimension_name, segments.total, overall.value
        from segments
        full join (select * from metrics.fct_metric_values where metric_name = ? and dimension_name = 'overall') as overall
            using (period_grain, period_start)""", [metric, metric])
    assert rows
    wrong = [r for r in rows if (r[4] is None and r[3] != 0) or (r[4] is not None and not _same(r[3] or 0, r[4]))]
    assert not wrong, wrong[:5]


def test_segment_nps_recomputed_from_the_responses(demo):
    """Per country, identified respondents only, the latest response of the month per respondent."""
    expected = {(r[0], r[1]): (r[2], r[3]) for r in _rows(demo, """
        with latest as (
            select date_trunc('month', response_date)::date as month_start, user_id, score,
                   row_number() over (partition by date_trunc('month', response_date), user_id
                                      order by responded_at desc, length(response_id) desc, response_id desc) as rank
            from staging.stg_raw__nps_responses
            where user_id is not null and response_date < (select cutoff_date from intermediate.int_reporting_cutoff)
        )
        select month_start, coalesce(u.country, 'unknown'), count(*),
               100.0 * (count(*) filter (score >= 9) - count(*) filter (score <= 6)) / count(*)
        from latest left join staging.stg_raw__users as u using (user_id)
        where rank = 1 group by all""")}
    got = {(r[0], r[1]): (r[2], r[3]) for r in _rows(demo, """
        select r.period_start, r.dimension_value, r.value, n.value
        from metrics.fct_metric_values as r
        inner join metrics.fct_metric_values as n using (period_grain, period_start, dimension_name, dimension_value)
        where r.metric_name = 'nps_responses' and n.metric_name = 'nps' and r.dimension_name = 'country'""")}
    assert got.keys() == expected.keys()
    assert all(_same(got[k][0], expected[k][0]) and _same(got[k][1], expected[k][1]) for k in got)


def _months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, day.day)


# grain -> (previous period start, same period a year earlier), by the calendar (period starts are
# the 1st of a month for months, so the month arithmetic never meets a missing day).
CALENDAR = {
    "day": (lambda d: d - dt.timedelta(days=1), lambda d: d - dt.timedelta(days=364)),
    "week": (lambda d: d - dt.timedelta(days=7), lambda d: d - dt.timedelta(weeks=52)),
    "month": (lambda d: _months_before(d, 1), lambda d: _months_before(d, 12)),
}


def _relative(value, base):
    if value is None or base is None or base == 0:
        return None
    return (value - base) / abs(base)


def test_period_over_period_columns_read_the_calendar_periods(demo):
    """Each row against the row of the previous calendar period and of a year earlier, found by date
    arithmetic in Python; a missing row gives nulls. The demo's 150 days reach no year back."""
    rows = _rows(demo, """
        select metric_name, period_grain, period_start, dimension_name, dimension_value, value,
               previous_value, change, relative_change, year_ago_value, year_over_year_relative_change
        from metrics.fct_metric_values""")
    values = {r[:5]: r[5] for r in rows}
    wrong = []
    compared = 0
    for metric, grain, start, dimension, segment, value, *got in rows:
        previous_start, year_ago_start = CALENDAR[grain]
        previous = values.get((metric, grain, previous_start(start), dimension, segment))
        year_ago = values.get((metric, grain, year_ago_start(start), dimension, segment))
        change = None if value is None or previous is None else value - previous
        expected = [previous, change, _relative(value, previous), year_ago, _relative(value, year_ago)]
        compared += previous is not None
        if not all(_same(a, b) for a, b in zip(got, expected)):
            wrong.append((metric, grain, start, dimension, segment, got, expected))
    assert not wrong, f"(key, got, expected) {wrong[:3]}"
    assert compared > len(rows) / 2, "most rows have a previous period on the demo data"


def test_dirty_data_gives_the_same_table(clean_demo_warehouse, dirty_demo):
    dirty_path, _ = dirty_demo
    query = "select * from metrics.fct_metric_values order by all"
    with duckdb.connect(str(clean_demo_warehouse), read_only=True) as con:
        clean = con.execute(query).fetchall()
    with duckdb.connect(str(dirty_path), read_only=True) as con:
        dirty = con.execute(query).fetchall()
    assert clean
    assert dirty == clean
