"""The governance contract: the fields every metric's `config.meta.governance` carries, their
allowed values, and their validation. Pure Python (no dbt, no warehouse), so it is cheap to test.

`parse_governance` turns the raw meta dict into a typed `Governance` plus the `FieldProblem`s it
found; a field with a problem is `None` in the result, so later rules skip what they cannot judge.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

UNITS = ("ratio", "users", "usd", "count", "score", "days", "months", "percent", "hours", "milliseconds")
GRAINS = ("day", "week", "month", "cohort_week", "cohort_month")
ROLES = ("north_star", "kpi", "guardrail", "diagnostic")
DIRECTIONS = ("higher_is_better", "lower_is_better")
INDICATORS = ("leading", "lagging")
STATUSES = ("draft", "certified", "deprecated")
CADENCES = ("weekly", "monthly", "quarterly", "yearly")
THRESHOLD_LEVELS = ("warn", "alert")

REQUIRED_FIELDS = ("owner", "description", "formula", "unit", "grain", "role", "direction", "indicator",
                   "guardrails", "review_cadence", "last_reviewed", "status", "version", "thresholds")
OPTIONAL_FIELDS = ("lives_in", "decomposition", "targets")
ALL_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
LIVES_IN_REQUIRED = ("table", "column", "time_column")
LIVES_IN_OPTIONAL = ("complete_column", "where")
# The metric tree's arithmetic: the metric is the sum or product of its metrics, or their ratio.
DECOMPOSITION_OPERATIONS = ("sum", "product", "ratio")
TARGET_REQUIRED = ("value", "by")
TARGET_OPTIONAL = ("set_on",)
# The var that sets targets on any metric (a host's targets on the package's metrics): a mapping of
# metric name -> a list of targets, replacing that metric's meta targets.
TARGETS_VAR = "product_metrics__metric_targets"
# Roles that steer decisions: each needs a counter-metric so it cannot be gamed alone.
ROLES_NEEDING_GUARDRAILS = ("north_star", "kpi")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DAYS_CADENCE = re.compile(r"^([1-9][0-9]*)d$")

EXAMPLE = {
    "owner": "owner: {name: Growth Analytics, email: growth-analytics@example.com}",
    "description": "description: <one sentence a PM understands>",
    "formula": "formula: <the computation, e.g. dau / mau>",
    "unit": f"unit: one of {', '.join(UNITS)}",
    "grain": f"grain: one of {', '.join(GRAINS)}",
    "role": f"role: one of {', '.join(ROLES)}",
    "direction": f"direction: one of {', '.join(DIRECTIONS)}",
    "indicator": f"indicator: one of {', '.join(INDICATORS)}",
    "guardrails": "guardrails: [<metric name>, ...] (may be [] for guardrail and diagnostic metrics)",
    "review_cadence": f"review_cadence: one of {', '.join(CADENCES)}, or <N>d",
    "last_reviewed": "last_reviewed: YYYY-MM-DD",
    "status": f"status: one of {', '.join(STATUSES)}",
    "version": "version: 1 (an integer, bumped on every definition change)",
    "thresholds": "thresholds: {warn: <number>, alert: <number>}, or {} for no alerting",
    "lives_in": "lives_in: {table: <model>, column: <column>, time_column: <column>, complete_column: <column>}",
    "decomposition": "decomposition: {operation: sum | product | ratio, metrics: [<metric>, <metric>, ...]} "
                     "(ratio: [numerator, denominator])",
    "targets": "targets: [{value: <number>, by: YYYY-MM-DD, set_on: YYYY-MM-DD}] (set_on optional)",
}


@dataclass(frozen=True)
class FieldProblem:
    """One field that is missing or invalid: which field, what is wrong, and how to fix it."""

    field: str
    problem: str
    fix: str
    missing: bool = False


@dataclass(frozen=True)
class Owner:
    name: str
    email: str


@dataclass(frozen=True)
class LivesIn:
    table: str
    column: str
    time_column: str
    complete_column: str | None = None
    where: str | None = None


@dataclass(frozen=True)
class Decomposition:
    operation: str  # sum | product | ratio
    metrics: tuple[str, ...]  # ratio: (numerator, denominator)


@dataclass(frozen=True)
class Target:
    """A dated target: reach `value` by the date `by`; `set_on` (optional) is when it was set, whose
    period's value is the baseline progress is measured from."""

    value: float
    by: dt.date
    set_on: dt.date | None = None


