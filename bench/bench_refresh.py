"""Scheduled refreshes at scale, measured side by side in one run on the same data.

    .venv/bin/python bench/bench_refresh.py [--sizes 1M,10M] [--with-100m] [--workdir /tmp/bench_refresh]

For each size (1M events = 20k users, 10M = 200k users, 100M = 2M users; 365 days each) it
generates the demo data, holds back the last day of events, orders and AI suggestions, and measures:
- full `dbt build` (every model and test, from scratch) on the data without that day;
- the event path against a hand-written floor: the event-heavy models (raw events to
  stickiness and retention) timed inside the full build and alone (`dbt run --full-refresh` of just
  them), and one DuckDB script building the same four tables (events, user-days, stickiness,
  retention; checked equal);
- a one-day incremental refresh (`dbt build` after loading the day: what `product-metrics refresh`
  runs first, starting, as a scheduled refresh does, from the previous run's saved dbt parse);
- peak memory (max RSS of the dbt process, from getrusage of children);
- publishing: what write-audit-publish adds to every `product-metrics build` and `refresh` (the
  warehouse file copied aside before dbt, checkpointed and renamed over the live file after the
  checks; product_metrics.publish), on the refreshed warehouse, and the refresh and full build with it;
- once per run, dbt's fixed cost of a refresh: the same refresh on 200 users (~11k events), where
  SQL costs next to nothing, also without its data tests and with no node selected; each as a share
  of every size's full build, the part of it no faster SQL can take off a `dbt build` refresh;
- rolling MAU (30 days) on the refreshed warehouse, each in a fresh process from the same user-days
  table: our fct_stickiness_daily (its compiled SQL), the SQL MetricFlow generates for a cumulative
  30-day count-distinct metric (`mau_cumulative_reference`, added to a copy of the semantic manifest
  for this benchmark only; the served MAU is fct_stickiness_daily), a plain range join, and a
  hand-written single-pass DuckDB script (the practical floor). The MAU values must agree. Each
  query is run up to 5 times in its process (while the runs stay within 30 s) and the median kept.
Prints a table per size; `--results FILE` also writes it as Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from product_metrics.dbt import install_packages
from product_metrics.project import Project
from product_metrics.publish import WarehouseCopy, file_size_text
from product_metrics.refresh import RefreshOptions, dbt_args, dbt_env, dbt_vars, test_window_start

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "integration_tests"  # the demo project, which installs the package with `local: ../`
SIZES = {"1M": 20_000, "10M": 200_000, "100M": 2_000_000}
DAYS = 365
INCREMENTAL_SOURCES = {"events": "occurred_at", "orders": "ordered_at", "ai_suggestions": "created_at"}
MAU_DAYS = 30

# The rolling-MAU contenders, all reading the same user-days table ({user_days}).
RANGE_JOIN_SQL = """
select spine.activity_date, count(distinct user_days.user_id) as mau
from (select distinct activity_date from {user_days}) as spine
inner join {user_days} as user_days
    on user_days.activity_date between spine.activity_date - interval 29 day and spine.activity_date
