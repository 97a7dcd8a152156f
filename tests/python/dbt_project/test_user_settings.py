"""Every documented setting changed at once: `dbt build`, unit tests included, passes on the demo
data, and its numbers equal values computed here from the raw tables by the definitions of
METRICS_SPEC.md and the marts' docs (Python on the raw rows, not the models' SQL). The experiments
(var product_metrics__experiments) change every optional key of an experiment across the four demo
experiments; their expectations are in experiment_expectations.py.

One build for the module. The raw data is clean (no rejected row), so every raw row counts and
the expectations need only the definitions, not the rejection rules."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from product_metrics.dbt import DbtRun
from product_metrics.demo_data import DEMO_EXPERIMENTS

from ..conftest import DEMO_SIZE, REPO_ROOT, build_warehouse
from .experiment_expectations import (
    CATALOG,
    EXPERIMENT_DEFAULTS,
    Expected,
    ExperimentRaw,
    MetricSettings,
    arm_sums,
    expected_experiments,
    experiment_setting,
    metrics_of,
)


@dataclass(frozen=True)
class Settings:
    """The documented vars the expectations below depend on."""

    reporting_timezone: str
    as_of_date: dt.date
    active_event_names: tuple[str, ...]  # empty: every event
    mau_window_days: int
    ltv_lookback_months: int
    gross_margin_rate: float
    invite_window_days: int
    invite_conversion_days: int
    activation_event_name: str
    activation_window_days: int
    core_action_event_name: str
    north_star_min_core_actions: int
    latency_decimals: int


# The demo data runs from 2026-02-01 to 2026-06-30: the as-of date cuts its last three weeks off.
CHANGED = Settings(
    reporting_timezone="America/New_York",
    as_of_date=dt.date(2026, 6, 9),
    active_event_names=("core_action", "feature_used", "share"),
    mau_window_days=28,
    ltv_lookback_months=3,
    gross_margin_rate=0.6,
    invite_window_days=21,
    invite_conversion_days=10,
    activation_event_name="share",
    activation_window_days=3,
    core_action_event_name="feature_used",
    north_star_min_core_actions=2,
    latency_decimals=1,
)
# The defaults of dbt_project.yml, except the as-of date (default: the day after the latest
# event): used only to show that each changed setting changes the numbers compared.
DEFAULTS = replace(
    CHANGED, reporting_timezone="UTC", active_event_names=(), mau_window_days=30, ltv_lookback_months=6,
    gross_margin_rate=0.75, invite_window_days=30, invite_conversion_days=14, activation_event_name="core_action",
    activation_window_days=7, core_action_event_name="core_action", north_star_min_core_actions=3,
    latency_decimals=3,
)

# The demo experiments (raw.experiment_exposures names them and their variations), every optional
# key changed from its default in at least one of them, and dates, weights and metrics changed too.
EXPERIMENTS = [
    {"id": "larger_model", "hypothesis": "A larger model is accepted more often, at a cost.",
     "owner": {"name": "Ana Ruiz"},
     "start_date": "2026-04-08", "end_date": "2026-05-03",  # two days later: earlier exposures do not count
     "variations": [{"name": "control", "weight": 0.5}, {"name": "larger_model", "weight": 0.5}],
     "goal_metrics": ["pm_ai_acceptance_rate", "pm_ai_suggestions", "pm_ai_correction_rate"],
     "guardrail_metrics": ["pm_ai_cost_per_1k_suggestions_usd", "pm_ai_latency_ms_average"],
     "conversion_window_days": 10, "exposure_delay_hours": 6, "minimum_runtime_days": 28,
     "cuped_lookback_days": 7, "capping": {"type": "absolute", "value": 6}, "alpha": 0.1,
     "correction": "benjamini_hochberg"},
    {"id": "core_action_shortcut", "hypothesis": "A one-tap shortcut to the core action.",
     "owner": {"name": "Maya Chen", "email": "maya.chen@example.com"},
     "start_date": "2026-05-04", "end_date": "2026-05-24",  # a week shorter: later exposures fall outside
     "variations": [{"name": "control", "weight": 0.5}, {"name": "shortcut", "weight": 0.5}],
     "goal_metrics": ["pm_core_actions", "pm_north_star_users"], "guardrail_metrics": [],
     "minimum_runtime_days": 21, "cuped_lookback_days": 21, "capping": {"type": "percentile", "value": 0.9},
     "sequential_n_star": 2000},
    {"id": "onboarding_tips", "hypothesis": "Tips on the first screens.",
     "owner": {"name": "Tom Berger", "email": "tom.berger@example.com"},
     "start_date": "2026-05-11", "end_date": "2026-06-07",
     "variations": [{"name": "control", "weight": 0.5}, {"name": "short_tips", "weight": 0.25},
                    {"name": "long_tips", "weight": 0.25}],
     "goal_metrics": ["pm_retention_rate", "pm_product_activation_rate"], "guardrail_metrics": None,
     "conversion_window_days": 5, "minimum_runtime_days": 35, "cuped_lookback_days": 0, "retention_week": 2},
    {"id": "pricing_page_redesign", "hypothesis": "A simpler pricing page.",
     "owner": {"name": "Priya Natarajan", "email": "priya.natarajan@example.com"},
     "start_date": "2026-05-18", "end_date": "2026-06-14",  # still running at the as-of date
     "variations": [{"name": "control", "weight": 0.45}, {"name": "simple_pricing", "weight": 0.55}],
     "goal_metrics": ["pm_revenue_usd"], "guardrail_metrics": ["pm_orders", "pm_activation_rate"],
     "conversion_window_days": 7, "capping": {"type": "absolute", "value": 40}},
]

DBT_VARS = {
    "product_metrics__reporting_timezone": CHANGED.reporting_timezone,
    "product_metrics__as_of_date": CHANGED.as_of_date.isoformat(),
    "product_metrics__active_event_names": list(CHANGED.active_event_names),
    "product_metrics__mau_window_days": CHANGED.mau_window_days,
    "product_metrics__ltv_lookback_months": CHANGED.ltv_lookback_months,
    "product_metrics__gross_margin_rate": CHANGED.gross_margin_rate,
    "product_metrics__invite_window_days": CHANGED.invite_window_days,
    "product_metrics__invite_conversion_days": CHANGED.invite_conversion_days,
    "product_metrics__customer_conversion_window_days": 45,
    "product_metrics__activation_event_name": CHANGED.activation_event_name,
    "product_metrics__activation_window_days": CHANGED.activation_window_days,
    "product_metrics__core_action_event_name": CHANGED.core_action_event_name,
    "product_metrics__north_star_min_core_actions": CHANGED.north_star_min_core_actions,
    "product_metrics__latency_decimals": CHANGED.latency_decimals,
    "product_metrics__late_arrival_days": 5,
    "product_metrics__experiments": EXPERIMENTS,
    # An input outside dbt under another name (the _relation var, its alternative, is the host project's).
    "product_metrics__experiment_exposures_identifier": "ab_exposures",
}

DOCUMENTED_VARS = {
    "reporting_timezone", "as_of_date", "active_event_names", "mau_window_days", "ltv_lookback_months",
    "gross_margin_rate", "invite_window_days", "invite_conversion_days", "customer_conversion_window_days",
    "activation_event_name", "activation_window_days", "core_action_event_name", "north_star_min_core_actions",
    "latency_decimals", "late_arrival_days", "experiments",
}
# Input vars changed too (the other inputs' are changed by test_raw_source_vars and the host project).
CHANGED_INPUT_VARS = {"experiment_exposures_identifier"}


@dataclass(frozen=True)
class Raw:
    """The raw rows the expectations read (timestamps naive UTC, as loaded)."""

    users: dict[int, tuple[dt.datetime, str]]  # user_id -> (signed_up_at, acquisition_channel)
    events: list[tuple[int, dt.datetime, str]]  # user_id, occurred_at, event_name
    orders: list[tuple[int, dt.datetime, float]]  # user_id, ordered_at, amount_usd
    spend: list[tuple[dt.date, float]]  # spend_date, spend_usd
    invites: list[tuple[int, int, int | None, dt.datetime]]  # invite_id, inviter, invitee, sent_at
    ai_suggestions: list[tuple[dt.datetime, str, str, int | None]]  # created_at, model_version, feature, latency_ms
    experiments: ExperimentRaw


@dataclass(frozen=True)
class Built:
    path: Path
    run: DbtRun
    raw: Raw


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    from product_metrics.demo_data import generate_demo_data

    path = tmp_path_factory.mktemp("user_settings") / "warehouse.duckdb"
    demo = generate_demo_data(path, **DEMO_SIZE)
    assert demo.start_date < CHANGED.as_of_date <= demo.end_date - dt.timedelta(days=14)
    with duckdb.connect(str(path)) as con:
        con.execute("alter table raw.experiment_exposures rename to ab_exposures")
    run = build_warehouse(path, vars=DBT_VARS)
    with duckdb.connect(str(path), read_only=True) as con:
        raw = Raw(
            users={u: (at, ch) for u, at, ch in con.execute(
                "select user_id, signed_up_at, acquisition_channel from raw.users").fetchall()},
            events=con.execute("select user_id, occurred_at, event_name from raw.events").fetchall(),
            orders=con.execute("select user_id, ordered_at, amount_usd from raw.orders").fetchall(),
            spend=con.execute("select spend_date, spend_usd from raw.marketing_spend").fetchall(),
            invites=con.execute(
                "select invite_id, inviter_user_id, invitee_user_id, sent_at from raw.invites").fetchall(),
            ai_suggestions=con.execute(
                "select created_at, model_version, feature, latency_ms from raw.ai_suggestions").fetchall(),
            experiments=ExperimentRaw(
                exposures=con.execute(
                    "select experiment_id, variation, user_id, exposed_at from raw.ab_exposures").fetchall(),
                events=con.execute("select user_id, occurred_at, event_name from raw.events").fetchall(),
                orders=con.execute("select user_id, ordered_at, amount_usd from raw.orders").fetchall(),
                ai_suggestions=con.execute(
                    "select user_id, created_at, latency_ms, cost_usd, outcome, escalated_to_human"
                    " from raw.ai_suggestions").fetchall(),
                nps_responses=con.execute("select user_id, responded_at, score from raw.nps_responses").fetchall(),
            ),
        )
    return Built(path, run, raw)


def _table(path, table: str, key: str) -> dict:
    """The rows of a metric table as {key: {column: value}}."""
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(f"select * from metrics.{table}")
        columns = [c[0] for c in cursor.description]
        return {row[columns.index(key)]: dict(zip(columns, row)) for row in cursor.fetchall()}


# -- The definitions, from the spec ---------------------------------------------------------------

def _local_date(utc: dt.datetime, settings: Settings) -> dt.date:
    return utc.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(settings.reporting_timezone)).date()


def _week(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def _previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def _ratio(numerator, denominator):
    return None if not denominator else numerator / denominator


def _events(raw: Raw, settings: Settings) -> list[tuple[int, dt.date, dt.datetime, str]]:
    """Events before the cutoff: (user_id, local date, occurred_at, event_name)."""
    rows = ((user, _local_date(at, settings), at, name) for user, at, name in raw.events)
    return [row for row in rows if row[1] < settings.as_of_date]


def _active_days(raw: Raw, settings: Settings) -> dict[dt.date, set[int]]:
    days = defaultdict(set)
    for user, day, _, name in _events(raw, settings):
        if not settings.active_event_names or name in settings.active_event_names:
            days[day].add(user)
    return days


def expected_stickiness(raw: Raw, settings: Settings) -> dict[dt.date, tuple[int, int, int]]:
    """(dau, wau, mau) per date, from the first activity date to the day before the cutoff."""
    days = _active_days(raw, settings)

    def window(day: dt.date, length: int) -> int:
        return len(set().union(*(days.get(day - dt.timedelta(days=i), set()) for i in range(length))))

    first, last = min(days), settings.as_of_date - dt.timedelta(days=1)
    dates = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return {d: (len(days.get(d, ())), window(d, 7), window(d, settings.mau_window_days)) for d in dates}


def expected_north_star(raw: Raw, settings: Settings) -> dict[dt.date, tuple[int, int, int, int]]:
    """Per week: (north_star_users, weekly_active_users, core_action_users, core_actions)."""
    active = defaultdict(set)
    core_actions = defaultdict(lambda: defaultdict(int))
    for week, users in ((_week(d), u) for d, u in _active_days(raw, settings).items()):
        active[week] |= users
    for user, day, _, name in _events(raw, settings):
        if name == settings.core_action_event_name:
            core_actions[_week(day)][user] += 1
    result = {}
    for week, users in active.items():
        counts = {u: n for u, n in core_actions[week].items() if u in users}
        result[week] = (
            sum(n >= settings.north_star_min_core_actions for n in counts.values()),
            len(users), len(counts), sum(counts.values()),
        )
    return result


def expected_activation(raw: Raw, settings: Settings) -> dict[dt.date, tuple]:
    """Per signup week: (signups, activated_users, activation_rate, median hours, is_complete)."""
    window = dt.timedelta(days=settings.activation_window_days)
    first_activation = {}
    for user, _, at, name in _events(raw, settings):
        signed_up_at = raw.users[user][0]
        if name == settings.activation_event_name and signed_up_at <= at <= signed_up_at + window:
            first_activation[user] = min(at, first_activation.get(user, at))
    weeks = defaultdict(list)
    for user, (signed_up_at, _) in raw.users.items():
        signup_date = _local_date(signed_up_at, settings)
        if signup_date < settings.as_of_date:
            weeks[_week(signup_date)].append(user)
    result = {}
    for week, users in weeks.items():
        hours = [(first_activation[u] - raw.users[u][0]).total_seconds() / 3600 for u in users if u in first_activation]
        result[week] = (
            len(users), len(hours), len(hours) / len(users), statistics.median(hours) if hours else None,
            week + dt.timedelta(days=7 + settings.activation_window_days) <= settings.as_of_date,
        )
    return result


def expected_ltv_cac(raw: Raw, settings: Settings) -> dict[dt.date, dict[str, float | None]]:
    """fct_ltv_cac_monthly's values per month: trailing sums over L months, then the ratios."""
    active = defaultdict(set)  # month -> customers with a positive order that month
    revenue = defaultdict(float)
    spend = defaultdict(float)
    first_positive = {}
    orders = [(u, _local_date(at, settings), amount) for u, at, amount in raw.orders]
    orders = [o for o in orders if o[1] < settings.as_of_date]
    for user, day, amount in orders:
        if amount > 0:
            active[_month(day)].add(user)
            first_positive[user] = min(day, first_positive.get(user, day))
    for user, day, amount in orders:
        if user in first_positive:
            revenue[_month(day)] += amount
    new_customers = defaultdict(int)
    for day in first_positive.values():
        new_customers[_month(day)] += 1
    for day, amount in raw.spend:
        if day < settings.as_of_date:
            spend[_month(day)] += amount
    month, last = min([*active, *spend]), _month(settings.as_of_date - dt.timedelta(days=1))
    months = []
    while month <= last:
        months.append(month)
        month = _next_month(month)
    result = {}
    margin = settings.gross_margin_rate
    for i, month in enumerate(months):
        trailing = months[max(0, i - settings.ltv_lookback_months + 1): i + 1]
        # Month j of the window and the month before it (none before the first month: no churn base).
        pairs = [(active[m], active[_previous_month(m)]) for m in trailing]
        active_customers = sum(len(now) for now, _ in pairs)
        churn_base = sum(len(before) for _, before in pairs)
        churned = sum(len(before - now) for now, before in pairs)
        arpa = _ratio(sum(revenue[m] for m in trailing), active_customers)
        churn_rate = _ratio(churned, churn_base)
        ltv = None if arpa is None or not churn_rate else arpa * margin / churn_rate
        cac = _ratio(sum(spend[m] for m in trailing), sum(new_customers[m] for m in trailing))
        result[month] = {
            "active_customers": active_customers, "arpa_usd": arpa, "churned_customers": churned,
            "churn_rate": churn_rate, "ltv_usd": ltv, "cac_usd": cac,
            "ltv_cac_ratio": None if ltv is None else _ratio(ltv, cac),
            "payback_months": None if cac is None or arpa is None else _ratio(cac, arpa * margin),
        }
    return result


