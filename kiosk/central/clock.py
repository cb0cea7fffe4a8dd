"""Time at the central service: UTC instants, China Standard Time for calendar days and caps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

CST = dt.timezone(dt.timedelta(hours=8), "CST")  # China has no daylight saving time

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_date(instant: dt.datetime) -> dt.date:
    """The calendar day in China of an instant (naive instants are taken as UTC, as SQLite returns them)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(CST).date()


def aware(instant: dt.datetime) -> dt.datetime:
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=dt.UTC)
