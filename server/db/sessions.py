"""Browser sessions and sign-ins under way (migration 0004_identity).

The cookie holds a random key; rows are found by its SHA-256. Nothing here
stores a token from the identity provider.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from server.db.users import UserRow, user_from_row

SIGN_IN_MINUTES = 10


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def new_key() -> str:
    return secrets.token_urlsafe(32)


class SignInRequest(msgspec.Struct, frozen=True, kw_only=True):
    state: str
    code_verifier: str
    nonce: str
    return_to: str


class SessionRow(msgspec.Struct, frozen=True, kw_only=True):
    user: UserRow
    csrf_token: str
    expires_at: datetime.datetime


async def start_sign_in(connection: asyncpg.Connection[Any], request: SignInRequest) -> str:
    """Record a sign-in under way; the key for the browser's cookie."""
    key = new_key()
    async with connection.transaction():
        # Sign-ins that were abandoned: tidy them up as new ones start.
        await connection.execute("DELETE FROM sign_in_requests WHERE expires_at < now()")
        await connection.execute(
            "INSERT INTO sign_in_requests (key_hash, state, code_verifier, nonce, return_to, expires_at) "
            "VALUES ($1, $2, $3, $4, $5, now() + make_interval(mins => $6))",
            _hash(key),
            request.state,
            request.code_verifier,
            request.nonce,
            request.return_to,
            SIGN_IN_MINUTES,
        )
    return key


async def finish_sign_in(connection: asyncpg.Connection[Any], key: str) -> SignInRequest | None:
    """The sign-in under way for ``key``, removed (single use); None if
    there is none or it has expired."""
    row = await connection.fetchrow(
        "DELETE FROM sign_in_requests WHERE key_hash = $1 RETURNING state, code_verifier, nonce, return_to, "
        "expires_at > now() AS current",
        _hash(key),
    )
    if row is None or not row["current"]:
        return None
    return SignInRequest(
        state=row["state"], code_verifier=row["code_verifier"], nonce=row["nonce"], return_to=row["return_to"]
    )


async def create(connection: asyncpg.Connection[Any], user_id: UUID, hours: float) -> tuple[str, str]:
    """A new session for ``user_id``: (cookie key, CSRF token)."""
    key = new_key()
    csrf_token = secrets.token_urlsafe(32)
    async with connection.transaction():
        await connection.execute("DELETE FROM sessions WHERE expires_at < now()")
        await connection.execute(
            "INSERT INTO sessions (key_hash, user_id, csrf_token, expires_at) "
            "VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
            _hash(key),
            user_id,
            csrf_token,
            hours * 3600.0,
        )
    return key, csrf_token


async def find(connection: asyncpg.Connection[Any], key: str) -> SessionRow | None:
    """The current session for ``key`` and who it belongs to."""
    row = await connection.fetchrow(
        """
        SELECT s.csrf_token, s.expires_at,
               u.id, u.issuer, u.subject, u.display_name, u.roles,
               o.id AS organisation_id, o.code, o.name, o.agency_kind, o.partnership_id,
               p.code AS partnership_code, p.name AS partnership_name
          FROM sessions s
          JOIN users u ON u.id = s.user_id
          JOIN organisations o ON o.id = u.organisation_id
          JOIN partnerships p ON p.id = o.partnership_id
         -- An organisation an administrator made inactive ends its people's sessions.
         WHERE s.key_hash = $1 AND s.expires_at > now() AND o.active
        """,
        _hash(key),
    )
    if row is None:
        return None
    return SessionRow(user=user_from_row(row), csrf_token=row["csrf_token"], expires_at=row["expires_at"])


async def end(connection: asyncpg.Connection[Any], key: str) -> bool:
    """Delete the session for ``key``; whether there was one."""
    deleted = await connection.fetchval("DELETE FROM sessions WHERE key_hash = $1 RETURNING 1", _hash(key))
    return deleted is not None


async def count_for(connection: asyncpg.Connection[Any], user_id: UUID) -> int:
    count: int = await connection.fetchval("SELECT count(*) FROM sessions WHERE user_id = $1", user_id)
    return count


async def forget_expired(connection: asyncpg.Connection[Any]) -> int:
    """Delete sessions past their end; how many (server/platform/maintenance.py)."""
    result = await connection.execute("DELETE FROM sessions WHERE expires_at < now()")
    return int(result.rsplit(" ", 1)[-1])


async def forget_abandoned_sign_ins(connection: asyncpg.Connection[Any]) -> int:
    """Delete sign-ins that were never finished and have expired (a finished
    one is deleted as it finishes); how many."""
    result = await connection.execute("DELETE FROM sign_in_requests WHERE expires_at < now()")
    return int(result.rsplit(" ", 1)[-1])
