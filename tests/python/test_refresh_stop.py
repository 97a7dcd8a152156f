"""Stopping a refresh (product_metrics.dbt.run_dbt): Ctrl-C, a scheduler's SIGTERM and `refresh --timeout`
stop dbt (SIGINT, then a kill after a grace period), leave no dbt process behind, publish nothing (the
live warehouse file is byte-identical) and say so in one line."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from product_metrics.project import DUCKDB_PATH_ENV
from product_metrics.publish import WarehouseCopy

from .conftest import REPO_ROOT

CLI = Path(sys.executable).with_name("product-metrics")


@pytest.fixture
def unbuilt(tmp_path) -> Path:
    """Raw demo data only: the refresh builds every model, long enough to be stopped midway."""
    from product_metrics.demo_data import generate_demo_data

    path = tmp_path / "warehouse.duckdb"
    generate_demo_data(path, users=600, days=60, seed=11)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dbt_processes(database: Path) -> list[int]:
    """The dbt processes working on `database` (their environment names it, see Project.dbt_env)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline, environ = (entry / "cmdline").read_bytes(), (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"dbt" in cmdline and f"{DUCKDB_PATH_ENV}={database}".encode() in environ:
            found.append(int(entry.name))
    return found


def _start(database: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([str(CLI), "refresh", "--no-docs", "--database", str(database), *args], cwd=REPO_ROOT,
                            env={**os.environ, "COLUMNS": "200"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def _wait_for_dbt(process: subprocess.Popen, work: Path, *, writing: bool = True) -> None:
    """Until dbt runs (and, when `writing`, writes the run's copy of the warehouse)."""
    deadline = time.monotonic() + 300
    while not (dbt_processes(work) and (not writing or work.with_name(work.name + ".wal").is_file())):
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "dbt never started writing the copy"
        time.sleep(0.1)


def test_a_refresh_past_its_timeout_stops_dbt_and_publishes_nothing(unbuilt):
    before, work = digest(unbuilt), WarehouseCopy(unbuilt).work
    started = time.monotonic()
    process = _start(unbuilt, "--timeout", "0.1")  # 6 s: the first build of every model takes far longer
    _wait_for_dbt(process, work, writing=False)  # parsing the project or building: either is stopped
    output, _ = process.communicate(timeout=120)

    assert process.returncode == 1, output
    assert "✗ dbt build stopped: it ran longer than the timeout (0.1 min) and was interrupted." in output
    assert f"Nothing was published: {unbuilt} is unchanged." in output
    assert "Traceback" not in output
    assert time.monotonic() - started < 60  # stopped, not run to the end
    assert dbt_processes(work) == [] and digest(unbuilt) == before


@pytest.mark.parametrize("stop", ["sigterm to the refresh", "ctrl-c to its process group"])
def test_an_interrupted_refresh_stops_dbt_and_publishes_nothing(unbuilt, stop):
    before, work = digest(unbuilt), WarehouseCopy(unbuilt).work
    process = _start(unbuilt)
    _wait_for_dbt(process, work)
    if stop == "sigterm to the refresh":  # a scheduler stopping the job: dbt gets its SIGINT from the refresh
        process.send_signal(signal.SIGTERM)
    else:  # a terminal's Ctrl-C reaches the refresh and dbt alike
        os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=120)

    assert process.returncode == 130, output
    assert f"✗ product-metrics refresh interrupted: nothing was published, {unbuilt} is unchanged." in output
    assert "Traceback" not in output
    assert dbt_processes(work) == [] and digest(unbuilt) == before
