"""The result tables: read from hand-made marts and written next to them, with the contract's typed
columns, on DuckDB and PostgreSQL; empty (not missing) without experiments; replaced in one
transaction; the `experiments` stage of build and refresh, and its tables published with the run's
pending schemas on PostgreSQL; fct_experiment_decisions holds every experiment, one without
statistics too."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from contextlib import closing

import duckdb
import pytest
from rich.console import Console

from product_metrics.experiments.commands import read_out_and_write
from product_metrics.experiments.tables import DAILY_COLUMNS, DECISIONS_COLUMNS, RESULTS_COLUMNS, Marts
from product_metrics.pipeline import StageResult, experiments_stage
from product_metrics.project import Project
from product_metrics.relations import Relations
from product_metrics.warehouse import Warehouse, WarehouseError

from .marts import START, create_marts, experiment, statistics, variations, write_manifest
from .test_readout import GB_CONTROL, GB_RELATIVE_P, GB_TREATMENT

# The GrowthBook case as one experiment, its sums split over two exposure dates; and an experiment
# with a sample-ratio mismatch (500 against 650 units at 50/50).
DAY2 = START + dt.timedelta(days=1)
MARTS = Marts(
    experiments=[experiment("gb"), experiment("srm")],
    variations=variations("gb", ("control", 0.5, 3407), ("treatment", 0.5, 3461))
    + variations("srm", ("control", 0.5, 500), ("treatment", 0.5, 650)),
    statistics=[
        statistics("gb", "control", 0, "pm_revenue_usd", 3000, 1000.0, 40000.0),
        statistics("gb", "control", 0, "pm_revenue_usd", 407, GB_CONTROL[1] - 1000.0, GB_CONTROL[2] - 40000.0,
                   date=DAY2),
        statistics("gb", "treatment", 1, "pm_revenue_usd", 3000, 2000.0, 100000.0),
        statistics("gb", "treatment", 1, "pm_revenue_usd", 461, GB_TREATMENT[1] - 2000.0,
                   GB_TREATMENT[2] - 100000.0, date=DAY2),
        statistics("srm", "control", 0, "pm_revenue_usd", *GB_CONTROL),
        statistics("srm", "treatment", 1, "pm_revenue_usd", *GB_TREATMENT),
    ])
EMPTY = Marts([], [], [])

DUCKDB_TYPES = {"text": "VARCHAR", "bigint": "BIGINT", "double precision": "DOUBLE", "boolean": "BOOLEAN",
                "date": "DATE"}


def duckdb_warehouse(tmp_path, marts: Marts):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        create_marts(connection, marts)
    return path, Relations.load(write_manifest(tmp_path / "target"))


def columns(query, schema: str, table: str) -> list[tuple[str, str]]:
    return [tuple(row) for row in query(
        "select column_name, data_type from information_schema.columns where table_schema = :schema and "
        "table_name = :table order by ordinal_position", {"schema": schema, "table": table})]


def check_written(warehouse: Warehouse, schema: str, types: dict[str, str]) -> None:
    """The tables' columns and the values a person can work out from the marts."""
    assert columns(warehouse.query, schema, "fct_experiment_results") == [(n, types[t]) for n, t in RESULTS_COLUMNS]
    assert columns(warehouse.query, schema, "fct_experiment_daily") == [(n, types[t]) for n, t in DAILY_COLUMNS]
    names = [n for n, _ in RESULTS_COLUMNS]
    rows = {row[0]: dict(zip(names, row, strict=True)) for row in warehouse.query(
        f'select {", ".join(names)} from "{schema}".fct_experiment_results order by experiment_id')}
    assert sorted(rows) == ["gb", "srm"]
    gb = rows["gb"]
    assert {k: gb[k] for k in ("variation", "metric_name", "metric_role", "metric_kind", "unit", "direction",
                               "control_units", "variation_units", "is_significant", "is_harmful",
                               "variation_decision", "decision", "cuped_applied", "sequential")} == {
        "variation": "treatment", "metric_name": "pm_revenue_usd", "metric_role": "goal", "metric_kind": "sum",
        "unit": "usd", "direction": "higher_is_better", "control_units": 3407, "variation_units": 3461,
        "is_significant": False, "is_harmful": False, "variation_decision": "keep_running",
        "decision": "keep_running",
        "cuped_applied": False, "sequential": False}
    assert (gb["control_mean"], gb["variation_mean"], gb["absolute_effect"]) == pytest.approx((0.41, 0.70, 0.29))
    assert (gb["absolute_ci_lower"], gb["absolute_ci_upper"]) == pytest.approx((0.04538, 0.53462), abs=1e-5)
    assert gb["p_value"] == pytest.approx(GB_RELATIVE_P, abs=1e-5)
    assert gb["adjusted_p_value"] == pytest.approx(gb["p_value"])
    assert gb["relative_effect"] == pytest.approx(0.29 / 0.41)
    assert gb["decision_reason"] == ("no goal metric wins after holm correction (closest: pm_revenue_usd +70.7% "
                                     "(95% CI -3.5% to +145.0%), adjusted p = 0.062)")
    srm = rows["srm"]
    assert srm["srm_p_value"] < 0.001 and srm["decision"] == srm["variation_decision"] == "invalid"
    assert srm["decision_reason"].startswith("sample ratio mismatch: units control 500, treatment 650")
    daily = warehouse.query(f'select experiment_id, exposure_date, control_units, variation_units, absolute_effect '
                            f'from "{schema}".fct_experiment_daily order by experiment_id, exposure_date')
    # gb: day 1 holds the first 3000 + 3000 units (means 1/3 and 2/3), day 2 all of them.
    assert [(r[0], r[1], r[2], r[3]) for r in daily] == [("gb", START, 3000, 3000), ("gb", DAY2, 3407, 3461),
                                                         ("srm", START, 3407, 3461)]
    assert [r[4] for r in daily] == pytest.approx([1 / 3, 0.29, 0.29])


