"""Raw timestamps the loader already typed skip the text round trip (macro raw_timestamp_columns).

The same raw rows, loaded three ways (typed timestamps, every column text, timestamps with time
zone), must give the same staging tables: the same column types and the same rows. The typed
load must also compile to the direct path, so the comparison is not of one path with itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from product_metrics.dbt import run_dbt
from product_metrics.demo_data import generate_demo_data
from product_metrics.project import Project

from ..conftest import DEMO_PROJECT

TIMESTAMPS = {"events": "occurred_at", "users": "signed_up_at", "invites": "sent_at", "orders": "ordered_at",
              "ai_suggestions": "created_at", "nps_responses": "responded_at",
              "model_predictions": "evaluated_at"}
EVENTS_SQL = "compiled/product_metrics/models/staging/raw/base/base_raw__events.sql"
TEXT_ROUND_TRIP = "try_cast(nullif(trim(cast(occurred_at as"


def _plant_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Rows the reject rules must treat alike on every load: a missing timestamp, and two copies
    of an event with the same timestamp (the tie-break reads the raw record)."""
    con.execute("""
        insert into raw.events (event_id, user_id, occurred_at, event_name)
        select event_id + 1000000, user_id, null, event_name from raw.events order by event_id limit 1
    """)
    con.execute("""
        insert into raw.events (event_id, user_id, occurred_at, event_name)
        select event_id, user_id, occurred_at, 'a_copy' from raw.events order by event_id limit 1
    """)


def _reload(path: Path, cast_column) -> None:
    """Recreate every raw table with each column as `cast_column(table, column, type)` says."""
    with duckdb.connect(str(path)) as con:
        con.execute("set TimeZone = 'UTC'")
        tables = [row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()]
        for table in tables:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw' and table_name = ? order by ordinal_position", [table]).fetchall()
            select = ", ".join(f"{cast_column(table, name, kind)} as {name}" for name, kind in columns)
            con.execute(f"create or replace table raw.{table} as select {select} from raw.{table}")


def _staging_tables(path: Path) -> dict[str, tuple[list, list]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'staging' "
            "and table_type = 'BASE TABLE' order by 1").fetchall()]
        return {name: (con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = 'staging' "
            "and table_name = ? order by ordinal_position", [name]).fetchall(),
            con.execute(f"select * from staging.{name} order by all").fetchall()) for name in names}


def _build_staging(path: Path):
    run = run_dbt(Project(root=DEMO_PROJECT, duckdb_path=path), ["run", "--select", "staging"])
    if not run.success:
        pytest.fail("dbt run failed:\n" + "\n".join(f"{n.unique_id}: {n.message}" for n in run.failed_nodes()))
    return run


@pytest.fixture(scope="module")
def loads(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """The warehouse and the compiled SQL folder of each load, staging built."""
    root = tmp_path_factory.mktemp("typed_raw")
    typed = root / "typed.duckdb"
    generate_demo_data(typed, users=300, days=40, seed=3)
    with duckdb.connect(str(typed)) as con:
        _plant_rejects(con)
    paths = {"typed": typed, "text": root / "text.duckdb", "instant": root / "instant.duckdb"}
    shutil.copyfile(typed, paths["text"])
    shutil.copyfile(typed, paths["instant"])
    _reload(paths["text"], lambda table, name, kind: f"cast({name} as varchar)")
    _reload(paths["instant"], lambda table, name, kind: (
        f"cast({name} as timestamp with time zone)" if TIMESTAMPS.get(table) == name else name))
    return {label: (path, _build_staging(path).target_path) for label, path in paths.items()}


def test_typed_timestamps_compile_to_the_direct_path(loads):
    assert TEXT_ROUND_TRIP not in (loads["typed"][1] / EVENTS_SQL).read_text()
    assert "occurred_at at time zone 'UTC'" in (loads["instant"][1] / EVENTS_SQL).read_text()
    assert TEXT_ROUND_TRIP in (loads["text"][1] / EVENTS_SQL).read_text()


def test_text_and_typed_timestamps_give_the_same_staging_tables(loads):
    typed, text = _staging_tables(loads["typed"][0]), _staging_tables(loads["text"][0])
    assert typed.keys() == text.keys() and "base_raw__events" in typed
    rejected = {row[-2] for row in typed["base_raw__events"][1]}
    assert {"missing_timestamp", "duplicate"} <= rejected
    for name in typed:
        assert typed[name] == text[name], name


def test_timestamps_with_time_zone_give_the_same_staging_tables(loads):
    """The raw record prints an instant with its offset (+00): that column alone may differ."""
    typed, instant = _staging_tables(loads["typed"][0]), _staging_tables(loads["instant"][0])
    for name in typed:
        columns = typed[name][0]
        assert instant[name][0] == columns, name
        kept = [i for i, (column, _) in enumerate(columns) if column != "raw_record"]
        assert ([[row[i] for i in kept] for row in instant[name][1]]
                == [[row[i] for i in kept] for row in typed[name][1]]), name
