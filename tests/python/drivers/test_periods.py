"""Periods on the command line: ISO weeks, calendar months, the dates they start on, and the
previous calendar period (a month is compared with the month before, never 30 days)."""

from __future__ import annotations

import datetime as dt

import pytest

from product_metrics.drivers.periods import Period, PeriodError, parse_period, parse_range


@pytest.mark.parametrize("text, grain, expected", [
    ("2026-W25", None, Period("week", dt.date(2026, 6, 15))),
    ("2026-w01", None, Period("week", dt.date(2025, 12, 29))),  # ISO week 1 of 2026 starts in 2025
    ("2026-06", None, Period("month", dt.date(2026, 6, 1))),
    ("2026-06-15", None, Period("week", dt.date(2026, 6, 15))),
    ("2026-06-01", "month", Period("month", dt.date(2026, 6, 1))),
    ("2026-06-01", "week", Period("week", dt.date(2026, 6, 1))),  # a Monday
])
def test_a_period_is_a_week_a_month_or_the_date_it_starts_on(text, grain, expected):
    assert parse_period(text, grain) == expected


@pytest.mark.parametrize("period, label, previous, end", [
    (Period("week", dt.date(2026, 6, 15)), "2026-W25", dt.date(2026, 6, 8), dt.date(2026, 6, 22)),
    (Period("week", dt.date(2026, 1, 5)), "2026-W02", dt.date(2025, 12, 29), dt.date(2026, 1, 12)),
    (Period("month", dt.date(2026, 3, 1)), "2026-03", dt.date(2026, 2, 1), dt.date(2026, 4, 1)),
    (Period("month", dt.date(2026, 1, 1)), "2026-01", dt.date(2025, 12, 1), dt.date(2026, 2, 1)),
    (Period("month", dt.date(2026, 12, 1)), "2026-12", dt.date(2026, 11, 1), dt.date(2027, 1, 1)),
])
def test_labels_the_previous_calendar_period_and_the_end(period, label, previous, end):
    assert period.label == str(period) == label
    assert period.previous() == Period(period.grain, previous)
    assert period.end == end
    assert parse_period(label) == period


def test_the_period_containing_a_day():
    assert Period.containing("week", dt.date(2026, 6, 18)) == Period("week", dt.date(2026, 6, 15))
    assert Period.containing("month", dt.date(2026, 2, 28)) == Period("month", dt.date(2026, 2, 1))


@pytest.mark.parametrize("text, grain, message", [
    ("2026-06-17", None, ("2026-06-17 does not start a week: a week starts on a Monday (the week holding it "
                         "starts on 2026-06-15).")),
    ("2026-06-15", "month", ("does not start a month: a month starts on the 1st of a month (the month holding it "
                            "starts on 2026-06-01)")),
    ("2026-W54", None, "'2026-W54' is not a week: 2026 has weeks 1 to 53."),
    ("2026-13", None, "'2026-13' is not a month"),
    ("last week", None, "'last week' is not a period: write a week as 2026-W25, a month as 2026-06"),
    ("2026-W25", "month", "'2026-W25' is a week, but --grain is month."),
    ("2026-06", "day", "Unknown grain 'day': use week or month."),
])
def test_a_period_that_cannot_be_read_says_how_to_write_one(text, grain, message):
    with pytest.raises(PeriodError) as error:
        parse_period(text, grain)
    assert message in str(error.value)


def test_from_and_to_are_of_one_grain():
    assert parse_range("2026-W24", "2026-W25") == (Period("week", dt.date(2026, 6, 8)),
                                                   Period("week", dt.date(2026, 6, 15)))
    with pytest.raises(PeriodError, match="--from 2026-05 is a month and --to 2026-W25 a week: compare two weeks"):
        parse_range("2026-05", "2026-W25")


def test_a_period_starts_on_its_first_day():
    with pytest.raises(ValueError):
        Period("week", dt.date(2026, 6, 16))
    with pytest.raises(ValueError):
        Period("month", dt.date(2026, 6, 2))
