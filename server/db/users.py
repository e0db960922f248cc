"""People, and the organisations and partnerships they belong to, recorded
on first sight from their tokens (just in time): never a password, token or
secret, only what the identity provider says about them.

An organisation is found by its code (the organisation claim). On first
sight it is created with the token's agency kind and partnership; after that
its recorded kind and partnership stand, and a token that contradicts them
is refused rather than moving the organisation (an identity provider
misconfiguration must not quietly hand one agency's audits to another).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from server.auth.claims import ClaimsRejected, Identity
from server.auth.principal import ROLES, Principal, Role


class _Organisation:
    __slots__ = ("agency_kind", "code", "id", "name", "partnership_id")

    def __init__(self, row: asyncpg.Record) -> None:
        self.id: UUID = row["id"]
        self.code: str = row["code"]
        self.name: str = row["name"]
        self.agency_kind: str = row["agency_kind"]
        self.partnership_id: UUID = row["partnership_id"]


async def _partnership_id(connection: asyncpg.Connection[Any], code: str) -> UUID | None:
    found: UUID | None = await connection.fetchval("SELECT id FROM partnerships WHERE code = $1", code)
    return found


async def _record_partnership(connection: asyncpg.Connection[Any], code: str) -> UUID:
    found = await _partnership_id(connection, code)
    if found is not None:
        return found
    # The name is the code until someone gives it a better one.
    created: UUID | None = await connection.fetchval(
        "INSERT INTO partnerships (code, name) VALUES ($1, $1) ON CONFLICT (code) DO NOTHING RETURNING id", code
    )
    if created is not None:
        return created
    # Another request recorded it between our look and our insert.
    again = await _partnership_id(connection, code)
    assert again is not None
    return again


_ORGANISATION = "SELECT id, code, name, agency_kind, partnership_id FROM organisations WHERE code = $1"


async def _record_organisation(connection: asyncpg.Connection[Any], identity: Identity) -> _Organisation:
    row = await connection.fetchrow(_ORGANISATION, identity.organisation_code)
    if row is None:
        if identity.agency_kind is None or identity.partnership_code is None:
            raise ClaimsRejected(
                "the organisation is new to Maca and the token does not name its agency kind and partnership"
            )
        partnership_id = await _record_partnership(connection, identity.partnership_code)
        await connection.execute(
            "INSERT INTO organisations (partnership_id, code, name, agency_kind) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (code) DO NOTHING",
            partnership_id,
            identity.organisation_code,
            identity.organisation_name or identity.organisation_code,
            identity.agency_kind,
        )
        row = await connection.fetchrow(_ORGANISATION, identity.organisation_code)
        assert row is not None
    organisation = _Organisation(row)
    if identity.agency_kind is not None and identity.agency_kind != organisation.agency_kind:
        raise ClaimsRejected("the token's agency kind is not the one Maca has recorded for its organisation")
    if identity.partnership_code is not None:
        claimed = await _partnership_id(connection, identity.partnership_code)
        if claimed != organisation.partnership_id:
            raise ClaimsRejected("the token's partnership is not the one Maca has recorded for its organisation")
    return organisation


async def record(connection: asyncpg.Connection[Any], identity: Identity) -> Principal:
    """Record (or refresh) the bearer of a validated token and their
    organisation; the principal Maca's authorisation sees."""
    async with connection.transaction():
        organisation = await _record_organisation(connection, identity)
        user_id: UUID = await connection.fetchval(
            """
            INSERT INTO users (issuer, subject, organisation_id, display_name, roles)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (issuer, subject) DO UPDATE
               SET organisation_id = EXCLUDED.organisation_id,
                   display_name = EXCLUDED.display_name,
                   roles = EXCLUDED.roles,
                   last_seen_at = now()
            RETURNING id
            """,
            identity.issuer,
            identity.subject,
            organisation.id,
            identity.display_name,
            sorted(identity.roles),
        )
    return Principal(
        issuer=identity.issuer,
        subject=identity.subject,
        user_id=user_id,
        display_name=identity.display_name,
        organisation_id=organisation.id,
        organisation_code=organisation.code,
        organisation_name=organisation.name,
        agency_kind=organisation.agency_kind,
        partnership_id=organisation.partnership_id,
        roles=identity.roles,
        is_machine_client=identity.is_machine_client,
    )


def _roles(names: list[str]) -> frozenset[Role]:
    return frozenset(role for role in ROLES if role in names)


async def principal(connection: asyncpg.Connection[Any], user_id: UUID) -> Principal | None:
    """The recorded person ``user_id`` as a principal (for a browser session)."""
    row = await connection.fetchrow(
        """
        SELECT u.id, u.issuer, u.subject, u.display_name, u.roles,
               o.id AS organisation_id, o.code, o.name, o.agency_kind, o.partnership_id
          FROM users u JOIN organisations o ON o.id = u.organisation_id
         WHERE u.id = $1
        """,
        user_id,
    )
    return None if row is None else principal_from_row(row)


def principal_from_row(row: asyncpg.Record) -> Principal:
    return Principal(
        issuer=row["issuer"],
        subject=row["subject"],
        user_id=row["id"],
        display_name=row["display_name"],
        organisation_id=row["organisation_id"],
        organisation_code=row["code"],
        organisation_name=row["name"],
        agency_kind=row["agency_kind"],
        partnership_id=row["partnership_id"],
        roles=_roles(list(row["roles"])),
    )
