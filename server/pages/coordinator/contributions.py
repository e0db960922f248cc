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
from server.audits.views import audit_reference
from server.auth.permissions import Permission, may, needs
from server.auth.principal import Principal
from server.pages import case_details as case_form
from server.pages.common import status_tag
from server.pages.rendering import PageController, grade_label, render_page
from server.platform.problems import NotFound
from server.platform.transactions import unit_of_work
from server.reports.changes import contribution_changes


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
            reference=audit_reference(read.toolkit, read.audit),
            grade_text=lambda g: grade_label(read.toolkit.scale.grades, g),
            status_tag=status_tag,
            date_text=case_form.date_text,
            may_return=may(principal, Permission.CONTRIBUTION_RETURN)
            and read.participant.contribution_status == "submitted"
            and read.audit.status == "open",
        )

    @get("/changes", cache=False, opt=needs(Permission.PARTNERSHIP_OVERSEE))
    async def changes(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
    ) -> Response[Any]:
        """What changed between a version and the one before it (answers,
        comments, grades), in the toolkit's words."""
        wanted = request.query_params.get("version") or ""
        version = int(wanted) if wanted.isdigit() and len(wanted) < 7 else None
        if version is None or version < 2:
            raise NotFound("choose a version after the first to see what changed")
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_submitted(
                connection, principal, state.toolkits, audit_id, organisation_id, version=version
            )
        by_number = {v.version: v for v in read.versions}
        before, after = by_number.get(version - 1), by_number[version]
        if before is None:
            raise NotFound("no earlier version of this contribution")
        return render_page(
            request,
            "web/coordinator/changes.html",
            title=f"What changed in version {version}",
            read=read,
            before=before,
            after=after,
            changes=contribution_changes(read.toolkit, before.content, after.content),
            reference=audit_reference(read.toolkit, read.audit),
        )


route_handlers: list[Any] = [ContributionPages]
