"""Dated targets (SMART-ER): a metric's governance meta `targets: [{value, by, set_on}]`, or var
product_metrics__metric_targets (metric -> targets, replacing that metric's meta targets: how a host
sets targets on the package's metrics), judged against the metric's complete periods read through
its lives_in.

As of is always the metric's latest complete period, never the wall clock: the same data gives the
same statuses whatever the date. Everything is counted in the metric's grain (week, month or day;
cohort_week and cohort_month count as weeks and months):
- progress = (current - baseline) / (target - baseline), baseline = the value of the latest complete
  period on or before set_on (None without set_on, before the data, or when target = baseline);
- periods_left = periods from the as-of period to the period holding `by`;
- required_pace = (target - current) / periods_left, per period;
- recent_pace = the least-squares slope of the last 8 complete periods (fewer when fewer exist; None
  with fewer than 2), x in periods, so a series finer than its grain (daily rows of a weekly metric)
  still gives a pace per week;
- projected = current + recent_pace x periods_left; on_track when it reaches the target in the
  metric's direction (without a recent pace: when the current value already does);
- a target whose period is at or before the as-of period is judged met / missed on the value of the
  period holding `by` (the latest row of that period on or before `by`); progress then uses that value.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from product_metrics.formatting import format_pace, format_share, format_value, noun_of
from product_metrics.governance.contract import TARGETS_VAR, Target, parse_targets
from product_metrics.governance.latest_values import read_series
from product_metrics.governance.registry import Registry
from product_metrics.warehouse import Warehouse

STATUSES = ("on_track", "off_track", "met", "missed", "no_value")
# Statuses recorded in audit.metric_alerts (kind 'target', level 'warn').
ALERTING_STATUSES = ("off_track", "missed")
RECENT_PERIODS = 8


@dataclass(frozen=True)
class TargetStatus:
    metric: str
    unit: str | None
    direction: str
    target_value: float
    by: dt.date
    set_on: dt.date | None
    as_of_period: dt.date | None  # the metric's latest complete period
    current_value: float | None  # its value
    baseline_value: float | None
    progress: float | None  # 0..1+ of the way from baseline to target; None without baseline
    periods_left: int | None  # 0 once the target's period is complete
    required_pace: float | None  # per metric period; None once judged
    recent_pace: float | None
    projected_value: float | None
    status: str  # on_track | off_track | met | missed | no_value
    summary: str
    # Added to the contract: what the numbers above were computed from.
    grain: str | None = None
    baseline_period: dt.date | None = None
    by_period: dt.date | None = None  # the period holding `by`
    by_value: float | None = None  # its value, once complete: met / missed are judged on it
    table: str | None = None
    column: str | None = None

    @property
    def is_alert(self) -> bool:
        """Recorded as an alert row: off track, or missed."""
        return self.status in ALERTING_STATUSES


# --- which targets --------------------------------------------------------------------------------

def targets_var_for(project, registry: Registry) -> object:
    """Var product_metrics__metric_targets as dbt resolves it for `project`, when the manifest is that
    project's (a manifest of another project, e.g. --manifest-dir of a different one, gets none)."""
    if project is None:
        return None
    from product_metrics.project import _read_project

    name = (_read_project(project.root) or {}).get("name")
    if registry.project_name and name and name != registry.project_name:
        return None
    return project.dbt_var(TARGETS_VAR)


def metric_targets(registry: Registry, targets_var: object = None) -> dict[str, tuple[Target, ...]]:
    """The targets of every live governed metric with lives_in and a direction: its meta targets,
    replaced by the var's entry for it. Invalid entries are skipped (governance check reports them)."""
    live = {m.name: m for m in registry.governed()
            if m.governance.status != "deprecated" and m.governance.lives_in and m.governance.direction}
    targets = {name: metric.governance.targets for name, metric in live.items() if metric.governance.targets}
    if isinstance(targets_var, Mapping):
        for name, value in targets_var.items():
            parsed, problem = parse_targets(value)
            if str(name) in live and problem is None and parsed is not None:
                targets[str(name)] = parsed
    return {name: items for name, items in sorted(targets.items()) if items}


# --- periods in a metric's grain ------------------------------------------------------------------

def _step(grain: str | None) -> str:
    if grain in ("week", "cohort_week"):
        return "week"
    if grain in ("month", "cohort_month"):
        return "month"
    return "day"


def period_start(day: dt.date, grain: str | None) -> dt.date:
    """The start of the period of `grain` holding `day` (weeks start on Monday)."""
    step = _step(grain)
    if step == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1) if step == "month" else day


def periods_between(start: dt.date, end: dt.date, grain: str | None) -> int:
    """Whole periods of `grain` from the period holding `start` to the one holding `end`."""
    first, last = period_start(start, grain), period_start(end, grain)
    step = _step(grain)
    if step == "month":
        return (last.year - first.year) * 12 + last.month - first.month
    return (last - first).days // (7 if step == "week" else 1)


def position(day: dt.date, grain: str | None) -> float:
    """`day` on an axis counted in periods of `grain` (fractions inside a period)."""
    step = _step(grain)
    if step == "month":
        return day.year * 12 + day.month - 1 + (day.day - 1) / calendar.monthrange(day.year, day.month)[1]
    return day.toordinal() / (7 if step == "week" else 1)


def period_label(day: dt.date | None, grain: str | None) -> str:
    """2026-W25 (ISO week), 2026-06 (month) or the date."""
    if day is None:
        return "—"
    step = _step(grain)
    if step == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day:%Y-%m}" if step == "month" else day.isoformat()


def least_squares_slope(points: Sequence[tuple[float, float]]) -> float | None:
    """The slope of the least-squares line through (x, y) points; None with fewer than 2 distinct x."""
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


