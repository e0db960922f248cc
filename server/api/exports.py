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
- ``GET /api/audits/{id}/contributions/{org}/fhir``: a contribution as a
  FHIR R4 ``QuestionnaireResponse`` of the toolkit's ``Questionnaire``:
  the agency's own (draft included) for its auditor, the last submitted
  version for coordinators and reviewers.

Every export is recorded as an event: the grades export as one event of the
partnership (its format and filters; it may span thousands of audits), the
others on their audit.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from agencies.kinds import AGENCY_KIND_CODES
from merging import PartnershipJudgement
from server.api.audits import (
    ParticipantView,
    audit_toolkit,
    case_details_of,
    is_partnership_staff,
    participant_views,
    visible_audit,
)
from server.audits import events
from server.audits.events import EventName
from server.audits.judgement import PartnershipResult, judgement_of, partnership_result
from server.auth.principal import Principal
from server.db import actions, audits, contributions
from server.db import exports as stored
from server.db.actions import RemedialAction
from server.platform.problems import FieldError, InvalidInput, NotFound
from server.platform.transactions import unit_of_work
from server.reports import exports
from server.reports.fhir_response import questionnaire_response
from server.reports.themes import parse_quarter, quarter_after
from toolkits.answers import CaseDetails, ContributionContent
from toolkits.registry import Registry

STATUSES = ("draft", "open", "in-review", "closed")

# Restricted data: not cached on the way, and a download, not a page.
NO_STORE = {"Cache-Control": "no-store"}
FHIR_JSON = "application/fhir+json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def grade_filters(
    registry: Registry,
    *,
    period_from: str | None,
    period_to: str | None,
    toolkit: str | None,
    agency_kind: str | None,
    status: str | None,
) -> stored.GradeFilters:
    """The dashboard's filters, checked: 422 naming every wrong one."""
    problems: list[FieldError] = []
    first = last = None
    if period_from is not None and (first := parse_quarter(period_from)) is None:
        problems.append(FieldError(field="from", message="must be a quarter written YYYY-Qn, such as 2025-Q2"))
    if period_to is not None and (last := parse_quarter(period_to)) is None:
        problems.append(FieldError(field="to", message="must be a quarter written YYYY-Qn, such as 2025-Q4"))
    if first is not None and last is not None and first > last:
        problems.append(FieldError(field="to", message="is before the start of the period"))
    if toolkit is not None and toolkit not in registry.ids():
        problems.append(FieldError(field="toolkit", message=f"no such toolkit; one of: {', '.join(registry.ids())}"))
    if agency_kind is not None and agency_kind not in AGENCY_KIND_CODES:
        problems.append(
            FieldError(
                field="agency_kind", message=f"no such agency kind; one of: {', '.join(sorted(AGENCY_KIND_CODES))}"
            )
        )
    if status is not None and status not in STATUSES:
        problems.append(FieldError(field="status", message=f"must be one of: {', '.join(STATUSES)}"))
    if problems:
        raise InvalidInput(errors=problems)
    return stored.GradeFilters(
        created_from=first,
        created_before=quarter_after(last) if last is not None else None,
        toolkit=toolkit,
        agency_kind=agency_kind,
        status=status,
    )


async def provide_grade_filters(
    state: State,
    period_from: Annotated[str | None, QueryParameter(name="from", description="first quarter, YYYY-Qn")] = None,
    period_to: Annotated[str | None, QueryParameter(name="to", description="last quarter, YYYY-Qn")] = None,
    toolkit: Annotated[str | None, QueryParameter(description="a toolkit id")] = None,
    agency_kind: Annotated[str | None, QueryParameter(description="only this agency kind's rows")] = None,
    status: Annotated[str | None, QueryParameter(description="draft, open, in-review or closed")] = None,
) -> stored.GradeFilters:
    """The grades exports' query parameters, declared once for every format
    so each documents and refuses them alike."""
    return grade_filters(
        state.toolkits,
        period_from=period_from,
        period_to=period_to,
        toolkit=toolkit,
        agency_kind=agency_kind,
        status=status,
    )


Writer = Callable[[AsyncIterator[exports.GradeRow]], AsyncIterator[bytes]]


