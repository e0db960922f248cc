"""The action plan as pages: ``/actions`` is the partnership's plan for its
coordinators and reviewers and "Your actions" for an agency's auditors
(those their organisation is responsible for); ``/actions/{id}`` shows an
action with every progress update kept on it, and to those who may, a
form to record the next one. What each person sees and may do is
:mod:`server.audits.action_plan`'s, as ``/api/actions`` reads it."""

from __future__ import annotations

from typing import Annotated, Any, Final
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from server.audits import action_plan as steps
from server.audits.action_plan import STATUS_LABELS, STATUSES
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.pages import case_details as case_form
from server.pages.common import action_status_tag
from server.pages.rendering import FormErrors, PageController, read_form, redirect_with_notice, render_page
from server.platform.problems import InvalidInput, PreconditionFailed
from server.platform.transactions import unit_of_work

# Where a step's problem (``$.date_reviewed``) is shown on the form, and
# what a message about the field's value ("must be …") is about.
_FIELD_IDS: Final = {
    "$.status": ("status", "The status"),
    "$.date_reviewed": ("date-reviewed-day", "The date reviewed"),
    "$.comments": ("comments", "What was done"),
    "$.evidence": ("evidence", "The evidence"),
}


def _message(field: str, message: str) -> tuple[str, str]:
    field_id, subject = _FIELD_IDS.get(field, ("comments", "This"))
    if message.startswith(("must ", "is ")):
        return field_id, f"{subject} {message}"
    return field_id, message[:1].upper() + message[1:]


class ActionPlanPages(PageController):
    path = "/actions"

    @get("/", cache=False, opt=needs(Permission.ACTION_READ))
    async def plan(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        status: Annotated[str | None, QueryParameter()] = None,
        programme: Annotated[UUID | None, QueryParameter()] = None,
    ) -> Response[Any]:
        chosen = status if status in STATUSES else None
        async with unit_of_work(state, principal) as connection:
            plan = await steps.read_plan(connection, principal, state.toolkits, status=chosen, programme_id=programme)
        return render_page(
            request,
            "web/actions/plan.html",
            title="Your actions" if plan.only_own else "Action plan",
            plan=plan,
            programme=programme,
            status_tag=action_status_tag,
            date_text=case_form.date_text,
            status_items=[{"value": "", "text": "Any status", "selected": chosen is None}]
            + [{"value": s, "text": STATUS_LABELS[s], "selected": s == chosen} for s in STATUSES],
        )

    async def _action_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        action_id: UUID,
        *,
        errors: FormErrors | None = None,
        values: dict[str, Any] | None = None,
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_action(connection, principal, state.toolkits, action_id)
        stale = errors is not None and "row-version" in errors
        shown = values or {"status": read.planned.action.status}
        return render_page(
            request,
            "web/actions/action.html",
            status_code=(409 if stale else 422) if errors else 200,
            errors=errors,
            title="Remedial action",
            read=read,
            status_tag=action_status_tag,
            date_text=case_form.date_text,
            values=shown,
            status_items=[
                {"value": s, "text": STATUS_LABELS[s], "checked": shown.get("status") == s} for s in STATUSES
            ],
        )

    @get("/{action_id:uuid}", cache=False, opt=needs(Permission.ACTION_READ))
    async def action(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        action_id: FromPath[UUID],
    ) -> Response[Any]:
        return await self._action_page(request, state, principal, action_id)

    @post("/{action_id:uuid}", cache=False, opt=needs(Permission.ACTION_PROGRESS))
    async def record_progress(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        action_id: FromPath[UUID],
    ) -> Response[Any]:
        """``POST /api/actions/{id}/updates``, for a form."""
        form = await read_form(request)
        errors = FormErrors()
        reviewed, wrong = case_form.parse_date(form, "date-reviewed")
        if wrong:
            errors.add("date-reviewed-day", f"The date reviewed {wrong}")
        status = form.text("status")
        if not status:
            errors.add("status", "Select where the action has got to")
        if not errors:
            try:
                async with unit_of_work(state, principal) as connection:
                    await steps.record_progress(
                        connection,
                        principal,
                        action_id,
                        status=status,
                        date_reviewed=reviewed,
                        comments=form.text("comments"),
                        evidence=form.text("evidence") or None,
                        seen_version=form.int_field("row_version"),
                    )
            except InvalidInput as invalid:
                for problem in invalid.errors:
                    errors.add(*_message(problem.field, problem.message))
            except PreconditionFailed:
                errors.add("row-version", "Someone else recorded progress on this action since you opened it; check it")
            else:
                return redirect_with_notice(f"/actions/{action_id}", "Progress recorded")
        return await self._action_page(request, state, principal, action_id, errors=errors, values=form.values)


route_handlers: list[Any] = [ActionPlanPages]
