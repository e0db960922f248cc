"""Practitioner and family voice: one agency's kept versions (migration
0017). The voice as it stands is the newest version; a save adds one."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class VoiceRow(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    organisation_id: UUID
    version: int
    findings_discussed: str | None
    practitioner_views: str | None
    manager_views: str | None
    family_views_sought: str | None
    family_views: str | None
    created_by: UUID
    created_at: datetime.datetime


_COLUMNS = """
    audit_id, organisation_id, version, findings_discussed, practitioner_views, manager_views,
    family_views_sought, family_views, created_by, created_at
"""


def _row(row: asyncpg.Record | dict[str, Any]) -> VoiceRow:
    return msgspec.convert(dict(row), VoiceRow)


async def latest(connection: asyncpg.Connection[Any], audit_id: UUID, organisation_id: UUID) -> VoiceRow | None:
    row = await connection.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM contribution_voices
         WHERE audit_id = $1 AND organisation_id = $2 ORDER BY version DESC LIMIT 1
        """,  # noqa: S608
        audit_id,
        organisation_id,
    )
    return None if row is None else _row(row)


async def versions(connection: asyncpg.Connection[Any], audit_id: UUID, organisation_id: UUID) -> list[VoiceRow]:
    rows = await connection.fetch(
        f"SELECT {_COLUMNS} FROM contribution_voices WHERE audit_id = $1 AND organisation_id = $2 ORDER BY version",  # noqa: S608
        audit_id,
        organisation_id,
    )
    return [_row(row) for row in rows]


async def latest_for_audit(
    connection: asyncpg.Connection[Any], audit_id: UUID, organisation_ids: Sequence[UUID] | None = None
) -> list[VoiceRow]:
    """Each organisation's newest version on the audit that row-level
    security lets the caller read (``organisation_ids``: only those)."""
    rows = await connection.fetch(
        f"""
        SELECT DISTINCT ON (organisation_id) {_COLUMNS} FROM contribution_voices
         WHERE audit_id = $1 AND ($2::uuid[] IS NULL OR organisation_id = ANY ($2::uuid[]))
         ORDER BY organisation_id, version DESC
        """,  # noqa: S608
        audit_id,
        None if organisation_ids is None else list(organisation_ids),
    )
    return [_row(row) for row in rows]


class ShownVoice(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation's newest voice with the names the pages show it by."""

    voice: VoiceRow
    organisation_name: str
    agency_kind: str


async def shown_for_audit(
    connection: asyncpg.Connection[Any],
    audit_id: UUID,
    *,
    organisation_ids: Sequence[UUID] | None,
    submitted_only: bool,
) -> list[ShownVoice]:
    """Each taking-part organisation's newest voice on the audit that
    row-level security lets the caller read, with its name and agency kind,
    in one statement (``organisation_ids``: only those; ``submitted_only``:
    only where that organisation's contribution is submitted, its status
    read, never its content: the judgement page reads this beside a kept
    judgement)."""
    rows = await connection.fetch(
        """
        SELECT DISTINCT ON (v.organisation_id)
               v.audit_id, v.organisation_id, v.version, v.findings_discussed, v.practitioner_views,
               v.manager_views, v.family_views_sought, v.family_views, v.created_by, v.created_at,
               o.name AS organisation_name, p.agency_kind
          FROM contribution_voices v
          JOIN audit_participants p ON p.audit_id = v.audit_id AND p.organisation_id = v.organisation_id
          JOIN organisations o ON o.id = v.organisation_id
         WHERE v.audit_id = $1 AND ($2::uuid[] IS NULL OR v.organisation_id = ANY ($2::uuid[]))
           AND (NOT $3 OR EXISTS (SELECT 1 FROM contributions c
                                   WHERE c.audit_id = v.audit_id AND c.organisation_id = v.organisation_id
                                     AND c.status = 'submitted'))
         ORDER BY v.organisation_id, v.version DESC
        """,
        audit_id,
        None if organisation_ids is None else list(organisation_ids),
        submitted_only,
    )
    return [
        ShownVoice(
            voice=_row({k: v for k, v in dict(row).items() if k not in ("organisation_name", "agency_kind")}),
            organisation_name=row["organisation_name"],
            agency_kind=row["agency_kind"],
        )
        for row in rows
    ]


async def add(
    connection: asyncpg.Connection[Any],
    audit_id: UUID,
    organisation_id: UUID,
    version: int,
    *,
    findings_discussed: str | None,
    practitioner_views: str | None,
    manager_views: str | None,
    family_views_sought: str | None,
    family_views: str | None,
    user_id: UUID,
) -> VoiceRow | None:
    """Keep ``version``; ``None`` when someone kept that version first."""
    row = await connection.fetchrow(
        f"""
        INSERT INTO contribution_voices (audit_id, organisation_id, version, findings_discussed, practitioner_views,
                                         manager_views, family_views_sought, family_views, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (audit_id, organisation_id, version) DO NOTHING
        RETURNING {_COLUMNS}
        """,  # noqa: S608
        audit_id,
        organisation_id,
        version,
        findings_discussed,
        practitioner_views,
        manager_views,
        family_views_sought,
        family_views,
        user_id,
    )
    return None if row is None else _row(row)
