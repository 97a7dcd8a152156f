"""Scheduled refresh on random data: several daily refreshes in a row, each bringing its
day plus what real loads bring at random — rows arriving late (within the lookback), duplicates of
old and new rows, and rows that must be rejected — end with exactly the tables of a full rebuild.

The seed is random on every run (the raw data and the arrivals both follow it) and printed on
failure; PRODUCT_METRICS_TEST_SEED=<seed> replays a run.
"""

from __future__ import annotations

import datetime as dt
import os
import random

import duckdb
import numpy as np
import pytest

from .conftest import DEMO_SIZE
from .test_refresh import INCREMENTAL_SOURCES, NEWEST_DAY, _day, _dbt, _refresh, assert_same_tables, snapshot

LOOKBACK_DAYS = 3  # the project default of product_metrics__late_arrival_days
REFRESHES = 4  # the last four days arrive one refresh at a time
FIRST_NEW_DAY = NEWEST_DAY - dt.timedelta(days=REFRESHES - 1)
KEYS = {"events": "event_id", "orders": "order_id", "ai_suggestions": "suggestion_id"}


@pytest.fixture
def seed() -> int:
    return int(os.environ.get("PRODUCT_METRICS_TEST_SEED") or random.SystemRandom().randrange(2**31))


def _arrival_step(con, table: str, rng: np.random.Generator) -> None:
    """Give every withheld raw row the refresh (0..REFRESHES-1) that loads it. A row of day
    FIRST_NEW_DAY + k arrives at refresh k; a late row may come up to LOOKBACK_DAYS days after the
    newest day already built (the window the refresh re-derives), never later."""
    timestamp = INCREMENTAL_SOURCES[table]
    con.execute(f"alter table incoming.{table} add column arrives integer")
    con.execute(f"alter table incoming.{table} add column row_index bigint")
    con.execute(f"update incoming.{table} set row_index = rowid")
    offsets = con.execute(f"select row_index, date_diff('day', date '{FIRST_NEW_DAY}', {_day(timestamp)}) "
                          f"from incoming.{table} order by row_index").fetchall()
    steps = []
    for row_index, offset in offsets:
        if offset is None or offset >= 0:  # an undated (rejected) row arrives at any refresh
            latest = REFRESHES - 1
            steps.append((row_index, int(rng.integers(0, latest + 1)) if offset is None else offset))
            continue
        # Built up to FIRST_NEW_DAY + step - 1 before refresh `step`: the row is in its window while
        # offset >= step - 1 - LOOKBACK_DAYS. One day less, for text timestamps with a UTC offset.
        latest = min(REFRESHES - 1, offset + LOOKBACK_DAYS)
        steps.append((row_index, int(rng.integers(0, latest + 1))))
    con.executemany(f"update incoming.{table} set arrives = ? where row_index = ?", [(s, i) for i, s in steps])


def _prepare(path, rng: np.random.Generator) -> None:
    """Withhold the last days and a random share of the lookback days; add random bad rows."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema incoming")
        late_from = FIRST_NEW_DAY - dt.timedelta(days=LOOKBACK_DAYS)
        for table, timestamp in INCREMENTAL_SOURCES.items():
            key = KEYS[table]
            share = float(rng.uniform(0.05, 0.4))
            salt = int(rng.integers(1, 1_000_000))
            late = (f"({_day(timestamp)} >= '{late_from}' and {_day(timestamp)} < '{FIRST_NEW_DAY}' "
                    f"and hash({key} || '{salt}') % 1000 < {int(share * 1000)})")
            con.execute(f"create table incoming.{table} as select * from raw.{table} "
                        f"where {_day(timestamp)} >= '{FIRST_NEW_DAY}' or {late}")
            con.execute(f"delete from raw.{table} where {_day(timestamp)} >= '{FIRST_NEW_DAY}' or {late}")
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ? "
                "order by ordinal_position", [table]).fetchall()]
            others = ", ".join(c for c in columns if c not in (key, timestamp))
            # Duplicates, each later than its original (an earlier copy of a row already built
            # changes history: --full-refresh): copies of random built rows of any age, dated in the
            # new days, and copies of random new rows a few hours after them.
            hour = int(rng.integers(0, REFRESHES * 24))
            con.execute(f"""
                insert into incoming.{table} ({key}, {timestamp}, {others})
                select {key}, cast(timestamp '{FIRST_NEW_DAY}' + interval {hour} hour as varchar), {others}
                from raw.{table}
                where {key} is not null
                order by hash({key} || '{salt}') limit {int(rng.integers(1, 6))}""")
            con.execute(f"""
                insert into incoming.{table} ({key}, {timestamp}, {others})
                select {key}, cast(try_cast({timestamp} as timestamp) + interval {int(rng.integers(1, 6))} hour
                    as varchar), {others}
                from incoming.{table}
                where try_cast({timestamp} as timestamp) < timestamp '{NEWEST_DAY}' and {key} is not null
                order by hash({key} || '{salt}') limit {int(rng.integers(1, 6))}""")
            # Rows to reject: a missing key, an unreadable timestamp, an unknown user.
            con.execute(f"""
                insert into incoming.{table} ({key}, {timestamp}, {others})
                select null, {timestamp}, {others} from incoming.{table} order by hash({key} || '{salt}') limit 1""")
            con.execute(f"""
                insert into incoming.{table} ({key}, {timestamp}, {others})
                select {key} || '-bad-time', 'yesterday-ish', {others}
                from incoming.{table} where {key} is not null order by hash({key} || '{salt}') limit 2""")
            con.execute(f"""
                insert into incoming.{table} ({key}, {timestamp}, {others})
                select {key} || '-stranger', {timestamp}, {others}
                from incoming.{table} where {key} is not null order by hash({key} || '{salt}') desc limit 2""")
            con.execute(f"update incoming.{table} set user_id = 'no-such-user' where {key} like '%-stranger'")
            _arrival_step(con, table, rng)


def _load(path, step: int) -> None:
    with duckdb.connect(str(path)) as con:
        for table in INCREMENTAL_SOURCES:
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ? "
                "order by ordinal_position", [table]).fetchall()]
            names = ", ".join(columns)
            con.execute(f"insert into raw.{table} ({names}) select {names} from incoming.{table} where arrives = {step}")


def test_daily_refreshes_with_random_arrivals_equal_full_rebuild(seed, tmp_path):
    from product_metrics.demo_data import generate_demo_data

    rng = np.random.default_rng(seed)
    replay = f"replay with PRODUCT_METRICS_TEST_SEED={seed}"
    path = tmp_path / "warehouse.duckdb"
    generate_demo_data(path, dirty=True, **{**DEMO_SIZE, "seed": seed % 100_000})
    _prepare(path, rng)
    _dbt(path)  # yesterday's warehouse
    for step in range(REFRESHES):
        _load(path, step)
        assert _refresh(path) == 0, f"refresh {step} failed; {replay}"
    with duckdb.connect(str(path)) as con:
        for table in INCREMENTAL_SOURCES:  # every withheld row was loaded
            assert con.execute(f"select count(*) from incoming.{table} where arrives is null").fetchone()[0] == 0
        con.execute("drop schema incoming cascade")
    refreshed = snapshot(path)

    _dbt(path, "--full-refresh")
    try:
        assert_same_tables(refreshed, snapshot(path))
    except AssertionError as error:
        raise AssertionError(f"{error}; {replay}") from None
