"""The declarative rules, the suites generated from them and the SQL of the custom checks, on small
hand-made tables (no GX, no dbt)."""

from __future__ import annotations

import datetime as dt
import statistics

import duckdb
import pytest

from product_metrics.quality import sql
from product_metrics.quality.rules import (
    METRIC_TABLES,
    RAW_SOURCES,
    AnomalySeries,
    Formula,
    Freshness,
    NoGaps,
    QualitySettings,
    ratio,
)
from product_metrics.quality.suites import metric_suite, plan_suites

LAST_DAY = dt.date(2026, 6, 30)  # a Tuesday


def rows(connection, query: str, table: str) -> list[dict]:
    cursor = connection.execute(query.replace("{batch}", table))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


@pytest.mark.parametrize("table", METRIC_TABLES, ids=lambda t: t.name)
def test_every_declared_column_is_a_spec_column(table):
    declared = {*table.grain, *table.counts, *table.positive_counts, *table.rates, *table.non_negative,
                *table.ranges, *table.not_null, *table.accepted_values,
                *(c for chain in table.ordered for c in chain), *(r.column for r in table.formulas),
                *(r.column for r in table.constant_within), *(g for r in table.constant_within for g in r.group_by),
                *(r.column for r in table.no_gaps), *(s.value for s in table.anomalies)}
    assert declared <= set(table.columns)


@pytest.mark.parametrize("table", METRIC_TABLES, ids=lambda t: t.name)
def test_the_naming_conventions_are_honoured(table):
    """Every `_rate` is a share (0..1); every table has a freshness rule."""
    assert {c for c in table.columns if c.endswith("_rate")} <= set(table.rates)
    assert table.freshness is not None
    assert len(table.columns) == len(set(table.columns))


def test_a_suite_holds_the_rules_the_spec_implies():
    retention = next(t for t in METRIC_TABLES if t.name == "fct_cohort_retention")
    plan = metric_suite(retention, QualitySettings(), LAST_DAY)
    rules = {(c.rule, c.column) for c in plan.checks}
    assert {("rate_within_0_1", "retention_rate"), ("rate_within_0_1", "unbounded_retention_rate"),
            ("count_positive", "cohort_size"), ("count_is_integer", "retained_users"),
            ("retained_users_le_retained_or_after_users", "retained_users, retained_or_after_users"),
            ("retained_or_after_users_le_cohort_size", "retained_or_after_users, cohort_size"),
            ("one_row_per_grain", "cohort_granularity, cohort_start, period_number"),
            ("latest_period_reaches_cutoff", "cohort_granularity"),
            ("anomaly_week_1_retention_rate", "retention_rate")} <= rules
    assert plan.name == "metrics.fct_cohort_retention"
    assert {c.severity for c in plan.checks if c.rule.startswith("anomaly_")} == {"warning"}


def test_freshness_needs_a_cutoff_and_wau_le_mau_a_long_enough_window():
    stickiness = next(t for t in METRIC_TABLES if t.name == "fct_stickiness_daily")
    assert "latest_period_reaches_cutoff" not in {c.rule for c in metric_suite(stickiness, QualitySettings(), None).checks}
    short = metric_suite(stickiness, QualitySettings(mau_window_days=5), LAST_DAY)
    assert "wau_le_mau" not in {c.rule for c in short.checks} and "dau_le_wau" in {c.rule for c in short.checks}


def test_plans_cover_every_layer_and_can_be_narrowed():
    plans = plan_suites(QualitySettings(), LAST_DAY, "raw")
    assert len(plans) == len(METRIC_TABLES) + 2 * len(RAW_SOURCES)
    narrowed = plan_suites(QualitySettings(include_layers=("metrics",), tables=("fct_nps_monthly",)), LAST_DAY, "raw")
    assert [p.name for p in narrowed] == ["metrics.fct_nps_monthly"]


