"""Agencies' systems (OAuth clients that sign in with client credentials),
registered by an administrator to their organisation, with the roles Maca
gives them when the identity provider gives none."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class RegistrationRow(msgspec.Struct, frozen=True, kw_only=True):
    """What signing a client's token in needs of its registration."""

    organisation_id: UUID
    roles: tuple[str, ...]
    active: bool


class MachineClientRow(msgspec.Struct, frozen=True, kw_only=True):
    client_id: str
    organisation_id: UUID
    organisation_code: str
    organisation_name: str
    roles: tuple[str, ...]
    description: str | None
    active: bool
    row_version: int
    updated_at: datetime.datetime


async def registration(connection: asyncpg.Connection[Any], client_id: str) -> RegistrationRow | None:
    """The client's registration, read before anyone is known (through
    ``maca_machine_client``, migration 0012: no transaction carries an
    identity while a token is being checked)."""
    row = await connection.fetchrow("SELECT organisation_id, roles, active FROM maca_machine_client($1)", client_id)
    if row is None:
        return None
    return RegistrationRow(organisation_id=row["organisation_id"], roles=tuple(row["roles"]), active=row["active"])


_CLIENT = """
    SELECT m.client_id, m.organisation_id, o.code AS organisation_code, o.name AS organisation_name, m.roles,
           m.description, m.active, m.row_version, m.updated_at
      FROM machine_clients m JOIN organisations o ON o.id = m.organisation_id
"""


def _client(row: asyncpg.Record | None) -> MachineClientRow | None:
    return None if row is None else msgspec.convert(dict(row), MachineClientRow)


async def of_partnership(connection: asyncpg.Connection[Any], partnership_id: UUID) -> list[MachineClientRow]:
    rows = await connection.fetch(
        f"{_CLIENT} WHERE o.partnership_id = $1 ORDER BY o.name, m.client_id",
        partnership_id,
    )
    return [msgspec.convert(dict(row), MachineClientRow) for row in rows]


async def get(connection: asyncpg.Connection[Any], client_id: str) -> MachineClientRow | None:
    return _client(await connection.fetchrow(f"{_CLIENT} WHERE m.client_id = $1", client_id))


async def exists(connection: asyncpg.Connection[Any], client_id: str) -> bool:
    """Whether any partnership has registered ``client_id`` (client ids are
    the provider's, unique across Maca)."""
    return await registration(connection, client_id) is not None


async def register(
    connection: asyncpg.Connection[Any],
    *,
    client_id: str,
    organisation_id: UUID,
    roles: tuple[str, ...],
    description: str | None,
    user_id: UUID,
) -> MachineClientRow | None:
    """Register a client; None if its id is registered already."""
    inserted = await connection.fetchval(
        """
        INSERT INTO machine_clients (client_id, organisation_id, roles, description, updated_by)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id) DO NOTHING RETURNING client_id
        """,
        client_id,
        organisation_id,
        list(roles),
        description,
        user_id,
    )
    return None if inserted is None else await get(connection, client_id)


async def update(
    connection: asyncpg.Connection[Any],
    client_id: str,
    row_version: int,
    *,
    organisation_id: UUID,
    roles: tuple[str, ...],
    description: str | None,
    active: bool,
    user_id: UUID,
) -> MachineClientRow | None:
    """Change a registration if nobody changed it since ``row_version``."""
    changed = await connection.fetchval(
        """
        UPDATE machine_clients
           SET organisation_id = $3, roles = $4, description = $5, active = $6, updated_by = $7,
               updated_at = now(), row_version = row_version + 1
         WHERE client_id = $1 AND row_version = $2
        RETURNING client_id
        """,
        client_id,
        row_version,
        organisation_id,
        list(roles),
        description,
        active,
        user_id,
    )
    return None if changed is None else await get(connection, client_id)
