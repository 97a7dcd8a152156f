"""Write-audit-publish on PostgreSQL (warehouses/postgres_publish.py): dbt builds the BI-facing
schemas aside (`metrics__pending`, `audit__pending`), and only `publish` changes `metrics` and
`audit`, in one transaction; a run that is not published, or a publish that fails half-way,
leaves every live table as it was.

Needs the PostgreSQL server of `scripts/start_postgres.sh` (or PRODUCT_METRICS_TEST_POSTGRES_URL);
skipped without one, except under CI (CI=true), where it fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest

from product_metrics.dbt import run_dbt
from product_metrics.warehouses.postgres import (
    PostgresProject,
    PostgresSettings,
    drop_database,
    ensure_login_role,
    load_demo_data,
    recreate_database,
)
from product_metrics.warehouses.postgres_publish import (
    PENDING_SUFFIX,
    PublishError,
    dbt_env,
    discard,
    pending_schema,
    prepare,
    publish,
)

from ..conftest import DBT_PASSWORD, DBT_USER, DEMO_PROJECT, DEMO_SIZE, REPO_ROOT
from ..dbt_project.test_postgres_parity import BI_PASSWORD, BI_ROLE
from ..test_refresh_postgres import _fingerprints

psycopg2 = pytest.importorskip("psycopg2")

LIVE = ("metrics", "audit")
PENDING = tuple(pending_schema(schema) for schema in LIVE)


@pytest.fixture
def database(postgres_admin):
    """A fresh database owned by the dbt user, and the BI role able to log in to it."""
    name = f"product_metrics_test_publish_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    recreate_database(postgres_admin, name, owner=DBT_USER)
    ensure_login_role(postgres_admin, BI_ROLE, BI_PASSWORD)
    try:
        yield postgres_admin.as_login(DBT_USER, DBT_PASSWORD).with_database(name)
    finally:
        drop_database(postgres_admin, name)


def _sql(settings: PostgresSettings, *statements: str) -> list[tuple]:
    """Run the statements in one transaction; the last one's rows (if it returns any)."""
    with closing(settings.connect(autocommit=False)) as connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        rows = cursor.fetchall() if cursor.description else []
        connection.commit()
    return rows


def _renamed(fingerprints: dict[str, tuple[int, str]], suffix: str = PENDING_SUFFIX) -> dict[str, tuple[int, str]]:
    """Pending fingerprints under the live names they are published as."""
    return {name.replace(suffix + ".", ".", 1): value for name, value in fingerprints.items()}


def _oids(settings: PostgresSettings, schemas=LIVE) -> dict[str, int]:
    """The identity of every relation: a table dropped and recreated, even with the same rows, changes it."""
    rows = _sql(settings, "select n.nspname || '.' || c.relname, c.oid::bigint from pg_class c "
                          "join pg_namespace n on n.oid = c.relnamespace "
                          f"where n.nspname in ({', '.join(repr(s) for s in schemas)}) and c.relkind in ('r', 'v')")
    return dict(rows)


def _bi(settings: PostgresSettings) -> PostgresSettings:
    return settings.as_login(BI_ROLE, BI_PASSWORD)


def _can_read(settings: PostgresSettings, table: str) -> bool:
    try:
        _sql(_bi(settings), f"select count(*) from {table}")
    except psycopg2.errors.InsufficientPrivilege:
        return False
    return True


def _schemas(settings: PostgresSettings) -> set[str]:
    return {name for (name,) in _sql(settings, "select nspname from pg_namespace")}


# -- The mechanism alone, on hand-made schemas (no dbt) ------------------------------------------

def _make_live(settings: PostgresSettings) -> None:
    """A small `metrics` (a table BI reads, an index, a view of it) and an `audit` history table."""
    _sql(settings,
         "create schema metrics",
         "create table metrics.fct_a (day date not null, value numeric default 0)",
         "create index fct_a_day on metrics.fct_a (day)",
         "insert into metrics.fct_a values ('2026-01-01', 1), ('2026-01-02', 2)",
         "create view metrics.v_a as select day from metrics.fct_a",
         f"grant select on metrics.fct_a to {BI_ROLE}",
         f"grant usage on schema metrics to {BI_ROLE}",
         "create schema audit",
         "create table audit.dq_results (run_id text, success boolean)",
         "insert into audit.dq_results values ('run 1', true)")


