"""The partnership's themes version (migration 0009): bumped in every
transaction that changes what the dashboard shows, read before a dashboard
is served from a process's cache (``server/reports/themes_cache.py``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg


async def bump(connection: asyncpg.Connection[Any], partnership_id: UUID) -> None:
    """Say, in the caller's transaction, that the partnership's themes have
    changed: dashboards kept under an older version are not served again.

    The row is locked until the transaction ends; refreshes of one
    partnership already wait for each other on the counted rows they share."""
    await connection.execute(
        """
        INSERT INTO theme_versions (partnership_id, version) VALUES ($1, nextval('theme_version_numbers'))
        ON CONFLICT (partnership_id) DO UPDATE SET version = excluded.version
        """,
        partnership_id,
    )


async def current(connection: asyncpg.Connection[Any], partnership_id: UUID) -> int:
    """The partnership's themes version (0 before anything was counted)."""
    found = await connection.fetchval("SELECT version FROM theme_versions WHERE partnership_id = $1", partnership_id)
    return int(found or 0)


async def bump_for_audit(connection: asyncpg.Connection[Any], audit_id: UUID) -> None:
    """:func:`bump` for the partnership of ``audit_id``."""
    partnership_id = await connection.fetchval("SELECT partnership_id FROM audits WHERE id = $1", audit_id)
    if partnership_id is not None:
        await bump(connection, partnership_id)
