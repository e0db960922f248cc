"""Telling PostgreSQL who is asking, in a form the application's own role
cannot forge (migration 0011).

Row-level security is only a wall if the database knows who is asking by
something ``maca_app`` cannot write for itself. The server seals each
transaction's identity — user, organisation, partnership, roles and the
time — with an HMAC-SHA-256 key, and sends it as a statement parameter;
the policies ask ``maca_identity()``, which verifies the seal as the tables'
owner with a key ``maca_app`` has no privilege to read (it is in the
``maca_private`` schema). No seal, a forged one, or one more than a minute
old: the functions answer nothing, and the policies show nothing.

A sealed value is ``<64 hex digits of the HMAC>.<JSON claims>``; the claims
name their kind, so a seal made for one purpose is never taken for another:

- ``identity`` (``maca.identity``): who the transaction works for
  (``server/platform/transactions.py``);
- ``recording`` (``maca.recording``): what a validated token says about a
  person recorded on first sight (:mod:`server.db.users`) — people,
  organisations and partnerships are written only as a seal says;
- ``summarising`` (``maca.summarising``): the one audit whose themes summary
  the transaction is refreshing, for its user (:mod:`server.db.themes`);
- ``probe``: a new pooled connection checks that the database accepts the
  server's seals (same key, clocks within a minute).

The key is ``MACA_DB_IDENTITY_KEY`` (stored by ``maca migrate``), or one
``maca migrate`` generated, which the server reads once with the owner's
``DATABASE_URL``. The values are sent as parameters, never spliced into a
statement's text: ``pg_stat_activity`` shows every session of ``maca_app``
the text of the others' statements, and a seal seen there could be replayed
within its minute.

Connections of Maca's pool are :class:`IdentifiedConnection`: they carry the
:class:`Sealer` (and the user their transaction works for), so the modules
that seal — this one, users, themes — need nothing but the connection. A
plain connection (the owner's, for ``maca purge`` or ``maca demo``) has no
sealer, and needs none: row-level security does not bind the tables' owner.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Iterable
from typing import Any, cast
from uuid import UUID

import asyncpg
import msgspec

log = logging.getLogger(__name__)

IDENTITY = "maca.identity"
RECORDING = "maca.recording"
SUMMARISING = "maca.summarising"

# Python's hmac and the database's maca_private.claims must agree: the key
# is at most one SHA-256 block (64 bytes), as migration 0011's table checks.
KEY_BYTES = 32


class SigningKeyUnavailable(asyncpg.exceptions.InterfaceError):
    """The server cannot seal: it has no key, or the database does not
    accept its seals. Maca answers 503 rather than serve pages that would
    show nothing (every policy would hide every row)."""


def key_from_configuration(text: str) -> bytes:
    """``MACA_DB_IDENTITY_KEY`` as the key's bytes (any length of text, one
    SHA-256 block of key)."""
    return hashlib.sha256(text.encode()).digest()


def seal(key: bytes, claims: dict[str, Any]) -> str:
    """``claims`` (with its kind in ``k``) sealed with ``key``."""
    payload = msgspec.json.encode(claims)
    return hmac.new(key, payload, hashlib.sha256).hexdigest() + "." + payload.decode()


class Sealer:
    """Seals values for the database with the key it shares with it.

    The key is configured, or read once (on the pool's first connection)
    with the owner's ``DATABASE_URL``; ``owner_dsn`` is None when the
    server connects as ``maca_app`` directly and so cannot read it."""

    def __init__(
        self,
        *,
        configured: bytes | None,
        owner_dsn: str | None,
        statement_cache: int = 100,
        timeout: float = 5.0,
        clock: Any = time.time,
    ) -> None:
        self._key = configured
        self._configured = configured is not None
        self._owner_dsn = owner_dsn
        self._statement_cache = statement_cache
        self._timeout = timeout
        self._clock = clock
        self._lock = asyncio.Lock()

    @property
    def has_key(self) -> bool:
        return self._key is not None

    async def load(self, *, again: bool = False) -> None:
        """Have the key: configured, or read from the database as its owner
        (again, when the database no longer accepts the one read before)."""
        if self._configured or (self._key is not None and not again):
            return
        async with self._lock:
            if self._key is not None and not again:
                return
            if self._owner_dsn is None:
                raise SigningKeyUnavailable(
                    "DATABASE_URL names maca_app, which may not read the identity key: "
                    "set MACA_DB_IDENTITY_KEY (the same as `maca migrate` was given)"
                )
            connection = await asyncpg.connect(
                self._owner_dsn, timeout=self._timeout, statement_cache_size=self._statement_cache
            )
            try:
                key = await stored_key(connection)
            finally:
                await connection.close()
            if key is None:
                raise SigningKeyUnavailable("the database has no identity key yet: run `maca migrate`")
            self._key = key

    def _sealed(self, claims: dict[str, Any]) -> str:
        if self._key is None:
            raise SigningKeyUnavailable("the identity key has not been loaded")
        return seal(self._key, {"k": claims.pop("k"), "t": self._clock(), **claims})

    def identity(self, user_id: UUID, organisation_id: UUID, partnership_id: UUID, roles: Iterable[str]) -> str:
        return self._sealed(
            {
                "k": "identity",
                "u": str(user_id),
                "o": str(organisation_id),
                "p": str(partnership_id),
                "r": sorted(roles),
            }
        )

    def recording(self, claims: dict[str, Any]) -> str:
        return self._sealed({"k": "recording", **claims})

    def summarising(self, audit_id: UUID, user_id: UUID) -> str:
        return self._sealed({"k": "summarising", "a": str(audit_id), "u": str(user_id)})

    def probe(self) -> str:
        return self._sealed({"k": "probe"})


class IdentifiedConnection(asyncpg.Connection):
    """A connection of Maca's pool: it carries the :class:`Sealer` and the
    user its current transaction works for (set by :func:`declare`)."""

    maca_sealer: Sealer | None = None
    maca_user: UUID | None = None
    # A seal made for the open transaction that its first statement sets
    # (:func:`seal_for_first_statement`), until that statement takes it.
    maca_pending: str | None = None

    def remember_user(self, user_id: UUID | None) -> None:
        # A method, so that it reaches the connection through the pool's proxy.
        self.maca_user = user_id

    def keep_pending(self, sealed: str | None) -> None:
        self.maca_pending = sealed

    def take_pending(self) -> str | None:
        sealed, self.maca_pending = self.maca_pending, None
        return sealed


def sealer_of(connection: asyncpg.Connection[Any]) -> Sealer | None:
    """The sealer of a pooled connection (through the pool's proxy), or None
    for a plain one."""
    sealer = getattr(connection, "maca_sealer", None)
    return sealer if isinstance(sealer, Sealer) else None


async def accepted(connection: asyncpg.Connection[Any], sealer: Sealer) -> bool:
    """Whether the database accepts a seal the server made just now."""
    return bool(await connection.fetchval("SELECT maca_accepts($1)", sealer.probe()))


async def declare(
    connection: asyncpg.Connection[Any],
    user_id: UUID,
    organisation_id: UUID,
    partnership_id: UUID,
    roles: Iterable[str],
) -> None:
    """Tell the database who the transaction open on ``connection`` works
    for, sealed, until it ends."""
    sealer = sealer_of(connection)
    if sealer is None:
        raise SigningKeyUnavailable("a connection outside Maca's pool cannot say who is asking")
    identified = cast("IdentifiedConnection", connection)
    identified.keep_pending(None)
    await connection.execute(
        "SELECT set_config('maca.identity', $1, true)",
        sealer.identity(user_id, organisation_id, partnership_id, roles),
    )
    identified.remember_user(user_id)


def seal_for_first_statement(
    connection: asyncpg.Connection[Any],
    user_id: UUID,
    organisation_id: UUID,
    partnership_id: UUID,
    roles: Iterable[str],
) -> None:
    """Seal who the transaction open on ``connection`` works for, to be set
    by its first statement rather than by a round trip of its own: a
    statement that can (``maca_open_contribution``, migration 0019) takes
    it with :func:`pending_seal`; anything else first calls
    :func:`declare_pending`. Until it is set the transaction sees nothing
    (every policy asks for the seal), so forgetting fails closed."""
    sealer = sealer_of(connection)
    if sealer is None:
        raise SigningKeyUnavailable("a connection outside Maca's pool cannot say who is asking")
    identified = cast("IdentifiedConnection", connection)
    identified.keep_pending(sealer.identity(user_id, organisation_id, partnership_id, roles))
    identified.remember_user(user_id)


def pending_seal(connection: asyncpg.Connection[Any]) -> str | None:
    """The seal the transaction's first statement is to set, taken (None
    when it is set already, or on a plain connection)."""
    take = getattr(connection, "take_pending", None)
    return take() if take is not None else None


async def declare_pending(connection: asyncpg.Connection[Any]) -> None:
    """Set the seal :func:`seal_for_first_statement` kept, if it is not set yet."""
    sealed = pending_seal(connection)
    if sealed is not None:
        await connection.execute("SELECT set_config('maca.identity', $1, true)", sealed)


async def declare_recording(connection: asyncpg.Connection[Any], claims: dict[str, Any]) -> None:
    """Let the transaction record a person (and their organisation and
    partnership) exactly as ``claims`` say (a validated token's). On a
    plain connection (the owner's) there is nothing to declare."""
    sealer = sealer_of(connection)
    if sealer is not None:
        await connection.execute("SELECT set_config('maca.recording', $1, true)", sealer.recording(claims))


async def grant_summarising(connection: asyncpg.Connection[Any], audit_id: UUID | None) -> None:
    """Let the transaction read every contribution of ``audit_id`` (for its
    themes summary) until :func:`grant_summarising` with None."""
    sealer = sealer_of(connection)
    user_id = getattr(connection, "maca_user", None)
    if sealer is None or not isinstance(user_id, UUID):
        return
    value = "" if audit_id is None else sealer.summarising(audit_id, user_id)
    await connection.execute("SELECT set_config('maca.summarising', $1, true)", value)


# --- the key, kept by the owner ----------------------------------------------------


async def stored_key(connection: asyncpg.Connection[Any]) -> bytes | None:
    """The key ``maca migrate`` stored (as the owner); None if none is."""
    if not await connection.fetchval("SELECT to_regclass('maca_private.signing_key') IS NOT NULL"):
        return None
    key: bytes | None = await connection.fetchval("SELECT key FROM maca_private.signing_key")
    return key


async def keep_key(connection: asyncpg.Connection[Any], configured: bytes | None) -> bool:
    """Store the configured key, or generate one if none is stored (as the
    owner, in ``maca migrate``'s transaction); whether it changed."""
    if not await connection.fetchval("SELECT to_regclass('maca_private.signing_key') IS NOT NULL"):
        return False
    stored = await stored_key(connection)
    if configured is None:
        if stored is not None:
            return False
        configured = secrets.token_bytes(KEY_BYTES)
    elif stored is not None and hmac.compare_digest(stored, configured):
        return False
    await connection.execute("SELECT maca_private.set_signing_key($1)", configured)
    return True
