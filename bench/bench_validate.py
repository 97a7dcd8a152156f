"""How fast the data-quality gate is: validating every metric table of a 10M-event
warehouse under 15 s once Great Expectations is imported, and `product-metrics --help` under 1 s.

    .venv/bin/python bench/bench_validate.py --database /tmp/gx/big.duckdb [--generate]

--generate builds that warehouse first, exactly as the issue says:
`product-metrics demo-data --users 200000 --database DB`, then
`dbt build` on it.
The warehouse is copied to a scratch file first: the run writes dq_results.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VALIDATE_TARGET_S = 15.0
HELP_TARGET_S = 1.0
REPO = Path(__file__).resolve().parents[1]


def generate(database: Path, users: int) -> None:
    from product_metrics.dbt import run_dbt
    from product_metrics.project import Project

    subprocess.run([str(Path(sys.executable).with_name("product-metrics")), "demo-data", "--users", str(users),
                    "--database", str(database)], check=True)
    run = run_dbt(Project(root=REPO / "integration_tests", duckdb_path=database), ["build"])
    if not run.success:
        sys.exit(f"dbt build failed: {[n.unique_id for n in run.failed_nodes()]}")


def help_seconds(repeat: int = 3) -> float:
    script = Path(sys.executable).with_name("product-metrics")
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([str(script), "--help"], check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", type=Path, default=Path("/tmp/gx/big.duckdb"))
    parser.add_argument("--generate", action="store_true", help="generate and build the warehouse first")
    parser.add_argument("--users", type=int, default=200_000)
    args = parser.parse_args()
    if args.generate:
        generate(args.database, args.users)
    if not args.database.is_file():
        sys.exit(f"No warehouse at {args.database}: run with --generate.")

    import duckdb

    with duckdb.connect(str(args.database), read_only=True) as connection:
        events = connection.execute("select count(*) from raw.events").fetchone()[0]
        metric_rows = sum(connection.execute(f"select count(*) from metrics.{t}").fetchone()[0] for (t,) in
                          connection.execute("select table_name from information_schema.tables "
                                             "where table_schema = 'metrics'").fetchall())

    from product_metrics.quality.settings import QualitySettings
    from product_metrics.quality.validate import _gx, validate_warehouse
    from product_metrics.quality.warehouse import DuckDBWarehouse

    started = time.perf_counter()
    _gx()
    import_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory) / "bench.duckdb"
        shutil.copyfile(args.database, scratch)
        warehouse = DuckDBWarehouse(scratch)
        metrics_only = QualitySettings(include_layers=("metrics",))
        started, cpu_started = time.perf_counter(), time.process_time()
        report = validate_warehouse(warehouse, metrics_only, store=False)
        metrics_s, metrics_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
        started = time.perf_counter()
        full = validate_warehouse(warehouse, QualitySettings(), docs_dir=Path(directory) / "docs", store=True)
        full_s = time.perf_counter() - started
    help_s = help_seconds()

    print(f"warehouse: {args.database} ({events:,} raw events; {metric_rows:,} rows in the metric tables)")
    print(f"great_expectations import: {import_s:.1f} s (not counted)")
    print(f"validate all metric tables: {metrics_s:.1f} s ({metrics_cpu_s:.1f} s CPU), {len(report.results)} checks on "
          f"{len(report.tables)} tables ({len(report.critical_failures)} critical failures, "
          f"{len(report.warnings)} warnings); {len(report.results) / metrics_s:.0f} checks/s")
    print(f"  vs target {VALIDATE_TARGET_S:.0f} s: {metrics_s / VALIDATE_TARGET_S:.2f}x of the budget")
    print(f"full gate (metrics + staging + raw, dq_results, Data Docs): {full_s:.1f} s, "
          f"{len(full.results)} checks on {len(full.tables)} tables (for information)")
    print(f"product-metrics --help: {help_s:.2f} s (median of 3)")
    print(f"  vs target {HELP_TARGET_S:.0f} s: {help_s / HELP_TARGET_S:.2f}x of the budget")


if __name__ == "__main__":
    main()