def test_results_are_written_next_to_the_marts_on_duckdb(tmp_path):
    path, relations = duckdb_warehouse(tmp_path, MARTS)
    _, detail = read_out_and_write(path, None, relations)
    assert detail == ("2 experiments: 1 keep_running, 1 invalid; 2 rows in metrics.fct_experiment_results, "
                      "3 in metrics.fct_experiment_daily")
    read_out_and_write(path, None, relations)  # a second run replaces, never appends
    with Warehouse.open(path, read_only=True) as warehouse:
        check_written(warehouse, "metrics", DUCKDB_TYPES)


def test_without_experiments_the_tables_exist_and_are_empty(tmp_path):
    path, relations = duckdb_warehouse(tmp_path, EMPTY)
    _, detail = read_out_and_write(path, None, relations)
    assert detail.startswith("0 experiments; 0 rows in metrics.fct_experiment_results")
    with duckdb.connect(str(path), read_only=True) as connection:
        for table in ("fct_experiment_results", "fct_experiment_daily"):
            assert connection.sql(f"select count(*) from metrics.{table}").fetchall() == [(0,)]


def test_both_tables_are_replaced_in_one_transaction(tmp_path):
    path, relations = duckdb_warehouse(tmp_path, MARTS)
    read_out_and_write(path, None, relations)
    with Warehouse.open(path) as warehouse, pytest.raises(WarehouseError, match=r"could not write metrics\.fct_experiment_results, metrics\.fct_experiment_daily"):
        warehouse.replace_tables("metrics", [("fct_experiment_results", [("x", "bigint")], []),
                                             ("fct_experiment_daily", [("x", "no_such_type")], [])])
    with duckdb.connect(str(path), read_only=True) as connection:
        assert connection.sql("select count(*) from metrics.fct_experiment_results").fetchall() == [(2,)]


def test_the_stage_reads_the_runs_manifest_and_writes_its_warehouse(tmp_path):
    path, _ = duckdb_warehouse(tmp_path, MARTS)
    project = Project(root=tmp_path, duckdb_path=path)
    console = Console(width=200, record=True)
    result = StageResult("experiments")
    assert experiments_stage(project, console, result, {"target_path": tmp_path / "target"})
    assert result.detail.startswith("2 experiments: 1 keep_running, 1 invalid; 2 rows in metrics.fct_experiment_results")

    without = StageResult("experiments")  # a project whose package builds no experiment marts
    assert experiments_stage(project, console, without, {"target_path": write_manifest(tmp_path / "old",
                                                                                       with_marts=False)})
    assert without.detail == "the project builds no experiment marts: nothing to read out"

    broken = StageResult("experiments")  # the manifest places the marts where there are none
    assert not experiments_stage(project, console, broken, {"target_path": write_manifest(tmp_path / "elsewhere",
                                                                                          schema="nowhere")})
    assert "nowhere" in broken.detail
    assert broken.how_to_see_more == [f"rerun: product-metrics experiments --write --database {path}"]


# --- PostgreSQL -----------------------------------------------------------------------------------

@pytest.fixture
def postgres_database(postgres_admin):
    from product_metrics.warehouses.postgres import drop_database, recreate_database

    from ..conftest import DBT_PASSWORD, DBT_USER

    name = f"product_metrics_test_readout_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    recreate_database(postgres_admin, name, owner=DBT_USER)
    try:
        yield postgres_admin.as_login(DBT_USER, DBT_PASSWORD).with_database(name)
    finally:
        drop_database(postgres_admin, name)


POSTGRES_TYPES = {"text": "text", "bigint": "bigint", "double precision": "double precision",
                  "boolean": "boolean", "date": "date"}


