"""Pages every signed-in person shares — the home page that sends each
person to where their work starts — and the page helpers more than one
role's pages use (a role's pages never import another role's)."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Redirect

from server.auth.permissions import PUBLIC, SIGNED_IN, needs
from server.auth.principal import Principal
from server.pages.rendering import PageController, redirect, render_page, start_page

__all__ = [
    "ACTION_STATUS_TAGS",
    "SERVICE_PAGES",
    "STATUS_TAGS",
    "HomePage",
    "ServicePages",
    "action_status_tag",
    "route_handlers",
    "status_tag",
]

# What each status is called on the pages, and the colour of its tag (the
# words carry the meaning; the colour only helps).
STATUS_TAGS: Final[dict[str, tuple[str, str]]] = {
    "draft": ("Draft", "govuk-tag--grey"),
    "open": ("Open", "govuk-tag--blue"),
    "in-review": ("In review", "govuk-tag--yellow"),
    "closed": ("Closed", "govuk-tag--green"),
    "not-started": ("Not started", "govuk-tag--grey"),
    "in-progress": ("In progress", "govuk-tag--light-blue"),
    "submitted": ("Submitted", "govuk-tag--green"),
    "returned": ("Returned", "govuk-tag--orange"),
}


def status_tag(status: str) -> dict[str, str]:
    """An audit's or a contribution's status as a ``govukTag``."""
    text, colour = STATUS_TAGS.get(status, (status, "govuk-tag--grey"))
    return {"text": text, "classes": colour}


# A remedial action's status (server.audits.action_plan.STATUSES).
ACTION_STATUS_TAGS: Final[dict[str, tuple[str, str]]] = {
    "open": ("Not started", "govuk-tag--grey"),
    "in-progress": ("In progress", "govuk-tag--blue"),
    "completed": ("Completed", "govuk-tag--green"),
    "not-taken-forward": ("Not taken forward", "govuk-tag--yellow"),
}


def action_status_tag(status: str) -> dict[str, str]:
    """A remedial action's status as a ``govukTag``."""
    text, colour = ACTION_STATUS_TAGS.get(status, (status, "govuk-tag--grey"))
    return {"text": text, "classes": colour}


class HomePage(PageController):
    path = "/"

    @get("/", cache=False, opt=needs(SIGNED_IN))
    async def home(self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]) -> Response[Any]:
        """Coordinators and reviewers start at the audits, auditors at their
        own audits (a signed-out visitor is sent to sign in first)."""
        return redirect(start_page(principal))


# The pages a public-sector service publishes for everyone, signed in or
# not (the footer links to them): (path, title, template).
SERVICE_PAGES: Final[tuple[tuple[str, str, str], ...]] = (
    ("/accessibility", "Accessibility statement for Maca", "web/common/accessibility.html"),
    ("/privacy", "Privacy notice", "web/common/privacy.html"),
    ("/cookies", "Cookies", "web/common/cookies.html"),
    ("/feedback", "Give feedback on Maca", "web/common/feedback.html"),
)


class ServicePages(PageController):
    """The accessibility statement, privacy notice, cookies and feedback pages."""

    path = "/"

    @get(["/accessibility", "/privacy", "/cookies", "/feedback"], cache=False, opt=needs(PUBLIC))
    async def service_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        _path, title, template = next(page for page in SERVICE_PAGES if page[0] == request.url.path)
        return render_page(request, template, title=title)

    @get("/favicon.ico", cache=86400, opt=needs(PUBLIC))
    async def favicon(self) -> Response[Any]:
        """Browsers ask for /favicon.ico on every page: Maca's icon."""
        return Redirect("/static/maca/favicon.svg", status_code=301)


route_handlers: list[Any] = [HomePage, ServicePages]
