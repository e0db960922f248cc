"""What ``maca backup`` and ``maca restore`` ask of the database itself
(the dump and the restore are PostgreSQL's own pg_dump and pg_restore)."""

from __future__ import annotations

from typing import Any

import asyncpg


async def export_snapshot(connection: asyncpg.Connection[Any]) -> str:
    """The id of this transaction's snapshot, for ``pg_dump --snapshot``:
    the dump then sees exactly what this transaction sees."""
    snapshot: str = await connection.fetchval("SELECT pg_export_snapshot()")
    return snapshot


async def schema_version(connection: asyncpg.Connection[Any]) -> int | None:
    """The newest migration applied, or ``None`` before any."""
    if not await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
        return None
    version: int | None = await connection.fetchval("SELECT max(version) FROM schema_migrations")
    return version


async def relations_in_public(connection: asyncpg.Connection[Any]) -> int:
    """Tables, views and sequences in the ``public`` schema: none in an empty database."""
    count: int = await connection.fetchval(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
    )
    return count


async def ensure_app_role(connection: asyncpg.Connection[Any]) -> None:
    """The application's login role, as migration 0005 creates it: roles
    belong to the PostgreSQL server, not to a database, so a dump does not
    carry them, and the restored grants need it to exist. Also allowed to
    connect to this database (a database's own privileges are not in a dump
    either)."""
    await connection.execute(
        """
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'maca_app') THEN
                CREATE ROLE maca_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION;
            END IF;
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO maca_app', current_database());
        END
        $$
        """
    )
