"""Immediate concerns as stored (migration 0015): raised, acknowledged,
escalated, closed. SQL only; the rules are ``server/audits/concerns.py``."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

__all__ = [
    "ConcernRow",
    "Waiting",
    "acknowledge",
    "close",
    "get",
    "handled_before",
    "mark_escalated",
    "of_audit",
    "open_for_organisation",
    "open_in_partnership",
    "raise_concern",
    "waiting_for_acknowledgement",
]


class ConcernRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    partnership_id: UUID
    audit_id: UUID
    organisation_id: UUID
    organisation_name: str
    kind: str
    section_id: str
    question_id: str | None  # None: recorded against the whole section
    raised_by: UUID | None
    raised_by_name: str | None
    raised_at: datetime.datetime
    acknowledged_by: UUID | None
    acknowledged_by_name: str | None
    acknowledged_at: datetime.datetime | None
    escalations: int
    last_escalated_at: datetime.datetime | None
    closed_by: UUID | None
    closed_by_name: str | None
    closed_at: datetime.datetime | None
    closed_because: str | None
    action_taken: str | None
    outcome: str | None
    row_version: int

    @property
    def open(self) -> bool:
        return self.closed_at is None


_SELECT = """
    SELECT c.id, c.partnership_id, c.audit_id, c.organisation_id, o.name AS organisation_name, c.kind,
           c.section_id, c.question_id, c.raised_by, ur.display_name AS raised_by_name, c.raised_at,
           c.acknowledged_by, ua.display_name AS acknowledged_by_name, c.acknowledged_at, c.escalations,
           c.last_escalated_at, c.closed_by, uc.display_name AS closed_by_name, c.closed_at,
           c.closed_because, c.action_taken, c.outcome, c.row_version
      FROM concerns c
      JOIN organisations o ON o.id = c.organisation_id
      LEFT JOIN users ur ON ur.id = c.raised_by
      LEFT JOIN users ua ON ua.id = c.acknowledged_by
      LEFT JOIN users uc ON uc.id = c.closed_by
"""


def _rows(rows: Sequence[asyncpg.Record]) -> list[ConcernRow]:
    return [msgspec.convert(dict(row), ConcernRow) for row in rows]


async def get(connection: asyncpg.Connection[Any], concern_id: UUID) -> ConcernRow | None:
    found = _rows(await connection.fetch(_SELECT + " WHERE c.id = $1", concern_id))
    return found[0] if found else None


async def of_audit(connection: asyncpg.Connection[Any], audit_id: UUID) -> list[ConcernRow]:
    """Every concern of the audit the transaction may see, newest first."""
    return _rows(await connection.fetch(_SELECT + " WHERE c.audit_id = $1 ORDER BY c.raised_at DESC", audit_id))


async def open_in_partnership(connection: asyncpg.Connection[Any], partnership_id: UUID) -> list[ConcernRow]:
    """The partnership's open concerns, oldest first (the longest waiting heads the list)."""
    return _rows(
        await connection.fetch(
            _SELECT + " WHERE c.partnership_id = $1 AND c.closed_at IS NULL ORDER BY c.raised_at, c.id", partnership_id
        )
    )


async def open_for_organisation(
    connection: asyncpg.Connection[Any], audit_id: UUID, organisation_id: UUID
) -> list[ConcernRow]:
    return _rows(
        await connection.fetch(
            _SELECT + " WHERE c.audit_id = $1 AND c.organisation_id = $2 AND c.closed_at IS NULL",
            audit_id,
            organisation_id,
        )
    )


async def raise_concern(
    connection: asyncpg.Connection[Any],
    *,
    partnership_id: UUID,
    audit_id: UUID,
    organisation_id: UUID,
    kind: str,
    section_id: str,
    question_id: str | None,
    raised_by: UUID,
) -> UUID | None:
    """A new open concern; None when one is already open for that answer."""
    return await connection.fetchval(  # type: ignore[no-any-return]
        """
        INSERT INTO concerns (partnership_id, audit_id, organisation_id, kind, section_id, question_id, raised_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (audit_id, organisation_id, kind, section_id, question_id) WHERE closed_at IS NULL DO NOTHING
        RETURNING id
        """,
        partnership_id,
        audit_id,
        organisation_id,
        kind,
        section_id,
        question_id,
        raised_by,
    )


