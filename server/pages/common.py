"""Pages every signed-in person shares: the home page that sends each person
to where their work starts."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from server.auth.permissions import SIGNED_IN, needs
from server.auth.principal import Principal
from server.pages.rendering import PageController, redirect, start_page


class HomePage(PageController):
    path = "/"

    @get("/", cache=False, opt=needs(SIGNED_IN))
    async def home(self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Response[Any]:
        """Coordinators and reviewers start at the audits, auditors at their
        own audits (a signed-out visitor is sent to sign in first)."""
        return redirect(start_page(principal))


route_handlers: list[Any] = [HomePage]
