"""Deterministic, vectorised generator of realistic raw product data, written straight into DuckDB.

The generator fabricates a year (by default) in the life of a growing product: users who sign up
through paid and organic channels, their app events, subscription orders and refunds, the marketing
spend that bought the paid users, NPS survey answers, referral invites, AI-assistant suggestions,
offline model evaluations and the exposures of four A/B experiments whose truth is known
(``DEMO_EXPERIMENTS``: a real lift, no effect, a sample-ratio mismatch, a goal win that harms a
guardrail).  The experiments' effects only add core-action events on days a user is active anyway and
change outcome / cost of AI suggestions; every other value is what it would be without them.  An
incident is planted too (``DEMO_INCIDENT``: an android release after which users in Brazil and India
lose 70% of their active days), for the week-over-week explanation to find; it only takes whole days
of events away.  Every table is built as numpy arrays (one random draw per column for all
rows at once, never a Python loop over rows) and handed to DuckDB through a registered pandas
DataFrame, so ~10M events are written in seconds.

Determinism: all randomness comes from ``numpy.random.default_rng(seed)`` and its spawned children,
one child per table, so the same arguments always give byte-identical tables and the planted bad
rows (``dirty=True``) never perturb the clean rows.  The wall clock is never consulted.

Dirty mode turns every column into VARCHAR (a CSV-like landing zone) and appends rows that the
staging layer must reject, each with exactly one rejection reason (see ``REJECTION_REASONS``).  The
clean rows are the very same rows as with ``dirty=False``, only rendered as text:

* ids and integers: plain integers (``"123"``), booleans ``"true"``/``"false"``;
* timestamps ``YYYY-MM-DD HH:MM:SS`` (naive UTC), dates ``YYYY-MM-DD``;
* money (amount_usd, spend_usd) with exactly two decimals (``"19.99"``, ``"-19.99"``);
* cost_usd with exactly six decimals (``"0.000812"``);
* SQL NULL for nulls.

Money is generated as whole cents and cost as whole micro-dollars, and the clean DOUBLE is
``cents / 100`` (``micros / 1e6``): that is the double nearest to the decimal text, so casting the
text back to DOUBLE reproduces the clean value bit for bit.

Planted rows follow the staging rules in ``REJECTION_REASONS`` order.  One trap for the SQL side:
DuckDB's ``TRY_CAST('7.5' AS INTEGER)`` rounds to 8, so the planted score ``'7.5'`` is only caught
(as ``score_out_of_range``) when score is cast to DOUBLE / DECIMAL and checked to be whole.

numpy / pandas / duckdb are imported inside the functions so that importing this module (e.g. from
the CLI) stays cheap.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from product_metrics.warehouse import open_duckdb, quote

if TYPE_CHECKING:  # only for annotations; the runtime imports live inside the functions
    import duckdb
    import numpy as np
    import pandas as pd

    # Hooks through which the experiments add events and change AI suggestions.
    _EventPlanter = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
    _AiPlanter = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]

__all__ = [
    "CHANNELS",
    "DEFAULT_END_DATE",
    "DEMO_EXPERIMENTS",
    "DEMO_INCIDENT",
    "EVENT_NAMES",
    "ID_COLUMN",
    "ORGANIC_CHANNELS",
    "PAID_CAMPAIGNS",
    "PAID_CHANNELS",
    "RAW_TABLES",
    "REJECTION_REASONS",
    "TABLE_COLUMNS",
    "TIMESTAMP_COLUMN",
    "DemoDataResult",
    "DemoExperiment",
    "DemoIncident",
    "PlantedRejection",
    "demo_experiments",
    "demo_incident",
    "generate_demo_data",
]

# ----------------------------------------------------------------------------------------------
# Vocabulary and table layout (shared with tests and the dbt sources)
# ----------------------------------------------------------------------------------------------

PAID_CHANNELS: tuple[str, ...] = ("paid_search", "paid_social", "display")
ORGANIC_CHANNELS: tuple[str, ...] = ("organic_search", "direct", "referral")
CHANNELS: tuple[str, ...] = PAID_CHANNELS + ORGANIC_CHANNELS
# Campaigns per paid channel; marketing_spend has one row per (day, channel, campaign).
PAID_CAMPAIGNS: dict[str, tuple[str, ...]] = {
    "paid_search": ("brand", "generic", "competitor"),
    "paid_social": ("prospecting", "retargeting", "lookalike"),
    "display": ("prospecting", "retargeting"),
}
COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "IN", "BR", "FR")
PLATFORMS: tuple[str, ...] = ("ios", "android", "web")
EVENT_NAMES: tuple[str, ...] = ("app_open", "page_view", "feature_used", "core_action", "share")
MODEL_VERSIONS: tuple[str, ...] = ("v1", "v2")
AI_FEATURES: tuple[str, ...] = ("autocomplete", "summarize", "reply_draft")
AI_OUTCOMES: tuple[str, ...] = ("accepted", "edited", "rejected", "ignored")

RAW_TABLES: tuple[str, ...] = (
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

# Column name -> logical kind.  The kind decides both the clean SQL type and the dirty text format.
TABLE_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "users": (
        ("user_id", "id"),
        ("signed_up_at", "timestamp"),
        ("acquisition_channel", "text"),
        ("country", "text"),
        ("platform", "text"),
    ),
    "events": (
        ("event_id", "id"),
        ("user_id", "id"),
        ("occurred_at", "timestamp"),
        ("event_name", "text"),
    ),
    "orders": (
        ("order_id", "id"),
        ("user_id", "id"),
        ("ordered_at", "timestamp"),
        ("amount_usd", "money"),
    ),
    "marketing_spend": (
        ("spend_date", "date"),
        ("channel", "text"),
        ("campaign", "text"),
        ("spend_usd", "money"),
    ),
    "nps_responses": (
        ("response_id", "id"),
        ("user_id", "id"),
        ("responded_at", "timestamp"),
        ("score", "integer"),
    ),
    "invites": (
        ("invite_id", "id"),
        ("inviter_user_id", "id"),
        ("invitee_user_id", "id"),
        ("sent_at", "timestamp"),
    ),
    "ai_suggestions": (
        ("suggestion_id", "id"),
        ("user_id", "id"),
        ("created_at", "timestamp"),
        ("model_version", "text"),
        ("feature", "text"),
        ("latency_ms", "integer"),
        ("cost_usd", "cost"),
        ("outcome", "text"),
        ("escalated_to_human", "boolean"),
    ),
    "model_predictions": (
        ("prediction_id", "id"),
        ("model_version", "text"),
        ("evaluated_at", "timestamp"),
        ("predicted_label", "boolean"),
        ("actual_label", "boolean"),
    ),
    "experiment_exposures": (
        ("exposure_id", "id"),
        ("experiment_id", "text"),
        ("variation", "text"),
        ("user_id", "id"),
        ("exposed_at", "timestamp"),
    ),
}

# The id column (None: marketing_spend has no key, so none of its rows is a duplicate) and the
# timestamp column that decides dedup order / missing_timestamp, per table.
ID_COLUMN: dict[str, str | None] = {
    "users": "user_id",
    "events": "event_id",
    "orders": "order_id",
    "marketing_spend": None,
    "nps_responses": "response_id",
    "invites": "invite_id",
    "ai_suggestions": "suggestion_id",
    "model_predictions": "prediction_id",
    "experiment_exposures": "exposure_id",
}
TIMESTAMP_COLUMN: dict[str, str] = {
    "users": "signed_up_at",
    "events": "occurred_at",
    "orders": "ordered_at",
    "marketing_spend": "spend_date",
    "nps_responses": "responded_at",
    "invites": "sent_at",
    "ai_suggestions": "created_at",
    "model_predictions": "evaluated_at",
    "experiment_exposures": "exposed_at",
}

# In the order the staging layer applies them: a row's reason is the first one that applies.
REJECTION_REASONS: tuple[str, ...] = (
    "missing_key",
    "duplicate",
    "invalid_value",
    "missing_timestamp",
    "unknown_user",
    "before_signup",
    "missing_channel",
    "invalid_amount",
    "score_out_of_range",
    "self_invite",
    "invalid_outcome",
    "unknown_experiment",
    "unknown_variation",
)

# ----------------------------------------------------------------------------------------------
# Model parameters (tuned so 200k users over 365 days give ~10M events and plausible metrics)
# ----------------------------------------------------------------------------------------------

_DAY = 86_400
_HOUR = 3_600

SIGNUP_GROWTH = 1.45  # log of (last-day / first-day signup rate): ~4x growth over the window
WEEKEND_SIGNUP_FACTOR = 0.85

COUNTRY_P = (0.34, 0.10, 0.09, 0.22, 0.15, 0.10)
UTC_OFFSET_HOURS = (-5.0, 0.0, 1.0, 5.5, -3.0, 1.0)  # representative local time per country
# P(platform | country), rows follow COUNTRIES, columns PLATFORMS.
PLATFORM_P_BY_COUNTRY = (
    (0.45, 0.30, 0.25),
    (0.45, 0.30, 0.25),
    (0.35, 0.40, 0.25),
    (0.12, 0.68, 0.20),
    (0.20, 0.60, 0.20),
    (0.38, 0.37, 0.25),
)
# Channel mix drifts linearly from the first to the last day (paid social and referrals grow).
CHANNEL_P_START = (0.24, 0.16, 0.08, 0.22, 0.18, 0.12)
CHANNEL_P_END = (0.22, 0.22, 0.07, 0.20, 0.14, 0.15)
NULL_CHANNEL_SHARE = 0.02  # acquisition_channel NULL (staging maps it to 'unknown')
MESSY_CHANNEL_SHARE = 0.025  # acquisition_channel with stray case / whitespace (staging normalises)

# Engagement multipliers: organic and referral users retain better than display / social users,
# native apps better than web.
CHANNEL_ENGAGEMENT = (1.0, 0.8, 0.7, 1.1, 1.2, 1.25)
PLATFORM_ENGAGEMENT = (1.1, 0.95, 0.85)
ENGAGEMENT_SIGMA = 0.7  # per-user log-normal spread of engagement

# Probability of being active k >= 1 days after signup:
#   engagement * (FAST_RATE * exp(-(k-1)/TAU_FAST) + SLOW_RATE * exp(-(k-1)/TAU_SLOW))
# i.e. a steep early drop-off plus a slowly decaying loyal core.
FAST_RATE, TAU_FAST = 0.42, 6.0
SLOW_RATE, TAU_SLOW = 0.10, 150.0
WEEKEND_SKIP = 0.25  # share of weekend active days that do not happen
EVENTS_PER_ACTIVE_DAY = 3.8  # mean extra events after the app_open that starts an active day
SIGNUP_DAY_EXTRA_EVENTS = 5.0  # onboarding day is busier
OTHER_EVENT_P = (0.04, 0.42, 0.28, 0.22, 0.04)  # names of events after the day's first app_open

CHANNEL_CONVERSION = (0.12, 0.07, 0.05, 0.10, 0.14, 0.15)  # P(ever becomes a customer)
MONTHLY_CHURN = 0.14
PRICE_CENTS = (999, 1999, 2999, 4999, 9900, 19900)
PRICE_P = (0.30, 0.27, 0.15, 0.14, 0.09, 0.05)
REFUND_SHARE = 0.055

CAC_USD = (7.0, 11.0, 19.0)  # target cost per signed-up user, per paid channel (CAC per customer is ~10x)
CAMPAIGN_WEIGHTS: dict[str, tuple[float, ...]] = {
    "paid_search": (0.2, 0.6, 0.2),
    "paid_social": (0.5, 0.3, 0.2),
    "display": (0.6, 0.4),
}

NPS_RESPONSE_RATE = 0.12  # of users shown the in-app survey
NPS_SAME_MONTH_REPEAT = 0.15
NPS_QUARTERLY_REPEAT = 0.20
NPS_ANONYMOUS_SHARE = 0.10

INVITER_SHARE = 0.22
INVITE_LATE_CONVERSION = 0.03  # converted invites whose invitee joins 15-45 days later
INVITE_DOUBLE_INVITED = 0.06  # converted invitees who also got a second invite

V2_LAUNCH_FRACTION = 0.55  # v2 launches 55% into the window, then ramps up
AI_DAY_SHARE = 0.35  # share of active user-days with AI suggestions
AI_EXTRA_PER_DAY = 1.0
LATENCY_MEDIAN_MS = (300.0, 550.0)
FEATURE_P = (0.5, 0.25, 0.25)
FEATURE_LATENCY = (0.8, 1.35, 1.1)
COST_BASE_USD = (0.0009, 0.0019)
FEATURE_COST = (0.6, 1.7, 1.3)
OUTCOME_P = ((0.30, 0.15, 0.20, 0.35), (0.42, 0.18, 0.12, 0.28))  # per model version

PREDICTIONS_PER_DAY = 300
PREDICTION_PREVALENCE = 0.3
PREDICTION_RECALL = (0.70, 0.78)
PREDICTION_FPR = (0.15, 0.07)
# A data shift 80% into the window costs both models recall (v1 more): the week-over-week f1 drop
# that fct_model_performance_weekly.f1_change and its governance alert are there to catch.
DRIFT_FRACTION = 0.80
DRIFT_RECALL_LOSS = (0.15, 0.08)

# Experiments (raw table experiment_exposures).  A user is exposed at their first touch point in the
# experiment's dates (the first active day, or for the AI experiment the first AI suggestion), and
# later touch points in the dates log the exposure again now and then.
EXPOSURE_REPEAT_P = 0.5  # a later touch point in the dates logs the exposure again
EXPOSURE_DOUBLE_LOG_P = 0.2  # the first exposure is logged twice, minutes apart
MULTIPLE_VARIATION_SHARE = 0.005  # exposed users also logged once with another variation (excluded)
LATE_EXPOSURE_P = 0.1  # users first seen in the 3 days after end_date logged anyway ('outside_dates')
EFFECT_WINDOW_DAYS = 14  # a treatment stays on this long after end_date: every conversion window is treated
# core_action_shortcut: each core action of a treated user is followed by another with this probability.
CORE_ACTION_REPEAT_SHARE = 0.25
# larger_model: acceptance rises by this share (rejected / ignored suggestions turned into accepted,
# per model version) and each suggestion costs this factor more.
LARGER_MODEL_ACCEPTANCE_LIFT = 0.15
LARGER_MODEL_COST_FACTOR = 1.4
SRM_CONTROL_LOGGED_SHARE = 0.82  # pricing_page_redesign: a logging bug loses 18% of the control's users

DEFAULT_END_DATE = dt.date(2026, 6, 30)


@dataclass(frozen=True)
class DemoExperiment:
    """A demo experiment: its definition (the same as integration_tests/dbt_project.yml's var
    product_metrics__experiments) and the truth the generator plants.

    Dates are those of the default window (ending DEFAULT_END_DATE); ``demo_experiments`` moves them
    with the window's end.  ``true_relative_effects``: metric -> expected (treatment - control) /
    control of every non-control variation, over the conversion window; metrics not listed have no
    planted effect either (0).
    """

    experiment_id: str
    hypothesis: str
    owner_name: str
    owner_email: str
    start_date: dt.date
    end_date: dt.date
    variations: tuple[tuple[str, float], ...]  # (name, weight), control first
    goal_metrics: tuple[str, ...]
    guardrail_metrics: tuple[str, ...] | None  # None: the goal metrics' governance guardrails
    population: str  # 'active': exposed on the first active day; 'ai': at the first AI suggestion
    logged_share: tuple[float, ...]  # per variation, share of its users whose exposures are logged
    true_relative_effects: tuple[tuple[str, float], ...]
    expected_decision: str  # what the readout should decide on the default demo data
    planted: str  # the story, in words

    @property
    def variation_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.variations)

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(weight for _, weight in self.variations)


DEMO_EXPERIMENTS: dict[str, DemoExperiment] = {
    e.experiment_id: e
    for e in (
        DemoExperiment(
            experiment_id="larger_model",
            hypothesis="A larger model writes suggestions that users accept more often.",
            owner_name="Ana Ruiz",
            owner_email="ana@example.com",
            start_date=dt.date(2026, 4, 6),
            end_date=dt.date(2026, 5, 3),
            variations=(("control", 0.5), ("larger_model", 0.5)),
            goal_metrics=("pm_ai_acceptance_rate",),
            guardrail_metrics=None,
            population="ai",
            logged_share=(1.0, 1.0),
            true_relative_effects=(
                ("pm_ai_acceptance_rate", LARGER_MODEL_ACCEPTANCE_LIFT),
                ("pm_ai_cost_per_1k_suggestions_usd", LARGER_MODEL_COST_FACTOR - 1.0),
                ("pm_ai_hitl_rate", 0.0),
            ),
            expected_decision="do_not_ship",
            planted=(
                "Treated users' suggestions are accepted 15% more often (rejected or ignored ones turned "
                "into accepted) and cost 40% more: the goal wins, the cost guardrail is harmed."
            ),
        ),
        DemoExperiment(
            experiment_id="core_action_shortcut",
            hypothesis="A one-tap shortcut to the core action makes active users do it more often.",
            owner_name="Maya Chen",
            owner_email="maya.chen@example.com",
            start_date=dt.date(2026, 5, 4),
            end_date=dt.date(2026, 5, 31),
            variations=(("control", 0.5), ("shortcut", 0.5)),
            goal_metrics=("pm_core_actions",),
            guardrail_metrics=("pm_active_user_days", "pm_dormant_users"),
            population="active",
            logged_share=(1.0, 1.0),
            true_relative_effects=(
                ("pm_core_actions", CORE_ACTION_REPEAT_SHARE),
                ("pm_active_user_days", 0.0),
                ("pm_dormant_users", 0.0),
            ),
            expected_decision="ship",
            planted=(
                "Each core action of a treated user is followed by another with probability 0.25, on days "
                "the user is active anyway: +25% core actions per user, active days unchanged."
            ),
        ),
        DemoExperiment(
            experiment_id="onboarding_tips",
            hypothesis="Tips on the first screens make users come back more often.",
            owner_name="Tom Berger",
            owner_email="tom.berger@example.com",
            start_date=dt.date(2026, 5, 11),
            end_date=dt.date(2026, 6, 7),
            variations=(("control", 0.5), ("short_tips", 0.25), ("long_tips", 0.25)),
            goal_metrics=("pm_retention_rate", "pm_active_user_days"),
            guardrail_metrics=None,
            population="active",
            logged_share=(1.0, 1.0, 1.0),
            true_relative_effects=(("pm_retention_rate", 0.0), ("pm_active_user_days", 0.0)),
            expected_decision="keep_running",
            planted="No effect: the assignment is independent of everything the users do.",
        ),
        DemoExperiment(
            experiment_id="pricing_page_redesign",
            hypothesis="A simpler pricing page turns more users into paying customers.",
            owner_name="Priya Natarajan",
            owner_email="priya.natarajan@example.com",
            start_date=dt.date(2026, 5, 18),
            end_date=dt.date(2026, 6, 14),
            variations=(("control", 0.5), ("simple_pricing", 0.5)),
            goal_metrics=("pm_orders",),
            guardrail_metrics=("pm_revenue_usd",),
            population="active",
            logged_share=(SRM_CONTROL_LOGGED_SHARE, 1.0),
            true_relative_effects=(("pm_orders", 0.0), ("pm_revenue_usd", 0.0)),
            expected_decision="invalid",
            planted=(
                "Sample-ratio mismatch: assigned 50/50, but a logging bug loses the exposures of 18% of "
                "the control's users, so ~45/55 is logged."
            ),
        ),
    )
}


def demo_experiments(end_date: dt.date = DEFAULT_END_DATE, days: int = 365) -> dict[str, DemoExperiment]:
    """The demo experiments of the window of ``days`` days ending ``end_date``: their dates keep their
    distance to the window's end; an experiment starting before the window is left out."""
    shift = end_date - DEFAULT_END_DATE
    start = end_date - dt.timedelta(days=days - 1)
    moved = {
        key: replace(e, start_date=e.start_date + shift, end_date=e.end_date + shift)
        for key, e in DEMO_EXPERIMENTS.items()
    }
    return {key: e for key, e in moved.items() if e.start_date >= start}