group by spine.activity_date
"""
# The floor: per user and active day, the 30 days it keeps the user in MAU, cut at the next active
# day; +1 / -1 at the ends and one running sum. Only MAU, no date spine, no other columns.
FLOOR_SQL = """
with ends as (
    select
        activity_date,
        least(activity_date + 30, coalesce(lead(activity_date) over (partition by user_id order by activity_date),
                                           activity_date + 30)) as end_date
    from {user_days}
),
changes as (
    select activity_date as change_date, count(*) as change from ends group by 1
    union all
    select end_date, -count(*) from ends group by 1
)
select change_date as activity_date, sum(sum(change)) over (order by change_date) as mau
from changes group by change_date
"""


# The hand-written floor of the event path of a full build: the same four tables as the dbt
# models base_raw__events, int_events_rolled_up_to_user_days, fct_stickiness_daily and
# fct_cohort_retention, in one DuckDB script specialised to typed raw columns and UTC (no portable
# macros, no text casts, no dbt). Cohorts and the cutoff come from the dbt-built users and cutoff.
EVENT_PATH_FLOOR_SQL = """
create schema if not exists bench_floor;
create or replace table bench_floor.events as
with ranked as (
    select
        coalesce(cast(event_id as varchar), '') as source_key, cast(event_id as varchar) as event_id,
        cast(user_id as varchar) as user_id, occurred_at, cast(occurred_at as date) as event_date, event_name,
        '{"event_id": "' || coalesce(cast(event_id as varchar), 'null') || '", "user_id": "'
            || coalesce(cast(user_id as varchar), 'null')
            || '", "occurred_at": "' || coalesce(cast(occurred_at as varchar), 'null') || '", "event_name": "'
            || coalesce(event_name, 'null') || '"}' as raw_record,
        row_number() over (partition by cast(event_id as varchar) order by occurred_at nulls last, raw_record)
            as copy_number
    from raw.events
)
select
    ranked.event_id, ranked.user_id, ranked.occurred_at, ranked.event_date, ranked.event_name, ranked.source_key,
    case
        when ranked.event_id is null then 'missing_key'
        when ranked.copy_number > 1 then 'duplicate'
        when ranked.occurred_at is null then 'missing_timestamp'
        when users.user_id is null then 'unknown_user'
        when ranked.event_date < users.signup_date then 'before_signup'
    end as rejection_reason,
    ranked.raw_record
from ranked left join staging.stg_raw__users as users using (user_id);
update bench_floor.events set raw_record = null where rejection_reason is null;
create or replace table bench_floor.user_days as
select distinct user_id, event_date as activity_date
from bench_floor.events, intermediate.int_reporting_cutoff as cutoff
where rejection_reason is null and event_date < cutoff.cutoff_date;
create or replace table bench_floor.stickiness as
with ends as (
    select activity_date, lead(activity_date) over (partition by user_id order by activity_date) as next_date
    from bench_floor.user_days
),
changes as (
    select activity_date as day, 1 as dau, 1 as wau, 1 as mau from ends
    union all select activity_date + 1, -1, 0, 0 from ends
    union all select least(activity_date + 7, coalesce(next_date, activity_date + 7)), 0, -1, 0 from ends
    union all select least(activity_date + 30, coalesce(next_date, activity_date + 30)), 0, 0, -1 from ends
),
spine as (
    select cast(unnest(generate_series(min(activity_date), max(cutoff_date) - 1, interval 1 day)) as date) as day
    from bench_floor.user_days, intermediate.int_reporting_cutoff
),
daily as (select day, sum(dau) as dau, sum(wau) as wau, sum(mau) as mau from changes group by day)
select spine.day as activity_date,
    sum(coalesce(daily.dau, 0)) over w as dau, sum(coalesce(daily.wau, 0)) over w as wau,
    sum(coalesce(daily.mau, 0)) over w as mau
from spine left join daily using (day)
window w as (order by spine.day rows unbounded preceding);
create or replace table bench_floor.retention as
with members as (
    select user_id, 'week' as granularity, cohort_week as cohort_start from intermediate.int_users_cohorted
    union all
    select user_id, 'month', cohort_month from intermediate.int_users_cohorted
),
periods as (
    select distinct members.granularity, members.cohort_start, members.user_id,
        case members.granularity when 'week' then (user_days.activity_date - members.cohort_start) // 7
            else date_diff('month', members.cohort_start, user_days.activity_date) end as period_number
    from members inner join bench_floor.user_days using (user_id)
)
select granularity, cohort_start, period_number, count(*) as retained_users
from periods group by all;
"""
# Cohort retention is derived through its two inputs, so they are on the path too.
EVENT_PATH_MODELS = ("base_raw__events", "int_events_rolled_up_to_user_days", "fct_stickiness_daily",
                     "int_active_users_rolled_up_to_cohort_periods", "int_users_last_active",
                     "fct_cohort_retention")
EVENT_PATH_CHECK_SQL = """
select
    (select count(*) from bench_floor.events where rejection_reason is null)
        = (select count(*) from staging.stg_raw__events)
    and (select count(*) from bench_floor.user_days) = (select count(*) from intermediate.int_events_rolled_up_to_user_days)
    and (select sum(dau + wau + mau) from bench_floor.stickiness) = (select sum(dau + wau + mau) from metrics.fct_stickiness_daily)
    and (select sum(retained_users) from bench_floor.retention where period_number >= 0)
        = (select sum(retained_users) from metrics.fct_cohort_retention)
