"""Experiment readouts at scale: 10 experiments x 5 metrics over 10M events, against one pass over the events.

    .venv/bin/python bench/bench_experiments.py [--users 200000] [--workdir /tmp/bench_experiments] [--results FILE]

Generates the demo data (200k users x 365 days = ~10M events), replaces its experiment exposures with
10 experiments, each exposing the users active in its own 28 days (a user's first active moment there,
50/50 by a hash), each measuring 5 metrics that read all three event-like inputs (pm_core_actions and
pm_events from events, pm_retention_rate from activity, pm_revenue_usd from orders,
pm_ai_acceptance_rate from AI suggestions; CUPED on). Then:
- builds the demo project once (`dbt build`, everything), and reads from its run_results the execution
  time of the experiment models (the per-unit windows and values, the per-arm sufficient statistics and
  the marts);
- times the same experiment models alone (`dbt run --select`, a fresh process, all upstream built);
- times a single pass over the events the experiment models read (a group-by of every event by user:
  count, distinct days, sum), in a fresh DuckDB process, the median of 3: the floor any per-user
  measure must pay;
- times the Python readout (read the marts, compute every comparison, the daily view and the
  decisions, write the two result tables).
Prints a table; `--results FILE` also writes it as Markdown.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_refresh import DAYS, Measure, dbt_command, machine

EXPERIMENTS = 10
METRICS = ["pm_core_actions", "pm_events", "pm_retention_rate", "pm_revenue_usd", "pm_ai_acceptance_rate"]
EXPERIMENT_DAYS = 28
EXPERIMENT_MODELS = (
    "int_experiments", "int_experiment_variations", "int_experiment_metrics", "int_experiment_unmeasured_guardrails",
    "int_experiment_units", "int_experiment_unit_windows", "int_experiment_unit_values",
    "fct_experiments", "fct_experiment_variations", "fct_experiment_statistics",
)

# One pass over the events the experiment models read: every event of every user, grouped by user.
SINGLE_PASS_SQL = """
create or replace temp table single_pass as
select user_id, count(*) as events, count(distinct event_date) as active_days, sum(length(event_name)) as name_chars
from {events}
group by user_id
"""


def node_seconds(target: Path, models: tuple[str, ...]) -> dict[str, float]:
    """Execution time of each named model of a dbt run. A versioned model's unique_id ends in its
    version (model.product_metrics.fct_experiments.v1): the name is the third part."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2]: float(r["execution_time"]) for r in results
            if r["unique_id"].startswith("model.") and r["unique_id"].split(".")[2] in models}


def experiment_definitions(end_date: dt.date) -> list[dict]:
    """10 experiments of 28 days each, the last ending 30 days before the data ends (windows complete)."""
    last_end = end_date - dt.timedelta(days=30)
    definitions = []
    for number in range(EXPERIMENTS):
        end = last_end - dt.timedelta(days=20 * (EXPERIMENTS - 1 - number))
        start = end - dt.timedelta(days=EXPERIMENT_DAYS - 1)
        definitions.append({
            "id": f"bench_{number + 1:02d}",
            "hypothesis": "A benchmark experiment.",
            "owner": {"name": "Bench", "email": "bench@example.com"},
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "variations": [{"name": "control", "weight": 0.5}, {"name": "treatment", "weight": 0.5}],
            "goal_metrics": METRICS[:2],
            "guardrail_metrics": METRICS[2:],
        })
    return definitions


def write_exposures(database: Path, definitions: list[dict]) -> int:
    """raw.experiment_exposures: per experiment, each user active in its dates, at their first event there."""
    import duckdb

    selects = [
        f"""select '{d["id"]}' as experiment_id, user_id, min(occurred_at) as exposed_at
        from raw.events
        where occurred_at >= timestamp '{d["start_date"]}' and occurred_at < timestamp '{d["end_date"]}' + interval 1 day
        group by user_id"""
        for d in definitions
    ]
    with duckdb.connect(str(database)) as con:
        con.execute(f"""
            create or replace table raw.experiment_exposures as
            select
                experiment_id || '-' || cast(user_id as varchar) as exposure_id,
                experiment_id,
                case when hash(experiment_id || cast(user_id as varchar)) % 2 = 0 then 'control' else 'treatment' end
                    as variation,
                user_id,
                exposed_at
            from ({' union all '.join(selects)})
        """)
        return con.execute("select count(*) from raw.experiment_exposures").fetchone()[0]


