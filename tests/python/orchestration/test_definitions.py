"""The Dagster definitions (src/product_metrics/orchestration): loaded for a small demo project with its
own warehouse and dbt target path, the daily job materialised in-process (every dbt model an asset,
the data-quality and threshold checks on them), the job running `product-metrics refresh`'s path
(the same tables as the CLI's refresh; nothing published when a gate fails or dbt is past its
timeout), the schedule, the cron example, and the CLI staying free of Dagster."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import dagster as dg  # the orchestration extra, installed by .[dev]
import pytest

from product_metrics.orchestration.definitions import (
    ALERTS_CHECK,
    DEFAULT_CRON,
    JOB_NAME,
    QUALITY_CHECK,
    OrchestrationSettings,
    build_definitions,
)

from ..conftest import DEMO_PROJECT, REPO_ROOT
from ..test_publish import file_digest, table_checksums
from ..test_refresh_stop import dbt_processes

CRON_EXAMPLE = REPO_ROOT / "deploy" / "cron" / "product-metrics.cron"


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> OrchestrationSettings:
    from product_metrics.demo_data import generate_demo_data

    directory = tmp_path_factory.mktemp("dagster")
    warehouse = directory / "warehouse.duckdb"
    generate_demo_data(warehouse, users=600, days=60, seed=11, dirty=True)
    return OrchestrationSettings(project_dir=DEMO_PROJECT, duckdb_path=warehouse, target_path=directory / "target")


@pytest.fixture(scope="module")
def definitions(settings) -> dg.Definitions:
    return build_definitions(settings)


# The dirty demo data rejects a few rows of every source: a 50 % reject share passes, 0.01 % fails.
PASSING_SHARE, FAILING_SHARE = "0.5", "0.0001"


def run_job(definitions: dg.Definitions, **config) -> dg.ExecuteInProcessResult:
    run_config = {"ops": {"product_metrics_refresh": {"config": {
        "docs": False, "reject_share_limit": float(PASSING_SHARE), **config}}}}
    return definitions.resolve_job_def(JOB_NAME).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_config=run_config, raise_on_error=False)


@pytest.fixture(scope="module")
def job_run(definitions, settings) -> dg.ExecuteInProcessResult:
    """The daily job's first run: the warehouse holds raw data only."""
    return run_job(definitions)


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(e.event_specific_data.error.message for e in result.all_events if e.is_step_failure)


def model_keys(settings: OrchestrationSettings) -> dict[str, str]:
    """Every enabled dbt model of the parsed manifest → its Dagster asset key (dagster-dbt's default:
    [schema, name] when the model configures a schema, [alias] for a versioned model)."""
    from dagster_dbt import DagsterDbtTranslator

    manifest = json.loads((settings.target_path / "manifest.json").read_text())
    translator = DagsterDbtTranslator()
    return {node["name"]: translator.get_asset_key(node).to_user_string() for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["config"]["enabled"]}


def test_every_dbt_model_is_an_asset_with_the_two_gates_as_checks(definitions, settings):
    graph = definitions.resolve_asset_graph()
    assets = {key.to_user_string() for key in graph.get_all_asset_keys()}
    keys = model_keys(settings)
    assert len(keys) > 40 and set(keys.values()) <= assets, sorted(set(keys.values()) - assets)
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    # The gates sit downstream of what they check: every model gets the data-quality check, the tables
    # governed metrics live in get the threshold check.
    assert {(key, QUALITY_CHECK) for key in keys.values()} <= checks
    stickiness, nps, events = keys["fct_stickiness_daily"], keys["fct_nps_monthly"], keys["stg_raw__events"]
    assert (stickiness, ALERTS_CHECK) in checks and (nps, ALERTS_CHECK) in checks
    assert (events, ALERTS_CHECK) not in checks
    # dbt's own tests are asset checks too (dagster-dbt), e.g. the key test of a mart.
    assert any(asset == stickiness and name not in (QUALITY_CHECK, ALERTS_CHECK) for asset, name in checks)


def test_daily_schedule_runs_the_refresh_job(definitions):
    (schedule,) = definitions.schedules
    assert schedule.cron_schedule == DEFAULT_CRON and schedule.execution_timezone == "UTC"
    assert schedule.job_name == JOB_NAME
    assert definitions.resolve_job_def(JOB_NAME) is not None