def expected_k_factor(raw: Raw, settings: Settings) -> dict[dt.date, tuple]:
    """Per signup month: (cohort_users, inviting_users, invites_sent, invites_converted, median
    cycle days, is_complete)."""
    window = dt.timedelta(days=settings.invite_window_days)
    conversion = dt.timedelta(days=settings.invite_conversion_days)
    signed_up = {u: at for u, (at, _) in raw.users.items() if _local_date(at, settings) < settings.as_of_date}
    counted = sorted(
        (sent_at, invite_id, inviter, invitee) for invite_id, inviter, invitee, sent_at in raw.invites
        if inviter in signed_up and signed_up[inviter] <= sent_at <= signed_up[inviter] + window
        and _local_date(sent_at, settings) < settings.as_of_date
    )
    converted = {}  # invitee -> their earliest converting invite
    for sent_at, invite_id, inviter, invitee in counted:
        if invitee in signed_up and sent_at <= signed_up[invitee] <= sent_at + conversion:
            converted.setdefault(invitee, (inviter, invite_id))
    cohorts = defaultdict(set)
    for user, at in signed_up.items():
        cohorts[_month(_local_date(at, settings))].add(user)
    result = {}
    for month, users in cohorts.items():
        sent = [c for c in counted if c[2] in users]
        cycles = [(signed_up[invitee] - signed_up[inviter]).total_seconds() / 86400
                  for invitee, (inviter, _) in converted.items() if inviter in users]
        complete = _next_month(month) + window + conversion <= settings.as_of_date
        result[month] = (len(users), len({c[2] for c in sent}), len(sent), len(cycles),
                         statistics.median(cycles) if cycles else None, complete)
    return result


