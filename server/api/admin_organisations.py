"""The partnership's register of organisations and agencies' systems over
HTTP, for its administrator: register, change, confirm and correct
organisations; register and change agencies' systems (OAuth clients).

Each handler parses the request, calls one step of
``server.audits.administration`` and shapes the answer (the record's
version as its ``ETag``; ``If-Match`` on every change). A change to who a
token's bearer is taken to be is seen at once by this process's next
token (its kept principals are forgotten) and by other processes' within
their few minutes (``server/auth/recording.py``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from server.api.preconditions import IDEMPOTENCY_KEY, IF_MATCH, preconditions
from server.audits.administration import clients, organisations, partnership
from server.audits.administration.clients import ClientChanges, NewClient
from server.audits.administration.organisations import Claim, Correction, NewOrganisation, OrganisationChanges
from server.audits.administration.partnership import TrailEntryView
from server.audits.administration.views import MachineClientView, RegisteredOrganisationView
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import etag, expected_version, idempotent, json_response, unit_of_work

__all__ = ["AdminClientController", "AdminOrganisationController", "route_handlers"]

MAX_BIGINT = 2**63 - 1


def _answer(view: RegisteredOrganisationView, status: int = 200) -> Response[RegisteredOrganisationView]:
    headers = {"ETag": etag(view.row_version)}
    if status == 201:
        headers["Location"] = f"/api/admin/organisations/{view.id}"
    return json_response(view, status=status, headers=headers)


def _identities_changed(state: State) -> None:
    """Tokens are judged against the new record from the next request on."""
    state.identity_recorder.forget()


class AdminOrganisationController(Controller):
    path = "/api/admin/organisations"
    tags = ("administration",)

    @get("/", summary="The partnership's register of organisations", opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def list_register(
        self, state: State, principal: NamedDependency[Principal]
    ) -> list[RegisteredOrganisationView]:
        async with unit_of_work(state, principal) as connection:
            return await organisations.list_register(connection, principal)

    @post(
        "/",
        summary="Register an organisation, before anyone from it signs in",
        status_code=201,
        opt=needs(Permission.ORGANISATION_ADMINISTER) | preconditions(IDEMPOTENCY_KEY),
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        data: JSONBody[NewOrganisation],
    ) -> Response[RegisteredOrganisationView]:
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[RegisteredOrganisationView]:
                return _answer(await organisations.register_organisation(connection, principal, data), 201)

            answer = await idempotent(request, connection, principal, write)
        _identities_changed(state)
        return answer

    @post(
        "/claims",
        summary="Move an organisation recorded in another partnership at a sign-in, and never confirmed there, "
        "to yours (with a reason)",
        status_code=200,
        opt=needs(Permission.ORGANISATION_ADMINISTER),
    )
    async def claim(
        self, state: State, principal: NamedDependency[Principal], data: JSONBody[Claim]
    ) -> Response[RegisteredOrganisationView]:
        async with unit_of_work(state, principal) as connection:
            view = await organisations.claim_organisation(connection, principal, data)
        _identities_changed(state)
        return _answer(view)

    @get(
        "/{organisation_id:uuid}",
        summary="One organisation of the register, with its contacts",
        opt=needs(Permission.ORGANISATION_ADMINISTER),
    )
    async def read(
        self, state: State, principal: NamedDependency[Principal], organisation_id: FromPath[UUID]
    ) -> Response[RegisteredOrganisationView]:
        async with unit_of_work(state, principal) as connection:
            return _answer(await organisations.read_registered(connection, principal, organisation_id))

    @patch(
        "/{organisation_id:uuid}",
        summary="Change an organisation's name, contacts, or whether it is active",
        opt=needs(Permission.ORGANISATION_ADMINISTER) | preconditions(IF_MATCH),
    )
    async def change(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        organisation_id: FromPath[UUID],
        data: JSONBody[OrganisationChanges],
    ) -> Response[RegisteredOrganisationView]:
        seen = expected_version(request)
        async with unit_of_work(state, principal) as connection:
            view = await organisations.change_organisation(
                connection, principal, organisation_id, data, seen_version=seen
            )
        _identities_changed(state)
        return _answer(view)

    @post(
        "/{organisation_id:uuid}/confirm",
        summary="Confirm an organisation first recorded at a sign-in",
        status_code=200,
        opt=needs(Permission.ORGANISATION_ADMINISTER) | preconditions(IF_MATCH),
    )
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        organisation_id: FromPath[UUID],
    ) -> Response[RegisteredOrganisationView]:
        seen = expected_version(request)
        async with unit_of_work(state, principal) as connection:
            return _answer(
                await organisations.confirm_organisation(connection, principal, organisation_id, seen_version=seen)
            )

    @post(
        "/{organisation_id:uuid}/corrections",
        summary="Correct an organisation's recorded agency kind or partnership, with a reason",
        status_code=200,
        opt=needs(Permission.ORGANISATION_ADMINISTER) | preconditions(IF_MATCH),
    )
    async def correct(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        organisation_id: FromPath[UUID],
        data: JSONBody[Correction],
    ) -> Response[RegisteredOrganisationView]:
        seen = expected_version(request)
        async with unit_of_work(state, principal) as connection:
            view = await organisations.correct_organisation(
                connection, principal, organisation_id, data, seen_version=seen
            )
        _identities_changed(state)
        return _answer(view)

    @get(
        "/{organisation_id:uuid}/events",
        summary="The administration trail of one organisation, newest first",
        opt=needs(Permission.ORGANISATION_ADMINISTER),
    )
    async def events(
        self,
        state: State,
        principal: NamedDependency[Principal],
        organisation_id: FromPath[UUID],
        before: int | None = Parameter(default=None, ge=1, le=MAX_BIGINT, description="events older than this id"),
        limit: int = Parameter(default=50, ge=1, le=200),
    ) -> list[TrailEntryView]:
        async with unit_of_work(state, principal) as connection:
            return await partnership.read_trail(
                connection, principal, organisation_id=organisation_id, before=before, limit=limit
            )


class AdminClientController(Controller):
    path = "/api/admin/clients"
    tags = ("administration",)

    @get(
        "/",
        summary="Agencies' systems registered to the partnership's organisations",
        opt=needs(Permission.ORGANISATION_ADMINISTER),
    )
    async def list_clients(self, state: State, principal: NamedDependency[Principal]) -> list[MachineClientView]:
        async with unit_of_work(state, principal) as connection:
            return await clients.list_clients(connection, principal)

    @post(
        "/",
        summary="Register an agency's system (an OAuth client) to its organisation",
        status_code=201,
        opt=needs(Permission.ORGANISATION_ADMINISTER) | preconditions(IDEMPOTENCY_KEY),
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        data: JSONBody[NewClient],
    ) -> Response[MachineClientView]:
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[MachineClientView]:
                view = await clients.register_client(connection, principal, data)
                return json_response(view, status=201, headers={"ETag": etag(view.row_version)})

            answer = await idempotent(request, connection, principal, write)
        _identities_changed(state)
        return answer

    @patch(
        "/{client_id:str}",
        summary="Change an agency's system: its organisation, roles, description, or stop it",
        opt=needs(Permission.ORGANISATION_ADMINISTER) | preconditions(IF_MATCH),
    )
    async def change(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        client_id: FromPath[str],
        data: JSONBody[ClientChanges],
    ) -> Response[MachineClientView]:
        seen = expected_version(request)
        async with unit_of_work(state, principal) as connection:
            view = await clients.change_client(connection, principal, client_id, data, seen_version=seen)
        _identities_changed(state)
        return json_response(view, headers={"ETag": etag(view.row_version)})


route_handlers: list[Any] = [AdminOrganisationController, AdminClientController]
