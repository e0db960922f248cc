"""What is due, for the reminders (``server/audits/reminders.py``): open
audits' contributions not yet submitted, and remedial actions not yet
completed, each with its partnership's reminder schedule. Read by the
worker as the tables' owner (every partnership); nothing personal."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

__all__ = ["Due", "actions_due", "contributions_due"]


class Due(msgspec.Struct, frozen=True, kw_only=True):
    partnership_id: UUID
    audit_id: UUID
    organisation_id: UUID
    due_date: datetime.date
    days_before: list[int]
    overdue_every: int
    action_id: UUID | None = None


async def contributions_due(connection: asyncpg.Connection[Any], today: datetime.date) -> list[Due]:
    rows = await connection.fetch(
        """
        SELECT a.partnership_id, a.id AS audit_id, p.organisation_id, a.due_date,
               coalesce(s.reminder_days_before, '{7,1}') AS days_before,
               coalesce(s.overdue_reminder_days, 7) AS overdue_every
          FROM audits a
          JOIN audit_participants p ON p.audit_id = a.id AND p.removed_at IS NULL
          LEFT JOIN contributions c ON c.audit_id = a.id AND c.organisation_id = p.organisation_id
          LEFT JOIN partnership_settings s ON s.partnership_id = a.partnership_id
         WHERE a.status = 'open' AND a.due_date BETWEEN $1::date - 400 AND $1::date + 400
           AND coalesce(c.status, 'not-started') <> 'submitted'
        """,
        today,
    )
    return [msgspec.convert(dict(r), Due) for r in rows]


async def actions_due(connection: asyncpg.Connection[Any], today: datetime.date) -> list[Due]:
    rows = await connection.fetch(
        """
        SELECT a.partnership_id, a.id AS audit_id, r.responsible_organisation_id AS organisation_id, r.due_date,
               coalesce(s.reminder_days_before, '{7,1}') AS days_before,
               coalesce(s.overdue_reminder_days, 7) AS overdue_every, r.id AS action_id
          FROM remedial_actions r
          JOIN audits a ON a.id = r.audit_id
          LEFT JOIN partnership_settings s ON s.partnership_id = a.partnership_id
         WHERE r.status NOT IN ('completed', 'not-taken-forward') AND r.responsible_organisation_id IS NOT NULL
           AND r.due_date BETWEEN $1::date - 400 AND $1::date + 400
        """,
        today,
    )
    return [msgspec.convert(dict(r), Due) for r in rows]
