"""The asyncpg connection pool and what every connection needs."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from server.settings import Settings


async def _init_connection(connection: asyncpg.Connection[Any]) -> None:
    # jsonb in and out as Python objects; msgspec does the heavy lifting
    # before and after, so the stdlib codec only sees plain structures.
    await connection.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await connection.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(settings: Settings, dsn: str) -> asyncpg.Pool[Any]:
    """A pool that opens connections on demand (``min_size=0``), so Maca
    starts and reports itself unready while the database is away, rather
    than failing to start."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=0,
        max_size=settings.db_pool_max,
        statement_cache_size=settings.db_statement_cache,
        command_timeout=settings.db_timeout_seconds * 6,
        timeout=settings.db_timeout_seconds,
        init=_init_connection,
        server_settings={"application_name": "maca"},
    )
    assert pool is not None
    return pool
