"""The benchmark's fixed-cost measurement (bench/bench_refresh.py) runs a real one-day refresh: it
loads the held-back day, and its three dbt processes select what their names say. No time is
asserted: speed is the benchmark's business, this only keeps the benchmark honest and working."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "bench"))

import bench_refresh


def _nodes(detail: str) -> int:
    return int(re.match(r"(\d+) nodes, run phase", detail).group(1))


def test_fixed_cost_is_a_real_one_day_refresh(tmp_path):
    fixed = bench_refresh.measure_fixed_cost(tmp_path)

    refresh, no_tests, nothing = fixed.measures.values()
    assert _nodes(nothing.detail) == 0
    assert 0 < _nodes(no_tests.detail) < _nodes(refresh.detail)
    assert all(measure.seconds > 0 and measure.peak_rss_mb > 0 for measure in fixed.measures.values())
    # The held-back day is in the raw data and, after the refresh, in the user-days.
    with duckdb.connect(str(tmp_path / "events_fixed.duckdb"), read_only=True) as con:
        raw_last, user_days_last = con.execute(
            "select (select max(cast(occurred_at as date)) from raw.events),"
            " (select max(activity_date) from intermediate.int_events_rolled_up_to_user_days)").fetchone()
        held_back = con.execute("select count(*) from information_schema.schemata where schema_name = 'incoming'"
                                ).fetchone()[0]
    assert held_back == 0
    assert user_days_last == raw_last


def test_fixed_cost_report_gives_each_measure_as_a_share_of_each_full_build():
    fixed = bench_refresh.SizeResult("fixed", 200, events=10_000)
    fixed.measures = {"one-day incremental refresh": bench_refresh.Measure(15.0, 280.0, "304 nodes, run phase 10.0 s"),
                      "dbt start-up and saved parse, no node selected": bench_refresh.Measure(5.0, 140.0, "")}
    sizes = []
    for label, seconds in (("10M", 50.0), ("100M", 250.0)):
        size = bench_refresh.SizeResult(label, 0)
        size.measures["full dbt build"] = bench_refresh.Measure(seconds)
        sizes.append(size)

    lines = bench_refresh.fixed_cost_report(fixed, sizes)

    assert "| one-day incremental refresh (304 nodes, run phase 10.0 s) | 15.00 | 280 | 30.0% at 10M; 6.0% at 100M |" in lines
    assert "| dbt start-up and saved parse, no node selected | 5.00 | 140 | 10.0% at 10M; 2.0% at 100M |" in lines


def test_publishing_is_measured_on_the_warehouse_and_leaves_it_as_it_was(tmp_path):
    database = tmp_path / "events.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create table t as select range as value from range(1000)")

    measure = bench_refresh.measure_publishing(database)

    assert measure.seconds > 0 and "warehouse file" in measure.detail
    assert not (tmp_path / ".unpublished" / database.name).exists()  # renamed over the live file
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*), sum(value) from t").fetchone() == (1000, 499500)
