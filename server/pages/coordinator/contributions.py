"""An agency's submitted contribution, as the partnership reads it: the
coordinator before returning it or closing the audit, a reviewer before
agreeing a grade. Every submitted and amended version is listed and can be
opened; a draft never is (``server.audits.contributions.read_submitted``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from server.audits import contributions as steps
from server.audits.facts import case_details_of
from server.audits.views import case_reference
from server.auth.permissions import Permission, may, needs
from server.auth.principal import Principal
from server.pages import case_details as case_form
from server.pages.common import status_tag
from server.pages.rendering import PageController, grade_label, render_page
from server.platform.transactions import unit_of_work


class ContributionPages(PageController):
    path = "/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}"

    @get("/", cache=False, opt=needs(Permission.PARTNERSHIP_OVERSEE))
    async def submitted_contribution(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
    ) -> Response[Any]:
        wanted = request.query_params.get("version") or ""
        version = int(wanted) if wanted.isdigit() and len(wanted) < 7 else None
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_submitted(
                connection, principal, state.toolkits, audit_id, organisation_id, version=version
            )
        return render_page(
            request,
            "web/coordinator/contribution.html",
            title=f"{read.participant.organisation_name}’s contribution",
            read=read,
            reference=case_reference(read.toolkit, case_details_of(read.audit)) or "Audit",
            grade_text=lambda g: grade_label(read.toolkit.scale.grades, g),
            status_tag=status_tag,
            date_text=case_form.date_text,
            may_return=may(principal, Permission.CONTRIBUTION_RETURN)
            and read.participant.contribution_status == "submitted"
            and read.audit.status == "open",
        )


route_handlers: list[Any] = [ContributionPages]