def test_job_runs_the_refresh_then_reports_every_model_and_the_gates(job_run, settings):
    import duckdb

    result = job_run
    assert result.success, failure_message(result)
    # Published: the run's copy replaced the live file.
    assert not (settings.duckdb_path.parent / ".unpublished" / settings.duckdb_path.name).exists()
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    keys = model_keys(settings)
    assert set(keys.values()) <= materialised, sorted(set(keys.values()) - materialised)
    # The refresh's dbt command: every model, seed and data test, not the unit tests.
    [run_results] = list(settings.target_path.glob("*/run_results.json"))
    ran = json.loads(run_results.read_text())
    assert ran["args"]["exclude_resource_types"] == ["unit_test"]
    assert ran["args"]["vars"] == {}
    assert not any(r["unique_id"].startswith("unit_test.") for r in ran["results"])
    assert any(r["unique_id"].startswith("test.") for r in ran["results"])

    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    by_check: dict[str, list] = {}
    for evaluation in evaluations:
        by_check.setdefault(evaluation.check_name, []).append(evaluation)
    assert {e.asset_key.to_user_string() for e in by_check[QUALITY_CHECK]} >= set(keys.values())
    # The gates wrote their records, in this test's warehouse only.
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.sql("select count(*) from metrics.fct_stickiness_daily").fetchall() == [(60,)]
        [(runs, rows)] = con.sql("select count(distinct run_id), count(*) from audit.dq_results").fetchall()
        assert runs == 1 and rows > 50
        stored = dict(con.sql("select table_name, count(*) from audit.dq_results group by 1").fetchall())
        [(has_alerts,)] = con.sql("select count(*) from information_schema.tables where table_schema = 'audit' "
                                  "and table_name = 'metric_alerts'").fetchall()
        # The threshold breaches; metric_alerts also records off-track targets and anomalies (kind).
        [(breaches,)] = con.sql("select count(*) from audit.metric_alerts where kind = 'threshold'").fetchall() \
            if has_alerts else [(0,)]
    # The data-quality check reports, on each asset, the stored results of its table.
    reported = {e.asset_key.to_user_string(): e.metadata["checks"].value for e in by_check[QUALITY_CHECK]}
    assert reported[keys["fct_stickiness_daily"]] == stored["metrics.fct_stickiness_daily"] > 0
    assert reported[keys["fct_nps_monthly"]] == stored["metrics.fct_nps_monthly"] > 0
    # Threshold check: a failed evaluation per table with a breach; their count matches the recorded breaches.
    thresholds = {e.asset_key.to_user_string(): e for e in by_check[ALERTS_CHECK]}
    assert {keys["fct_stickiness_daily"], keys["fct_nps_monthly"]} <= set(thresholds)
    findings = [item for e in thresholds.values() for item in e.metadata["failed"].value + e.metadata["warnings"].value]
    assert sum(1 for item in findings if re.search(r"\((alert|warn) ", item)) == breaches
    assert all(e.passed == (not e.metadata["failed"].value and not e.metadata["warnings"].value)
               for e in thresholds.values())


def test_the_job_writes_what_the_cli_refresh_writes(job_run, settings, tmp_path):
    from product_metrics.demo_data import generate_demo_data

    assert job_run.success
    cli_warehouse = tmp_path / "warehouse.duckdb"
    generate_demo_data(cli_warehouse, users=600, days=60, seed=11, dirty=True)  # the job's input
    cli = subprocess.run([str(Path(sys.executable).with_name("product-metrics")), "refresh", "--no-docs",
                          "--reject-share-limit", PASSING_SHARE, "--database", str(cli_warehouse)],
                         cwd=REPO_ROOT, env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True,
                         check=False)
    assert cli.returncode == 0, cli.stdout + cli.stderr

    def metrics(path: Path) -> dict:
        return {table: checksum for table, checksum in table_checksums(path).items() if table.startswith("metrics.")}

    job_tables, cli_tables = metrics(settings.duckdb_path), metrics(cli_warehouse)
    assert len(job_tables) > 10 and job_tables == cli_tables


def test_a_failing_gate_fails_the_job_and_publishes_nothing(job_run, definitions, settings):
    assert job_run.success
    before, digest = table_checksums(settings.duckdb_path), file_digest(settings.duckdb_path)

    result = run_job(definitions, reject_share_limit=float(FAILING_SHARE))

    assert not result.success
    assert "nothing was published" in failure_message(result)
    assert result.get_asset_materialization_events() == []  # nothing is reported built
    quality = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
               and e.event_specific_data.check_name == QUALITY_CHECK]
    assert quality and not all(e.passed for e in quality)  # the gate ran, on the copy, and failed
    [failure] = [e.event_specific_data for e in result.all_events if e.is_step_failure]
    stages = failure.user_failure_data.metadata["refresh output"].value  # the refresh's stage table
    assert "dbt's saved parse reused" in stages  # the first run's, saved for the run's copy
    assert file_digest(settings.duckdb_path) == digest and table_checksums(settings.duckdb_path) == before


