"""Numbered SQL migrations, applied in order, once, by one process at a time.

Files are ``NNNN_name.sql`` under ``server/db/migrations``. All pending
migrations are applied in one transaction that first takes a transaction-level
advisory lock, so two processes starting together serialise: the second
waits, then finds nothing left to do. A transaction-level lock (rather than
a session one) also works through PgBouncer in transaction mode.

An applied migration is never edited: its checksum is recorded, and a file
whose text no longer matches is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from server.db.identity import keep_key
from server.settings import Settings

log = logging.getLogger("maca.migrate")

MIGRATIONS = Path(__file__).parent / "migrations"

# An arbitrary constant naming "Maca's schema" among advisory locks.
LOCK_KEY = 0x6D616361  # "maca"

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


# Migrations written alongside an earlier-numbered one they never saw, whose
# functions name something that one removed: their function bodies are not
# checked as they are created (PostgreSQL's check_function_bodies, as
# pg_restore does), and the later migration named here replaces those
# functions in the same transaction, before anything calls them. 0012 keyed
# its two functions to maca_setting_uuid, which 0011 dropped; 0013 keys them
# to the sealed identity. An applied migration is never edited, so this is
# the only way 0012 applies after 0011.
BODIES_REPLACED_LATER = {12: 13}


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def read_migrations(directory: Path = MIGRATIONS) -> list[Migration]:
    migrations: list[Migration] = []
    for file in sorted(directory.glob("*.sql")):
        match = _FILE.match(file.name)
        if match is None:
            raise MigrationError(f"{file.name}: migration files are named NNNN_name.sql")
        migrations.append(Migration(int(match.group(1)), match.group(2), file.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a number in {directory}")
    return migrations


@dataclass(frozen=True)
class AppTimeouts:
    """How long PostgreSQL lets the application's role ``maca_app`` run one
    statement, and stay idle inside a transaction, before it ends them
    (``MACA_DB_STATEMENT_TIMEOUT_SECONDS``,
    ``MACA_DB_IDLE_IN_TRANSACTION_SECONDS``). Set on the role, for this
    database, so every session of ``maca_app`` has them from the moment it
    logs in — PgBouncer's server connections in transaction mode too, which
    pass on no settings a client asks for."""

    statement_seconds: float = 30.0
    idle_in_transaction_seconds: float = 30.0

    @classmethod
    def of(cls, settings: Settings) -> AppTimeouts:
        return cls(settings.db_statement_timeout_seconds, settings.db_idle_in_transaction_seconds)


async def migrate(
    connection: asyncpg.Connection[Any],
    directory: Path = MIGRATIONS,
    *,
    app_password: str | None = None,
    app_timeouts: AppTimeouts | None = None,
    identity_key: bytes | None = None,
) -> list[Migration]:
    """Apply every pending migration; return those applied by this call.

    With ``app_password`` (server/db/pool.py), also give the application's
    role ``maca_app`` that password, in the same transaction, and its
    timeouts (``app_timeouts``, the defaults if not given). The key that
    seals identities (server/db/identity.py) is ``identity_key`` if given
    (``MACA_DB_IDENTITY_KEY``), or else the one already stored, or a new
    random one."""
    migrations = read_migrations(directory)
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
        await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        applied = {
            row["version"]: row
            for row in await connection.fetch("SELECT version, name, checksum FROM schema_migrations")
        }
        for migration in migrations:
            row = applied.get(migration.version)
            if row is not None and row["checksum"] != migration.checksum:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name}.sql was edited after it was applied; "
                    "add a new migration instead"
                )
        known = {m.version for m in migrations}
        unknown = sorted(set(applied) - known)
        if unknown:
            raise MigrationError(
                f"the database has migrations this version of Maca does not know ({unknown}); is Maca older?"
            )
        pending = [m for m in migrations if m.version not in applied]
        for migration in pending:
            replaced_by = BODIES_REPLACED_LATER.get(migration.version)
            if replaced_by is not None and replaced_by in known:
                await connection.execute("SET LOCAL check_function_bodies = off")
            await connection.execute(migration.sql)
            await connection.execute("SET LOCAL check_function_bodies = on")
            await connection.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
        if app_password is not None:
            await set_app_password(connection, app_password)
        await set_app_timeouts(connection, app_timeouts or AppTimeouts())
        await keep_key(connection, identity_key)
    return pending


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC
    5802, 7677): sent instead of the password, so no server log or
    statement view ever holds the password itself."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()

    def b64(value: bytes) -> str:
        return base64.b64encode(value).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


async def set_app_password(connection: asyncpg.Connection[Any], password: str) -> None:
    """Set ``maca_app``'s password, if the owner is allowed to."""
    if not await _may_alter_app_role(connection):
        return
    # The verifier is base64 with '$' and ':' only, so it quotes safely;
    # ALTER ROLE takes no parameters.
    await connection.execute(f"ALTER ROLE maca_app PASSWORD '{scram_verifier(password)}'")


async def set_app_timeouts(connection: asyncpg.Connection[Any], timeouts: AppTimeouts) -> None:
    """``maca_app``'s statement and idle-in-transaction timeouts in this
    database, if the owner may change the role (as for its password);
    otherwise a warning says what to ask a database administrator for."""
    if not await _may_alter_app_role(connection):
        log.warning(
            "cannot set maca_app's statement_timeout and idle_in_transaction_session_timeout (the owner may not "
            "alter roles); ask a database administrator to: ALTER ROLE maca_app IN DATABASE <database> SET "
            "statement_timeout = '%dms'; ... SET idle_in_transaction_session_timeout = '%dms'",
            _milliseconds(timeouts.statement_seconds),
            _milliseconds(timeouts.idle_in_transaction_seconds),
        )
        return
    for name, seconds in (
        ("statement_timeout", timeouts.statement_seconds),
        ("idle_in_transaction_session_timeout", timeouts.idle_in_transaction_seconds),
    ):
        # ALTER ROLE takes no parameters: the name is one of the two above,
        # the value a whole number of milliseconds, the database quoted.
        await connection.execute(
            f"""
            DO $$ BEGIN
                EXECUTE format('ALTER ROLE maca_app IN DATABASE %I SET {name} = %L',
                               current_database(), '{_milliseconds(seconds)}ms');
            END $$
            """
        )


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


async def _may_alter_app_role(connection: asyncpg.Connection[Any]) -> bool:
    return bool(
        await connection.fetchval("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        and await connection.fetchval("SELECT true FROM pg_roles WHERE rolname = 'maca_app'")
    )


async def pending_migrations(connection: asyncpg.Connection[Any], directory: Path = MIGRATIONS) -> list[Migration]:
    exists = await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    applied: set[int] = set()
    if exists:
        applied = {row["version"] for row in await connection.fetch("SELECT version FROM schema_migrations")}
    return [m for m in read_migrations(directory) if m.version not in applied]