async def handled_before(
    connection: asyncpg.Connection[Any], audit_id: UUID, organisation_id: UUID
) -> set[tuple[str, str, str | None]]:
    """(kind, section, question) of the organisation's concerns on the audit
    closed as resolved: the same answer standing does not raise them again."""
    rows = await connection.fetch(
        "SELECT kind, section_id, question_id FROM concerns "
        "WHERE audit_id = $1 AND organisation_id = $2 AND closed_because = 'resolved'",
        audit_id,
        organisation_id,
    )
    return {(r["kind"], r["section_id"], r["question_id"]) for r in rows}


async def acknowledge(connection: asyncpg.Connection[Any], concern_id: UUID, row_version: int, user_id: UUID) -> bool:
    status = await connection.execute(
        """
        UPDATE concerns SET acknowledged_by = $3, acknowledged_at = now(),
                            row_version = row_version + 1
         WHERE id = $1 AND row_version = $2 AND acknowledged_at IS NULL AND closed_at IS NULL
        """,
        concern_id,
        row_version,
        user_id,
    )
    return status == "UPDATE 1"


async def close(
    connection: asyncpg.Connection[Any],
    concern_id: UUID,
    row_version: int,
    *,
    user_id: UUID,
    because: str,
    action_taken: str | None,
    outcome: str | None,
) -> bool:
    status = await connection.execute(
        """
        UPDATE concerns SET closed_by = $3, closed_at = now(), closed_because = $4, action_taken = $5, outcome = $6,
                            row_version = row_version + 1
         WHERE id = $1 AND row_version = $2 AND closed_at IS NULL
        """,
        concern_id,
        row_version,
        user_id,
        because,
        action_taken,
        outcome,
    )
    return status == "UPDATE 1"


class Waiting(msgspec.Struct, frozen=True, kw_only=True):
    """An open concern nobody has acknowledged, with its partnership's rule."""

    concern: ConcernRow
    escalation_minutes: int
    reescalation_minutes: int


async def waiting_for_acknowledgement(connection: asyncpg.Connection[Any], limit: int = 1000) -> list[Waiting]:
    """Open, unacknowledged concerns of every partnership (the worker, as
    the tables' owner), locked against another worker escalating the same
    ones meanwhile, with each partnership's escalation rule (its defaults
    where its administrator set none)."""
    ids = await connection.fetch(
        """
        SELECT id FROM concerns WHERE acknowledged_at IS NULL AND closed_at IS NULL
         ORDER BY raised_at LIMIT $1 FOR UPDATE SKIP LOCKED
        """,
        limit,
    )
    if not ids:
        return []
    rows = await connection.fetch(
        _SELECT.replace(
            "FROM concerns c",
            ", coalesce(s.concern_escalation_minutes, 240) AS escalation_minutes, "
            "coalesce(s.concern_reescalation_minutes, 240) AS reescalation_minutes FROM concerns c "
            "LEFT JOIN partnership_settings s ON s.partnership_id = c.partnership_id",
        )
        + " WHERE c.id = ANY($1::uuid[]) ORDER BY c.raised_at",
        [r["id"] for r in ids],
    )
    found = []
    for row in rows:
        values = dict(row)
        escalation = values.pop("escalation_minutes")
        reescalation = values.pop("reescalation_minutes")
        found.append(
            Waiting(
                concern=msgspec.convert(values, ConcernRow),
                escalation_minutes=escalation,
                reescalation_minutes=reescalation,
            )
        )
    return found


async def mark_escalated(connection: asyncpg.Connection[Any], concern_id: UUID, at: datetime.datetime) -> int:
    """Count one more escalation; how many there have been."""
    return await connection.fetchval(  # type: ignore[no-any-return]
        "UPDATE concerns SET escalations = escalations + 1, last_escalated_at = $2 WHERE id = $1 RETURNING escalations",
        concern_id,
        at,
    )
