"""Reminders of due dates, on the partnership's schedule (its
administrator's settings, issue 19): so many days before a contribution or
a remedial action is due, then the day after it passed and every so many
days while it stays overdue (0: only once). Run by the worker every hour;
each reminder's key names its day, so it goes once whatever the number of
runs or replicas."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, Literal

import asyncpg

from server.audits.notifications import Message, due_reminder
from server.db import reminders as stored

__all__ = ["reminder_for", "send_reminders"]


def reminder_for(
    today: datetime.date, due: datetime.date, days_before: Sequence[int], overdue_every: int
) -> Literal["due-soon", "overdue"] | None:
    """Which reminder ``today`` brings for something due on ``due``, if any."""
    days = (due - today).days
    if days >= 0:
        return "due-soon" if days in days_before else None
    late = -days  # 1 the day after the due date
    if late == 1 or (overdue_every > 0 and (late - 1) % overdue_every == 0):
        return "overdue"
    return None


async def send_reminders(connection: asyncpg.Connection[Any], today: datetime.date) -> int:
    """Write today's reminders to the outbox, in the caller's transaction;
    how many messages were new."""
    written = 0
    for due in await stored.contributions_due(connection, today):
        kind = reminder_for(today, due.due_date, due.days_before, due.overdue_every)
        if kind is None:
            continue
        written += await due_reminder(
            connection,
            message=Message.DUE_SOON if kind == "due-soon" else Message.OVERDUE,
            partnership_id=due.partnership_id,
            audit_id=due.audit_id,
            organisation_id=due.organisation_id,
            due_date=due.due_date,
            key=f"{kind}:{due.audit_id}:{due.organisation_id}:{today.isoformat()}",
            link=f"/your-audits/{due.audit_id}",
            what="contribution",
        )
    for due in await stored.actions_due(connection, today):
        kind = reminder_for(today, due.due_date, due.days_before, due.overdue_every)
        if kind is None:
            continue
        written += await due_reminder(
            connection,
            message=Message.ACTION_DUE if kind == "due-soon" else Message.ACTION_OVERDUE,
            partnership_id=due.partnership_id,
            audit_id=due.audit_id,
            organisation_id=due.organisation_id,
            due_date=due.due_date,
            key=f"action-{kind}:{due.action_id}:{today.isoformat()}",
            link=f"/actions/{due.action_id}",
            what="remedial action",
        )
    return written