"""


@dataclass
class Measure:
    seconds: float
    peak_rss_mb: float | None = None
    detail: str = ""


@dataclass
class SizeResult:
    label: str
    users: int
    events: int = 0
    user_days: int = 0
    measures: dict[str, Measure] = field(default_factory=dict)
    model_seconds: dict[str, float] = field(default_factory=dict)  # sum of the models' execution times
    mau_agree: bool | None = None


def _env(database: Path) -> dict[str, str]:
    """The environment product-metrics gives its dbt runs (Project.dbt_env), for every build measured;
    the demo project's packages installed first, as product-metrics does."""
    project = Project(root=PROJECT, duckdb_path=database)
    env = project.dbt_env()
    install_packages(project, env)
    return env


def timed_child(command: list[str], env: dict[str, str]) -> Measure:
    """Run a command in a wrapper process that reports its peak RSS (getrusage of its children)."""
    wrapper = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
               "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
               "sys.exit(code)")
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", wrapper, *command], cwd=PROJECT, env=env, capture_output=True, text=True,
                         check=False)
    seconds = time.perf_counter() - started
    if run.returncode:
        sys.exit(f"failed: {' '.join(command)}\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}")
    peak = next(int(line.split()[1]) for line in run.stderr.splitlines() if line.startswith("PEAK_RSS_KB"))
    return Measure(seconds, peak / 1024)


def dbt_command(database: Path, target: Path, command: str, *args: str, variables: dict | None = None,
                env: dict[str, str] | None = None) -> Measure:
    argv = [sys.executable, "-m", "dbt.cli.main", command, "--target-path", str(target), "--log-path",
            str(target / "logs"), "--vars", json.dumps(variables or {}), *args]
    return timed_child(argv, {**_env(database), **(env or {})})


def dbt_build(database: Path, target: Path, *args: str, variables: dict | None = None,
              env: dict[str, str] | None = None) -> Measure:
    return dbt_command(database, target, "build", *args, variables=variables, env=env)


def hold_back_last_day(database: Path, day: str) -> None:
    import duckdb

    with duckdb.connect(str(database)) as con:
        con.execute("create schema if not exists incoming")
        for table, column in INCREMENTAL_SOURCES.items():
            con.execute(f"create or replace table incoming.{table} as select * from raw.{table} "
                        f"where cast({column} as date) >= '{day}'")
            con.execute(f"delete from raw.{table} where cast({column} as date) >= '{day}'")


def load_last_day(database: Path) -> None:
    import duckdb

    with duckdb.connect(str(database)) as con:
        for table in INCREMENTAL_SOURCES:
            con.execute(f"insert into raw.{table} select * from incoming.{table}")
        con.execute("drop schema incoming cascade")


def run_phase(target: Path) -> str:
    """How many nodes dbt ran and how long its run phase took: the rest of the process is start-up,
    loading the parse and writing artifacts."""
    run_results = json.loads((target / "run_results.json").read_text())
    return f"{len(run_results['results'])} nodes, run phase {run_results['elapsed_time']:.1f} s"