@dataclass(frozen=True)
class DemoIncident:
    """The demo's planted incident: a platform release after which that platform's users in some
    countries lose whole active days (every event of the day, core actions included).

    The date is that of the default window (ending DEFAULT_END_DATE); ``demo_incident`` places it in
    other windows.  Each active day of an affected user from ``release_date`` on happens with
    probability ``kept_share``, independently; the day a user signs up always happens (signups are
    untouched), and so does every other table (orders, AI suggestions, NPS answers, exposures).
    """

    release_date: dt.date  # a Monday: the first day of the first full week of the incident
    platform: str
    countries: tuple[str, ...]
    kept_share: float  # share of the affected users' active days that still happen
    planted: str  # the story, in words


DEMO_INCIDENT = DemoIncident(
    # The demo's reporting cutoff is 2026-07-01 (the day after the last event): its latest complete
    # week, 2026-06-22 .. 06-28, is the first full week of the incident, and June holds 9 of its days.
    release_date=dt.date(2026, 6, 22),
    platform="android",
    countries=("BR", "IN"),
    kept_share=0.3,
    planted=(
        "An android release breaks the app for users in Brazil and India: from the Monday it ships, "
        "they lose 70% of their active days (the whole day's events, core actions included); "
        "signups, orders and every other platform and country are untouched."
    ),
)


