"""The learning report over HTTP, as an accessible page and as a tagged PDF
(PDF/UA-1) from the same template: per programme (``?programme=``) or per
period (``?from=&to=``, the audits created then), for the partnership's
coordinators and reviewers; anonymised (:mod:`server.reports.learning_report`)."""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
from litestar import Controller, MediaType, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from server.audits.learning_report import read_learning_report
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import unit_of_work
from server.reports.learning_report import LearningReport, render_learning_html, render_learning_pdf

STYLESHEET_URL = "/static/report/report.css"
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}

Programme = Annotated[UUID | None, QueryParameter(description="the programme's id")]
From = Annotated[datetime.date | None, QueryParameter(name="from", description="audits created on or after")]
To = Annotated[datetime.date | None, QueryParameter(name="to", description="audits created on or before")]


async def _report(
    state: State,
    principal: Principal,
    kind: str,
    programme: UUID | None,
    start: datetime.date | None,
    end: datetime.date | None,
) -> LearningReport:
    async with unit_of_work(state, principal) as connection:
        return await read_learning_report(
            connection,
            principal,
            state.toolkits,
            programme_id=programme,
            created_from=start,
            created_to=end,
            kind=kind,
        )


class LearningReportController(Controller):
    path = "/api/reports"
    tags = ("reports",)

    @get(
        "/learning.html",
        summary="The learning report of a programme or a period, as an accessible page (anonymised)",
        media_type=MediaType.HTML,
        opt=needs(Permission.PARTNERSHIP_OVERSEE),
    )
    async def learning_page(
        self,
        state: State,
        principal: NamedDependency[Principal],
        programme: Programme = None,
        start: From = None,
        end: To = None,
    ) -> Response[str]:
        report = await _report(state, principal, "html", programme, start, end)
        return Response(
            render_learning_html(report, stylesheet_url=STYLESHEET_URL),
            media_type=MediaType.HTML,
            headers={**NO_STORE, "Content-Security-Policy": PAGE_POLICY},
        )

    @get(
        "/learning.pdf",
        summary="The learning report as a tagged PDF (PDF/UA-1), from the same template as the page",
        media_type="application/pdf",
        opt=needs(Permission.PARTNERSHIP_OVERSEE),
    )
    async def learning_pdf(
        self,
        state: State,
        principal: NamedDependency[Principal],
        programme: Programme = None,
        start: From = None,
        end: To = None,
    ) -> Response[bytes]:
        report = await _report(state, principal, "pdf", programme, start, end)
        pdf = await anyio.to_thread.run_sync(render_learning_pdf, report)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={**NO_STORE, "Content-Disposition": 'attachment; filename="learning-report.pdf"'},
        )


route_handlers: list[Any] = [LearningReportController]
