"""What the steps give back to be shown: the API's response documents and
the pages' read models, one definition each, so an audit reads the same
over HTTP and on a page (its case reference, who is overdue, what an agency
has still to answer).

Response documents end in ``View`` (database rows end in ``Row``), so a
name means one thing: ``OrganisationView`` is what the API shows of an
organisation, ``agencies.organisations.Organisation`` the organisation
itself, ``OrganisationRow`` its stored row. The one-audit export's parts end
in ``Export``, beside the export's record of an action, which keeps the
name it was first published under, ``RemedialAction`` (OpenAPI component
names come from class names; a generated client names its types after
them).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol
from uuid import UUID

import msgspec

from agencies.contributions import contribution_progress
from merging import PartnershipJudgement
from server.audits.facts import StoredCase, case_details_of, participant_of
from server.audits.judgement import PartnershipResult
from server.audits.voices import VoiceView
from server.db.actions import RemedialActionRow
from server.db.audits import OrganisationRow, ParticipantRow
from server.db.contributions import ContributionRow
from server.reports.dates import date_text
from toolkits.answers import CaseDetails, ContributionContent
from toolkits.model import Toolkit
from toolkits.text import is_case_reference
from toolkits.validation import case_detail_values

__all__ = [
    "MAX_REFERENCE",
    "ActionView",
    "AuditExport",
    "AuditListItem",
    "AuditPage",
    "AuditView",
    "ContributionExport",
    "ContributionView",
    "EventView",
    "ListedAudit",
    "OrganisationView",
    "OutstandingItem",
    "ParticipantView",
    "ProgressView",
    "RemedialAction",
    "ToolkitRef",
    "VersionView",
    "action_overdue",
    "action_view",
    "audit_overdue",
    "audit_reference",
    "case_reference",
    "case_reference_question",
    "case_reference_questions",
    "contribution_path",
    "contribution_view",
    "given_reference",
    "organisation_view",
    "participant_views",
    "today",
]


def today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


class _Due(Protocol):
    @property
    def due_date(self) -> datetime.date | None: ...
    @property
    def status(self) -> str: ...


class _DueCase(_Due, StoredCase, Protocol):
    pass


def audit_overdue(audit: _Due) -> bool:
    """Past its due date and not yet in review or closed."""
    return audit.due_date is not None and audit.due_date < today() and audit.status in ("draft", "open")


def action_overdue(action: RemedialActionRow) -> bool:
    """Due before today and neither completed nor set aside."""
    return (
        not action.completed
        and action.status != "not-taken-forward"
        and action.due_date is not None
        and action.due_date < today()
    )


def case_reference(toolkit: Toolkit, details: CaseDetails) -> str | None:
    """The case's own reference (case identifier, case ID, CF/ECINS ID) to
    tell audits apart in a list, if the toolkit asks for one. Every page
    labels an audit by it; never by the child's initials or name, which a
    list of audits has no need to show."""
    for question_id in case_reference_questions(toolkit):
        answer = details.answers.get(question_id)
        if answer is not None and isinstance(answer.value, str) and answer.value.strip():
            return answer.value.strip()
    return None


def case_reference_questions(toolkit: Toolkit) -> list[str]:
    """The coordinator's questions that hold the case's own reference (case
    identifier, case ID, CF/ECINS ID), in the toolkit's order."""
    return [
        question.id
        for section in toolkit.sections
        if section.completed_by == "coordinator"
        for question in section.questions
        if question.kind == "text" and is_case_reference(question.id)
    ]


def case_reference_question(toolkit: Toolkit) -> str | None:
    """The first question that holds the case's own reference, if the toolkit
    asks one: where a programme's import writes the reference it is given."""
    questions = case_reference_questions(toolkit)
    return questions[0] if questions else None


class _Referenced(StoredCase, Protocol):
    @property
    def reference(self) -> str | None: ...
    @property
    def created_at(self) -> datetime.datetime: ...


MAX_REFERENCE: Final = 100


