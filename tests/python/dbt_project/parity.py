"""Comparing a warehouse's tables with DuckDB's, shared by the PostgreSQL and Spark parity tests:
rows in one canonical order, doubles equal to 1e-9, timestamps in UTC."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path

import duckdb

TOLERANCE = 1e-9
Table = tuple[list[str], list[tuple]]  # column names, sorted rows


def normalise(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def sort_key(row):
    return tuple((value is None, str(type(value)), value if value is not None else 0) for value in row)


def same(left, right) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is right
        return math.isclose(left, right, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return left == right


def sorted_table(columns: Sequence[str], rows: Iterable[Sequence]) -> Table:
    return list(columns), sorted((tuple(map(normalise, row)) for row in rows), key=sort_key)


def duckdb_rows(con: duckdb.DuckDBPyConnection, sql: str) -> Table:
    # Timestamps print and compare in UTC whatever the host's zone.
    con.execute("set TimeZone = 'UTC'")
    cursor = con.execute(sql)
    return sorted_table([d[0] for d in cursor.description], cursor.fetchall())


def duckdb_table(path: Path, schema: str, table: str) -> Table:
    with duckdb.connect(str(path), read_only=True) as con:
        return duckdb_rows(con, f'select * from "{schema}"."{table}"')


def metric_tables(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'metrics' "
            "and table_type = 'BASE TABLE' order by 1").fetchall()]


def metric_table_differences(duckdb_path: Path, tables: list[str], read_other: Callable[[str], Table],
                             other: str) -> list[str]:
    """Each metric table read from DuckDB and from the other engine: what differs (the first
    differing row of a table), and a table that is empty on DuckDB (a vacuous comparison)."""
    differences = []
    for table in tables:
        duck_columns, duck_rows = duckdb_table(duckdb_path, "metrics", table)
        other_columns, other_rows = read_other(table)
        if not duck_rows:
            differences.append(f"{table} is empty on DuckDB")
        if duck_columns != other_columns:
            differences.append(f"{table}: columns {duck_columns} (DuckDB) vs {other_columns} ({other})")
        elif len(duck_rows) != len(other_rows):
            differences.append(f"{table}: {len(duck_rows)} rows (DuckDB) vs {len(other_rows)} ({other})")
        else:
            for duck_row, other_row in zip(duck_rows, other_rows):
                if not all(same(a, b) for a, b in zip(duck_row, other_row)):
                    differences.append(f"{table}: {duck_row} (DuckDB) vs {other_row} ({other})")
                    break
    return differences


# Text that DuckDB's try_cast reads one way or another: the probes both engines' try_cast is compared on.
CAST_PROBES = [
    # numbers
    "1", "+1", "-1", "1.5", ".5", "5.", "+.5", "-.5e2", "1e3", "1E-2", "1_000", ".5_5", "7.5", "2.5", "-2.5",
    "1.23456789", "1,5", "NaN", "inf", "Infinity", "abc", "--1", "1.2.3", "1e", "e3", "0x10", "1e30",
    "12345678901234567890123",
    # booleans
    "true", "false", "t", "f", "0", "yes", "no", "y", "n", "TRUE", "True", "on", "off", "tr", "maybe", "2",
    # dates and timestamps
    "2026-01-06", "2026-1-6", "2026-01-06 10:00:00", "2026-01-06T10:00:00Z", "2026-01-06 10:00:00.123456",
    "2026-01-06 10:00", "2026-01-06 01:00:00-05:00", "2026-01-06 01:00:00-05", "2026-01-06 01:00:00+0530",
    "2026-01-06 24:00:00", "2026-02-30", "2024-02-29", "2024-13-45", "not-a-date", "01/06/2026", "20260106",
    "2026-01-06x", "2026-01-06 25:00:00", "now", "today", "2026-01-06 BC", "infinity", "epoch",
]