def single_pass(database: Path, events_relation: str) -> Measure:
    """The single pass over the events in a fresh process each time, the median of 3."""
    code = ("import duckdb, sys, time; con = duckdb.connect(sys.argv[1], read_only=True); started = time.perf_counter(); "
            "con.execute(sys.argv[2]); print(time.perf_counter() - started)")
    seconds = []
    for _ in range(3):
        run = subprocess.run([sys.executable, "-c", code, str(database), SINGLE_PASS_SQL.format(events=events_relation)],
                             capture_output=True, text=True, check=True)
        seconds.append(float(run.stdout.strip()))
    return Measure(statistics.median(seconds), 0.0)


def readout_seconds(database: Path, target: Path) -> tuple[float, int, int]:
    """The Python readout on the built warehouse (the stage of build and refresh): read the marts,
    compare, decide, write the two tables; its rows of results and daily."""
    from product_metrics.experiments.commands import compute_readouts, write_readouts
    from product_metrics.relations import Relations
    from product_metrics.warehouse import Warehouse

    relations = Relations.load(target)
    started = time.perf_counter()
    with Warehouse.open(database, None) as warehouse:
        readouts = compute_readouts(warehouse, relations)
        _, results, daily = write_readouts(warehouse, relations, readouts)
    return time.perf_counter() - started, results, daily


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench_experiments"))
    parser.add_argument("--results", type=Path)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    database = args.workdir / "warehouse.duckdb"
    database.unlink(missing_ok=True)

    import duckdb

    from product_metrics.demo_data import generate_demo_data

    data = generate_demo_data(database, users=args.users, days=DAYS)
    definitions = experiment_definitions(data.end_date)
    exposures = write_exposures(database, definitions)
    variables = {"product_metrics__experiments": definitions}

    full = dbt_command(database, args.workdir / "full", "build", variables=variables)
    in_build = node_seconds(args.workdir / "full", EXPERIMENT_MODELS)
    alone = dbt_command(database, args.workdir / "alone", "run", "--select", " ".join(EXPERIMENT_MODELS),
                        variables=variables)
    alone_nodes = node_seconds(args.workdir / "alone", EXPERIMENT_MODELS)
    with duckdb.connect(str(database), read_only=True) as con:
        events = con.execute("select count(*) from raw.events").fetchone()[0]
        units = con.execute("select count(*) from intermediate.int_experiment_units").fetchone()[0]
        statistics_rows = con.execute("select count(*) from metrics.fct_experiment_statistics").fetchone()[0]
        events_relation = "intermediate.int_events_before_cutoff"
    floor = single_pass(database, events_relation)
    readout, result_rows, daily_rows = readout_seconds(database, args.workdir / "full")

    sql_seconds = sum(in_build.values())
    alone_seconds = sum(alone_nodes.values())
    lines = [
        f"## {EXPERIMENTS} experiments x {len(METRICS)} metrics over {events:,} events",
        "",
        (f"{machine()}. {args.users:,} users x {DAYS} days; {exposures:,} exposure rows, {units:,} experiment units, "
        f"{statistics_rows:,} rows of per-arm statistics, {result_rows:,} result rows, {daily_rows:,} daily rows."),
        "",
        "| measured | seconds | peak RSS (MB) | ratio |",
        "|---|---:|---:|---|",
        f"| full dbt build (everything) | {full.seconds:.2f} | {full.peak_rss_mb:,.0f} | |",
        (f"| experiment models in the full build (sum of execution times) | {sql_seconds:.2f} | | "
        f"{sql_seconds / floor.seconds:.1f}x the single pass; {100 * sql_seconds / full.seconds:.1f} % of the build |"),
        (f"| experiment models alone (`dbt run --select`, models only) | {alone_seconds:.2f} | | "
        f"{alone_seconds / floor.seconds:.1f}x the single pass |"),
        f"| experiment models alone (`dbt run --select`, whole process) | {alone.seconds:.2f} | {alone.peak_rss_mb:,.0f} | |",
        f"| single pass over the events (group by user) | {floor.seconds:.2f} | | the floor |",
        f"| Python readout (read, compare, decide, write) | {readout:.2f} | | |",
        "",
        "Per model in the full build: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in sorted(
            in_build.items(), key=lambda item: -item[1])),
    ]
    text = "\n".join(lines)
    print(text)
    if args.results:
        args.results.write_text(text + "\n")
    print(json.dumps({"models": in_build}), file=sys.stderr)


if __name__ == "__main__":
    main()
