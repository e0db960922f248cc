"""Correcting an audit after it is created: the coordinator's case details,
who takes part, which agency referred it, its period and due date — the
same form as creating it, filled in with what the audit holds.

The API's ``PATCH /api/audits/{id}`` step (``server.audits.audits.change_audit``)
makes the change: the same preconditions (a coordinator, until the audit is
closed; a reason once an agency has started, and to remove an agency), the
same version check and the same event.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from server.audits import audits as steps
from server.audits.audits import AuditChanges, AuditRead
from server.audits.views import OrganisationView
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.pages import case_details as case_form
from server.pages.coordinator.audits import CHANGED_BY_SOMEONE_ELSE, read_new_audit
from server.pages.rendering import (
    FormErrors,
    PageController,
    read_form,
    redirect_with_notice,
    render_page,
)
from server.platform.problems import Conflict, InvalidInput, PreconditionFailed
from server.platform.transactions import unit_of_work

REASON_HINT: Final = (
    "Needed once an agency has started its part, and to remove an agency. "
    "The agencies and reviewers see it in the audit’s history."
)


def _date_values(name: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    return {f"{name}-day": str(value.day), f"{name}-month": str(value.month), f"{name}-year": str(value.year)}


def values_of(read: AuditRead) -> dict[str, Any]:
    """The form's values for the audit as it is."""
    audit = read.audit
    return {
        **case_form.form_values(read.toolkit, read.case_details),
        "participants": [str(p.organisation_id) for p in read.active],
        "referrer": str(audit.referring_organisation_id) if audit.referring_organisation_id else "none",
        **_date_values("period-start", audit.period_start),
        **_date_values("period-end", audit.period_end),
        **_date_values("due-date", audit.due_date),
    }


class AuditDetailsPages(PageController):
    path = "/audits/{audit_id:uuid}/details"

    async def _read(
        self, state: State, principal: Principal, audit_id: UUID
    ) -> tuple[AuditRead, list[OrganisationView]]:
        async with unit_of_work(state, principal, identity_with_first_statement=True) as connection:
            read = await steps.read_audit(connection, principal, state.toolkits, audit_id)
            organisations = await steps.partnership_organisations(connection, principal)
        if read.audit.status == "closed":
            raise Conflict("the audit is closed; reopen it to correct it", allowed=["open"])
        return read, organisations

    def _page(
        self,
        request: Request[Any, Any, Any],
        read: AuditRead,
        organisations: list[OrganisationView],
        values: dict[str, Any],
        errors: FormErrors,
        row_version: int,
        *,
        status_code: int | None = None,
    ) -> Response[Any]:
        return render_page(
            request,
            "web/coordinator/correct_audit.html",
            status_code=status_code or (422 if errors else 200),
            errors=errors,
            title="Correct the case details and who takes part",
            audit=read.audit,
            reference=read.reference,
            toolkit=read.toolkit,
            fields=case_form.fields(read.toolkit, values),
            organisations=organisations,
            values=values,
            row_version=row_version,
            reason_hint=REASON_HINT,
        )

    @get("/", cache=False, opt=needs(Permission.AUDIT_EDIT))
    async def correct_form(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        read, organisations = await self._read(state, principal, audit_id)
        return self._page(request, read, organisations, values_of(read), FormErrors(), read.audit.row_version)

    @post("/", cache=False, opt=needs(Permission.AUDIT_EDIT))
    async def correct(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        form = await read_form(request)
        read, organisations = await self._read(state, principal, audit_id)
        audit = read.audit
        values = {name: value for name, value in form.values.items() if name != "row_version"}
        seen = form.int_field("row_version")
        checked = read_new_audit(read.toolkit, form, organisations)
        errors = checked.errors
        if "due-date-day" in errors and checked.due_date == audit.due_date:
            # A due date already passed may stay as it is while other things change.
            errors = FormErrors({k: v for k, v in errors.messages.items() if k != "due-date-day"})
        reason = form.text("reason") or None
        if not errors:
            current = {str(p.organisation_id) for p in read.active}
            chosen = set(checked.participants)
            changes = AuditChanges(
                case_details=checked.case_details,
                period_start=checked.period_start,
                period_end=checked.period_end,
                due_date=checked.due_date,
                referring_organisation=checked.referrer,
                add_participants=[p for p in checked.participants if p not in current],
                remove_participants=sorted(current - chosen),
                reason=reason,
            )
            try:
                async with unit_of_work(state, principal) as connection:
                    await steps.change_audit(
                        connection, principal, state.toolkits, audit_id, changes, seen_version=seen
                    )
                return redirect_with_notice(f"/audits/{audit_id}", "The audit has been corrected")
            except PreconditionFailed:
                errors.add("main-content", CHANGED_BY_SOMEONE_ELSE)
                fresh, organisations = await self._read(state, principal, audit_id)
                return self._page(
                    request, fresh, organisations, values_of(fresh), errors, fresh.audit.row_version, status_code=409
                )
            except InvalidInput as invalid:
                paths = case_form.problem_paths(read.toolkit)
                for problem in invalid.errors:
                    if problem.field == "$.reason":
                        errors.add("reason", _reason_message(problem.message))
                    elif problem.field in paths:
                        errors.add(paths[problem.field], problem.message[:1].upper() + problem.message[1:])
                    elif problem.field.startswith(("$.add_participants", "$.remove_participants")):
                        errors.add("participants", "Select agencies of your partnership")
                    elif problem.field == "$.referring_organisation":
                        errors.add("referrer", "Select the agency that referred the case, or none")
                    else:
                        errors.add("main-content", problem.message[:1].upper() + problem.message[1:])
        return self._page(request, read, organisations, values, errors, seen if seen is not None else -1)


def _reason_message(message: str) -> str:
    if message.startswith("a reason is required"):
        return (
            "Enter why you are making this correction: it is needed once an agency has started, and to remove an agency"
        )
    return message[:1].upper() + message[1:]


route_handlers: list[Any] = [AuditDetailsPages]