def parse_targets(value: Any) -> tuple[tuple[Target, ...] | None, str | None]:
    """(the targets, None) or (None, what is wrong in one line) for a list of
    {value, by, set_on} mappings, as meta `targets` and each entry of var product_metrics__metric_targets
    write it. Dates are YYYY-MM-DD (YAML may hand them over as dates)."""
    if not isinstance(value, list):
        return None, f"targets is {value!r}, not a list of {{value, by, set_on}} mappings"
    targets = []
    for index, item in enumerate(value):
        where = f"targets[{index}]"
        if not isinstance(item, Mapping):
            return None, f"{where} is {item!r}, not a {{value, by, set_on}} mapping"
        extra = sorted(set(item) - set(TARGET_REQUIRED) - set(TARGET_OPTIONAL))
        if extra:
            return None, f"{where} has unknown keys {extra} (allowed: value, by, set_on)"
        number = item.get("value")
        if not _is_number(number):
            return None, f"{where}.value is {number!r}, not a number"
        by, set_on = as_date(item.get("by")), as_date(item.get("set_on"))
        for key, day in (("by", by), ("set_on", set_on)):
            raw = item.get(key)
            if (day is None or isinstance(raw, dt.datetime)) and not (key == "set_on" and raw is None):
                return None, f"{where}.{key} is {raw!r}, not a date YYYY-MM-DD"
        if by is None:  # reported above; narrows the type
            return None, f"{where}.by is missing"
        if set_on is not None and by <= set_on:
            return None, f"{where}.by {by} is not after set_on {set_on}"
        targets.append(Target(float(number), by, set_on))
    return tuple(targets), None


