"""Change drivers at scale: the segment cells in a full build and the explanations over 10M events.

    .venv/bin/python bench/bench_drivers.py [--users 200000] [--workdir /tmp/bench_drivers] [--results FILE] [--reuse]

Generates the demo data (200k users x 365 days = ~10M events), builds the demo project once (`dbt build`,
everything) and reads from its run_results the execution time of:
- the segment-cell models: the intermediate *_rolled_up_to_segment_cells models (every headline metric's
  inputs per week and month in every cell of country x platform x acquisition channel x signup cohort)
  and fct_metric_segment_cells;
- the baseline, the existing long table: fct_metric_values and its *_rolled_up_to_segment_days inputs;
- int_users_segmented, which both read (counted in neither);
- the data and unit tests that read each group (a test reading both counts for the cells);
as sums of execution times and shares of the build's node time (dbt's threads overlap nodes, so the
wall time is no denominator for them).
Then, on the built warehouse, the Python side, each the median of 3 in this process:
- driver_rows: every metric's latest complete week and month against the one before, cut by all four
  dimensions two deep (what the `drivers` stage of build and refresh computes, without writing);
- one explain call: pm_weekly_active_users, its latest complete week against the week before, by all
  four dimensions.
`--reuse` keeps the warehouse and the build of a previous run in --workdir (its build.json) and measures
the rest again. Prints a table; `--results FILE` also writes it as Markdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_refresh import DAYS, REPO, Measure, dbt_command, machine

SEGMENTS = REPO / "models/intermediate/segments"
CELL_MODELS = (*sorted(path.stem for path in SEGMENTS.glob("*_rolled_up_to_segment_cells.sql")),
               "fct_metric_segment_cells")
BASELINE_MODELS = (*sorted(path.stem for path in SEGMENTS.glob("*_rolled_up_to_segment_days.sql")), "fct_metric_values")
SHARED_MODELS = ("int_users_segmented",)
EXPLAINED_METRIC = "pm_weekly_active_users"
REPEATS = 3


def build(args: argparse.Namespace, database: Path) -> tuple[Measure, int]:
    """Generate the data and run the full build; its wall time and peak RSS kept in build.json."""
    from product_metrics.demo_data import generate_demo_data

    saved = args.workdir / "build.json"
    if args.reuse and saved.exists() and database.exists():
        payload = json.loads(saved.read_text())
        return Measure(payload["seconds"], payload["peak_rss_mb"]), payload["users"]
    database.unlink(missing_ok=True)
    generate_demo_data(database, users=args.users, days=DAYS)
    full = dbt_command(database, args.workdir / "full", "build")
    saved.write_text(json.dumps({"seconds": full.seconds, "peak_rss_mb": full.peak_rss_mb, "users": args.users}))
    return full, args.users


def node_seconds(target: Path) -> dict[str, float]:
    """Execution time of every model of a dbt run by name. A versioned model's unique_id ends in its
    version (model.product_metrics.fct_metric_values.v1): the name is the third part."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2]: float(r["execution_time"]) for r in results
            if r["unique_id"].startswith("model.")}


def test_seconds(target: Path, models: tuple[str, ...], excluded: tuple[str, ...] = ()) -> tuple[float, int]:
    """Execution time and count of the data and unit tests of a dbt run that read any of `models` (and
    none of `excluded`: a test reconciling the cells with the long table counts for the cells)."""
    manifest = json.loads((target / "manifest.json").read_text())
    tests = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    results = json.loads((target / "run_results.json").read_text())["results"]
    seconds, count = 0.0, 0
    for result in results:
        test = tests.get(result["unique_id"])
        if test is None or test["resource_type"] not in {"test", "unit_test"}:
            continue
        read = {node.split(".")[2] for node in test["depends_on"]["nodes"] if node.startswith("model.")}
        if read & set(models) and not read & set(excluded):
            seconds, count = seconds + float(result["execution_time"]), count + 1
    return seconds, count


def median_seconds(work: Callable[[], object]) -> tuple[float, object]:
    """The median of REPEATS runs and the last run's result."""
    runs, result = [], None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = work()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), result