def _percentile(values: list[int], p: Fraction) -> Fraction:
    """The linear-interpolation percentile (position 1 + p (n - 1) in the sorted values), exact."""
    values = sorted(values)
    position = p * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (position - low) * (values[high] - values[low])


def expected_latency_p99(raw: Raw, settings: Settings) -> dict[tuple, Fraction]:
    """Exact p99 latency per (local date, model version, feature), before rounding."""
    groups = defaultdict(list)
    for at, version, feature, latency in raw.ai_suggestions:
        day = _local_date(at, settings)
        if day < settings.as_of_date and latency is not None:
            groups[(day, version or "unknown", feature or "unknown")].append(latency)
    return {key: _percentile(values, Fraction(99, 100)) for key, values in groups.items()}


# -- The tests ------------------------------------------------------------------------------------

def test_every_documented_var_is_changed():
    assert {name.removeprefix("product_metrics__") for name in DBT_VARS} == DOCUMENTED_VARS | CHANGED_INPUT_VARS
    # DOCUMENTED_VARS are the settings README lists ("**Settings** (vars): ...").
    readme = (REPO_ROOT / "README.md").read_text()
    listed = readme[readme.index("- **Settings** (vars):"):readme.index("Change any", readme.index("- **Settings**"))]
    assert set(re.findall(r"product_metrics__(\w+)", listed)) == DOCUMENTED_VARS
    # Every optional key of an experiment is changed from its default in at least one experiment.
    assert all(any(experiment.get(key, default) != default for experiment in EXPERIMENTS)
               for key, default in EXPERIMENT_DEFAULTS.items())
    assert {e["id"] for e in EXPERIMENTS} == set(DEMO_EXPERIMENTS)


