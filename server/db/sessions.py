"""Browser sessions and sign-ins under way (migration 0004_identity).

The cookie holds a random key; rows are found by its SHA-256. Nothing here
stores a token from the identity provider.

``maca_app`` reads no session or sign-in by listing them (migration 0011):
it opens a session only for the person its transaction is sealed for, and
finds, ends and forgets them through functions that need the cookie's key
(``maca_session``, ``maca_end_session``, …), so that an injected statement
can neither read anyone's CSRF token nor plant a session for someone else.
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
    await connection.execute(
        "SELECT maca_start_sign_in($1, $2, $3, $4, $5, $6)",
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
        "SELECT state, code_verifier, nonce, return_to, current FROM maca_finish_sign_in($1)", _hash(key)
    )
    if row is None or not row["current"]:
        return None
    return SignInRequest(
        state=row["state"], code_verifier=row["code_verifier"], nonce=row["nonce"], return_to=row["return_to"]
    )


async def create(connection: asyncpg.Connection[Any], user_id: UUID, hours: float) -> tuple[str, str]:
    """A new session for ``user_id`` (who, as ``maca_app``, must be the
    person the transaction is sealed for): (cookie key, CSRF token)."""
    key = new_key()
    csrf_token = secrets.token_urlsafe(32)
    # One statement: expired sessions are tidied as new ones open, in
    # whatever transaction the caller has.
    await connection.execute(
        "WITH tidied AS (SELECT maca_forget_expired_sessions()) "
        "INSERT INTO sessions (key_hash, user_id, csrf_token, expires_at) "
        "SELECT $1, $2, $3, now() + make_interval(secs => $4) FROM tidied",
        _hash(key),
        user_id,
        csrf_token,
        hours * 3600.0,
    )
    return key, csrf_token


async def find(connection: asyncpg.Connection[Any], key: str) -> SessionRow | None:
    """The current session for ``key`` and who it belongs to. An
    organisation an administrator made inactive ends its people's sessions
    (``maca_session`` finds none for them, migration 0013)."""
    row = await connection.fetchrow(
        """
        SELECT csrf_token, expires_at, id, issuer, subject, display_name, roles,
               organisation_id, code, name, agency_kind, partnership_id, partnership_code, partnership_name
          FROM maca_session($1)
        """,
        _hash(key),
    )
    if row is None:
        return None
    return SessionRow(user=user_from_row(row), csrf_token=row["csrf_token"], expires_at=row["expires_at"])


async def end(connection: asyncpg.Connection[Any], key: str) -> bool:
    """Delete the session for ``key``; whether there was one."""
    return bool(await connection.fetchval("SELECT maca_end_session($1)", _hash(key)))


async def count_for(connection: asyncpg.Connection[Any], user_id: UUID) -> int:
    count: int = await connection.fetchval("SELECT count(*) FROM sessions WHERE user_id = $1", user_id)
    return count


async def forget_expired(connection: asyncpg.Connection[Any]) -> int:
    """Delete sessions past their end; how many (server/platform/maintenance.py)."""
    return int(await connection.fetchval("SELECT maca_forget_expired_sessions()"))


async def forget_abandoned_sign_ins(connection: asyncpg.Connection[Any]) -> int:
    """Delete sign-ins that were never finished and have expired (a finished
    one is deleted as it finishes); how many."""
    return int(await connection.fetchval("SELECT maca_forget_abandoned_sign_ins()"))
