"""The experiments benchmark (bench/bench_experiments.py) measures what it says: its experiments are
definitions the package accepts, their metric windows are complete in the data, and its exposures
are, per experiment, each user active in its dates at their first event there. No time is asserted."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import duckdb

from product_metrics.demo_data import TABLE_COLUMNS

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "bench"))

import bench_experiments

DATA_END = dt.date(2026, 6, 30)


def test_ten_experiments_of_28_days_measuring_five_catalog_metrics_with_complete_windows():
    definitions = bench_experiments.experiment_definitions(DATA_END)
    catalog = set(re.findall(r"^\s*'(pm_\w+)': \{", (REPO_ROOT / "macros/experiments/experiment_metric_catalog.sql")
                             .read_text(), flags=re.MULTILINE))

    assert len(definitions) == 10 and len({d["id"] for d in definitions}) == 10
    for definition in definitions:
        start, end = dt.date.fromisoformat(definition["start_date"]), dt.date.fromisoformat(definition["end_date"])
        assert (end - start).days + 1 == 28
        # The longest default window (conversion, 14 days; retention week 1 ends on day 14) of the
        # last exposure ends inside the data.
        assert end + dt.timedelta(days=1 + 14) <= DATA_END
        assert [v["name"] for v in definition["variations"]] == ["control", "treatment"]
        assert sum(v["weight"] for v in definition["variations"]) == 1
        metrics = definition["goal_metrics"] + definition["guardrail_metrics"]
        assert sorted(metrics) == sorted(bench_experiments.METRICS) and set(metrics) <= catalog
    assert definitions[-1]["end_date"] == "2026-05-31"
    json.dumps({"product_metrics__experiments": definitions})  # passed to dbt as --vars


def test_exposures_are_each_active_user_at_their_first_event_in_the_dates(tmp_path):
    database = tmp_path / "tiny.duckdb"
    definitions = [{"id": "bench_a", "start_date": "2026-04-01", "end_date": "2026-04-02"},
                   {"id": "bench_b", "start_date": "2026-04-02", "end_date": "2026-04-03"}]
    with duckdb.connect(str(database)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.events (event_id bigint, user_id bigint, occurred_at timestamp, event_name text)")
        con.execute("""insert into raw.events values
            (1, 1, '2026-03-31 23:59:59', 'app_open'),   -- before both experiments
            (2, 1, '2026-04-01 10:00:00', 'app_open'),
            (3, 1, '2026-04-01 09:00:00', 'core_action'),
            (4, 2, '2026-04-02 23:59:59', 'app_open'),
            (5, 2, '2026-04-03 08:00:00', 'app_open'),
            (6, 3, '2026-04-04 00:00:00', 'app_open')    -- after both experiments
        """)

    exposures = bench_experiments.write_exposures(database, definitions)

    with duckdb.connect(str(database), read_only=True) as con:
        columns = [row[0] for row in con.execute("describe raw.experiment_exposures").fetchall()]
        rows = con.execute("select exposure_id, experiment_id, user_id, exposed_at, variation"
                           " from raw.experiment_exposures order by exposure_id").fetchall()
    assert columns == [name for name, _ in TABLE_COLUMNS["experiment_exposures"]]
    assert exposures == 3
    assert [row[:4] for row in rows] == [
        ("bench_a-1", "bench_a", 1, dt.datetime(2026, 4, 1, 9)),
        ("bench_a-2", "bench_a", 2, dt.datetime(2026, 4, 2, 23, 59, 59)),
        ("bench_b-2", "bench_b", 2, dt.datetime(2026, 4, 2, 23, 59, 59)),
    ]
    assert {row[4] for row in rows} <= {"control", "treatment"}
