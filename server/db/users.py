"""People, and the organisations and partnerships they belong to, as their
tokens make them known: never a password, token or secret, only what the
identity provider says about them and what an administrator recorded.

An organisation is found by its code (the organisation claim). One an
administrator registered supplies its own agency kind and partnership; one
nobody registered is recorded at its people's first sign-in and flagged
for an administrator to confirm. Whether a token may be accepted for an
organisation is decided by the authentication layer
(``server/auth/recording.py``); this module only reads and writes rows.

``maca_app`` may write a person, organisation or partnership at a sign-in
only as the server's seal of what it writes says (migration 0011,
``maca.recording``): each write below seals exactly its own row first, so
an injected statement cannot give anyone another role or organisation, and
a browser session's principal is read from here.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from server.db.identity import declare_recording


class OrganisationRow(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation as signing in needs it: who it is, where it belongs."""

    id: UUID
    code: str
    name: str
    agency_kind: str
    active: bool
    partnership_id: UUID
    partnership_code: str
    partnership_name: str


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
    partnership_code: str = ""
    partnership_name: str = ""


_ORGANISATION = """
    SELECT o.id, o.code, o.name, o.agency_kind, o.active, o.partnership_id,
           p.code AS partnership_code, p.name AS partnership_name
      FROM organisations o JOIN partnerships p ON p.id = o.partnership_id
"""


def _organisation(row: asyncpg.Record | None) -> OrganisationRow | None:
    return None if row is None else msgspec.convert(dict(row), OrganisationRow)


async def organisation_by_code(connection: asyncpg.Connection[Any], code: str) -> OrganisationRow | None:
    return _organisation(await connection.fetchrow(f"{_ORGANISATION} WHERE o.code = $1", code))


async def organisation_by_id(connection: asyncpg.Connection[Any], organisation_id: UUID) -> OrganisationRow | None:
    return _organisation(await connection.fetchrow(f"{_ORGANISATION} WHERE o.id = $1", organisation_id))


async def partnership_id(connection: asyncpg.Connection[Any], code: str) -> UUID | None:
    found: UUID | None = await connection.fetchval("SELECT id FROM partnerships WHERE code = $1", code)
    return found


async def record_partnership(connection: asyncpg.Connection[Any], code: str) -> UUID:
    """The partnership with ``code``, recorded if new (named by its code
    until an administrator gives it a name)."""
    found = await partnership_id(connection, code)
    if found is not None:
        return found
    await declare_recording(connection, {"partnership": code})
    created: UUID | None = await connection.fetchval(
        "INSERT INTO partnerships (code, name) VALUES ($1, $1) ON CONFLICT (code) DO NOTHING RETURNING id", code
    )
    if created is not None:
        return created
    # Another request recorded it between our look and our insert.
    again = await partnership_id(connection, code)
    assert again is not None
    return again


async def record_organisation(
    connection: asyncpg.Connection[Any],
    *,
    partnership_id: UUID,
    partnership_code: str,
    code: str,
    name: str,
    agency_kind: str,
) -> OrganisationRow:
    """Record an organisation first seen in a token, flagged for an
    administrator to confirm; if another request recorded it meanwhile,
    that one. ``partnership_code`` is ``partnership_id``'s (the database
    checks the row against the sealed code)."""
    await declare_recording(
        connection,
        {"organisation": code, "organisation_name": name, "agency_kind": agency_kind, "partnership": partnership_code},
    )
    await connection.execute(
        "INSERT INTO organisations (partnership_id, code, name, agency_kind, needs_confirmation) "
        "VALUES ($1, $2, $3, $4, true) ON CONFLICT (code) DO NOTHING",
        partnership_id,
        code,
        name,
        agency_kind,
    )
    recorded = await organisation_by_code(connection, code)
    assert recorded is not None
    return recorded


async def record_user(
    connection: asyncpg.Connection[Any],
    *,
    issuer: str,
    subject: str,
    organisation_id: UUID,
    organisation_code: str,
    display_name: str | None,
    roles: tuple[str, ...],
    email: str | None = None,
) -> UUID:
    """Record (or refresh) the bearer of a validated token; Maca's id for
    them. ``organisation_code`` is ``organisation_id``'s (the database
    checks the row against the sealed code)."""
    await declare_recording(
        connection,
        {
            "issuer": issuer,
            "subject": subject,
            "organisation": organisation_code,
            "name": display_name,
            "roles": sorted(roles),
            "email": email,
        },
    )
    user_id: UUID = await connection.fetchval(
        """
        INSERT INTO users (issuer, subject, organisation_id, display_name, roles, email)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (issuer, subject) DO UPDATE
           SET organisation_id = EXCLUDED.organisation_id,
               display_name = EXCLUDED.display_name,
               roles = EXCLUDED.roles,
               email = EXCLUDED.email,
               last_seen_at = now()
        RETURNING id
        """,
        issuer,
        subject,
        organisation_id,
        display_name,
        sorted(roles),
        email,
    )
    return user_id


def user_from_row(row: asyncpg.Record) -> UserRow:
    """A person as :func:`server.db.sessions.find` selects them (``u.*``,
    their organisation's columns and their partnership's code and name)."""
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
        partnership_code=row["partnership_code"],
        partnership_name=row["partnership_name"],
    )
