"""Tests for the deterministic demo-data generator (product_metrics.demo_data).

The dirty-mode tests carry a small, independent re-implementation of the staging rejection rules
(``_classify``) so that every planted row is checked to be rejected with exactly the recorded
(first applicable) reason, and every other row to be accepted and equal to the clean data.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from product_metrics import demo_data
from product_metrics.demo_data import (
    DEMO_EXPERIMENTS,
    DEMO_INCIDENT,
    DemoDataResult,
    PlantedRejection,
    demo_incident,
    generate_demo_data,
)

SIZE = {"users": 1500, "days": 120, "seed": 7, "end_date": dt.date(2026, 6, 30)}
TABLES = (
    "users",
    "events",
    "orders",
    "marketing_spend",
    "nps_responses",
    "invites",
    "ai_suggestions",
    "model_predictions",
    "experiment_exposures",
)
EXPECTED_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "users": [
        ("user_id", "BIGINT"),
        ("signed_up_at", "TIMESTAMP"),
        ("acquisition_channel", "VARCHAR"),
        ("country", "VARCHAR"),
        ("platform", "VARCHAR"),
    ],
    "events": [
        ("event_id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("occurred_at", "TIMESTAMP"),
        ("event_name", "VARCHAR"),
    ],
    "orders": [
        ("order_id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("ordered_at", "TIMESTAMP"),
        ("amount_usd", "DOUBLE"),
    ],
    "marketing_spend": [
        ("spend_date", "DATE"),
        ("channel", "VARCHAR"),
        ("campaign", "VARCHAR"),
        ("spend_usd", "DOUBLE"),
    ],
    "nps_responses": [
        ("response_id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("responded_at", "TIMESTAMP"),
        ("score", "INTEGER"),
    ],
    "invites": [
        ("invite_id", "BIGINT"),
        ("inviter_user_id", "BIGINT"),
        ("invitee_user_id", "BIGINT"),
        ("sent_at", "TIMESTAMP"),
    ],
    "ai_suggestions": [
        ("suggestion_id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("created_at", "TIMESTAMP"),
        ("model_version", "VARCHAR"),
        ("feature", "VARCHAR"),
        ("latency_ms", "INTEGER"),
        ("cost_usd", "DOUBLE"),
        ("outcome", "VARCHAR"),
        ("escalated_to_human", "BOOLEAN"),
    ],
    "model_predictions": [
        ("prediction_id", "BIGINT"),
        ("model_version", "VARCHAR"),
        ("evaluated_at", "TIMESTAMP"),
        ("predicted_label", "BOOLEAN"),
        ("actual_label", "BOOLEAN"),
    ],
    "experiment_exposures": [
        ("exposure_id", "BIGINT"),
        ("experiment_id", "VARCHAR"),
        ("variation", "VARCHAR"),
        ("user_id", "BIGINT"),
        ("exposed_at", "TIMESTAMP"),
    ],
}
ID_COLUMNS = {
    "users": "user_id",
    "events": "event_id",
    "orders": "order_id",
    "nps_responses": "response_id",
    "invites": "invite_id",
    "ai_suggestions": "suggestion_id",
    "model_predictions": "prediction_id",
    "experiment_exposures": "exposure_id",
}
COMMON_REASONS = ("missing_key", "duplicate", "invalid_value", "missing_timestamp")
EXPECTED_PAIRS: set[tuple[str, str]] = (
    {(t, r) for t in ID_COLUMNS for r in COMMON_REASONS}
    | {
        (t, "unknown_user")
        for t in ("events", "orders", "nps_responses", "invites", "ai_suggestions", "experiment_exposures")
    }
    | {("experiment_exposures", r) for r in ("unknown_experiment", "unknown_variation")}
    | {("events", "before_signup"), ("orders", "invalid_amount")}
    | {
        ("marketing_spend", r)
        for r in ("invalid_value", "missing_timestamp", "missing_channel", "invalid_amount")
    }
    | {
        ("nps_responses", "score_out_of_range"),
        ("invites", "self_invite"),
        ("ai_suggestions", "invalid_outcome"),
    }
)


# ------------------------------------------------------------------------------------------
# Fixtures
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoDataResult]:
    path = tmp_path_factory.mktemp("clean") / "demo.duckdb"
    return path, generate_demo_data(path, **SIZE)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoDataResult]:
    path = tmp_path_factory.mktemp("dirty") / "demo.duckdb"
    return path, generate_demo_data(path, dirty=True, **SIZE)


@pytest.fixture(scope="module")
def clean_con(clean: tuple[Path, DemoDataResult]):
    con = duckdb.connect(str(clean[0]), read_only=True)
    yield con
    con.close()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchone()[0]


def _snapshot(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"select * from raw.{t} order by all").fetchall() for t in TABLES}


# ------------------------------------------------------------------------------------------
# Determinism and shape
# ------------------------------------------------------------------------------------------


def test_deterministic_and_drop_and_replace(tmp_path: Path) -> None:
    small = {"users": 400, "days": 45, "dirty": True}
    a, b, c = tmp_path / "a.duckdb", tmp_path / "b.duckdb", tmp_path / "c.duckdb"
    first = generate_demo_data(a, seed=3, **small)
    again = generate_demo_data(a, seed=3, **small)  # rerun into the same file replaces the tables
    other = generate_demo_data(b, seed=3, **small)
    assert first == again == other
    snap_a = _snapshot(a)
    assert snap_a == _snapshot(b)
    generate_demo_data(c, seed=4, **small)
    snap_c = _snapshot(c)
    assert all(snap_a[t] != snap_c[t] for t in TABLES)


def test_custom_schema_and_window(tmp_path: Path) -> None:
    path = tmp_path / "custom.duckdb"
    result = generate_demo_data(path, users=200, days=30, end_date=dt.date(2025, 1, 31), schema="landing")
    assert (result.start_date, result.end_date) == (dt.date(2025, 1, 2), dt.date(2025, 1, 31))
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'landing'"
            ).fetchall()
        }
        assert tables == set(TABLES)
        first, last = con.execute(
            "select min(occurred_at)::date, max(occurred_at)::date from landing.events"
        ).fetchone()
        assert result.start_date <= first and last <= result.end_date


def test_tables_columns_and_types(
    clean_con: duckdb.DuckDBPyConnection, dirty: tuple[Path, DemoDataResult]
) -> None:
    query = """
        select column_name, data_type from information_schema.columns
        where table_schema = 'raw' and table_name = ? order by ordinal_position
    """
    with duckdb.connect(str(dirty[0]), read_only=True) as dirty_con:
        for table, columns in EXPECTED_COLUMNS.items():
            assert clean_con.execute(query, [table]).fetchall() == columns, table
            assert _scalar(clean_con, f"select count(*) from raw.{table}") > 0, table
            text_columns = [(name, "VARCHAR") for name, _ in columns]
            assert dirty_con.execute(query, [table]).fetchall() == text_columns, table


def test_result_metadata(clean: tuple[Path, DemoDataResult], clean_con: duckdb.DuckDBPyConnection) -> None:
    _, result = clean
    assert result.planted == []
    assert result.end_date == dt.date(2026, 6, 30)
    assert result.start_date == result.end_date - dt.timedelta(days=SIZE["days"] - 1)
    assert set(result.row_counts) == set(TABLES)
    for table in TABLES:
        assert result.row_counts[table] == _scalar(clean_con, f"select count(*) from raw.{table}")


def test_module_import_is_cheap() -> None:
    code = (
        "import sys, product_metrics; before = set(sys.modules); "
        "import product_metrics.demo_data; "
        "print(sorted({'numpy', 'pandas', 'duckdb'} & (set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------------------------------
# Clean-data sanity
# ------------------------------------------------------------------------------------------


def test_ids_unique_and_users_sequential(clean_con: duckdb.DuckDBPyConnection) -> None:
    for table, id_col in ID_COLUMNS.items():
        total, distinct, nulls = clean_con.execute(
            f"select count(*), count(distinct {id_col}), count(*) - count({id_col}) from raw.{table}"
        ).fetchone()
        assert total == distinct and nulls == 0, table
    assert clean_con.execute("select min(user_id), max(user_id), count(*) from raw.users").fetchone() == (
        1,
        SIZE["users"],
        SIZE["users"],
    )


def test_everything_inside_window_and_after_signup(clean_con: duckdb.DuckDBPyConnection) -> None:
    start = SIZE["end_date"] - dt.timedelta(days=SIZE["days"] - 1)
    lo, hi = f"timestamp '{start}'", f"timestamp '{SIZE['end_date'] + dt.timedelta(days=1)}'"
    for table, ts in [
        ("users", "signed_up_at"),
        ("events", "occurred_at"),
        ("orders", "ordered_at"),
        ("nps_responses", "responded_at"),
        ("invites", "sent_at"),
        ("ai_suggestions", "created_at"),
        ("model_predictions", "evaluated_at"),
        ("marketing_spend", "spend_date"),
        ("experiment_exposures", "exposed_at"),
    ]:
        outside = _scalar(
            clean_con, f"select count(*) from raw.{table} where not ({ts} >= {lo} and {ts} < {hi})"
        )
        assert outside == 0, table
    for table, user_col, ts in [
        ("events", "user_id", "occurred_at"),
        ("orders", "user_id", "ordered_at"),
        ("ai_suggestions", "user_id", "created_at"),
        ("nps_responses", "user_id", "responded_at"),
        ("invites", "inviter_user_id", "sent_at"),
        ("experiment_exposures", "user_id", "exposed_at"),
    ]:
        early = _scalar(
            clean_con,
            f"select count(*) from raw.{table} t join raw.users u on u.user_id = t.{user_col} "
            f"where t.{ts} < u.signed_up_at",
        )
        assert early == 0, table
    # Signups grow: the last quarter of the window has clearly more signups than the first.
    first_q, last_q = clean_con.execute(
        f"""select count(*) filter (where signed_up_at < {lo} + interval 30 day),
                   count(*) filter (where signed_up_at >= {hi} - interval 30 day) from raw.users"""
    ).fetchone()
    assert last_q > 1.5 * first_q


def test_referential_integrity(clean_con: duckdb.DuckDBPyConnection) -> None:
    for table, column, nullable in [
        ("events", "user_id", False),
        ("orders", "user_id", False),
        ("ai_suggestions", "user_id", False),
        ("nps_responses", "user_id", True),
        ("invites", "inviter_user_id", False),
        ("invites", "invitee_user_id", True),
        ("experiment_exposures", "user_id", False),
    ]:
        orphans = _scalar(
            clean_con,
            f"select count(*) from raw.{table} t where {'t.' + column + ' is not null and ' if nullable else ''}"
            f"not exists (select 1 from raw.users u where u.user_id = t.{column})",
        )
        assert orphans == 0, (table, column)


def test_users_have_messy_but_legal_channels(clean_con: duckdb.DuckDBPyConnection) -> None:
    rows = dict(
        clean_con.execute(
            "select coalesce(lower(trim(acquisition_channel)), 'unknown'), count(*) from raw.users group by 1"
        ).fetchall()
    )
    assert set(rows) == {
        "paid_search",
        "paid_social",
        "display",
        "organic_search",
        "direct",
        "referral",
        "unknown",
    }
    messy = _scalar(
        clean_con,
        "select count(*) from raw.users where acquisition_channel <> lower(trim(acquisition_channel))",
    )
    assert messy > 0 and rows["unknown"] > 0
    assert {r[0] for r in clean_con.execute("select distinct platform from raw.users").fetchall()} == {
        "ios",
        "android",
        "web",
    }


def test_events_realistic(clean_con: duckdb.DuckDBPyConnection) -> None:
    names = {r[0] for r in clean_con.execute("select distinct event_name from raw.events").fetchall()}
    assert names == {"app_open", "page_view", "feature_used", "core_action", "share"}
    per_user = _scalar(clean_con, "select count(*) / count(distinct user_id) from raw.events")
    assert 10 < per_user < 80
    # Some activity lands within an hour of UTC midnight (so the reporting time zone matters).
    near_midnight = _scalar(clean_con, "select count(*) from raw.events where hour(occurred_at) in (23, 0)")
    assert near_midnight > 0
    # Retention decays: day-1 retention beats day-30 retention.
    d1, d30 = clean_con.execute(
        """
        with a as (select distinct e.user_id, datediff('day', u.signed_up_at::date, e.occurred_at::date) k
                   from raw.events e join raw.users u using (user_id)
                   where u.signed_up_at < (select max(occurred_at) from raw.events) - interval 31 day)
        select count(*) filter (where k = 1), count(*) filter (where k = 30) from a
        """
    ).fetchone()
    assert d1 > 2 * d30 > 0


def test_orders_and_refunds(clean_con: duckdb.DuckDBPyConnection) -> None:
    n_orders, refunds, lo, hi = clean_con.execute(
        "select count(*), count(*) filter (where amount_usd < 0), min(abs(amount_usd)), max(amount_usd) "
        "from raw.orders"
    ).fetchone()
    assert refunds > 0 and 0.01 < refunds / n_orders < 0.12
    assert lo >= 4.99 and hi <= 199.0
    # Every refund follows an earlier positive order of the same user.
    orphan_refunds = _scalar(
        clean_con,
        """select count(*) from raw.orders r where r.amount_usd < 0 and not exists (
               select 1 from raw.orders o where o.user_id = r.user_id and o.amount_usd > 0
               and o.ordered_at < r.ordered_at)""",
    )
    assert orphan_refunds == 0
    # Whole cents.
    off_cent = _scalar(
        clean_con,
        "select count(*) from raw.orders where abs(amount_usd * 100 - round(amount_usd * 100)) > 1e-6",
    )
    assert off_cent == 0


def test_marketing_spend(clean_con: duckdb.DuckDBPyConnection) -> None:
    channels = {
        r[0] for r in clean_con.execute("select distinct channel from raw.marketing_spend").fetchall()
    }
    assert channels == {"paid_search", "paid_social", "display"}
    total, distinct = clean_con.execute(
        "select count(*), count(distinct (spend_date, channel, campaign)) from raw.marketing_spend"
    ).fetchone()
    assert total == distinct == SIZE["days"] * 8
    assert _scalar(clean_con, "select min(spend_usd) from raw.marketing_spend") > 0
    cost_per_signup = clean_con.execute(
        """with s as (select channel, sum(spend_usd) spend from raw.marketing_spend group by 1),
                u as (select lower(trim(acquisition_channel)) channel, count(*) n from raw.users group by 1)
           select s.channel, spend / n from s join u using (channel)"""
    ).fetchall()
    # Cost per signed-up user: a few dollars to a few tens (CAC per paying customer is ~10x that).
    assert len(cost_per_signup) == 3 and all(3 < value < 60 for _, value in cost_per_signup), cost_per_signup


def test_nps(clean_con: duckdb.DuckDBPyConnection) -> None:
    total, anonymous, lo, hi, nps = clean_con.execute(
        """select count(*), count(*) - count(user_id), min(score), max(score),
                  100.0 * (count(*) filter (where score >= 9) - count(*) filter (where score <= 6)) / count(*)
           from raw.nps_responses"""
    ).fetchone()
    assert anonymous > 0 and anonymous / total < 0.25
    assert lo >= 0 and hi <= 10
    assert 5 < nps < 55
    repeat_in_month = _scalar(
        clean_con,
        """select count(*) from (select user_id from raw.nps_responses where user_id is not null
           group by user_id, date_trunc('month', responded_at) having count(*) > 1)""",
    )
    assert repeat_in_month > 0


def test_invites(clean_con: duckdb.DuckDBPyConnection) -> None:
    converted, open_invites = clean_con.execute(
        "select count(invitee_user_id), count(*) - count(invitee_user_id) from raw.invites"
    ).fetchone()
    assert converted > 0 and open_invites > 0
    invited_twice = _scalar(
        clean_con,
        """select count(*) from (select invitee_user_id from raw.invites where invitee_user_id is not null
           group by 1 having count(distinct inviter_user_id) > 1)""",
    )
    assert invited_twice > 0
    assert _scalar(clean_con, "select count(*) from raw.invites where inviter_user_id = invitee_user_id") == 0
    lags = clean_con.execute(
        """select lower(trim(u.acquisition_channel)), datediff('second', i.sent_at, u.signed_up_at) / 86400.0
           from raw.invites i join raw.users u on u.user_id = i.invitee_user_id"""
    ).fetchall()
    assert {channel for channel, _ in lags} == {"referral"}
    assert all(lag >= 0 for _, lag in lags)
    assert sum(lag <= 14 for _, lag in lags) > 0.8 * len(lags)
    assert any(lag > 14 for _, lag in lags)


def test_ai_suggestions_and_predictions(clean_con: duckdb.DuckDBPyConnection) -> None:
    stats = {
        row[0]: row[1:]
        for row in clean_con.execute(
            """select model_version, avg((outcome = 'accepted')::int), median(latency_ms), avg(cost_usd),
                      min(created_at), avg(escalated_to_human::int)
               from raw.ai_suggestions group by 1"""
        ).fetchall()
    }
    assert set(stats) == {"v1", "v2"}
    (acc1, lat1, cost1, first1, esc1), (acc2, lat2, cost2, first2, esc2) = stats["v1"], stats["v2"]
    assert acc2 > acc1 and lat2 > lat1 and cost2 > cost1 and first2 > first1
    assert 200 < lat1 < 400 and 400 < lat2 < 700
    assert 0 < esc1 < 0.1 and 0 < esc2 < 0.1
    outcomes = {r[0] for r in clean_con.execute("select distinct outcome from raw.ai_suggestions").fetchall()}
    assert outcomes == {"accepted", "edited", "rejected", "ignored"}
    ratio = _scalar(
        clean_con, "select (select count(*) from raw.ai_suggestions) / (select count(*) from raw.events)"
    )
    assert 0 < ratio <= 0.5
    precision = dict(
        clean_con.execute(
            """select model_version, count(*) filter (where predicted_label and actual_label)
                      / count(*) filter (where predicted_label)
               from raw.model_predictions group by 1"""
        ).fetchall()
    )
    assert precision["v2"] > precision["v1"]


# ------------------------------------------------------------------------------------------
# Dirty mode
# ------------------------------------------------------------------------------------------


def _planted_key_sql(table: str) -> str:
    if table == "marketing_spend":
        return ("coalesce(spend_date, '') || '|' || coalesce(channel, '') || '|' || coalesce(campaign, '') "
                "|| '|' || coalesce(spend_usd, '')")
    return f"coalesce({ID_COLUMNS[table]}, '')"


def test_every_reason_planted(dirty: tuple[Path, DemoDataResult]) -> None:
    _, result = dirty
    pairs = Counter((p.source_table, p.reason) for p in result.planted)
    assert set(pairs) == EXPECTED_PAIRS
    assert all(count >= 2 for count in pairs.values()), pairs
    assert all(isinstance(p, PlantedRejection) for p in result.planted)


def test_planted_rows_present_and_counts_add_up(
    dirty: tuple[Path, DemoDataResult], clean: tuple[Path, DemoDataResult]
) -> None:
    path, result = dirty
    planted_per_table = Counter(p.source_table for p in result.planted)
    with duckdb.connect(str(path), read_only=True) as con:
        for p in result.planted:
            found = con.execute(
                f"select count(*) from raw.{p.source_table} where {_planted_key_sql(p.source_table)} = ?",
                [p.source_key],
            ).fetchone()[0]
            assert found >= (2 if p.reason == "duplicate" else 1), p
        for table in TABLES:
            raw_rows = _scalar(con, f"select count(*) from raw.{table}")
            assert raw_rows == clean[1].row_counts[table] + planted_per_table[table], table
            assert raw_rows == result.row_counts[table], table


def test_spend_garbage_copies_share_a_clean_rows_key(dirty: tuple[Path, DemoDataResult]) -> None:
    """marketing_spend has no key: the dirty data copies clean rows with a bad amount (same day,
    channel and campaign), which staging must reject as `invalid_amount` while the clean row counts."""
    path, result = dirty
    planted = {p.source_key for p in result.planted if p.source_table == "marketing_spend"}
    with duckdb.connect(str(path), read_only=True) as con:
        shared = con.execute(f"""
            with garbage as (
                select *, {_planted_key_sql("marketing_spend")} as planted_key from raw.marketing_spend
            )
            select garbage.spend_usd
            from garbage
            join garbage as clean using (spend_date, channel, campaign)
            where list_contains($planted, garbage.planted_key) and not list_contains($planted, clean.planted_key)
            order by 1 nulls last
        """, {"planted": sorted(planted)}).fetchall()
    assert shared == [("-50.00",), (None,)]


# ---- independent reference implementation of the staging rejection rules --------------------

TEXT_RULES: dict[str, dict[str, Any]] = {
    "users": {"ts": "signed_up_at", "typed": {"signed_up_at": "timestamp"}},
    "events": {"ts": "occurred_at", "typed": {"occurred_at": "timestamp"}, "users": ["user_id"]},
    "orders": {
        "ts": "ordered_at",
        "typed": {"ordered_at": "timestamp", "amount_usd": "number"},
        "users": ["user_id"],
    },
    "marketing_spend": {"ts": "spend_date", "typed": {"spend_date": "date", "spend_usd": "number"}},
    "nps_responses": {
        "ts": "responded_at",
        "typed": {"responded_at": "timestamp", "score": "number"},
        "optional_users": ["user_id"],
    },
    "invites": {
        "ts": "sent_at",
        "typed": {"sent_at": "timestamp"},
        "users": ["inviter_user_id"],
        "optional_users": ["invitee_user_id"],
    },
    "ai_suggestions": {
        "ts": "created_at",
        "typed": {
            "created_at": "timestamp",
            "latency_ms": "integer",
            "cost_usd": "number",
            "escalated_to_human": "boolean",
        },
        "users": ["user_id"],
    },
    "model_predictions": {
        "ts": "evaluated_at",
        "typed": {"evaluated_at": "timestamp", "predicted_label": "boolean", "actual_label": "boolean"},
    },
    "experiment_exposures": {"ts": "exposed_at", "typed": {"exposed_at": "timestamp"}, "users": ["user_id"]},
}
# The demo project's experiments (integration_tests/dbt_project.yml): id -> its variations.
VARIATIONS = {key: set(e.variation_names) for key, e in DEMO_EXPERIMENTS.items()}


def _blank(value: str | None) -> bool:
    return value is None or value.strip() == ""


def _parse(kind: str, value: str) -> Any:
    """Strict parse of the landing-zone text formats; raises ValueError when it does not cast."""
    if kind == "timestamp":
        return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    if kind == "date":
        return dt.datetime.strptime(value, "%Y-%m-%d").date()
    if kind == "number":
        return float(value)
    if kind in ("integer", "id"):
        return int(value)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ValueError(value)
        return value == "true"
    return value


def _try_parse(kind: str, value: str | None) -> Any:
    if _blank(value):
        return None
    try:
        return _parse(kind, value)  # type: ignore[arg-type]
    except ValueError:
        return None


def _classify(table: str, rows: list[dict[str, str | None]], users: dict[int, dt.date]) -> list[str | None]:
    """Rejection reason per row (None = accepted), applying the rules in their documented order."""
    rules = TEXT_RULES[table]
    id_col = ID_COLUMNS.get(table)
    reasons: list[str | None] = [None] * len(rows)

    # 1. missing_key, 2. duplicate (earliest timestamp kept, nulls last, tie -> smaller record text);
    # marketing_spend has no key: neither applies to it.
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        if id_col and _blank(row[id_col]):
            reasons[i] = "missing_key"
        elif id_col:
            groups[(row[id_col],)].append(i)
    for members in groups.values():
        if len(members) > 1:

            def order(i: int) -> tuple:
                ts = _try_parse(rules["typed"][rules["ts"]], rows[i][rules["ts"]])
                return (ts is None, ts, "|".join(v or "" for v in rows[i].values()))

            keep = min(members, key=order)
            for i in members:
                if i != keep:
                    reasons[i] = "duplicate"

    def user_known(value: str | None) -> bool:
        parsed = _try_parse("id", value)
        return parsed is not None and parsed in users

    for i, row in enumerate(rows):
        if reasons[i] is not None:
            continue
        ts_value = row[rules["ts"]]
        if any(
            (not _blank(row[c]) and _try_parse(k, row[c]) is None)
            or (table == "model_predictions" and k == "boolean" and _blank(row[c]))
            for c, k in rules["typed"].items()
        ):
            reasons[i] = "invalid_value"
        elif _blank(ts_value):
            reasons[i] = "missing_timestamp"
        elif any(not user_known(row[c]) for c in rules.get("users", [])) or any(
            not _blank(row[c]) and not user_known(row[c]) for c in rules.get("optional_users", [])
        ):
            reasons[i] = "unknown_user"
        elif table == "events" and _parse("timestamp", ts_value).date() < users[int(row["user_id"])]:
            reasons[i] = "before_signup"
        elif table == "marketing_spend" and _blank(row["channel"]):
            reasons[i] = "missing_channel"
        elif (table == "marketing_spend" and (_blank(row["spend_usd"]) or float(row["spend_usd"]) < 0)) or (
            table == "orders" and _blank(row["amount_usd"])
        ):
            reasons[i] = "invalid_amount"
        elif table == "nps_responses" and (
            _blank(row["score"]) or not float(row["score"]).is_integer() or not 0 <= float(row["score"]) <= 10
        ):
            reasons[i] = "score_out_of_range"
        elif (
            table == "invites"
            and row["invitee_user_id"] is not None
            and (int(row["invitee_user_id"]) == int(row["inviter_user_id"]))
        ):
            reasons[i] = "self_invite"
        elif table == "ai_suggestions" and (
            row["outcome"] is None
            or row["outcome"].strip().lower() not in {"accepted", "edited", "rejected", "ignored"}
        ):
            reasons[i] = "invalid_outcome"
        elif table == "experiment_exposures" and row["experiment_id"] not in VARIATIONS:
            reasons[i] = "unknown_experiment"
        elif table == "experiment_exposures" and row["variation"] not in VARIATIONS[row["experiment_id"]]:
            reasons[i] = "unknown_variation"
    return reasons


def _typed(table: str, row: dict[str, str | None]) -> tuple:
    """An accepted text row converted to the clean column types (as DuckDB returns them)."""
    kinds = {
        "BIGINT": "id",
        "TIMESTAMP": "timestamp",
        "DATE": "date",
        "DOUBLE": "number",
        "INTEGER": "integer",
    }
    kinds |= {"BOOLEAN": "boolean", "VARCHAR": "text"}
    return tuple(
        None if row[name] is None else _parse(kinds[sql_type], row[name])  # type: ignore[arg-type]
        for name, sql_type in EXPECTED_COLUMNS[table]
    )


def test_reference_rules_reject_exactly_the_planted_rows(
    dirty: tuple[Path, DemoDataResult], clean_con: duckdb.DuckDBPyConnection
) -> None:
    path, result = dirty
    rejected: Counter[tuple[str, str, str]] = Counter()
    users: dict[int, dt.date] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        for table in TABLES:  # users first: later tables look users up
            cursor = con.execute(f"select * from raw.{table}")
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, values)) for values in cursor.fetchall()]
            reasons = _classify(table, rows, users)
            accepted = []
            for row, reason in zip(rows, reasons):
                if reason is None:
                    accepted.append(_typed(table, row))
                elif table == "marketing_spend":
                    k = "|".join(row[c] or "" for c in ("spend_date", "channel", "campaign", "spend_usd"))
                    rejected[(table, k, reason)] += 1
                else:
                    rejected[(table, row[ID_COLUMNS[table]] or "", reason)] += 1
            if table == "users":
                users = {row[0]: row[1].date() for row in accepted}
            # The accepted rows are exactly the clean rows, value for value.
            assert Counter(accepted) == Counter(clean_con.execute(f"select * from raw.{table}").fetchall()), (
                table
            )
    assert rejected == Counter((p.source_table, p.source_key, p.reason) for p in result.planted)


# ------------------------------------------------------------------------------------------
# The planted incident: an android release that takes away active days in Brazil and India
# ------------------------------------------------------------------------------------------

OTHER_TABLES = tuple(t for t in TABLES if t != "events")
SEGMENT = (
    f"u.platform = '{DEMO_INCIDENT.platform}' "
    f"and u.country in ({', '.join(repr(c) for c in DEMO_INCIDENT.countries)})"
)


@pytest.fixture(scope="module")
def without_incident(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoDataResult]:
    path = tmp_path_factory.mktemp("without_incident") / "demo.duckdb"
    return path, generate_demo_data(path, incident=False, **SIZE)


@pytest.fixture(scope="module")
def both(clean: tuple[Path, DemoDataResult], without_incident: tuple[Path, DemoDataResult]):
    """The demo data (schema raw) beside the same data without the incident (base.raw)."""
    con = duckdb.connect(str(clean[0]), read_only=True)
    con.execute(f"attach '{without_incident[0]}' as base (read_only)")
    yield con
    con.close()


def test_incident_dates_follow_the_window() -> None:
    # The default cutoff is 2026-07-01 (the day after the last day with data): its latest complete
    # week is 06-22 .. 06-28, the first full week of the incident, and June holds the release.
    assert demo_incident() == DEMO_INCIDENT
    assert DEMO_INCIDENT.release_date == dt.date(2026, 6, 22) and DEMO_INCIDENT.release_date.weekday() == 0
    assert demo_incident(dt.date(2026, 6, 28), 120).release_date == dt.date(2026, 6, 22)  # a Sunday end
    assert demo_incident(dt.date(2026, 6, 29), 120).release_date == dt.date(2026, 6, 22)  # a Monday end
    assert demo_incident(dt.date(2025, 1, 31), 30).release_date == dt.date(2025, 1, 20)
    # The window must hold the week before the release (week over week compares with it).
    assert demo_incident(dt.date(2026, 6, 30), 16) is not None  # starts on the Monday before, 06-15
    assert demo_incident(dt.date(2026, 6, 30), 15) is None
    # The affected countries are the two where the platform is most common (a visible segment).
    android = demo_data.PLATFORMS.index(DEMO_INCIDENT.platform)
    share = {c: demo_data.PLATFORM_P_BY_COUNTRY[i][android] for i, c in enumerate(demo_data.COUNTRIES)}
    assert set(sorted(share, key=share.__getitem__)[-2:]) == set(DEMO_INCIDENT.countries)


def test_incident_stream_leaves_the_other_streams_alone() -> None:
    """The incident's stream is the last child: the eleven before it are those of a generator without it."""
    before = [child.random(3).tolist() for child in np.random.default_rng(42).spawn(11)]
    after = [child.random(3).tolist() for child in np.random.default_rng(42).spawn(12)[:11]]
    assert before == after


