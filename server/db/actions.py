"""Remedial actions agreed on an audit (the seeds' action plan table:
action, who, timescale, date reviewed, completed/comments, initials)."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from server.db import theme_versions


class RemedialActionRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    audit_id: UUID
    action: str
    who: str | None
    timescale: str | None
    responsible_organisation_id: UUID | None
    due_date: datetime.date | None
    date_reviewed: datetime.date | None
    completed: bool
    comments: str | None
    initials: str | None
    row_version: int
    created_by: UUID | None
    created_at: datetime.datetime
    updated_by: UUID | None
    updated_at: datetime.datetime


_COLUMNS = """
    id, audit_id, action, who, timescale, responsible_organisation_id, due_date, date_reviewed, completed,
    comments, initials, row_version, created_by, created_at, updated_by, updated_at
"""


def _action(row: asyncpg.Record | None) -> RemedialActionRow | None:
    return None if row is None else msgspec.convert(dict(row), RemedialActionRow)


async def create(
    connection: asyncpg.Connection[Any],
    audit_id: UUID,
    *,
    action: str,
    who: str | None,
    timescale: str | None,
    responsible_organisation_id: UUID | None,
    due_date: datetime.date | None,
    user_id: UUID,
) -> RemedialActionRow:
    row = await connection.fetchrow(
        f"""
        INSERT INTO remedial_actions (audit_id, action, who, timescale, responsible_organisation_id, due_date,
                                      created_by, updated_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
        RETURNING {_COLUMNS}
        """,  # noqa: S608
        audit_id,
        action,
        who,
        timescale,
        responsible_organisation_id,
        due_date,
        user_id,
    )
    created = _action(row)
    assert created is not None
    # The dashboard counts overdue actions.
    await theme_versions.bump_for_audit(connection, audit_id)
    return created


async def get(connection: asyncpg.Connection[Any], audit_id: UUID, action_id: UUID) -> RemedialActionRow | None:
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM remedial_actions WHERE audit_id = $1 AND id = $2",  # noqa: S608
        audit_id,
        action_id,
    )
    return _action(row)


async def for_audit(
    connection: asyncpg.Connection[Any], audit_id: UUID, *, organisation_id: UUID | None = None
) -> list[RemedialActionRow]:
    """An audit's actions, soonest due first; ``organisation_id``: only those it is responsible for."""
    rows = await connection.fetch(
        f"""
        SELECT {_COLUMNS} FROM remedial_actions
        WHERE audit_id = $1 AND ($2::uuid IS NULL OR responsible_organisation_id = $2)
        ORDER BY due_date NULLS LAST, created_at, id
        """,  # noqa: S608
        audit_id,
        organisation_id,
    )
    return [msgspec.convert(dict(row), RemedialActionRow) for row in rows]


async def update(
    connection: asyncpg.Connection[Any], current: RemedialActionRow, row_version: int, user_id: UUID
) -> RemedialActionRow | None:
    """Write ``current``'s fields if the action is still at ``row_version``."""
    row = await connection.fetchrow(
        f"""
        UPDATE remedial_actions
        SET action = $3, who = $4, timescale = $5, responsible_organisation_id = $6, due_date = $7,
            date_reviewed = $8, completed = $9, comments = $10, initials = $11,
            updated_by = $12, updated_at = now(), row_version = row_version + 1
        WHERE id = $1 AND row_version = $2
        RETURNING {_COLUMNS}
        """,  # noqa: S608
        current.id,
        row_version,
        current.action,
        current.who,
        current.timescale,
        current.responsible_organisation_id,
        current.due_date,
        current.date_reviewed,
        current.completed,
        current.comments,
        current.initials,
        user_id,
    )
    updated = _action(row)
    if updated is not None:
        await theme_versions.bump_for_audit(connection, current.audit_id)
    return updated
