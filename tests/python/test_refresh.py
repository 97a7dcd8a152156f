"""Scheduled refresh: an incremental refresh gives exactly the tables of a full rebuild.

The scenario, on the dirty demo data (every column text, every kind of bad row planted): the
warehouse is first built without its last two days of events, orders and AI suggestions. Then they
arrive, with what real loads bring:
- late events dated inside the lookback (two days before the newest day already built),
- a late event of a user from the oldest cohort, active in no period since: it changes that old
  cohort's retention (checked against the before state, so the test cannot pass vacuously),
- duplicates: a new copy of an event built weeks ago, a new copy of an event in the window with an
  earlier timestamp (the kept copy changes), and two copies of one new event.
Every metrics table, every intermediate and base table and audit.rejected_rows (its detected_at is
the run's time: left out) must equal those of a full rebuild of the same raw data.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from product_metrics.dbt import run_dbt
from product_metrics.drivers.tables import DRIVERS_TABLE
from product_metrics.experiments.tables import DAILY_TABLE, DECISIONS_TABLE, RESULTS_TABLE
from product_metrics.pipeline import run_refresh
from product_metrics.project import Project
from product_metrics.publish import UNPUBLISHED_DIR
from product_metrics.refresh import RefreshOptions, lock_path

from .conftest import DEMO_PROJECT, DEMO_SIZE, REPO_ROOT, build_warehouse

NEWEST_DAY = dt.date(2026, 6, 30)  # the demo generator's default end date
FIRST_NEW_DAY = NEWEST_DAY - dt.timedelta(days=1)
LATE_DAY = FIRST_NEW_DAY - dt.timedelta(days=2)  # inside the default 3-day lookback
INCREMENTAL_SOURCES = {"events": "occurred_at", "orders": "ordered_at", "ai_suggestions": "created_at"}
COMPARED_SCHEMAS = ("metrics", "intermediate", "staging", "audit")


def _day(column: str) -> str:
    return f"cast(try_cast({column} as timestamp) as date)"


def _withhold_new_rows(path: Path) -> dict[str, int]:
    """Move the raw rows of the last two days (and the planted late rows) to schema `incoming`."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema incoming")
        for table, column in INCREMENTAL_SOURCES.items():
            con.execute(f"create table incoming.{table} as select * from raw.{table} "
                        f"where {_day(column)} >= '{FIRST_NEW_DAY}'")
            con.execute(f"delete from raw.{table} where {_day(column)} >= '{FIRST_NEW_DAY}'")
        # Late events: a quarter of those dated two days before the first new day.
        con.execute(f"insert into incoming.events select * from raw.events where {_day('occurred_at')} = "
                    f"'{LATE_DAY}' and hash(event_id) % 4 = 0")
        con.execute(f"delete from raw.events where {_day('occurred_at')} = '{LATE_DAY}' and hash(event_id) % 4 = 0")
        return {t: con.execute(f"select count(*) from incoming.{t}").fetchone()[0] for t in INCREMENTAL_SOURCES}


def _plant_late_arrivals(path: Path) -> str:
    """Rows only a load brings late (see the module docstring); returns the old cohort's user."""
    with duckdb.connect(str(path)) as con:
        user_id, signed_up_at = con.execute(f"""
            select users.user_id, users.signed_up_at
            from raw.users
            where try_cast(users.signed_up_at as timestamp) is not null
                and not exists (
                    select 1 from raw.events
                    where events.user_id = users.user_id
                        and try_cast(events.occurred_at as timestamp) >= '{LATE_DAY - dt.timedelta(days=45)}')
                and users.user_id in (select user_id from raw.events)
            order by try_cast(users.signed_up_at as timestamp), users.user_id
            limit 1
        """).fetchone()
        assert signed_up_at < str(LATE_DAY - dt.timedelta(days=90)), "the demo data has no old inactive user"
        old_event_id, old_at = con.execute("select event_id, occurred_at from raw.events where try_cast(occurred_at "
                                       "as timestamp) < '2026-04-01' order by event_id limit 1").fetchone()
        window_event_id, window_at = con.execute(f"select event_id, occurred_at from raw.events where {_day('occurred_at')}"
                                             f" = '{LATE_DAY}' order by event_id limit 1").fetchone()
        earlier = str(dt.datetime.fromisoformat(window_at) - dt.timedelta(hours=3))
        con.executemany("insert into incoming.events (event_id, user_id, occurred_at, event_name) "
                        "values (?, ?, ?, ?)", [
                            ("late-old-cohort-1", user_id, f"{LATE_DAY} 10:00:00", "page_view"),
                            (old_event_id, user_id, f"{NEWEST_DAY} 08:00:00", "page_view"),  # copy of an old id
                            (window_event_id, user_id, earlier, "page_view"),  # earlier copy: becomes the kept one
                            ("new-twice-1", user_id, f"{NEWEST_DAY} 09:00:00", "page_view"),
                            ("new-twice-1", user_id, f"{NEWEST_DAY} 09:30:00", "page_view"),
                        ])
        assert old_at < str(LATE_DAY)
        return user_id