def test_build_with_every_setting_changed_passes_its_unit_tests(built):
    unit_tests = [r for r in built.run.results if r.unique_id.startswith("unit_test.")]
    assert len(unit_tests) >= 50
    assert {r.status for r in unit_tests} == {"pass"}
    assert built.run.failed_nodes() == []
    assert not [r for r in built.run.results if r.status == "skipped"]
    with duckdb.connect(str(built.path), read_only=True) as con:
        assert con.execute("select count(*) from audit.rejected_rows").fetchone() == (0,)
        assert con.execute("select cutoff_date from intermediate.int_reporting_cutoff").fetchone() == (
            CHANGED.as_of_date,)


def test_dau_wau_mau_in_the_reporting_zone_with_the_active_events_and_window(built):
    expected = expected_stickiness(built.raw, CHANGED)
    got = _table(built.path, "fct_stickiness_daily", "activity_date")
    assert max(got) == CHANGED.as_of_date - dt.timedelta(days=1)
    assert {d: (r["dau"], r["wau"], r["mau"]) for d, r in got.items()} == expected


def test_north_star_users_with_the_core_action_and_threshold(built):
    expected = expected_north_star(built.raw, CHANGED)
    got = _table(built.path, "fct_north_star_weekly", "week_start")
    assert max(got) == _week(CHANGED.as_of_date - dt.timedelta(days=1))
    assert {w: (r["north_star_users"], r["weekly_active_users"], r["core_action_users"], r["core_actions"])
            for w, r in got.items()} == expected
    assert any(values[0] > 0 for values in expected.values())


