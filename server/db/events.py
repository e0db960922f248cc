"""The append-only event log: who did what, when, to which audit.

An event's ``detail`` holds ids, statuses, counts and the reasons a person
gave for a change — never answer text or case details, so the log can be
read by people who may not read the case. What the actions are called is
``server.audits.events.EventName``; this module only stores and reads them.
"""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class EventRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: datetime.datetime
    user_id: UUID | None
    organisation_id: UUID | None
    action: str
    audit_id: UUID | None
    target_organisation_id: UUID | None
    detail: dict[str, Any]


async def append(
    connection: asyncpg.Connection[Any],
    *,
    action: str,
    audit_id: UUID | None,
    target_organisation_id: UUID | None,
    detail: dict[str, Any],
) -> int:
    """Append one event done by whoever the transaction's verified identity
    is (``maca_record_event``, migration 0011: ``maca_app`` may not insert
    events itself, and names no actor — the database takes it from the
    seal); its id."""
    event_id: int = await connection.fetchval(
        "SELECT maca_record_event($1, $2, $3, $4::text::jsonb)",
        action,
        audit_id,
        target_organisation_id,
        msgspec.json.encode(detail).decode(),
    )
    return event_id


async def append_unattributed(
    connection: asyncpg.Connection[Any], *, action: str, detail: dict[str, Any], audit_id: UUID | None = None
) -> int:
    """Append one event done by no one signed in, as the tables' owner
    (``maca purge``, the worker's escalations); its id. ``detail`` is sent
    as JSON text, so the owner's bare connection writes it as the pool
    would."""
    event_id: int = await connection.fetchval(
        "INSERT INTO events (action, audit_id, detail) VALUES ($1, $2, $3::text::jsonb) RETURNING id",
        action,
        audit_id,
        msgspec.json.encode(detail).decode(),
    )
    return event_id


async def for_audit(
    connection: asyncpg.Connection[Any], audit_id: UUID, *, after: int = 0, limit: int = 100
) -> list[EventRow]:
    """An audit's events, oldest first, after event id ``after``."""
    rows = await connection.fetch(
        """
        SELECT id, at, user_id, organisation_id, action, audit_id, target_organisation_id, detail
        FROM events
        WHERE audit_id = $1 AND id > $2
        ORDER BY id
        LIMIT $3
        """,
        audit_id,
        after,
        limit,
    )
    return [msgspec.convert(dict(row), EventRow) for row in rows]


class HistoryRow(msgspec.Struct, frozen=True, kw_only=True):
    """An event of an audit's history, with the names of who did it and
    whom it concerned (as the reader may see them)."""

    id: int
    at: datetime.datetime
    action: str
    detail: dict[str, Any]
    user_id: UUID | None
    user_name: str | None
    organisation_name: str | None
    target_organisation_id: UUID | None
    target_name: str | None
    # A returned contribution's comment as it is now (the latest return's).
    returned_comment: str | None


async def history(
    connection: asyncpg.Connection[Any], audit_id: UUID, actions: list[str], *, limit: int
) -> list[HistoryRow]:
    """The audit's events of ``actions``, newest first, with names: one
    statement (row-level security leaves out what the reader may not see)."""
    rows = await connection.fetch(
        """
        SELECT e.id, e.at, e.action, e.detail, e.user_id, u.display_name AS user_name,
               o.name AS organisation_name, e.target_organisation_id, t.name AS target_name,
               CASE WHEN e.action = 'contribution.returned' THEN c.returned_comment END AS returned_comment
        FROM events e
        LEFT JOIN users u ON u.id = e.user_id
        LEFT JOIN organisations o ON o.id = e.organisation_id
        LEFT JOIN organisations t ON t.id = e.target_organisation_id
        LEFT JOIN contributions c ON c.audit_id = e.audit_id AND c.organisation_id = e.target_organisation_id
        WHERE e.audit_id = $1 AND e.action = ANY ($2::text[])
        ORDER BY e.id DESC
        LIMIT $3
        """,
        audit_id,
        actions,
        limit,
    )
    return [msgspec.convert(dict(row), HistoryRow) for row in rows]


async def organisation_names(connection: asyncpg.Connection[Any], ids: list[str]) -> dict[str, str]:
    """Organisations' names by id (those the reader may see)."""
    rows = await connection.fetch("SELECT id::text AS id, name FROM organisations WHERE id = ANY ($1::uuid[])", ids)
    return {row["id"]: row["name"] for row in rows}
