"""`product-metrics refresh`: the scheduled refresh. An incremental `dbt build` (the
event-heavy models re-derive only their refresh window, see macros/incremental/refresh_window.sql),
then the data-quality gate, the governance check and the threshold alerts: the stages of
`product-metrics build` plus alerts.

Safe to run twice, concurrently or after a crash:
- twice: every incremental model replaces its window with what the raw data says now, so a second
  run writes the same rows;
- concurrently: a second refresh of the same warehouse is refused by an exclusive lock;
- after a crash: dbt changes each model in one transaction and every model computes its window
  from its own committed rows, and the lock is an OS file lock that dies with its process, so the
  next refresh needs nothing cleaned up;
- stopped: Ctrl-C, SIGTERM and --timeout stop dbt (product_metrics.dbt.stop_dbt) and publish nothing.

The Dagster job (product_metrics.orchestration) runs this same path, refresh_project, with its dbt
command going through dagster-dbt.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from product_metrics.errors import EXIT_LOCKED, UserError

if TYPE_CHECKING:
    from product_metrics.dbt import DbtRun

LOCK_SUFFIX = ".refresh.lock"


class RefreshLocked(UserError):
    """Another build or refresh of the same warehouse is running; the message says which and what to do."""

    exit_code = EXIT_LOCKED


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + LOCK_SUFFIX)


@contextmanager
def refresh_lock(database: Path) -> Iterator[Path]:
    """Hold the warehouse's refresh lock for the block, or raise RefreshLocked at once.

    flock, not a marker file: the kernel releases it when the holder exits, killed or not, so a
    crashed refresh never blocks the next one. The file's text only names the holder."""
    path = lock_path(database)
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "an unknown process"
            raise RefreshLocked(
                f"Another build or refresh of {database} is running ({holder}); this one did nothing: run again "
                "when it has finished (its lock ends with it, even killed).") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC\n")
        handle.flush()
        yield path
    finally:
        # Closing the file releases the lock (a no-op when it was never taken).
        handle.close()


@dataclass(frozen=True)
class RefreshOptions:
    as_of: dt.date | None = None
    full_refresh: bool = False
    checks: bool = True  # data quality, governance, alerts after dbt
    timeout_minutes: float | None = None  # dbt is stopped after it (product_metrics.dbt.Deadline)


# Read by macro refresh_test_window (the windowed data tests, argument refresh_window_date). An
# environment variable, not a dbt var: it changes every day, and a changed var makes dbt parse the
# whole project again (~14 s at every refresh).
TEST_WINDOW_ENV = "PRODUCT_METRICS_TEST_WINDOW_START"


def dbt_vars(options: RefreshOptions) -> dict[str, object]:
    """The same vars on every refresh without --as-of, so dbt's saved parse stays valid."""
    variables: dict[str, object] = {}
    if options.as_of is not None:
        variables["product_metrics__as_of_date"] = options.as_of.isoformat()
    return variables


def dbt_env(options: RefreshOptions, test_window_start: dt.date | None = None) -> dict[str, str]:
    """The data tests' window (see test_window_start): set on incremental refreshes only; empty
    (every row tested) on a full refresh, overriding any value the caller's environment has."""
    if test_window_start is None or options.full_refresh:
        return {TEST_WINDOW_ENV: ""}
    return {TEST_WINDOW_ENV: test_window_start.isoformat()}


# The incremental models whose data tests are windowed: their window columns and grains (configs
# refresh_window_column and refresh_window_grain; a weekly column holds the week's Monday).
INCREMENTAL_MODELS = {
    "staging.base_raw__events": ("event_date", "day"),
    "staging.base_raw__orders": ("order_date", "day"),
    "staging.base_raw__ai_suggestions": ("created_date", "day"),
    "intermediate.int_events_rolled_up_to_user_days": ("activity_date", "day"),
    "intermediate.int_core_actions_rolled_up_to_user_weeks": ("week_start", "week"),
}
LATE_ARRIVAL_DAYS = 3  # dbt_project.yml var product_metrics__late_arrival_days, which refresh never overrides


