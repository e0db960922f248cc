"""The combined audit report over HTTP, as an HTML page and as a PDF made
from the same template (WeasyPrint).

Who may have it (see :mod:`server.reports.report` for what each sees):
coordinators and reviewers of the partnership, at any stage (a report of an
audit in progress says it is provisional); an agency's auditor only once the
audit is closed and its organisation takes part (403 before then, 404 for
an audit it is not in). Every report produced is recorded as an event.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Controller, MediaType, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.static_files import create_static_files_router

from server.audits import events
from server.audits.events import EventName
from server.audits.judgement import judgement_of, partnership_result
from server.audits.workflow import audit_toolkit, is_partnership_staff, visible_audit
from server.auth.principal import Principal
from server.db import actions, audits
from server.db import exports as stored
from server.platform.problems import Forbidden
from server.platform.transactions import unit_of_work
from server.reports.report import CombinedReport, PartnershipGrade, combined_report

if TYPE_CHECKING:
    from weasyprint.document import Document

SERVER = Path(__file__).resolve().parent.parent
TEMPLATES = SERVER / "templates"
STATIC = SERVER / "static" / "report"
STYLESHEET = STATIC / "report.css"
STYLESHEET_URL = "/static/report/report.css"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.globals["utc"] = datetime.UTC

# The report page needs nothing but its own stylesheet: no script at all.
REPORT_PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# A report holds a child's case: never cached on the way.
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def render_html(report: CombinedReport, *, stylesheet_url: str | None) -> str:
    return _environment.get_template("web/report/report.html").render(report=report, stylesheet_url=stylesheet_url)


def layout(html: str) -> Document:
    """The report's HTML laid out on A4 pages by WeasyPrint, with the page's
    own stylesheet (its @page rules put the marking in every page's header
    and footer)."""
    # Imported on first use: loading Pango takes a second, and most
    # processes never make a PDF.
    from weasyprint import CSS, HTML

    return HTML(string=html, base_url=str(STATIC)).render(stylesheets=[CSS(filename=str(STYLESHEET))])


def render_pdf(report: CombinedReport) -> bytes:
    # The same template as the page; the stylesheet is given to WeasyPrint
    # rather than linked.
    pdf = layout(render_html(report, stylesheet_url=None)).write_pdf()
    assert pdf is not None
    return cast("bytes", pdf)


async def read_report(state: State, principal: Principal, audit_id: UUID, kind: str) -> CombinedReport:
    """The report as ``principal`` may see it, recorded as an event."""
    staff = is_partnership_staff(principal)
    own = None if staff else principal.organisation_id
    async with unit_of_work(state, principal) as connection:
        audit = await visible_audit(connection, principal, audit_id)
        if not staff and audit.status != "closed":
            raise Forbidden("the combined report is shared with agencies when the audit is closed")
        toolkit = audit_toolkit(state.toolkits, audit)
        participants = await audits.participants(connection, audit.id)
        submitted = await stored.submitted_contributions(connection, audit.id, organisation_id=own)
        found_actions = await actions.for_audit(connection, audit.id, organisation_id=own)
        # Staff see the whole judgement. An auditor's transaction may read
        # every contribution of a closed audit (row-level security,
        # migration 0005), as GET /judgement does for it; only the
        # partnership's grades of that leave this function.
        whole = await judgement_of(connection, toolkit, audit)
        await events.record(
            connection, principal, EventName.REPORT_PRODUCED, audit_id=audit.id, detail={"format": kind}
        )
    generated_at = datetime.datetime.now(datetime.UTC)
    if staff:
        return combined_report(
            audit=audit,
            toolkit=toolkit,
            participants=participants,
            submitted=submitted,
            found_actions=found_actions,
            generated_at=generated_at,
            prepared_for="the partnership",
            judgement=whole,
        )
    result = partnership_result(whole)
    return combined_report(
        audit=audit,
        toolkit=toolkit,
        # Other agencies' names and progress are not the auditor's to see;
        # the referring organisation is (the audit shows it).
        participants=[p for p in participants if p.organisation_id in (own, audit.referring_organisation_id)],
        submitted=submitted,
        found_actions=found_actions,
        generated_at=generated_at,
        prepared_for=principal.organisation_name,
        partnership_grades=[
            PartnershipGrade(
                section_id=s.section_id, title=s.title, grade=s.grade, label=s.label, moderated=s.moderated
            )
            for s in result.sections
        ],
        partnership_overall=(result.overall_grade, result.overall_label),
        list_participants=False,
    )


class ReportController(Controller):
    path = "/api/audits/{audit_id:uuid}"
    tags = ("reports",)

    @get(
        "/report.html",
        summary="The combined audit report as a printable page",
        description=(
            "Case details, each agency's submitted contribution, the partnership judgement with its reasons, "
            "disagreements and moderation, recommendations and remedial actions, marked RESTRICTED WHEN "
            "COMPLETED. Coordinators and reviewers; an agency auditor once the audit is closed (its own "
            "contribution and the partnership's grades only)."
        ),
        media_type=MediaType.HTML,
    )
    async def report_page(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> Response[str]:
        report = await read_report(state, principal, audit_id, "html")
        return Response(
            render_html(report, stylesheet_url=STYLESHEET_URL),
            media_type=MediaType.HTML,
            headers={**NO_STORE, "Content-Security-Policy": REPORT_PAGE_POLICY},
        )

    @get(
        "/report.pdf",
        summary="The combined audit report as a PDF (A4), from the same template as the page",
        media_type="application/pdf",
    )
    async def report_pdf(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> Response[bytes]:
        report = await read_report(state, principal, audit_id, "pdf")
        # Layout is CPU work of a second or so: off the event loop.
        pdf = await anyio.to_thread.run_sync(render_pdf, report)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={**NO_STORE, "Content-Disposition": f'attachment; filename="audit-{audit_id}-report.pdf"'},
        )


route_handlers: list[Any] = [
    ReportController,
    create_static_files_router(
        path="/static/report", directories=[STATIC], include_in_schema=False, name="report-static"
    ),
]
