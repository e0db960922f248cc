"""Working time: "unacknowledged after 4 working hours" counts the hours of
the partnership's working week, not the night or the weekend.

``MACA_WORKING_HOURS`` says what a working hour is: ``mon-fri 09:00-17:00``
(the default; days ``mon``…``sun``, a range or a comma list) in
``MACA_TIMEZONE`` (``Europe/London``), or ``always`` (every minute counts:
a round-the-clock service, and the tests). Pure: no I/O."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

__all__ = ["WorkingHours", "parse_working_hours"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class WorkingHours:
    days: frozenset[int]  # 0 = Monday
    start: datetime.time
    end: datetime.time
    zone: ZoneInfo
    always: bool = False

    def minutes_between(self, start: datetime.datetime, end: datetime.datetime) -> float:
        """Working minutes from ``start`` to ``end`` (0 if end is before start)."""
        if end <= start:
            return 0.0
        if self.always:
            return (end - start).total_seconds() / 60
        local_start = start.astimezone(self.zone)
        local_end = end.astimezone(self.zone)
        total = 0.0
        day = local_start.date()
        while day <= local_end.date():
            if day.weekday() in self.days:
                opens = datetime.datetime.combine(day, self.start, self.zone)
                closes = datetime.datetime.combine(day, self.end, self.zone)
                begin = max(opens, local_start)
                finish = min(closes, local_end)
                if finish > begin:
                    total += (finish - begin).total_seconds() / 60
            day += datetime.timedelta(days=1)
        return total

    def describe(self, minutes: int) -> str:
        """``4 working hours``, ``90 minutes``: how long something waited, in words."""
        unit = "minutes" if self.always else "working minutes"
        if minutes % 60 == 0:
            hours = minutes // 60
            unit = "hours" if self.always else "working hours"
            return f"{hours} {unit[:-1] if hours == 1 else unit}"
        return f"{minutes} {unit}"


def parse_working_hours(value: str, timezone: str = "Europe/London") -> WorkingHours:
    """``mon-fri 09:00-17:00`` or ``always``; ValueError naming what is wrong."""
    zone = ZoneInfo(timezone)
    text = value.strip().lower()
    if text == "always":
        return WorkingHours(frozenset(range(7)), datetime.time(0), datetime.time(0), zone, always=True)
    try:
        days_text, hours_text = text.split()
        first, last = hours_text.split("-")
        start, end = datetime.time.fromisoformat(first), datetime.time.fromisoformat(last)
    except ValueError as error:
        raise ValueError("write it as 'mon-fri 09:00-17:00' or 'always'") from error
    if end <= start:
        raise ValueError("the working day must end after it starts")
    days: set[int] = set()
    for part in days_text.split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            if a not in _DAYS or b not in _DAYS:
                raise ValueError(f"'{part}' is not a range of days (mon … sun)")
            i, j = _DAYS.index(a), _DAYS.index(b)
            days.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        elif part in _DAYS:
            days.add(_DAYS.index(part))
        else:
            raise ValueError(f"'{part}' is not a day (mon … sun)")
    return WorkingHours(frozenset(days), start, end, zone)
