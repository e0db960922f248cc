"""Audits over HTTP: the coordinator creates, corrects, distributes and
closes them; auditors read the ones their organisation takes part in;
reviewers follow progress and the event log.

Who may see an audit: coordinators and reviewers of its partnership, and
auditors of an organisation taking part once it is distributed. Anyone
else is told it does not exist (404), so ids do not leak.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from agencies.applicability import view_for
from server.audits import events, summaries

# The rules live in server.audits.workflow; the names imported "as"
# themselves are re-exported for the actions API and the exports.
from server.audits import workflow as audit_workflow
from server.audits.events import EventName
from server.audits.workflow import MAX_REASON as MAX_REASON
from server.audits.workflow import (
    NO_SUCH_ORGANISATION,
    TRANSITIONS,
    AuditToCreate,
    check_reason,
    contribution_content,
    invalid,
    participant_of,
    require_coordinator,
)
from server.audits.workflow import audit_toolkit as audit_toolkit
from server.audits.workflow import case_details_of as case_details_of
from server.audits.workflow import is_partnership_staff as is_partnership_staff
from server.audits.workflow import visible_audit as visible_audit
from server.auth.principal import Principal
from server.db import audits, contributions
from server.db import events as stored_events
from server.platform.problems import Conflict, Forbidden
from server.platform.transactions import check_version, etag, expected_version, idempotent, json_response, unit_of_work
from toolkits.answers import CaseDetails, ContributionContent
from toolkits.model import Toolkit
from toolkits.registry import Registry, UnknownToolkit
from toolkits.validation import (
    FieldProblem,
    case_detail_values,
    contribution_progress,
    validate_case_details,
)

AuditStatus = Literal["draft", "open", "in-review", "closed"]

# The largest number a PostgreSQL bigint holds (offsets, event ids).
MAX_BIGINT = 2**63 - 1


def today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


# --- request bodies ----------------------------------------------------------


class NewAudit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    toolkit: str
    participants: list[str]  # organisation ids or codes, of the caller's partnership
    case_details: CaseDetails = msgspec.field(default_factory=CaseDetails)
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    referring_organisation: str | None = None  # id or code
    due_date: datetime.date | None = None


class AuditChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A correction. Absent fields stay as they are; ``null`` clears one."""

    case_details: CaseDetails | msgspec.UnsetType = msgspec.UNSET
    period_start: datetime.date | msgspec.UnsetType | None = msgspec.UNSET
    period_end: datetime.date | msgspec.UnsetType | None = msgspec.UNSET
    referring_organisation: str | msgspec.UnsetType | None = msgspec.UNSET
    due_date: datetime.date | msgspec.UnsetType | None = msgspec.UNSET
    add_participants: list[str] = msgspec.field(default_factory=list)
    remove_participants: list[str] = msgspec.field(default_factory=list)
    # Required once any agency has started, and to remove a participant.
    reason: str | None = None


class StatusChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    status: AuditStatus
    reason: str | None = None


# --- responses ---------------------------------------------------------------


