"""metrics.fct_metric_change_drivers: every metric's latest complete week and month against the one
before, written next to the cells with the contract's typed columns, replaced on every run; the
`drivers` stage of build and refresh, which passes on a project without cells and fails only when
tables cannot be read or written; on PostgreSQL written into the pending schema and published with it."""

from __future__ import annotations

import os
import uuid

import duckdb
import pytest
from rich.console import Console

from product_metrics.drivers.periods import Period
from product_metrics.drivers.tables import (
    DRIVERS_COLUMNS,
    Comparison,
    driver_rows,
    explain_and_write,
    latest_comparisons,
)
from product_metrics.pipeline import StageResult, drivers_stage
from product_metrics.project import Project
from product_metrics.warehouse import Warehouse

from . import fabricated as fab

DUCKDB_TYPES = {"text": "VARCHAR", "integer": "INTEGER", "double precision": "DOUBLE", "date": "DATE"}
WEEK24, WEEK25 = Period("week", fab.W24), Period("week", fab.W25)


@pytest.fixture
def path(tmp_path):
    return fab.create_tables(tmp_path / "warehouse.duckdb")


def test_the_latest_complete_periods_are_compared_with_the_ones_before(path):
    """W26 and June are not complete: W25 against W24, May against April."""
    with Warehouse.open(path, read_only=True) as warehouse:
        assert latest_comparisons(warehouse, fab.registry()) == [
            Comparison("pm_average_dau", WEEK24, WEEK25),
            Comparison("pm_north_star_users", WEEK24, WEEK25),
            Comparison("pm_retention_rate", WEEK24, WEEK25),
            Comparison("pm_signups", Period("month", fab.APRIL), Period("month", fab.MAY)),
        ]


def _written(path) -> dict[tuple, dict]:
    names = [n for n, _ in DRIVERS_COLUMNS]
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(f"select {', '.join(names)} from metrics.fct_metric_change_drivers").fetchall()
    return {(r[0], r[4], r[6]): dict(zip(names, r, strict=True)) for r in rows}


def test_the_table_holds_segments_mix_rate_and_tree_rows(path):
    detail = explain_and_write(path, None, fab.registry())
    assert "for 4 metrics in metrics.fct_metric_change_drivers" in detail
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select column_name, data_type from information_schema.columns where table_name = "
                           "'fct_metric_change_drivers' order by ordinal_position").fetchall() \
            == [(n, DUCKDB_TYPES[t]) for n, t in DRIVERS_COLUMNS]
        groups = con.execute("select metric_name, period_grain, from_period_start, to_period_start, analysis, "
                             "count(*), min(driver_rank), max(driver_rank) from metrics.fct_metric_change_drivers "
                             "group by all order by all").fetchall()
    analyses = {(g[0], g[4]): g for g in groups}
    assert set(analyses) == {("pm_average_dau", "segment"), ("pm_north_star_users", "segment"),
                             ("pm_north_star_users", "tree"), ("pm_retention_rate", "mix_rate"),
                             ("pm_signups", "segment")}
    for (metric, _), (_, grain, start, end, _, count, low, high) in analyses.items():
        assert (low, high) == (1, count)  # ranks 1..n within the metric, period and analysis
        assert (grain, start, end) == (("month", fab.APRIL, fab.MAY) if metric == "pm_signups"
                                       else ("week", fab.W24, fab.W25))
    rows = _written(path)
    # Retention: BR 0.2 -> 0.1 (mix −0.015, rate −0.045) outweighs US (+0.02): rank 1.
    br = rows["pm_retention_rate", "mix_rate", "country=BR"]
    assert {k: br[k] for k in ("dimensions", "depth", "driver_rank", "period_grain")} == {
        "dimensions": "country", "depth": 1, "driver_rank": 1, "period_grain": "week"}
    assert (br["from_value"], br["to_value"], br["difference"], br["mix_effect"], br["rate_effect"], br["support"]) \
        == pytest.approx((0.2, 0.1, -0.06, -0.015, -0.045, 0.5))
    assert br["contribution"] is None and br["expected_value"] is None
    # The tree: the share of actives and weekly actives −47.5 each (ranked by depth, then name), then
    # resurrecting −47.5, new +28.5, returning −28.5 (test_explain works them out).
    tree = sorted((r for r in rows.values() if r["analysis"] == "tree"), key=lambda r: r["driver_rank"])
    assert [(r["segment"], r["depth"]) for r in tree] == [
        ("pm_north_star_share_of_active", 1), ("pm_weekly_active_users", 1), ("pm_resurrecting_users", 2),
        ("pm_new_users", 2), ("pm_returning_users", 2)]
    assert [r["contribution"] for r in tree] == pytest.approx([-47.5, -47.5, -47.5, 28.5, -28.5])
    assert [r["contribution_share"] for r in tree] == pytest.approx([-0.095, -0.095, -0.095, 0.057, -0.057])
    assert (tree[1]["from_value"], tree[1]["to_value"], tree[1]["difference"]) == (1000, 900, -100)
    assert all(r["dimensions"] is None for r in tree)
    # A segment row: BR × android (or what pruning kept of the drop) first, 60 below what was expected.
    dau = sorted((r for r in rows.values() if r["metric_name"] == "pm_average_dau"), key=lambda r: r["driver_rank"])
    assert dau[0]["unexpected_difference"] == pytest.approx(-60)
    assert dau[0]["segment"] in {"country=BR, platform=android", "country=BR", "platform=android"}
    assert dau[0]["dimensions"] == ", ".join(part.split("=")[0] for part in dau[0]["segment"].split(", "))
    assert dau[0]["depth"] == dau[0]["segment"].count("=")


