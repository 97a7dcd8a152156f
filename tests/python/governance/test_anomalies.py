"""Anomalies of the latest complete period as alerts (product_metrics.governance.anomalies): the
quality gate's series run again up to the reporting cutoff, the latest complete period only, mapped
to the governed metric reading that table and column, recorded in audit.metric_alerts with kind
'anomaly', a detail with units and the top drivers from fct_metric_segment_cells.

The fabricated warehouse (cutoff 2026-06-24, a Wednesday: the last included day is 06-23, the last
full week starts 06-15 (W25), the last full month is May):
- fct_north_star_weekly: north star users 490, 510, 500, 490, 510, 500 in the six weeks to W24, then
  405 in W25 (mean 500, sample stddev sqrt(400 / 5) = 8.944: z = −95 / 8.944 = −10.6); W26 is not
  complete. The cells (tests/python/drivers/fabricated.py) hold W24 500 and W25 405 by country.
- fct_stickiness_daily: DAU about 1,000 from 06-01 to 06-23 with a spike of 3,000 on 06-12 (a
  historical outlier the gate flags, the alerts do not).
- fct_cac_monthly: new customers 100, 104, 96, 100 from January to April, 150 in May (mean 100,
  stddev sqrt(32 / 3) = 3.266: z = 15.3), 20 in June (month to date: not judged); no governed metric
  reads it. Blended CAC is flat at $50 (a June value of $10 is not judged either).
"""

from __future__ import annotations

import datetime as dt
import json
import math

import duckdb
import pytest
from typer.testing import CliRunner

from product_metrics.cli import app
from product_metrics.drivers.explain import top_drivers_text
from product_metrics.governance.alerts import record_breaches
from product_metrics.governance.anomalies import anomaly_explainer, latest_anomalies
from product_metrics.governance.registry import build_registry
from product_metrics.quality import sql
from product_metrics.quality.rules import METRIC_TABLES
from product_metrics.warehouse import Warehouse

from ..drivers import fabricated as fab

D = dt.date
CUTOFF = D(2026, 6, 24)
NORTH_STAR = [490.0, 510.0, 500.0, 490.0, 510.0, 500.0, 405.0]  # weeks W19 .. W25
NEW_CUSTOMERS = [100.0, 104.0, 96.0, 100.0, 150.0, 20.0]         # January .. June
SPIKE = D(2026, 6, 12)


def daily_dau() -> list[tuple[dt.date, float]]:
    days = [D(2026, 6, 1) + dt.timedelta(days=i) for i in range(23)]
    return [(day, 3000.0 if day == SPIKE else 1000.0 + 10 * (i % 3 - 1)) for i, day in enumerate(days)]


def create_warehouse(path) -> None:
    fab.create_tables(path)
    weeks = [fab.W25 - dt.timedelta(days=7 * i) for i in range(6, -1, -1)]
    with duckdb.connect(str(path)) as con:
        con.execute("create or replace table metrics.fct_north_star_weekly (week_start date, north_star_users bigint, "
                    "weekly_active_users bigint, north_star_share_of_active double, is_complete boolean)")
        rows = [(week, value, 2 * value, 0.5, True) for week, value in zip(weeks, NORTH_STAR)]
        rows[-1] = (fab.W25, 405.0, 900.0, 0.45, True)  # the tree's W25, as fabricated.py
        con.executemany("insert into metrics.fct_north_star_weekly values (?, ?, ?, ?, ?)",
                        [*rows, (fab.W26, 50.0, 100.0, 0.5, False)])
        con.execute("create table metrics.fct_stickiness_daily (activity_date date, dau double, mau double, "
                    "dau_mau_ratio double, is_full_window boolean)")
        con.executemany("insert into metrics.fct_stickiness_daily values (?, ?, 4000, ? / 4000, true)",
                        [(day, dau, dau) for day, dau in daily_dau()])
        con.execute("create table metrics.fct_cac_monthly (month_start date, new_customers double, "
                    "blended_cac_usd double)")
        con.executemany("insert into metrics.fct_cac_monthly values (?, ?, ?)",
                        [(D(2026, month, 1), value, 50.0 if month < 6 else 10.0)
                         for month, value in enumerate(NEW_CUSTOMERS, start=1)])
        con.execute("create schema intermediate")
        con.execute(f"create table intermediate.int_reporting_cutoff as select date '{CUTOFF}' as cutoff_date")


