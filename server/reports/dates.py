"""Dates and times as people read them, in GOV.UK's style: "6 December
2026", "6 December 2026 at 4:11am", "midday", "midnight" (the GOV.UK style
guide's "Dates" and "Times"). Every page, the combined report and the
history say a time this one way, in UK time (Europe/London, so summer times
are not an hour out); nothing shows a stored timestamp as it is stored."""

from __future__ import annotations

import datetime
from typing import Final
from zoneinfo import ZoneInfo

__all__ = ["UK", "date_text", "datetime_text", "time_text"]

UK: Final = ZoneInfo("Europe/London")


def date_text(value: datetime.date | datetime.datetime | str | None) -> str:
    """``2026-12-06`` → ``6 December 2026`` (a time → its day in the UK);
    nothing → ``""``; text that is not a date is returned as it is."""
    if value is None:
        return ""
    day: datetime.date
    if isinstance(value, str):
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            return value
    elif isinstance(value, datetime.datetime):
        day = _in_uk(value).date()
    else:
        day = value
    return f"{day.day} {day:%B %Y}"


def time_text(value: datetime.datetime) -> str:
    """``04:11`` → ``4:11am``, ``12:00`` → ``midday``, ``00:00`` → ``midnight``."""
    local = _in_uk(value)
    if local.hour == 12 and local.minute == 0:
        return "midday"
    if local.hour == 0 and local.minute == 0:
        return "midnight"
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d}{'am' if local.hour < 12 else 'pm'}"


def datetime_text(value: datetime.datetime | None) -> str:
    """``2026-12-06T04:11:09+00:00`` → ``6 December 2026 at 4:11am``."""
    if value is None:
        return ""
    return f"{date_text(value)} at {time_text(value)}"


def _in_uk(value: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None:  # stored times are UTC
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(UK)