def audit_reference(toolkit: Toolkit | None, audit: _Referenced) -> str:
    """What every page, list, report and file name calls an audit: the
    coordinator's reference; for an audit made before references (migration
    0018) and not yet given one, its case identifier if the toolkit collects
    one, else when it was created ("Audit created 6 December 2026"), never
    an internal id."""
    return given_reference(toolkit, audit) or f"Audit created {date_text(audit.created_at)}"


def given_reference(toolkit: Toolkit | None, audit: _Referenced) -> str | None:
    """The reference someone gave the audit: the coordinator's, else the
    case identifier the toolkit collected; None when it has neither (a
    caption then says when it was created rather than "Case Audit created
    …")."""
    if audit.reference:
        return audit.reference
    if toolkit is not None:
        return case_reference(toolkit, case_details_of(audit))
    return None


# --- an audit and who takes part --------------------------------------------------


class ToolkitRef(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: str
    version: int
    # One of the partnership's own versions (uploaded by its administrator):
    # ``"local": true``, and absent for a version shipped with Maca.
    local: bool = False


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
    # The sections it said it was not involved in (section ids).
    not_involved: list[str] = msgspec.field(default_factory=list)


def participant_views(
    toolkit: Toolkit, audit: _DueCase, participants: Iterable[ParticipantRow]
) -> list[ParticipantView]:
    """Each organisation's progress: how many of the questions that apply
    to it on this case it has answered, and whether it is overdue."""
    values = case_detail_values(case_details_of(audit))
    empty = ContributionContent()
    views: list[ParticipantView] = []
    for p in participants:
        who = participant_of(audit, p.organisation_id, p.agency_kind)
        # Only which sections it was not involved in matters to what applies.
        marked = (
            msgspec.convert({"not_involved": {s: {"reason": "-"} for s in p.not_involved}}, ContributionContent)
            if p.not_involved
            else empty
        )
        applicable = contribution_progress(toolkit, who, marked, case_details=values).applicable
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
                not_involved=list(p.not_involved),
            )
        )
    return views


def contribution_path(contribution: ContributionRow) -> str:
    """Where the contribution is read, with its own ``ETag`` (the one its
    writes take in ``If-Match``; the audit's is another)."""
    return f"/api/audits/{contribution.audit_id}/contributions/{contribution.organisation_id}"