def make_manifest() -> dict:
    manifest = fab.manifest()
    for name, schema in (("fct_stickiness_daily", "metrics"), ("fct_cac_monthly", "metrics"),
                         ("int_reporting_cutoff", "intermediate")):
        manifest["nodes"][f"model.product_metrics.{name}"] = {
            "unique_id": f"model.product_metrics.{name}", "name": name, "resource_type": "model",
            "package_name": "product_metrics", "schema": schema, "database": None, "alias": name,
            "original_file_path": f"models/x/{name}.sql", "config": {"materialized": "table"}}
    manifest["metrics"]["metric.product_metrics.pm_dau"] = {
        "name": "pm_dau", "package_name": "product_metrics", "type": "simple", "label": "DAU",
        "config": {"meta": {"governance": {
            "unit": "users", "grain": "day", "direction": "higher_is_better",
            "lives_in": {"table": "fct_stickiness_daily", "column": "dau", "time_column": "activity_date"}}}},
        "depends_on": {"nodes": []}}
    north_star = manifest["metrics"]["metric.product_metrics.pm_north_star_users"]
    north_star["config"]["meta"]["governance"]["direction"] = "higher_is_better"
    return manifest


def make_registry():
    return build_registry(make_manifest(), {}, source="fabricated")


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    create_warehouse(path)
    with Warehouse.open(path) as opened:
        yield opened


def test_only_the_latest_complete_periods_are_judged(warehouse):
    registry = make_registry()
    scan = latest_anomalies(warehouse, registry)
    assert scan.cutoff == CUTOFF
    assert scan.series_checked == 5 and scan.unread == ()  # DAU, DAU/MAU, new customers, blended CAC, north star
    found = {(a.table, a.column): a for a in scan.anomalies}
    assert set(found) == {("fct_north_star_weekly", "north_star_users"), ("fct_cac_monthly", "new_customers")}

    north_star = found["fct_north_star_weekly", "north_star_users"]
    stddev = math.sqrt(400 / 5)
    assert (north_star.period, north_star.value, north_star.trailing_mean, north_star.trailing_points) == (
        fab.W25, 405.0, pytest.approx(500.0), 6)
    assert north_star.z_score == pytest.approx(-95 / stddev) and north_star.bound == pytest.approx(500 - 3 * stddev)
    assert north_star.name == "pm_north_star_users"
    assert north_star.detail() == ("pm_north_star_users 405 users in 2026-06-15, 10.6 standard deviations below its "
                                   "trailing 6-period mean 500 users")

    customers = found["fct_cac_monthly", "new_customers"]
    assert (customers.period, customers.value, customers.metric, customers.name) == (D(2026, 5, 1), 150.0, None,
                                                                                     "new_customers")
    assert customers.z_score == pytest.approx(50 / math.sqrt(32 / 3))
    assert customers.detail() == ("new_customers 150 in 2026-05-01, 15.3 standard deviations above its trailing "
                                  "4-period mean 100")


def test_the_gate_flags_the_historical_outliers_the_alerts_leave_out(warehouse):
    """What the filters remove: the DAU spike of 06-12 and June's month to date are anomalies to the gate."""
    stickiness = next(t for t in METRIC_TABLES if t.name == "fct_stickiness_daily")
    cac = next(t for t in METRIC_TABLES if t.name == "fct_cac_monthly")
    dau = sql.anomalies(stickiness.anomalies[0], k=3, window=12, min_points=4)
    customers = sql.anomalies(cac.anomalies[1], k=3, window=12, min_points=4)
    assert [r[0] for r in warehouse.query(dau.replace("{batch}", "metrics.fct_stickiness_daily"))] == [SPIKE]
    assert [r[0] for r in warehouse.query(customers.replace("{batch}", "metrics.fct_cac_monthly"))] == [
        D(2026, 6, 1), D(2026, 5, 1)]


def test_an_as_of_date_moves_the_latest_complete_period(warehouse):
    """As of 06-13 the latest complete day is 06-12, the spike; the latest full week W23 and month May."""
    scan = latest_anomalies(warehouse, make_registry(), before=D(2026, 6, 13))
    assert sorted((a.column, a.period) for a in scan.anomalies) == [
        ("dau", SPIKE), ("dau_mau_ratio", SPIKE), ("new_customers", D(2026, 5, 1))]
    dau = next(a for a in scan.anomalies if a.column == "dau")
    assert dau.name == "pm_dau" and dau.detail().startswith("pm_dau 3,000 users in 2026-06-12, ")


