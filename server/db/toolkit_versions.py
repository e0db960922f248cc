"""A partnership's own toolkit versions: each kept as uploaded (the YAML
text) and as checked (its definition, as JSON), never changed once stored
(``maca_app`` may not update or delete them, migration 0012)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class LocalVersionRow(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    partnership_id: UUID
    toolkit_id: str
    version: int
    title: str
    file_name: str
    uploaded_by: UUID | None
    uploaded_by_name: str | None
    uploaded_at: datetime.datetime
    # Whether the partnership's new audits take it now.
    active: bool
    # How many audits were created with it.
    audits: int


_VERSIONS = """
    SELECT v.id, v.partnership_id, v.toolkit_id, v.version, v.title, v.file_name, v.uploaded_by,
           u.display_name AS uploaded_by_name, v.uploaded_at,
           EXISTS (SELECT 1 FROM partnership_toolkits t WHERE t.local_version_id = v.id) AS active,
           (SELECT count(*) FROM audits a WHERE a.local_toolkit_version_id = v.id)::int AS audits
      FROM local_toolkit_versions v LEFT JOIN users u ON u.id = v.uploaded_by
"""


async def add(
    connection: asyncpg.Connection[Any],
    *,
    partnership_id: UUID,
    toolkit_id: str,
    version: int,
    title: str,
    file_name: str,
    source: str,
    definition_json: bytes,
    user_id: UUID,
) -> UUID | None:
    """Keep a checked version; None if the partnership has that version
    number of the toolkit already."""
    added: UUID | None = await connection.fetchval(
        """
        INSERT INTO local_toolkit_versions (partnership_id, toolkit_id, version, title, file_name, source,
                                            definition, uploaded_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8)
        ON CONFLICT (partnership_id, toolkit_id, version) DO NOTHING
        RETURNING id
        """,
        partnership_id,
        toolkit_id,
        version,
        title,
        file_name,
        source,
        definition_json.decode(),
        user_id,
    )
    return added


async def of_partnership(connection: asyncpg.Connection[Any], partnership_id: UUID) -> list[LocalVersionRow]:
    rows = await connection.fetch(
        f"{_VERSIONS} WHERE v.partnership_id = $1 ORDER BY v.toolkit_id, v.version",
        partnership_id,
    )
    return [msgspec.convert(dict(row), LocalVersionRow) for row in rows]


async def get(connection: asyncpg.Connection[Any], version_id: UUID) -> LocalVersionRow | None:
    row = await connection.fetchrow(f"{_VERSIONS} WHERE v.id = $1", version_id)
    return None if row is None else msgspec.convert(dict(row), LocalVersionRow)


async def definitions(connection: asyncpg.Connection[Any], version_ids: Sequence[UUID]) -> dict[UUID, str]:
    """The checked definitions (JSON text) of the versions, by id."""
    rows = await connection.fetch(
        "SELECT id, definition::text AS definition FROM local_toolkit_versions WHERE id = ANY($1::uuid[])",
        list(version_ids),
    )
    return {row["id"]: row["definition"] for row in rows}


async def source(connection: asyncpg.Connection[Any], version_id: UUID) -> tuple[str, str] | None:
    """(file name, the YAML text as uploaded)."""
    row = await connection.fetchrow("SELECT file_name, source FROM local_toolkit_versions WHERE id = $1", version_id)
    return None if row is None else (row["file_name"], row["source"])
