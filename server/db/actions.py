"""Remedial actions agreed on an audit (the seeds' action plan table:
action, who, timescale, date reviewed, completed/comments, initials), the
partnership's action plan across its audits, and every progress update
kept (``remedial_action_updates``, which ``maca_app`` may only add to)."""

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
    status: str = "open"
    evidence: str | None = None
    source_contribution_id: UUID | None = None
    source_question_id: str | None = None
    source_row: int | None = None
    row_version: int
    created_by: UUID | None
    created_at: datetime.datetime
    updated_by: UUID | None
    updated_at: datetime.datetime


class ActionUpdateRow(msgspec.Struct, frozen=True, kw_only=True):
    """One progress update, as kept: who recorded it (their name as the
    identity provider gave it, and their organisation), never retyped."""

    id: UUID
    action_id: UUID
    status: str
    date_reviewed: datetime.date
    comments: str
    evidence: str | None
    recorded_by: UUID
    recorded_by_name: str | None
    recorded_by_organisation: UUID | None
    recorded_by_organisation_name: str | None
    recorded_at: datetime.datetime


class PlannedActionRow(msgspec.Struct, frozen=True, kw_only=True):
    """An action on the partnership's plan, with what a list shows beside
    it: the organisation responsible, its audit's toolkit and case details
    (for the case reference), and the audit's programme."""

    action: RemedialActionRow
    organisation_name: str | None
    audit_status: str
    toolkit_id: str
    toolkit_version: int
    local_toolkit_version_id: UUID | None
    case_details: dict[str, Any]
    referring_organisation_id: UUID | None
    programme_id: UUID | None


_COLUMNS = """
    id, audit_id, action, who, timescale, responsible_organisation_id, due_date, date_reviewed, completed,
    comments, initials, status, evidence, source_contribution_id, source_question_id, source_row,
    row_version, created_by, created_at, updated_by, updated_at
"""

STATUSES = ("open", "in-progress", "completed", "not-taken-forward")


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
        ORDER BY due_date NULLS LAST, created_at, source_row NULLS LAST, id
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
            updated_by = $12, updated_at = now(), row_version = row_version + 1,
            status = CASE WHEN $9 THEN 'completed' WHEN status = 'completed' THEN 'in-progress' ELSE status END
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


async def save_from_table(
    connection: asyncpg.Connection[Any],
    audit_id: UUID,
    *,
    contribution_id: UUID,
    question_id: str,
    row: int,
    action: str,
    who: str | None,
    timescale: str | None,
    responsible_organisation_id: UUID,
    due_date: datetime.date | None,
    comments: str | None,
    user_id: UUID,
) -> tuple[RemedialActionRow, bool]:
    """Track one row of a contribution's action table: added the first time
    it is submitted, its words and dates brought up to date by an
    amendment (its progress is the organisation's, left as it is).
    Returns the action and whether it was new."""
    found = await connection.fetchrow(
        f"""
        INSERT INTO remedial_actions (audit_id, action, who, timescale, responsible_organisation_id, due_date,
                                      comments, source_contribution_id, source_question_id, source_row,
                                      created_by, updated_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
        ON CONFLICT (source_contribution_id, source_question_id, source_row) DO UPDATE
        SET action = EXCLUDED.action, who = EXCLUDED.who, timescale = EXCLUDED.timescale,
            due_date = EXCLUDED.due_date, updated_by = EXCLUDED.updated_by, updated_at = now(),
            row_version = remedial_actions.row_version + 1
        WHERE (remedial_actions.action, remedial_actions.who, remedial_actions.timescale, remedial_actions.due_date)
              IS DISTINCT FROM (EXCLUDED.action, EXCLUDED.who, EXCLUDED.timescale, EXCLUDED.due_date)
        RETURNING {_COLUMNS}, (xmax = 0) AS inserted
        """,  # noqa: S608
        audit_id,
        action,
        who,
        timescale,
        responsible_organisation_id,
        due_date,
        comments,
        contribution_id,
        question_id,
        row,
        user_id,
    )
    if found is None:  # the row is as it was tracked
        unchanged = await connection.fetchrow(
            f"""
            SELECT {_COLUMNS} FROM remedial_actions
            WHERE source_contribution_id = $1 AND source_question_id = $2 AND source_row = $3
            """,  # noqa: S608
            contribution_id,
            question_id,
            row,
        )
        kept = _action(unchanged)
        assert kept is not None
        return kept, False
    values = dict(found)
    inserted = bool(values.pop("inserted"))
    await theme_versions.bump_for_audit(connection, audit_id)
    return msgspec.convert(values, RemedialActionRow), inserted


