"""The partnership's register of organisations, as its administrator keeps
it: each organisation's code, name, agency kind, whether it is active and
whether an administrator has confirmed it, and its contacts (the named
safeguarding lead and the audit contacts' e-mail addresses).

(Signing in reads and records organisations through ``server/db/users.py``.)
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec

ContactKind = Literal["safeguarding-lead", "audit-contact"]


class ContactRow(msgspec.Struct, frozen=True, kw_only=True):
    kind: ContactKind
    name: str | None
    email: str


class RegisteredRow(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation as the register shows it."""

    id: UUID
    partnership_id: UUID
    code: str
    name: str
    agency_kind: str
    active: bool
    needs_confirmation: bool
    row_version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    # How many people and agencies' systems have signed in for it.
    people: int


_REGISTER = """
    SELECT o.id, o.partnership_id, o.code, o.name, o.agency_kind, o.active, o.needs_confirmation, o.row_version,
           o.created_at, o.updated_at,
           (SELECT count(*) FROM users u WHERE u.organisation_id = o.id)::int AS people
      FROM organisations o
"""


def _row(row: asyncpg.Record | None) -> RegisteredRow | None:
    return None if row is None else msgspec.convert(dict(row), RegisteredRow)


async def of_partnership(connection: asyncpg.Connection[Any], partnership_id: UUID) -> list[RegisteredRow]:
    """The partnership's organisations, those waiting for confirmation first."""
    rows = await connection.fetch(
        f"{_REGISTER} WHERE o.partnership_id = $1 ORDER BY o.needs_confirmation DESC, o.name, o.code",
        partnership_id,
    )
    return [msgspec.convert(dict(row), RegisteredRow) for row in rows]


async def get(
    connection: asyncpg.Connection[Any], organisation_id: UUID, *, for_update: bool = False
) -> RegisteredRow | None:
    lock = " FOR UPDATE OF o" if for_update else ""
    return _row(await connection.fetchrow(f"{_REGISTER} WHERE o.id = $1{lock}", organisation_id))


async def by_code(connection: asyncpg.Connection[Any], code: str) -> RegisteredRow | None:
    """The organisation with ``code`` in any partnership (codes are unique
    across Maca: they are what tokens name)."""
    return _row(await connection.fetchrow(f"{_REGISTER} WHERE o.code = $1", code))


async def register(
    connection: asyncpg.Connection[Any],
    *,
    partnership_id: UUID,
    code: str,
    name: str,
    agency_kind: str,
    active: bool,
    user_id: UUID,
) -> UUID | None:
    """Register an organisation (confirmed: an administrator vouches for
    it); None if its code is recorded already."""
    created: UUID | None = await connection.fetchval(
        """
        INSERT INTO organisations (partnership_id, code, name, agency_kind, active, needs_confirmation, updated_by)
        VALUES ($1, $2, $3, $4, $5, false, $6)
        ON CONFLICT (code) DO NOTHING
        RETURNING id
        """,
        partnership_id,
        code,
        name,
        agency_kind,
        active,
        user_id,
    )
    return created


async def update(
    connection: asyncpg.Connection[Any],
    organisation_id: UUID,
    row_version: int,
    *,
    partnership_id: UUID,
    name: str,
    agency_kind: str,
    active: bool,
    needs_confirmation: bool,
    user_id: UUID,
) -> bool:
    """Write the organisation's record if nobody changed it since ``row_version``."""
    changed = await connection.fetchval(
        """
        UPDATE organisations
           SET partnership_id = $3, name = $4, agency_kind = $5, active = $6, needs_confirmation = $7,
               updated_by = $8, updated_at = now(), row_version = row_version + 1
         WHERE id = $1 AND row_version = $2
        RETURNING 1
        """,
        organisation_id,
        row_version,
        partnership_id,
        name,
        agency_kind,
        active,
        needs_confirmation,
        user_id,
    )
    return changed is not None


async def contacts(connection: asyncpg.Connection[Any], organisation_id: UUID) -> list[ContactRow]:
    """The organisation's contacts: its safeguarding lead first, then its
    audit contacts in the order given."""
    found = await contacts_of(connection, [organisation_id])
    return found[organisation_id]


async def contacts_of(
    connection: asyncpg.Connection[Any], organisation_ids: Sequence[UUID]
) -> dict[UUID, list[ContactRow]]:
    """The contacts of each organisation, in one statement."""
    rows = await connection.fetch(
        """
        SELECT organisation_id, kind, name, email FROM organisation_contacts
         WHERE organisation_id = ANY($1::uuid[])
         ORDER BY organisation_id, kind DESC, position, email
        """,
        list(organisation_ids),
    )
    found: dict[UUID, list[ContactRow]] = {organisation_id: [] for organisation_id in organisation_ids}
    for row in rows:
        found[row["organisation_id"]].append(ContactRow(kind=row["kind"], name=row["name"], email=row["email"]))
    return found


async def replace_contacts(
    connection: asyncpg.Connection[Any], organisation_id: UUID, contacts: Sequence[ContactRow]
) -> None:
    """The organisation's contacts become ``contacts``."""
    await connection.execute("DELETE FROM organisation_contacts WHERE organisation_id = $1", organisation_id)
    if contacts:
        await connection.executemany(
            "INSERT INTO organisation_contacts (organisation_id, kind, name, email, position) "
            "VALUES ($1, $2, $3, $4, $5)",
            [(organisation_id, c.kind, c.name, c.email, i) for i, c in enumerate(contacts)],
        )
