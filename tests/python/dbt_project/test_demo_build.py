"""dbt build on generated data: bad rows are all accounted for and never change a number."""

from __future__ import annotations

from collections import Counter

import duckdb
import pytest

from product_metrics.demo_data import RAW_TABLES, REJECTION_REASONS

METRIC_TABLES = [
    "fct_cohort_retention", "fct_stickiness_daily", "fct_cac_by_channel", "fct_cac_monthly",
    "fct_ltv_cac_by_channel", "fct_ltv_cac_monthly", "fct_ltv_cohort", "fct_nps_monthly",
    "fct_k_factor_monthly",
    # The AI, lifecycle and funnel tables.
    "fct_ai_suggestions_daily", "fct_model_performance_weekly", "fct_user_lifecycle_weekly",
    "fct_activation_weekly", "fct_north_star_weekly", "fct_aarrr_monthly",
]


def _rows(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_raw_row_is_accepted_or_rejected_on_dirty_data(dirty_demo):
    path, _ = dirty_demo
    for table in RAW_TABLES:
        [(raw,)] = _rows(path, f"select count(*) from raw.{table}")
        [(accepted,)] = _rows(path, f"select count(*) from staging.stg_raw__{table}")
        [(rejected,)] = _rows(path, f"select count(*) from audit.rejected_rows where source_table = '{table}'")
        assert raw == accepted + rejected, table


def test_rejected_rows_are_exactly_the_planted_ones(dirty_demo):
    path, generated = dirty_demo
    got = Counter(_rows(path, "select source_table, source_key, reason from audit.rejected_rows"))
    planted = Counter((p.source_table, p.source_key, p.reason) for p in generated.planted)
    assert got == planted
    assert {reason for _, _, reason in got} == set(REJECTION_REASONS)


def test_rejected_rows_keep_the_raw_record(dirty_demo):
    path, _ = dirty_demo
    rows = _rows(path, "select raw_record from audit.rejected_rows where source_table = 'events' limit 5")
    assert rows and all(r[0].startswith('{"event_id": ') for r in rows)


@pytest.mark.parametrize("table", METRIC_TABLES)
def test_bad_rows_do_not_change_any_metric(table, clean_demo_warehouse, dirty_demo):
    dirty_path, _ = dirty_demo
    clean = _rows(clean_demo_warehouse, f"select * from metrics.{table} order by all")
    dirty = _rows(dirty_path, f"select * from metrics.{table} order by all")
    assert clean, f"{table} is empty on the demo data"
    assert dirty == clean


def test_demo_metrics_tell_a_plausible_story(clean_demo_warehouse):
    [(mau, dau_mau)] = _rows(clean_demo_warehouse, """
        select mau, dau_mau_ratio from metrics.fct_stickiness_daily order by activity_date desc limit 1""")
    assert mau > 0 and 0 < dau_mau < 1
    paid = _rows(clean_demo_warehouse, """
        select count(*) from metrics.fct_cac_by_channel where is_paid_channel and cac_usd > 0""")
    assert paid[0][0] > 0
    [(nps,)] = _rows(clean_demo_warehouse, "select avg(nps) from metrics.fct_nps_monthly")
    assert -100 < nps < 100
