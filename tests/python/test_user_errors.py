"""Errors a user can cause, through the real command line: each gives a short message naming the
problem, a documented exit code, no traceback, and leaves no new file behind. Plus the bounded
footprint: dbt's run directories are pruned.

Most cases fail before dbt runs; one real `demo --users 5` builds the warehouse the others break."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from product_metrics.errors import EXIT_CANNOT_RUN, EXIT_INTERNAL, EXIT_LOCKED

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).with_name("product-metrics")
RUNS = REPO_ROOT / "integration_tests" / "target" / "runs"


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("PRODUCT_METRICS_WAREHOUSE_URL", None)
    return subprocess.run([str(CLI), *args], cwd=REPO_ROOT, env=full_env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def files(directory: Path) -> set[Path]:
    return {path.relative_to(directory) for path in directory.rglob("*")}


def assert_short_error(result: subprocess.CompletedProcess, code: int, *expected: str, max_lines: int = 4) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output and "─ Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert 1 <= len(lines) <= max_lines, output
    for text in expected:
        assert text in output, output


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """`product-metrics demo --users 5` (the help says at least 1; it used to crash below 20), and its
    manifests for the commands that read them."""
    root = tmp_path_factory.mktemp("built")
    database = root / "warehouse.duckdb"
    result = run_cli("demo", "--users", "5", "--database", str(database))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Retention" in result.stdout and "Traceback" not in result.stdout + result.stderr
    newest = max((p for p in RUNS.iterdir() if (p / "manifest.json").is_file()), key=lambda p: p.name)
    manifests = root / "manifests"
    manifests.mkdir()
    for name in ("manifest.json", "semantic_manifest.json"):
        shutil.copy(newest / name, manifests / name)
    return {"database": database, "manifests": manifests}


@pytest.fixture
def place(tmp_path) -> Path:
    """A directory the broken warehouses live in; the tests assert nothing new appears in it."""
    directory = tmp_path / "place"
    directory.mkdir()
    return directory


def commands(database: Path, manifests: Path, out: Path) -> dict[str, list[str]]:
    """Every command that touches the warehouse, with what it needs to get that far quickly."""
    db = ["--database", str(database)]
    md = ["--manifest-dir", str(manifests)]
    return {
        "headline": ["headline", *db],
        "report": ["report", "--out", str(out / "report"), *db],
        "validate": ["validate", "--no-docs", *db],
        "build": ["build", "--no-docs", *db],
        "refresh": ["refresh", "--no-docs", *db],
        "alerts": ["alerts", *md, *db],
        "catalog": ["catalog", "--out", str(out / "catalog"), *md, *db],
        "export": ["export", "--semantic-manifest", str(manifests / "semantic_manifest.json"), *db],
        "demo-data": ["demo-data", "--users", "20", "--days", "30", *db],
    }


def test_demo_with_five_users_builds(built):
    assert built["database"].is_file()


@pytest.mark.parametrize("command", ["headline", "report", "validate", "build", "refresh", "alerts", "export",
                                     "demo-data"])
def test_a_missing_directory_creates_nothing(built, place, tmp_path, command):
    database = place / "mistyped" / "warehouse.duckdb"
    args = commands(database, built["manifests"], tmp_path / "out")[command]
    args.remove("--database")
    args.remove(str(database))
    before = files(place)
    result = run_cli(*args, env={"PRODUCT_METRICS_DUCKDB_PATH": str(database)})
    expected = "does not exist" if command == "demo-data" else "No DuckDB warehouse at"
    assert_short_error(result, EXIT_CANNOT_RUN, expected, str(database))
    assert files(place) == before


def test_catalog_without_a_warehouse_writes_the_page_but_no_database(built, place, tmp_path):
    database = place / "mistyped.duckdb"
    result = run_cli(*commands(database, built["manifests"], tmp_path / "out")["catalog"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No DuckDB warehouse at" in result.stdout and "definitions only" in result.stdout
    assert (tmp_path / "out" / "catalog" / "index.html").is_file()
    assert files(place) == set()


@pytest.mark.parametrize("command", ["headline", "report", "validate", "build", "refresh", "alerts", "catalog",
                                     "export", "demo-data"])
def test_a_file_that_is_not_a_duckdb_database(built, place, tmp_path, command):
    database = place / "notes.duckdb"
    database.write_text("not a database\n")
    before = files(place)
    result = run_cli(*commands(database, built["manifests"], tmp_path / "out")[command])
    assert_short_error(result, EXIT_CANNOT_RUN, "is not a DuckDB database", str(database))
    assert files(place) == before
    assert database.read_text() == "not a database\n"


@pytest.fixture
def read_only_copy(built, place):
    """The built warehouse, read-only to this user (root ignores permissions: the immutable flag)."""
    database = place / "readonly.duckdb"
    shutil.copy(built["database"], database)
    if os.geteuid() != 0:
        database.chmod(0o444)
        yield database
        database.chmod(0o644)
        return
    if subprocess.run(["chattr", "+i", str(database)], capture_output=True, check=False).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: cannot make a read-only file")
    try:
        yield database
    finally:
        subprocess.run(["chattr", "-i", str(database)], check=True)


@pytest.mark.parametrize("command", ["validate", "build", "refresh", "alerts", "catalog", "export", "demo-data"])
def test_a_read_only_warehouse(built, read_only_copy, place, tmp_path, command):
    before = files(place)
    result = run_cli(*commands(read_only_copy, built["manifests"], tmp_path / "out")[command])
    assert_short_error(result, EXIT_CANNOT_RUN, str(read_only_copy))
    assert "cannot be written" in result.stdout + result.stderr or "for writing" in result.stdout + result.stderr
    assert files(place) == before


def test_a_read_only_warehouse_can_still_be_read(built, read_only_copy, tmp_path):
    result = run_cli("headline", "--database", str(read_only_copy))
    assert result.returncode == 0 and "Retention" in result.stdout, result.stdout + result.stderr
    result = run_cli("validate", "--no-store", "--no-docs", "--database", str(read_only_copy))
    assert "checks on" in result.stdout and "could not run" not in result.stdout, result.stdout + result.stderr


@pytest.fixture
def locked_copy(built, place):
    """The built warehouse, opened for writing by another process (as a running dbt build would)."""
    database = place / "locked.duckdb"
    shutil.copy(built["database"], database)
    hold = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(300)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(database)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    yield database, holder.pid
    holder.kill()
    holder.wait()


@pytest.mark.parametrize("command", ["headline", "report", "validate", "build", "refresh", "alerts", "catalog",
                                     "export", "demo-data"])
def test_a_warehouse_locked_by_another_process(built, locked_copy, place, tmp_path, command):
    database, pid = locked_copy
    before = files(place)
    result = run_cli(*commands(database, built["manifests"], tmp_path / "out")[command])
    assert_short_error(result, EXIT_LOCKED, "is in use", f"process {pid}", str(database))
    new = files(place) - before
    # build and refresh take their own lock (a file kept next to the warehouse) before they ask DuckDB for its lock
    assert new == ({Path("locked.duckdb.refresh.lock")} if command in ("build", "refresh") else set())


def test_a_refresh_lock_held_by_another_refresh(built, place):
    from product_metrics.refresh import refresh_lock

    database = place / "busy.duckdb"
    shutil.copy(built["database"], database)
    with refresh_lock(database):
        result = run_cli("refresh", "--no-docs", "--database", str(database))
    assert_short_error(result, EXIT_LOCKED, "Another build or refresh of", f"pid {os.getpid()}", max_lines=2)


@pytest.mark.parametrize("command", ["validate", "alerts", "catalog"])
def test_an_unreachable_postgres_server(built, tmp_path, command):
    url = "postgresql+psycopg2://u@127.0.0.1:1/db"
    args = {"validate": ["validate", "--no-docs"], "alerts": ["alerts", "--manifest-dir", str(built["manifests"])],
            "catalog": ["catalog", "--out", str(tmp_path / "catalog"), "--manifest-dir", str(built["manifests"])]}
    result = run_cli(*args[command], "--url", url, timeout=120)
    assert_short_error(result, EXIT_CANNOT_RUN, "Cannot connect to postgresql+psycopg2://u@127.0.0.1:1/db",
                       "Is the server running")


def test_a_missing_raw_table_is_named(built, place):
    """The base model stops before its query: one line names the raw input, the relation, the vars
    that place it and what to do."""
    import duckdb

    database = place / "no_events.duckdb"
    shutil.copy(built["database"], database)
    with duckdb.connect(str(database)) as connection:
        connection.execute("drop table raw.events")
    result = run_cli("build", "--no-docs", "--database", str(database))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    named = [line for line in output.splitlines() if "not found" in line]
    assert len(named) == 1, output
    assert ('base_raw__events: raw input events not found: "no_events"."raw"."events" (vars '
            "product_metrics__raw_schema, product_metrics__events_identifier). Create it or point "
            "product_metrics__events_relation at your model.") in named[0], output


@pytest.mark.parametrize("command", ["validate", "alerts"])
def test_a_url_that_is_not_a_warehouse_url(built, command):
    args = {"validate": ["validate", "--no-docs"], "alerts": ["alerts", "--manifest-dir", str(built["manifests"])]}
    result = run_cli(*args[command], "--url", "nosuchdb://u:secret@host/db", timeout=120)
    assert_short_error(result, EXIT_CANNOT_RUN, "is not a warehouse URL", "nosuchdb://u:***@host/db")
    assert "secret" not in result.stdout + result.stderr


def test_headline_of_a_warehouse_without_metric_tables(place):
    database = place / "unbuilt.duckdb"
    assert run_cli("demo-data", "--users", "20", "--days", "30", "--database", str(database)).returncode == 0
    result = run_cli("headline", "--database", str(database))
    assert_short_error(result, EXIT_CANNOT_RUN, "has no metric tables", "product-metrics build")


def test_demo_data_too_small_for_dirty_mode_is_refused(place):
    result = run_cli("demo-data", "--users", "1", "--days", "30", "--dirty", "--database", str(place / "w.duckdb"))
    assert_short_error(result, EXIT_CANNOT_RUN, "too little data for dirty mode")


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(tmp_path):
    """A bug (here: a manifest directory without manifests) is one line; --debug gives the traceback."""
    from typer.testing import CliRunner

    from product_metrics import cli

    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        def broken(*args, **kwargs):
            raise KeyError("boom")

        patch.setattr("product_metrics.report.headline.read_headline", broken)
        duckdb.connect(str(tmp_path / "x.duckdb")).close()  # a warehouse, so the command gets as far as the bug
        result = runner.invoke(cli.app, ["headline", "--database", str(tmp_path / "x.duckdb")])
        assert result.exit_code == EXIT_INTERNAL, result.output
        assert "unexpected error: KeyError" in result.output and "--debug" in result.output
        assert "Traceback" not in result.output
        debug = runner.invoke(cli.app, ["--debug", "headline", "--database", str(tmp_path / "x.duckdb")])
        assert isinstance(debug.exception, KeyError)


# --- bounded footprint ---------------------------------------------------------------------------

def _fake_runs(directory: Path, count: int, start: int = 0) -> list[Path]:
    runs = []
    for i in range(start, start + count):
        run = directory / f"2026{1 + i // 28:02d}{1 + i % 28:02d}T060000-{i:08x}"
        run.mkdir(parents=True)
        (run / "manifest.json").write_text("{}" * 1000)
        runs.append(run)
    return runs


def test_pruning_keeps_the_newest_runs_and_nothing_else_is_touched(tmp_path):
    from product_metrics.dbt import prune_runs

    runs = _fake_runs(tmp_path, 30)
    (tmp_path / "notes").mkdir()
    (tmp_path / "README.txt").write_text("mine")
    removed = prune_runs(tmp_path, keep=10)
    assert sorted(removed) == runs[:20]
    assert sorted(p for p in tmp_path.iterdir() if p.name not in {"notes", "README.txt"}) == runs[20:]
    assert (tmp_path / "notes").is_dir() and (tmp_path / "README.txt").is_file()


def test_a_year_of_daily_runs_stays_bounded(tmp_path):
    from product_metrics.dbt import prune_runs

    for day in range(365):
        _fake_runs(tmp_path, 1, start=day)  # one run a day, names in time order
        prune_runs(tmp_path, keep=10)
        assert len(list(tmp_path.iterdir())) <= 10


def test_a_run_in_use_by_another_process_is_never_pruned(tmp_path):
    from product_metrics.dbt import IN_USE_FILE, hold_run, prune_runs, release_run

    old, *rest = _fake_runs(tmp_path, 5)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_SH); "
        "print('held', flush=True); time.sleep(300)"), str(old / IN_USE_FILE)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        ours = tmp_path / "20200101T000000-0000abcd"  # the oldest of all, held by this process
        hold_run(ours)
        assert set(prune_runs(tmp_path, keep=1)) == set(rest[:-1])
        assert old.is_dir() and ours.is_dir() and rest[-1].is_dir()
    finally:
        holder.kill()
        holder.wait()
    release_run(ours)
    assert set(prune_runs(tmp_path, keep=1)) == {old, ours}


def test_a_real_run_prunes_old_runs_but_keeps_one_in_use(built, place):
    """`governance check` runs `dbt parse` (a real run directory); with PRODUCT_METRICS_KEEP_RUNS=2 the
    old runs go, except one another process still holds. It reads no warehouse: a mistyped warehouse
    path creates nothing."""
    from product_metrics.dbt import IN_USE_FILE

    old = [RUNS / f"20000101T0000{i:02d}-{i:08x}" for i in range(4)]
    for run in old:
        run.mkdir(parents=True)
        (run / "manifest.json").write_text("{}")
    held = (old[0] / IN_USE_FILE).open("a")  # held open across the run
    fcntl.flock(held, fcntl.LOCK_SH)
    try:
        result = run_cli("governance", "check", "--today", "2026-11-15", env={
            "PRODUCT_METRICS_KEEP_RUNS": "2", "PRODUCT_METRICS_DUCKDB_PATH": str(place / "mistyped" / "w.duckdb")})
        assert result.returncode in (0, 1) and "rules" in result.stdout, result.stdout + result.stderr
        assert files(place) == set()
        assert old[0].is_dir() and not any(run.is_dir() for run in old[1:])
        newest = max((p for p in RUNS.iterdir() if p.is_dir()), key=lambda p: p.name)
        assert (newest / "manifest.json").is_file()
    finally:
        held.close()
        shutil.rmtree(old[0], ignore_errors=True)


def test_data_docs_keep_the_pages_of_the_newest_runs(tmp_path, monkeypatch):
    from product_metrics.quality.validate import _prune_validation_pages

    monkeypatch.setenv("PRODUCT_METRICS_KEEP_RUNS", "3")
    suites = [tmp_path / "validations" / "metrics" / "fct_x", tmp_path / "validations" / "raw" / "users"]
    runs = {suite: _fake_runs(suite, 8) for suite in suites}
    (tmp_path / "index.html").write_text("<html></html>")
    _prune_validation_pages(tmp_path)
    for suite in suites:
        assert sorted(suite.iterdir()) == runs[suite][-3:]
    assert (tmp_path / "index.html").is_file()
