"""``/account/mail``: whether a person gets the mail that can wait
(reminders, audits distributed, returned, closed). Immediate concerns
always go, whatever they choose."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency

from server.audits import notifications as steps
from server.auth.permissions import SIGNED_IN, needs
from server.auth.principal import Principal
from server.pages.rendering import PageController, read_form, redirect_with_notice, render_page
from server.platform.transactions import unit_of_work

__all__ = ["MailPreferencePage", "route_handlers"]


class MailPreferencePage(PageController):
    path = "/account/mail"

    @get("/", cache=False, opt=needs(SIGNED_IN))
    async def preference(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        async with unit_of_work(state, principal) as connection:
            wanted, address = await steps.mail_preference(connection, principal)
        return render_page(request, "web/mail_preference.html", title="Your mail", wanted=wanted, address=address)

    @post("/", cache=False, opt=needs(SIGNED_IN))
    async def change(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[Any]:
        form = await read_form(request)
        wanted = form.text("non_urgent_mail") != "no"
        async with unit_of_work(state, principal) as connection:
            await steps.set_mail_preference(connection, principal, wanted)
        return redirect_with_notice(
            "/account/mail", "You will get every message" if wanted else "You will get only immediate concerns"
        )


route_handlers: list[Any] = [MailPreferencePage]