async def stream_grades(
    state: State,
    registry: Registry,
    principal: Principal,
    filters: stored.GradeFilters,
    write: Writer,
    *,
    prefetch: int = stored.PREFETCH,
) -> AsyncIterator[bytes]:
    """The grades export as ``write`` encodes it, chunk by chunk, from a
    cursor in the caller's own transaction (``unit_of_work``: row-level
    security confines it as every other request of theirs)."""
    staff = is_partnership_staff(principal)
    # One statement reads one snapshot, however long the download takes.
    async with unit_of_work(state, principal) as connection:
        sources = stored.participant_grades(
            connection,
            partnership_id=principal.partnership_id,
            organisation_id=None if staff else principal.organisation_id,
            filters=filters,
            condition_details=exports.condition_details(registry),
            prefetch=prefetch,
        )
        async for chunk in write(exports.grade_rows(exports.SectionPlan(registry), sources)):
            yield chunk


class ContributionExport(msgspec.Struct, frozen=True, kw_only=True):
    organisation_id: UUID
    organisation_code: str
    organisation_name: str
    agency_kind: str
    status: str
    submitted_at: datetime.datetime | None
    # Which kept version ``content`` is (None: the agency's own working copy).
    version: int | None
    content: ContributionContent | None


class AuditExport(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: UUID
    toolkit_id: str
    toolkit_version: int
    status: str
    case_details: CaseDetails
    period_start: datetime.date | None
    period_end: datetime.date | None
    referring_organisation_id: UUID | None
    due_date: datetime.date | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    contributions: list[ContributionExport]
    actions: list[RemedialAction]
    participants: list[ParticipantView] | None = None
    judgement: PartnershipJudgement | None = None
    partnership_result: PartnershipResult | None = None
    exported_at: datetime.datetime | None = None


def _filters_detail(filters: stored.GradeFilters) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, datetime.date) else v)
        for k, v in msgspec.structs.asdict(filters).items()
        if v is not None
    }


# Both formats take the same filters: one declaration, one set of checks.
GRADE_FILTERS = {"filters": Provide(provide_grade_filters)}


