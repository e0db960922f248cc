"""Immediate concerns on the pages (issue 20): the partnership's open
concerns with their age, one concern with the question that raised it and
the forms to acknowledge and close it, and the block that heads the
coordinator's and reviewer's first page ("What needs you"). The rules are
:mod:`server.audits.concerns`; the same steps answer the API."""

from __future__ import annotations

import datetime
from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from server.audits import concerns as steps
from server.audits.checks import MAX_REASON
from server.audits.facts import audit_toolkit
from server.audits.notifications import KIND_WORDS, audit_reference
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.pages.rendering import (
    FormErrors,
    PageController,
    read_form,
    redirect_with_notice,
    render_page,
)
from server.platform.problems import Conflict, InvalidInput, PreconditionFailed
from server.platform.transactions import unit_of_work

__all__ = ["ConcernPages", "age_text", "route_handlers"]

CHANGED = "Someone else changed this concern since you opened it. Check it below and try again"


def age_text(since: datetime.datetime, now: datetime.datetime | None = None) -> str:
    """How long ago, in words: "3 hours", "2 days", "5 minutes"."""
    now = now or datetime.datetime.now(datetime.UTC)
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = hours // 24
    return f"{days} days"


def concern_items(found: list[Any]) -> list[dict[str, Any]]:
    now = datetime.datetime.now(datetime.UTC)
    return [
        {
            "id": c.id,
            "reference": audit_reference(c.audit_id),
            "audit_id": c.audit_id,
            "organisation_name": c.organisation_name,
            "kind_words": KIND_WORDS.get(c.kind, c.kind),
            "raised_at": c.raised_at,
            "age": age_text(c.raised_at, now),
            "acknowledged": c.acknowledged_at is not None,
            "acknowledged_by": c.acknowledged_by_name,
            "escalations": c.escalations,
        }
        for c in found
    ]


class ConcernPages(PageController):
    path = "/concerns"

    @get("/", cache=False, opt=needs(Permission.CONCERN_READ))
    async def concerns_list(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            found = await steps.list_open(connection, principal)
        return render_page(request, "web/concerns/list.html", title="Immediate concerns", concerns=concern_items(found))

    async def _page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: Principal,
        concern_id: UUID,
        *,
        errors: FormErrors | None = None,
        values: dict[str, str] | None = None,
    ) -> Response[Any]:
        registry = state.toolkits

        async def toolkit_of(connection: Any, audit: Any) -> Any:
            return await audit_toolkit(connection, registry, audit)

        async with unit_of_work(state, principal) as connection:
            read = await steps.read_concern(connection, principal, toolkit_of, concern_id)
        concern = read.concern
        return render_page(
            request,
            "web/concerns/concern.html",
            status_code=422 if errors else 200,
            errors=errors,
            title=f"Immediate concern on audit {audit_reference(concern.audit_id)}",
            concern=concern,
            kind_words=KIND_WORDS.get(concern.kind, concern.kind),
            question=read.question,
            section=read.section,
            age=age_text(concern.raised_at),
            values=values or {},
        )

    @get("/{concern_id:uuid}", cache=False, opt=needs(Permission.CONCERN_READ))
    async def concern(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        concern_id: FromPath[UUID],
    ) -> Response[Any]:
        return await self._page(request, state, principal, concern_id)

    @post("/{concern_id:uuid}/acknowledge", cache=False, opt=needs(Permission.CONCERN_HANDLE))
    async def acknowledge(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        concern_id: FromPath[UUID],
    ) -> Response[Any]:
        form = await read_form(request)
        errors = FormErrors()
        try:
            async with unit_of_work(state, principal) as connection:
                await steps.acknowledge(connection, principal, concern_id, seen_version=form.int_field("row_version"))
            return redirect_with_notice(f"/concerns/{concern_id}", "Concern acknowledged")
        except PreconditionFailed:
            errors.add("acknowledge", CHANGED)
        except Conflict as conflict:
            errors.add("acknowledge", (conflict.detail or "This cannot be done now").capitalize())
        return await self._page(request, state, principal, concern_id, errors=errors)

    @post("/{concern_id:uuid}/close", cache=False, opt=needs(Permission.CONCERN_HANDLE))
    async def close(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        concern_id: FromPath[UUID],
    ) -> Response[Any]:
        form = await read_form(request)
        action_taken = form.text("action_taken") or None
        outcome = form.text("outcome") or None
        errors = FormErrors()
        for problem in steps.close_problems(action_taken, outcome):
            field = "action-taken" if problem.field == "$.action_taken" else "outcome"
            what = "what was done" if field == "action-taken" else "the outcome"
            if "at most" in problem.message:
                errors.add(field, f"Say {what} in {MAX_REASON} characters or fewer")
            else:
                errors.add(field, f"Say {what}")
        if not errors:
            try:
                async with unit_of_work(state, principal) as connection:
                    await steps.close(
                        connection,
                        principal,
                        concern_id,
                        action_taken=action_taken,
                        outcome=outcome,
                        seen_version=form.int_field("row_version"),
                    )
                return redirect_with_notice(f"/concerns/{concern_id}", "Concern closed")
            except PreconditionFailed:
                errors.add("action-taken", CHANGED)
            except Conflict as conflict:
                errors.add("action-taken", (conflict.detail or "This cannot be done now").capitalize())
            except InvalidInput:
                errors.add("action-taken", "Say what was done and the outcome")
        values = {"action_taken": form.raw("action_taken") or "", "outcome": form.raw("outcome") or ""}
        return await self._page(request, state, principal, concern_id, errors=errors, values=values)


route_handlers: list[Any] = [ConcernPages]
