"""The multi-agency panel's record of an audit: one per audit, written
between "in review" and "closed"."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class PanelRecordRow(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    held_on: datetime.date | None
    attendees: list[dict[str, Any]]  # [{organisation_id, role}]
    section_narratives: dict[str, str]
    overall_narrative: str | None
    decisions: list[dict[str, Any]]  # [{decision, made_by_organisation_id}]
    row_version: int
    updated_by: UUID | None
    updated_at: datetime.datetime


_COLUMNS = """
    audit_id, held_on, attendees, section_narratives, overall_narrative, decisions, row_version, updated_by,
    updated_at
"""


async def get(connection: asyncpg.Connection[Any], audit_id: UUID) -> PanelRecordRow | None:
    row = await connection.fetchrow(f"SELECT {_COLUMNS} FROM panel_records WHERE audit_id = $1", audit_id)  # noqa: S608
    return None if row is None else msgspec.convert(dict(row), PanelRecordRow)


async def save(
    connection: asyncpg.Connection[Any],
    audit_id: UUID,
    row_version: int,
    *,
    held_on: datetime.date | None,
    attendees: list[dict[str, Any]],
    section_narratives: dict[str, str],
    overall_narrative: str | None,
    decisions: list[dict[str, Any]],
    user_id: UUID,
) -> PanelRecordRow | None:
    """Write the record if it is still at ``row_version`` (0: there is none
    yet); None if someone wrote it meanwhile."""
    values = (held_on, attendees, section_narratives, overall_narrative, decisions, user_id)
    if row_version == 0:
        row = await connection.fetchrow(
            f"""
            INSERT INTO panel_records (audit_id, held_on, attendees, section_narratives, overall_narrative,
                                       decisions, updated_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (audit_id) DO NOTHING
            RETURNING {_COLUMNS}
            """,  # noqa: S608
            audit_id,
            *values,
        )
    else:
        row = await connection.fetchrow(
            f"""
            UPDATE panel_records
            SET held_on = $3, attendees = $4, section_narratives = $5, overall_narrative = $6, decisions = $7,
                updated_by = $8, updated_at = now(), row_version = row_version + 1
            WHERE audit_id = $1 AND row_version = $2
            RETURNING {_COLUMNS}
            """,  # noqa: S608
            audit_id,
            row_version,
            *values,
        )
    return None if row is None else msgspec.convert(dict(row), PanelRecordRow)