class ToolkitRef(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    version: int


class ParticipantView(msgspec.Struct, frozen=True, kw_only=True):
    organisation_id: UUID
    organisation_code: str
    organisation_name: str
    agency_kind: str
    is_referrer: bool
    contribution_status: str
    answered: int
    applicable: int
    updated_at: datetime.datetime
    submitted_at: datetime.datetime | None
    overdue: bool
    removed_at: datetime.datetime | None = None
    removal_reason: str | None = None


class ContributionView(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    organisation_id: UUID
    status: str
    # The agency's own draft, or for coordinators and reviewers the last
    # submitted version (never another agency's draft).
    content: ContributionContent | None
    answered: int
    applicable: int
    row_version: int
    submitted_at: datetime.datetime | None
    returned_at: datetime.datetime | None
    returned_comment: str | None
    updated_at: datetime.datetime


class AuditView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: UUID
    toolkit: ToolkitRef
    status: str
    case_details: CaseDetails
    period_start: datetime.date | None
    period_end: datetime.date | None
    referring_organisation_id: UUID | None
    due_date: datetime.date | None
    overdue: bool
    row_version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    # Coordinators and reviewers: who takes part and how far they are.
    participants: list[ParticipantView] | None = None
    allowed_transitions: list[str] | None = None
    # Auditors: the questions their agency answers on this case, and their
    # own contribution.
    questions: Toolkit | None = None
    contribution: ContributionView | None = None


class AuditListItem(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    toolkit: ToolkitRef
    status: str
    due_date: datetime.date | None
    overdue: bool
    period_start: datetime.date | None
    period_end: datetime.date | None
    participants: int
    submitted: int
    row_version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    audits: list[AuditListItem]
    total: int
    limit: int
    offset: int


class Progress(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    status: str
    due_date: datetime.date | None
    overdue: bool
    submitted: int
    participants: list[ParticipantView]


class EventView(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: datetime.datetime
    user_id: UUID | None
    organisation_id: UUID | None
    action: str
    target_organisation_id: UUID | None
    detail: dict[str, Any]


# --- shared by the audit, contribution and action controllers ----------------


def contribution_view(
    contribution: contributions.Contribution, content: ContributionContent | None, applicable: int
) -> ContributionView:
    return ContributionView(
        audit_id=contribution.audit_id,
        organisation_id=contribution.organisation_id,
        status=contribution.status,
        content=content,
        answered=contribution.answered,
        applicable=applicable,
        row_version=contribution.row_version,
        submitted_at=contribution.submitted_at,
        returned_at=contribution.returned_at,
        returned_comment=contribution.returned_comment,
        updated_at=contribution.updated_at,
    )


def audit_overdue(audit: audits.Audit) -> bool:
    return audit.due_date is not None and audit.due_date < today() and audit.status in ("draft", "open")


def participant_views(
    toolkit: Toolkit, audit: audits.Audit, participants: list[audits.Participant]
) -> list[ParticipantView]:
    values = case_detail_values(case_details_of(audit))
    empty = ContributionContent()
    views: list[ParticipantView] = []
    for p in participants:
        who = participant_of(audit, p.organisation_id, p.agency_kind)
        applicable = contribution_progress(toolkit, who, empty, case_details=values).applicable
        views.append(
            ParticipantView(
                organisation_id=p.organisation_id,
                organisation_code=p.organisation_code,
                organisation_name=p.organisation_name,
                agency_kind=p.agency_kind,
                is_referrer=who.is_referrer,
                contribution_status=p.contribution_status,
                answered=p.answered,
                applicable=applicable,
                updated_at=p.updated_at,
                submitted_at=p.submitted_at,
                overdue=(
                    p.removed_at is None
                    and p.contribution_status != "submitted"
                    and audit.due_date is not None
                    and audit.due_date < today()
                    and audit.status == "open"
                ),
                removed_at=p.removed_at,
                removal_reason=p.removal_reason,
            )
        )
    return views


def audit_headers(audit: audits.Audit) -> dict[str, str]:
    return {"ETag": etag(audit.row_version)}


# --- the controller ----------------------------------------------------------


class AuditController(Controller):
    path = "/api/audits"
    tags = ("audits",)

    async def _view(
        self, connection: asyncpg.Connection[Any], registry: Registry, principal: Principal, audit: audits.Audit
    ) -> AuditView:
        toolkit = audit_toolkit(registry, audit)
        base: dict[str, Any] = {
            "id": audit.id,
            "toolkit": ToolkitRef(id=audit.toolkit_id, version=audit.toolkit_version),
            "status": audit.status,
            "case_details": case_details_of(audit),
            "period_start": audit.period_start,
            "period_end": audit.period_end,
            "referring_organisation_id": audit.referring_organisation_id,
            "due_date": audit.due_date,
            "overdue": audit_overdue(audit),
            "row_version": audit.row_version,
            "created_at": audit.created_at,
            "updated_at": audit.updated_at,
        }
        if is_partnership_staff(principal):
            participants = await audits.participants(connection, audit.id)
            return AuditView(
                **base,
                participants=participant_views(toolkit, audit, participants),
                allowed_transitions=list(TRANSITIONS[audit.status]),
            )
        who = participant_of(audit, principal.organisation_id, principal.agency_kind)
        values = case_detail_values(case_details_of(audit))
        own = await contributions.get(connection, audit.id, principal.organisation_id)
        view = None
        if own is not None:
            content = contribution_content(own)
            applicable = contribution_progress(toolkit, who, content, case_details=values).applicable
            view = contribution_view(own, content, applicable)
        return AuditView(**base, questions=view_for(toolkit, who, values), contribution=view)

    @post("/", summary="Create an audit of a case (coordinator)", status_code=201)
    async def create_audit(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        data: JSONBody[NewAudit],
    ) -> Response[AuditView]:
        require_coordinator(principal)
        registry: Registry = state.toolkits
        problems: list[FieldProblem] = []
        toolkit: Toolkit | None = None
        try:
            toolkit = registry.current(data.toolkit)
        except UnknownToolkit:
            problems.append(FieldProblem(field="$.toolkit", message="no such toolkit"))
        if toolkit is not None:
            problems.extend(validate_case_details(toolkit, data.case_details))
        if data.period_start and data.period_end and data.period_start > data.period_end:
            problems.append(FieldProblem(field="$.period_end", message="is before the start of the audit period"))
        if not data.participants:
            problems.append(FieldProblem(field="$.participants", message="name at least one organisation"))

        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[AuditView]:
                references = [
                    *data.participants,
                    *([data.referring_organisation] if data.referring_organisation else []),
                ]
                known = await audits.partnership_organisations(connection, principal.partnership_id, references)
                for i, reference in enumerate(data.participants):
                    if reference not in known:
                        problems.append(FieldProblem(field=f"$.participants[{i}]", message=NO_SUCH_ORGANISATION))
                if data.referring_organisation and data.referring_organisation not in known:
                    problems.append(FieldProblem(field="$.referring_organisation", message=NO_SUCH_ORGANISATION))
                if problems or toolkit is None:
                    raise invalid(problems)
                new = AuditToCreate(
                    toolkit=toolkit,
                    case_details=data.case_details,
                    participants=tuple(known[reference].id for reference in data.participants),
                    referring_organisation_id=(
                        known[data.referring_organisation].id if data.referring_organisation else None
                    ),
                    period_start=data.period_start,
                    period_end=data.period_end,
                    due_date=data.due_date,
                )
                audit = await audit_workflow.create_audit(connection, principal, registry, new)
                view = await self._view(connection, registry, principal, audit)
                return json_response(
                    view, status=201, headers={**audit_headers(audit), "Location": f"/api/audits/{audit.id}"}
                )

            return await idempotent(request, connection, principal, write)

    @get("/", summary="Audits you may see, soonest due first")
    async def list_audits(
        self,
        state: State,
        principal: NamedDependency[Principal],
        status: FromQuery[AuditStatus | None] = None,
        toolkit: FromQuery[str | None] = None,
        due_before: FromQuery[datetime.date | None] = None,
        overdue: FromQuery[bool] = False,
        limit: int = Parameter(default=20, ge=1, le=100),
        # Bounded by PostgreSQL's bigint: a larger number was a 500.
        offset: int = Parameter(default=0, ge=0, le=MAX_BIGINT),
    ) -> AuditPage:
        organisation_filter: UUID | None = None
        if not is_partnership_staff(principal):
            if not principal.has_role("auditor"):
                raise Forbidden("only coordinators, reviewers and auditors see audits")
            organisation_filter = principal.organisation_id
        async with unit_of_work(state, principal) as connection:
            found, total = await audits.list_audits(
                connection,
                partnership_id=principal.partnership_id,
                organisation_id=organisation_filter,
                status=status,
                toolkit_id=toolkit,
                due_before=due_before,
                overdue_on=today() if overdue else None,
                limit=limit,
                offset=offset,
            )
            await events.record(
                connection, principal, EventName.AUDITS_LISTED, detail={"count": len(found), "total": total}
            )
        items = [
            AuditListItem(
                id=a.id,
                toolkit=ToolkitRef(id=a.toolkit_id, version=a.toolkit_version),
                status=a.status,
                due_date=a.due_date,
                overdue=a.due_date is not None and a.due_date < today() and a.status in ("draft", "open"),
                period_start=a.period_start,
                period_end=a.period_end,
                participants=a.participants,
                submitted=a.submitted,
                row_version=a.row_version,
                created_at=a.created_at,
                updated_at=a.updated_at,
            )
            for a in found
        ]
        return AuditPage(audits=items, total=total, limit=limit, offset=offset)

    @get("/{audit_id:uuid}", summary="An audit: case details and, for an auditor, what their agency answers")
    async def show_audit(
        self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]
    ) -> Response[AuditView]:
        async with unit_of_work(state, principal) as connection:
            audit = await visible_audit(connection, principal, audit_id)
            view = await self._view(connection, state.toolkits, principal, audit)
            await events.record(connection, principal, EventName.AUDIT_READ, audit_id=audit.id)
        return json_response(view, headers=audit_headers(audit))

    @patch("/{audit_id:uuid}", summary="Correct an audit: case details, participants, dates (coordinator)")
    async def change_audit(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        data: JSONBody[AuditChanges],
    ) -> Response[AuditView]:
        require_coordinator(principal)
        expected = expected_version(request)
        registry: Registry = state.toolkits
        async with unit_of_work(state, principal) as connection:
            audit = await visible_audit(connection, principal, audit_id, for_update=True)
            check_version(expected, audit.row_version)
            if audit.status == "closed":
                raise Conflict("the audit is closed; reopen it to change it", allowed=["open"])
            toolkit = audit_toolkit(registry, audit)
            started = await audits.any_contribution_started(connection, audit.id)
            problems = check_reason(
                data.reason,
                required=started or bool(data.remove_participants),
                why="once an agency has started, and to remove a participant",
            )
            case_details = audit.case_details
            if not isinstance(data.case_details, msgspec.UnsetType):
                problems.extend(validate_case_details(toolkit, data.case_details, complete=audit.status != "draft"))
                case_details = msgspec.to_builtins(data.case_details)
            period_start = audit.period_start if isinstance(data.period_start, msgspec.UnsetType) else data.period_start
            period_end = audit.period_end if isinstance(data.period_end, msgspec.UnsetType) else data.period_end
            if period_start and period_end and period_start > period_end:
                problems.append(FieldProblem(field="$.period_end", message="is before the start of the audit period"))
            due_date = audit.due_date if isinstance(data.due_date, msgspec.UnsetType) else data.due_date
            references = list(data.add_participants) + list(data.remove_participants)
            if isinstance(data.referring_organisation, str):
                references.append(data.referring_organisation)
            known = await audits.partnership_organisations(connection, principal.partnership_id, references)
            for name, listed in (
                ("add_participants", data.add_participants),
                ("remove_participants", data.remove_participants),
            ):
                for i, reference in enumerate(listed):
                    if reference not in known:
                        problems.append(FieldProblem(field=f"$.{name}[{i}]", message=NO_SUCH_ORGANISATION))
            referring = audit.referring_organisation_id
            if isinstance(data.referring_organisation, str):
                if data.referring_organisation in known:
                    referring = known[data.referring_organisation].id
                else:
                    problems.append(FieldProblem(field="$.referring_organisation", message=NO_SUCH_ORGANISATION))
            elif data.referring_organisation is None:
                referring = None
            if problems:
                raise invalid(problems)

            current = {
                p.organisation_id for p in await audits.participants(connection, audit.id) if p.removed_at is None
            }
            added = [known[r].id for r in data.add_participants if known[r].id not in current]
            removed = [known[r].id for r in data.remove_participants if known[r].id in current]
            for organisation_id in dict.fromkeys(added):
                await audits.add_participant(connection, audit.id, organisation_id, principal.user_id)
            for organisation_id in dict.fromkeys(removed):
                await audits.remove_participant(
                    connection, audit.id, organisation_id, principal.user_id, (data.reason or "").strip()
                )
            changed = [
                name
                for name in ("case_details", "period_start", "period_end", "referring_organisation", "due_date")
                if not isinstance(getattr(data, name), msgspec.UnsetType)
            ]
            updated = await audits.update(
                connection,
                audit.id,
                audit.row_version,
                case_details=case_details,
                period_start=period_start,
                period_end=period_end,
                referring_organisation_id=referring,
                due_date=due_date,
                status=audit.status,
                user_id=principal.user_id,
            )
            if updated is None:  # unreachable while the row is locked; kept for safety
                check_version(expected, -1)
            assert updated is not None
            await events.record(
                connection,
                principal,
                EventName.AUDIT_CHANGED,
                audit_id=audit.id,
                detail={
                    "fields": changed,
                    "added": [str(i) for i in added],
                    "removed": [str(i) for i in removed],
                    "reason": data.reason,
                },
            )
            await summaries.refresh(connection, registry, audit.id)
            view = await self._view(connection, registry, principal, updated)
        return json_response(view, headers=audit_headers(updated))

    # 200, not POST's default 201: it changes the audit, creating nothing
    # (the OpenAPI document said 201 while Maca answered 200).
    @post(
        "/{audit_id:uuid}/status",
        summary="Move an audit on: distribute, review, close, reopen (coordinator)",
        status_code=200,
    )
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        data: JSONBody[StatusChange],
    ) -> Response[AuditView]:
        require_coordinator(principal)
        expected = expected_version(request)
        registry: Registry = state.toolkits
        async with unit_of_work(state, principal) as connection:

            async def write() -> Response[AuditView]:
                updated = await audit_workflow.move_audit(
                    connection, principal, registry, audit_id, data.status, data.reason, seen_version=expected
                )
                view = await self._view(connection, registry, principal, updated)
                return json_response(view, headers=audit_headers(updated))

            return await idempotent(request, connection, principal, write)

    @get("/{audit_id:uuid}/progress", summary="Who has done what on an audit (coordinator, reviewer)")
    async def progress(self, state: State, principal: NamedDependency[Principal], audit_id: FromPath[UUID]) -> Progress:
        if not is_partnership_staff(principal):
            raise Forbidden("only coordinators and reviewers follow progress")
        async with unit_of_work(state, principal) as connection:
            audit = await visible_audit(connection, principal, audit_id)
            participants = participant_views(
                audit_toolkit(state.toolkits, audit), audit, await audits.participants(connection, audit.id)
            )
            await events.record(connection, principal, EventName.AUDIT_PROGRESS_READ, audit_id=audit.id)
        active = [p for p in participants if p.removed_at is None]
        return Progress(
            audit_id=audit.id,
            status=audit.status,
            due_date=audit.due_date,
            overdue=audit_overdue(audit),
            submitted=sum(1 for p in active if p.contribution_status == "submitted"),
            participants=participants,
        )

    @get("/{audit_id:uuid}/events", summary="What happened to an audit, oldest first (coordinator, reviewer)")
    async def audit_events(
        self,
        state: State,
        principal: NamedDependency[Principal],
        audit_id: FromPath[UUID],
        after: int = Parameter(default=0, ge=0, le=MAX_BIGINT, description="only events after this event id"),
        limit: int = Parameter(default=100, ge=1, le=1000),
    ) -> list[EventView]:
        if not is_partnership_staff(principal):
            raise Forbidden("only coordinators and reviewers read the event log")
        async with unit_of_work(state, principal) as connection:
            audit = await visible_audit(connection, principal, audit_id)
            found = await stored_events.for_audit(connection, audit.id, after=after, limit=limit)
            await events.record(connection, principal, EventName.AUDIT_EVENTS_READ, audit_id=audit.id)
        return [
            EventView(
                id=e.id,
                at=e.at,
                user_id=e.user_id,
                organisation_id=e.organisation_id,
                action=e.action,
                target_organisation_id=e.target_organisation_id,
                detail=e.detail,
            )
            for e in found
        ]


route_handlers: list[Any] = [AuditController]