async def add_update(
    connection: asyncpg.Connection[Any],
    current: RemedialActionRow,
    *,
    status: str,
    date_reviewed: datetime.date,
    comments: str,
    evidence: str | None,
    user_id: UUID,
    organisation_id: UUID | None,
) -> RemedialActionRow | None:
    """Keep one progress update and bring the action to it, if the action
    is still at ``current.row_version`` (None otherwise, nothing kept)."""
    row = await connection.fetchrow(
        f"""
        WITH changed AS (
            UPDATE remedial_actions
            SET status = $3, completed = ($3 = 'completed'), date_reviewed = $4, comments = $5,
                evidence = coalesce($6, evidence), updated_by = $7, updated_at = now(),
                row_version = row_version + 1
            WHERE id = $1 AND row_version = $2
            RETURNING {_COLUMNS}
        ), kept AS (
            INSERT INTO remedial_action_updates (action_id, status, date_reviewed, comments, evidence, recorded_by,
                                                 recorded_by_organisation)
            SELECT id, $3, $4, $5, $6, $7, $8 FROM changed
        )
        SELECT * FROM changed
        """,  # noqa: S608
        current.id,
        current.row_version,
        status,
        date_reviewed,
        comments,
        evidence,
        user_id,
        organisation_id,
    )
    updated = _action(row)
    if updated is not None:
        await theme_versions.bump_for_audit(connection, current.audit_id)
    return updated


async def updates(connection: asyncpg.Connection[Any], action_id: UUID) -> list[ActionUpdateRow]:
    """Every progress update of an action, oldest first."""
    rows = await connection.fetch(
        """
        SELECT u.id, u.action_id, u.status, u.date_reviewed, u.comments, u.evidence, u.recorded_by,
               p.display_name AS recorded_by_name, u.recorded_by_organisation,
               o.name AS recorded_by_organisation_name, u.recorded_at
          FROM remedial_action_updates u
          LEFT JOIN users p ON p.id = u.recorded_by
          LEFT JOIN organisations o ON o.id = u.recorded_by_organisation
         WHERE u.action_id = $1
         ORDER BY u.recorded_at, u.id
        """,
        action_id,
    )
    return [msgspec.convert(dict(r), ActionUpdateRow) for r in rows]


async def get_in_partnership(
    connection: asyncpg.Connection[Any], partnership_id: UUID, action_id: UUID
) -> RemedialActionRow | None:
    row = await connection.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM remedial_actions
        WHERE id = $2 AND audit_id IN (SELECT a.id FROM audits a WHERE a.partnership_id = $1)
        """,  # noqa: S608
        partnership_id,
        action_id,
    )
    return _action(row)


async def plan(
    connection: asyncpg.Connection[Any],
    partnership_id: UUID,
    *,
    organisation_id: UUID | None = None,
    status: str | None = None,
    programme_id: UUID | None = None,
    action_id: UUID | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[PlannedActionRow], int]:
    """The partnership's action plan across its audits, open before done
    and soonest due first; narrowed to one organisation, status or
    programme when given. Returns a page and the total."""
    prefixed = ", ".join(f"r.{c.strip()}" for c in _COLUMNS.split(","))
    rows = await connection.fetch(
        f"""
        SELECT {prefixed}, o.name AS organisation_name, a.status AS audit_status, a.toolkit_id,
               a.toolkit_version, a.local_toolkit_version_id, a.case_details, a.programme_id,
               a.referring_organisation_id,
               count(*) OVER () AS total
          FROM remedial_actions r
          JOIN audits a ON a.id = r.audit_id
          LEFT JOIN organisations o ON o.id = r.responsible_organisation_id
         WHERE a.partnership_id = $1
           AND ($2::uuid IS NULL OR r.responsible_organisation_id = $2)
           AND ($3::text IS NULL OR r.status = $3)
           AND ($4::uuid IS NULL OR a.programme_id = $4)
           AND ($7::uuid IS NULL OR r.id = $7)
         ORDER BY r.completed, r.due_date NULLS LAST, r.created_at, r.source_row NULLS LAST, r.id
         LIMIT $5 OFFSET $6
        """,  # noqa: S608
        partnership_id,
        organisation_id,
        status,
        programme_id,
        limit,
        offset,
        action_id,
    )
    total = int(rows[0]["total"]) if rows else 0
    action_fields = set(RemedialActionRow.__struct_fields__)
    found = []
    for r in rows:
        values = dict(r)
        found.append(
            PlannedActionRow(
                action=msgspec.convert({k: v for k, v in values.items() if k in action_fields}, RemedialActionRow),
                organisation_name=values["organisation_name"],
                audit_status=values["audit_status"],
                toolkit_id=values["toolkit_id"],
                toolkit_version=values["toolkit_version"],
                local_toolkit_version_id=values["local_toolkit_version_id"],
                case_details=values["case_details"],
                referring_organisation_id=values["referring_organisation_id"],
                programme_id=values["programme_id"],
            )
        )
    return found, total
