"""The organisations of the caller's partnership: the agencies a
coordinator invites to an audit, by code or id.

Organisations are recorded the first time one of their people signs in
(from the identity provider's claims), so this lists the agencies that
have used Maca at least once."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency

from server.audits.audits import list_organisations
from server.audits.views import OrganisationView
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import unit_of_work


class OrganisationController(Controller):
    path = "/api/organisations"
    tags = ("organisations",)

    @get("/", summary="The organisations of your partnership", opt=needs(Permission.ORGANISATION_READ))
    async def list_organisations(self, state: State, principal: NamedDependency[Principal]) -> list[OrganisationView]:
        async with unit_of_work(state, principal) as connection:
            return await list_organisations(connection, principal)


route_handlers: list[Any] = [OrganisationController]