def demo_incident(end_date: dt.date = DEFAULT_END_DATE, days: int = 365) -> DemoIncident | None:
    """The demo incident of the window of ``days`` days ending ``end_date``: released on the Monday of
    the window's latest complete Monday-to-Sunday week (the reporting cutoff is the day after
    ``end_date``), so week over week compares its first full week with the week before.  None when
    the window does not hold a whole week before the release."""
    last_sunday = end_date - dt.timedelta(days=(end_date.weekday() + 1) % 7)
    release = last_sunday - dt.timedelta(days=6)
    start = end_date - dt.timedelta(days=days - 1)
    if release - dt.timedelta(days=7) < start:
        return None
    return replace(DEMO_INCIDENT, release_date=release)


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlantedRejection:
    """One deliberately bad raw row and the reason staging must reject it with."""

    source_table: str  # raw table name, e.g. "events"
    source_key: str  # raw id text ('' for a NULL id); marketing_spend: "date|channel|campaign|spend_usd"
    reason: str  # one of REJECTION_REASONS


@dataclass
class DemoDataResult:
    """What generate_demo_data wrote."""

    row_counts: dict[str, int]  # raw table -> rows written (including planted bad rows)
    planted: list[PlantedRejection]  # every planted bad row (empty unless dirty)
    start_date: dt.date
    end_date: dt.date  # last date that has data (inclusive)
    # The experiments in experiment_exposures (demo_experiments of the window): id -> definition.
    experiments: dict[str, DemoExperiment] = field(default_factory=dict)
    # The incident in events (demo_incident of the window), None when switched off or none fits.
    incident: DemoIncident | None = None


def generate_demo_data(
    database: str | pathlib.Path,
    *,
    users: int = 5000,
    seed: int = 42,
    days: int = 365,
    end_date: dt.date = DEFAULT_END_DATE,
    dirty: bool = False,
    schema: str = "raw",
    incident: bool = True,
) -> DemoDataResult:
    """(Re)create the raw tables (RAW_TABLES) in ``schema`` of the DuckDB file ``database``.

    ``users`` users sign up during the ``days`` days ending at ``end_date`` (inclusive).  With
    ``dirty=True`` every column is VARCHAR and rejectable rows are appended (listed in
    ``result.planted``); that needs at least one clean row per table (~50+ users), otherwise
    ValueError. Any number of users from 1 builds (tiny data gives nulls, never an error).  Same arguments -> identical tables.  All tables are replaced in one transaction.
    experiment_exposures holds the demo experiments that fit the window (``demo_experiments``); it is
    empty, and gets no planted rows, when none fits.  ``incident`` plants the demo incident
    (``demo_incident``) in events; switched off, events gain back exactly the incident's days and
    every other table is the same.  Events keep the ids they have without the incident, so the
    vanished days leave gaps in event_id.
    """
    import numpy as np

    if users < 1:
        raise ValueError("users must be at least 20")
    if days < 14:
        raise ValueError("days must be at least 14")
    win = _Window.build(end_date, days)

    # One independent stream per table (and one for planting) so tables do not depend on each
    # other's draw counts and dirty mode leaves the clean rows untouched.  The experiments' stream
    # comes last: spawned children do not depend on how many follow, so the other streams are those
    # of a generator without experiments; the incident's stream follows it likewise.
    streams = dict(
        zip(
            (
                "users", "activity", "events", "orders", "spend", "nps", "invites", "ai", "pred", "plant",
                "experiments", "incident",
            ),
            np.random.default_rng(seed).spawn(12),
        )
    )
    planted_incident = demo_incident(end_date, days) if incident else None

    con = open_duckdb(pathlib.Path(database), read_only=False, create=True)
    try:
        con.execute("SET enable_progress_bar = false")
        # One transaction: readers see either the old or the complete new data set, and a failure
        # (e.g. too little data for dirty mode) leaves the database untouched.
        con.execute("BEGIN TRANSACTION")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
        writer = _Writer(con, schema, dirty)

        u = _generate_users(streams["users"], users, win)
        writer.write("users", u.frame(), u.signup_ts)

        activity = _generate_activity(streams["activity"], u, win)
        experiments = _Experiments(streams["experiments"], u, win)
        experiments.expose_active_users(activity)
        vanished = (
            _incident_days(streams["incident"], u, activity, win, planted_incident)
            if planted_incident is not None else None
        )
        writer.write(
            "events",
            *_generate_events(streams["events"], u, activity, win, experiments.plant_core_actions, vanished),
        )
        writer.write(
            "ai_suggestions",
            *_generate_ai_suggestions(streams["ai"], u, activity, win, experiments.expose_and_plant_ai),
        )
        writer.write("nps_responses", *_generate_nps(streams["nps"], u, activity, win))
        del activity  # the largest intermediate; free it before the remaining tables
        writer.write("orders", *_generate_orders(streams["orders"], u, win))
        writer.write("marketing_spend", *_generate_marketing_spend(streams["spend"], u, win))
        writer.write("invites", *_generate_invites(streams["invites"], u, win))
        writer.write("model_predictions", *_generate_model_predictions(streams["pred"], win))
        writer.write("experiment_exposures", *experiments.frame())

        planted: list[PlantedRejection] = []
        if dirty:
            empty = [
                table for table, rows in writer.row_counts.items()
                if rows == 0 and table != "experiment_exposures"
            ]
            if empty:  # a planted duplicate needs a clean row to copy
                raise ValueError(
                    f"too little data for dirty mode ({', '.join(empty)} empty): raise users/days"
                )
            planted = _plant_bad_rows(con, writer, u, win, streams["plant"], experiments.definitions)
        con.execute("COMMIT")
        row_counts = {table: writer.row_counts[table] for table in RAW_TABLES}
    finally:
        con.close()
    return DemoDataResult(
        row_counts=row_counts,
        planted=planted,
        start_date=win.start_date,
        end_date=win.end_date,
        experiments=dict(experiments.definitions),
        incident=planted_incident,
    )


# ----------------------------------------------------------------------------------------------
# Time window and small vectorised helpers
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    start_date: dt.date
    end_date: dt.date
    days: int
    w0: int  # epoch seconds of start_date 00:00 UTC
    w_end: int  # epoch seconds of (end_date + 1) 00:00 UTC, exclusive
    start_weekday: int  # Monday = 0

    @classmethod
    def build(cls, end_date: dt.date, days: int) -> _Window:
        start = end_date - dt.timedelta(days=days - 1)
        w0 = (start - dt.date(1970, 1, 1)).days * _DAY
        return cls(start, end_date, days, w0, w0 + days * _DAY, start.weekday())

    def v2_launch_day(self) -> int:
        return int(self.days * V2_LAUNCH_FRACTION)


