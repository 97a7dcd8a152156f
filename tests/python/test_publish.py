"""Write-audit-publish on DuckDB (product_metrics.publish): `build` and `refresh` work on a copy of
the warehouse and replace the live file only when every stage passed. A failed gate, a refused run
and a killed run leave every table BI reads byte-identical (checksums of every table of `metrics`
and `audit`, and of the file itself)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from product_metrics.publish import UNPUBLISHED_DIR, FileState, PublishError, WarehouseCopy

from .conftest import DEMO_SIZE, REPO_ROOT, build_warehouse

CLI = Path(sys.executable).with_name("product-metrics")


def table_checksums(path: Path) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent md5 of every table of the schemas BI reads."""
    checksums = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_schema in ('metrics', 'audit') order by all").fetchall()
        for schema, table in tables:
            checksums[f"{schema}.{table}"] = con.execute(
                f'select count(*), md5(coalesce(string_agg(t::varchar, \'#\' order by t::varchar), \'\')) '
                f'from "{schema}"."{table}" as t').fetchone()
    assert "metrics.fct_cohort_retention" in checksums and "audit.rejected_rows" in checksums
    return checksums


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def yesterday(tmp_path_factory) -> Path:
    """A warehouse as yesterday's run left it: dirty demo data, built."""
    from product_metrics.demo_data import generate_demo_data

    path = tmp_path_factory.mktemp("publish_yesterday") / "warehouse.duckdb"
    generate_demo_data(path, dirty=True, **DEMO_SIZE)
    build_warehouse(path)
    return path


@pytest.fixture
def live(yesterday, tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(yesterday, path)
    return path


def _cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *args], cwd=REPO_ROOT, env={**os.environ, "COLUMNS": "200"},
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_a_failed_gate_publishes_nothing(live):
    before, digest = table_checksums(live), file_digest(live)
    # The dirty demo data rejects a few rows of every source: a zero reject share fails the gate.
    result = _cli("refresh", "--no-docs", "--reject-share-limit", "0.0001", "--database", str(live))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Nothing was published" in result.stdout
    assert table_checksums(live) == before and file_digest(live) == digest
    # The failed run's own warehouse is kept for a look at what failed.
    failed = live.parent / UNPUBLISHED_DIR / live.name
    with duckdb.connect(str(failed), read_only=True) as con:
        assert con.execute("select count(*) from audit.dq_results where not success").fetchone()[0] > 0


def test_a_refused_run_publishes_nothing(live):
    from product_metrics.refresh import refresh_lock

    before, digest = table_checksums(live), file_digest(live)
    with refresh_lock(live):
        result = _cli("build", "--no-docs", "--database", str(live), timeout=120)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Another build or refresh of" in result.stdout
    assert table_checksums(live) == before and file_digest(live) == digest


def test_a_killed_refresh_publishes_nothing_and_the_next_one_publishes(live, tmp_path):
    before, digest = table_checksums(live), file_digest(live)
    work = live.parent / UNPUBLISHED_DIR / live.name
    process = subprocess.Popen([str(CLI), "refresh", "--no-docs", "--reject-share-limit", "0.5", "--database",
                                str(live)], cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    # Killed while dbt writes the copy: the copy has been taken and dbt has opened it.
    deadline = time.monotonic() + 300
    while not (work.is_file() and work.with_name(work.name + ".wal").is_file()):
        assert process.poll() is None, "the refresh ended before dbt wrote anything"
        assert time.monotonic() < deadline, "dbt never started writing the copy"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()

    assert table_checksums(live) == before and file_digest(live) == digest

    result = _cli("refresh", "--no-docs", "--reject-share-limit", "0.5", "--database", str(live))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not work.exists()  # moved over the live file
    assert file_digest(live) != digest
    after = table_checksums(live)
    assert after["metrics.fct_cohort_retention"] == before["metrics.fct_cohort_retention"]  # same raw data
    assert after.keys() >= before.keys()


def _database(path: Path, value: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create or replace table t as select ? as value", [value])


def _value(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select value from t").fetchone()[0]


def _run_aside(tmp_path: Path) -> tuple[Path, WarehouseCopy, FileState]:
    """A live warehouse holding 1, and a run's copy of it that now holds 2."""
    live = tmp_path / "w.duckdb"
    _database(live, 1)
    copy = WarehouseCopy(live)
    state, _ = copy.prepare()
    _database(copy.work, 2)
    return live, copy, state


def test_publish_replaces_the_live_file_by_the_copy(tmp_path):
    live, copy, state = _run_aside(tmp_path)
    assert _value(live) == 1
    copy.publish(state)
    assert _value(live) == 2 and not copy.work.exists()


def test_publish_is_refused_when_the_live_file_changed_during_the_run(tmp_path):
    live, copy, state = _run_aside(tmp_path)
    _database(live, 3)  # a loader wrote into the live file meanwhile
    with pytest.raises(PublishError, match="changed while this run worked on its copy"):
        copy.publish(state)
    assert _value(live) == 3


def test_publish_is_refused_while_another_process_writes_the_live_file(tmp_path):
    live, copy, state = _run_aside(tmp_path)
    hold_open = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)"
    writer = subprocess.Popen([sys.executable, "-c", hold_open, str(live)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "open"
        with pytest.raises(PublishError, match="open for writing in another process"):
            copy.publish(state)
        with pytest.raises(PublishError, match="open for writing in another process"):
            copy.prepare()
    finally:
        writer.kill()
        writer.wait()
    assert _value(live) == 1


def test_readers_of_the_live_file_do_not_block_the_run(tmp_path):
    live = tmp_path / "w.duckdb"
    _database(live, 1)
    copy = WarehouseCopy(live)
    with duckdb.connect(str(live), read_only=True) as reader:
        state, _ = copy.prepare()
        _database(copy.work, 2)
        copy.publish(state)
        assert reader.execute("select value from t").fetchone()[0] == 1  # the snapshot it opened
    assert _value(live) == 2


def test_a_missing_directory_is_refused_before_anything_is_created(tmp_path):
    live = tmp_path / "missing" / "w.duckdb"
    with pytest.raises(PublishError, match="does not exist"):
        WarehouseCopy(live).prepare()
    assert not (tmp_path / "missing").exists()