def test_activation_with_the_activation_event_and_window(built):
    expected = expected_activation(built.raw, CHANGED)
    got = _table(built.path, "fct_activation_weekly", "signup_week")
    assert set(got) == set(expected)
    for week, (signups, activated, rate, median_hours, complete) in expected.items():
        row = got[week]
        assert (row["signups"], row["activated_users"], row["is_complete"]) == (signups, activated, complete), week
        assert row["activation_rate"] == pytest.approx(rate), week
        assert row["median_time_to_activate_hours"] == pytest.approx(median_hours), week
    assert any(values[1] > 0 for values in expected.values())


def test_ltv_cac_with_the_lookback_and_margin(built):
    expected = expected_ltv_cac(built.raw, CHANGED)
    got = _table(built.path, "fct_ltv_cac_monthly", "month_start")
    assert set(got) == set(expected)
    for month, values in expected.items():
        assert {c: got[month][c] for c in values} == pytest.approx(values), month
    assert any(v["ltv_cac_ratio"] is not None for v in expected.values())


def test_k_factor_with_the_invite_windows(built):
    expected = expected_k_factor(built.raw, CHANGED)
    got = _table(built.path, "fct_k_factor_monthly", "cohort_month")
    assert set(got) == set(expected)
    for month, (users, inviting, sent, converted, median_days, complete) in expected.items():
        row = got[month]
        assert (row["cohort_users"], row["inviting_users"], row["invites_sent"], row["invites_converted"],
                row["is_complete"]) == (users, inviting, sent, converted, complete), month
        assert row["k_factor"] == pytest.approx(converted / users), month
        assert row["median_cycle_time_days"] == pytest.approx(median_days), month
    assert {row[5] for row in expected.values()} == {True, False}


def test_latency_percentiles_to_the_decimals_set(built):
    """p99 rounded to the decimals set. An exact half (x.x5) is left out: the model rounds a double,
    which may lie either side of it."""
    step = Fraction(1, 10**CHANGED.latency_decimals)
    got = {}
    with duckdb.connect(str(built.path), read_only=True) as con:
        for day, version, feature, p99 in con.execute(
                "select activity_date, model_version, feature, latency_p99_ms from metrics.fct_ai_suggestions_daily"
                " where latency_p99_ms is not null").fetchall():
            got[(day, version, feature)] = p99
    expected = expected_latency_p99(built.raw, CHANGED)
    assert set(got) == set(expected)
    compared = 0
    for key, exact in expected.items():
        if (exact / step) % 1 != Fraction(1, 2):
            assert got[key] == pytest.approx(float(round(exact / step) * step), abs=1e-9), key
            compared += 1
    assert compared > len(expected) / 2


@pytest.mark.parametrize("setting", [
    "reporting_timezone", "active_event_names", "mau_window_days", "ltv_lookback_months", "gross_margin_rate",
    "invite_window_days", "invite_conversion_days", "activation_event_name", "activation_window_days",
    "core_action_event_name", "north_star_min_core_actions", "latency_decimals",
])
def test_each_changed_setting_changes_the_expected_numbers(built, setting):
    """The comparisons above would fail if the build ignored any one of these settings: with its
    default instead, some expected value differs. (as_of_date: the last rows' dates above;
    customer_conversion_window_days and late_arrival_days only reach the semantic layer's
    conversion metrics and refreshes: the build above shows they break nothing.)"""
    reset = replace(CHANGED, **{setting: getattr(DEFAULTS, setting)})
    if setting == "latency_decimals":
        step = Fraction(1, 10**CHANGED.latency_decimals)
        assert any(round(v / step) * step != v for v in expected_latency_p99(built.raw, CHANGED).values())
        return
    expectations = [expected_stickiness, expected_north_star, expected_activation, expected_ltv_cac, expected_k_factor]
    assert any(f(built.raw, reset) != f(built.raw, CHANGED) for f in expectations)


# -- The experiments, with every key changed -----------------------------------------------------

def _metric_settings(settings: Settings) -> MetricSettings:
    return MetricSettings(settings.reporting_timezone, settings.as_of_date, settings.active_event_names,
                          settings.activation_event_name, settings.core_action_event_name,
                          settings.north_star_min_core_actions)


METRIC_SETTINGS = _metric_settings(CHANGED)
SUM_COLUMNS = ("units", "value_sum", "value_sum_squares", "denominator_sum", "denominator_sum_squares",
               "value_denominator_sum", "covariate_sum", "covariate_sum_squares", "value_covariate_sum")
BINARY_KINDS = ("conversion", "retention")


def _experiment(experiment_id: str) -> dict:
    return next(e for e in EXPERIMENTS if e["id"] == experiment_id)


@pytest.fixture(scope="module")
def expected(built) -> Expected:
    return expected_experiments(built.raw.experiments, METRIC_SETTINGS, EXPERIMENTS)


@pytest.fixture(scope="module")
def readouts(built) -> dict:
    """The readout of each experiment (read only: nothing is written)."""
    from product_metrics.experiments.commands import compute_readouts
    from product_metrics.relations import Relations
    from product_metrics.warehouse import Warehouse

    with Warehouse.open(built.path, None) as warehouse:
        return {r.experiment.experiment_id: r for r in compute_readouts(warehouse, Relations.default())}


