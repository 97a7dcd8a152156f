"""How fast the demo generator writes raw data (10M events well under a minute).

    .venv/bin/python bench/bench_demo_data.py [--users 200000] [--dirty]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from product_metrics.demo_data import generate_demo_data

TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200_000)
    parser.add_argument("--dirty", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        result = generate_demo_data(Path(directory) / "bench.duckdb", users=args.users, dirty=args.dirty)
        seconds = time.perf_counter() - started
    events = result.row_counts["events"]
    print(f"users: {args.users:,}  dirty: {args.dirty}")
    print(f"events written: {events:,}  all raw rows: {sum(result.row_counts.values()):,}")
    print(f"time: {seconds:.1f} s  ({events / seconds / 1e6:.2f} M events/s)")
    print(f"vs target {TARGET_SECONDS:.0f} s: {seconds / TARGET_SECONDS:.2f}x of the budget")


if __name__ == "__main__":
    main()