# --- judging one target ---------------------------------------------------------------------------

_WORDS = {"on_track": "on track", "off_track": "off track", "met": "met", "missed": "missed",
          "no_value": "no value"}


def _reaches(value: float, target: float, direction: str) -> bool:
    return value >= target if direction == "higher_is_better" else value <= target


def _progress(value: float | None, baseline: float | None, target: float) -> float | None:
    if value is None or baseline is None or target == baseline:
        return None
    return (value - baseline) / (target - baseline)


def judge(metric: str, unit: str | None, direction: str, grain: str | None, target: Target,
          points: Sequence[tuple[dt.date, float | None]], *, table: str | None = None,
          column: str | None = None, noun: str | None = None) -> TargetStatus:
    """One target against the metric's complete periods (oldest first; the last is the as-of period).
    Numbers read through product_metrics.formatting; `noun`: what a count counts."""

    def amount(value: float | None) -> str:
        return format_value(value, unit, metric, noun=noun)

    def pace(value: float | None) -> str:
        return format_pace(value, unit, grain, metric, noun=noun)

    points = sorted(points)
    as_of, current = points[-1] if points else (None, None)
    baseline_period = baseline = None
    if target.set_on is not None:
        earlier = [(period, value) for period, value in points if period <= target.set_on]
        if earlier:
            baseline_period, baseline = earlier[-1]
    known = [(period, value) for period, value in points if value is not None]
    recent_pace = least_squares_slope([(position(period, grain), value)
                                       for period, value in known[-RECENT_PERIODS:]])
    by_period = period_start(target.by, grain)
    head = f"{metric}: {amount(target.value)} by {target.by}"

    def since(progress: float | None) -> str:
        if baseline is None:
            return ""
        way = f"{format_share(progress, decimals=0)} of the way" if progress is not None else "at the baseline"
        return f", {way} from {amount(baseline)} ({period_label(baseline_period, grain)})"

    def status(state: str, text: str, **numbers) -> TargetStatus:
        values = {"progress": None, "periods_left": None, "required_pace": None, "projected_value": None,
                  "by_value": None, **numbers}
        return TargetStatus(metric, unit, direction, target.value, target.by, target.set_on, as_of, current,
                            baseline, summary=f"{head} — {text}: {_WORDS[state]}", status=state,
                            recent_pace=recent_pace, grain=grain, baseline_period=baseline_period,
                            by_period=by_period, table=table, column=column, **values)

    if as_of is None:
        return status("no_value", "no complete period yet")
    if by_period <= period_start(as_of, grain):  # the target's period is complete: judged
        held = [(period, value) for period, value in known
                if period_start(period, grain) == by_period and period <= target.by]
        if not held:
            return status("no_value", f"no value for {period_label(by_period, grain)}, the period holding "
                                      f"{target.by}", periods_left=0)
        value = held[-1][1]
        progress = _progress(value, baseline, target.value)
        return status("met" if _reaches(value, target.value, direction) else "missed",
                      f"{amount(value)} in {period_label(by_period, grain)}{since(progress)}",
                      periods_left=0, progress=progress, by_value=value)
    periods_left = periods_between(as_of, target.by, grain)
    if current is None:
        return status("no_value", f"no value in {period_label(as_of, grain)}, the latest complete period",
                      periods_left=periods_left)
    progress = _progress(current, baseline, target.value)
    required = (target.value - current) / periods_left
    projected = current + recent_pace * periods_left if recent_pace is not None else None
    reached = _reaches(projected if projected is not None else current, target.value, direction)
    recent = (f"recent pace {pace(recent_pace)}, projected {amount(projected)}"
              if recent_pace is not None else "no recent pace yet (fewer than 2 complete periods)")
    text = (f"{amount(current)} in {period_label(as_of, grain)}{since(progress)}; "
            f"needs {pace(required)} over {periods_left} {_step(grain)}"
            f"{'s' if periods_left != 1 else ''}, {recent}")
    return status("on_track" if reached else "off_track", text, periods_left=periods_left, progress=progress,
                  required_pace=required, projected_value=projected)


# --- every target -------------------------------------------------------------------------------

def evaluate_targets(registry: Registry, warehouse: Warehouse, project=None, *,
                     before: dt.date | None = None) -> list[TargetStatus]:
    """Every target of every live governed metric (metric_targets: meta, replaced by the var of
    `project`), by metric then date. `before`: an as-of date, only periods before it count."""
    statuses = []
    for name, targets in metric_targets(registry, targets_var_for(project, registry)).items():
        governance = registry.metrics[name].governance
        noun = noun_of(registry.metrics[name].label)
        series = read_series(warehouse, registry, name, before=before)
        for target in sorted(targets, key=lambda t: (t.by, t.value)):
            if series.error:
                unreadable = judge(name, governance.unit, governance.direction, governance.grain, target, [],
                                   table=series.table, column=series.column, noun=noun)
                statuses.append(_replace_summary(unreadable, f"cannot be read: {series.error}"))
                continue
            statuses.append(judge(name, governance.unit, governance.direction, governance.grain, target,
                                  series.points, table=series.table, column=series.column, noun=noun))
    return statuses


def _replace_summary(status: TargetStatus, text: str) -> TargetStatus:
    from dataclasses import replace

    head = status.summary.split(" — ", 1)[0]
    return replace(status, summary=f"{head} — {text}: {_WORDS[status.status]}")


def statuses_by_metric(statuses: Sequence[TargetStatus]) -> dict[str, tuple[TargetStatus, ...]]:
    grouped: dict[str, list[TargetStatus]] = {}
    for item in statuses:
        grouped.setdefault(item.metric, []).append(item)
    return {name: tuple(items) for name, items in grouped.items()}