def test_incident_touches_nothing_but_whole_days_of_the_segment(
    both: duckdb.DuckDBPyConnection,
    clean: tuple[Path, DemoDataResult],
    without_incident: tuple[Path, DemoDataResult],
) -> None:
    result, base = clean[1], without_incident[1]
    assert result.incident == DEMO_INCIDENT and base.incident is None
    assert {t: result.row_counts[t] for t in OTHER_TABLES} == {t: base.row_counts[t] for t in OTHER_TABLES}
    assert result.row_counts["events"] < base.row_counts["events"]
    for table in OTHER_TABLES:
        differ = both.execute(f"""
            select count(*) from ((select * from raw.{table} except all select * from base.raw.{table})
                                  union all (select * from base.raw.{table} except all select * from raw.{table}))
        """).fetchone()[0]
        assert differ == 0, table
    # Every remaining event is the same event (id, user, time, name) as without the incident.
    assert _scalar(both, "select count(*) from (select * from raw.events except all select * from base.raw.events)") == 0
    # The missing events are whole active days of affected users, from the release on, never the
    # day of a signup.
    missing = both.execute(f"""
        with missing as (
            select * from base.raw.events b where not exists (select 1 from raw.events e where e.event_id = b.event_id)
        )
        select count(*) as events,
               count(*) filter (where not ({SEGMENT})) as outside_segment,
               count(*) filter (where cast(m.occurred_at as date) < date '{DEMO_INCIDENT.release_date}') as before,
               count(*) filter (where cast(m.occurred_at as date) = cast(u.signed_up_at as date)) as signup_day,
               count(*) filter (where exists (
                   select 1 from raw.events e
                   where e.user_id = m.user_id and cast(e.occurred_at as date) = cast(m.occurred_at as date)
               )) as partial_day
        from missing m join raw.users u using (user_id)
    """).fetchone()
    assert missing[0] == base.row_counts["events"] - result.row_counts["events"] > 0
    assert missing[1:] == (0, 0, 0, 0)


