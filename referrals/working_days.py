"""Working days for service levels: weekdays that are not England and Wales bank holidays.

Bank holidays come from the `holidays` package (kept up to date upstream), not a hand-kept list.
"""

import datetime
from functools import cache

import holidays
from django.conf import settings


@cache
def _bank_holidays(year: int) -> frozenset[datetime.date]:
    calendar = holidays.country_holidays(
        "GB", subdiv=settings.PORTAL_BANK_HOLIDAY_SUBDIVISION, years=year
    )
    return frozenset(calendar)


def is_bank_holiday(day: datetime.date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and not is_bank_holiday(day)


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after `start` up to and including `end`: how long something has waited."""
    if end <= start:
        return 0
    return sum(
        1
        for offset in range(1, (end - start).days + 1)
        if is_working_day(start + datetime.timedelta(days=offset))
    )


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The date `days` working days after `start` (or before, when negative)."""
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    day = start
    while remaining:
        day += datetime.timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day