def _load_incoming(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        for table in INCREMENTAL_SOURCES:
            con.execute(f"insert into raw.{table} select * from incoming.{table}")
        con.execute("drop schema incoming cascade")


def _normalise(value):
    # Sums of doubles may differ in the last bits with the order rows are added in.
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 9)
    return value


# The experiment readout's tables and the change drivers: written by the `experiments` and `drivers`
# stages of a checked refresh, not by dbt (the full rebuild compared with is a dbt build); their own
# tests are in tests/python/experiments and tests/python/drivers.
WRITTEN_BY_THE_READOUT = ", ".join(f"'{name}'" for name in (RESULTS_TABLE, DAILY_TABLE, DECISIONS_TABLE,
                                                            DRIVERS_TABLE))


def snapshot(path: Path) -> dict[str, list[tuple]]:
    """Every table dbt built in the compared schemas, as sorted rows (rejected_rows without detected_at)."""
    tables: dict[str, list[tuple]] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(f"""
            select table_schema, table_name from information_schema.tables
            where table_type = 'BASE TABLE' and table_schema in {COMPARED_SCHEMAS}
                and table_name not in ('dq_results', 'metric_alerts', {WRITTEN_BY_THE_READOUT})
            order by all
        """).fetchall()
        for schema, name in names:
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                "and column_name <> 'detected_at' order by ordinal_position", [schema, name]).fetchall()]
            rows = con.execute(f'select {", ".join(chr(34) + c + chr(34) for c in columns)} from "{schema}"."{name}"')
            tables[f"{schema}.{name}"] = sorted((tuple(_normalise(v) for v in row) for row in rows.fetchall()),
                                                key=repr)
    return tables


def assert_same_tables(actual: dict, expected: dict) -> None:
    assert sorted(actual) == sorted(expected)
    assert "metrics.fct_cohort_retention" in expected and "audit.rejected_rows" in expected
    differing = [name for name in expected if actual[name] != expected[name]]
    assert not differing, f"tables differ from the full rebuild: {differing}"


def _dbt(path: Path, *args: str):
    return build_warehouse(path, args=args)


def _refresh(path: Path, **options) -> int:
    return run_refresh(database=path, options=RefreshOptions(checks=False, **options), settings=None,
                       docs_dir=None, console=Console(width=120))


@pytest.fixture(scope="module")
def before(tmp_path_factory):
    """The warehouse as built yesterday: raw data without the rows still to arrive."""
    from product_metrics.demo_data import generate_demo_data

    path = tmp_path_factory.mktemp("refresh_before") / "warehouse.duckdb"
    generate_demo_data(path, dirty=True, **DEMO_SIZE)
    withheld = _withhold_new_rows(path)
    assert all(withheld.values()), withheld
    old_cohort_user = _plant_late_arrivals(path)
    _dbt(path)
    return path, old_cohort_user


def _copy(before_path: Path, directory: Path) -> Path:
    path = directory / "warehouse.duckdb"
    shutil.copy(before_path, path)
    return path


@pytest.fixture(scope="module")
def full_rebuild(before, tmp_path_factory) -> dict[str, list[tuple]]:
    """The reference: every raw row loaded, then everything built from scratch."""
    path = _copy(before[0], tmp_path_factory.mktemp("refresh_full"))
    _load_incoming(path)
    _dbt(path, "--full-refresh")
    return snapshot(path)


