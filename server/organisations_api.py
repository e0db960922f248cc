"""The organisations of the caller's partnership: the agencies a
coordinator invites to an audit, by code or id.

Organisations are recorded the first time one of their people signs in
(from the identity provider's claims), so this lists the agencies that
have used Maca at least once."""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from server.auth.principal import Principal
from server.concurrency import provide_principal, unit_of_work
from server.db import audits, events
from server.db.audits import Organisation


class OrganisationController(Controller):
    path = "/api/organisations"
    tags = ("organisations",)
    dependencies = {"principal": Provide(provide_principal)}  # noqa: RUF012 - Litestar's declaration style

    @get("/", summary="The organisations of your partnership")
    async def list_organisations(self, state: State, principal: NamedDependency[Principal]) -> list[Organisation]:
        async with unit_of_work(state, principal) as connection:
            found = await audits.organisations_of_partnership(connection, principal.partnership_id)
            await events.record(connection, principal, "organisations.listed", detail={"count": len(found)})
        return found
