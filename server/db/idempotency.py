"""Stored first responses of POSTs that carried an ``Idempotency-Key``.

Only the person who sent a request may read its stored response (it can
hold a whole contribution): migration 0011's policy on ``user_id``.

A key is claimed inside the request's transaction: a concurrent retry with
the same key waits on the unique key until the first commits, then finds
its response. If the first request fails, its transaction (claim included)
rolls back and a retry runs afresh.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

# How long a retry with the same key gets the first response back: 24
# hours, the usual contract for idempotency keys (clients retry within
# minutes). server/platform/maintenance.py forgets older keys; a retry with one runs
# afresh.
KEPT_FOR_DAYS = 1


class StoredResponse(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    path: str
    request_hash: str
    status: int | None
    body: bytes | None
    headers: dict[str, str]


async def claim(
    connection: asyncpg.Connection[Any], user_id: UUID, key: str, method: str, path: str, request_hash: str
) -> StoredResponse | None:
    """Claim ``key`` for this request; ``None`` when claimed, otherwise what
    the earlier request with the same key stored."""
    inserted = await connection.fetchval(
        """
        INSERT INTO idempotency_keys (user_id, key, method, path, request_hash)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (user_id, key) DO NOTHING
        RETURNING true
        """,
        user_id,
        key,
        method,
        path,
        request_hash,
    )
    if inserted:
        return None
    row = await connection.fetchrow(
        """
        SELECT method, path, request_hash, response_status AS status, response_body AS body,
               response_headers AS headers
        FROM idempotency_keys WHERE user_id = $1 AND key = $2
        """,
        user_id,
        key,
    )
    assert row is not None
    return msgspec.convert(dict(row), StoredResponse)


async def store(
    connection: asyncpg.Connection[Any],
    user_id: UUID,
    key: str,
    status: int,
    body: bytes,
    headers: dict[str, str],
) -> None:
    await connection.execute(
        """
        UPDATE idempotency_keys
        SET response_status = $3, response_body = $4, response_headers = $5
        WHERE user_id = $1 AND key = $2
        """,
        user_id,
        key,
        status,
        body,
        headers,
    )


async def forget_older_than(connection: asyncpg.Connection[Any], days: int) -> int:
    """Drop stored responses older than ``days`` (retries come within
    minutes), everyone's: ``maca_app`` sees only its own person's keys, so
    this goes through ``maca_forget_idempotency_keys`` (migration 0011),
    which never forgets a key younger than a day."""
    return int(await connection.fetchval("SELECT maca_forget_idempotency_keys($1)", days))
