"""How a metric's numbers read, in one place: the report, the catalog and the alerts all format a
value, a change and a relative change with these functions, so `$68.56` and `2.2 months` read the
same everywhere. Every formatted number carries its unit (users, $, %, ms, months...)."""

from __future__ import annotations

import math
import re

# Ratios that are a multiple of something (LTV is 2.8× CAC; each user brings 0.15 users), not a
# share of a whole: they read as "2.76×", the shares as "13.7%".
_MULTIPLE = re.compile(r"ltv_cac|k_factor|_per_")


def kind(unit: str | None, metric: str | None = None) -> str:
    """How a value of `unit` reads: 'percent', 'multiple', 'usd', 'users', 'count', 'score', 'days',
    'months', 'hours', 'milliseconds' or 'number' (no unit known)."""
    if unit == "ratio":
        return "multiple" if metric and _MULTIPLE.search(metric) else "percent"
    if unit in {"percent", "usd", "users", "count", "score", "days", "months", "hours", "milliseconds"}:
        return unit
    return "number"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _count(value: float, noun: str) -> str:
    text = f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"
    return f"{text} {noun}"


def format_value(value: float | None, unit: str | None, metric: str | None = None, *, noun: str | None = None,
                 signed: bool = False) -> str:
    """`value` in `unit` as people read it: '1,234 users', '$68.56', '$4,116', '13.7%', '2.76×',
    '2.2 months', '120 ms', '37.1 pts'. `noun` names what a count counts ('core actions'; default
    'count'); `signed` prefixes + to positive values (a change). None or NaN reads '—'."""
    if _missing(value):
        return "—"
    value = float(value)
    sign = "+" if signed and value > 0 else ""
    how = kind(unit, metric)
    if how == "percent":
        return f"{sign}{value * 100:,.1f}%"
    if how == "multiple":
        return f"{sign}{value:,.2f}×"
    if how == "usd":
        text = f"${abs(value):,.0f}" if abs(value) >= 1000 else f"${abs(value):,.2f}"
        return ("−" if value < 0 else sign) + text
    if how == "users":
        return sign + _count(value, "users")
    if how == "count":
        return sign + _count(value, noun or "count")
    if how == "score":
        return f"{sign}{value:,.1f} pts"
    if how == "milliseconds":
        return f"{sign}{value:,.0f} ms"
    if how in {"days", "months", "hours"}:
        return f"{sign}{value:,.1f} {how}"
    return f"{sign}{value:,.1f}" if abs(value) >= 10 else f"{sign}{value:,.2f}"


def format_change(change: float | None, unit: str | None, metric: str | None = None, *,
                  noun: str | None = None) -> str:
    """An absolute change with its sign: '+12 users', '−$3.10', '+1.2 pts' (a percentage's change is
    in percentage points, never in %)."""
    if _missing(change):
        return "—"
    if kind(unit, metric) == "percent":
        return f"{change * 100:+,.1f} pp".replace("-", "−")
    return format_value(change, unit, metric, noun=noun, signed=True).replace("-", "−")


def format_relative(relative: float | None) -> str:
    """A relative change: '+6.0%', '−12.5%'."""
    if _missing(relative):
        return "—"
    return f"{relative * 100:+,.1f}%".replace("-", "−")


def noun_of(label: str | None) -> str | None:
    """What a count counts, from the metric's label: 'Core actions (product metrics)' -> 'core actions'."""
    if not label:
        return None
    text = re.sub(r"\s*\([^)]*\)", "", label).strip()
    if not text:
        return None
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]  # 'AI suggestions' keeps its capitals
