"""What the commands share: one-line failures, the database to work on (the
configured one, or an embedded one for the duration), and migrating it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from server.db import embedded
from server.db.migrate import AppTimeouts, migrate
from server.settings import Settings


class CommandError(Exception):
    """A failure to report in one line."""


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured database, or an embedded one for the duration."""
    if settings.database_url is not None:
        yield settings.database_url
        return
    server = embedded.start(settings.data_path)
    try:
        yield server.url()
    finally:
        server.stop()


async def _migrate(
    url: str, settings: Settings, app_password: str | None = None, identity_key: bytes | None = None
) -> list[str]:
    # The statement cache setting applies here too: through PgBouncer in
    # transaction mode a cached prepared statement may meet a server
    # connection that already has one of the same name.
    connection = await asyncpg.connect(url, statement_cache_size=settings.db_statement_cache)
    try:
        applied = await migrate(
            connection, app_password=app_password, app_timeouts=AppTimeouts.of(settings), identity_key=identity_key
        )
        return [f"{m.version:04d}_{m.name}" for m in applied]
    finally:
        await connection.close()


def run_migrations(settings: Settings, url: str) -> None:
    from server.db.identity import key_from_configuration
    from server.db.pool import app_password

    key = key_from_configuration(settings.db_identity_key) if settings.db_identity_key else None
    applied = asyncio.run(_migrate(url, settings, app_password(settings, url), key))
    print(f"migrations applied: {', '.join(applied)}" if applied else "database schema is up to date")
