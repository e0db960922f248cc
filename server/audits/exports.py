"""Exports for analysts, scoped to what the caller may see.

- The grades export: one row per audit × agency × section, filtered like
  the dashboard. Coordinators and reviewers get their partnership's
  audits; an agency's auditor only its own organisation's rows, of audits
  distributed to it. A grade appears only once its contribution is
  submitted. Recorded as one event of the partnership (its format and
  filters; it may span thousands of audits).
- One audit as a JSON document: everything the caller may see of it, as
  the audit, contribution and judgement reads give it to them.
- A contribution as a FHIR R4 ``QuestionnaireResponse``: the agency's own
  (draft included) for its auditor, the last submitted version for
  coordinators and reviewers.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from agencies.kinds import AGENCY_KIND_CODES
from server.audits import events
from server.audits.access import (
    OrganisationReference,
    contribution_reader,
    referenced_organisation,
    taking_part_as,
    visible_audit,
)
from server.audits.catalogue import catalogue_of
from server.audits.events import EventName
from server.audits.facts import audit_toolkit, case_details_of
from server.audits.judgement import judgement_of, partnership_result
from server.audits.programmes import check_programme_filter
from server.audits.views import AuditExport, ContributionExport, RemedialAction, participant_views
from server.audits.voices import partnership_voices
from server.auth.permissions import Permission, is_partnership_staff, require
from server.auth.principal import Principal
from server.db import actions, audits, contributions
from server.db import exports as stored
from server.db.exports import PREFETCH, GradeFilters
from server.platform.problems import FieldError, InvalidInput, NotFound
from server.reports import exports
from server.reports.fhir_response import questionnaire_response
from server.reports.themes import STATUSES, parse_quarter, quarter_after
from toolkits.answers import ContributionContent
from toolkits.registry import Registry

__all__ = [
    "PREFETCH",
    "GradeFilters",
    "grade_filters",
    "grade_rows",
    "read_audit_export",
    "read_contribution_fhir",
    "record_grades_export",
]


def grade_filters(
    registry: Registry,
    *,
    period_from: str | None,
    period_to: str | None,
    toolkit: str | None,
    agency_kind: str | None,
    status: str | None,
    programme: str | None = None,
) -> GradeFilters:
    """The dashboard's filters, checked: 422 naming every wrong one."""
    problems: list[FieldError] = []
    programme_id = None
    if programme is not None:
        try:
            programme_id = UUID(programme)
        except ValueError:
            problems.append(FieldError(field="programme", message="must be a programme's id"))
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
    return GradeFilters(
        created_from=first,
        created_before=quarter_after(last) if last is not None else None,
        toolkit=toolkit,
        agency_kind=agency_kind,
        status=status,
        programme=programme_id,
    )


def _filters_detail(filters: GradeFilters) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, datetime.date) else str(v) if isinstance(v, UUID) else v)
        for k, v in msgspec.structs.asdict(filters).items()
        if v is not None
    }


async def record_grades_export(
    connection: asyncpg.Connection[Any], principal: Principal, filters: GradeFilters, kind: str
) -> None:
    """Record a grades export before its rows are streamed (its own
    transaction: the download may take a while)."""
    require(principal, Permission.EXPORT_DOWNLOAD)
    await check_programme_filter(connection, principal, filters.programme)
    await events.record(
        connection,
        principal,
        EventName.EXPORT_PRODUCED,
        detail={"export": "grades", "format": kind, **_filters_detail(filters)},
    )


async def grade_rows(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    filters: GradeFilters,
    *,
    prefetch: int = PREFETCH,
) -> AsyncIterator[exports.GradeRow]:
    """The grades ``principal`` may see, row by row, from a cursor in the
    caller's transaction (row-level security confines it as every other
    request of theirs; one statement reads one snapshot, however long the
    download takes)."""
    require(principal, Permission.EXPORT_DOWNLOAD)
    # The partnership's own toolkit versions too: its audits may use any.
    registry = (await catalogue_of(connection, registry, principal.partnership_id, every_version=True)).registry
    sources = stored.participant_grades(
        connection,
        partnership_id=principal.partnership_id,
        organisation_id=None if is_partnership_staff(principal) else principal.organisation_id,
        filters=filters,
        condition_details=exports.condition_details(registry),
        prefetch=prefetch,
    )
    async for row in exports.grade_rows(exports.SectionPlan(registry), sources):
        yield row


async def read_audit_export(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit_id: UUID
) -> AuditExport:
    """Everything ``principal`` may see of one audit, as one document; the
    export recorded."""
    require(principal, Permission.EXPORT_DOWNLOAD)
    staff = is_partnership_staff(principal)
    audit = await visible_audit(connection, principal, audit_id)
    toolkit = await audit_toolkit(connection, registry, audit)
    own = None if staff else principal.organisation_id
    found_actions = await actions.for_audit(connection, audit.id, organisation_id=own)
    participants = None
    judgement = None
    result = None
    if not staff and audit.status == "closed":
        # As the judgement read gives it to an agency: the partnership's
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
                    agency_kind=taking_part_as(audit, principal),
                    status=mine.status,
                    submitted_at=mine.submitted_at,
                    version=None,
                    content=msgspec.convert(mine.content, ContributionContent),
                )
            )
    found_voices = await partnership_voices(connection, principal, audit, own_only=not staff)
    await events.record(
        connection,
        principal,
        EventName.EXPORT_PRODUCED,
        audit_id=audit.id,
        detail={"export": "audit", "format": "json"},
    )
    return AuditExport(
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
        actions=[msgspec.convert(a, RemedialAction, from_attributes=True) for a in found_actions],
        participants=participants,
        judgement=judgement,
        partnership_result=result,
        voices=[v.voice for v in found_voices],
        exported_at=datetime.datetime.now(datetime.UTC),
    )


async def read_contribution_fhir(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    organisation: OrganisationReference,
) -> dict[str, Any]:
    """A contribution as a FHIR ``QuestionnaireResponse`` of the toolkit's
    ``Questionnaire``: its own agency's working copy (status in-progress
    until submitted), or for coordinators and reviewers the last submitted
    version (404 until there is one); the export recorded."""
    require(principal, Permission.EXPORT_DOWNLOAD)
    organisation_id = await referenced_organisation(connection, principal, organisation)
    audit = await visible_audit(connection, principal, audit_id)
    toolkit = await audit_toolkit(connection, registry, audit)
    own = contribution_reader(principal, organisation_id) == "own agency"
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
    return questionnaire_response(
        toolkit,
        content,
        response_id=response_id,
        status=status,
        authored=authored,
        organisation_code=participant.organisation_code,
        organisation_name=participant.organisation_name,
        amended=amended,
    )