def test_a_job_past_its_timeout_stops_dbt_and_publishes_nothing(job_run, definitions, settings):
    assert job_run.success
    digest, work = file_digest(settings.duckdb_path), settings.duckdb_path.parent / ".unpublished"

    result = run_job(definitions, full_refresh=True, timeout_minutes=0.1)  # a full rebuild takes far longer

    assert not result.success
    assert "nothing was published" in failure_message(result)
    [failure] = [e.event_specific_data for e in result.all_events if e.is_step_failure]
    stages = failure.user_failure_data.metadata["refresh output"].value  # the refresh's stage table
    assert "stopped: dbt ran longer than the timeout (0.1 min) and was interrupted" in stages
    assert dbt_processes(work / settings.duckdb_path.name) == []
    assert file_digest(settings.duckdb_path) == digest


def test_cron_example_runs_product_metrics_refresh_on_the_dagster_schedule():
    lines = [line for line in CRON_EXAMPLE.read_text().splitlines() if line.strip() and not line.startswith("#")]
    jobs = [line for line in lines if "=" not in line.split()[0]]  # skip VAR=value lines
    assert len(jobs) == 1, jobs
    fields = jobs[0].split(maxsplit=5)
    assert " ".join(fields[:5]) == DEFAULT_CRON  # the same time as the Dagster schedule
    assert "product-metrics refresh" in fields[5]
    # ... a command the CLI has.
    from typer.testing import CliRunner

    from product_metrics.cli import app

    result = CliRunner().invoke(app, ["refresh", "--help"])
    assert result.exit_code == 0 and "refresh" in result.output
    assert any(line.startswith("CRON_TZ=UTC") for line in lines)  # the schedule's time zone


def test_cli_help_stays_fast_and_free_of_dagster():
    code = "import sys, product_metrics.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
           "('dagster', 'dagster_dbt', 'plotly')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
    # CPU seconds of the child, not wall time: other work on a busy machine does not count against it.
    timings = []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([str(Path(sys.executable).parent / "product-metrics"), "--help"], capture_output=True,
                       check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        timings.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    assert min(timings) < 1.0, timings


def test_a_terminated_run_forwards_the_interrupt_to_dbt_and_publishes_nothing(job_run, settings, tmp_path):
    """A Dagster run stopped from outside (SIGTERM to the run's process, as Kubernetes or the Dagster
    daemon do): Dagster interrupts the step, dagster-dbt forwards SIGINT to dbt, and the refresh stops
    before publishing."""
    import signal
    import time

    assert job_run.success
    digest, copy = file_digest(settings.duckdb_path), settings.duckdb_path.parent / ".unpublished" / "warehouse.duckdb"
    config = tmp_path / "run.yaml"
    config.write_text("ops:\n  product_metrics_refresh:\n    config:\n      docs: false\n      full_refresh: true\n"
                      f"      reject_share_limit: {PASSING_SHARE}\n")
    (tmp_path / "home").mkdir()
    env = {**os.environ, "PRODUCT_METRICS_DUCKDB_PATH": str(settings.duckdb_path),
           "PRODUCT_METRICS_DAGSTER_TARGET": str(settings.target_path), "DAGSTER_HOME": str(tmp_path / "home")}
    run = subprocess.Popen([str(Path(sys.executable).with_name("dagster")), "job", "execute", "-m",
                            "product_metrics.orchestration.definitions", "-j", JOB_NAME, "-c", str(config)],
                           cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True)
    deadline = time.monotonic() + 300
    while not (dbt_processes(copy) and copy.with_name(copy.name + ".wal").exists()):
        assert run.poll() is None, run.communicate()[0][-3000:]
        assert time.monotonic() < deadline, "dbt never started writing the copy"
        time.sleep(0.2)
    run.send_signal(signal.SIGTERM)  # to the run's process only: dbt hears of it from dagster-dbt
    output, _ = run.communicate(timeout=120)

    assert run.returncode != 0
    assert "Forwarding interrupt signal to dbt command" in output
    assert dbt_processes(copy) == []
    assert file_digest(settings.duckdb_path) == digest


def test_dagster_dbt_run_directories_are_pruned_by_age(tmp_path):
    """dagster-dbt names each invocation's target directory `<op>-<run id>-<uuid>`; the job keeps the
    newest by modification time, as the CLI keeps its own runs, and touches nothing else."""
    from product_metrics.dbt import prune_runs
    from product_metrics.orchestration.definitions import DAGSTER_RUN_DIR

    runs = [tmp_path / f"product_metrics_refresh-{i:07x}-abcdef{i}" for i in range(5)]
    for age, run in enumerate(reversed(runs)):  # runs[0] the newest
        run.mkdir()
        os.utime(run, (1_000_000 + age, 1_000_000 + age))
    (tmp_path / "partial_parse.msgpack").write_text("")
    (tmp_path / "not-a-run").mkdir()

    removed = prune_runs(tmp_path, 2, pattern=DAGSTER_RUN_DIR, age=lambda path: path.stat().st_mtime)

    assert sorted(removed) == sorted(runs[2:])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [runs[0].name, runs[1].name, "partial_parse.msgpack", "not-a-run"])
