"""The declarative rules, the suites generated from them and the SQL of the custom checks, on small
hand-made tables (no GX, no dbt)."""

from __future__ import annotations

import datetime as dt
import statistics

import duckdb
import pytest

from product_metrics.quality import sql
from product_metrics.quality.rules import METRIC_TABLES, RAW_SOURCES, AnomalySeries, Freshness
from product_metrics.quality.settings import QualitySettings
from product_metrics.quality.suites import metric_suite, plan_suites

LAST_DAY = dt.date(2026, 6, 30)  # a Tuesday


def rows(connection, query: str, table: str) -> list[dict]:
    cursor = connection.execute(query.replace("{batch}", table))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def test_a_suite_holds_volume_freshness_and_anomalies():
    retention = next(t for t in METRIC_TABLES if t.name == "fct_cohort_retention")
    plan = metric_suite(retention, QualitySettings(), LAST_DAY)
    assert [(c.rule, c.column, c.severity) for c in plan.checks] == [
        ("not_empty", None, "critical"),
        ("latest_period_reaches_cutoff", "cohort_granularity", "critical"),
        ("anomaly_week_1_retention_rate", "retention_rate", "warning")]
    assert plan.name == "metrics.fct_cohort_retention"


def test_no_metric_rule_restates_a_dbt_test():
    """Grain, nulls, ranges, accepted values, orderings, formulas and the column contract are
    dbt's (each mart's yml): a metric suite counts rows and runs the gate's own SQL, nothing more."""
    plans = [metric_suite(t, QualitySettings(), LAST_DAY) for t in METRIC_TABLES]
    assert {c.expectation for plan in plans for c in plan.checks} == {
        "ExpectTableRowCountToBeBetween", "UnexpectedRowsExpectation"}
    assert {c.rule for plan in plans for c in plan.checks if not c.rule.startswith("anomaly_")} == {
        "not_empty", "latest_period_reaches_cutoff"}


def test_freshness_needs_a_cutoff():
    stickiness = next(t for t in METRIC_TABLES if t.name == "fct_stickiness_daily")
    assert "latest_period_reaches_cutoff" not in {c.rule for c in metric_suite(stickiness, QualitySettings(), None).checks}


def test_plans_cover_every_layer_and_can_be_narrowed():
    plans = plan_suites(QualitySettings(), LAST_DAY, "raw")
    assert len(plans) == len(METRIC_TABLES) + 2 * len(RAW_SOURCES)
    narrowed = plan_suites(QualitySettings(include_layers=("metrics",), tables=("fct_nps_monthly",)), LAST_DAY, "raw")
    assert [p.name for p in narrowed] == ["metrics.fct_nps_monthly"]


def test_an_optional_raw_input_is_checked_only_where_it_exists():
    """experiment_exposures may not exist: no suite then; where it does, its reject share only (a
    project may load a few exposures, and they stop when the experiments end)."""
    without = plan_suites(QualitySettings(), LAST_DAY, "raw")
    assert not [p for p in without if "experiment_exposures" in p.name]
    with_exposures = plan_suites(QualitySettings(), LAST_DAY, "raw", optional_inputs={"experiment_exposures"})
    added = [p for p in with_exposures if p not in without]
    assert [(p.name, p.layer, [c.rule for c in p.checks]) for p in added] == [
        ("raw.experiment_exposures", "raw", ["reject_share_below_limit"])]
    narrowed = QualitySettings(include_layers=("metrics", "staging"))
    assert plan_suites(narrowed, LAST_DAY, "raw", {"experiment_exposures"}) == plan_suites(narrowed, LAST_DAY, "raw")


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
