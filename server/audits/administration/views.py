"""What the administration steps give back: the API's documents and the
pages' read models (``…View``), one definition each."""

from __future__ import annotations

import datetime
from uuid import UUID

import msgspec

from agencies.kinds import agency_kind as agency_kind_named
from server.db.machine_clients import MachineClientRow
from server.db.organisations import ContactRow, RegisteredRow

__all__ = [
    "ContactView",
    "MachineClientView",
    "RegisteredOrganisationView",
    "agency_kind_name",
    "client_view",
    "registered_view",
]


def agency_kind_name(code: str) -> str:
    """``childrens-social-care`` → "Children's social care"."""
    try:
        return agency_kind_named(code).name
    except LookupError:
        return code


class ContactView(msgspec.Struct, frozen=True, kw_only=True):
    name: str | None = None
    email: str


class RegisteredOrganisationView(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation as the register shows it to its administrator."""

    id: UUID
    code: str
    name: str
    agency_kind: str
    agency_kind_name: str
    active: bool
    # Recorded at a first sign-in, not yet confirmed by an administrator.
    needs_confirmation: bool
    safeguarding_lead: ContactView | None
    audit_contacts: list[str]
    # People and agencies' systems that have signed in for it.
    people: int
    row_version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


def registered_view(row: RegisteredRow, contacts: list[ContactRow]) -> RegisteredOrganisationView:
    lead = next((c for c in contacts if c.kind == "safeguarding-lead"), None)
    return RegisteredOrganisationView(
        id=row.id,
        code=row.code,
        name=row.name,
        agency_kind=row.agency_kind,
        agency_kind_name=agency_kind_name(row.agency_kind),
        active=row.active,
        needs_confirmation=row.needs_confirmation,
        safeguarding_lead=None if lead is None else ContactView(name=lead.name, email=lead.email),
        audit_contacts=[c.email for c in contacts if c.kind == "audit-contact"],
        people=row.people,
        row_version=row.row_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class MachineClientView(msgspec.Struct, frozen=True, kw_only=True):
    """An agency's system, registered to its organisation."""

    client_id: str
    organisation_id: UUID
    organisation_code: str
    organisation_name: str
    # Given when the identity provider gives the client no role.
    roles: list[str]
    description: str | None
    active: bool
    row_version: int
    updated_at: datetime.datetime


def client_view(row: MachineClientRow) -> MachineClientView:
    return MachineClientView(
        client_id=row.client_id,
        organisation_id=row.organisation_id,
        organisation_code=row.organisation_code,
        organisation_name=row.organisation_name,
        roles=sorted(row.roles),
        description=row.description,
        active=row.active,
        row_version=row.row_version,
        updated_at=row.updated_at,
    )
