"""People, and the organisations and partnerships they belong to, recorded
on first sight from their tokens (just in time): never a password, token or
secret, only what the identity provider says about them.

An organisation is found by its code (the organisation claim). On first
sight it is created with the token's agency kind and partnership; after that
its recorded kind and partnership stand, and a token that contradicts them
is refused rather than moving the organisation (an identity provider
misconfiguration must not quietly hand one agency's audits to another).

Plain values in (what a validated token said), a :class:`UserRow` out; the
authentication layer (``server/auth/recording.py``) makes the principal.

``maca_app`` may write a person, organisation or partnership only as the
server's seal of the token's claims says (migration 0011, ``maca.recording``):
an injected statement cannot give anyone another role or organisation, and a
browser session's principal is read from here.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from server.db.identity import declare_recording


class IdentityConflict(Exception):
    """What a token says contradicts what Maca has recorded (or is not
    enough to record someone new). The message names no claim's value."""


class Claimed(msgspec.Struct, frozen=True, kw_only=True):
    """Who a validated token says its bearer is, as plain values."""

    issuer: str
    subject: str
    organisation_code: str
    organisation_name: str | None
    agency_kind: str | None
    partnership_code: str | None
    display_name: str | None
    roles: tuple[str, ...]


class UserRow(msgspec.Struct, frozen=True, kw_only=True):
    """A recorded person and their organisation."""

    user_id: UUID
    issuer: str
    subject: str
    display_name: str | None
    roles: tuple[str, ...]
    organisation_id: UUID
    organisation_code: str
    organisation_name: str
    agency_kind: str
    partnership_id: UUID


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


async def _record_organisation(connection: asyncpg.Connection[Any], identity: Claimed) -> _Organisation:
    row = await connection.fetchrow(_ORGANISATION, identity.organisation_code)
    if row is None:
        if identity.agency_kind is None or identity.partnership_code is None:
            raise IdentityConflict(
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
        raise IdentityConflict("the token's agency kind is not the one Maca has recorded for its organisation")
    if identity.partnership_code is not None:
        claimed = await _partnership_id(connection, identity.partnership_code)
        if claimed != organisation.partnership_id:
            raise IdentityConflict("the token's partnership is not the one Maca has recorded for its organisation")
    return organisation


async def record(connection: asyncpg.Connection[Any], identity: Claimed) -> UserRow:
    """Record (or refresh) the bearer of a validated token and their
    organisation; :class:`IdentityConflict` when the token contradicts what
    is recorded."""
    async with connection.transaction():
        await declare_recording(connection, _recording_claims(identity))
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
    return UserRow(
        user_id=user_id,
        issuer=identity.issuer,
        subject=identity.subject,
        display_name=identity.display_name,
        roles=identity.roles,
        organisation_id=organisation.id,
        organisation_code=organisation.code,
        organisation_name=organisation.name,
        agency_kind=organisation.agency_kind,
        partnership_id=organisation.partnership_id,
    )


def _recording_claims(identity: Claimed) -> dict[str, Any]:
    """What the database lets this transaction write (migration 0011's
    policies compare every written row with it)."""
    return {
        "issuer": identity.issuer,
        "subject": identity.subject,
        "organisation": identity.organisation_code,
        "organisation_name": identity.organisation_name,
        "agency_kind": identity.agency_kind,
        "partnership": identity.partnership_code,
        "name": identity.display_name,
        "roles": sorted(identity.roles),
    }


def user_from_row(row: asyncpg.Record) -> UserRow:
    """A person as :func:`server.db.sessions.find` selects them (``u.*``
    and their organisation's columns)."""
    return UserRow(
        user_id=row["id"],
        issuer=row["issuer"],
        subject=row["subject"],
        display_name=row["display_name"],
        roles=tuple(row["roles"]),
        organisation_id=row["organisation_id"],
        organisation_code=row["code"],
        organisation_name=row["name"],
        agency_kind=row["agency_kind"],
        partnership_id=row["partnership_id"],
    )