def test_prepare_copies_rows_indexes_and_grants(database):
    _make_live(database)
    prepared = prepare(database)
    assert prepared.rows == {"metrics__pending.fct_a": 2, "audit__pending.dq_results": 1}
    assert _renamed(_fingerprints(database, PENDING)) == _fingerprints(database, LIVE)
    assert _sql(database, "select indexdef from pg_indexes where schemaname = 'metrics__pending'") == [
        ("CREATE INDEX fct_a_day_idx ON metrics__pending.fct_a USING btree (day)",)]
    assert _sql(database, "select column_default from information_schema.columns where "
                          "table_schema = 'metrics__pending' and column_name = 'value'") == [("0",)]
    assert _sql(database, "select grantee, privilege_type from information_schema.role_table_grants "
                          f"where table_schema = 'metrics__pending' and grantee = '{BI_ROLE}'") == [(BI_ROLE, "SELECT")]
    # Views are not copied (dbt recreates its own); the pending schemas are not open to BI.
    assert _sql(database, "select count(*) from pg_views where schemaname = 'metrics__pending'") == [(0,)]
    assert not _can_read(database, "metrics__pending.fct_a")
    # Prepare again (e.g. after a killed run): the pending schemas start again from the live ones.
    _sql(database, "insert into metrics__pending.fct_a values ('2030-01-01', 9)")
    assert prepare(database).rows["metrics__pending.fct_a"] == 2


def test_publish_swaps_in_one_transaction_and_keeps_bi_access(database):
    _make_live(database)
    prepare(database)
    _sql(database,
         "insert into metrics__pending.fct_a values ('2026-01-03', 3)",
         "create view metrics__pending.v_a as select day, value from metrics__pending.fct_a",
         f"grant select on metrics__pending.v_a to {BI_ROLE}",
         "create table metrics__pending.fct_new as select 1 as x",
         "insert into audit__pending.dq_results values ('run 2', false)",
         f"grant usage on schema metrics__pending to {BI_ROLE}")
    built = _renamed(_fingerprints(database, PENDING))
    published = publish(database)
    assert sorted(published.relations) == ["audit.dq_results", "metrics.fct_a", "metrics.fct_new", "metrics.v_a"]
    assert _fingerprints(database, LIVE) == built
    assert _sql(database, "select * from audit.dq_results order by run_id") == [("run 1", True), ("run 2", False)]
    # The live view is the pending one (it reads the moved table), and the pending schemas are gone.
    assert _sql(database, "select count(*), max(value) from metrics.v_a") == [(3, 3)]
    assert not _schemas(database) & set(PENDING)
    assert _can_read(database, "metrics.fct_a") and _can_read(database, "metrics.v_a")
    assert not _can_read(database, "audit.dq_results")


def test_first_publish_creates_the_live_schemas(database):
    prepare(database)
    _sql(database, "create table metrics__pending.fct_a as select 1 as x",
         f"grant select on metrics__pending.fct_a to {BI_ROLE}",
         f"grant usage on schema metrics__pending to {BI_ROLE}")
    publish(database)
    assert _sql(_bi(database), "select x from metrics.fct_a") == [(1,)]
    assert set(LIVE) <= _schemas(database)