def test_anomalies_are_recorded_with_their_top_drivers(warehouse):
    registry = make_registry()
    scan = latest_anomalies(warehouse, registry)
    written = record_breaches(warehouse, [], run_at=dt.datetime(2026, 6, 24, 6), anomalies=scan.anomalies,
                              explain_anomaly=anomaly_explainer(warehouse, registry))
    assert written == 2
    rows = warehouse.query('select metric_name, period, value, threshold, level, direction, "table", "column", kind, '
                           "detail, top_drivers from audit.metric_alerts order by metric_name")
    drivers = top_drivers_text(warehouse, registry, "pm_north_star_users", fab.W25, "week")
    assert drivers is not None and drivers.startswith("pm_north_star_users −19.0% (2026-W25 vs 2026-W24): ")
    assert rows == [
        ("new_customers", D(2026, 5, 1), 150.0, pytest.approx(100 + 3 * math.sqrt(32 / 3)), "warn", None,
         "fct_cac_monthly", "new_customers", "anomaly",
         "new_customers 150 in 2026-05-01, 15.3 standard deviations above its trailing 4-period mean 100", None),
        ("pm_north_star_users", fab.W25, 405.0, pytest.approx(500 - 3 * math.sqrt(80)), "warn", "higher_is_better",
         "fct_north_star_weekly", "north_star_users", "anomaly",
         ("pm_north_star_users 405 users in 2026-06-15, 10.6 standard deviations below its trailing 6-period mean "
          "500 users"), drivers),
    ]


def test_a_flat_window_without_a_cutoff_and_an_unreadable_series(tmp_path):
    """No cutoff table: every row counts (May is the latest month). New customers 7, 7, 7, 7 then 9:
    any change after a flat window is an anomaly (no z-score). A table without the series' column, or
    not built, is listed as unread, the others still judged."""
    path = tmp_path / "flat.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema metrics")
        con.execute("create table metrics.fct_cac_monthly as select cast(m as date) as month_start, "
                    "v as new_customers, 50.0 as blended_cac_usd from (values ('2026-01-01', 7.0), "
                    "('2026-02-01', 7.0), ('2026-03-01', 7.0), ('2026-04-01', 7.0), ('2026-05-01', 9.0)) as t (m, v)")
        con.execute("create table metrics.fct_stickiness_daily (activity_date date)")
    registry = make_registry()
    with Warehouse.open(path) as warehouse:
        scan = latest_anomalies(warehouse, registry)
    assert scan.cutoff is None and scan.series_checked == 2
    assert [line.split(":")[0] for line in scan.unread] == [
        "fct_stickiness_daily.dau", "fct_stickiness_daily.dau_mau_ratio", "fct_north_star_weekly.north_star_users"]
    [flat] = scan.anomalies
    assert (flat.column, flat.period, flat.value, flat.z_score, flat.bound) == ("new_customers", D(2026, 5, 1), 9.0,
                                                                                None, 7.0)
    assert flat.detail() == "new_customers 9 in 2026-05-01, above its trailing 4-period value 7, which had not moved"


def test_the_alerts_command_lists_and_records_the_anomalies(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    create_warehouse(path)
    directory = tmp_path / "manifest"
    directory.mkdir()
    (directory / "manifest.json").write_text(json.dumps(make_manifest(), default=str))
    result = CliRunner().invoke(app, ["alerts", "--manifest-dir", str(directory), "--database", str(path),
                                      "--schema", "audit", "--fail-on", "warn"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output  # anomalies are news, not a gate
    assert "Anomalies in the latest complete periods (2 of 5 series, recorded as alerts of kind anomaly)" in result.output
    assert ("! pm_north_star_users 405 users in 2026-06-15, 10.6 standard deviations below its trailing 6-period "
            "mean 500 users") in result.output
    assert "top drivers: pm_north_star_users −19.0% (2026-W25 vs 2026-W24): " in result.output
    assert "no threshold to evaluate; 2 alerts recorded in audit.metric_alerts." in result.output
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select metric_name, kind, top_drivers is null from audit.metric_alerts "
                           "order by metric_name").fetchall() == [("new_customers", "anomaly", True),
                                                                  ("pm_north_star_users", "anomaly", False)]


def test_a_series_named_after_a_metric_its_table_lists_is_that_metric(warehouse):
    # fct_cac_monthly lists pm_new_customers, which lives in another table (the long table): its
    # new_customers series is that metric, with its unit.
    manifest = make_manifest()
    manifest["nodes"]["model.product_metrics.fct_cac_monthly"]["config"]["meta"] = {
        "governance": {"metrics": ["pm_new_customers"]}}
    manifest["metrics"]["metric.product_metrics.pm_new_customers"] = {
        "name": "pm_new_customers", "package_name": "product_metrics", "type": "simple", "label": "New customers",
        "config": {"meta": {"governance": {
            "unit": "users", "grain": "month", "direction": "higher_is_better",
            "lives_in": {"table": "fct_metric_values", "column": "value", "time_column": "period_start"}}}},
        "depends_on": {"nodes": []}}
    scan = latest_anomalies(warehouse, build_registry(manifest, {}, source="fabricated"))
    customers = next(a for a in scan.anomalies if a.column == "new_customers")
    assert customers.name == "pm_new_customers"
    assert customers.detail() == ("pm_new_customers 150 users in 2026-05-01, 15.3 standard deviations above its "
                                  "trailing 4-period mean 100 users")