def test_refresh_after_new_days_equals_full_rebuild_and_is_idempotent(before, full_rebuild, tmp_path):
    path = _copy(before[0], tmp_path)
    before_tables = snapshot(path)
    _load_incoming(path)

    assert _refresh(path) == 0
    refreshed = snapshot(path)
    assert_same_tables(refreshed, full_rebuild)

    # The late event of the old cohort's user counts: that user had no activity in June before, has
    # it on the late day now, and their cohort's June retention moved (the full rebuild agrees, above).
    user_id = before[1]
    june = [r for r in before_tables["intermediate.int_events_rolled_up_to_user_days"]
            if r[0] == user_id and r[1] >= dt.date(2026, 6, 1)]
    assert june == []
    assert (user_id, LATE_DAY) in refreshed["intermediate.int_events_rolled_up_to_user_days"]

    def june_retention(tables):
        month_rows = [r for r in tables["metrics.fct_cohort_retention"] if r[0] == "month"]
        oldest = min(r[1] for r in month_rows)
        return next(r for r in month_rows if r[1] == oldest and r[2] == 4)  # the February cohort in June

    assert june_retention(refreshed)[4] > june_retention(before_tables)[4]
    # The duplicates landed in rejected_rows; the earlier copy of the window event is now the kept one.
    rejected = refreshed["audit.rejected_rows"]
    assert sum(1 for r in rejected if r[0] == "events" and r[1] == "new-twice-1" and r[2] == "duplicate") == 1

    assert _refresh(path) == 0
    assert snapshot(path) == refreshed


