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
from typing import Any
from uuid import UUID

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Controller, MediaType, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.static_files import create_static_files_router

from server.audits.reports import read_report, report_file_name
from server.auth.permissions import PUBLIC, Permission, needs
from server.auth.principal import Principal
from server.platform.bidi import bdi, bdi_lines, isolated
from server.platform.transactions import unit_of_work
from server.reports.dates import date_text, datetime_text
from server.reports.pdf import STATIC, PdfRenderer
from server.reports.report import CombinedReport
from server.reports.wording import agreed_when, plain, plain_trace

SERVER = Path(__file__).resolve().parent.parent
TEMPLATES = SERVER / "templates"
STYLESHEET_URL = "/static/report/report.css"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.globals["utc"] = datetime.UTC
# What a person wrote, isolated from the report around it (server/platform/bidi.py).
_environment.filters["bdi"] = bdi
_environment.filters["lines"] = bdi_lines
_environment.filters["isolated"] = isolated
# People's dates and times, and agencies by name (issue 23: no raw timestamps).
_environment.filters["date"] = date_text
_environment.filters["datetime"] = datetime_text
_environment.filters["plain"] = plain
_environment.filters["plain_trace"] = plain_trace
_environment.globals["agreed_when"] = agreed_when

# The report page needs nothing but its own stylesheet: no script at all.
REPORT_PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# A report holds a child's case: never cached on the way.
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def render_html(report: CombinedReport, *, stylesheet_url: str | None) -> str:
    return _environment.get_template("web/report/report.html").render(report=report, stylesheet_url=stylesheet_url)


async def _report(state: State, principal: Principal, audit_id: UUID, kind: str) -> CombinedReport:
    async with unit_of_work(state, principal) as connection:
        return await read_report(connection, principal, state.toolkits, audit_id, kind)


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
        opt=needs(Permission.REPORT_READ),
    )
    async def report_page(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> Response[str]:
        report = await _report(state, principal, audit_id, "html")
        return Response(
            render_html(report, stylesheet_url=STYLESHEET_URL),
            media_type=MediaType.HTML,
            headers={**NO_STORE, "Content-Security-Policy": REPORT_PAGE_POLICY},
        )

    @get(
        "/report.pdf",
        summary="The combined audit report as a PDF (A4), from the same template as the page",
        description=(
            "Laid out in processes of their own, a few at a time: a person with PDFs already in progress gets "
            "429, and when Maca is making as many as it can, 503; both say in Retry-After when to ask again."
        ),
        media_type="application/pdf",
        opt=needs(Permission.REPORT_READ),
    )
    async def report_pdf(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> Response[bytes]:
        renderer: PdfRenderer = state.pdf_renderer
        # A place is asked for before the report is read: a PDF refused
        # (429, 503) reads nothing and records no event.
        async with renderer.admitted(principal.user_id):
            report = await _report(state, principal, audit_id, "pdf")
            # The same template as the page, the stylesheet given to
            # WeasyPrint rather than linked; laid out in another process.
            pdf = await renderer.render(render_html(report, stylesheet_url=None))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{report_file_name(report)}"'},
        )


route_handlers: list[Any] = [
    ReportController,
    create_static_files_router(
        path="/static/report", directories=[STATIC], include_in_schema=False, name="report-static", opt=needs(PUBLIC)
    ),
]
