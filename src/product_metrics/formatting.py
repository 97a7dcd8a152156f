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


MINUS = "\u2212"  # a typographic minus: "−4.0 points", "−$20.00"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _minus(text: str) -> str:
    return text.replace("-", MINUS)


def _count(value: float, noun: str) -> str:
    text = f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"
    return f"{text} {noun}"


def format_value(value: float | None, unit: str | None, metric: str | None = None, *, noun: str | None = None,
                 signed: bool = False) -> str:
    """`value` in `unit` as people read it: '1,234 users', '$68.56', '$4,116', '13.7%', '2.76×',
    '2.2 months', '120 ms', '37.1 pts'. `noun` names what a count counts ('core actions'; default
    'count'); `signed` prefixes + to positive values (a change). A ratio is a share (0.137 reads
    13.7%), a `percent` value is already in percent (13.7 reads 13.7%). None or NaN reads '—'."""
    if value is None or _missing(value):
        return "—"
    return _minus(_value_text(float(value), unit, metric, noun=noun, signed=signed))


def _value_text(value: float, unit: str | None, metric: str | None, *, noun: str | None, signed: bool) -> str:
    sign = "+" if signed and value > 0 else ""
    how = kind(unit, metric)
    if how == "percent":
        return f"{sign}{value * (1 if unit == 'percent' else 100):,.1f}%"
    if how == "multiple":
        return f"{sign}{value:,.2f}×"
    if how == "usd":
        text = f"${abs(value):,.0f}" if abs(value) >= 1000 else f"${abs(value):,.2f}"
        return ("-" if value < 0 else sign) + text
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
    if value.is_integer() or abs(value) >= 100:
        return f"{sign}{value:,.0f}"
    decimals = 1 if abs(value) >= 10 else 2 if abs(value) >= 1 else 3
    return f"{sign}{value:,.{decimals}f}"


def format_change(change: float | None, unit: str | None, metric: str | None = None, *,
                  noun: str | None = None) -> str:
    """An absolute change with its sign: '+12 users', '−$3.10', '+1.2 pts' (a percentage's change is
    in percentage points, never in %)."""
    if change is None or _missing(change):
        return "—"
    if kind(unit, metric) == "percent":
        return _minus(f"{change * (1 if unit == 'percent' else 100):+,.1f} pp")
    return format_value(change, unit, metric, noun=noun, signed=True)


def format_relative(relative: float | None) -> str:
    """A relative change: '+6.0%', '−12.5%'."""
    if relative is None or _missing(relative):
        return "—"
    return _minus(f"{relative * 100:+,.1f}%")


def format_share(share: float | None, *, decimals: int = 1) -> str:
    """A share of a whole, unsigned: 0.37 -> '37.0%' (a segment's support, the way to a target)."""
    if share is None or _missing(share):
        return "—"
    return _minus(f"{share * 100:,.{decimals}f}%")


def format_points(share: float | None) -> str:
    """A contribution to a relative change, in points of it: −0.04 -> '−4.0 points' (north star −6.0%:
    weekly actives −4.0 points, share of active −2.0 points)."""
    if share is None or _missing(share):
        return "—"
    return _minus(f"{share * 100:+,.1f} points")


_PER = {"day": "day", "week": "week", "cohort_week": "week", "month": "month", "cohort_month": "month"}


def format_pace(pace: float | None, unit: str | None, grain: str | None, metric: str | None = None, *,
                noun: str | None = None) -> str:
    """A change per period of `grain` (cohort grains count as weeks and months): '+2.5 users/week',
    '−$83.33/month', '−0.5 pp/month'."""
    if pace is None or _missing(pace):
        return "—"
    return f"{format_change(pace, unit, metric, noun=noun)}/{_PER.get(grain or '', 'period')}"


def format_cell(value: object, unit: str | None = None, metric: str | None = None) -> str:
    """A table cell: a number in `unit` (format_value; without a unit: by its size), any other value
    as its text, None as '—'."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return format_value(float(value), unit, metric)


def noun_of(label: str | None) -> str | None:
    """What a count counts, from the metric's label: 'Core actions (product metrics)' -> 'core actions'."""
    if not label:
        return None
    text = re.sub(r"\s*\([^)]*\)", "", label).strip()
    if not text:
        return None
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]  # 'AI suggestions' keeps its capitals