def test_the_stage_writes_the_pending_schema_and_publish_moves_the_tables_in(postgres_database, tmp_path):
    """On PostgreSQL a run builds `metrics__pending`: the readout writes there, and the publish that
    swaps the pending schema in takes the two tables with it."""
    from product_metrics.warehouses import postgres_publish
    from product_metrics.warehouses.postgres import PostgresProject

    with closing(postgres_database.connect(autocommit=False)) as connection:
        create_marts(connection, MARTS, schema="metrics__pending")
    project = PostgresProject(root=tmp_path, duckdb_path=tmp_path / "unused.duckdb", postgres=postgres_database,
                              publish_suffix=postgres_publish.PENDING_SUFFIX)
    result = StageResult("experiments")
    assert experiments_stage(project, Console(width=200), result,
                             {"target_path": write_manifest(tmp_path / "target", schema="metrics__pending")})
    assert "2 rows in metrics__pending.fct_experiment_results" in result.detail

    published = postgres_publish.publish(postgres_database, ("metrics",))
    assert {"metrics.fct_experiment_results", "metrics.fct_experiment_daily"} <= set(published.relations)
    with Warehouse.open(url=postgres_database.sqlalchemy_url()) as warehouse:
        check_written(warehouse, "metrics", POSTGRES_TYPES)


# --- fct_experiment_decisions ----------------------------------------------------------------------

# MARTS and an experiment with 40 + 60 units whose windows are all open (no statistics row) and a
# guardrail it cannot measure.
WAITING_MARTS = Marts(
    experiments=[*MARTS.experiments,
                 experiment("waiting", exposed_users=100, unmeasured_guardrails="pm_ai_latency_p90_ms (a percentile)",
                            first_window_end_date=START + dt.timedelta(days=14))],
    variations=MARTS.variations + variations("waiting", ("control", 0.4, 40), ("treatment", 0.6, 60)),
    statistics=MARTS.statistics)
WAITING_REASON = ("no unit has a complete measurement window yet (the first window ends 2026-04-20); not measured: "
                  "pm_ai_latency_p90_ms (a percentile)")


def check_decisions(warehouse: Warehouse, schema: str, types: dict[str, str]) -> None:
    """One row per experiment, the waiting one included; results only for experiments with statistics."""
    assert columns(warehouse.query, schema, "fct_experiment_decisions") == [(n, types[t]) for n, t in DECISIONS_COLUMNS]
    rows = {row[0]: row[1:] for row in warehouse.query(
        f'select experiment_id, decision, decision_reason, srm_p_value, runtime_days, units '
        f'from "{schema}".fct_experiment_decisions order by experiment_id')}
    assert sorted(rows) == ["gb", "srm", "waiting"]
    assert rows["gb"][:2] == ("keep_running", ("no goal metric wins after holm correction (closest: "
                                               "pm_revenue_usd +70.7% (95% CI -3.5% to +145.0%), adjusted p = 0.062)"))
    # 40 and 60 units at weights 0.4 / 0.6: chi-square 0, p 1.
    assert rows["waiting"][:2] == ("keep_running", WAITING_REASON)
    assert rows["waiting"][2] == pytest.approx(1.0)
    assert rows["waiting"][3:] == (28, 100)
    assert rows["srm"][0] == "invalid" and rows["srm"][2] < 0.001
    results = warehouse.query(f'select distinct experiment_id from "{schema}".fct_experiment_results order by 1')
    assert [r[0] for r in results] == ["gb", "srm"]  # the grain holds: no metric, no result row


def test_decisions_are_written_for_every_experiment_on_duckdb(tmp_path):
    path, relations = duckdb_warehouse(tmp_path, WAITING_MARTS)
    read_out_and_write(path, None, relations)
    with Warehouse.open(path, read_only=True) as warehouse:
        check_decisions(warehouse, "metrics", DUCKDB_TYPES)


def test_the_three_tables_are_replaced_together(tmp_path):
    path, relations = duckdb_warehouse(tmp_path, WAITING_MARTS)
    read_out_and_write(path, None, relations)
    with Warehouse.open(path) as warehouse, pytest.raises(WarehouseError):
        warehouse.replace_tables("metrics", [("fct_experiment_results", [("x", "bigint")], []),
                                             ("fct_experiment_daily", [("x", "bigint")], []),
                                             ("fct_experiment_decisions", [("x", "no_such_type")], [])])
    with duckdb.connect(str(path), read_only=True) as connection:
        assert connection.sql("select count(*) from metrics.fct_experiment_decisions").fetchall() == [(3,)]
        assert connection.sql("select count(*) from metrics.fct_experiment_results").fetchall() == [(2,)]


def test_the_decisions_publish_with_the_run_on_postgres(postgres_database, tmp_path):
    from product_metrics.warehouses import postgres_publish
    from product_metrics.warehouses.postgres import PostgresProject

    with closing(postgres_database.connect(autocommit=False)) as connection:
        create_marts(connection, WAITING_MARTS, schema="metrics__pending")
    project = PostgresProject(root=tmp_path, duckdb_path=tmp_path / "unused.duckdb", postgres=postgres_database,
                              publish_suffix=postgres_publish.PENDING_SUFFIX)
    assert experiments_stage(project, Console(width=200), StageResult("experiments"),
                             {"target_path": write_manifest(tmp_path / "target", schema="metrics__pending")})
    published = postgres_publish.publish(postgres_database, ("metrics",))
    assert "metrics.fct_experiment_decisions" in set(published.relations)
    with Warehouse.open(url=postgres_database.sqlalchemy_url()) as warehouse:
        check_decisions(warehouse, "metrics", POSTGRES_TYPES)