def test_window_start(database: Path, late_days: int = LATE_ARRIVAL_DAYS, as_of: dt.date | None = None
                      ) -> dt.date | None:
    """The earliest date a row this incremental run writes can have (macro refresh_window_start),
    so the data tests on the incremental models need only the rows from it on (macro
    refresh_test_window). A weekly model rewrites whole weeks and its tests window on a week's last
    day, so it counts with the last day of the first week it rewrites. With --as-of, the cutoff's
    week is rewritten too (refresh_window_capped_at_cutoff). None, and every row tested, when a
    model has no table or no dated row yet: then it is built in full."""
    import duckdb

    if not database.exists():
        return None
    with duckdb.connect(str(database), read_only=True) as con:
        existing = {f"{schema}.{name}" for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
        if not set(INCREMENTAL_MODELS) <= existing:
            return None
        latest = [(con.execute(f"select max({column}) from {table}").fetchone()[0], grain)
                  for table, (column, grain) in INCREMENTAL_MODELS.items()]
    if any(date is None for date, _ in latest):
        return None
    starts = [_first_rewritten(date - dt.timedelta(days=late_days), weekly=grain == "week")
              for date, grain in latest]
    if as_of is not None:
        starts.append(as_of)
    return min(starts)


def _first_rewritten(window_start: dt.date, *, weekly: bool) -> dt.date:
    """The date a data test windows on for the first row a model rewrites: the row's own date, or
    for a weekly model the last day of the week holding the window start."""
    if not weekly:
        return window_start
    return window_start - dt.timedelta(days=window_start.weekday()) + dt.timedelta(days=6)


def dbt_args(options: RefreshOptions) -> list[str]:
    """Every model, seed and data test; not the unit tests: they test the SQL, not the data, and
    the code did not change since CI ran them (`make test`, `product-metrics build`)."""
    return ["build", "--exclude-resource-type", "unit_test", *(["--full-refresh"] if options.full_refresh else [])]


def run_refresh(*, database: Path | None, options: RefreshOptions, settings, docs_dir: Path | None, console) -> int:
    """Take the lock, run the stages, print one summary. Exit code: 0 ok, 1 a stage failed,
    3 another refresh holds the lock, 130 interrupted. A warehouse that is missing or cannot be
    written raises UserError before anything runs (a refresh never creates a warehouse)."""
    from product_metrics.project import Project

    return refresh_project(Project.locate(database), options, settings, docs_dir, console)


# Runs the refresh's dbt command: (project, args, vars, env, timeout_s) -> DbtRun. The CLI's shows
# a progress bar (product_metrics.build_progress); Dagster's goes through dagster-dbt.
DbtRunner = Callable[[Any, list[str], dict[str, object], dict[str, str], float | None], "DbtRun"]


def refresh_project(project, options: RefreshOptions, settings, docs_dir: Path | None, console,
                    dbt_runner: DbtRunner | None = None, artifacts: dict[str, object] | None = None) -> int:
    """The refresh, the one path both `product-metrics refresh` and the Dagster job run: under the
    lock, the stages on a copy of the warehouse, published only when all passed. `artifacts`
    receives what the stages produced (dbt's target path, the data-quality report, the alert evaluations)."""
    from product_metrics.publish import check_before_lock
    from product_metrics.quality.commands import run_published

    title = "product-metrics refresh" + (f" as of {options.as_of}" if options.as_of else "")
    runner = dbt_runner or _runner_with_progress(console)
    artifacts = {} if artifacts is None else artifacts
    check_before_lock(project)  # before the lock file is created next to the warehouse
    try:
        with refresh_lock(project.duckdb_path):
            return run_published(project, lambda work: _stages(work, options, settings, docs_dir, console, runner,
                                                               artifacts), console, title)
    except RefreshLocked as error:
        console.print(f"[red]✗ refresh refused:[/] {error}")
        return error.exit_code


def _runner_with_progress(console) -> DbtRunner:
    from product_metrics.build_progress import dbt_build_with_progress

    return lambda project, args, vars, env, timeout_s: dbt_build_with_progress(
        project, console, vars=vars, args=args, env=env, timeout_s=timeout_s)


def _stages(project, options: RefreshOptions, settings, docs_dir: Path | None, console, runner: DbtRunner,
            artifacts: dict) -> list:
    from product_metrics.quality.commands import Stage

    stages = [Stage("dbt build" + (" (full refresh)" if options.full_refresh else " (incremental)"),
                    lambda result: _dbt_stage(project, options, result, runner, artifacts))]
    if options.checks:
        stages += _check_stages(project, options, settings, docs_dir, console, artifacts)
    return stages


def _dbt_stage(project, options: RefreshOptions, result, runner: DbtRunner, artifacts: dict) -> bool:
    from product_metrics.build_progress import failure_detail
    from product_metrics.failure_hints import add_failure_hint

    # Read before dbt writes: the windows are computed from the rows the models hold now.
    # (On a server warehouse every row is tested: the window is looked up in the DuckDB file only.)
    window_start = (None if options.full_refresh or project.warehouse_url
                    else test_window_start(project.duckdb_path, as_of=options.as_of))
    timeout_s = options.timeout_minutes * 60 if options.timeout_minutes else None
    run = runner(project, dbt_args(options), dbt_vars(options), dbt_env(options, window_start), timeout_s)
    artifacts["target_path"] = run.target_path
    if run.success:
        result.detail = (f"{len(run.results)} models, seeds and tests passed"
                         + ("; the project was parsed in full" if run.full_parse else "; dbt's saved parse reused"))
        return True
    if run.timed_out:
        result.detail = (f"stopped: dbt ran longer than the timeout ({options.timeout_minutes:g} min) and was "
                         "interrupted")
        return False
    result.detail, result.how_to_see_more = failure_detail(project, run)
    add_failure_hint(result, run.failed_nodes())
    return False


def _check_stages(project, options: RefreshOptions, settings, docs_dir, console, artifacts) -> list:
    # The stages of `product-metrics build` after its dbt build, reused as they are, except that
    # governance findings only the calendar brings (an overdue review) are warnings: the data is
    # right, and the alerts after it must still run.
    from product_metrics.governance.rules import CALENDAR_RULES
    from product_metrics.quality.commands import Stage, governance_stage, quality_stage

    return [
        Stage("data quality", lambda result: quality_stage(project, settings, docs_dir, console, result, artifacts)),
        Stage("governance", lambda result: governance_stage(project, console, result, artifacts,
                                                            warn_rules=CALENDAR_RULES)),
        Stage("alerts", lambda result: _alerts_stage(project, options, console, result, artifacts)),
    ]


def _alerts_stage(project, options: RefreshOptions, console, result, artifacts: dict[str, Any]) -> bool:
    """Threshold breaches are recorded and shown, never a failed refresh: the numbers are right,
    they are just bad news. Only metrics that cannot be read fail the stage."""
    from product_metrics.governance.commands import EXIT_OK, run_alerts

    code = run_alerts(database=project.duckdb_path, url=project.warehouse_url, manifest_dir=artifacts.get("target_path"),
                      fail_on="never", today=options.as_of, schema=None, console=console,
                      evaluations_out=artifacts.setdefault("alerts", []))
    # fail_on never: a code other than 0 means the alerts could not run (2, or 3: the warehouse was busy)
    result.detail = "breaches recorded in metric_alerts (schema audit)" if code == EXIT_OK else "alerts could not run"
    return code == EXIT_OK