def test_a_dependent_view_stops_the_publish_and_changes_nothing(database):
    _make_live(database)
    _sql(database, "create schema analyst",
         # Blocks the drop of the last relation swapped (audit comes after metrics): the publish
         # fails half-way, after metrics has been swapped inside the transaction.
         "create view analyst.my_runs as select * from audit.dq_results")
    prepare(database)
    _sql(database, "insert into metrics__pending.fct_a values ('2026-01-03', 3)")
    before, oids, pending = _fingerprints(database, LIVE), _oids(database), _fingerprints(database, PENDING)
    unchanged = "nothing was published (metrics, audit unchanged; the new build is in metrics__pending, audit__pending)."
    # A view in the live schema that the build does not replace (a user's own) reads a live table.
    with pytest.raises(PublishError) as raised:
        publish(database)
    assert str(raised.value) == ("Cannot replace metrics.fct_a: view metrics.v_a depends on table metrics.fct_a. "
                                 "Drop what depends on it (recreate it after publishing, or build it as a dbt "
                                 f"model) and publish again; {unchanged}")
    assert (_fingerprints(database, LIVE), _oids(database), _fingerprints(database, PENDING)) == (before, oids, pending)
    _sql(database, "drop view metrics.v_a")
    oids.pop("metrics.v_a")
    # The same in another schema, on the last table swapped.
    with pytest.raises(PublishError) as raised:
        publish(database)
    assert str(raised.value).startswith("Cannot replace audit.dq_results: view analyst.my_runs depends on table "
                                        "audit.dq_results. Drop what depends on it")
    assert str(raised.value).endswith(unchanged)
    assert (_fingerprints(database, LIVE), _oids(database), _fingerprints(database, PENDING)) == (before, oids, pending)
    assert _sql(database, "select count(*) from analyst.my_runs") == [(1,)]
    _sql(database, "drop view analyst.my_runs")
    publish(database)
    assert _sql(database, "select count(*) from metrics.fct_a") == [(3,)]


def test_a_reader_holding_a_live_table_makes_the_publish_wait_then_give_up(database):
    _make_live(database)
    prepare(database)
    _sql(database, "insert into metrics__pending.fct_a values ('2026-01-03', 3)")
    before, oids = _fingerprints(database, LIVE), _oids(database)
    with closing(_bi(database).connect(autocommit=False)) as reader, reader.cursor() as cursor:
        cursor.execute("select count(*) from metrics.fct_a")  # holds its lock until the transaction ends
        with pytest.raises(PublishError, match=r"^Could not lock a live table within 0.5 s .*nothing was published"):
            publish(database, lock_timeout_s=0.5)
        cursor.execute("select count(*) from metrics.fct_a")
        assert cursor.fetchone() == (2,)
    assert (_fingerprints(database, LIVE), _oids(database)) == (before, oids)


def test_a_query_waiting_for_the_publish_reads_the_new_table(database):
    """Queries see the old tables until the commit and the new ones after: one that waited on the
    publish's lock does not fail on the dropped table, it reads the table now holding the name."""
    _make_live(database)
    _sql(database, "drop view metrics.v_a")
    prepare(database)
    _sql(database, "insert into metrics__pending.fct_a values ('2026-01-03', 3)")
    with ThreadPoolExecutor(max_workers=2) as pool, \
            closing(_bi(database).connect(autocommit=False)) as first, first.cursor() as cursor:
        cursor.execute("select count(*) from metrics.fct_a")  # the publish waits for this transaction
        publishing = pool.submit(publish, database, lock_timeout_s=30)
        _wait_for(lambda: _waiting(database) == 1)
        waiting = pool.submit(_sql, _bi(database), "select count(*) from metrics.fct_a")
        _wait_for(lambda: _waiting(database) == 2)
        cursor.execute("select count(*) from metrics.fct_a")
        assert cursor.fetchone() == (2,)
        first.commit()
        publishing.result(timeout=30)
        assert waiting.result(timeout=30) == [(3,)]


def _waiting(settings: PostgresSettings) -> int:
    """Lock requests of this database not granted yet (pg_locks shows every role's)."""
    return _sql(settings, "select count(*) from pg_locks where not granted and database = "
                          "(select oid from pg_database where datname = current_database())")[0][0]


