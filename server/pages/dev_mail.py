"""``/dev-mail``: what Maca sent, as the development SMTP catcher caught it
(``server/platform/dev_mail.py``; ``make run`` starts it). Development
only: anywhere else the page does not exist (404)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State

from server.auth.permissions import PUBLIC, needs
from server.pages.rendering import PageController, render_page
from server.platform.dev_mail import caught_messages
from server.platform.problems import NotFound

__all__ = ["DevMailPage", "route_handlers"]


class DevMailPage(PageController):
    path = "/dev-mail"

    @get("/", cache=False, opt=needs(PUBLIC))
    async def dev_mail(self, request: Request[Any, Any, Any], state: State) -> Response[Any]:
        settings = state.settings
        if settings.env != "development":
            raise NotFound("no such page")
        messages = list(reversed(caught_messages(settings.data_path / "dev-mail")))
        return render_page(request, "web/dev_mail.html", title="Mail Maca sent (development)", messages=messages)


route_handlers: list[Any] = [DevMailPage]