class ExportController(Controller):
    tags = ("exports",)

    async def _grades(
        self,
        state: State,
        principal: Principal,
        filters: stored.GradeFilters,
        kind: str,
        write: Writer,
        media_type: str,
    ) -> Stream:
        async with unit_of_work(state, principal) as connection:
            await events.record(
                connection,
                principal,
                EventName.EXPORT_PRODUCED,
                detail={"export": "grades", "format": kind, **_filters_detail(filters)},
            )
        day = datetime.datetime.now(datetime.UTC).date().isoformat()
        return Stream(
            stream_grades(state, state.toolkits, principal, filters, write),
            media_type=media_type,
            headers={**NO_STORE, "Content-Disposition": f'attachment; filename="maca-grades-{day}.{kind}"'},
        )

    @get(
        "/api/exports/grades.csv",
        summary="Grades as CSV: one row per audit × agency × section, streamed",
        media_type="text/csv; charset=utf-8",
        dependencies=GRADE_FILTERS,
    )
    async def grades_csv(
        self, state: State, principal: NamedDependency[Principal], filters: NamedDependency[stored.GradeFilters]
    ) -> Stream:
        return await self._grades(state, principal, filters, "csv", exports.csv_chunks, "text/csv; charset=utf-8")

    @get(
        "/api/exports/grades.xlsx",
        summary="Grades as an Excel workbook: one row per audit × agency × section",
        media_type=XLSX,
        dependencies=GRADE_FILTERS,
    )
    async def grades_xlsx(
        self, state: State, principal: NamedDependency[Principal], filters: NamedDependency[stored.GradeFilters]
    ) -> Stream:
        return await self._grades(state, principal, filters, "xlsx", exports.xlsx_chunks, XLSX)

    @get(
        "/api/audits/{audit_id:uuid}/export.json",
        summary="Everything you may see of one audit, as one JSON document",
    )
    async def audit_json(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> Response[AuditExport]:
        staff = is_partnership_staff(principal)
        async with unit_of_work(state, principal) as connection:
            audit = await visible_audit(connection, principal, audit_id)
            toolkit = audit_toolkit(state.toolkits, audit)
            own = None if staff else principal.organisation_id
            found_actions = await actions.for_audit(connection, audit.id, organisation_id=own)
            participants = None
            judgement = None
            result = None
            if not staff and audit.status == "closed":
                # As GET /judgement gives it to an agency: the partnership's
                # grades only (its transaction may read a closed audit's
                # contributions, migration 0005).
                result = partnership_result(await judgement_of(connection, toolkit, audit))
            if staff:
                participants = participant_views(toolkit, audit, await audits.participants(connection, audit.id))
                judgement = await judgement_of(connection, toolkit, audit)
                parts = [
                    ContributionExport(
                        organisation_id=s.organisation_id,
                        organisation_code=s.organisation_code,
                        organisation_name=s.organisation_name,
                        agency_kind=s.agency_kind,
                        status=s.status,
                        submitted_at=s.submitted_at,
                        version=s.version,
                        # Never a draft: the last version it submitted.
                        content=None if s.content is None else msgspec.convert(s.content, ContributionContent),
                    )
                    for s in await stored.submitted_contributions(connection, audit.id)
                ]
            else:
                parts = []
                mine = await contributions.get(connection, audit.id, principal.organisation_id)
                if mine is not None:
                    parts.append(
                        ContributionExport(
                            organisation_id=principal.organisation_id,
                            organisation_code=principal.organisation_code,
                            organisation_name=principal.organisation_name,
                            agency_kind=principal.agency_kind,
                            status=mine.status,
                            submitted_at=mine.submitted_at,
                            version=None,
                            content=msgspec.convert(mine.content, ContributionContent),
                        )
                    )
            await events.record(
                connection,
                principal,
                EventName.EXPORT_PRODUCED,
                audit_id=audit.id,
                detail={"export": "audit", "format": "json"},
            )
        body = AuditExport(
            id=audit.id,
            toolkit_id=audit.toolkit_id,
            toolkit_version=audit.toolkit_version,
            status=audit.status,
            case_details=case_details_of(audit),
            period_start=audit.period_start,
            period_end=audit.period_end,
            referring_organisation_id=audit.referring_organisation_id,
            due_date=audit.due_date,
            created_at=audit.created_at,
            updated_at=audit.updated_at,
            contributions=parts,
            actions=found_actions,
            participants=participants,
            judgement=judgement,
            partnership_result=result,
            exported_at=datetime.datetime.now(datetime.UTC),
        )
        return Response(
            body,
            headers={**NO_STORE, "Content-Disposition": f'attachment; filename="audit-{audit.id}.json"'},
        )

    @get(
        "/api/audits/{audit_id:uuid}/contributions/{organisation_id:uuid}/fhir",
        summary="A contribution as an HL7 FHIR R4 QuestionnaireResponse of the toolkit's Questionnaire",
        description=(
            "An agency's auditor: its own contribution as it stands (status in-progress until submitted). "
            "Coordinators and reviewers: the last submitted version; 404 until there is one."
        ),
        media_type=FHIR_JSON,
        # The body is encoded here (bytes), so say what it is: a JSON object,
        # not the string Litestar would document for bytes.
        responses={200: ResponseSpec(data_container=dict[str, Any], media_type=FHIR_JSON, description="OK")},
    )
    async def contribution_fhir(
        self,
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        organisation_id: FromPath[UUID],
    ) -> Response[bytes]:
        async with unit_of_work(state, principal) as connection:
            audit = await visible_audit(connection, principal, audit_id)
            toolkit = audit_toolkit(state.toolkits, audit)
            own = principal.has_role("auditor") and organisation_id == principal.organisation_id
            if not own and not is_partnership_staff(principal):
                raise NotFound("no such contribution")
            found = await stored.submitted_contributions(connection, audit.id, organisation_id=organisation_id)
            if not found:
                raise NotFound("no such contribution")
            participant = found[0]
            authored: datetime.datetime | None
            if own:
                mine = await contributions.get(connection, audit.id, organisation_id)
                if mine is None:
                    raise NotFound("no such contribution")
                content = msgspec.convert(mine.content, ContributionContent)
                status, authored, amended = mine.status, mine.submitted_at or mine.updated_at, False
                response_id = str(mine.id)
            else:
                if participant.content is None or participant.contribution_id is None:
                    raise NotFound("nothing has been submitted for this contribution yet")
                content = msgspec.convert(participant.content, ContributionContent)
                # The last submitted version is complete, whatever the
                # contribution's status is now (a return reopens it).
                status, authored = "submitted", participant.submitted_at
                amended = participant.version_kind == "amended"
                response_id = f"{participant.contribution_id}-v{participant.version}"
            await events.record(
                connection,
                principal,
                EventName.EXPORT_PRODUCED,
                audit_id=audit.id,
                target_organisation_id=organisation_id,
                detail={"export": "contribution", "format": "fhir"},
            )
        resource = questionnaire_response(
            toolkit,
            content,
            response_id=response_id,
            status=status,
            authored=authored,
            organisation_code=participant.organisation_code,
            organisation_name=participant.organisation_name,
            amended=amended,
        )
        return Response(msgspec.json.encode(resource), media_type=FHIR_JSON, headers=NO_STORE)


route_handlers: list[Any] = [ExportController]
