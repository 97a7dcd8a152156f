"""product_metrics.dbt: dbt's saved parse is carried from run to run (each run has its own target
path, where dbt keeps it), so a scheduled refresh does not parse the whole project every day."""

from __future__ import annotations

from pathlib import Path

from product_metrics.dbt import KEPT_PARSE_STATES, partial_parse_state, run_dbt
from product_metrics.project import Project
from product_metrics.refresh import TEST_WINDOW_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_PROJECT = REPO_ROOT / "integration_tests"


def test_saved_parse_is_reused_across_runs_and_refresh_windows(tmp_path):
    project = Project(root=DEMO_PROJECT, duckdb_path=tmp_path / "warehouse.duckdb")
    state = partial_parse_state(project, project.dbt_env())
    state.unlink(missing_ok=True)

    first = run_dbt(project, ["parse"], env={TEST_WINDOW_ENV: "2026-06-25"})
    assert first.success and first.full_parse and state.is_file()
    # The next day's refresh: another window, same vars. The window is read at run time only.
    second = run_dbt(project, ["parse"], env={TEST_WINDOW_ENV: "2026-06-26"})
    assert second.success and not second.full_parse
    # Changed vars invalidate the saved parse (dbt's own check), which is why the window is not a var.
    third = run_dbt(project, ["parse"], vars={"product_metrics__late_arrival_days": 4},
                    env={TEST_WINDOW_ENV: "2026-06-26"})
    assert third.success and third.full_parse
    state.unlink(missing_ok=True)


def test_saved_parse_states_are_pruned(tmp_path, monkeypatch):
    from product_metrics import dbt

    directory = tmp_path / "target" / "partial_parse"
    directory.mkdir(parents=True)
    for index in range(KEPT_PARSE_STATES + 3):
        (directory / f"old{index:02d}.msgpack").write_bytes(b"x")
    written = tmp_path / "run" / "partial_parse.msgpack"
    written.parent.mkdir()
    written.write_bytes(b"new")
    dbt._save_partial_parse_state(written, directory / "current.msgpack")
    kept = sorted(path.name for path in directory.iterdir())
    assert len(kept) == KEPT_PARSE_STATES and "current.msgpack" in kept
    assert not list(directory.glob("*.tmp"))


def test_dbt_file_log_is_info_unless_the_caller_asks_for_debug(tmp_path, monkeypatch):
    """dbt's debug file log writes every SQL statement: ~12 % of a 10M-event refresh."""
    project = Project(root=DEMO_PROJECT, duckdb_path=tmp_path / "warehouse.duckdb")
    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    assert project.dbt_env()["DBT_LOG_LEVEL_FILE"] == "info"
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    assert project.dbt_env()["DBT_LOG_LEVEL_FILE"] == "debug"