def node_seconds(target: Path, models: tuple[str, ...] | None = None) -> dict[str, float]:
    """Execution time of each model of a dbt run (all models, or those named)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: float(r["execution_time"]) for r in results
            if r["unique_id"].startswith("model.") and (models is None or r["unique_id"].split(".")[-1] in models)}


def run_event_path_floor(database: Path) -> Measure:
    """The hand-written event path in a fresh process; its tables must match the dbt models'."""
    script = Path(database).with_suffix(".floor.sql")
    script.write_text(EVENT_PATH_FLOOR_SQL)
    code = ("import duckdb, sys, time, json; con = duckdb.connect(sys.argv[1]); started = time.perf_counter(); "
            "con.execute(open(sys.argv[2]).read()); seconds = time.perf_counter() - started; "
            "same = con.execute(sys.argv[3]).fetchone()[0]; con.execute('drop schema bench_floor cascade'); "
            "print(json.dumps({'seconds': seconds, 'same': bool(same)}))")
    wrapper = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
               "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
               "sys.exit(code)")
    run = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-c", code, str(database), str(script),
                          EVENT_PATH_CHECK_SQL], capture_output=True, text=True, check=False)
    if run.returncode:
        sys.exit(f"event-path floor failed:\n{run.stderr[-3000:]}")
    payload = json.loads(run.stdout.strip().splitlines()[-1])
    peak = next(int(line.split()[1]) for line in run.stderr.splitlines() if line.startswith("PEAK_RSS_KB"))
    return Measure(payload["seconds"], peak / 1024, "same tables" if payload["same"] else "TABLES DIFFER")


def metricflow_mau_sql(target: Path, database: Path) -> str:
    """MetricFlow's SQL for a cumulative 30-day count-distinct of active users by day, from a copy
    of the semantic manifest with that metric added (a benchmark reference, never served)."""
    from product_metrics.semantic.engine import SemanticLayer

    manifest = json.loads((target / "semantic_manifest.json").read_text())
    measure = {"name": "pm_active_users", "filter": None, "alias": None, "join_to_timespine": False,
               "fill_nulls_with": None}
    manifest["metrics"].append({
        "name": "mau_cumulative_reference", "description": "Benchmark reference only: MetricFlow's cumulative MAU.",
        "type": "cumulative", "label": "MAU (MetricFlow cumulative, benchmark reference)", "filter": None,
        "metadata": None, "config": {"meta": {}}, "time_granularity": None,
        "type_params": {
            "measure": measure, "numerator": None, "denominator": None, "expr": None, "window": None,
            "grain_to_date": None, "metrics": [], "conversion_type_params": None, "input_measures": [measure],
            "cumulative_type_params": {"window": {"count": MAU_DAYS, "granularity": "day"}, "grain_to_date": None,
                                       "period_agg": "first"},
        },
    })
    path = target / "semantic_manifest_with_reference.json"
    path.write_text(json.dumps(manifest))
    with SemanticLayer.open(path, database) as layer:
        return layer.sql(["mau_cumulative_reference"], ["metric_time__day"])


MAU_REPEATS = 5  # sub-second queries: the median of several runs, not one noisy one
MAU_REPEAT_BUDGET_S = 30.0  # ...unless one run is slow (the range joins at 100M)


def run_mau_variant(database: Path, sql: str) -> None:
    """Child mode: time one MAU query on a fresh connection, repeated (MAU_REPEATS, within
    MAU_REPEAT_BUDGET_S); print JSON {seconds (median), runs, values}."""
    import statistics

    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    runs: list[float] = []
    while len(runs) < MAU_REPEATS and (not runs or sum(runs) + runs[-1] <= MAU_REPEAT_BUDGET_S):
        started = time.perf_counter()
        rows = con.execute(f"select * from ({sql}) as result").fetchall()
        runs.append(time.perf_counter() - started)
    print(json.dumps({"seconds": statistics.median(runs), "runs": len(runs),
                      "rows": [[str(r[0])[:10], int(r[1])] for r in rows]}))