def test_anomalies_are_values_far_from_their_trailing_window():
    values = [10, 12, 11, 9, 10, 11, 30, 10]
    with duckdb.connect() as connection:
        connection.execute("create table s as select (date '2026-01-01' + cast(i as integer)) as day, v from "
                           "(select unnest(range(8)) as i, unnest(?) as v)", [values])
        found = rows(connection, sql.anomalies(AnomalySeries("v", order_by="day"), k=3, window=5, min_points=3), "s")
    [spike] = found  # 10 after the spike is within 3 sd of a window holding 30
    trailing = values[1:6]
    assert spike["period"] == dt.date(2026, 1, 7) and spike["value"] == 30
    assert spike["trailing_mean"] == pytest.approx(statistics.mean(trailing))
    assert spike["trailing_stddev"] == pytest.approx(statistics.stdev(trailing))
    assert spike["z_score"] == pytest.approx((30 - statistics.mean(trailing)) / statistics.stdev(trailing))


def test_anomalies_respect_partitions_min_points_and_flat_windows():
    with duckdb.connect() as connection:
        connection.execute("create table s (month date, channel varchar, v double)")
        connection.execute("insert into s values ('2026-01-01', 'a', 5), ('2026-02-01', 'a', 5), "
                           "('2026-03-01', 'a', 5), ('2026-04-01', 'a', 6), "
                           "('2026-01-01', 'b', 1), ('2026-02-01', 'b', 100)")
        found = rows(connection, sql.anomalies(AnomalySeries("v", order_by="month", partition_by=("channel",)),
                                               k=3, window=12, min_points=2), "s")
    # a: a flat window then a change (z undefined); b: too few points to judge.
    assert [(r["series_key"], r["period"], r["value"], r["z_score"]) for r in found] == [
        ("a", dt.date(2026, 4, 1), 6.0, None)]


def test_a_formula_matches_within_tolerance_and_null_exactly_when_the_denominator_is_zero():
    rule = Formula("rate", ratio("part", "whole"))
    with duckdb.connect() as connection:
        connection.execute("create table t (id int, part int, whole int, rate double)")
        connection.execute("insert into t values (1, 1, 3, 1.0 / 3), (2, 0, 0, null), (3, 1, 2, 0.6), "
                           "(4, 0, 0, 0), (5, 1, 4, null)")
        found = rows(connection, sql.formula_violations(rule, ("id",)), "t")
    assert [r["id"] for r in found] == [3, 4, 5]
    assert found[0]["expected_value"] == pytest.approx(0.5)


def test_freshness_expects_the_period_holding_the_last_included_day():
    rule = Freshness(period_start="case when grid = 'week' then start + 7 * k "
                                  "else cast(start + k * interval '1 month' as date) end", period_column="grid")
    with duckdb.connect() as connection:
        connection.execute("create table r (grid varchar, start date, k int)")
        connection.execute("insert into r values ('week', '2026-06-01', 4), ('month', '2026-05-01', 1)")
        assert rows(connection, sql.freshness_violations(rule, LAST_DAY), "r") == []
        connection.execute("delete from r where grid = 'week'")
        connection.execute("insert into r values ('week', '2026-06-01', 3)")
        [stale] = rows(connection, sql.freshness_violations(rule, LAST_DAY), "r")
    assert stale == {"period": "week", "latest_period": dt.date(2026, 6, 22),
                     "expected_latest_period": dt.date(2026, 6, 29)}


def test_gaps_are_found_per_partition():
    with duckdb.connect() as connection:
        connection.execute("create table m (channel varchar, month date)")
        connection.execute("insert into m values ('a', '2026-01-01'), ('a', '2026-02-01'), ('a', '2026-04-01'), "
                           "('b', '2026-03-01'), ('b', '2026-04-01')")
        found = rows(connection, sql.gap_violations(NoGaps("month", "month", partition_by=("channel",))), "m")
    assert [(r["channel"], r["period"], r["next_period"]) for r in found] == [
        ("a", dt.date(2026, 2, 1), dt.date(2026, 4, 1))]