def python_side(database: Path, target: Path) -> dict[str, object]:
    from product_metrics.drivers.explain import explain
    from product_metrics.drivers.tables import driver_rows, latest_comparisons
    from product_metrics.governance.registry import load_registry
    from product_metrics.warehouse import Warehouse

    registry = load_registry(target)
    with Warehouse.open(database, None, read_only=True) as warehouse:
        comparisons = latest_comparisons(warehouse, registry)
        weekly = next(c for c in comparisons if c.metric == EXPLAINED_METRIC and c.after.grain == "week")
        rows_seconds, (rows, notes) = median_seconds(lambda: driver_rows(warehouse, registry))
        explain_seconds, explanation = median_seconds(
            lambda: explain(warehouse, registry, EXPLAINED_METRIC, weekly.before, weekly.after))
    return {"driver_rows": rows_seconds, "rows": len(rows), "notes": notes, "comparisons": len(comparisons),
            "explain": explain_seconds, "explain_rows": len(explanation.rows()),
            "explained": f"{weekly.before.label} vs {weekly.after.label}", "headline": explanation.headline()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench_drivers"))
    parser.add_argument("--results", type=Path)
    parser.add_argument("--reuse", action="store_true", help="keep the warehouse and build of a previous run")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    database = args.workdir / "warehouse.duckdb"

    import duckdb

    full, users = build(args, database)
    target = args.workdir / "full"
    models = node_seconds(target)
    cells = {name: models[name] for name in CELL_MODELS}
    baseline = {name: models[name] for name in BASELINE_MODELS}
    shared = {name: models[name] for name in SHARED_MODELS}
    run_results = json.loads((target / "run_results.json").read_text())
    # dbt's threads run nodes side by side: shares are of the summed node time, not of the wall time.
    threads = len({r["thread_id"] for r in run_results["results"] if r["thread_id"].startswith("Thread-")})
    node_time = sum(float(r["execution_time"]) for r in run_results["results"])
    model_time = sum(models.values())
    cell_tests = test_seconds(target, CELL_MODELS)
    baseline_tests = test_seconds(target, BASELINE_MODELS, excluded=CELL_MODELS)
    with duckdb.connect(str(database), read_only=True) as con:
        events = con.execute("select count(*) from raw.events").fetchone()[0]
        cell_rows = con.execute("select count(*) from metrics.fct_metric_segment_cells").fetchone()[0]
        value_rows = con.execute("select count(*) from metrics.fct_metric_values").fetchone()[0]
    python = python_side(database, target)

    cells_seconds, baseline_seconds = sum(cells.values()), sum(baseline.values())
    lines = [
        f"## Change drivers: segment cells and explanations over {events:,} events",
        "",
        (f"{machine()}. {users:,} users x {DAYS} days; fct_metric_segment_cells {cell_rows:,} rows, "
         f"fct_metric_values {value_rows:,} rows; driver_rows: {python['comparisons']} comparisons, "
         f"{python['rows']:,} rows ({len(python['notes'])} not explained); explain {EXPLAINED_METRIC} "
         f"{python['explained']}: {python['explain_rows']:,} rows."),
        "",
        "| measured | seconds | ratio |",
        "|---|---:|---|",
        (f"| full dbt build (everything, whole process; peak RSS {full.peak_rss_mb:,.0f} MB) | {full.seconds:.2f} | "
         f"run phase {run_results['elapsed_time']:.1f} s, {len(run_results['results'])} nodes |"),
        f"| node time of the build (sum of every node's execution time, {threads} threads) | {node_time:.2f} | |",
        f"| model time of the build (sum over its {len(models)} models) | {model_time:.2f} | |",
        (f"| segment-cell models (sum) | {cells_seconds:.2f} | {cells_seconds / baseline_seconds:.2f}x the baseline; "
         f"{100 * cells_seconds / node_time:.1f} % of node time, {100 * cells_seconds / model_time:.1f} % of model time |"),
        (f"| baseline: fct_metric_values + its segment-day inputs (sum) | {baseline_seconds:.2f} | "
         f"{100 * baseline_seconds / node_time:.1f} % of node time, {100 * baseline_seconds / model_time:.1f} % of model time |"),
        (f"| data and unit tests on the segment-cell models ({cell_tests[1]}) | {cell_tests[0]:.2f} | "
         f"{cell_tests[0] / baseline_tests[0]:.2f}x the baseline's; {100 * cell_tests[0] / node_time:.1f} % of node time |"),
        (f"| data and unit tests on the baseline ({baseline_tests[1]}) | {baseline_tests[0]:.2f} | "
         f"{100 * baseline_tests[0] / node_time:.1f} % of node time |"),
        f"| int_users_segmented (read by both, in neither) | {sum(shared.values()):.2f} | |",
        (f"| Python: driver_rows (every metric's latest week and month, 4 dimensions 2 deep), median of {REPEATS} "
         f"| {python['driver_rows']:.2f} | {python['driver_rows'] / cells_seconds:.2f}x the cell models |"),
        (f"| Python: one explain ({EXPLAINED_METRIC}, week vs week, 4 dimensions), median of {REPEATS} "
         f"| {python['explain']:.2f} | |"),
        "",
        "Per model in the full build: " + ", ".join(
            f"{name} {seconds:.2f} s" for name, seconds in sorted({**cells, **baseline}.items(), key=lambda i: -i[1])),
    ]
    text = "\n".join(lines)
    print(text)
    if args.results:
        args.results.write_text(text + "\n")
    print(json.dumps({"models": {**cells, **baseline, **shared}, "notes": python["notes"],
                      "headline": python["headline"]}), file=sys.stderr)


if __name__ == "__main__":
    main()
