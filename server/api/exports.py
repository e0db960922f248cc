"""Exports for analysts, scoped to what the caller may see.

- ``GET /api/exports/grades.csv`` and ``.xlsx``: one row per audit × agency
  × section, filtered like the dashboard (``from``/``to`` quarters of the
  audit's creation, ``toolkit``, ``agency_kind``, ``status``). Streamed:
  the rows come from a database cursor and go out as they come.
  Coordinators and reviewers get their partnership's audits; an agency's
  auditor gets only its own organisation's rows, of audits distributed to
  it. A grade appears only once its contribution is submitted.
- ``GET /api/audits/{id}/export.json``: everything the caller may see of
  one audit — as ``GET /api/audits/{id}``, the contributions and the
  judgement routes give it to them.
- ``GET /api/audits/{id}/contributions/{org}/fhir`` (served with the
  contribution's other routes, :mod:`server.api.contributions`, beside the
  ``PUT`` that takes one back): a contribution as a FHIR R4
  ``QuestionnaireResponse`` of the toolkit's ``Questionnaire``: the agency's
  own (draft included) for its auditor, the last submitted version for
  coordinators and reviewers.

Every export is recorded as an event: the grades export as one event of the
partnership (its format and filters; it may span thousands of audits), the
others on their audit.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from server.audits import exports as steps
from server.audits.exports import PREFETCH, GradeFilters, grade_filters
from server.audits.views import AuditExport
from server.auth.permissions import Permission, needs
from server.auth.principal import Principal
from server.platform.transactions import unit_of_work
from server.reports import exports
from toolkits.registry import Registry

# Restricted data: not cached on the way, and a download, not a page.
NO_STORE = {"Cache-Control": "no-store"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def provide_grade_filters(
    state: State,
    period_from: Annotated[str | None, QueryParameter(name="from", description="first quarter, YYYY-Qn")] = None,
    period_to: Annotated[str | None, QueryParameter(name="to", description="last quarter, YYYY-Qn")] = None,
    toolkit: Annotated[str | None, QueryParameter(description="a toolkit id")] = None,
    agency_kind: Annotated[str | None, QueryParameter(description="only this agency kind's rows")] = None,
    status: Annotated[str | None, QueryParameter(description="draft, open, in-review or closed")] = None,
    programme: Annotated[str | None, QueryParameter(description="only this programme's audits (its id)")] = None,
) -> GradeFilters:
    """The grades exports' query parameters, declared once for every format
    so each documents and refuses them alike."""
    return grade_filters(
        state.toolkits,
        period_from=period_from,
        period_to=period_to,
        toolkit=toolkit,
        agency_kind=agency_kind,
        status=status,
        programme=programme,
    )


Writer = Callable[[AsyncIterator[exports.GradeRow]], AsyncIterator[bytes]]


async def stream_grades(
    state: State,
    registry: Registry,
    principal: Principal,
    filters: GradeFilters,
    write: Writer,
    *,
    prefetch: int = PREFETCH,
) -> AsyncIterator[bytes]:
    """The grades export as ``write`` encodes it, chunk by chunk, from a
    cursor in the caller's own transaction (``unit_of_work``: row-level
    security confines it as every other request of theirs)."""
    async with unit_of_work(state, principal) as connection:
        rows = steps.grade_rows(connection, principal, registry, filters, prefetch=prefetch)
        async for chunk in write(rows):
            yield chunk


# Both formats take the same filters: one declaration, one set of checks.
GRADE_FILTERS = {"filters": Provide(provide_grade_filters)}


class ExportController(Controller):
    tags = ("exports",)

    async def _grades(
        self,
        state: State,
        principal: Principal,
        filters: GradeFilters,
        kind: str,
        write: Writer,
        media_type: str,
    ) -> Stream:
        async with unit_of_work(state, principal) as connection:
            await steps.record_grades_export(connection, principal, filters, kind)
        day = datetime.datetime.now(datetime.UTC).date().isoformat()
        return Stream(
            stream_grades(state, state.toolkits, principal, filters, write),
            media_type=media_type,
            headers={**NO_STORE, "Content-Disposition": f'attachment; filename="maca-grades-{day}.{kind}"'},
        )

    @get(
        "/api/exports/grades.csv",
        summary="Grades as CSV: one row per audit × agency × section, streamed",
        # Litestar adds "; charset=utf-8" to a text/ type itself: named here,
        # the header said it twice.
        media_type="text/csv",
        dependencies=GRADE_FILTERS,
        opt=needs(Permission.EXPORT_DOWNLOAD),
    )
    async def grades_csv(
        self, state: State, principal: NamedDependency[Principal], filters: NamedDependency[GradeFilters]
    ) -> Stream:
        return await self._grades(state, principal, filters, "csv", exports.csv_chunks, "text/csv")

    @get(
        "/api/exports/grades.xlsx",
        summary="Grades as an Excel workbook: one row per audit × agency × section",
        media_type=XLSX,
        dependencies=GRADE_FILTERS,
        opt=needs(Permission.EXPORT_DOWNLOAD),
    )
    async def grades_xlsx(
        self, state: State, principal: NamedDependency[Principal], filters: NamedDependency[GradeFilters]
    ) -> Stream:
        return await self._grades(state, principal, filters, "xlsx", exports.xlsx_chunks, XLSX)

    @get(
        "/api/audits/{audit_id:uuid}/export.json",
        summary="Everything you may see of one audit, as one JSON document",
        opt=needs(Permission.EXPORT_DOWNLOAD),
    )
    async def audit_json(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> Response[AuditExport]:
        async with unit_of_work(state, principal) as connection:
            body = await steps.read_audit_export(connection, principal, state.toolkits, audit_id)
        return Response(
            body,
            headers={**NO_STORE, "Content-Disposition": f'attachment; filename="audit-{body.id}.json"'},
        )


route_handlers: list[Any] = [ExportController]
