"""What the worker runs on a schedule, through the job queue
(``server/platform/queue.py``): each once per schedule whatever the number
of replicas (PgQueuer claims a schedule's run in PostgreSQL), for every
partnership at once.

- ``concerns.escalate`` every minute: unacknowledged immediate concerns past
  their partnership's working time go to its reviewers
  (:func:`server.audits.concerns.escalate_waiting`).
- ``reminders.send`` every hour: due dates approaching and passed, on each
  partnership's schedule (:mod:`server.audits.reminders`; once a day each).
- ``maintenance.tidy`` every ``MACA_MAINTENANCE_MINUTES``: expired sessions,
  abandoned sign-ins, old idempotency keys (``server/platform/maintenance.py``).
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import asyncpg

from server.audits import concerns, reminders
from server.audits.working_time import WorkingHours, parse_working_hours
from server.platform import maintenance
from server.platform.queue import Scheduled
from server.settings import Settings

__all__ = ["escalate_now", "remind_now", "scheduled_jobs"]

log = logging.getLogger("maca.jobs")


async def escalate_now(pool: asyncpg.Pool[Any], hours: WorkingHours, now: datetime.datetime | None = None) -> int:
    """One escalation run, in one transaction of the owner's pool."""
    async with pool.acquire() as connection, connection.transaction():
        escalated = await concerns.escalate_waiting(connection, hours, now)  # type: ignore[arg-type]
    if escalated:
        log.info("escalated %d unacknowledged immediate concerns", escalated)
    return escalated


async def remind_now(pool: asyncpg.Pool[Any], today: datetime.date) -> int:
    """Today's due-date reminders, in one transaction of the owner's pool."""
    async with pool.acquire() as connection, connection.transaction():
        return await reminders.send_reminders(connection, today)  # type: ignore[arg-type]


def _every(minutes: float) -> str:
    whole = max(1, round(minutes))
    if whole < 60 and 60 % whole == 0:
        return f"*/{whole} * * * *"
    if whole < 60:
        return f"*/{whole} * * * *"
    return f"0 */{max(1, whole // 60)} * * *"


def scheduled_jobs(settings: Settings) -> list[Scheduled]:
    hours = parse_working_hours(settings.working_hours, settings.timezone)

    async def escalate(pool: asyncpg.Pool[Any]) -> int:
        return await escalate_now(pool, hours)

    async def remind(pool: asyncpg.Pool[Any]) -> int:
        return await remind_now(pool, datetime.datetime.now(hours.zone).date())

    async def tidy(pool: asyncpg.Pool[Any]) -> object:
        return await maintenance.tidy_now(pool)

    return [
        ("concerns.escalate", "* * * * *", escalate),
        ("reminders.send", "5 * * * *", remind),
        ("maintenance.tidy", _every(settings.maintenance_minutes), tidy),
    ]
