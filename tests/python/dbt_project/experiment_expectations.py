"""What the experiment marts must hold, computed in Python from the raw rows by the definitions of
README "## Experiments", the marts' docs and macro experiment_metric_catalog (not the models' SQL).

Used by test_user_settings.py with every setting changed. Timestamps are naive UTC, as loaded."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from ..conftest import REPO_ROOT

# A key left out of an experiment takes this default (README "## Experiments").
EXPERIMENT_DEFAULTS: dict[str, Any] = {
    "guardrail_metrics": None, "conversion_window_days": 14, "exposure_delay_hours": 0,
    "minimum_runtime_days": 14, "cuped_lookback_days": 14, "capping": None, "retention_week": 1,
    "alpha": 0.05, "correction": "holm", "sequential_n_star": None,
}

# Catalog: metric -> (kind, window). window: 'conversion' (0 to conversion_window_days), 'week' (0-7),
# 'two_weeks' (0-14), 'retention' (7k to 7k + 7).
CATALOG: dict[str, tuple[str, str]] = {
    "pm_product_activation_rate": ("conversion", "conversion"),
    "pm_activation_rate": ("conversion", "conversion"),
    "pm_north_star_users": ("conversion", "week"),
    "pm_dormant_users": ("conversion", "two_weeks"),
    "pm_retention_rate": ("retention", "retention"),
    "pm_core_actions": ("count", "conversion"),
    "pm_events": ("count", "conversion"),
    "pm_active_user_days": ("count", "conversion"),
    "pm_orders": ("count", "conversion"),
    "pm_revenue_usd": ("sum", "conversion"),
    "pm_ai_suggestions": ("count", "conversion"),
    "pm_ai_acceptance_rate": ("ratio", "conversion"),
    "pm_ai_correction_rate": ("ratio", "conversion"),
    "pm_ai_hitl_rate": ("ratio", "conversion"),
    "pm_ai_cost_per_1k_suggestions_usd": ("ratio", "conversion"),
    "pm_ai_latency_ms_average": ("ratio", "conversion"),
    "pm_nps": ("ratio", "conversion"),
}


def governance_guardrails() -> dict[str, tuple[str, ...]]:
    """Each pm_* metric's governance guardrails (config.meta.governance.guardrails in the marts' yml)."""
    guardrails = {}
    for path in (REPO_ROOT / "models").rglob("*.yml"):
        for metric in (yaml.safe_load(path.read_text()) or {}).get("metrics") or []:
            governance = ((metric.get("config") or {}).get("meta") or {}).get("governance") or {}
            guardrails[metric["name"]] = tuple(governance.get("guardrails") or ())
    return guardrails


GOVERNANCE_GUARDRAILS = governance_guardrails()


@dataclass(frozen=True)
class MetricSettings:
    """The documented vars the per-user measures depend on."""

    reporting_timezone: str
    as_of_date: dt.date
    active_event_names: tuple[str, ...]
    activation_event_name: str
    core_action_event_name: str
    north_star_min_core_actions: int


@dataclass(frozen=True)
class ExperimentRaw:
    exposures: list[tuple[str, str, int, dt.datetime]]  # experiment_id, variation, user_id, exposed_at
    events: list[tuple[int, dt.datetime, str]]  # user_id, occurred_at, event_name
    orders: list[tuple[int, dt.datetime, float]]  # user_id, ordered_at, amount_usd
    # user_id, created_at, latency_ms, cost_usd, outcome, escalated_to_human
    ai_suggestions: list[tuple[int, dt.datetime, int | None, float | None, str | None, bool | None]]
    nps_responses: list[tuple[int, dt.datetime, int]]  # user_id, responded_at, score


@dataclass(frozen=True)
class Expected:
    experiments: dict[str, dict[str, Any]]  # fct_experiments' columns
    variation_units: dict[tuple[str, str], int]
    statistics: dict[tuple[str, str, str, dt.date], dict[str, Any]]  # fct_experiment_statistics' sums
    metric_roles: dict[tuple[str, str], str]


def experiment_setting(experiment: Mapping[str, Any], key: str) -> Any:
    return experiment[key] if experiment.get(key) is not None else EXPERIMENT_DEFAULTS[key]


def _local_date(utc: dt.datetime, zone: str) -> dt.date:
    return utc.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).date()


def _cutoff_at(settings: MetricSettings) -> dt.datetime:
    """The cutoff date's first instant in the reporting time zone, as naive UTC."""
    local = dt.datetime.combine(settings.as_of_date, dt.time(), ZoneInfo(settings.reporting_timezone))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def metrics_of(experiment: Mapping[str, Any]) -> dict[str, str]:
    """metric -> role: the goals, then the guardrails as named or the goals' measurable governance
    guardrails (a goal that is also a guardrail stays a goal)."""
    roles = dict.fromkeys(experiment["goal_metrics"], "goal")
    guardrails = experiment.get("guardrail_metrics")
    if guardrails is None:
        guardrails = [guardrail for goal in experiment["goal_metrics"]
                      for guardrail in GOVERNANCE_GUARDRAILS.get(goal, ()) if guardrail in CATALOG]
    for metric in guardrails:
        roles.setdefault(metric, "guardrail")
    return roles