def test_refresh_data_tests_cover_the_window_and_full_builds_every_row(before, tmp_path):
    """An incremental refresh tests only the rows it could have written; a full build tests every
    row. The window: the newest built day, Sunday 2026-06-28, minus the 3-day lookback is 06-25 for
    the daily models; the weekly core-action model rewrites whole weeks from the Monday of its
    newest week (06-22) minus 3 days, 06-19, i.e. from 06-15, whose week ends 06-21 (its tests window
    on a week's last day). With --as-of the cutoff's week is rewritten: never later than the as-of
    date. Shown with a broken row planted before the window: the refresh does not see it (the run
    that wrote it would have), `dbt test` without the var does."""
    from product_metrics.refresh import test_window_start

    path = _copy(before[0], tmp_path)
    assert test_window_start(path) == dt.date(2026, 6, 21)
    assert test_window_start(path, as_of=dt.date(2026, 6, 10)) == dt.date(2026, 6, 10)
    assert test_window_start(path, late_days=0) == dt.date(2026, 6, 28)
    assert test_window_start(tmp_path / "missing.duckdb") is None
    with duckdb.connect(str(path)) as con:
        # An old rejected event with a reason outside the spec's list, as a buggy run would have left it
        # (only audit.rejected_rows reads it, whose tests do not look at the reason's value).
        planted = con.execute("update staging.base_raw__events set rejection_reason = 'not_a_reason' where "
                              "source_key = (select min(source_key) from staging.base_raw__events where "
                              "rejection_reason is not null and event_date < '2026-06-21') returning event_date"
                              ).fetchall()
    assert len(planted) == 1 and planted[0][0] < dt.date(2026, 6, 21)
    _load_incoming(path)
    assert _refresh(path) == 0  # its data tests, windowed, passed

    full = run_dbt(Project(root=DEMO_PROJECT, duckdb_path=path),
                   ["test", "-s", "base_raw__events,test_type:generic"])
    failed = [n.unique_id.split(".")[2] for n in full.failed_nodes()]
    assert len(failed) == 1 and failed[0].startswith("accepted_values_in_refresh_window_base_raw__events_rejection_reason_")


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_killed_refresh_then_refresh_gives_full_rebuild(before, full_rebuild, tmp_path):
    """dbt killed (SIGKILL, no clean-up) right after the first incremental model committed, the
    others not yet: the next refresh completes every model correctly."""
    path = _copy(before[0], tmp_path)
    _load_incoming(path)
    project = Project(root=DEMO_PROJECT, duckdb_path=path)
    command = [sys.executable, "-m", "dbt.cli.main", "--log-format", "json", "build", "--target-path",
               str(tmp_path / "target")]
    process = subprocess.Popen(command, cwd=project.root, env=project.dbt_env(), stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    killed_after = None
    assert process.stdout is not None
    for line in process.stdout:
        node = json.loads(line).get("data", {}).get("node_info", {})
        if node.get("node_status") == "success" and node.get("materialized") == "incremental":
            killed_after = node["unique_id"]
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait()
    assert killed_after is not None, "dbt finished before an incremental model did"
    assert snapshot(path) != full_rebuild  # the crash left the warehouse half refreshed

    assert _refresh(path) == 0
    assert_same_tables(snapshot(path), full_rebuild)


def test_concurrent_refresh_is_refused_and_full_refresh_rebuilds(before, full_rebuild, tmp_path):
    path = _copy(before[0], tmp_path)
    _load_incoming(path)
    cli = Path(sys.executable).with_name("product-metrics")
    env = {**os.environ, "COLUMNS": "200"}
    # The dirty demo data rejects over 5 % of some sources on purpose: the gate's share limit is raised.
    first = subprocess.Popen([str(cli), "refresh", "--full-refresh", "--no-docs", "--reject-share-limit", "0.5",
                              "--database", str(path)],
                             cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for(lambda: lock_path(path).is_file() and "pid" in lock_path(path).read_text(), 60, "the first refresh")
    second = subprocess.run([str(cli), "refresh", "--database", str(path)], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    output, _ = first.communicate(timeout=900)

    assert second.returncode == 3, second.stdout + second.stderr
    assert "Another build or refresh of" in second.stdout and f"pid {first.pid}" in second.stdout
    assert first.returncode == 0, output
    for stage in ("dbt build (full refresh)", "data quality", "governance", "alerts"):
        assert stage in output
    assert_same_tables(snapshot(path), full_rebuild)
    # The lock died with its holder: a refresh now runs.
    assert _refresh(path) == 0


def test_a_quiet_month_before_the_window_leaves_no_day_out(before, tmp_path):
    """Stickiness re-derives its window from the user-days of the N - 1 days before it. With no
    activity there, nor on the window's first days, those days still get their rows (0 users), as
    in a full rebuild: the running sums start at the window, not at the first day read."""
    newest_built = FIRST_NEW_DAY - dt.timedelta(days=1)
    quiet_from, quiet_to = newest_built - dt.timedelta(days=40), newest_built - dt.timedelta(days=1)
    path = _copy(before[0], tmp_path)
    with duckdb.connect(str(path)) as con:
        con.execute(f"delete from raw.events where {_day('occurred_at')} between '{quiet_from}' and '{quiet_to}'")
    assert _refresh(path, full_refresh=True) == 0  # yesterday's warehouse, with the quiet month
    (tmp_path / "reference").mkdir()
    reference = _copy(path, tmp_path / "reference")
    _load_incoming(reference)
    assert _refresh(reference, full_refresh=True) == 0
    _load_incoming(path)
    assert _refresh(path) == 0
    refreshed, rebuilt = snapshot(path), snapshot(reference)
    assert [row[:4] for row in rebuilt["metrics.fct_stickiness_daily"] if row[0] == newest_built - dt.timedelta(days=3)] \
        == [(newest_built - dt.timedelta(days=3), 0, 0, 0)]  # the window's first day: nobody active for 40 days
    assert_same_tables(refreshed, rebuilt)


def test_refresh_with_the_cutoff_moved_back_equals_full_rebuild_at_it(before, tmp_path):
    """--as-of a week back, beyond the lookback: each model capped at the cutoff re-derives from it,
    so the days after it go, and so do the kept rows that depended on them (a user's last active
    day falls back to one before the cutoff)."""
    as_of = NEWEST_DAY - dt.timedelta(days=7)
    path = _copy(before[0], tmp_path)
    _load_incoming(path)
    assert _refresh(path) == 0
    (tmp_path / "reference").mkdir()
    reference = _copy(path, tmp_path / "reference")
    assert _refresh(reference, full_refresh=True, as_of=as_of) == 0
    assert _refresh(path, as_of=as_of) == 0
    refreshed, rebuilt = snapshot(path), snapshot(reference)
    assert max(row[1] for row in rebuilt["intermediate.int_users_last_active"]) < as_of
    assert_same_tables(refreshed, rebuilt)


def test_row_older_than_the_window_fails_loudly_until_full_refresh(before, tmp_path):
    """What the lookback cannot catch: a raw row dated before the window. The reconciliation test
    (raw = accepted + rejected) fails the refresh instead of leaving it silently out."""
    rebuilt = _fails_naming_then_full_refresh(
        _copy(before[0], tmp_path), "assert_raw_rows_reconcile",
        late_load="insert into raw.events select 'very-late-1', user_id, '2026-04-02 12:00:00', 'page_view' "
                  "from raw.events where try_cast(occurred_at as timestamp) is not null limit 1")
    assert any(r[0] == "very-late-1" for r in rebuilt["staging.base_raw__events"])


def _fails_naming_then_full_refresh(path: Path, failing_test: str, *, late_load: str) -> dict[str, list[tuple]]:
    """After the new days and `late_load` (SQL), the refresh fails, naming the test and
    `--full-refresh`; a full refresh then passes. Returns the rebuilt tables."""
    _load_incoming(path)
    with duckdb.connect(str(path)) as con:
        con.execute(late_load)
    console = Console(width=200, record=True)
    code = run_refresh(database=path, options=RefreshOptions(checks=False), settings=None, docs_dir=None,
                       console=console)
    printed = console.export_text()
    assert code == 1
    assert failing_test in printed and "product-metrics refresh --full-refresh" in printed
    assert _refresh(path, full_refresh=True) == 0
    return snapshot(path)


@pytest.mark.parametrize("edit", [
    "occurred_at = '2026-06-29 10:00:00'",  # an old event re-dated into the window
    "occurred_at = null",  # an old event's timestamp blanked: undated rows are re-derived by every run
])
def test_old_raw_row_changed_in_place_is_named_until_full_refresh(before, tmp_path, edit):
    """An old raw event changed in place is not a `duplicate` of itself: it gets its own reason
    (none: accepted / missing_timestamp). The stale row it was stays, so the raw-rows reconciliation
    fails, and `refresh` and `build` both say that raw rows older than the window changed and name
    `--full-refresh`, which then rebuilds it."""
    from typer.testing import CliRunner

    from product_metrics.cli import app

    path = _copy(before[0], tmp_path)
    _load_incoming(path)
    with duckdb.connect(str(path)) as con:
        event_id = con.execute("select event_id from raw.events group by event_id having count(*) = 1 and "
                               "max(try_cast(occurred_at as timestamp)) < '2026-04-01' order by event_id limit 1"
                               ).fetchone()[0]
        con.execute(f"update raw.events set {edit} where event_id = ?", [event_id])
        raw_copies = con.execute("select count(*) from raw.events where event_id = ?", [event_id]).fetchone()[0]
    assert raw_copies == 1

    console = Console(width=200, record=True)
    code = run_refresh(database=path, options=RefreshOptions(checks=False), settings=None, docs_dir=None,
                       console=console)
    printed = console.export_text()
    assert code == 1
    assert "raw rows older than the refresh window changed (assert_raw_rows_reconcile failed)" in printed
    assert "run: product-metrics refresh --full-refresh" in printed
    expected_reason = None if "null" not in edit else "missing_timestamp"
    failed_run = path.parent / UNPUBLISHED_DIR / path.name  # nothing was published: the failed run's copy
    with duckdb.connect(str(failed_run), read_only=True) as con:
        reasons = con.execute("select rejection_reason from staging.base_raw__events where event_id = ? "
                              "and (event_date is null or event_date >= '2026-06-01')", [event_id]).fetchall()
    assert reasons == [(expected_reason,)]

    built = CliRunner().invoke(app, ["build", "--database", str(path), "--no-docs"], env={"COLUMNS": "200"})
    assert built.exit_code == 1, built.output
    assert "raw rows older than the refresh window changed" in built.output
    assert "run: product-metrics refresh --full-refresh" in built.output

    assert _refresh(path, full_refresh=True) == 0
    rebuilt = snapshot(path)["staging.base_raw__events"]
    assert [r for r in rebuilt if r[0] == event_id] == [
        r for r in rebuilt if r[0] == event_id and (r[3] is None or r[3] >= dt.date(2026, 6, 1))]
    assert len([r for r in rebuilt if r[0] == event_id]) == 1


def test_old_user_loaded_late_fails_loudly_until_full_refresh(before, tmp_path):
    """A refresh keeps the activation of users who signed up before its window, so an old user
    whose row arrives late is not in int_users_activated: a test fails the refresh instead of a
    silently smaller activation cohort."""
    rebuilt = _fails_naming_then_full_refresh(
        _copy(before[0], tmp_path), "assert_activation_has_each_cohorted_user",
        late_load="insert into raw.users by name select * replace ('late-old-user-1' as user_id) from raw.users "
                  "where try_cast(signed_up_at as timestamp) < '2026-03-01' order by user_id limit 1")
    assert any(r[0] == "late-old-user-1" for r in rebuilt["intermediate.int_users_activated"])


@pytest.mark.parametrize(("guard", "planted"), [
    # The incremental north star keeps its weeks before a refresh window: they must match the lifecycle.
    ("assert_north_star_drivers_match_lifecycle",
     ("update metrics.fct_north_star_weekly set dormant_users = dormant_users + 1 "
      "where week_start = (select min(week_start) from metrics.fct_north_star_weekly)")),
    # The incremental lifecycle must account for the week's active users, counted from the user-days.
    ("assert_lifecycle_accounts_for_active_users",
     ("update metrics.fct_user_lifecycle_weekly set users = users + 1 where lifecycle_status = 'resurrecting' "
      "and week_start = (select max(week_start) from metrics.fct_user_lifecycle_weekly)")),
])
def test_a_kept_week_that_breaks_its_guard_fails(before, tmp_path, guard, planted):
    path = _copy(before[0], tmp_path)
    selection = ["test", "-s", guard]
    assert run_dbt(Project(root=DEMO_PROJECT, duckdb_path=path), selection).success
    with duckdb.connect(str(path)) as con:
        con.execute(planted)
    failed = run_dbt(Project(root=DEMO_PROJECT, duckdb_path=path), selection).failed_nodes()
    assert [n.unique_id for n in failed] == [f"test.product_metrics.{guard}"]


def test_lock_is_refused_while_held_and_free_after(tmp_path):
    from product_metrics.refresh import RefreshLocked, refresh_lock

    database = tmp_path / "warehouse.duckdb"
    refused = pytest.raises(RefreshLocked, match=r"Another build or refresh of .* is running \(pid \d+")
    with refresh_lock(database), refused, refresh_lock(database):
        pass
    with refresh_lock(database):
        pass


def test_refresh_dbt_arguments():
    from product_metrics.refresh import dbt_args, dbt_env, dbt_vars

    assert dbt_args(RefreshOptions()) == ["build", "--exclude-resource-type", "unit_test"]
    assert dbt_args(RefreshOptions(full_refresh=True))[-1] == "--full-refresh"
    assert dbt_vars(RefreshOptions(as_of=dt.date(2026, 6, 1))) == {"product_metrics__as_of_date": "2026-06-01"}
    # The same vars every day (dbt keeps its saved parse); the data tests' window goes by environment.
    assert dbt_vars(RefreshOptions()) == {}
    assert dbt_env(RefreshOptions(), dt.date(2026, 6, 25)) == {"PRODUCT_METRICS_TEST_WINDOW_START": "2026-06-25"}
    # A full refresh rebuilds every row, so it tests every row.
    assert dbt_env(RefreshOptions(full_refresh=True), dt.date(2026, 6, 25)) == {"PRODUCT_METRICS_TEST_WINDOW_START": ""}


def test_only_a_test_with_a_known_cause_gets_the_full_refresh_hint():
    from product_metrics.dbt import NodeResult
    from product_metrics.failure_hints import add_failure_hint, failed_test_hint
    from product_metrics.pipeline import StageResult

    other = NodeResult("model.product_metrics.fct_nps_monthly", "error", "Division by zero", 0.1)
    reconcile = NodeResult("test.product_metrics.assert_raw_rows_reconcile", "fail", "Got 1 result", 0.1)
    assert failed_test_hint([other]) is None
    result = StageResult("dbt build", detail="2 failed nodes", how_to_see_more=["logs: dbt.log"])
    add_failure_hint(result, [other, reconcile])
    assert result.detail == ("raw rows older than the refresh window changed (assert_raw_rows_reconcile failed); "
                             "2 failed nodes")
    assert result.how_to_see_more[0].startswith("run: product-metrics refresh --full-refresh")
