"""fct_metric_segment_cells, the cells of every user-dimension combination, rolled up to segments.

The dbt tests reconcile each metric's cells with its overall value; here, on the dirty demo
warehouse (users with missing dimensions, orders of unknown users), the cells rolled up to one
dimension equal fct_metric_values' segment values, and the per-channel CAC that of fct_cac_by_channel.
"""

from __future__ import annotations

import math

import duckdb
import pytest

TOLERANCE = 1e-9
DIMENSIONS = ("country", "platform", "acquisition_channel", "signup_cohort_month")

# Cell metric -> (fct_metric_values metric of its numerator, of its denominator or None, dimensions).
ROLL_UPS = {
    "pm_average_dau": ("average_dau", None, DIMENSIONS),
    "pm_dau": ("dau", None, DIMENSIONS),
    "pm_signups": ("signups", None, DIMENSIONS),
    "pm_new_customers": ("new_customers", None, DIMENSIONS),
    "pm_revenue_usd": ("revenue_usd", None, DIMENSIONS),
    "pm_dau_mau_ratio": ("dau", "mau", DIMENSIONS),
    # The long table cuts retention by three dimensions (the cohort is the period).
    "pm_retention_rate": ("retention_rate", None, DIMENSIONS[:3]),
}


@pytest.fixture(scope="module")
def demo(dirty_demo):
    with duckdb.connect(str(dirty_demo[0]), read_only=True) as con:
        yield con


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def _segment_values(demo, metric: str, dimension: str, grains: tuple[str, ...]) -> dict[tuple, float | None]:
    names = (["week_1_retention_rate", "month_1_retention_rate"] if metric == "retention_rate" else [metric])
    rows = demo.execute(
        "select period_grain, period_start, dimension_value, value from metrics.fct_metric_values"
        " where metric_name in (select unnest(?)) and dimension_name = ? and period_grain in (select unnest(?))",
        [names, dimension, list(grains)]).fetchall()
    return {(grain, start, value_of): value for grain, start, value_of, value in rows}


@pytest.mark.parametrize("cell_metric", sorted(ROLL_UPS))
def test_cells_roll_up_to_the_segments_of_the_long_table(demo, cell_metric):
    numerator_metric, denominator_metric, dimensions = ROLL_UPS[cell_metric]
    checked = 0
    for dimension in dimensions:
        rolled = demo.execute(f"""
            select period_grain, period_start, {dimension}, sum(numerator), sum(denominator)
            from metrics.fct_metric_segment_cells where metric_name = ?
            group by all""", [cell_metric]).fetchall()
        assert rolled, f"{cell_metric}: no cells"
        grains = tuple({row[0] for row in rolled})
        numerators = {(g, s, v): n for g, s, v, n, _ in rolled}
        if cell_metric == "pm_retention_rate":
            numerators = {key: n / d for (g, s, v, n, d) in rolled for key in [(g, s, v)]}
        expected = _segment_values(demo, numerator_metric, dimension, grains)
        # A segment missing from the cells is 0 there (average DAU and flows count idle periods as 0).
        for key, value in expected.items():
            assert _close(numerators.get(key, 0.0), value), (cell_metric, dimension, key, numerators.get(key), value)
            checked += 1
        assert set(numerators) <= set(expected), (cell_metric, dimension, sorted(set(numerators) - set(expected))[:3])
        if denominator_metric:
            denominators = {(g, s, v): d for g, s, v, _, d in rolled}
            for key, value in _segment_values(demo, denominator_metric, dimension, grains).items():
                assert _close(denominators.get(key, 0.0), value), (cell_metric, dimension, key)
    assert checked > 100


def test_cac_cells_are_the_channels_of_fct_cac_by_channel(demo):
    cells = demo.execute("""
        select period_start, acquisition_channel, numerator, denominator, country, platform, signup_cohort_month
        from metrics.fct_metric_segment_cells where metric_name = 'pm_cac_usd'""").fetchall()
    channels = demo.execute(
        "select month_start, channel, spend_usd, new_customers from metrics.fct_cac_by_channel").fetchall()
    assert len(cells) == len(channels) > 5
    assert {row[4:] for row in cells} == {("all", "all", "all")}
    expected = {(month, channel): (float(spend), float(customers)) for month, channel, spend, customers in channels}
    assert {(m, c): (n, d) for m, c, n, d, *_ in cells} == expected


def test_a_two_dimension_segment_is_a_sum_of_cells(demo):
    # The drivers analysis reads segments of two dimensions: each is a plain sum, and the sums over
    # the values of the pair add up to the overall value like those of one dimension.
    rows = demo.execute("""
        with pairs as (
            select period_grain, period_start, country, platform, sum(numerator) as value
            from metrics.fct_metric_segment_cells where metric_name = 'pm_signups' group by all
        )
        select pairs.period_grain, pairs.period_start, sum(pairs.value), max(overall.value)
        from pairs
        inner join metrics.fct_metric_values as overall
            on overall.metric_name = 'signups' and overall.dimension_name = 'overall'
                and overall.period_grain = pairs.period_grain and overall.period_start = pairs.period_start
        group by all""").fetchall()
    assert len(rows) > 10
    assert all(_close(summed, overall) for *_, summed, overall in rows)