def test_a_second_run_replaces_the_table(path):
    first = explain_and_write(path, None, fab.registry())
    assert explain_and_write(path, None, fab.registry()) == first
    with Warehouse.open(path, read_only=True) as warehouse:
        rows, notes = driver_rows(warehouse, fab.registry())
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select count(*) from metrics.fct_metric_change_drivers").fetchone()[0] == len(rows)
    assert notes == []


def test_without_cells_in_the_periods_the_table_is_empty(tmp_path):
    path = fab.create_tables(tmp_path / "empty.duckdb", cells=[])
    assert explain_and_write(path, None, fab.registry()) == "0 rows for 0 metrics in metrics.fct_metric_change_drivers"
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select count(*) from metrics.fct_metric_change_drivers").fetchone() == (0,)


# --- the stage ---------------------------------------------------------------------------------------

def test_the_stage_reads_the_runs_manifest_and_writes_its_warehouse(path, tmp_path):
    project = Project(root=tmp_path, duckdb_path=path)
    console = Console(width=200, record=True)
    result = StageResult("drivers")
    assert drivers_stage(project, console, result, {"target_path": fab.write_manifest(tmp_path / "target")})
    assert "rows for 4 metrics in metrics.fct_metric_change_drivers" in result.detail

    without = StageResult("drivers")  # a package that builds no cells
    assert drivers_stage(project, console, without, {"target_path": fab.write_manifest(tmp_path / "old",
                                                                                       with_cells=False)})
    assert without.detail == "the project builds no fct_metric_segment_cells: nothing to explain"

    broken = StageResult("drivers")  # the manifest places the cells where there are none
    assert not drivers_stage(project, console, broken, {"target_path": fab.write_manifest(tmp_path / "elsewhere",
                                                                                          schema="nowhere")})
    assert "Cannot read fct_metric_segment_cells" in broken.detail and "nowhere" in broken.detail


# --- PostgreSQL --------------------------------------------------------------------------------------

@pytest.fixture
def postgres_database(postgres_admin):
    from product_metrics.warehouses.postgres import drop_database, recreate_database

    from ..conftest import DBT_PASSWORD, DBT_USER

    name = f"product_metrics_test_drivers_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    recreate_database(postgres_admin, name, owner=DBT_USER)
    try:
        yield postgres_admin.as_login(DBT_USER, DBT_PASSWORD).with_database(name)
    finally:
        drop_database(postgres_admin, name)


def test_the_stage_writes_the_pending_schema_and_publish_moves_the_table_in(postgres_database, tmp_path):
    """On PostgreSQL a run builds `metrics__pending`: the drivers are written there and published with it."""
    import sqlalchemy

    from product_metrics.warehouses import postgres_publish
    from product_metrics.warehouses.postgres import PostgresProject

    local = fab.create_tables(tmp_path / "source.duckdb")
    engine = sqlalchemy.create_engine(postgres_database.sqlalchemy_url())
    with duckdb.connect(str(local), read_only=True) as con, engine.begin() as pg:
        pg.execute(sqlalchemy.text('create schema "metrics__pending"'))
        for table in ("fct_metric_segment_cells", "fct_user_lifecycle_weekly", "fct_north_star_weekly"):
            frame = con.execute(f"select * from metrics.{table}").df()
            frame.to_sql(table, pg, schema="metrics__pending", index=False)
    engine.dispose()
    project = PostgresProject(root=tmp_path, duckdb_path=tmp_path / "unused.duckdb", postgres=postgres_database,
                              publish_suffix=postgres_publish.PENDING_SUFFIX)
    result = StageResult("drivers")
    assert drivers_stage(project, Console(width=200), result,
                         {"target_path": fab.write_manifest(tmp_path / "target", schema="metrics__pending")})
    assert "for 4 metrics in metrics__pending.fct_metric_change_drivers" in result.detail
    published = postgres_publish.publish(postgres_database, ("metrics",))
    assert "metrics.fct_metric_change_drivers" in set(published.relations)
    with Warehouse.open(url=postgres_database.sqlalchemy_url()) as warehouse:
        tree = warehouse.query("select segment, contribution, driver_rank from metrics.fct_metric_change_drivers "
                               "where analysis = 'tree' order by driver_rank")
    assert [(r[0], r[2]) for r in tree][:2] == [("pm_north_star_share_of_active", 1), ("pm_weekly_active_users", 2)]
    assert [r[1] for r in tree] == pytest.approx([-47.5, -47.5, -47.5, 28.5, -28.5])