def _draw_rows(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """One category per row from per-row cumulative probabilities ``cum`` (n x k)."""
    import numpy as np

    u = rng.random(cum.shape[0])
    # Category = number of inner boundaries <= u; the last category absorbs rounding slack.
    return (u[:, None] >= cum[:, :-1]).sum(axis=1).astype(np.int8)  # type: ignore[index]  # u: an array


def _time_of_day(rng: np.random.Generator, utc_offset_hours: np.ndarray) -> np.ndarray:
    """UTC second-of-day of activity for people living at ``utc_offset_hours``.

    Local activity peaks early afternoon with a second evening peak; converting to UTC puts the
    US / Brazil evenings just after UTC midnight and India's morning just before it, so the
    reporting time zone visibly shifts daily counts.
    """
    import numpy as np

    n = utc_offset_hours.shape[0]
    evening = rng.random(n) < 0.35
    local_hours = np.where(evening, rng.normal(20.5, 1.8, n), rng.normal(13.0, 3.2, n))
    seconds = np.floor((local_hours - utc_offset_hours) * _HOUR).astype(np.int64)
    return np.mod(seconds, _DAY)


def _within_day(start: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """start + offset, wrapped into [start, 86399] so the activity never leaves its UTC day."""
    import numpy as np

    tod = start + offset
    # Only the few rows that overflow pay for the (slow) integer modulo.
    over = np.flatnonzero(tod >= _DAY)
    tod[over] = start[over] + offset[over] % (_DAY - start[over])
    return tod


def _chronological(ts: np.ndarray, origin: int) -> tuple[np.ndarray, np.ndarray]:
    """(permutation, sorted ts) putting rows in time order, ties kept in their current order.

    Sorting unique (time, position) keys gives one possible answer whatever algorithm numpy picks
    for this CPU, so ids are reproducible everywhere, and a value sort is much faster than a
    stable argsort of 10M rows.
    """
    import numpy as np

    n = ts.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), ts.astype(np.int64)
    shift = n.bit_length()
    rel = ts.astype(np.int64) - origin
    assert rel.min() >= 0 and int(rel.max()).bit_length() + shift < 63
    key = (rel << shift) | np.arange(n, dtype=np.int64)
    key.sort()
    return key & ((1 << shift) - 1), (key >> shift) + origin


def _categorical(codes: np.ndarray, categories: tuple[str, ...] | list[str]) -> pd.Categorical:
    """Text column as codes + categories: DuckDB reads it as an ENUM, cast to VARCHAR on write."""
    import pandas as pd

    return pd.Categorical.from_codes(codes, categories=list(categories))


# ----------------------------------------------------------------------------------------------
# Users
# ----------------------------------------------------------------------------------------------


def _messy_channel_variants() -> list[str]:
    """Three dirty spellings per channel, e.g. ' Paid_Search ', 'PAID_SEARCH', 'paid_search '."""
    return [v for c in CHANNELS for v in (f" {c.title()} ", c.upper(), f"{c} ")]


@dataclass
class _Users:
    """User attributes, index i <-> user_id i + 1 (ids follow signup order)."""

    day: np.ndarray  # signup day index within the window
    tod: np.ndarray  # signup second of (UTC) day
    signup_ts: np.ndarray  # epoch seconds
    country: np.ndarray
    platform: np.ndarray
    channel: np.ndarray  # true acquisition channel index into CHANNELS
    channel_text: np.ndarray  # code into CHANNELS + messy variants, -1 = NULL
    engagement: np.ndarray  # per-user activity multiplier (mean ~1)
    p_day: np.ndarray  # expected share of signups per window day (drives marketing spend)
    channel_p_by_day: np.ndarray  # days x channels channel mix (drives marketing spend)

    @property
    def n(self) -> int:
        return int(self.day.shape[0])

    def utc_offset(self, idx: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.asarray(UTC_OFFSET_HOURS)[self.country[idx]]

    def frame(self) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        return pd.DataFrame(
            {
                "user_id": np.arange(1, self.n + 1, dtype=np.int64),
                "signed_up_at": self.signup_ts,
                "acquisition_channel": _categorical(
                    self.channel_text, list(CHANNELS) + _messy_channel_variants()
                ),
                "country": _categorical(self.country, COUNTRIES),
                "platform": _categorical(self.platform, PLATFORMS),
            },
            copy=False,
        )


def _generate_users(rng: np.random.Generator, n: int, win: _Window) -> _Users:
    import numpy as np

    d = np.arange(win.days)
    frac = d / max(win.days - 1, 1)
    weekend = (win.start_weekday + d) % 7 >= 5
    # Exponential-ish growth with a weekend dip.
    weight = np.exp(SIGNUP_GROWTH * frac) * np.where(weekend, WEEKEND_SIGNUP_FACTOR, 1.0)
    p_day = weight / weight.sum()
    channel_p = np.asarray(CHANNEL_P_START) + frac[:, None] * (
        np.asarray(CHANNEL_P_END) - np.asarray(CHANNEL_P_START)
    )

    day = np.sort(rng.choice(win.days, size=n, p=p_day))
    country = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_P).astype(np.int8)
    platform = _draw_rows(rng, np.cumsum(np.asarray(PLATFORM_P_BY_COUNTRY), axis=1)[country])
    channel = _draw_rows(rng, np.cumsum(channel_p, axis=1)[day])
    tod = _time_of_day(rng, np.asarray(UTC_OFFSET_HOURS)[country])

    # user_id follows signup time, like an auto-increment key would.
    order, _ = _chronological(day.astype(np.int64) * _DAY + tod, 0)
    day, country, platform, channel, tod = (a[order] for a in (day, country, platform, channel, tod))
    signup_ts = win.w0 + day.astype(np.int64) * _DAY + tod

    sigma = ENGAGEMENT_SIGMA
    engagement = (
        rng.lognormal(-0.5 * sigma**2, sigma, n)
        * np.asarray(CHANNEL_ENGAGEMENT)[channel]
        * np.asarray(PLATFORM_ENGAGEMENT)[platform]
    )

    # A few users carry a NULL or badly formatted channel, as real tracking data does.
    r = rng.random(n)
    variant = rng.integers(0, 3, n)
    channel_text = np.where(
        r < NULL_CHANNEL_SHARE,
        -1,
        np.where(
            r < NULL_CHANNEL_SHARE + MESSY_CHANNEL_SHARE, len(CHANNELS) + channel * 3 + variant, channel
        ),
    ).astype(np.int16)

    return _Users(
        day=day.astype(np.int32),
        tod=tod,
        signup_ts=signup_ts,
        country=country,
        platform=platform,
        channel=channel,
        channel_text=channel_text,
        engagement=engagement,
        p_day=p_day,
        channel_p_by_day=channel_p,
    )


# ----------------------------------------------------------------------------------------------
# Activity (active user-days), events and AI suggestions
# ----------------------------------------------------------------------------------------------


@dataclass
class _Activity:
    """One row per active user-day ("group"); events and AI suggestions hang off these."""

    user: np.ndarray  # user index
    day: np.ndarray  # window day index
    start: np.ndarray  # UTC second of day of the first activity (>= signup time on signup day)
    signup_day: np.ndarray  # bool: the day the user signed up


def _generate_activity(rng: np.random.Generator, users: _Users, win: _Window) -> _Activity:
    import numpy as np

    n = users.n
    horizon = (win.days - 1 - users.day).astype(np.int64)  # last possible day offset per user
    a = users.engagement

    # Expected active days = engagement x integral of the two-component retention curve over the
    # days the user has had so far; draw the count, then the day offsets from that same curve.
    mass_fast = FAST_RATE * TAU_FAST * -np.expm1(-horizon / TAU_FAST)
    mass_slow = SLOW_RATE * TAU_SLOW * -np.expm1(-horizon / TAU_SLOW)
    count = np.minimum(rng.poisson(a * (mass_fast + mass_slow)), horizon)
    uid = np.repeat(np.arange(n, dtype=np.int64), count)
    h = horizon[uid]
    slow_share = mass_slow / np.maximum(mass_fast + mass_slow, 1e-12)
    tau = np.where(rng.random(uid.size) < slow_share[uid], TAU_SLOW, TAU_FAST)
    # Inverse CDF of an exponential truncated to [0, h): offsets concentrate right after signup.
    x = -tau * np.log1p(rng.random(uid.size) * np.expm1(-h / tau))
    k = np.minimum(1 + np.floor(x).astype(np.int64), h)

    # Fewer weekend sessions, then collapse repeated (user, day) draws: heavy users saturate.
    abs_day = users.day[uid] + k
    weekend = (win.start_weekday + abs_day) % 7 >= 5
    keep = ~(weekend & (rng.random(uid.size) < WEEKEND_SKIP))
    key = np.sort(uid[keep] * (win.days + 1) + k[keep])
    key = key[np.concatenate([[True], key[1:] != key[:-1]])] if key.size else key
    uid, k = key // (win.days + 1), key % (win.days + 1)  # sorted by (user, day)

    # The signup day is always active and starts right at signup.
    first_start = np.minimum(users.tod + rng.integers(0, 90, n), _DAY - 1)
    later_start = _time_of_day(rng, users.utc_offset(uid))
    return _Activity(
        user=np.concatenate([np.arange(n, dtype=np.int64), uid]).astype(np.int32),
        day=np.concatenate([users.day, (users.day[uid] + k)]).astype(np.int32),
        start=np.concatenate([first_start, later_start]).astype(np.int32),
        signup_day=np.concatenate([np.ones(n, dtype=bool), np.zeros(uid.size, dtype=bool)]),
    )


def _scatter_in_day(
    rng: np.random.Generator, act: _Activity, per_group: np.ndarray, first_at_start: bool, mean_gap: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expand groups into rows: (group index per row, epoch seconds, is-first-of-group mask).

    Rows cluster minutes after the group's start, a quarter of them in a second burst of use hours
    later, all inside the group's UTC day (so nothing precedes signup or passes end_date).
    """
    import numpy as np

    grp = np.repeat(np.arange(per_group.shape[0], dtype=np.int32), per_group)
    m = grp.shape[0]
    first = np.zeros(m, dtype=bool)
    first[np.cumsum(per_group)[per_group > 0] - per_group[per_group > 0]] = True
    start = act.start[grp]  # int32 halves the memory traffic on 10M rows
    offset = rng.exponential(mean_gap, m).astype(np.int32)
    # A quarter of the rows belong to a later session, when one still fits into the day (wrapping
    # it would pile activity up just before midnight).
    later = np.flatnonzero(rng.random(m) < 0.25)
    jump = rng.integers(2 * _HOUR, 9 * _HOUR, later.size, dtype=np.int32)
    fits = start[later] + jump < _DAY - _HOUR
    offset[later[fits]] += jump[fits]
    if first_at_start:
        offset[first] = 0
    day_base = act.day.astype(np.int64) * _DAY
    ts = day_base[grp] + _within_day(start, offset)
    return grp, ts, first


def _incident_days(
    rng: np.random.Generator, users: _Users, act: _Activity, win: _Window, incident: DemoIncident
) -> np.ndarray:
    """Sorted keys ``user * (win.days + 1) + day`` of the active days the incident takes away: each
    later-than-signup active day of an affected user from the release on, with probability
    1 - kept_share (one draw per candidate day, from the incident's own stream)."""
    import numpy as np

    countries = np.asarray([COUNTRIES.index(c) for c in incident.countries])
    affected = (users.platform == PLATFORMS.index(incident.platform)) & np.isin(users.country, countries)
    release_day = (incident.release_date - win.start_date).days
    candidates = np.flatnonzero(affected[act.user] & (act.day >= release_day) & ~act.signup_day)
    lost = candidates[rng.random(candidates.size) >= incident.kept_share]
    return np.sort(act.user[lost].astype(np.int64) * (win.days + 1) + act.day[lost])


def _generate_events(
    rng: np.random.Generator,
    users: _Users,
    act: _Activity,
    win: _Window,
    plant: _EventPlanter | None = None,
    vanished: np.ndarray | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """The events frame, the epoch second of every event id issued (id i + 1 <-> index i) and, with
    ``vanished`` (user-day keys of _incident_days), the mask of ids still present (None: all are)."""
    import numpy as np
    import pandas as pd

    lam = np.where(
        act.signup_day, SIGNUP_DAY_EXTRA_EVENTS, EVENTS_PER_ACTIVE_DAY * users.engagement[act.user] ** 0.3
    )
    per_group = 1 + rng.poisson(lam)
    grp, rel_ts, first = _scatter_in_day(rng, act, per_group, first_at_start=True, mean_gap=600.0)
    # Each active day opens with app_open; the rest is browsing, feature use and core actions.
    name = rng.choice(len(EVENT_NAMES), size=grp.shape[0], p=OTHER_EVENT_P).astype(np.int8)  # type: ignore[attr-defined]
    name[first] = 0
    del first
    user = act.user[grp]
    del grp
    if plant is not None:  # experiments add events (drawn from their own stream)
        user, rel_ts, name = plant(user, rel_ts, name)

    order, rel_ts = _chronological(rel_ts, 0)  # event_id follows time
    ts = win.w0 + rel_ts
    event_id = np.arange(1, ts.shape[0] + 1, dtype=np.int64)
    user, name = user[order], name[order]
    present = None
    if vanished is not None and vanished.size:
        # Ids are issued as without the incident: every other event keeps its id, time and name.
        first_day = int((vanished % (win.days + 1)).min())
        late = np.flatnonzero(rel_ts >= first_day * _DAY)
        key = user[late].astype(np.int64) * (win.days + 1) + rel_ts[late] // _DAY
        present = np.ones(ts.shape[0], dtype=bool)
        present[late[np.isin(key, vanished, assume_unique=False)]] = False
        event_id, user, name, kept_ts = event_id[present], user[present], name[present], ts[present]
    else:
        kept_ts = ts
    frame = pd.DataFrame(
        {
            "event_id": event_id,
            "user_id": user.astype(np.int64) + 1,
            "occurred_at": kept_ts,
            "event_name": _categorical(name, EVENT_NAMES),
        },
        copy=False,
    )
    return frame, ts, present


def _v2_share(day: np.ndarray, win: _Window) -> np.ndarray:
    """Share of traffic on model v2: zero before launch, then a ramp to 90%."""
    import numpy as np

    launch = win.v2_launch_day()
    ramp = max(7.0, 0.25 * win.days)
    since = day - launch
    return np.where(since < 0, 0.0, np.minimum(0.9, 0.1 + 0.8 * since / ramp))


def _generate_ai_suggestions(
    rng: np.random.Generator, users: _Users, act: _Activity, win: _Window, plant: _AiPlanter | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    import numpy as np
    import pandas as pd

    # Only some active days involve the assistant; engaged users use it more.
    p_day = np.minimum(0.9, AI_DAY_SHARE * users.engagement[act.user] ** 0.3)
    has = rng.random(act.user.shape[0]) < p_day
    per_group = np.where(has, 1 + rng.poisson(AI_EXTRA_PER_DAY, has.shape[0]), 0)
    grp, rel_ts, _ = _scatter_in_day(rng, act, per_group, first_at_start=False, mean_gap=900.0)
    m = grp.shape[0]

    version = (rng.random(m) < _v2_share(act.day[grp], win)).astype(np.int8)
    feature = rng.choice(len(AI_FEATURES), size=m, p=FEATURE_P).astype(np.int8)  # type: ignore[attr-defined]
    latency = np.rint(
        np.asarray(LATENCY_MEDIAN_MS)[version]
        * np.asarray(FEATURE_LATENCY)[feature]
        * np.exp(rng.normal(0.0, 0.45, m))
    )
    latency = np.maximum(latency, 20).astype(np.int32)
    cost = np.asarray(COST_BASE_USD)[version] * np.asarray(FEATURE_COST)[feature] * rng.lognormal(0, 0.25, m)
    cost_micros = np.rint(np.clip(cost, 0.0004, 0.004) * 1e6).astype(np.int64)
    outcome = _draw_rows(rng, np.cumsum(np.asarray(OUTCOME_P), axis=1)[version])
    # Rejections are escalated to a human far more often than other outcomes.
    escalated = rng.random(m) < np.where(outcome == AI_OUTCOMES.index("rejected"), 0.09, 0.015)
    user = act.user[grp]
    del grp
    if plant is not None:  # experiments change outcomes and costs in place (their own stream)
        plant(user, rel_ts, version, outcome, cost_micros)

    order, rel_ts = _chronological(rel_ts, 0)
    ts = win.w0 + rel_ts
    frame = pd.DataFrame(
        {
            "suggestion_id": np.arange(1, m + 1, dtype=np.int64),
            "user_id": user[order].astype(np.int64) + 1,
            "created_at": ts,
            "model_version": _categorical(version[order], MODEL_VERSIONS),
            "feature": _categorical(feature[order], AI_FEATURES),
            "latency_ms": latency[order],
            "cost_usd": cost_micros[order],
            "outcome": _categorical(outcome[order], AI_OUTCOMES),
            "escalated_to_human": escalated[order],
        },
        copy=False,
    )
    return frame, ts


# ----------------------------------------------------------------------------------------------
# Orders
# ----------------------------------------------------------------------------------------------


def _generate_orders(
    rng: np.random.Generator, users: _Users, win: _Window
) -> tuple[pd.DataFrame, np.ndarray]:
    import numpy as np
    import pandas as pd

    n = users.n
    horizon = win.days - 1 - users.day
    p_customer = np.clip(np.asarray(CHANNEL_CONVERSION)[users.channel] * users.engagement**0.5, 0, 0.6)
    # First purchase: a quarter on the signup day, the rest after a geometric wait (mean ~12 days).
    lag = np.where(rng.random(n) < 0.25, 0, rng.geometric(1 / 12, n))
    is_customer = (rng.random(n) < p_customer) & (lag <= horizon)
    cust = np.flatnonzero(is_customer)
    first_day = users.day[cust] + lag[cust]
    first_tod = np.where(
        lag[cust] == 0,
        _within_day(users.tod[cust], rng.integers(120, 3 * _HOUR, cust.size)),
        _time_of_day(rng, users.utc_offset(cust)),
    )

    # Monthly renewals until churn; renewals beyond end_date have simply not happened yet.
    n_orders = rng.geometric(MONTHLY_CHURN, cust.size)
    owner = np.repeat(np.arange(cust.size), n_orders)
    starts = np.cumsum(n_orders) - n_orders
    gap = np.clip(np.rint(rng.normal(30, 3, owner.size)), 20, 40).astype(np.int64)
    gap[starts] = 0
    csum = np.cumsum(gap)
    offset_days = csum - np.repeat(csum[starts], n_orders)
    day = first_day[owner] + offset_days
    renewal_tod = _time_of_day(rng, users.utc_offset(cust[owner]))
    tod = np.where(offset_days == 0, first_tod[owner], renewal_tod)
    # Each customer has a plan price; some orders are add-ons / plan changes at another price.
    plan = rng.choice(len(PRICE_CENTS), size=cust.size, p=PRICE_P)
    other = rng.choice(len(PRICE_CENTS), size=owner.size, p=PRICE_P)
    cents = np.asarray(PRICE_CENTS, dtype=np.int64)[
        np.where(rng.random(owner.size) < 0.88, plan[owner], other)
    ]
    keep = day <= win.days - 1
    user = cust[owner][keep]
    ts = win.w0 + day[keep] * _DAY + tod[keep]
    cents = cents[keep]

    # Refunds: a negative row some hours to days after an earlier positive order of the same user.
    refunded = np.flatnonzero(rng.random(ts.size) < REFUND_SHARE)
    refund_ts = ts[refunded] + rng.integers(_HOUR, 12 * _DAY, refunded.size)
    partial = rng.random(refunded.size) < 0.2
    refund_cents = -np.where(partial, cents[refunded] // 2, cents[refunded])
    ok = refund_ts < win.w_end
    user = np.concatenate([user, user[refunded][ok]])
    ts = np.concatenate([ts, refund_ts[ok]])
    cents = np.concatenate([cents, refund_cents[ok]])

    order, ts = _chronological(ts, win.w0)
    frame = pd.DataFrame(
        {
            "order_id": np.arange(1, ts.size + 1, dtype=np.int64),
            "user_id": user[order].astype(np.int64) + 1,
            "ordered_at": ts,
            "amount_usd": cents[order],
        },
        copy=False,
    )
    return frame, ts


# ----------------------------------------------------------------------------------------------
# Marketing spend
# ----------------------------------------------------------------------------------------------


def _spend_campaigns() -> list[str]:
    return sorted({c for cs in PAID_CAMPAIGNS.values() for c in cs})


def _generate_marketing_spend(
    rng: np.random.Generator, users: _Users, win: _Window
) -> tuple[pd.DataFrame, np.ndarray]:
    import numpy as np
    import pandas as pd

    d = np.arange(win.days)
    frac = d / max(win.days - 1, 1)
    campaigns = _spend_campaigns()
    day_epoch = (win.w0 // _DAY) + d
    cols: dict[str, list[np.ndarray]] = {"day": [], "channel": [], "campaign": [], "cents": []}
    for c, channel in enumerate(PAID_CHANNELS):  # loop over 3 channels, not rows
        # Spend buys the expected signups of the channel at a CAC that creeps up over the year.
        expected_signups = users.n * users.p_day * users.channel_p_by_day[:, c]
        channel_usd = expected_signups * CAC_USD[c] * (1 + 0.25 * frac) * rng.lognormal(0, 0.15, win.days)
        weights = np.asarray(CAMPAIGN_WEIGHTS[channel])[None, :] * rng.lognormal(
            0, 0.2, (win.days, len(PAID_CAMPAIGNS[channel]))
        )
        weights /= weights.sum(axis=1, keepdims=True)
        for j, campaign in enumerate(PAID_CAMPAIGNS[channel]):
            cols["day"].append(day_epoch)
            cols["channel"].append(np.full(win.days, c, dtype=np.int8))
            cols["campaign"].append(np.full(win.days, campaigns.index(campaign), dtype=np.int8))
            cols["cents"].append(np.maximum(np.rint(channel_usd * weights[:, j] * 100), 1).astype(np.int64))
    day, channel_code, campaign_code, cents = (np.concatenate(cols[k]) for k in cols)
    order = np.lexsort((campaign_code, channel_code, day))  # by date, then channel, then campaign
    frame = pd.DataFrame(
        {
            "spend_date": day[order],
            "channel": _categorical(channel_code[order], PAID_CHANNELS),
            "campaign": _categorical(campaign_code[order], campaigns),
            "spend_usd": cents[order],
        },
        copy=False,
    )
    return frame, day[order].astype(np.int64) * _DAY


# ----------------------------------------------------------------------------------------------
# NPS
# ----------------------------------------------------------------------------------------------


def _generate_nps(
    rng: np.random.Generator, users: _Users, act: _Activity, win: _Window
) -> tuple[pd.DataFrame, np.ndarray]:
    import numpy as np
    import pandas as pd

    a = users.engagement
    # The in-app survey pops up on the first visit at least two days after signup; a share of the
    # users who see it answer (engaged users a little more often).  Activity groups after the
    # signup-day block are sorted by (user, day), so np.unique's first index is the first visit.
    later = np.flatnonzero(~act.signup_day & (act.day - users.day[act.user] >= 2))
    shown_to, first = np.unique(act.user[later], return_index=True)
    answers = rng.random(shown_to.size) < np.minimum(0.6, NPS_RESPONSE_RATE * a[shown_to] ** 0.3)
    g, resp = later[first][answers], shown_to[answers].astype(np.int64)
    ts = (
        win.w0
        + act.day[g].astype(np.int64) * _DAY
        + _within_day(act.start[g], rng.integers(60, 1800, g.size))
    )
    # Engaged users are happier: mean score ~8 gives NPS around +25.
    mean = 8.35 + 0.6 * np.clip(np.log(a[resp]), -1.5, 1.5)
    score = np.clip(np.rint(rng.normal(mean, 2.0)), 0, 10).astype(np.int64)

    # Some answer again within the same calendar month (the survey re-prompts) ...
    again = rng.random(resp.size) < NPS_SAME_MONTH_REPEAT
    ts2 = ts + rng.integers(_HOUR, 4 * _DAY, resp.size)
    month = ts.astype("datetime64[s]").astype("datetime64[M]")
    same_month = again & (ts2.astype("datetime64[s]").astype("datetime64[M]") == month) & (ts2 < win.w_end)
    score2 = np.clip(score + rng.integers(-1, 2, resp.size), 0, 10)
    # ... and some again a quarter later.
    quarterly = rng.random(resp.size) < NPS_QUARTERLY_REPEAT
    ts3 = ts + rng.integers(80, 100, resp.size) * _DAY
    next_quarter = quarterly & (ts3 < win.w_end)
    score3 = np.clip(np.rint(rng.normal(mean, 2.0)), 0, 10).astype(np.int64)

    user = np.concatenate([resp, resp[same_month], resp[next_quarter]]).astype(np.int64) + 1
    ts = np.concatenate([ts, ts2[same_month], ts3[next_quarter]])
    score = np.concatenate([score, score2[same_month], score3[next_quarter]])
    user[rng.random(user.size) < NPS_ANONYMOUS_SHARE] = 0  # 0 -> NULL: anonymous response

    order, ts = _chronological(ts, win.w0)
    frame = pd.DataFrame(
        {
            "response_id": np.arange(1, ts.size + 1, dtype=np.int64),
            "user_id": user[order],
            "responded_at": ts,
            "score": score[order].astype(np.int32),
        },
        copy=False,
    )
    return frame, ts


# ----------------------------------------------------------------------------------------------
# Invites
# ----------------------------------------------------------------------------------------------


def _pick_inviters(
    rng: np.random.Generator, users: _Users, sent: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A user who signed up before ``sent`` (mostly within 30 days of it), per invite.

    Returns (inviter index or -1 when nobody had signed up yet, lo, hi) where [lo, hi) is the
    candidate index range (users are sorted by signup time).
    """
    import numpy as np

    hi = np.searchsorted(users.signup_ts, sent, side="left")  # users with signup_ts < sent
    lo = np.searchsorted(users.signup_ts, sent - 30 * _DAY, side="left")
    # Invites mostly go out in the inviter's first month; some come from long-time users.
    lo = np.where((rng.random(sent.size) < 0.15) | (lo >= hi), 0, lo)
    inviter = lo + np.floor(rng.random(sent.size) * (hi - lo)).astype(np.int64)
    return np.where(hi > 0, inviter, -1), lo, hi


def _generate_invites(
    rng: np.random.Generator, users: _Users, win: _Window
) -> tuple[pd.DataFrame, np.ndarray]:
    import numpy as np
    import pandas as pd

    # Converted invites: each referral signup (with a recorded channel) was invited 0-14 days
    # earlier, a few much earlier.
    referral = np.flatnonzero((users.channel == CHANNELS.index("referral")) & (users.channel_text >= 0))
    late = rng.random(referral.size) < INVITE_LATE_CONVERSION
    lag = np.where(
        late, rng.integers(15 * _DAY, 45 * _DAY, referral.size), rng.integers(0, 14 * _DAY, referral.size)
    )
    sent = users.signup_ts[referral] - lag
    inviter, lo, hi = _pick_inviters(rng, users, sent)
    ok = (sent >= win.w0) & (inviter >= 0)
    invitee, sent, inviter, lo, hi = referral[ok], sent[ok], inviter[ok], lo[ok], hi[ok]

    # Some invitees had already been invited by someone else a little earlier.
    twice = rng.random(invitee.size) < INVITE_DOUBLE_INVITED
    sent2 = sent - rng.integers(_HOUR, 5 * _DAY, invitee.size)
    inviter2 = lo + np.floor(rng.random(invitee.size) * (hi - lo)).astype(np.int64)
    # Force a different inviter: step to a neighbour inside the candidate range.
    clash = inviter2 == inviter
    inviter2 = np.where(clash & (inviter + 1 < hi), inviter + 1, np.where(clash, inviter - 1, inviter2))
    twice &= (
        (inviter2 >= lo) & (inviter2 != inviter) & (sent2 >= win.w0) & (users.signup_ts[inviter2] < sent2)
    )

    # Unconverted invites: a share of users invite a few friends, mostly in their first month.
    n = users.n
    senders = np.flatnonzero(rng.random(n) < np.minimum(0.8, INVITER_SHARE * users.engagement**0.5))
    per_sender = 1 + rng.poisson(1.2, senders.size)
    from_user = np.repeat(senders, per_sender)
    horizon = (win.w_end - 1 - users.signup_ts[from_user]).astype(np.float64)
    delay = np.where(
        rng.random(from_user.size) < 0.85,
        rng.exponential(6 * _DAY, from_user.size),
        rng.random(from_user.size) * horizon,
    ).astype(np.int64)
    open_sent = users.signup_ts[from_user] + 60 + delay
    still_open = open_sent < win.w_end

    inviter_all = np.concatenate([inviter, inviter2[twice], from_user[still_open]])
    invitee_all = np.concatenate(
        [invitee + 1, invitee[twice] + 1, np.zeros(int(still_open.sum()), dtype=np.int64)]
    )  # 0 -> NULL
    sent_all = np.concatenate([sent, sent2[twice], open_sent[still_open]])
    order, sent_all = _chronological(sent_all, win.w0)
    frame = pd.DataFrame(
        {
            "invite_id": np.arange(1, sent_all.size + 1, dtype=np.int64),
            "inviter_user_id": inviter_all[order].astype(np.int64) + 1,
            "invitee_user_id": invitee_all[order].astype(np.int64),
            "sent_at": sent_all,
        },
        copy=False,
    )
    return frame, sent_all


# ----------------------------------------------------------------------------------------------
# Model predictions
# ----------------------------------------------------------------------------------------------


def _generate_model_predictions(rng: np.random.Generator, win: _Window) -> tuple[pd.DataFrame, np.ndarray]:
    import numpy as np
    import pandas as pd

    # v1 is evaluated every day; v2 from two weeks before its launch (shadow evaluation).
    shadow = max(0, win.v2_launch_day() - 14)
    slot_day = np.concatenate([np.arange(win.days), np.arange(shadow, win.days)])
    slot_version = np.concatenate([np.zeros(win.days, np.int8), np.ones(win.days - shadow, np.int8)])
    per_slot = rng.poisson(PREDICTIONS_PER_DAY, slot_day.size)
    day = np.repeat(slot_day, per_slot)
    version = np.repeat(slot_version, per_slot)
    m = day.size
    ts = win.w0 + day.astype(np.int64) * _DAY + rng.integers(0, _DAY, m)
    actual = rng.random(m) < PREDICTION_PREVALENCE
    # v2 catches more positives with fewer false alarms -> better precision and recall; after the
    # data shift both miss more positives.
    recall = np.asarray(PREDICTION_RECALL)[version] - np.where(
        day >= int(win.days * DRIFT_FRACTION), np.asarray(DRIFT_RECALL_LOSS)[version], 0.0
    )
    p_predicted = np.where(actual, recall, np.asarray(PREDICTION_FPR)[version])
    predicted = rng.random(m) < p_predicted

    order, ts = _chronological(ts, win.w0)
    frame = pd.DataFrame(
        {
            "prediction_id": np.arange(1, m + 1, dtype=np.int64),
            "model_version": _categorical(version[order], MODEL_VERSIONS),
            "evaluated_at": ts,
            "predicted_label": predicted[order],
            "actual_label": actual[order],
        },
        copy=False,
    )
    return frame, ts


# ----------------------------------------------------------------------------------------------
# Experiments: exposures and planted effects
# ----------------------------------------------------------------------------------------------


@dataclass
class _Units:
    """The users of one experiment exposed in its dates, index-aligned."""

    user: np.ndarray  # user index
    variation: np.ndarray  # assigned variation index (0 = control)
    first_ts: np.ndarray  # seconds since the window start of the first exposure
    logged: np.ndarray  # bool: the exposures reached the table (False: lost by a logging bug)


class _Experiments:
    """Exposures of the demo experiments that fit the window, and the effects they plant.

    Every experiment of DEMO_EXPERIMENTS owns two child streams (exposures, effects), fitting or
    not, so one experiment's draws never depend on another's.  Times are seconds since the window
    start, like the other generators' before they add ``win.w0``.
    """

    def __init__(self, rng: np.random.Generator, users: _Users, win: _Window) -> None:
        self.users = users
        self.win = win
        self.definitions = demo_experiments(win.end_date, win.days)
        children = rng.spawn(len(DEMO_EXPERIMENTS))
        self._streams = {key: tuple(child.spawn(2)) for key, child in zip(DEMO_EXPERIMENTS, children)}
        self.units: dict[str, _Units] = {}
        # (experiment id, variation index, user index, time) per block of exposure rows
        self._rows: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []

    def _day(self, date: dt.date) -> int:
        return (date - self.win.start_date).days

    def _dates(self, key: str) -> tuple[int, int]:
        e = self.definitions[key]
        return self._day(e.start_date), self._day(e.end_date)

    def _expose(self, key: str, user: np.ndarray, ts: np.ndarray) -> None:
        """Log the exposures of one experiment from its touch points: at most one per user and day,
        from start_date to three days after end_date, each the time an exposure would be logged."""
        import numpy as np

        e, rng = self.definitions[key], self._streams[key][0]
        k = len(e.variations)
        last = self._dates(key)[1]
        order = np.lexsort((ts, user))
        user, ts = user[order].astype(np.int64), ts[order].astype(np.int64)
        inside = ts // _DAY <= last
        iu, its = user[inside], ts[inside]
        first = np.ones(iu.size, dtype=bool)
        first[1:] = iu[1:] != iu[:-1]
        unit_user, unit_ts = iu[first], its[first]
        variation = rng.choice(k, size=unit_user.size, p=e.weights)
        logged = rng.random(unit_user.size) < np.asarray(e.logged_share)[variation]
        self.units[key] = _Units(unit_user, variation, unit_ts, logged)
        unit = np.cumsum(first) - 1  # touch point -> unit

        # The first touch point logs the exposure (sometimes twice), later ones now and then.
        repeat = ~first & (rng.random(iu.size) < EXPOSURE_REPEAT_P)
        double = first & (rng.random(iu.size) < EXPOSURE_DOUBLE_LOG_P)
        keep = (first | repeat) & logged[unit]
        double &= logged[unit]
        self._add(key, variation[unit[keep]], iu[keep], its[keep])
        self._add(key, variation[unit[double]], iu[double], self._later_same_day(rng, its[double], 30, 600))

        # A few users are also logged once with another variation (a client bug): excluded.
        candidates = np.flatnonzero(logged)
        m = int(rng.binomial(candidates.size, MULTIPLE_VARIATION_SHARE))
        m = min(max(m, 1), candidates.size) if candidates.size >= 50 else m
        who = rng.choice(candidates, size=m, replace=False)
        other = (variation[who] + rng.integers(1, k, m)) % k
        self._add(key, other, unit_user[who], self._later_same_day(rng, unit_ts[who], 60, 3600))

        # Stale clients log some users first seen just after end_date: exposures outside the dates.
        lu, lts = user[~inside], ts[~inside]
        lfirst = np.ones(lu.size, dtype=bool)
        lfirst[1:] = lu[1:] != lu[:-1]
        lu, lts = lu[lfirst], lts[lfirst]
        late = ~np.isin(lu, unit_user) & (rng.random(lu.size) < LATE_EXPOSURE_P)
        self._add(key, rng.choice(k, size=int(late.sum()), p=e.weights), lu[late], lts[late])

    @staticmethod
    def _later_same_day(rng: np.random.Generator, ts: np.ndarray, low: int, high: int) -> np.ndarray:
        tod = ts % _DAY
        return ts - tod + _within_day(tod, rng.integers(low, high, ts.size))

    def _add(self, key: str, variation: np.ndarray, user: np.ndarray, ts: np.ndarray) -> None:
        self._rows.append((key, variation, user, ts))

    def _treated_since(self, key: str) -> np.ndarray:
        """Per user index, the first exposure of a treated (non-control) unit; int64 max otherwise."""
        import numpy as np

        since = np.full(self.users.n, np.iinfo(np.int64).max, dtype=np.int64)
        u = self.units[key]
        treated = u.variation >= 1
        since[u.user[treated]] = u.first_ts[treated]
        return since

    def _effect_end(self, key: str) -> int:
        """The treatment stays on until every conversion window of the experiment has closed."""
        return (self._dates(key)[1] + 1 + EFFECT_WINDOW_DAYS) * _DAY

    def expose_active_users(self, act: _Activity) -> None:
        """Experiments shown to every active user: exposed within a minute of the day's first activity."""
        import numpy as np

        for key, e in self.definitions.items():
            if e.population != "active":
                continue
            start, last = self._dates(key)
            sel = np.flatnonzero((act.day >= start) & (act.day <= last + 3))
            tod = _within_day(act.start[sel].astype(np.int64), self._streams[key][0].integers(0, 60, sel.size))
            self._expose(key, act.user[sel], act.day[sel].astype(np.int64) * _DAY + tod)

    def plant_core_actions(
        self, user: np.ndarray, ts: np.ndarray, name: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """core_action_shortcut: a treated user's core action is followed by another, minutes later on
        the same day (so active days do not change), with probability CORE_ACTION_REPEAT_SHARE."""
        import numpy as np

        key = "core_action_shortcut"
        if key not in self.definitions:
            return user, ts, name
        rng = self._streams[key][1]
        since = self._treated_since(key)
        core = np.flatnonzero(name == EVENT_NAMES.index("core_action"))
        core = core[(ts[core] >= since[user[core]]) & (ts[core] < self._effect_end(key))]
        pick = core[rng.random(core.size) < CORE_ACTION_REPEAT_SHARE]
        extra_ts = self._later_same_day(rng, ts[pick], 20, 900)
        return (
            np.concatenate([user, user[pick]]),
            np.concatenate([ts, extra_ts]),
            np.concatenate([name, name[pick]]),
        )

    def expose_and_plant_ai(
        self, user: np.ndarray, ts: np.ndarray, version: np.ndarray, outcome: np.ndarray, cost: np.ndarray
    ) -> None:
        """larger_model: exposed just before the first AI suggestion of a day in the dates; a treated
        user's suggestions are accepted LARGER_MODEL_ACCEPTANCE_LIFT more often and cost
        LARGER_MODEL_COST_FACTOR times as much (``outcome`` and ``cost`` change in place)."""
        import numpy as np

        for key, e in self.definitions.items():
            if e.population != "ai":
                continue
            start, last = self._dates(key)
            day = ts // _DAY
            sel = np.flatnonzero((day >= start) & (day <= last + 3))
            user_day = user[sel].astype(np.int64) * (self.win.days + 1) + day[sel]
            order = np.lexsort((ts[sel], user_day))
            sel, user_day = sel[order], user_day[order]
            firsts = sel[np.concatenate([[True], user_day[1:] != user_day[:-1]])] if sel.size else sel
            back = self._streams[key][0].integers(1, 30, firsts.size)
            floor = np.maximum(day[firsts] * _DAY, self.users.signup_ts[user[firsts]] - self.win.w0)
            self._expose(key, user[firsts], np.maximum(ts[firsts] - back, floor))

            rng = self._streams[key][1]
            treated = np.flatnonzero((ts >= self._treated_since(key)[user]) & (ts < self._effect_end(key)))
            # Rejected or ignored suggestions become accepted at a per-version rate that raises each
            # version's acceptance by the same share: the lift does not depend on the version mix.
            p = np.asarray(OUTCOME_P)
            accepted, rejected, ignored = (AI_OUTCOMES.index(o) for o in ("accepted", "rejected", "ignored"))
            flip_p = LARGER_MODEL_ACCEPTANCE_LIFT * p[:, accepted] / (p[:, rejected] + p[:, ignored])
            pool = treated[(outcome[treated] == rejected) | (outcome[treated] == ignored)]
            outcome[pool[rng.random(pool.size) < flip_p[version[pool]]]] = accepted
            cost[treated] = np.rint(cost[treated] * LARGER_MODEL_COST_FACTOR).astype(cost.dtype)

    def frame(self) -> tuple[pd.DataFrame, np.ndarray]:
        import numpy as np
        import pandas as pd

        keys = list(DEMO_EXPERIMENTS)
        names = sorted({v for e in DEMO_EXPERIMENTS.values() for v in e.variation_names})
        blocks = [
            (
                np.full(user.size, keys.index(key), dtype=np.int8),
                np.asarray([names.index(v) for v in self.definitions[key].variation_names], dtype=np.int8)[
                    variation
                ],
                user.astype(np.int64),
                ts.astype(np.int64),
            )
            for key, variation, user, ts in self._rows
        ]
        experiment, variation, user, rel_ts = (
            np.concatenate([b[i] for b in blocks]) if blocks else np.zeros(0, dtype=dtype)
            for i, dtype in enumerate((np.int8, np.int8, np.int64, np.int64))
        )
        order, rel_ts = _chronological(rel_ts, 0)  # exposure_id follows time
        ts = self.win.w0 + rel_ts
        frame = pd.DataFrame(
            {
                "exposure_id": np.arange(1, ts.size + 1, dtype=np.int64),
                "experiment_id": _categorical(experiment[order], keys),
                "variation": _categorical(variation[order], names),
                "user_id": user[order] + 1,
                "exposed_at": ts,
            },
            copy=False,
        )
        return frame, ts


# ----------------------------------------------------------------------------------------------
# Writing to DuckDB
# ----------------------------------------------------------------------------------------------


def _typed_expr(column: str, kind: str) -> str:
    """SQL turning the generator's raw representation into the clean typed value."""
    c = quote(column)
    return {
        "id": f"CAST(NULLIF({c}, 0) AS BIGINT)",  # id 0 encodes NULL
        "timestamp": f"make_timestamp(CAST({c} AS BIGINT) * 1000000)",  # epoch seconds, naive UTC
        "date": f"CAST(DATE '1970-01-01' + CAST({c} AS INTEGER) AS DATE)",  # epoch days
        "money": f"CAST({c} AS DOUBLE) / 100.0",  # cents
        "cost": f"CAST({c} AS DOUBLE) / 1000000.0",  # micro-dollars
        "integer": f"CAST({c} AS INTEGER)",
        "boolean": f"CAST({c} AS BOOLEAN)",
        "text": f"CAST({c} AS VARCHAR)",  # ENUM from a pandas Categorical
    }[kind]


def _text_expr(column: str, kind: str) -> str:
    """SQL rendering a clean typed value as the landing-zone text (see module docstring)."""
    c = quote(column)
    return {
        "timestamp": f"strftime({c}, '%Y-%m-%d %H:%M:%S')",
        "date": f"strftime({c}, '%Y-%m-%d')",
        "money": f"printf('%.2f', {c})",
        "cost": f"printf('%.6f', {c})",
    }.get(kind, f"CAST({c} AS VARCHAR)")


class _Writer:
    """Creates raw tables from DataFrames and remembers what the planting step needs."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str, dirty: bool) -> None:
        self.con = con
        self.schema = schema
        self.dirty = dirty
        self.row_counts: dict[str, int] = {}
        # Per table, the ids issued (1..n; the incident leaves gaps in event_id): planted ids come after.
        self.issued_ids: dict[str, int] = {}
        # Per table, the epoch-second timestamp of each issued id in id order (index i <-> id i+1) and
        # which ids are present (None: all), plus the marketing_spend (date, channel, campaign) of each
        # clean row; used to pick rows to copy.
        self.timestamps: dict[str, np.ndarray] = {}
        self.present: dict[str, np.ndarray | None] = {}
        self.spend_keys: list[tuple[str, str, str]] = []

    def qualified(self, table: str) -> str:
        return f"{quote(self.schema)}.{quote(table)}"

    def write(
        self,
        table: str,
        frame: pd.DataFrame,
        timestamps: np.ndarray | None = None,
        present: np.ndarray | None = None,
    ) -> None:
        columns = TABLE_COLUMNS[table]
        assert tuple(frame.columns) == tuple(name for name, _ in columns), table
        typed = ", ".join(f"{_typed_expr(name, kind)} AS {quote(name)}" for name, kind in columns)
        select = f"SELECT {typed} FROM _demo_source"
        if self.dirty:
            text = ", ".join(f"{_text_expr(name, kind)} AS {quote(name)}" for name, kind in columns)
            select = f"SELECT {text} FROM ({select})"
        self.con.register("_demo_source", frame)
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {self.qualified(table)} AS {select}")
        finally:
            self.con.unregister("_demo_source")
        self.row_counts[table] = len(frame)
        self.issued_ids[table] = len(frame) if timestamps is None else len(timestamps)
        if not self.dirty:
            return
        if timestamps is not None:
            self.timestamps[table] = timestamps
            self.present[table] = present
        if table == "marketing_spend":
            self.spend_keys = list(
                zip(
                    (_fmt_date(int(d)) for d in frame["spend_date"]),
                    frame["channel"].astype(str),
                    frame["campaign"].astype(str),
                )
            )


# ----------------------------------------------------------------------------------------------
# Dirty mode: planted bad rows
# ----------------------------------------------------------------------------------------------


def _fmt_ts(epoch_seconds: int) -> str:
    return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(epoch_seconds))).strftime("%Y-%m-%d %H:%M:%S")


def _fmt_date(epoch_days: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(epoch_days))).isoformat()


_Row = dict[str, "str | None"]


class _Planter:
    """Collects the planted rows of one raw table as text and records their rejection reason."""

    def __init__(self, table: str, first_new_id: int) -> None:
        self.table = table
        self.columns = [name for name, _ in TABLE_COLUMNS[table]]
        self.id_column = ID_COLUMN[table]
        self._next_id = first_new_id
        self.rows: list[tuple[str | None, ...]] = []
        self.planted: list[PlantedRejection] = []

    def new_id(self) -> str:
        """A fresh id that collides with no clean id (clean ids are 1..row count)."""
        self._next_id += 1
        return str(self._next_id - 1)

    def add(self, reason: str, row: _Row) -> None:
        assert set(row) == set(self.columns), (self.table, row)
        if self.id_column is not None:
            key = row[self.id_column] or ""
        else:
            key = "|".join(row[c] or "" for c in ("spend_date", "channel", "campaign", "spend_usd"))
        self.rows.append(tuple(row[c] for c in self.columns))
        self.planted.append(PlantedRejection(self.table, key, reason))

    def add_variants(self, reason: str, base: Callable[[], _Row], *overrides: _Row) -> None:
        """One planted row per override, each on a fresh otherwise-valid base row."""
        for override in overrides:
            self.add(reason, {**base(), **override})


def _plant_bad_rows(
    con: duckdb.DuckDBPyConnection,
    writer: _Writer,
    users: _Users,
    win: _Window,
    rng: np.random.Generator,
    experiments: dict[str, DemoExperiment],
) -> list[PlantedRejection]:
    """Append rows that staging must reject, each with exactly one (the first applicable) reason."""
    import numpy as np

    n = users.n
    # Users with room for an otherwise valid timestamp between signup + 1 h and end_date - 1 h.
    roomy = np.flatnonzero(users.signup_ts < win.w_end - 2 * _DAY)
    # Users who signed up at least 3 days into the window (for events before their signup).
    late = np.flatnonzero(users.day >= 3)
    unknown_ids = iter(str(n + 1_000_000 + k) for k in range(1000))  # never a user id

    def user_and_ts() -> tuple[str, str]:
        i = int(rng.choice(roomy))
        ts = int(rng.integers(users.signup_ts[i] + _HOUR, win.w_end - _HOUR))
        return str(i + 1), _fmt_ts(ts)

    def window_ts() -> str:
        return _fmt_ts(int(rng.integers(win.w0, win.w_end)))

    def clean_row(table: str, with_later_timestamp: bool) -> _Row:
        """A clean row (as stored), optionally with its timestamp moved one hour later."""
        planter_columns = [name for name, _ in TABLE_COLUMNS[table]]
        ts_all = writer.timestamps[table]
        candidates = np.flatnonzero(ts_all < win.w_end - 2 * _HOUR)
        i = int(rng.choice(candidates))
        present = writer.present.get(table)
        if present is not None and not present[i]:
            # A vanished event: copy the next present one instead, without another draw, so the
            # rest of the planted rows are those of the data without the incident.
            kept = candidates[present[candidates]]
            i = int(kept[np.searchsorted(kept, i) % kept.size])
        if table == "marketing_spend":
            date, channel, campaign = writer.spend_keys[i]
            where, params = "spend_date = ? AND channel = ? AND campaign = ?", [date, channel, campaign]
        else:
            where, params = f"{quote(ID_COLUMN[table] or '')} = ?", [str(i + 1)]
        fetched = con.execute(f"SELECT * FROM {writer.qualified(table)} WHERE {where}", params).fetchall()
        assert len(fetched) == 1, (table, params)
        row = dict(zip(planter_columns, fetched[0]))
        if with_later_timestamp:
            ts_col = TIMESTAMP_COLUMN[table]
            row[ts_col] = _fmt_ts(int(ts_all[i]) + _HOUR)
        return row

    planters: list[_Planter] = []

    def planter(table: str) -> _Planter:
        p = _Planter(table, writer.issued_ids[table] + 1)
        planters.append(p)
        return p

    def plant_common(p: _Planter, base: Callable[[], _Row]) -> None:
        """Reasons every id-keyed table can have: missing key, duplicate, bad / missing timestamp."""
        id_col, ts_col = ID_COLUMN[p.table] or "", TIMESTAMP_COLUMN[p.table]
        p.add_variants("missing_key", base, {id_col: None}, {id_col: "  "})
        p.add("duplicate", clean_row(p.table, with_later_timestamp=False))  # exact copy
        p.add("duplicate", clean_row(p.table, with_later_timestamp=True))  # later copy
        p.add_variants("invalid_value", base, {ts_col: "not-a-date"}, {ts_col: "2024-13-45"})
        p.add_variants("missing_timestamp", base, {ts_col: None}, {ts_col: ""})

    # users -------------------------------------------------------------------------------
    p_users = planter("users")

    def user_base() -> _Row:
        return {
            "user_id": p_users.new_id(),
            "signed_up_at": window_ts(),
            "acquisition_channel": "direct",
            "country": "US",
            "platform": "web",
        }

    plant_common(p_users, user_base)

    # events ------------------------------------------------------------------------------
    p_events = planter("events")

    def event_base() -> _Row:
        uid, ts = user_and_ts()
        return {"event_id": p_events.new_id(), "user_id": uid, "occurred_at": ts, "event_name": "page_view"}

    plant_common(p_events, event_base)
    p_events.add_variants("unknown_user", event_base, {"user_id": None}, {"user_id": next(unknown_ids)})
    for _ in range(2):
        # At least three UTC days before the user's signup date, still inside the window.
        i = int(rng.choice(late))
        day = int(rng.integers(0, users.day[i] - 2))
        ts = win.w0 + day * _DAY + int(rng.integers(0, _DAY))
        p_events.add("before_signup", {**event_base(), "user_id": str(i + 1), "occurred_at": _fmt_ts(ts)})

    # orders ------------------------------------------------------------------------------
    p_orders = planter("orders")

    def order_base() -> _Row:
        uid, ts = user_and_ts()
        return {"order_id": p_orders.new_id(), "user_id": uid, "ordered_at": ts, "amount_usd": "19.99"}

    plant_common(p_orders, order_base)
    p_orders.add_variants("invalid_value", order_base, {"amount_usd": "abc"})
    p_orders.add_variants("unknown_user", order_base, {"user_id": None}, {"user_id": next(unknown_ids)})
    p_orders.add_variants("invalid_amount", order_base, {"amount_usd": None}, {"amount_usd": None})

    # marketing_spend ---------------------------------------------------------------------
    p_spend = planter("marketing_spend")
    planted_campaign = iter(f"planted_campaign_{k}" for k in range(1000))

    def spend_base() -> _Row:
        # A campaign name no clean row uses: the planted row is told apart from the clean ones.
        return {
            "spend_date": _fmt_date(win.w0 // _DAY + int(rng.integers(0, win.days))),
            "channel": PAID_CHANNELS[int(rng.integers(0, len(PAID_CHANNELS)))],
            "campaign": next(planted_campaign),
            "spend_usd": "250.00",
        }

    # No key, so never a `duplicate`: garbage copies of clean rows (same day, channel and campaign)
    # are rejected for their own reason, and the clean rows they copy still count.
    for garbage_amount in ("-50.00", None):
        copied = clean_row("marketing_spend", with_later_timestamp=False)
        p_spend.add("invalid_amount", {**copied, "spend_usd": garbage_amount})
    p_spend.add_variants(
        "invalid_value",
        spend_base,
        {"spend_date": "not-a-date"},
        {"spend_date": "2024-13-45"},
        {"spend_usd": "abc"},
    )
    p_spend.add_variants("missing_timestamp", spend_base, {"spend_date": None}, {"spend_date": ""})
    p_spend.add_variants("missing_channel", spend_base, {"channel": None}, {"channel": ""})
    p_spend.add_variants("invalid_amount", spend_base, {"spend_usd": None}, {"spend_usd": "-50.00"})

    # nps_responses -----------------------------------------------------------------------
    p_nps = planter("nps_responses")

    def nps_base() -> _Row:
        uid, ts = user_and_ts()
        return {"response_id": p_nps.new_id(), "user_id": uid, "responded_at": ts, "score": "9"}

    plant_common(p_nps, nps_base)
    p_nps.add_variants("invalid_value", nps_base, {"score": "ten"})
    p_nps.add_variants(
        "unknown_user", nps_base, {"user_id": next(unknown_ids)}, {"user_id": next(unknown_ids)}
    )
    p_nps.add_variants(
        "score_out_of_range", nps_base, {"score": "11"}, {"score": "-1"}, {"score": "7.5"}, {"score": None}
    )

    # invites -----------------------------------------------------------------------------
    p_inv = planter("invites")

    def invite_base() -> _Row:
        uid, ts = user_and_ts()
        return {"invite_id": p_inv.new_id(), "inviter_user_id": uid, "invitee_user_id": None, "sent_at": ts}

    plant_common(p_inv, invite_base)
    p_inv.add_variants(
        "unknown_user",
        invite_base,
        {"inviter_user_id": None},
        {"inviter_user_id": next(unknown_ids)},
        {"invitee_user_id": next(unknown_ids)},
    )
    for _ in range(2):
        row = invite_base()
        p_inv.add("self_invite", {**row, "invitee_user_id": row["inviter_user_id"]})

    # ai_suggestions ----------------------------------------------------------------------
    p_ai = planter("ai_suggestions")

    def ai_base() -> _Row:
        uid, ts = user_and_ts()
        return {
            "suggestion_id": p_ai.new_id(),
            "user_id": uid,
            "created_at": ts,
            "model_version": "v1",
            "feature": "autocomplete",
            "latency_ms": "250",
            "cost_usd": "0.000800",
            "outcome": "accepted",
            "escalated_to_human": "false",
        }

    plant_common(p_ai, ai_base)
    p_ai.add_variants(
        "invalid_value",
        ai_base,
        {"latency_ms": "fast"},
        {"cost_usd": "n/a"},
        {"escalated_to_human": "maybe"},
    )
    p_ai.add_variants("unknown_user", ai_base, {"user_id": None}, {"user_id": next(unknown_ids)})
    p_ai.add_variants("invalid_outcome", ai_base, {"outcome": "maybe"}, {"outcome": None})

    # model_predictions -------------------------------------------------------------------
    p_pred = planter("model_predictions")

    def prediction_base() -> _Row:
        return {
            "prediction_id": p_pred.new_id(),
            "model_version": "v2",
            "evaluated_at": window_ts(),
            "predicted_label": "true",
            "actual_label": "false",
        }

    plant_common(p_pred, prediction_base)
    p_pred.add_variants(
        "invalid_value",
        prediction_base,
        {"predicted_label": "maybe"},
        {"actual_label": "maybe"},
        {"predicted_label": None},
        {"actual_label": None},
    )

    # experiment_exposures (only when the window holds an experiment: a duplicate copies a clean row)
    if writer.row_counts["experiment_exposures"] > 0:
        p_exp = planter("experiment_exposures")
        experiment = next(iter(experiments.values()))
        # A variation of another demo experiment: a known name, but not one of this experiment's.
        foreign = next(
            v for e in DEMO_EXPERIMENTS.values() for v in e.variation_names if v not in experiment.variation_names
        )

        def exposure_base() -> _Row:
            uid, ts = user_and_ts()
            return {
                "exposure_id": p_exp.new_id(),
                "experiment_id": experiment.experiment_id,
                "variation": experiment.variation_names[0],
                "user_id": uid,
                "exposed_at": ts,
            }

        plant_common(p_exp, exposure_base)
        p_exp.add_variants("unknown_user", exposure_base, {"user_id": None}, {"user_id": next(unknown_ids)})
        p_exp.add_variants(
            "unknown_experiment", exposure_base, {"experiment_id": None}, {"experiment_id": "retired_experiment"}
        )
        p_exp.add_variants("unknown_variation", exposure_base, {"variation": None}, {"variation": foreign})

    # Append everything (a few dozen rows, so plain parameterised inserts are fine).
    planted: list[PlantedRejection] = []
    for p in planters:
        placeholders = ", ".join("?" for _ in p.columns)
        con.executemany(f"INSERT INTO {writer.qualified(p.table)} VALUES ({placeholders})", p.rows)
        writer.row_counts[p.table] += len(p.rows)
        planted.extend(p.planted)
    return planted
