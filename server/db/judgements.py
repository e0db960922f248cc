"""What a partnership judgement is computed from: every participant's
contribution to an audit, and the grades reviewers agreed."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from merging import AgencyContribution, Moderation
from toolkits.answers import ContributionContent


class ModerationRow(msgspec.Struct, frozen=True, kw_only=True):
    target: str
    grade: int
    reason: str
    moderated_by: UUID | None
    moderated_by_name: str | None
    moderated_at: datetime.datetime
    row_version: int


async def agency_contributions(connection: asyncpg.Connection[Any], audit_id: UUID) -> list[AgencyContribution]:
    """Each current participant with its contribution (not started if none)."""
    rows = await connection.fetch(
        """
        SELECT o.id AS organisation_id, o.name AS organisation_name, p.agency_kind,
               coalesce(c.status, 'not-started') AS status, coalesce(c.content, '{}'::jsonb) AS content,
               coalesce(c.row_version, 0) AS row_version
          FROM audit_participants p
          JOIN organisations o ON o.id = p.organisation_id
          LEFT JOIN contributions c ON c.audit_id = p.audit_id AND c.organisation_id = p.organisation_id
         WHERE p.audit_id = $1 AND p.removed_at IS NULL
         ORDER BY o.id
        """,
        audit_id,
    )
    return [
        AgencyContribution(
            organisation_id=str(row["organisation_id"]),
            organisation_name=row["organisation_name"],
            agency_kind=row["agency_kind"],
            status=row["status"],
            content=msgspec.convert(row["content"], ContributionContent),
        )
        for row in rows
    ]


async def moderations(connection: asyncpg.Connection[Any], audit_id: UUID) -> list[ModerationRow]:
    rows = await connection.fetch(
        """
        SELECT m.target, m.grade, m.reason, m.moderated_by, u.display_name AS moderated_by_name,
               m.moderated_at, m.row_version
          FROM moderations m LEFT JOIN users u ON u.id = m.moderated_by
         WHERE m.audit_id = $1
         ORDER BY m.target
        """,
        audit_id,
    )
    return [msgspec.convert(dict(row), ModerationRow) for row in rows]


def as_moderation(row: ModerationRow) -> Moderation:
    return Moderation(
        target=row.target,
        grade=row.grade,
        reason=row.reason,
        moderated_by=row.moderated_by_name or str(row.moderated_by or "unknown"),
        moderated_at=row.moderated_at.isoformat(),
    )


async def set_moderation(
    connection: asyncpg.Connection[Any], audit_id: UUID, target: str, grade: int, reason: str, user_id: UUID
) -> None:
    await connection.execute(
        """
        INSERT INTO moderations (audit_id, target, grade, reason, moderated_by)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (audit_id, target) DO UPDATE
           SET grade = excluded.grade, reason = excluded.reason, moderated_by = excluded.moderated_by,
               moderated_at = now(), row_version = moderations.row_version + 1
        """,
        audit_id,
        target,
        grade,
        reason,
        user_id,
    )


class JudgementState(msgspec.Struct, frozen=True, kw_only=True):
    """What an audit's judgement is merged from, as versions: ``etag`` is
    the judgement's ETag (a moderation's If-Match); ``names`` adds what the
    judgement shows that lives elsewhere (the participants' names and kinds,
    the moderators' names), so that with the audit's own row version the two
    decide whether a judgement merged before is still the judgement."""

    etag: str
    names: str


async def judgement_state(connection: asyncpg.Connection[Any], audit_id: UUID) -> JudgementState:
    """The audit's judgement state, in one read of versions and names (no
    contribution's content)."""
    row = await connection.fetchrow(
        """
        SELECT concat_ws('|',
            (SELECT a.status FROM audits a WHERE a.id = $1),
            (SELECT string_agg(p.organisation_id::text || ':' || coalesce(c.row_version, 0)::text || ':'
                               || coalesce(c.status, 'not-started'), ',' ORDER BY p.organisation_id)
               FROM audit_participants p
               LEFT JOIN contributions c ON c.audit_id = p.audit_id AND c.organisation_id = p.organisation_id
              WHERE p.audit_id = $1 AND p.removed_at IS NULL),
            (SELECT string_agg(m.target || ':' || m.row_version::text, ',' ORDER BY m.target)
               FROM moderations m WHERE m.audit_id = $1)) AS versions,
          concat_ws('|',
            (SELECT string_agg(p.organisation_id::text || ':' || p.agency_kind || ':' || o.name, ','
                               ORDER BY p.organisation_id)
               FROM audit_participants p JOIN organisations o ON o.id = p.organisation_id
              WHERE p.audit_id = $1 AND p.removed_at IS NULL),
            (SELECT string_agg(m.target || ':' || coalesce(u.display_name, m.moderated_by::text, ''), ','
                               ORDER BY m.target)
               FROM moderations m LEFT JOIN users u ON u.id = m.moderated_by WHERE m.audit_id = $1)) AS names
        """,
        audit_id,
    )
    versions = row["versions"] if row is not None else None
    return JudgementState(
        etag='"' + hashlib.sha256((versions or "").encode()).hexdigest()[:32] + '"',
        names=(row["names"] if row is not None else None) or "",
    )


async def judgement_etag(connection: asyncpg.Connection[Any], audit_id: UUID) -> str:
    """A tag that changes whenever anything the judgement is computed from
    changes: a contribution, a participant, a moderation, or the audit's
    status (closing makes the judgement final)."""
    return (await judgement_state(connection, audit_id)).etag
