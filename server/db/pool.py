"""The asyncpg connection pool and what every connection needs.

The application connects as its own role, ``maca_app`` (created by
migration 0005), never as the tables' owner: row-level security binds it,
it cannot bypass it, and it may only insert and read events. It is a login
role of its own rather than a ``SET ROLE`` inside the owner's session,
which one injected ``RESET ROLE`` would undo; and it works through
PgBouncer in transaction mode, which pools per user.

``DATABASE_URL`` names the owner (migrations, maintenance commands). The
pool reaches the same server and database as ``maca_app``, with the
password ``MACA_DB_APP_PASSWORD`` or, unset, one derived from the owner's
password (``maca migrate`` sets the same on the role). A ``DATABASE_URL``
that already names ``maca_app`` is used as it is.

Each connection carries the sealer that tells the database who its
transactions work for (``server/db/identity.py``), and checks on opening
that the database accepts the server's seals.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import Any, cast
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import asyncpg
import msgspec

from server.db.identity import IdentifiedConnection, Sealer, SigningKeyUnavailable, accepted, key_from_configuration
from server.settings import Settings

log = logging.getLogger(__name__)

APP_ROLE = "maca_app"


class PoolExhausted(TimeoutError):
    """Every connection of the pool stayed in use for as long as a request
    may wait for one (``MACA_DB_TIMEOUT_SECONDS``): Maca is busy, and says
    so (503 with ``Retry-After``) rather than keep the caller waiting."""


class BoundedPool(asyncpg.Pool):
    """asyncpg's pool, whose ``acquire`` waits at most ``acquire_timeout``
    seconds unless told otherwise (asyncpg's own waits for ever: a red-team
    pass held every connection and everybody else's requests hung)."""

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> Any:
        return _Acquiring(self, super().acquire(timeout=self.acquire_timeout if timeout is None else timeout))


class _Acquiring:
    """``pool.acquire()``, as an async context manager or awaited, telling a
    pool with every connection in use (:class:`PoolExhausted`) from a
    database that does not answer (``TimeoutError`` while connecting)."""

    def __init__(self, pool: BoundedPool, acquiring: Any) -> None:
        self._pool = pool
        self._acquiring = acquiring

    def _busy(self) -> bool:
        return self._pool.get_size() >= self._pool.get_max_size() and self._pool.get_idle_size() == 0

    async def __aenter__(self) -> Any:
        try:
            return await self._acquiring.__aenter__()
        except TimeoutError:
            if self._busy():
                raise PoolExhausted("every database connection is in use") from None
            raise

    async def __aexit__(self, *exc: object) -> None:
        await self._acquiring.__aexit__(*exc)

    def __await__(self) -> Any:
        return self.__aenter__().__await__()


class UnsafeApplicationRole(asyncpg.exceptions.InterfaceError):
    """The application's connection could bypass row-level security: Maca
    answers 503 rather than serve without its second wall."""


def app_password(settings: Settings, owner_url: str) -> str | None:
    """``maca_app``'s password: configured, or derived from the owner's."""
    if settings.db_app_password:
        return settings.db_app_password
    parts = urlsplit(owner_url)
    owner_password = unquote(parts.password or "") or dict(parse_qsl(parts.query)).get("password", "")
    if not owner_password:
        # No password to derive from (trust or peer authentication): the
        # role gets none, so it cannot log in where passwords are required.
        return None
    digest = hmac.new(owner_password.encode(), b"maca_app database role", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def app_database_url(settings: Settings, url: str) -> str:
    """``url`` (the owner's) as the application role."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    named = unquote(parts.username or "") or dict(query).get("user", "")
    if named == APP_ROLE:
        return url
    password = app_password(settings, url)
    host = parts.netloc.rpartition("@")[2]
    credentials = APP_ROLE + (f":{quote(password, safe='')}" if password else "")
    query = [(key, value) for key, value in query if key not in ("user", "password")]
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}", query=urlencode(query)))


async def check_role(connection: asyncpg.Connection[Any]) -> None:
    row = await connection.fetchrow(
        """
        SELECT r.rolsuper, r.rolbypassrls, coalesce(pg_has_role(c.relowner, 'USAGE'), false) AS owns
          FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass('contributions')
         WHERE r.rolname = current_user
        """
    )
    if row is None or row["rolsuper"] or row["rolbypassrls"] or row["owns"]:
        message = (
            f"the application's database role ({APP_ROLE}) is a superuser, may bypass row-level security "
            "or owns the tables; connect as a role without those rights (README, Database roles)"
        )
        log.error(message)
        raise UnsafeApplicationRole(message)


def _encode_jsonb(value: Any) -> bytes:
    # jsonb's binary form: a version byte, then the JSON text.
    return b"\x01" + msgspec.json.encode(value)


def _decode_jsonb(data: bytes) -> Any:
    return msgspec.json.decode(data[1:])


async def _init_connection(connection: asyncpg.Connection[Any]) -> None:
    await check_role(connection)
    # json and jsonb in and out as Python objects, by msgspec (several
    # times quicker than the standard library on a 9 KB contribution).
    await connection.set_type_codec(
        "jsonb", encoder=_encode_jsonb, decoder=_decode_jsonb, schema="pg_catalog", format="binary"
    )
    await connection.set_type_codec(
        "json",
        encoder=lambda value: msgspec.json.encode(value).decode(),
        decoder=msgspec.json.decode,
        schema="pg_catalog",
    )


def sealer_for(settings: Settings, dsn: str) -> Sealer:
    """The sealer of a pool reaching ``dsn``: with the configured key, or
    the one it reads as the owner ``dsn`` names (none when it names maca_app)."""
    configured = key_from_configuration(settings.db_identity_key) if settings.db_identity_key else None
    return Sealer(
        configured=configured,
        owner_dsn=None if app_database_url(settings, dsn) == dsn else dsn,
        statement_cache=settings.db_statement_cache,
        timeout=settings.db_timeout_seconds,
    )


async def _identify(connection: asyncpg.Connection[Any], sealer: Sealer) -> None:
    """Give the connection its sealer, once the database has shown that it
    accepts the server's seals (the key read again if it was replaced)."""
    await sealer.load()
    if not await accepted(connection, sealer):
        await sealer.load(again=True)
        if not await accepted(connection, sealer):
            message = (
                "the database does not accept Maca's identity seals: MACA_DB_IDENTITY_KEY differs from the key "
                "`maca migrate` stored, or this host's clock is more than a minute from the database's"
            )
            log.error(message)
            raise SigningKeyUnavailable(message)
    cast("IdentifiedConnection", connection).maca_sealer = sealer


async def _keep_session(connection: asyncpg.Connection[Any]) -> None:
    """What a connection needs between two uses: nothing beyond the
    rollback asyncpg always does. Every setting, lock and cursor Maca takes
    is local to a transaction (``set_config(..., true)``, transaction-level
    advisory locks), so asyncpg's default reset (``RESET ALL``, ``UNLISTEN``,
    ``CLOSE ALL``, unlocking advisory locks) would be a round trip per
    request that undoes nothing."""


async def create_pool(settings: Settings, dsn: str) -> asyncpg.Pool[Any]:
    """A pool of ``maca_app`` connections to the database ``dsn`` names,
    opened on demand (``min_size=0``), so Maca starts and reports itself
    unready while the database is away, rather than failing to start. A
    request waits at most ``MACA_DB_TIMEOUT_SECONDS`` for a connection,
    whether the database is slow to answer or every connection is in use.
    Each connection is given the sealer that tells the database who asks."""
    sealer = sealer_for(settings, dsn)

    async def init(connection: asyncpg.Connection[Any]) -> None:
        await _init_connection(connection)
        await _identify(connection, sealer)

    pool = BoundedPool(
        app_database_url(settings, dsn),
        acquire_timeout=settings.db_timeout_seconds,
        min_size=0,
        max_size=settings.db_pool_max,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=IdentifiedConnection,
        record_class=asyncpg.Record,
        statement_cache_size=settings.db_statement_cache,
        command_timeout=settings.db_timeout_seconds * 6,
        timeout=settings.db_timeout_seconds,
        init=init,
        reset=_keep_session,
        server_settings={"application_name": "maca"},
    )
    await pool  # opens min_size connections: none
    return pool