def test_experiments_runtime_units_and_exclusions(built, expected):
    got = _table(built.path, "fct_experiments", "experiment_id")
    assert set(got) == {e["id"] for e in EXPERIMENTS}
    for experiment in EXPERIMENTS:
        row = got[experiment["id"]]
        assert {c: row[c] for c in expected.experiments[experiment["id"]]} == expected.experiments[experiment["id"]]
        assert (row["hypothesis"], row["owner_name"], row["owner_email"], row["start_date"], row["end_date"]) == (
            experiment["hypothesis"], experiment["owner"]["name"], experiment["owner"].get("email"),
            dt.date.fromisoformat(experiment["start_date"]), dt.date.fromisoformat(experiment["end_date"]))
        keys = ("minimum_runtime_days", "alpha", "correction", "sequential_n_star", "cuped_lookback_days")
        assert {k: row[k] for k in keys} == {k: experiment_setting(experiment, k) for k in keys}, experiment["id"]
    # The as-of date ends every experiment but the one running to 2026-06-14; the week cut off
    # core_action_shortcut's dates leaves its later users outside them; larger_model's users first
    # exposed before its later start date count from their next exposure in the dates.
    assert {e: r["is_ended"] for e, r in expected.experiments.items()} == {
        "larger_model": True, "core_action_shortcut": True, "onboarding_tips": True, "pricing_page_redesign": False}
    assert expected.experiments["pricing_page_redesign"]["runtime_days"] == 22
    assert expected.experiments["core_action_shortcut"]["excluded_outside_dates"] > 50
    assert all(e["excluded_multiple_variations"] > 0 for e in expected.experiments.values())


def test_experiment_variations_weights_and_units(built, expected):
    with duckdb.connect(str(built.path), read_only=True) as con:
        got = {(e, v): (i, w, n) for e, v, i, w, n in con.execute(
            "select experiment_id, variation, variation_index, weight, units from metrics.fct_experiment_variations"
        ).fetchall()}
    assert got == {(e["id"], v["name"]): (i, v["weight"], expected.variation_units[(e["id"], v["name"])])
                   for e in EXPERIMENTS for i, v in enumerate(e["variations"])}


def test_experiment_metrics_and_unmeasured_guardrails(built, expected):
    """Named guardrails, none ([]) and the goals' governance guardrails (null) that can be measured."""
    with duckdb.connect(str(built.path), read_only=True) as con:
        roles = {(e, m): r for e, m, r in con.execute(
            "select experiment_id, metric_name, metric_role from intermediate.int_experiment_metrics").fetchall()}
        unmeasured = set(con.execute(
            "select experiment_id, metric_name from intermediate.int_experiment_unmeasured_guardrails").fetchall())
    assert roles == {(e["id"], m): r for e in EXPERIMENTS for m, r in metrics_of(e).items()}
    assert roles == expected.metric_roles
    assert {m for (e, m), r in roles.items() if r == "guardrail" and e == "onboarding_tips"} == {"pm_nps"}
    assert unmeasured == {("onboarding_tips", "pm_churn_rate"), ("onboarding_tips", "pm_median_time_to_activate_hours")}
    assert not [m for (e, m), r in roles.items() if r == "guardrail" and e == "core_action_shortcut"]


def test_experiment_statistics_per_arm_metric_and_exposure_date(built, expected):
    """Units, Σy, Σy² (ratio: the denominators' sums; CUPED: the covariate's) of each arm, metric and
    exposure date; summed over the dates they are the arm's."""
    with duckdb.connect(str(built.path), read_only=True) as con:
        cursor = con.execute("select * from metrics.fct_experiment_statistics")
        columns = [c[0] for c in cursor.description]
        got = {(r["experiment_id"], r["variation"], r["metric_name"], r["exposure_date"]): r
               for r in (dict(zip(columns, row)) for row in cursor.fetchall())}
    assert set(got) == set(expected.statistics)
    for key, sums in expected.statistics.items():
        row = got[key]
        assert [c for c in SUM_COLUMNS if row[c] is None] == [c for c in SUM_COLUMNS if sums[c] is None], key
        assert {c: float(row[c]) for c in SUM_COLUMNS if sums[c] is not None} == pytest.approx(
            {c: v for c, v in sums.items() if v is not None}, rel=1e-9, abs=1e-9), key
        assert (row["metric_role"], row["metric_kind"]) == (expected.metric_roles[(key[0], key[2])], CATALOG[key[2]][0])
    # Every kind is compared, each with units in every arm; capping and CUPED where set.
    assert {CATALOG[m][0] for _, _, m, _ in expected.statistics} == {"conversion", "count", "sum", "ratio", "retention"}
    for experiment in EXPERIMENTS:
        for metric in metrics_of(experiment):
            assert all(arm_sums(expected.statistics, experiment["id"], v["name"], metric)["units"] > 10
                       for v in experiment["variations"]), (experiment["id"], metric)