def test_incident_keeps_the_planted_share_of_active_days(both: duckdb.DuckDBPyConnection) -> None:
    """Of the affected users' active days after the release (signup days aside), kept_share remain."""
    kept, candidates = both.execute(f"""
        with days as (
            select distinct user_id, cast(occurred_at as date) as day from base.raw.events
        ),
        candidate as (
            select d.* from days d join raw.users u using (user_id)
            where {SEGMENT} and d.day >= date '{DEMO_INCIDENT.release_date}' and d.day <> cast(u.signed_up_at as date)
        )
        select count(*) filter (where exists (
                   select 1 from raw.events e where e.user_id = c.user_id and cast(e.occurred_at as date) = c.day)),
               count(*)
        from candidate c
    """).fetchone()
    p = DEMO_INCIDENT.kept_share
    assert candidates > 200
    assert abs(kept - p * candidates) < 4 * (candidates * p * (1 - p)) ** 0.5, (kept, candidates)


def test_the_raw_events_show_the_incident_week_over_week(both: duckdb.DuckDBPyConnection) -> None:
    """The first full week of the incident against the week before: the affected segment's active
    user-days (signup days aside) fall to about kept_share of what the rest of the users' trend
    predicts; without the incident, and for every other segment, there is no such fall."""
    week, before = DEMO_INCIDENT.release_date, DEMO_INCIDENT.release_date - dt.timedelta(days=7)

    def active_days(schema: str) -> dict[tuple[str, str, str], int]:
        rows = both.execute(f"""
            with days as (select distinct user_id, cast(occurred_at as date) as day from {schema}.events)
            select u.platform, u.country, case when d.day >= date '{week}' then 'after' else 'before' end, count(*)
            from days d join raw.users u using (user_id)
            where d.day >= date '{before}' and d.day < date '{week}' + interval 7 day
              and d.day <> cast(u.signed_up_at as date)
            group by all
        """).fetchall()
        return {(platform, country, when): n for platform, country, when, n in rows}

    def ratio(counts: dict[tuple[str, str, str], int], affected: bool) -> float:
        def total(when: str) -> int:
            return sum(
                n for (platform, country, w), n in counts.items()
                if w == when and affected == (platform == DEMO_INCIDENT.platform
                                              and country in DEMO_INCIDENT.countries)
            )
        return total("after") / total("before")

    now, base = active_days("raw"), active_days("base.raw")
    # The rest of the users are the same with or without the incident and do not fall.
    assert ratio(now, affected=False) == ratio(base, affected=False) > 0.9
    assert 0.85 < ratio(base, affected=True) / ratio(base, affected=False) < 1.25
    relative = ratio(now, affected=True) / ratio(now, affected=False)
    assert abs(relative - DEMO_INCIDENT.kept_share) < 0.1, relative
    # No other (platform, country) segment falls like that: each keeps at least 75% of the trend.
    for platform in demo_data.PLATFORMS:
        for country in demo_data.COUNTRIES:
            if platform == DEMO_INCIDENT.platform and country in DEMO_INCIDENT.countries:
                continue
            after, prior = now.get((platform, country, "after"), 0), now.get((platform, country, "before"), 0)
            assert after >= 0.75 * ratio(now, affected=False) * prior - 3 * prior**0.5, (platform, country)


def test_dirty_data_plants_the_same_rows_with_or_without_the_incident(
    dirty: tuple[Path, DemoDataResult], tmp_path: Path
) -> None:
    """Planted rows of the other tables are the very same; an events duplicate that would copy a
    vanished event copies the next event still there (no extra draw)."""
    base = generate_demo_data(tmp_path / "base.duckdb", dirty=True, incident=False, **SIZE)
    planted, unplanted = dirty[1].planted, base.planted
    assert [p for p in planted if p.source_table != "events"] == [p for p in unplanted if p.source_table != "events"]
    assert Counter((p.source_table, p.reason) for p in planted) == Counter((p.source_table, p.reason) for p in unplanted)
