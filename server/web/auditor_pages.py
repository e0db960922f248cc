"""The agency auditor's pages: their organisation's audits, and its
contribution to one audit — a task list of the sections that apply to the
agency, a page per section, check your answers, submit, amend.

Every page calls the same domain code as the contributions API
(``server/contributions_api.py``): the same checks, the same row-level
security, the same events.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency

from server.audits_api import audit_overdue, case_details_of
from server.auth.principal import Principal
from server.concurrency import unit_of_work
from server.db import audits, contributions, events
from server.web.rendering import PageController, render_page
from toolkits.answers import CaseDetails
from toolkits.model import Toolkit
from toolkits.registry import Registry, UnknownToolkit

# The case details that name a case best, in order (the seeds' own ids).
CASE_REFERENCE_IDS = ("case-identifier", "case-id", "cf-ecins-id", "child-initials", "child-name")

STATUS_TEXT = {
    "not-started": "Not started",
    "in-progress": "In progress",
    "submitted": "Submitted",
    "returned": "Returned to you",
}


def case_reference(toolkit: Toolkit | None, details: CaseDetails) -> str:
    """A short name for the case, from its case details."""
    for question_id in CASE_REFERENCE_IDS:
        answer = details.answers.get(question_id)
        if answer is not None and isinstance(answer.value, str) and answer.value.strip():
            return answer.value.strip()
    return ""


class YourAuditsPages(PageController):
    path = "/your-audits"

    @get("/", cache=False)
    async def your_audits(
        self, request: Request[Any, Any, Any], state: State, principal: NamedDependency[Principal]
    ) -> Response[str]:
        registry: Registry = state.toolkits
        rows: list[dict[str, Any]] = []
        async with unit_of_work(state, principal) as connection:
            found, total = await audits.list_audits(
                connection,
                partnership_id=principal.partnership_id,
                organisation_id=principal.organisation_id,
                status=None,
                toolkit_id=None,
                due_before=None,
                overdue_on=None,
                limit=100,
                offset=0,
            )
            for summary in found:
                audit = await audits.get(connection, summary.id)
                own = await contributions.get(connection, summary.id, principal.organisation_id)
                if audit is None:
                    continue
                try:
                    toolkit: Toolkit | None = registry.get(audit.toolkit_id, audit.toolkit_version)
                except UnknownToolkit:
                    toolkit = None
                rows.append(
                    {
                        "id": audit.id,
                        "title": toolkit.title if toolkit else audit.toolkit_id,
                        "case": case_reference(toolkit, case_details_of(audit)),
                        "audit_status": audit.status,
                        "due_date": audit.due_date,
                        "overdue": audit_overdue(audit),
                        "status": own.status if own else "not-started",
                    }
                )
            await events.record(connection, principal, "audits.listed", detail={"count": len(found), "total": total})
        return render_page(
            request,
            "web/auditor/your_audits.html",
            title="Your audits",
            audits=rows,
            total=total,
            status_text=STATUS_TEXT,
        )


route_handlers: list[Any] = [YourAuditsPages]