class _Rows:
    """One user's rows of a table, sorted by time, for the window [start, end)."""

    def __init__(self, rows: Sequence[tuple]):
        self.by_user: dict[int, list[tuple]] = defaultdict(list)
        for row in sorted(rows, key=lambda r: r[1]):
            self.by_user[row[0]].append(row)
        self.times = {user: [r[1] for r in rows] for user, rows in self.by_user.items()}

    def between(self, user: int, start: dt.datetime, end: dt.datetime) -> list[tuple]:
        times = self.times.get(user, [])
        return self.by_user.get(user, [])[bisect_left(times, start):bisect_left(times, end)]


def _measures(raw: ExperimentRaw, settings: MetricSettings) -> Callable[[str, int, dt.datetime, dt.datetime],
                                                                         tuple[float, float | None]]:
    """measure(metric, user, start, end) -> (value, denominator) over [start, end): the catalog's per-user
    measure of each metric (denominator None unless a ratio)."""
    events, orders, suggestions, nps = (_Rows(raw.events), _Rows(raw.orders), _Rows(raw.ai_suggestions),
                                        _Rows(raw.nps_responses))
    zone = settings.reporting_timezone

    def active(name: str) -> bool:
        return not settings.active_event_names or name in settings.active_event_names

    def measure(metric: str, user: int, start: dt.datetime, end: dt.datetime) -> tuple[float, float | None]:
        in_window = events.between(user, start, end)
        core_actions = sum(name == settings.core_action_event_name for _, _, name in in_window)
        active_days = len({_local_date(at, zone) for _, at, name in in_window if active(name)})
        ordered = orders.between(user, start, end)
        suggested = suggestions.between(user, start, end)
        if metric == "pm_product_activation_rate":
            return float(any(name == settings.activation_event_name for _, _, name in in_window)), None
        if metric == "pm_activation_rate":
            return float(any(amount > 0 for _, _, amount in ordered)), None
        if metric == "pm_north_star_users":
            return float(core_actions >= settings.north_star_min_core_actions), None
        if metric == "pm_retention_rate":
            return float(active_days > 0), None
        if metric == "pm_dormant_users":  # over days 0-14: active in the first week, not in the second
            week_two = start + dt.timedelta(days=7)
            return float(bool(measure("pm_retention_rate", user, start, week_two)[0])
                         and not measure("pm_retention_rate", user, week_two, end)[0]), None
        if metric == "pm_core_actions":
            return core_actions, None
        if metric == "pm_events":
            return len(in_window), None
        if metric == "pm_active_user_days":
            return active_days, None
        if metric == "pm_orders":
            return sum(amount > 0 for _, _, amount in ordered), None
        if metric == "pm_revenue_usd":
            return sum(amount for _, _, amount in ordered), None
        if metric == "pm_ai_suggestions":
            return len(suggested), None
        if metric == "pm_ai_acceptance_rate":
            return sum(s[4] == "accepted" for s in suggested), len(suggested)
        if metric == "pm_ai_correction_rate":
            return sum(s[4] == "edited" for s in suggested), sum(s[4] in ("accepted", "edited") for s in suggested)
        if metric == "pm_ai_hitl_rate":
            return sum(bool(s[5]) for s in suggested), len(suggested)
        if metric == "pm_ai_cost_per_1k_suggestions_usd":
            return 1000 * sum(s[3] or 0 for s in suggested), len(suggested)
        if metric == "pm_ai_latency_ms_average":
            latencies = [s[2] for s in suggested if s[2] is not None]
            return sum(latencies), len(latencies)
        if metric == "pm_nps":
            responses = nps.between(user, start, end)
            if not responses:
                return 0, 0
            score = responses[-1][2]
            return (100 if score >= 9 else 0 if score >= 7 else -100), 1
        raise AssertionError(f"no per-user measure here for {metric}")

    def covariate(metric: str, user: int, start: dt.datetime, end: dt.datetime) -> float:
        if metric in ("pm_retention_rate", "pm_dormant_users"):  # active days in the lookback
            return measure("pm_active_user_days", user, start, end)[0]
        return measure(metric, user, start, end)[0]

    measure.covariate = covariate  # type: ignore[attr-defined]
    return measure


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between the closest ranks (position 1 + p (n - 1))."""
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def _units(raw: ExperimentRaw, experiment: Mapping[str, Any], settings: MetricSettings) -> tuple[dict, int, int]:
    """Included units {user: (variation, first counted exposure)} and the users excluded for multiple
    variations and for outside dates. Only exposures dated before the cutoff exist; those dated in
    [start_date, end_date] count."""
    start, end = dt.date.fromisoformat(experiment["start_date"]), dt.date.fromisoformat(experiment["end_date"])
    seen, counted = set(), defaultdict(list)
    for experiment_id, variation, user, at in raw.exposures:
        day = _local_date(at, settings.reporting_timezone)
        if experiment_id != experiment["id"] or day >= settings.as_of_date:
            continue
        seen.add(user)
        if start <= day <= end:
            counted[user].append((at, variation))
    units = {user: (min(rows)[1], min(rows)[0]) for user, rows in counted.items() if len({v for _, v in rows}) == 1}
    return units, len(counted) - len(units), len(seen - set(counted))


def expected_experiments(raw: ExperimentRaw, settings: MetricSettings,
                         experiments: Sequence[Mapping[str, Any]]) -> Expected:
    measure = _measures(raw, settings)
    cutoff_at = _cutoff_at(settings)
    zone = settings.reporting_timezone
    result = Expected({}, {}, {}, {})
    for experiment in experiments:
        experiment_id = experiment["id"]
        start, end = dt.date.fromisoformat(experiment["start_date"]), dt.date.fromisoformat(experiment["end_date"])
        units, multiple, outside = _units(raw, experiment, settings)
        dates = {user: _local_date(at, zone) for user, (_, at) in units.items()}
        result.experiments[experiment_id] = {
            "runtime_days": (min(end + dt.timedelta(days=1), settings.as_of_date) - start).days,
            "is_ended": end < settings.as_of_date,
            "first_exposure_date": min(dates.values(), default=None),
            "last_exposure_date": max(dates.values(), default=None),
            "exposed_users": len(units), "excluded_multiple_variations": multiple, "excluded_outside_dates": outside,
        }
        for variation in experiment["variations"]:
            result.variation_units[(experiment_id, variation["name"])] = sum(
                v == variation["name"] for v, _ in units.values())

        delay = dt.timedelta(hours=experiment_setting(experiment, "exposure_delay_hours"))
        lookback = experiment_setting(experiment, "cuped_lookback_days")
        capping = experiment_setting(experiment, "capping")
        week = experiment_setting(experiment, "retention_week")
        windows = {"conversion": (0, experiment_setting(experiment, "conversion_window_days")), "week": (0, 7),
                   "two_weeks": (0, 14), "retention": (7 * week, 7 * week + 7)}
        for metric, role in metrics_of(experiment).items():
            result.metric_roles[(experiment_id, metric)] = role
            kind, window = CATALOG[metric]
            first_day, last_day = windows[window]
            rows = []  # (user, value, denominator, covariate) of the units whose window has ended
            for user, (_, exposed_at) in units.items():
                analysis_start = exposed_at + delay
                window_start = analysis_start + dt.timedelta(days=first_day)
                window_end = analysis_start + dt.timedelta(days=last_day)
                if window_end > cutoff_at:
                    continue
                value, denominator = measure(metric, user, window_start, window_end)
                covariate = None
                if lookback and kind != "ratio":
                    covariate = measure.covariate(metric, user, exposed_at - dt.timedelta(days=lookback), exposed_at)
                rows.append((user, value, denominator, covariate))
            if capping and kind in ("count", "sum") and rows:
                if capping["type"] == "absolute":
                    value_cap = covariate_cap = capping["value"]
                else:
                    value_cap = percentile([r[1] for r in rows], capping["value"])
                    covariate_cap = percentile([r[3] for r in rows], capping["value"]) if lookback else None
                rows = [(u, min(v, value_cap), d, None if c is None else min(c, covariate_cap))
                        for u, v, d, c in rows]
            for user, value, denominator, covariate in rows:
                key = (experiment_id, units[user][0], metric, dates[user])
                sums = result.statistics.setdefault(key, {
                    "units": 0, "value_sum": 0.0, "value_sum_squares": 0.0,
                    **dict.fromkeys(("denominator_sum", "denominator_sum_squares", "value_denominator_sum"),
                                    0.0 if kind == "ratio" else None),
                    **dict.fromkeys(("covariate_sum", "covariate_sum_squares", "value_covariate_sum"),
                                    None if covariate is None else 0.0)})
                sums["units"] += 1
                sums["value_sum"] += value
                sums["value_sum_squares"] += value * value
                if kind == "ratio":
                    sums["denominator_sum"] += denominator
                    sums["denominator_sum_squares"] += denominator * denominator
                    sums["value_denominator_sum"] += value * denominator
                if covariate is not None:
                    sums["covariate_sum"] += covariate
                    sums["covariate_sum_squares"] += covariate * covariate
                    sums["value_covariate_sum"] += value * covariate
    return result


def arm_sums(statistics: Mapping[tuple[str, str, str, dt.date], Mapping[str, Any]], experiment_id: str,
             variation: str, metric: str) -> dict[str, Any]:
    """An arm's sums over its exposure dates."""
    total: dict[str, Any] = {}
    for (e, v, m, _), sums in statistics.items():
        if (e, v, m) == (experiment_id, variation, metric):
            for name, value in sums.items():
                total[name] = value if total.get(name) is None else total[name] + (value or 0)
    return total