@dataclass(frozen=True)
class Governance:
    """A metric's parsed governance meta. A field is None when it is missing or invalid."""

    raw: Mapping[str, Any]
    owner: Owner | None = None
    description: str | None = None
    formula: str | None = None
    unit: str | None = None
    grain: str | None = None
    role: str | None = None
    direction: str | None = None
    indicator: str | None = None
    guardrails: tuple[str, ...] | None = None
    review_cadence: str | None = None
    last_reviewed: dt.date | None = None
    status: str | None = None
    version: int | None = None
    thresholds: Mapping[str, float] | None = None
    lives_in: LivesIn | None = None
    targets: tuple[Target, ...] | None = None  # None: no targets field, or an invalid one
    problems: tuple[FieldProblem, ...] = field(default=())
    decomposition: Decomposition | None = None

    @property
    def warn(self) -> float | None:
        return (self.thresholds or {}).get("warn")

    @property
    def alert(self) -> float | None:
        return (self.thresholds or {}).get("alert")

    def next_review_due(self) -> dt.date | None:
        if self.last_reviewed is None or self.review_cadence is None:
            return None
        return next_review_due(self.last_reviewed, self.review_cadence)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review_due(last_reviewed: dt.date, cadence: str) -> dt.date:
    """last_reviewed + cadence: weekly 7 days, monthly/quarterly/yearly 1/3/12 calendar months, Nd N days."""
    if cadence == "weekly":
        return last_reviewed + dt.timedelta(days=7)
    if cadence in {"monthly", "quarterly", "yearly"}:
        return add_months(last_reviewed, {"monthly": 1, "quarterly": 3, "yearly": 12}[cadence])
    match = _DAYS_CADENCE.match(cadence)
    if not match:
        raise ValueError(f"unknown review cadence {cadence!r}")
    return last_reviewed + dt.timedelta(days=int(match.group(1)))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def as_date(value: Any) -> dt.date | None:
    """A date, a datetime's date, or an ISO date string (around white space); else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


class _Parser:
    def __init__(self, name: str, raw: Mapping[str, Any]):
        self.name = name
        self.raw = raw
        self.problems: list[FieldProblem] = []

    def invalid(self, field_name: str, problem: str, fix: str | None = None) -> None:
        self.problems.append(FieldProblem(field_name, problem, fix or f"set {EXAMPLE.get(field_name, field_name)}"))

    def choice(self, field_name: str, allowed: tuple[str, ...]) -> str | None:
        value = self.raw.get(field_name)
        if value in allowed:
            return value
        self.invalid(field_name, f"{field_name} is {value!r}, not one of {', '.join(allowed)}")
        return None

    def text(self, field_name: str) -> str | None:
        value = _text(self.raw.get(field_name))
        if value is None:
            self.invalid(field_name, f"{field_name} is empty or not text")
        return value

    def owner(self) -> Owner | None:
        value = self.raw.get("owner")
        if not isinstance(value, Mapping):
            self.invalid("owner", f"owner is {value!r}, not a {{name, email}} mapping")
            return None
        name, email = _text(value.get("name")), _text(value.get("email"))
        if name is None:
            self.invalid("owner", "owner.name is empty: a team or person must answer for the metric")
        if email is None or not _EMAIL.match(email):
            self.invalid("owner", f"owner.email is {value.get('email')!r}, not an email address")
        extra = sorted(set(value) - {"name", "email"})
        if extra:
            self.invalid("owner", f"owner has unknown keys {extra}", "keep only owner.name and owner.email")
        return Owner(name, email) if name and email and _EMAIL.match(email) and not extra else None

    def guardrails(self) -> tuple[str, ...] | None:
        value = self.raw.get("guardrails")
        if not isinstance(value, list) or not all(_text(item) for item in value):
            self.invalid("guardrails", f"guardrails is {value!r}, not a list of metric names")
            return None
        names = tuple(item.strip() for item in value)
        if len(set(names)) != len(names):
            self.invalid("guardrails", "guardrails names a metric twice", "list each guardrail metric once")
            return None
        if self.name in names:
            self.invalid("guardrails", "a metric cannot be its own guardrail",
                         "name a counter-metric that moves when this one is gamed")
            return None
        return names

    def cadence(self) -> str | None:
        value = self.raw.get("review_cadence")
        if isinstance(value, str) and (value in CADENCES or _DAYS_CADENCE.match(value)):
            return value
        self.invalid("review_cadence", f"review_cadence is {value!r}")
        return None

    def last_reviewed(self) -> dt.date | None:
        value = as_date(self.raw.get("last_reviewed"))
        if value is None:
            self.invalid("last_reviewed", f"last_reviewed is {self.raw.get('last_reviewed')!r}, not a date")
        return value

    def version(self) -> int | None:
        value = self.raw.get("version")
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        self.invalid("version", f"version is {value!r}, not an integer ≥ 1")
        return None

    def thresholds(self, direction: str | None) -> Mapping[str, float] | None:
        value = self.raw.get("thresholds")
        if not isinstance(value, Mapping):
            self.invalid("thresholds", f"thresholds is {value!r}, not a mapping")
            return None
        extra = sorted(set(value) - set(THRESHOLD_LEVELS))
        bad = [key for key in THRESHOLD_LEVELS if key in value and not _is_number(value[key])]
        if extra or bad:
            self.invalid("thresholds", f"thresholds has unknown keys {extra}" if extra
                         else f"thresholds.{bad[0]} is {value[bad[0]]!r}, not a number")
            return None
        parsed = {key: float(value[key]) for key in THRESHOLD_LEVELS if key in value}
        warn, alert = parsed.get("warn"), parsed.get("alert")
        if warn is not None and alert is not None and direction in DIRECTIONS:
            worse_first = alert <= warn if direction == "higher_is_better" else alert >= warn
            if not worse_first:
                side = "below" if direction == "higher_is_better" else "above"
                self.invalid("thresholds", f"alert {alert:g} is not {side} warn {warn:g} for a "
                             f"{direction} metric", f"the alert threshold is the worse value: put it {side} warn")
                return None
        return parsed

    def lives_in(self) -> LivesIn | None:
        if "lives_in" not in self.raw or self.raw["lives_in"] is None:
            return None
        value = self.raw["lives_in"]
        if not isinstance(value, Mapping):
            self.invalid("lives_in", f"lives_in is {value!r}, not a mapping")
            return None
        extra = sorted(set(value) - set(LIVES_IN_REQUIRED) - set(LIVES_IN_OPTIONAL))
        missing = [key for key in LIVES_IN_REQUIRED if not _text(value.get(key))]
        bad_optional = [key for key in LIVES_IN_OPTIONAL if key in value and value[key] is not None
                        and not _text(value[key])]
        if extra or missing or bad_optional:
            problem = (f"lives_in has unknown keys {extra}" if extra
                       else f"lives_in.{missing[0]} is missing" if missing
                       else f"lives_in.{bad_optional[0]} is empty or not text")
            self.invalid("lives_in", problem)
            return None
        return LivesIn(**{key: _text(value.get(key)) for key in LIVES_IN_REQUIRED + LIVES_IN_OPTIONAL})

    def decomposition(self) -> Decomposition | None:
        value = self.raw.get("decomposition")
        if value is None:
            return None
        if not isinstance(value, Mapping) or sorted(value) != ["metrics", "operation"]:
            self.invalid("decomposition", f"decomposition is {value!r}, not an {{operation, metrics}} mapping")
            return None
        operation, metrics = value["operation"], value["metrics"]
        if operation not in DECOMPOSITION_OPERATIONS:
            self.invalid("decomposition", f"decomposition.operation is {operation!r}, not one of "
                         f"{', '.join(DECOMPOSITION_OPERATIONS)}")
            return None
        if not isinstance(metrics, list) or not all(_text(m) for m in metrics) or len(metrics) < 2:
            self.invalid("decomposition", f"decomposition.metrics is {metrics!r}, not a list of two or more metric "
                         "names")
            return None
        names = tuple(m.strip() for m in metrics)
        if operation == "ratio" and len(names) != 2:
            self.invalid("decomposition", f"a ratio decomposition names {len(names)} metrics",
                         "name two: [numerator, denominator]")
            return None
        if len(set(names)) != len(names) or self.name in names:
            self.invalid("decomposition", "decomposition.metrics names a metric twice, or the metric itself",
                         "list each input metric once, never the metric being decomposed")
            return None
        return Decomposition(operation, names)

    def targets(self) -> tuple[Target, ...] | None:
        if self.raw.get("targets") is None:
            return None
        targets, problem = parse_targets(self.raw["targets"])
        if problem:
            self.invalid("targets", problem)
        return targets


def parse_governance(metric_name: str, raw: Any) -> Governance | None:
    """Parse a metric's `governance` meta. None when the metric has no governance at all; otherwise
    every field that could be read, and the problems of the others (in field order)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        return Governance(raw={}, problems=(FieldProblem(
            "governance", f"governance is {raw!r}, not a mapping", "write governance as a mapping of fields"),))
    parser = _Parser(metric_name, raw)
    present = {key for key, value in raw.items() if value is not None}
    for key in REQUIRED_FIELDS:
        if key not in present:
            parser.problems.append(FieldProblem(key, f"{key} is missing", f"add {EXAMPLE[key]}", missing=True))
    for key in sorted(set(raw) - set(ALL_FIELDS)):
        parser.invalid(key, f"{key} is not a governance field",
                       f"remove it or rename it to one of: {', '.join(ALL_FIELDS)}")

    def read(key: str, reader):
        return reader() if key in present else None

    direction = read("direction", lambda: parser.choice("direction", DIRECTIONS))
    governance = Governance(
        raw=raw,
        owner=read("owner", parser.owner),
        description=read("description", lambda: parser.text("description")),
        formula=read("formula", lambda: parser.text("formula")),
        unit=read("unit", lambda: parser.choice("unit", UNITS)),
        grain=read("grain", lambda: parser.choice("grain", GRAINS)),
        role=read("role", lambda: parser.choice("role", ROLES)),
        direction=direction,
        indicator=read("indicator", lambda: parser.choice("indicator", INDICATORS)),
        guardrails=read("guardrails", parser.guardrails),
        review_cadence=read("review_cadence", parser.cadence),
        last_reviewed=read("last_reviewed", parser.last_reviewed),
        status=read("status", lambda: parser.choice("status", STATUSES)),
        version=read("version", parser.version),
        thresholds=read("thresholds", lambda: parser.thresholds(direction)),
        lives_in=parser.lives_in(),
        decomposition=parser.decomposition(),
        targets=parser.targets(),
    )
    if governance.thresholds and "lives_in" not in present:
        parser.invalid("thresholds", "thresholds are set but lives_in is not: no value to compare them with",
                       "add lives_in (the table and column holding the metric's values), or set thresholds: {}")
    if governance.targets and "lives_in" not in present:
        parser.invalid("targets", "targets are set but lives_in is not: no value to measure progress with",
                       "add lives_in (the table and column holding the metric's values), or remove targets")
    order = {key: index for index, key in enumerate(("governance", *ALL_FIELDS))}
    problems = sorted(parser.problems, key=lambda p: order.get(p.field, len(order)))
    return replace(governance, problems=tuple(problems))
