"""The checks run as SQL inside DuckDB: on a metric table of two million rows whose anomaly series
has a spike every 13 weeks, validation finds the spikes in the warehouse and never brings more than
a sample of rows into Python."""

from __future__ import annotations

import datetime as dt
import re
import time

import duckdb
import pytest

from product_metrics.quality.settings import QualitySettings
from product_metrics.quality.validate import validate_warehouse
from product_metrics.quality.warehouse import DuckDBWarehouse

COHORTS, PERIODS = 20_000, 100
ROWS = COHORTS * PERIODS


@pytest.fixture(scope="module")
def large_retention_table(tmp_path_factory):
    path = tmp_path_factory.mktemp("quality_large") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema metrics")
        # Week-1 retention is 0.5, except every 13th cohort's 0.9: a change from a flat trailing window.
        connection.execute(f"""
            create table metrics.fct_cohort_retention as
            select 'week' as cohort_granularity,
                   cast(date '1900-01-01' + 7 * cast(c as integer) as date) as cohort_start,
                   cast(k as integer) as period_number,
                   cast(1000 as bigint) as cohort_size,
                   cast(1000 - k as bigint) as retained_users,
                   cast(case when k = 1 and c % 13 = 12 then 0.9 else 0.5 end as double) as retention_rate,
                   cast(1000 - k as hugeint) as retained_or_after_users,
                   cast((1000 - k) / 1000 as double) as unbounded_retention_rate,
                   true as is_complete
            from range({COHORTS}) cohorts(c) cross join range({PERIODS}) periods(k)
        """)
    return path


def test_checks_on_a_large_table_run_in_the_warehouse(large_retention_table):
    session = DuckDBWarehouse(large_retention_table).connect()
    settings = QualitySettings(include_layers=("metrics",), tables=("fct_cohort_retention",))
    started = time.perf_counter()
    try:
        report = validate_warehouse(DuckDBWarehouse(large_retention_table), settings, store=False,
                                    last_included_date=dt.date(2300, 1, 1), session=session)
    finally:
        session.close()
    elapsed = time.perf_counter() - started

    results = {r.rule: r for r in report.results}
    assert not [r for r in report.results if r.error], [(r.rule, r.error) for r in report.results if r.error]
    spikes = len([c for c in range(COHORTS) if c % 13 == 12])
    assert results["anomaly_week_1_retention_rate"].unexpected_count == spikes
    assert results["not_empty"].success and not results["latest_period_reaches_cutoff"].success

    log = session.log
    assert log.statements, "the checks' SQL went through the session's cursors"
    # Counted in SQL, sampled into Python: at most GX's sample (200 rows) per statement.
    assert log.max_rows_fetched() <= 200
    assert sum(rows for _, rows in log.rows_fetched) < 5_000 < ROWS
    unbounded = [s for s in log.statements
                 if re.fullmatch(r"\s*select\s+\*\s+from\s+\S*fct_cohort_retention\s*", s, re.IGNORECASE)]
    assert not unbounded
    assert elapsed < 120