def _arm(sums: dict, kind: str) -> dict:
    """An arm's sums as stats.compare takes them."""
    arm = {"n": sums["units"], "sum": sums["value_sum"], "sum_squares": sums["value_sum_squares"]}
    if kind == "ratio":
        arm |= {"denominator_sum": sums["denominator_sum"], "denominator_sum_squares": sums["denominator_sum_squares"],
                "sum_products": sums["value_denominator_sum"]}
    if sums["covariate_sum"] is not None:
        arm |= {"covariate_sum": sums["covariate_sum"], "covariate_sum_squares": sums["covariate_sum_squares"],
                "covariate_sum_products": sums["value_covariate_sum"]}
    return arm


def _compare(expected: Expected, experiment: dict, variation: str, metric: str, *, relative: bool, **options):
    """stats.compare on the expected arms, with the experiment's alpha and sequential setting unless
    `options` says otherwise."""
    from product_metrics.experiments.stats import compare

    control = experiment["variations"][0]["name"]
    kind = CATALOG[metric][0]
    options = {"alpha": experiment_setting(experiment, "alpha"),
               "sequential_n_star": experiment_setting(experiment, "sequential_n_star")} | options
    return compare(_arm(arm_sums(expected.statistics, experiment["id"], control, metric), kind),
                   _arm(arm_sums(expected.statistics, experiment["id"], variation, metric), kind),
                   relative=relative, **options)


def _interval(comparison) -> tuple:
    return comparison.effect, comparison.ci_lower, comparison.ci_upper


def test_readout_with_the_changed_alpha_and_correction(readouts, expected):
    """larger_model: alpha 0.1 (90% intervals, narrower than 95%) and Benjamini-Hochberg over its
    three goals; its count and ratio metrics compared on the expected sums."""
    from product_metrics.experiments.stats import adjust_p_values

    experiment, readout = _experiment("larger_model"), readouts["larger_model"]
    assert readout.experiment.alpha == 0.1
    for result in readout.results:
        assert result.variation == "larger_model" and not result.sequential
        absolute = _compare(expected, experiment, result.variation, result.metric_name, relative=False)
        relative = _compare(expected, experiment, result.variation, result.metric_name, relative=True)
        assert (result.absolute_effect, result.absolute_ci_lower, result.absolute_ci_upper) == pytest.approx(
            _interval(absolute), rel=1e-9), result.metric_name
        assert (result.relative_effect, result.relative_ci_lower, result.relative_ci_upper) == pytest.approx(
            _interval(relative), rel=1e-9), result.metric_name
        assert result.p_value == pytest.approx(relative.p_value, rel=1e-9)
        at_95 = _compare(expected, experiment, result.variation, result.metric_name, relative=False, alpha=0.05)
        assert at_95.ci_upper - at_95.ci_lower > 1.1 * (result.absolute_ci_upper - result.absolute_ci_lower)
        deciding = result.adjusted_p_value if result.metric_role == "goal" else result.p_value
        assert result.is_significant == (deciding < 0.1)
        assert result.cuped_applied == (result.metric_name == "pm_ai_suggestions")  # CUPED: not for ratios
    goals = [r for r in readout.results if r.metric_role == "goal"]
    raw_p = [r.p_value for r in goals]
    assert [r.adjusted_p_value for r in goals] == pytest.approx(adjust_p_values(raw_p, "benjamini_hochberg"))
    assert adjust_p_values(raw_p, "benjamini_hochberg") != pytest.approx(adjust_p_values(raw_p, "holm"))


def test_readout_with_sequential_testing(readouts, expected):
    """core_action_shortcut: sequential_n_star 2000 widens the interval of the fixed horizon; Holm
    over its two goals; CUPED over its 21 days."""
    from product_metrics.experiments.stats import adjust_p_values

    experiment, readout = _experiment("core_action_shortcut"), readouts["core_action_shortcut"]
    result = next(r for r in readout.results if r.metric_name == "pm_core_actions")
    assert result.sequential and result.cuped_applied
    sequential = _compare(expected, experiment, "shortcut", "pm_core_actions", relative=False)
    fixed = _compare(expected, experiment, "shortcut", "pm_core_actions", relative=False, sequential_n_star=None)
    assert (result.absolute_effect, result.absolute_ci_lower, result.absolute_ci_upper) == pytest.approx(
        _interval(sequential), rel=1e-9)
    assert sequential.effect == pytest.approx(fixed.effect)
    assert sequential.ci_upper - sequential.ci_lower > 1.2 * (fixed.ci_upper - fixed.ci_lower)
    assert all(r.sequential for r in readout.results)
    goals = [r for r in readout.results if r.metric_role == "goal"]
    assert [r.adjusted_p_value for r in goals] == pytest.approx(adjust_p_values([r.p_value for r in goals], "holm"))


def test_readout_with_the_changed_weights_and_runtime(readouts, expected):
    """pricing_page_redesign's weights 0.45/0.55 meet the lost control exposures (at 50/50 the
    mismatch is flagged); onboarding_tips ended before its 35-day minimum runtime: invalid; without
    CUPED (lookback 0) nothing is adjusted."""
    from product_metrics.experiments.stats import sample_ratio_mismatch

    units = [expected.variation_units[("pricing_page_redesign", v)] for v in ("control", "simple_pricing")]
    pricing = readouts["pricing_page_redesign"]
    assert pricing.srm_p_value == pytest.approx(sample_ratio_mismatch(units, [0.45, 0.55]).p_value)
    assert pricing.srm_p_value > 0.001 > sample_ratio_mismatch(units, [0.5, 0.5]).p_value
    assert pricing.verdict.decision != "invalid"
    onboarding = readouts["onboarding_tips"]
    assert onboarding.srm_p_value > 0.001
    assert (onboarding.verdict.decision, onboarding.verdict.reason) == (
        "invalid", "too short: ended after 28 days, before its minimum runtime of 35 days")
    assert not any(r.cuped_applied for r in onboarding.results)
    assert {r.variation for r in onboarding.results} == {"short_tips", "long_tips"}