def mau_contenders(target: Path, full_target: Path, database: Path) -> dict[str, str]:
    """The four MAU queries. Ours is the model's SQL as the full build compiled it: every date from
    all user-days (a refresh compiles it for its window only, being incremental)."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        schema = con.execute("select table_schema from information_schema.tables "
                             "where table_name = 'int_events_rolled_up_to_user_days'").fetchone()[0]
    user_days = f"{schema}.int_events_rolled_up_to_user_days"
    compiled = next(full_target.glob("compiled/product_metrics/models/marts/engagement/fct_stickiness_daily.sql"))
    return {
        "our model (fct_stickiness_daily)": f"select activity_date, mau from ({compiled.read_text()}) as model",
        "MetricFlow cumulative SQL": metricflow_mau_sql(target, database),
        "range join": RANGE_JOIN_SQL.format(user_days=user_days),
        "hand-written floor": FLOOR_SQL.format(user_days=user_days),
    }


def measure_mau(target: Path, full_target: Path, database: Path, result: SizeResult) -> None:
    values: dict[str, dict[str, int]] = {}
    for name, sql in mau_contenders(target, full_target, database).items():
        sql_file = target / f"mau_{len(values)}.sql"
        sql_file.write_text(sql)
        wrapper = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
                   "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
                   "sys.exit(code)")
        run = subprocess.run([sys.executable, "-c", wrapper, sys.executable, __file__, "--mau-child", str(sql_file),
                              "--database", str(database)], capture_output=True, text=True, check=False)
        if run.returncode:
            sys.exit(f"MAU variant {name} failed:\n{run.stderr[-3000:]}")
        payload = json.loads(run.stdout.strip().splitlines()[-1])
        peak = next(int(line.split()[1]) for line in run.stderr.splitlines() if line.startswith("PEAK_RSS_KB"))
        result.measures[f"MAU: {name}"] = Measure(payload["seconds"], peak / 1024, f"median of {payload['runs']}")
        values[name] = dict(payload["rows"])
    # Every contender must give our model's MAU on every date our model has (the others may add
    # dates after the last activity, where a window still holds users, or before the first).
    # The floor has a row per date where MAU changes only: it holds until the next one.
    ours = values["our model (fct_stickiness_daily)"]
    floor = values["hand-written floor"]
    held, last = {}, 0
    for day in sorted(set(floor) | set(ours)):
        last = floor.get(day, last)
        held[day] = last
    values["hand-written floor"] = held
    result.mau_agree = True
    for name, other in values.items():
        wrong = [(day, mau, other.get(day)) for day, mau in ours.items() if other.get(day) != mau]
        if wrong:
            result.mau_agree = False
            print(f"  MAU of {name} differs on {len(wrong)} dates, e.g. {wrong[:3]}")


def generate_without_last_day(label: str, users: int, workdir: Path) -> tuple[Path, Path, int]:
    """A fresh warehouse of demo data with its last day held back, and an empty target directory
    (a stale saved parse from an earlier run in another checkout would point dbt at its files)."""
    from product_metrics.demo_data import generate_demo_data

    database = workdir / f"events_{label}.duckdb"
    for stale in workdir.glob(f"events_{label}.duckdb*"):
        stale.unlink()
    print(f"[{label}] generating {users:,} users x {DAYS} days…", flush=True)
    data = generate_demo_data(database, users=users, days=DAYS)
    hold_back_last_day(database, str(data.end_date))
    target = workdir / f"target_{label}"
    shutil.rmtree(target, ignore_errors=True)
    return database, target, data.row_counts["events"]


def refresh_build(database: Path, target: Path, directory: str, *extra_args: str) -> Measure:
    """What `product-metrics refresh` runs: its vars, and its data tests on the refresh window only.
    Like a scheduled refresh, it starts from the previous run's saved parse (product_metrics.dbt
    carries it between runs); here the full build's, made with the same vars and profile. The time
    includes the refresh's look-up of its window."""
    options = RefreshOptions()
    started = time.perf_counter()
    env = dbt_env(options, test_window_start(database))
    window_seconds = time.perf_counter() - started
    (target / directory).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target / "full" / "partial_parse.msgpack", target / directory / "partial_parse.msgpack")
    build = dbt_build(database, target / directory, *dbt_args(options)[1:], *extra_args,
                      variables=dbt_vars(options), env=env)
    return Measure(build.seconds + window_seconds, build.peak_rss_mb, run_phase(target / directory))


