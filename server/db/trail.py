"""The administration trail: events with no audit that name the
partnership they concern in ``detail.partnership_ids`` (migration 0012
indexes them), newest first, with who did them."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class TrailRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: datetime.datetime
    action: str
    user_name: str | None
    user_organisation: str | None
    target_organisation_id: UUID | None
    target_code: str | None
    target_name: str | None
    detail: dict[str, Any]


async def administration(
    connection: asyncpg.Connection[Any],
    partnership_id: UUID,
    *,
    organisation_id: UUID | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[TrailRow]:
    """The partnership's administration events, newest first; with
    ``organisation_id`` only those about that organisation; ``before``: ids
    below it (the next page)."""
    rows = await connection.fetch(
        """
        SELECT e.id, e.at, e.action, u.display_name AS user_name, uo.name AS user_organisation,
               e.target_organisation_id, o.code AS target_code, o.name AS target_name, e.detail
          FROM events e
          LEFT JOIN users u ON u.id = e.user_id
          LEFT JOIN organisations uo ON uo.id = e.organisation_id
          LEFT JOIN organisations o ON o.id = e.target_organisation_id
         WHERE e.detail ? 'partnership_ids' AND e.detail -> 'partnership_ids' ? $1::text
           AND ($2::uuid IS NULL OR e.target_organisation_id = $2)
           AND ($3::bigint IS NULL OR e.id < $3)
         ORDER BY e.id DESC
         LIMIT $4
        """,
        str(partnership_id),
        organisation_id,
        before,
        limit,
    )
    return [msgspec.convert({**dict(row), "detail": _json(row["detail"])}, TrailRow) for row in rows]


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value
