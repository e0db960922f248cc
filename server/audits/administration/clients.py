"""Agencies' systems: OAuth clients that call Maca's API with
client-credentials tokens, registered by the administrator to their
organisation. A registered client's tokens may leave out the organisation
(the registration names it), and where the identity provider gives the
client no role, the registration's roles are its roles
(``server/auth/recording.py``)."""

from __future__ import annotations

import re
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec

from server.audits import events
from server.audits.administration.views import MachineClientView, client_view
from server.audits.checks import check_seen_version, invalid
from server.audits.events import EventName
from server.auth.permissions import ROLE_PERMISSIONS, Permission, require
from server.auth.principal import ROLES, Principal
from server.db import machine_clients, organisations
from server.platform.problems import Conflict, NotFound, PreconditionFailed
from toolkits.validation import FieldProblem

__all__ = [
    "ASSIGNABLE_ROLES",
    "ClientChanges",
    "ClientsView",
    "NewClient",
    "change_client",
    "client_problems",
    "list_clients",
    "read_clients",
    "register_client",
]

# The client id the provider puts in client_id, azp or appid.
_CLIENT_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$")
_ADMINISTERING: Final = frozenset(
    {Permission.ORGANISATION_ADMINISTER, Permission.PARTNERSHIP_ADMINISTER, Permission.TOOLKIT_ADMINISTER}
)
# An agency's system contributes, coordinates or reviews; administering the
# partnership stays with people.
ASSIGNABLE_ROLES: Final = tuple(role for role in ROLES if not ROLE_PERMISSIONS[role] & _ADMINISTERING)
MAX_DESCRIPTION: Final = 200


class NewClient(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    client_id: str
    organisation_id: UUID
    roles: list[str] = msgspec.field(default_factory=list)
    description: str | None = None


class ClientChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: UUID | msgspec.UnsetType = msgspec.UNSET
    roles: list[str] | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


def client_problems(client_id: str | None, roles: list[str] | None, description: str | None) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if client_id is not None and not _CLIENT_ID.match(client_id):
        problems.append(
            FieldProblem(
                field="$.client_id",
                message="is the client id the identity provider gives (letters, digits, . _ : @ -)",
            )
        )
    for i, role in enumerate(roles or []):
        if role not in ASSIGNABLE_ROLES:
            problems.append(FieldProblem(field=f"$.roles[{i}]", message=f"one of: {', '.join(ASSIGNABLE_ROLES)}"))
    if description is not None and len(description) > MAX_DESCRIPTION:
        problems.append(FieldProblem(field="$.description", message=f"is longer than {MAX_DESCRIPTION} characters"))
    return problems


async def _organisation_of_partnership(
    connection: asyncpg.Connection[Any], principal: Principal, organisation_id: UUID
) -> None:
    found = await organisations.get(connection, organisation_id)
    if found is None or found.partnership_id != principal.partnership_id:
        raise invalid(
            [FieldProblem(field="$.organisation_id", message="no organisation of your partnership has this id")]
        )


async def list_clients(connection: asyncpg.Connection[Any], principal: Principal) -> list[MachineClientView]:
    require(principal, Permission.ORGANISATION_ADMINISTER)
    return [client_view(row) for row in await machine_clients.of_partnership(connection, principal.partnership_id)]


class ClientsView(msgspec.Struct, frozen=True, kw_only=True):
    """The agencies' systems, and the organisations one may be registered to."""

    clients: list[MachineClientView]
    organisations: list[OrganisationChoice]


class OrganisationChoice(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    code: str
    name: str
    active: bool


async def read_clients(connection: asyncpg.Connection[Any], principal: Principal) -> ClientsView:
    """What the agencies' systems page shows: the systems, and the
    partnership's organisations to register one to."""
    require(principal, Permission.ORGANISATION_ADMINISTER)
    registered = await organisations.of_partnership(connection, principal.partnership_id)
    return ClientsView(
        clients=await list_clients(connection, principal),
        organisations=[OrganisationChoice(id=o.id, code=o.code, name=o.name, active=o.active) for o in registered],
    )


async def register_client(
    connection: asyncpg.Connection[Any], principal: Principal, new: NewClient
) -> MachineClientView:
    """Register an agency's system to one of the partnership's organisations."""
    require(principal, Permission.ORGANISATION_ADMINISTER)
    problems = client_problems(new.client_id, new.roles, new.description)
    if problems:
        raise invalid(problems)
    await _organisation_of_partnership(connection, principal, new.organisation_id)
    roles = tuple(sorted(set(new.roles)))
    if await machine_clients.exists(connection, new.client_id):
        raise Conflict(f"the client '{new.client_id}' is registered already")
    row = await machine_clients.register(
        connection,
        client_id=new.client_id,
        organisation_id=new.organisation_id,
        roles=roles,
        description=(new.description or "").strip() or None,
        user_id=principal.user_id,
    )
    if row is None:
        raise Conflict(f"the client '{new.client_id}' is registered already")
    await events.record(
        connection,
        principal,
        EventName.MACHINE_CLIENT_REGISTERED,
        target_organisation_id=new.organisation_id,
        detail={"partnership_ids": [str(principal.partnership_id)], "client_id": new.client_id, "roles": list(roles)},
    )
    return client_view(row)


async def change_client(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    client_id: str,
    changes: ClientChanges,
    *,
    seen_version: int | None,
) -> MachineClientView:
    """Change a client's organisation, roles or description, or stop it
    (an inactive client's tokens are refused)."""
    require(principal, Permission.ORGANISATION_ADMINISTER)
    current = await machine_clients.get(connection, client_id)
    owner = None if current is None else await organisations.get(connection, current.organisation_id)
    if current is None or owner is None or owner.partnership_id != principal.partnership_id:
        raise NotFound("no agency's system of your partnership has this client id")
    check_seen_version(seen_version, current.row_version, resource="the agency's system", read_at="/api/admin/clients")
    roles = None if isinstance(changes.roles, msgspec.UnsetType) else changes.roles
    description = None if isinstance(changes.description, msgspec.UnsetType) else changes.description
    problems = client_problems(None, roles, description)
    if problems:
        raise invalid(problems)
    organisation_id = (
        current.organisation_id if isinstance(changes.organisation_id, msgspec.UnsetType) else changes.organisation_id
    )
    if organisation_id != current.organisation_id:
        await _organisation_of_partnership(connection, principal, organisation_id)
    new_roles = current.roles if roles is None else tuple(sorted(set(roles)))
    new_description = (
        current.description
        if isinstance(changes.description, msgspec.UnsetType)
        else (description or "").strip() or None
    )
    active = current.active if isinstance(changes.active, msgspec.UnsetType) else changes.active
    row = await machine_clients.update(
        connection,
        client_id,
        current.row_version,
        organisation_id=organisation_id,
        roles=new_roles,
        description=new_description,
        active=active,
        user_id=principal.user_id,
    )
    if row is None:
        raise PreconditionFailed("someone changed this client since you read it; read it again")
    changed = [
        name
        for name, before, after in (
            ("organisation", current.organisation_id, organisation_id),
            ("roles", current.roles, new_roles),
            ("description", current.description, new_description),
            ("active", current.active, active),
        )
        if before != after
    ]
    if changed:
        await events.record(
            connection,
            principal,
            EventName.MACHINE_CLIENT_CHANGED,
            target_organisation_id=organisation_id,
            detail={
                "partnership_ids": [str(principal.partnership_id)],
                "client_id": client_id,
                "changed": changed,
                "roles": list(new_roles),
                "active": active,
            },
        )
    return client_view(row)
