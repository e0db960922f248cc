"""An audit's history, for everyone who may read the audit: who did what,
and when, in words (``server.audits.history``). Coordinators and reviewers
see the whole of it; an agency's auditor what its organisation is entitled
to (row-level security decides, migration 0018)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from server.audits.history import read_history
from server.auth.permissions import Permission, is_partnership_staff, needs
from server.auth.principal import Principal
from server.pages.rendering import PageController, render_page
from server.platform.transactions import unit_of_work


class HistoryPages(PageController):
    path = "/audits/{audit_id:uuid}/history"

    @get("/", cache=False, opt=needs(Permission.AUDIT_READ))
    async def history(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            read = await read_history(connection, principal, state.toolkits, audit_id)
        staff = is_partnership_staff(principal)
        return render_page(
            request,
            "web/common/history.html",
            title="History of the audit",
            read=read,
            staff=staff,
            back=f"/audits/{audit_id}" if staff else f"/your-audits/{audit_id}",
        )


route_handlers: list[Any] = [HistoryPages]
