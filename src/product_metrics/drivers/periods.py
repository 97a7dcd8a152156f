"""Periods a change is explained between: an ISO week (Monday start) or a calendar month, written
`2026-W25`, `2026-06` or as the date it starts on (`2026-06-15`). The previous period is the
previous calendar period (the Monday week before; the calendar month before, never 30 days)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from product_metrics.errors import UserError

GRAINS = ("week", "month")
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class PeriodError(UserError):
    """A period the command line cannot read; the message says how to write one."""


@dataclass(frozen=True, order=True)
class Period:
    grain: str  # week | month
    start: dt.date

    def __post_init__(self) -> None:
        if self.grain not in GRAINS:
            raise ValueError(f"unknown grain {self.grain!r}")
        if self.grain == "week" and self.start.weekday() != 0:
            raise ValueError(f"a week starts on a Monday, not on {self.start}")
        if self.grain == "month" and self.start.day != 1:
            raise ValueError(f"a month starts on its 1st, not on {self.start}")

    @classmethod
    def containing(cls, grain: str, day: dt.date) -> Period:
        """The week (Monday start) or calendar month holding `day`."""
        if grain == "week":
            return cls(grain, day - dt.timedelta(days=day.weekday()))
        return cls(grain, day.replace(day=1))

    @property
    def end(self) -> dt.date:
        """The first day after the period."""
        if self.grain == "week":
            return self.start + dt.timedelta(days=7)
        year, month = divmod(self.start.month, 12)
        return dt.date(self.start.year + year, month + 1, 1)

    def previous(self) -> Period:
        """The previous calendar period: the week before, or the calendar month before."""
        if self.grain == "week":
            return Period("week", self.start - dt.timedelta(days=7))
        return Period("month", (self.start - dt.timedelta(days=1)).replace(day=1))

    @property
    def label(self) -> str:
        """`2026-W25` for a week (ISO year and week), `2026-06` for a month."""
        if self.grain == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    def __str__(self) -> str:
        return self.label


_HOW = "write a week as 2026-W25, a month as 2026-06, or the date a week or month starts on (2026-06-15)"


def parse_period(text: str, grain: str | None = None) -> Period:
    """A period from the command line. A date is the week that starts on it (a Monday), or with
    grain 'month' the month that starts on it (a 1st); `grain` must agree with a week or month label."""
    value = text.strip()
    if grain is not None and grain not in GRAINS:
        raise PeriodError(f"Unknown grain {grain!r}: use week or month.")
    parsed: Period | None = None
    if match := _WEEK.match(value):
        year, week = int(match.group(1)), int(match.group(2))
        try:
            parsed = Period("week", dt.date.fromisocalendar(year, week, 1))
        except ValueError:
            raise PeriodError(f"{value!r} is not a week: {year} has weeks 1 to "
                              f"{dt.date(year, 12, 28).isocalendar()[1]}.") from None
    elif match := _MONTH.match(value):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"{value!r} is not a month: {_HOW}.")
        parsed = Period("month", dt.date(year, month, 1))
    else:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise PeriodError(f"{value!r} is not a period: {_HOW}.") from None
        wanted = grain or "week"
        period = Period.containing(wanted, day)
        if period.start != day:
            what = "a Monday" if wanted == "week" else "the 1st of a month"
            raise PeriodError(f"{value} does not start a {wanted}: a {wanted} starts on {what} "
                              f"(the {wanted} holding it starts on {period.start}).")
        return period
    if grain is not None and parsed.grain != grain:
        raise PeriodError(f"{value!r} is a {parsed.grain}, but --grain is {grain}.")
    return parsed


def parse_range(before: str, after: str, grain: str | None = None) -> tuple[Period, Period]:
    """--from and --to, which must be of the same grain."""
    first, second = parse_period(before, grain), parse_period(after, grain)
    if first.grain != second.grain:
        raise PeriodError(f"--from {before} is a {first.grain} and --to {after} a {second.grain}: "
                          "compare two weeks or two months.")
    return first, second
