"""Learning as pages: ``/learning`` is the dashboard's learning view (the
partnership's themes with their counts; for those who oversee the
partnership, the passages behind a count and a search across them);
``/audits/{id}/learning`` is where a reviewer tags an audit's passages
with the themes. The rules are :mod:`server.audits.learning`'s."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from server.audits import learning as steps
from server.audits.learning import KIND_LABELS
from server.auth.permissions import Permission, may, needs
from server.auth.principal import Principal
from server.pages.rendering import PageController, read_form, redirect_with_notice, render_page
from server.platform.transactions import unit_of_work


class LearningPages(PageController):
    path = "/"

    @get("/learning", cache=False, opt=needs(Permission.REPORT_READ))
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        theme: Annotated[UUID | None, QueryParameter()] = None,
        q: Annotated[str | None, QueryParameter()] = None,
        programme: Annotated[UUID | None, QueryParameter()] = None,
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_dashboard(
                connection, principal, state.toolkits, programme_id=programme, theme_id=theme, search=q
            )
        chosen = next((c for c in read.counts if c.theme_id == theme), None)
        return render_page(
            request,
            "web/learning/dashboard.html",
            title="Learning",
            read=read,
            chosen=chosen,
            kind_labels=KIND_LABELS,
            programme=programme,
        )

    @get("/audits/{audit_id:uuid}/learning", cache=False, opt=needs(Permission.PARTNERSHIP_OVERSEE))
    async def audit_learning(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            read = await steps.read_audit_learning(connection, principal, state.toolkits, audit_id)
        return render_page(
            request,
            "web/learning/audit.html",
            title="Learning from this audit",
            read=read,
            kind_labels=KIND_LABELS,
            names={t.id: t.name for t in read.themes},
            active=[t for t in read.themes if t.active],
            may_tag=may(principal, Permission.LEARNING_TAG),
        )

    @post("/audits/{audit_id:uuid}/learning", cache=False, opt=needs(Permission.LEARNING_TAG))
    async def tag(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        """``PUT /api/audits/{id}/learning/tags``, for a form (one passage's themes)."""
        form = await read_form(request)
        organisation = form.text("organisation")
        themes = []
        for value in form.all("themes"):
            try:
                themes.append(UUID(value))
            except ValueError:
                continue
        async with unit_of_work(state, principal) as connection:
            await steps.tag_passage(
                connection,
                principal,
                state.toolkits,
                audit_id,
                organisation_id=UUID(organisation) if organisation else None,
                question_id=form.text("question"),
                theme_ids=themes,
            )
        return redirect_with_notice(f"/audits/{audit_id}/learning", "Themes saved")


route_handlers: list[Any] = [LearningPages]
