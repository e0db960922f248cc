"""A partnership's name and code, its settings (due period, reminder
schedule, retention period) and its choices per toolkit (offered or not,
merge policy, which of its own versions new audits take)."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

# What a partnership that has set nothing gets (migration 0012's defaults).
DEFAULT_REMINDER_DAYS_BEFORE: tuple[int, ...] = (7, 1)
DEFAULT_OVERDUE_REMINDER_DAYS = 7


class PartnershipRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    code: str
    name: str


class SettingsRow(msgspec.Struct, frozen=True, kw_only=True):
    """A partnership's settings; ``row_version`` 0 until any is saved."""

    partnership_id: UUID
    code: str
    name: str
    default_due_days: int | None
    reminder_days_before: tuple[int, ...]
    overdue_reminder_days: int
    retention_days: int | None
    row_version: int
    updated_at: datetime.datetime | None


class ToolkitChoiceRow(msgspec.Struct, frozen=True, kw_only=True):
    """What a partnership chose for one toolkit; ``row_version`` 0 when it
    has chosen nothing (offered, the definition's policy, the shipped
    version)."""

    toolkit_id: str
    offered: bool
    merge_policy: str | None
    local_version_id: UUID | None
    local_version: int | None
    row_version: int


async def get(connection: asyncpg.Connection[Any], partnership_id: UUID) -> PartnershipRow | None:
    row = await connection.fetchrow("SELECT id, code, name FROM partnerships WHERE id = $1", partnership_id)
    return None if row is None else msgspec.convert(dict(row), PartnershipRow)


async def by_code(connection: asyncpg.Connection[Any], code: str) -> PartnershipRow | None:
    row = await connection.fetchrow("SELECT id, code, name FROM partnerships WHERE code = $1", code)
    return None if row is None else msgspec.convert(dict(row), PartnershipRow)


async def settings(connection: asyncpg.Connection[Any], partnership_id: UUID) -> SettingsRow | None:
    """The partnership's settings (its defaults where it has set none)."""
    row = await connection.fetchrow(
        """
        SELECT p.id AS partnership_id, p.code, p.name, s.default_due_days,
               coalesce(s.reminder_days_before, $2::integer[]) AS reminder_days_before,
               coalesce(s.overdue_reminder_days, $3) AS overdue_reminder_days,
               s.retention_days, coalesce(s.row_version, 0) AS row_version, s.updated_at
          FROM partnerships p LEFT JOIN partnership_settings s ON s.partnership_id = p.id
         WHERE p.id = $1
        """,
        partnership_id,
        list(DEFAULT_REMINDER_DAYS_BEFORE),
        DEFAULT_OVERDUE_REMINDER_DAYS,
    )
    return None if row is None else msgspec.convert(dict(row), SettingsRow)


async def save_settings(
    connection: asyncpg.Connection[Any],
    partnership_id: UUID,
    row_version: int,
    *,
    default_due_days: int | None,
    reminder_days_before: tuple[int, ...],
    overdue_reminder_days: int,
    retention_days: int | None,
    user_id: UUID,
) -> bool:
    """Save the settings if nobody saved them since ``row_version`` (0: never)."""
    values = (default_due_days, list(reminder_days_before), overdue_reminder_days, retention_days, user_id)
    if row_version == 0:
        inserted = await connection.fetchval(
            """
            INSERT INTO partnership_settings (partnership_id, default_due_days, reminder_days_before,
                                              overdue_reminder_days, retention_days, updated_by)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (partnership_id) DO NOTHING RETURNING 1
            """,
            partnership_id,
            *values,
        )
        return inserted is not None
    changed = await connection.fetchval(
        """
        UPDATE partnership_settings
           SET default_due_days = $3, reminder_days_before = $4, overdue_reminder_days = $5, retention_days = $6,
               updated_by = $7, updated_at = now(), row_version = row_version + 1
         WHERE partnership_id = $1 AND row_version = $2
        RETURNING 1
        """,
        partnership_id,
        row_version,
        *values,
    )
    return changed is not None


async def rename(connection: asyncpg.Connection[Any], partnership_id: UUID, *, code: str, name: str) -> bool:
    """Give the partnership a code and name; False if another has the code."""
    # A savepoint, so the caller's transaction goes on after a taken code
    # (a request's transaction is opened by a statement, not by asyncpg).
    await connection.execute("SAVEPOINT rename_partnership")
    try:
        await connection.execute(
            "UPDATE partnerships SET code = $2, name = $3 WHERE id = $1", partnership_id, code, name
        )
    except asyncpg.UniqueViolationError:
        await connection.execute("ROLLBACK TO SAVEPOINT rename_partnership")
        return False
    await connection.execute("RELEASE SAVEPOINT rename_partnership")
    return True


async def toolkit_choices(connection: asyncpg.Connection[Any], partnership_id: UUID) -> list[ToolkitChoiceRow]:
    rows = await connection.fetch(
        """
        SELECT t.toolkit_id, t.offered, t.merge_policy, t.local_version_id, v.version AS local_version, t.row_version
          FROM partnership_toolkits t LEFT JOIN local_toolkit_versions v ON v.id = t.local_version_id
         WHERE t.partnership_id = $1
         ORDER BY t.toolkit_id
        """,
        partnership_id,
    )
    return [msgspec.convert(dict(row), ToolkitChoiceRow) for row in rows]


async def save_toolkit_choice(
    connection: asyncpg.Connection[Any],
    partnership_id: UUID,
    toolkit_id: str,
    row_version: int,
    *,
    offered: bool,
    merge_policy: str | None,
    local_version_id: UUID | None,
    user_id: UUID,
) -> bool:
    """Save what the partnership chose for a toolkit if nobody changed it
    since ``row_version`` (0: never chosen)."""
    if row_version == 0:
        inserted = await connection.fetchval(
            """
            INSERT INTO partnership_toolkits (partnership_id, toolkit_id, offered, merge_policy, local_version_id,
                                              updated_by)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (partnership_id, toolkit_id) DO NOTHING RETURNING 1
            """,
            partnership_id,
            toolkit_id,
            offered,
            merge_policy,
            local_version_id,
            user_id,
        )
        return inserted is not None
    changed = await connection.fetchval(
        """
        UPDATE partnership_toolkits
           SET offered = $4, merge_policy = $5, local_version_id = $6, updated_by = $7, updated_at = now(),
               row_version = row_version + 1
         WHERE partnership_id = $1 AND toolkit_id = $2 AND row_version = $3
        RETURNING 1
        """,
        partnership_id,
        toolkit_id,
        row_version,
        offered,
        merge_policy,
        local_version_id,
        user_id,
    )
    return changed is not None