def bench_size(label: str, users: int, workdir: Path) -> SizeResult:
    import duckdb

    result = SizeResult(label, users)
    database, target, result.events = generate_without_last_day(label, users, workdir)
    print(f"[{label}] full dbt build…", flush=True)
    result.measures["full dbt build"] = dbt_build(database, target / "full")
    event_path_dbt = sum(node_seconds(target / "full", EVENT_PATH_MODELS).values())
    result.measures["event path, dbt models in the full build"] = Measure(
        event_path_dbt, None, " + ".join(EVENT_PATH_MODELS))
    # The same models again, alone (in the full build they share the 2 cores with other
    # models): the whole `dbt run` process, start-up included, against the floor's script.
    print(f"[{label}] the event-path models alone…", flush=True)
    alone = target / "event_path"
    alone.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target / "full" / "partial_parse.msgpack", alone / "partial_parse.msgpack")
    result.measures["event path, dbt models alone"] = dbt_command(
        database, alone, "run", "--full-refresh", "--select", *EVENT_PATH_MODELS)
    print(f"[{label}] hand-written floor of the event path…", flush=True)
    result.measures["event path, hand-written floor"] = run_event_path_floor(database)
    load_last_day(database)
    print(f"[{label}] one-day incremental refresh…", flush=True)
    result.measures["one-day incremental refresh"] = refresh_build(database, target, "incremental")
    for name, directory in (("full dbt build", "full"), ("one-day incremental refresh", "incremental")):
        result.model_seconds[name] = sum(node_seconds(target / directory).values())
    result.measures["full dbt build"].detail = run_phase(target / "full")
    with duckdb.connect(str(database), read_only=True) as con:
        result.user_days = con.execute("select count(*) from intermediate.int_events_rolled_up_to_user_days"
                                       ).fetchone()[0]
    print(f"[{label}] publishing: the warehouse copied aside and swapped back in…", flush=True)
    result.measures[PUBLISHING] = measure_publishing(database)
    print(f"[{label}] rolling MAU, four ways…", flush=True)
    measure_mau(target / "incremental", target / "full", database, result)
    return result


PUBLISHING = "publishing (copy aside, checkpoint, atomic rename)"


def measure_publishing(database: Path) -> Measure:
    """Write-audit-publish's own cost, the same whatever dbt did in between: `product-metrics build`
    and `refresh` copy the warehouse file before dbt and rename the copy over it after the checks."""
    copy = WarehouseCopy(database)
    started = time.perf_counter()
    state, _ = copy.prepare()
    copy.publish(state)
    return Measure(time.perf_counter() - started, None, f"a {file_size_text(database)} warehouse file")


# dbt's own cost of a refresh, apart from any data: the same dbt processes on a warehouse so small
# (200 users, ~11k events) that their SQL is next to nothing. Set against a size's full build, it
# is the share of that build no SQL work, however cheap, can take off a `dbt build` refresh.
FIXED_COST_USERS = 200
NOTHING_SELECTED = ("--select", "tag:bench_selects_no_node")


def measure_fixed_cost(workdir: Path) -> SizeResult:
    label = "fixed"
    result = SizeResult(label, FIXED_COST_USERS)
    database, target, result.events = generate_without_last_day(label, FIXED_COST_USERS, workdir)
    print(f"[{label}] full dbt build, then dbt's fixed cost of a refresh…", flush=True)
    dbt_build(database, target / "full")
    load_last_day(database)
    result.measures["one-day incremental refresh"] = refresh_build(database, target, "incremental")
    result.measures["the same without its data tests"] = refresh_build(
        database, target, "no_tests", "--exclude-resource-type", "test")
    result.measures["dbt start-up and saved parse, no node selected"] = refresh_build(
        database, target, "nothing", *NOTHING_SELECTED)
    return result


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"{os.cpu_count()} CPUs ({cpu}), {memory_gb:.0f} GB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; load average at the end: {load}")


