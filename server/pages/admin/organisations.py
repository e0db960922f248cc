"""The administrator's pages for the register of organisations and the
agencies' systems: the list (those recorded at a sign-in, waiting to be
confirmed, first), registering one, its page (contacts, status, its part
of the trail), changing it, confirming it, correcting its agency kind or
partnership with a reason, moving one recorded in the wrong partnership
here; and registering agencies' systems with their roles.

Every read and change is a step of ``server.audits.administration``, the
same the API calls; a change carries the version it was made from. A
change to who people are taken to be reaches this process's next request
at once (its kept principals are forgotten).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from server.audits.administration import clients, organisations
from server.audits.administration.clients import ASSIGNABLE_ROLES, ClientChanges, NewClient
from server.audits.administration.organisations import (
    Claim,
    ContactIn,
    Correction,
    NewOrganisation,
    OrganisationChanges,
)
from server.audits.administration.views import RegisteredOrganisationView
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.pages.admin.common import agency_kind_items, lines_of, trail_rows
from server.pages.rendering import (
    STALE_MESSAGE,
    Form,
    FormErrors,
    PageController,
    read_form,
    redirect_with_notice,
    render_page,
)
from server.platform.problems import Conflict, FieldError, InvalidInput, NotFound, PreconditionFailed
from server.platform.transactions import unit_of_work
from toolkits.text import isolated

__all__ = ["ClientPages", "OrganisationPages", "route_handlers"]

# The step's JSON paths → the inputs of the forms.
FIELD_IDS = {
    "$.code": "code",
    "$.name": "name",
    "$.agency_kind": "agency-kind",
    "$.safeguarding_lead": "lead-name",
    "$.safeguarding_lead.name": "lead-name",
    "$.safeguarding_lead.email": "lead-email",
    "$.audit_contacts": "audit-contacts",
    "$.partnership": "partnership",
    "$.reason": "reason",
    "$.client_id": "client-id",
    "$.organisation_id": "organisation",
    "$.roles": "roles",
    "$.description": "description",
}


def _errors(problems: list[FieldError], default: str) -> FormErrors:
    """The step's problems on the form: each at its input (an address of
    the audit contacts at their box), said as a sentence."""
    errors = FormErrors()
    for problem in problems:
        path = problem.field.split("[", 1)[0]
        message = problem.message[:1].upper() + problem.message[1:]
        if problem.field.startswith("$.audit_contacts["):
            index = int(problem.field.split("[", 1)[1].split("]", 1)[0])
            message = f"Audit contact {index + 1} {problem.message}"
        errors.add(FIELD_IDS.get(path, default), message)
    return errors


def _lead(form: Form) -> ContactIn | None:
    name, email = form.text("lead-name"), form.text("lead-email")
    return ContactIn(name=name or None, email=email) if name or email else None


def _forget_identities(state: State) -> None:
    state.identity_recorder.forget()


class OrganisationPages(PageController):
    path = "/admin/organisations"

    @get("/", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def register_list(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            found = await organisations.list_register(connection, principal)
        return render_page(
            request,
            "web/admin/organisations.html",
            title="Organisations",
            organisations=found,
            to_confirm=sum(1 for o in found if o.needs_confirmation),
        )

    # --- registering one ---

    def _form_page(
        self,
        request: Request[Any, Any, Any],
        *,
        organisation: RegisteredOrganisationView | None,
        values: dict[str, Any],
        errors: FormErrors | None = None,
    ) -> Response[Any]:
        kind = values.get("agency-kind") or (organisation.agency_kind if organisation else None)
        return render_page(
            request,
            "web/admin/organisation_form.html",
            status_code=422 if errors else 200,
            errors=errors,
            title="Register an organisation" if organisation is None else f"Change {isolated(organisation.name)}",
            organisation=organisation,
            values=values,
            kinds=agency_kind_items(kind),
        )

    @get("/new", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return self._form_page(request, organisation=None, values={"active": "yes"})

    @post("/new", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def register(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        form = await read_form(request)
        new = NewOrganisation(
            code=form.text("code"),
            name=form.text("name"),
            agency_kind=form.text("agency-kind"),
            safeguarding_lead=_lead(form),
            audit_contacts=lines_of(form.raw("audit-contacts")),
            active=form.text("active") != "no",
        )
        try:
            async with unit_of_work(state, principal) as connection:
                registered = await organisations.register_organisation(connection, principal, new)
        except InvalidInput as invalid:
            return self._form_page(
                request, organisation=None, values=form.values, errors=_errors(invalid.errors, "code")
            )
        except Conflict as taken:
            errors = FormErrors()
            errors.add("code", (taken.detail or "This code is recorded already").capitalize())
            return render_page(
                request,
                "web/admin/organisation_form.html",
                status_code=409,
                errors=errors,
                title="Register an organisation",
                organisation=None,
                values=form.values,
                kinds=agency_kind_items(new.agency_kind),
                claimable=new.code if "move it to your partnership with a reason" in (taken.detail or "") else None,
            )
        _forget_identities(state)
        return redirect_with_notice(f"/admin/organisations/{registered.id}", f"{registered.name} is registered")

    # --- one organisation ---

    @get("/{organisation_id:uuid}", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def organisation(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        organisation_id: FromPath[UUID],
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            found, entries = await organisations.read_with_trail(connection, principal, organisation_id)
        return render_page(
            request,
            "web/admin/organisation.html",
            title=found.name,
            organisation=found,
            trail=trail_rows(entries),
        )

    @get("/{organisation_id:uuid}/change", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def change_form(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        organisation_id: FromPath[UUID],
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            found = await organisations.read_registered(connection, principal, organisation_id)
        lead = found.safeguarding_lead
        values = {
            "name": found.name,
            "lead-name": lead.name if lead else "",
            "lead-email": lead.email if lead else "",
            "audit-contacts": "\n".join(found.audit_contacts),
            "active": "yes" if found.active else "no",
        }
        return self._form_page(request, organisation=found, values=values)

    @post("/{organisation_id:uuid}/change", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def change(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        organisation_id: FromPath[UUID],
    ) -> Response[Any]:
        form = await read_form(request)
        changes = OrganisationChanges(
            name=form.text("name"),
            safeguarding_lead=_lead(form),
            audit_contacts=lines_of(form.raw("audit-contacts")),
            active=form.text("active") != "no",
            reason=form.text("reason") or None,
        )
        try:
            async with unit_of_work(state, principal) as connection:
                changed = await organisations.change_organisation(
                    connection, principal, organisation_id, changes, seen_version=form.int_field("row_version")
                )
        except (InvalidInput, PreconditionFailed) as problem:
            async with unit_of_work(state, principal) as connection:
                found = await organisations.read_registered(connection, principal, organisation_id)
            errors = _errors(problem.errors, "name")
            if isinstance(problem, PreconditionFailed):
                errors.add("name", STALE_MESSAGE)
            return self._form_page(request, organisation=found, values=form.values, errors=errors)
        _forget_identities(state)
        return redirect_with_notice(f"/admin/organisations/{changed.id}", f"{changed.name} is changed")

    @post("/{organisation_id:uuid}/confirm", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        organisation_id: FromPath[UUID],
    ) -> Response[Any]:
        form = await read_form(request)
        async with unit_of_work(state, principal) as connection:
            confirmed = await organisations.confirm_organisation(
                connection, principal, organisation_id, seen_version=form.int_field("row_version")
            )
        return redirect_with_notice(f"/admin/organisations/{confirmed.id}", f"{confirmed.name} is confirmed")

    # --- correcting its agency kind or partnership ---

    def _correct_page(
        self,
        request: Request[Any, Any, Any],
        found: RegisteredOrganisationView,
        values: dict[str, Any],
        errors: FormErrors | None = None,
        status_code: int = 422,
    ) -> Response[Any]:
        return render_page(
            request,
            "web/admin/correct.html",
            status_code=status_code if errors else 200,
            errors=errors,
            title=f"Correct the record of {found.name}",
            organisation=found,
            values=values,
            kinds=agency_kind_items(values.get("agency-kind") or found.agency_kind),
        )

    @get("/{organisation_id:uuid}/correct", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def correct_form(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        organisation_id: FromPath[UUID],
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            found = await organisations.read_registered(connection, principal, organisation_id)
        return self._correct_page(
            request, found, {"agency-kind": found.agency_kind, "partnership": principal.partnership_code}
        )

    @post("/{organisation_id:uuid}/correct", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def correct(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        organisation_id: FromPath[UUID],
    ) -> Response[Any]:
        form = await read_form(request)
        correction = Correction(
            agency_kind=form.text("agency-kind"),
            partnership=form.text("partnership") or principal.partnership_code,
            reason=form.text("reason") or None,
        )
        try:
            async with unit_of_work(state, principal) as connection:
                corrected = await organisations.correct_organisation(
                    connection, principal, organisation_id, correction, seen_version=form.int_field("row_version")
                )
        except (InvalidInput, PreconditionFailed) as problem:
            async with unit_of_work(state, principal) as connection:
                found = await organisations.read_registered(connection, principal, organisation_id)
            errors = _errors(problem.errors, "agency-kind")
            if isinstance(problem, PreconditionFailed):
                errors.add("agency-kind", STALE_MESSAGE)
            return self._correct_page(request, found, form.values, errors)
        _forget_identities(state)
        if corrected.needs_confirmation and form.text("partnership") not in ("", principal.partnership_code):
            return redirect_with_notice(
                "/admin/organisations", f"{corrected.name} is now in the partnership {form.text('partnership')}"
            )
        return redirect_with_notice(
            f"/admin/organisations/{corrected.id}", f"The record of {corrected.name} is corrected"
        )

    # --- moving one recorded in the wrong partnership here ---

    @get("/claim", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def claim_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        code = (request.query_params.get("code") or "")[:100]
        return render_page(
            request, "web/admin/claim.html", title="Move an organisation to your partnership", values={"code": code}
        )

    @post("/claim", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def claim(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        form = await read_form(request)
        try:
            async with unit_of_work(state, principal) as connection:
                moved = await organisations.claim_organisation(
                    connection, principal, Claim(code=form.text("code"), reason=form.text("reason") or None)
                )
        except (InvalidInput, Conflict) as problem:
            errors = _errors(problem.errors, "code")
            if not problem.errors:
                errors.add("code", (problem.detail or "It cannot be moved").capitalize())
            return render_page(
                request,
                "web/admin/claim.html",
                status_code=problem.status,
                errors=errors,
                title="Move an organisation to your partnership",
                values=form.values,
            )
        _forget_identities(state)
        return redirect_with_notice(f"/admin/organisations/{moved.id}", f"{moved.name} is now in your partnership")


class ClientPages(PageController):
    path = "/admin/clients"

    async def _page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        *,
        values: dict[str, Any] | None = None,
        errors: FormErrors | None = None,
        status_code: int = 422,
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            read = await clients.read_clients(connection, principal)
        return render_page(
            request,
            "web/admin/clients.html",
            status_code=status_code if errors else 200,
            errors=errors,
            title="Agencies’ systems",
            clients=read.clients,
            organisations=[o for o in read.organisations if o.active],
            roles=ASSIGNABLE_ROLES,
            values=values or {},
        )

    @get("/", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def client_list(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        return await self._page(request, state, principal)

    @post("/", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def register(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        form = await read_form(request)
        errors = FormErrors()
        try:
            organisation_id = UUID(form.text("organisation"))
        except ValueError:
            errors.add("organisation", "Choose the organisation whose system it is")
            return await self._page(request, state, principal, values=form.values, errors=errors)
        new = NewClient(
            client_id=form.text("client-id"),
            organisation_id=organisation_id,
            roles=form.all("roles"),
            description=form.text("description") or None,
        )
        try:
            async with unit_of_work(state, principal) as connection:
                registered = await clients.register_client(connection, principal, new)
        except (InvalidInput, Conflict) as problem:
            errors = _errors(problem.errors, "client-id")
            if not problem.errors:
                errors.add("client-id", (problem.detail or "It is registered already").capitalize())
            return await self._page(
                request, state, principal, values=form.values, errors=errors, status_code=problem.status
            )
        _forget_identities(state)
        return redirect_with_notice("/admin/clients", f"{registered.client_id} is registered")

    @get("/{client_id:str}", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def client(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        client_id: FromPath[str],
    ) -> Response[Any]:
        return await self._client_page(request, state, principal, client_id)

    async def _client_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        client_id: str,
        *,
        values: dict[str, Any] | None = None,
        errors: FormErrors | None = None,
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            read = await clients.read_clients(connection, principal)
        client = next((c for c in read.clients if c.client_id == client_id), None)
        if client is None:
            raise NotFound("no agency's system of your partnership has this client id")
        return render_page(
            request,
            "web/admin/client.html",
            status_code=422 if errors else 200,
            errors=errors,
            title=f"Agency system {client.client_id}",
            client=client,
            organisations=[o for o in read.organisations if o.active or o.id == client.organisation_id],
            roles=ASSIGNABLE_ROLES,
            values=values
            or {
                "organisation": str(client.organisation_id),
                "roles": client.roles,
                "description": client.description or "",
                "active": "yes" if client.active else "no",
            },
        )

    @post("/{client_id:str}", cache=False, opt=needs(Permission.ORGANISATION_ADMINISTER))
    async def change(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        client_id: FromPath[str],
    ) -> Response[Any]:
        form = await read_form(request)
        errors = FormErrors()
        try:
            organisation_id = UUID(form.text("organisation"))
        except ValueError:
            errors.add("organisation", "Choose the organisation whose system it is")
            return await self._client_page(request, state, principal, client_id, values=form.values, errors=errors)
        changes = ClientChanges(
            organisation_id=organisation_id,
            roles=form.all("roles"),
            description=form.text("description") or None,
            active=form.text("active") != "no",
        )
        try:
            async with unit_of_work(state, principal) as connection:
                await clients.change_client(
                    connection, principal, client_id, changes, seen_version=form.int_field("row_version")
                )
        except (InvalidInput, PreconditionFailed) as problem:
            errors = _errors(problem.errors, "roles")
            if isinstance(problem, PreconditionFailed):
                errors.add("roles", STALE_MESSAGE)
            return await self._client_page(request, state, principal, client_id, values=form.values, errors=errors)
        _forget_identities(state)
        return redirect_with_notice("/admin/clients", f"{client_id} is changed")


route_handlers: list[Any] = [OrganisationPages, ClientPages]