@pytest.mark.parametrize("setting", [
    "reporting_timezone", "active_event_names", "activation_event_name", "core_action_event_name",
    "north_star_min_core_actions",
])
def test_each_changed_setting_changes_the_expected_experiment_numbers(built, expected, setting):
    """The experiments' comparisons above would fail if their per-user measures ignored one of these."""
    reset = _metric_settings(replace(CHANGED, **{setting: getattr(DEFAULTS, setting)}))
    assert expected_experiments(built.raw.experiments, reset, EXPERIMENTS) != expected


# Each key of an experiment set back to its default (dates and weights: the demo definitions').
RESETS = [
    ("larger_model", "start_date"), ("larger_model", "conversion_window_days"), ("larger_model", "exposure_delay_hours"),
    ("larger_model", "cuped_lookback_days"), ("larger_model", "capping"), ("larger_model", "guardrail_metrics"),
    ("core_action_shortcut", "end_date"), ("core_action_shortcut", "capping"),
    ("core_action_shortcut", "cuped_lookback_days"), ("core_action_shortcut", "guardrail_metrics"),
    ("onboarding_tips", "retention_week"), ("onboarding_tips", "cuped_lookback_days"),
    ("onboarding_tips", "conversion_window_days"), ("pricing_page_redesign", "conversion_window_days"),
    ("pricing_page_redesign", "capping"), ("pricing_page_redesign", "guardrail_metrics"),
]


@pytest.mark.parametrize(("experiment_id", "key"), RESETS)
def test_each_changed_experiment_key_changes_the_expected_numbers(built, expected, experiment_id, key):
    """The comparisons above would fail if the build ignored any one of these keys. (alpha,
    correction, sequential_n_star, weights and minimum_runtime_days: the readout tests show theirs.)"""
    demo = DEMO_EXPERIMENTS[experiment_id]
    default = getattr(demo, key).isoformat() if key.endswith("_date") else EXPERIMENT_DEFAULTS[key]
    assert _experiment(experiment_id)[key] != default
    reset = [{**e, key: default} if e["id"] == experiment_id else e for e in EXPERIMENTS]
    assert expected_experiments(built.raw.experiments, METRIC_SETTINGS, reset) != expected


# -- Every unit test pins what it reads -----------------------------------------------------------

# Read only by a refresh (macros/incremental): a unit test has no table of its own and derives
# every row, so it never reads them. raw_database: only to name it when a raw table is missing
# (macro require_raw_input), which is not checked in a unit test (its inputs are fixtures).
NOT_READ_BY_UNIT_TESTS = {"product_metrics__late_arrival_days", "product_metrics__test_window_start",
                          "product_metrics__raw_database"}


def _vars_read_by_models() -> dict[str, set[str]]:
    """Per model, the vars its SQL and the macros it calls (transitively, with their per-engine
    `<engine>__` versions) read. `raw_table('<table>')` reads var product_metrics__<table>_relation
    (a name it builds, so the scan adds it)."""
    var_call = re.compile(r"""\bvar\(\s*['"](product_metrics__\w+)['"]""")
    raw_table_call = re.compile(r"""\braw_table\(\s*['"](\w+)['"]""")
    macro_def = re.compile(r"\{%-?\s*macro\s+(\w+)\s*\(")
    bodies = {}
    for path in (REPO_ROOT / "macros").rglob("*.sql"):
        parts = macro_def.split(path.read_text())
        bodies.update(zip(parts[1::2], parts[2::2]))

    def read(text: str, seen: set[str]) -> set[str]:
        found = set(var_call.findall(text)) | {f"product_metrics__{table}_relation"
                                               for table in raw_table_call.findall(text)}
        called = set(re.findall(r"\b(\w+)\(", text))
        called |= {name for name in bodies if name.partition("__")[2] in called}
        for name in called & bodies.keys() - seen:
            seen.add(name)
            found |= read(bodies[name], seen)
        return found

    return {path.stem: read(path.read_text(), set()) for path in (REPO_ROOT / "models").rglob("*.sql")}


def test_every_unit_test_pins_the_vars_its_model_reads():
    """A unit test's expectations hold for the vars it was written for: each var its model reads
    is pinned in the test's `overrides: vars:`, so a user's own settings never fail it."""
    reads = _vars_read_by_models()
    missing = []
    for path in (REPO_ROOT / "models").rglob("*.yml"):
        for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests") or []:
            pinned = set((test.get("overrides") or {}).get("vars") or {})
            unpinned = reads[test["model"]] - NOT_READ_BY_UNIT_TESTS - pinned
            missing += [f"{test['name']}: {name}" for name in sorted(unpinned)]
    assert reads["fct_stickiness_daily"] >= {"product_metrics__mau_window_days"}  # the scan finds macro reads
    assert "product_metrics__events_relation" in reads["base_raw__events"]
    assert missing == []
