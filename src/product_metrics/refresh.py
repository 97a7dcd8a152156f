"""What is particular to `product-metrics refresh`, the scheduled refresh: its options, its dbt
arguments, vars and environment (an incremental `dbt build`: the incremental models re-derive only
their refresh window, see macros/incremental/refresh_window.sql), the window its data tests look at,
and the warehouse's lock, which `product-metrics build` takes too. Its stages (the incremental build,
then those of `product-metrics build` plus the threshold alerts) are in product_metrics.pipeline.

Safe to run twice, concurrently or after a crash:
- twice: every incremental model replaces its window with what the raw data says now, so a second
  run writes the same rows;
- concurrently: a second refresh of the same warehouse is refused by an exclusive lock;
- after a crash: dbt changes each model in one transaction and every model computes its window
  from its own committed rows, and the lock is an OS file lock that dies with its process, so the
  next refresh needs nothing cleaned up;
- stopped: Ctrl-C, SIGTERM and --timeout stop dbt (product_metrics.dbt.stop_dbt) and publish nothing.

The Dagster job (product_metrics.orchestration) runs this same path, pipeline.refresh_project, with
its dbt command going through dagster-dbt.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from product_metrics.errors import EXIT_LOCKED, UserError

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
    checks: bool = True  # the stages after dbt: experiments, data quality, governance, alerts
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


LATE_ARRIVAL_VAR = "product_metrics__late_arrival_days"  # dbt_project.yml; a refresh never overrides it


def late_arrival_days(project) -> int | None:
    """The refresh window's lookback in days, var product_metrics__late_arrival_days as dbt resolves
    it (Project.dbt_var); None when it is not a plain number (then every row is tested)."""
    try:
        return int(project.dbt_var(LATE_ARRIVAL_VAR))
    except (TypeError, ValueError):
        return None


def test_window_start(database: Path, late_days: int | None = None, as_of: dt.date | None = None,
                      project=None) -> dt.date | None:
    """The earliest date a row this incremental run writes can have (macro refresh_window_start),
    so the data tests on the incremental models need only the rows from it on (macro
    refresh_test_window). The models, their window configs and which of them have windowed tests
    are read from a `dbt parse` of `project` (default: the project of `database`;
    product_metrics.relations), the lookback from its var (default: late_arrival_days). A weekly
    model rewrites whole weeks and its tests window on a week's last day, so it counts with the
    last day of the first week it rewrites. With --as-of, the cutoff's week is rewritten too
    (refresh_window_capped_at_cutoff). None, and every row tested, when a model has no table or no
    dated row yet (then it is built in full), or when the project cannot be parsed."""
    from product_metrics.relations import RelationsError, relations_for
    from product_metrics.warehouse import open_duckdb

    if not database.exists():
        return None
    if project is None:
        from product_metrics.project import Project

        project = Project.locate(database)
    late_days = late_arrival_days(project) if late_days is None else late_days
    try:
        models = [model for model in relations_for(project).incremental.values() if model.windowed_tests]
    except RelationsError:  # the dbt build that follows reports what is wrong
        return None
    if late_days is None or not models:
        return None
    with open_duckdb(database, read_only=True) as con:
        existing = {f"{schema}.{name}" for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}
        if not {str(model.relation) for model in models} <= existing:
            return None
        latest = [(con.execute(f"select max({model.state or model.column}) from {model.relation.sql}").fetchone()[0],
                   model) for model in models]
    if any(date is None for date, _ in latest):
        return None
    starts = [_first_rewritten(date - dt.timedelta(days=late_days + model.reach_days), weekly=model.grain == "week")
              for date, model in latest]
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
