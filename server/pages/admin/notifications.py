"""``/admin/notifications``: the messages Maca could not deliver, with the
reason, for the partnership's administrator (a mail server refusing, an
address wrong, GOV.UK Notify's answer). Rules: :mod:`server.audits.notifications`."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency

from server.audits import notifications as steps
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.pages.rendering import PageController, render_page
from server.platform.transactions import unit_of_work

__all__ = ["NotificationPages", "route_handlers"]


class NotificationPages(PageController):
    path = "/admin/notifications"

    @get("/", cache=False, opt=needs(Permission.PARTNERSHIP_ADMINISTER))
    async def undelivered(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            found = await steps.undelivered(connection, principal)
        return render_page(request, "web/admin/notifications.html", title="Messages not delivered", messages=found)


route_handlers: list[Any] = [NotificationPages]