class ContributionView(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    organisation_id: UUID
    # The contribution's own resource: read it there for its ETag.
    href: str
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


def contribution_view(
    contribution: ContributionRow, content: ContributionContent | None, applicable: int
) -> ContributionView:
    return ContributionView(
        audit_id=contribution.audit_id,
        organisation_id=contribution.organisation_id,
        href=contribution_path(contribution),
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


class VersionView(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    kind: str
    reason: str | None
    content: ContributionContent
    created_by: UUID | None
    created_at: datetime.datetime


class OutstandingItem(msgspec.Struct, frozen=True, kw_only=True):
    """Something not done that closing an audit would leave undone: an
    agency that has not submitted, a disagreement no grade was agreed for,
    no agreed overall grade, an immediate concern."""

    kind: Literal["not-submitted", "disagreement", "no-agreed-overall", "immediate-concern"]
    text: str


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
    # What the audit is called everywhere (the coordinator's reference).
    reference: str | None = None
    # Coordinators and reviewers: who takes part and how far they are.
    participants: list[ParticipantView] | None = None
    allowed_transitions: list[str] | None = None
    # Coordinators and reviewers, while the audit is in review: what closing
    # it now would leave undone (closing then needs a confirmation and a
    # reason).
    outstanding: list[OutstandingItem] | None = None
    # Auditors: the questions their agency answers on this case, and their
    # own contribution.
    questions: Toolkit | None = None
    contribution: ContributionView | None = None


class ProgressView(msgspec.Struct, frozen=True, kw_only=True):
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


class OrganisationView(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation of the partnership, as a coordinator invites it
    (published as ``Organisation``; see the module's docstring)."""

    id: UUID
    code: str
    name: str
    agency_kind: str


def organisation_view(row: OrganisationRow) -> OrganisationView:
    return OrganisationView(id=row.id, code=row.code, name=row.name, agency_kind=row.agency_kind)


# --- lists of audits ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ListedAudit:
    """An audit as every list shows it: the API's items, the coordinator's
    and reviewers' audits and an auditor's own audits are all made from
    these (one statement for the list, and one for the participants'
    progress when it is asked for)."""

    id: UUID
    toolkit_id: str
    toolkit_version: int
    # None when the toolkit version is no longer installed.
    toolkit: Toolkit | None
    reference: str
    status: str
    due_date: datetime.date | None
    overdue: bool
    period_start: datetime.date | None
    period_end: datetime.date | None
    participants: int
    submitted: int
    # Lists of one organisation's audits: its own contribution's status.
    own_status: str | None
    # When asked for: each current participant's progress.
    progress: list[ParticipantView] | None
    row_version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    # Created with one of the partnership's own toolkit versions.
    toolkit_local: bool = False

    @property
    def toolkit_title(self) -> str:
        return self.toolkit.title if self.toolkit is not None else self.toolkit_id


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
    # What the audit is called everywhere (the coordinator's reference).
    reference: str | None = None

    @classmethod
    def of(cls, listed: ListedAudit) -> AuditListItem:
        return cls(
            id=listed.id,
            reference=listed.reference,
            toolkit=ToolkitRef(id=listed.toolkit_id, version=listed.toolkit_version, local=listed.toolkit_local),
            status=listed.status,
            due_date=listed.due_date,
            overdue=listed.overdue,
            period_start=listed.period_start,
            period_end=listed.period_end,
            participants=listed.participants,
            submitted=listed.submitted,
            row_version=listed.row_version,
            created_at=listed.created_at,
            updated_at=listed.updated_at,
        )


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    audits: list[AuditListItem]
    total: int
    limit: int
    offset: int


# --- remedial actions -------------------------------------------------------------------


class ActionView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    audit_id: UUID
    action: str
    who: str | None
    timescale: str | None
    responsible_organisation_id: UUID | None
    due_date: datetime.date | None
    date_reviewed: datetime.date | None
    completed: bool
    comments: str | None
    initials: str | None
    overdue: bool
    row_version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    # open, in-progress, completed or not-taken-forward; every change of it
    # is kept (GET /api/actions/{id})
    status: str = "open"
    evidence: str | None = None
    # the contribution's action table the action came from, if it did
    source_question_id: str | None = None


def action_view(action: RemedialActionRow) -> ActionView:
    return ActionView(
        id=action.id,
        audit_id=action.audit_id,
        action=action.action,
        who=action.who,
        timescale=action.timescale,
        responsible_organisation_id=action.responsible_organisation_id,
        due_date=action.due_date,
        date_reviewed=action.date_reviewed,
        completed=action.completed,
        comments=action.comments,
        initials=action.initials,
        overdue=action_overdue(action),
        row_version=action.row_version,
        created_at=action.created_at,
        updated_at=action.updated_at,
        status=action.status,
        evidence=action.evidence,
        source_question_id=action.source_question_id,
    )


class RemedialAction(msgspec.Struct, frozen=True, kw_only=True):
    """An action as it is kept, with who made and last changed it: the
    audit export's record (published as ``RemedialAction``; see the
    module's docstring)."""

    id: UUID
    audit_id: UUID
    action: str
    who: str | None
    timescale: str | None
    responsible_organisation_id: UUID | None
    due_date: datetime.date | None
    date_reviewed: datetime.date | None
    completed: bool
    comments: str | None
    initials: str | None
    row_version: int
    created_by: UUID | None
    created_at: datetime.datetime
    updated_by: UUID | None
    updated_at: datetime.datetime


# --- exports ------------------------------------------------------------------------------


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
    # Each agency's practitioner and family voice as the caller may see it
    # (staff: every submitted agency's; an agency: its own).
    voices: list[VoiceView] = []
    exported_at: datetime.datetime | None = None
