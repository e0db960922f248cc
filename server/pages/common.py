"""Pages every signed-in person shares — the home page that sends each
person to where their work starts — and the page helpers more than one
role's pages use (a role's pages never import another role's)."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, get
from litestar.di import NamedDependency

from server.auth.permissions import SIGNED_IN, needs
from server.auth.principal import Principal
from server.pages.rendering import PageController, redirect, start_page

__all__ = ["ACTION_STATUS_TAGS", "STATUS_TAGS", "HomePage", "action_status_tag", "route_handlers", "status_tag"]

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


route_handlers: list[Any] = [HomePage]