def _wait_for(condition, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_killed_publish_changes_nothing(database):
    """The publish process killed half-way (metrics swapped, waiting for a lock on audit): the
    server rolls the transaction back."""
    _make_live(database)
    _sql(database, "drop view metrics.v_a")
    prepare(database)
    _sql(database, "insert into metrics__pending.fct_a values ('2026-01-03', 3)")
    before, oids, pending = _fingerprints(database, LIVE), _oids(database), _fingerprints(database, PENDING)
    code = ("import sys; from product_metrics.warehouses.postgres import PostgresSettings; "
            "from product_metrics.warehouses.postgres_publish import publish; "
            f"publish(PostgresSettings(*sys.argv[1:4], host={database.host!r}, port={database.port}), "
            "lock_timeout_s=60)")
    with closing(database.connect(autocommit=False)) as reader, reader.cursor() as cursor:
        cursor.execute("select count(*) from audit.dq_results")
        process = subprocess.Popen([sys.executable, "-c", code, database.user, database.password, database.dbname],
                                   env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")})
        try:
            _wait_for(lambda: _waiting(database) == 1)
            assert _sql(database, "select count(*) from pg_locks where mode = 'AccessExclusiveLock' and granted "
                                  "and relation = 'metrics.fct_a'::regclass") == [(1,)], "metrics not swapped yet"
        finally:
            process.kill()
            process.wait()
        reader.commit()
    _wait_for(lambda: _sql(database, "select count(*) from pg_locks where not granted or "
                                     "mode = 'AccessExclusiveLock'") == [(0,)])
    assert (_fingerprints(database, LIVE), _oids(database), _fingerprints(database, PENDING)) == (before, oids, pending)


def test_a_server_error_is_one_line_and_changes_nothing(postgres_admin, database):
    # A live table the dbt user may read but not drop (table and schema owned by another role).
    _sql(postgres_admin.with_database(database.dbname), "create schema metrics", "create table metrics.fct_b as select 1 as x",
         f"grant usage, create on schema metrics to {DBT_USER}", f"grant select on metrics.fct_b to {DBT_USER}")
    prepare(database)
    before, oids = _fingerprints(database, LIVE), _oids(database)
    with pytest.raises(PublishError) as raised:
        publish(database)
    assert str(raised.value) == ("Publishing failed: must be owner of table fct_b; nothing was published (metrics, "
                                 "audit unchanged; the new build is in metrics__pending, audit__pending).")
    assert (_fingerprints(database, LIVE), _oids(database)) == (before, oids)
    _sql(postgres_admin.with_database(database.dbname), f"revoke select on metrics.fct_b from {DBT_USER}")
    with pytest.raises(PublishError, match=r"^Could not copy the live tables into metrics__pending, audit__pending: "
                                           r"permission denied for table fct_b; metrics, audit unchanged\.$"):
        prepare(database)


def test_discard_keeps_the_build_for_inspection_closed_to_bi(database):
    _make_live(database)
    prepare(database)
    _sql(database, f"grant usage on schema metrics__pending to {BI_ROLE}")  # as dbt's on-run-end does
    assert _can_read(database, "metrics__pending.fct_a")
    before, oids = _fingerprints(database, LIVE), _oids(database)
    assert discard(database) == list(PENDING)
    assert (_fingerprints(database, LIVE), _oids(database)) == (before, oids)
    assert not _can_read(database, "metrics__pending.fct_a")
    assert _sql(database, "select count(*) from metrics__pending.fct_a") == [(2,)]


def test_a_suffix_that_is_not_a_plain_name_is_refused(database):
    for suffix in ("", "__Pending", "; drop schema metrics"):
        with pytest.raises(ValueError, match="must be lower-case letters, digits and _"):
            prepare(database, suffix=suffix)
    assert dbt_env() == {"PRODUCT_METRICS_PUBLISH_SUFFIX": "__pending"}
    with pytest.raises(PublishError, match=r"^Nothing to publish: schema metrics__pending does not exist"):
        publish(database)


# -- With dbt: the demo data built aside, published, then a run that is not published ---------

def test_dbt_builds_aside_and_only_publish_changes_what_bi_reads(database, tmp_path):
    load_demo_data(database, **DEMO_SIZE)
    project = PostgresProject(root=DEMO_PROJECT, duckdb_path=tmp_path / "unused.duckdb", postgres=database)

    def build(*, succeeds: bool = True) -> None:
        run = run_dbt(project, ["build", "--exclude", "test_type:unit"], env=dbt_env())
        failed = [f"{n.unique_id}: {n.message}" for n in run.failed_nodes()]
        assert run.success == succeeds, failed or run.error_lines[-20:]

    # First run: nothing live yet.
    prepare(database)
    build()
    assert not _schemas(database) & set(LIVE), "dbt wrote to a live schema"
    built = _renamed(_fingerprints(database, PENDING))
    assert {"metrics.fct_stickiness_daily", "metrics.fct_cac_monthly", "audit.rejected_rows"} <= set(built)
    publish(database)
    assert _fingerprints(database, LIVE) == built
    assert _can_read(database, "metrics.fct_cac_monthly") and not _can_read(database, "audit.rejected_rows")
    _sql(database, "create table audit.dq_results (run_id text, success boolean)",
         "insert into audit.dq_results values ('gate of run 1', true)")

    # Second run: the raw data changed, but the run is not published (e.g. its gate failed).
    live, oids = _fingerprints(database, LIVE), _oids(database)
    prepared = prepare(database)
    assert _renamed(_fingerprints(database, PENDING)) == live
    assert prepared.rows["audit__pending.dq_results"] == 1
    _sql(database, "update raw.marketing_spend set spend_usd = spend_usd * 2")
    build()
    rebuilt = _renamed(_fingerprints(database, PENDING))
    assert rebuilt["metrics.fct_cac_monthly"] != live["metrics.fct_cac_monthly"], "the second run changed nothing"
    assert rebuilt["audit.dq_results"] == live["audit.dq_results"]
    discard(database)
    assert (_fingerprints(database, LIVE), _oids(database)) == (live, oids)
    assert not _can_read(database, "metrics__pending.fct_cac_monthly")

    # Published after all: what the second run built, the history kept, BI still reads.
    publish(database)
    assert _fingerprints(database, LIVE) == rebuilt
    # A table dbt rebuilt and an incremental one it updated in its copy: BI reads both.
    assert _can_read(database, "metrics.fct_cac_monthly") and _can_read(database, "metrics.fct_stickiness_daily")

    # Third run: a raw table has gone missing, dbt fails half-way; not published.
    live, oids = _fingerprints(database, LIVE), _oids(database)
    prepare(database)
    _sql(database, "alter table raw.orders rename to orders_gone")
    build(succeeds=False)
    discard(database)
    assert (_fingerprints(database, LIVE), _oids(database)) == (live, oids)


# -- The command line: `product-metrics refresh` on the postgres target ---------------------------

def _refresh_cli(settings: PostgresSettings, *args: str, popen: bool = False):
    command = [str(Path(sys.executable).with_name("product-metrics")), "refresh", "--no-docs", *args]
    env = {**os.environ, **settings.dbt_env(), "COLUMNS": "200"}
    if popen:
        return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)


def test_refresh_on_postgres_publishes_only_a_run_that_passed(database):
    """The dirty demo data rejects a few rows of every source: a reject share limit of 0.5 passes the
    gate, 0.0001 fails it. A failed gate, a killed refresh and a refused one leave every live table as it was."""
    load_demo_data(database, dirty=True, **DEMO_SIZE)

    first = _refresh_cli(database, "--reject-share-limit", "0.5")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "swapped in one transaction" in first.stdout
    live, oids = _fingerprints(database, LIVE), _oids(database)
    assert {"metrics.fct_cohort_retention", "audit.rejected_rows", "audit.dq_results",
            "audit.metric_alerts"} <= set(live)
    assert not _schemas(database) & set(PENDING)

    failed = _refresh_cli(database, "--reject-share-limit", "0.0001")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Nothing was published" in failed.stdout and "audit__pending" in failed.stdout
    assert (_fingerprints(database, LIVE), _oids(database)) == (live, oids)
    assert _sql(database, "select count(*) from audit__pending.dq_results where not success")[0][0] > 0
    assert not _can_read(database, "metrics__pending.fct_cac_monthly")

    # Killed once dbt has started writing the pending schemas.
    process = _refresh_cli(database, "--reject-share-limit", "0.5", popen=True)
    rebuilt = "select count(*) from pg_stat_user_tables where schemaname = 'metrics__pending' and n_tup_ins > 0"
    _wait_for(lambda: process.poll() is not None or _sql(database, rebuilt)[0][0] > 0, timeout_s=300)
    assert process.poll() is None, "the refresh ended before dbt wrote a pending metric table"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert (_fingerprints(database, LIVE), _oids(database)) == (live, oids)

    # Refused: a cutoff outside the data stops dbt before anything is built.
    refused = _refresh_cli(database, "--as-of", "1900-01-01")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "product_metrics__as_of_date" in refused.stdout and "Nothing was published" in refused.stdout
    assert (_fingerprints(database, LIVE), _oids(database)) == (live, oids)