def report(results: list[SizeResult], fixed: SizeResult | None = None) -> str:
    lines = []
    for result in results:
        full = result.measures["full dbt build"].seconds
        floor = result.measures["MAU: hand-written floor"].seconds
        ours = result.measures["MAU: our model (fct_stickiness_daily)"].seconds
        lines += [(f"### {result.label} events ({result.events:,} events, {result.users:,} users, {DAYS} days, "
                  f"{result.user_days:,} user-days)"), "",
                  "| measured | seconds | peak RSS (MB) | ratio |", "|---|---:|---:|---|"]
        for name, measure in result.measures.items():
            if name == "one-day incremental refresh":
                models_share = result.model_seconds[name] / result.model_seconds["full dbt build"]
                ratio = (f"{measure.seconds / full:.1%} of the full build ({models_share:.1%} of its model time); "
                         f"{measure.detail}")
            elif name == "full dbt build":
                ratio = measure.detail
            elif name.startswith("event path, dbt models"):
                ratio = f"{measure.seconds / result.measures['event path, hand-written floor'].seconds:.2f}x the floor"
            elif name == "event path, hand-written floor":
                ratio = measure.detail
            elif name == PUBLISHING:
                refresh = result.measures["one-day incremental refresh"].seconds
                ratio = (f"{measure.detail}: {measure.seconds / refresh:.1%} of the refresh, {measure.seconds / full:.1%} "
                         f"of the full build; with it the refresh is {refresh + measure.seconds:.2f} s = "
                         f"{(refresh + measure.seconds) / (full + measure.seconds):.1%} of the full build with it")
            elif name.startswith("MAU: ") and name != "MAU: our model (fct_stickiness_daily)":
                ratio = f"{measure.seconds / ours:.1f}x our model's time ({measure.detail})"
            elif name == "MAU: our model (fct_stickiness_daily)":
                ratio = f"{ours / floor:.2f}x the floor ({measure.detail})"
            else:
                ratio = ""
            rss = f"{measure.peak_rss_mb:,.0f}" if measure.peak_rss_mb else ""
            lines.append(f"| {name} | {measure.seconds:.2f} | {rss} | {ratio} |")
        lines += ["", f"MAU values agree on every date: **{result.mau_agree}**", ""]
    if fixed is not None:
        lines += fixed_cost_report(fixed, results)
    return "\n".join(lines)


def fixed_cost_report(fixed: SizeResult, results: list[SizeResult]) -> list[str]:
    fulls = {result.label: result.measures["full dbt build"].seconds for result in results}
    lines = [f"### dbt's fixed cost of a refresh ({fixed.events:,} events, {fixed.users:,} users, {DAYS} days)", "",
             "| measured | seconds | peak RSS (MB) | share of the full build |", "|---|---:|---:|---|"]
    for name, measure in fixed.measures.items():
        shares = "; ".join(f"{measure.seconds / full:.1%} at {label}" for label, full in fulls.items())
        detail = f" ({measure.detail})" if measure.detail else ""
        lines.append(f"| {name}{detail} | {measure.seconds:.2f} | {measure.peak_rss_mb:,.0f} | {shares} |")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1M,10M", help="comma-separated, from 1M, 10M, 100M")
    parser.add_argument("--with-100m", action="store_true", help="also the 100M-event run (~30 min, a 6 GB warehouse, ~20 GB RAM)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench_refresh"))
    parser.add_argument("--no-fixed-cost", action="store_true",
                        help="skip measuring dbt's fixed cost of a refresh on a 200-user warehouse (~1.5 min)")
    parser.add_argument("--results", type=Path, help="also write the tables (Markdown) to this file")
    parser.add_argument("--mau-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mau_child:
        run_mau_variant(args.database, args.mau_child.read_text())
        return
    labels = [label.strip() for label in args.sizes.split(",") if label.strip()]
    if args.with_100m and "100M" not in labels:
        labels.append("100M")
    unknown = set(labels) - set(SIZES)
    if unknown:
        parser.error(f"unknown sizes {sorted(unknown)}: choose from {', '.join(SIZES)}")
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = [bench_size(label, SIZES[label], args.workdir) for label in labels]
    fixed = None if args.no_fixed_cost else measure_fixed_cost(args.workdir)
    text = report(results, fixed) + "\nMachine: " + machine() + "\n"
    print(text)
    if args.results:
        args.results.write_text(text)


if __name__ == "__main__":
    main()
