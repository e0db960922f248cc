"""An audit of a case: the coordinator creates, corrects, distributes and
closes it; everyone who may see it reads it, its progress and its log.

Who may see an audit: coordinators and reviewers of its partnership, and
auditors of an organisation taking part once it is distributed
(:mod:`server.audits.access`). Each step checks who may act and whether the
audit's state allows it, writes, records its event and refreshes the
audit's themes summary; each read decides what its reader sees and records
the read, in the same transaction.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec

from agencies.applicability import Participant, view_for
from agencies.contributions import contribution_progress
from merging import RULES_EDITION, PartnershipJudgement
from server.audits import events, notifications, summaries
from server.audits.access import listed_organisation, taking_part_as, visible_audit
from server.audits.catalogue import Catalogue, catalogue_of, local_toolkits
from server.audits.checks import (
    NO_SUCH_ORGANISATION,
    changed_meanwhile,
    check_reason,
    check_seen_version,
    check_text,
    invalid,
)
from server.audits.events import EventName
from server.audits.facts import audit_toolkit, case_details_of, contribution_content, participant_of
from server.audits.judgement import judgement_of
from server.audits.views import (
    MAX_REFERENCE,
    AuditView,
    EventView,
    ListedAudit,
    OrganisationView,
    OutstandingItem,
    ParticipantView,
    ProgressView,
    ToolkitRef,
    audit_overdue,
    audit_reference,
    case_reference,
    contribution_view,
    organisation_view,
    participant_views,
    today,
)
from server.auth.permissions import Permission, is_partnership_staff, may, require
from server.auth.principal import Principal
from server.db import audits, contributions
from server.db import events as stored_events
from server.db.audits import AuditRow, OrganisationRow, ParticipantRow
from server.db.contributions import ContributionRow
from server.platform.problems import Conflict
from toolkits.answers import CaseDetails
from toolkits.model import Toolkit
from toolkits.registry import Registry, UnknownToolkit
from toolkits.validation import FieldProblem, case_detail_values, validate_case_details

__all__ = [
    "STATUSES",
    "TRANSITIONS",
    "AuditChanges",
    "AuditRead",
    "AuditStatus",
    "ListFilters",
    "NewAudit",
    "NewAuditOptions",
    "change_audit",
    "change_problems",
    "check_transition",
    "closing_outstanding",
    "create_audit",
    "create_draft",
    "distribution_problems",
    "list_audits",
    "list_filters",
    "list_organisations",
    "move_audit",
    "new_audit_options",
    "new_audit_problems",
    "partnership_organisations",
    "read_audit",
    "read_events",
    "read_progress",
    "reference_problems",
    "status_change_problems",
    "view_of",
]

AuditStatus = Literal["draft", "open", "in-review", "closed"]
STATUSES: tuple[AuditStatus, ...] = ("draft", "open", "in-review", "closed")

# draft → open distributes the audit; in-review → open and closed → open
# reopen it (with a reason).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("open",),
    "open": ("in-review",),
    "in-review": ("closed", "open"),
    "closed": ("open",),
}


# --- what a coordinator sends ---------------------------------------------------------


class NewAudit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new audit of a case: the API's request body, and what the
    coordinator's pages fill in once their form is checked."""

    toolkit: str
    participants: list[str]  # organisation ids or codes, of the caller's partnership
    case_details: CaseDetails = msgspec.field(default_factory=CaseDetails)
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    referring_organisation: str | None = None  # id or code
    due_date: datetime.date | None = None
    # The coordinator's reference for the audit, shown wherever it is named
    # (at most 100 characters); without one, the case identifier when the
    # toolkit collects one.
    reference: str | None = None


class AuditChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A correction. Absent fields stay as they are; ``null`` clears one."""

    case_details: CaseDetails | msgspec.UnsetType = msgspec.UNSET
    period_start: datetime.date | msgspec.UnsetType | None = msgspec.UNSET
    period_end: datetime.date | msgspec.UnsetType | None = msgspec.UNSET
    referring_organisation: str | msgspec.UnsetType | None = msgspec.UNSET
    due_date: datetime.date | msgspec.UnsetType | None = msgspec.UNSET
    reference: str | msgspec.UnsetType | None = msgspec.UNSET
    add_participants: list[str] = msgspec.field(default_factory=list)
    remove_participants: list[str] = msgspec.field(default_factory=list)
    # Required once any agency has started, and to remove a participant.
    reason: str | None = None


def _period_problems(start: datetime.date | None, end: datetime.date | None) -> list[FieldProblem]:
    if start and end and start > end:
        return [FieldProblem(field="$.period_end", message="is before the start of the audit period")]
    return []


# --- creating an audit ------------------------------------------------------------------


def reference_problems(reference: str | None) -> list[FieldProblem]:
    """A reference, when one is given: something a reader sees, at most
    100 characters."""
    if reference is None:
        return []
    return check_text(
        reference.strip(),
        field="$.reference",
        required=True,
        missing="enter a reference people will know the audit by",
        max_length=MAX_REFERENCE,
    )


def new_audit_problems(registry: Registry, new: NewAudit) -> tuple[Toolkit | None, list[FieldProblem]]:
    """The toolkit ``new`` names, and what is wrong with ``new`` that can be
    told without the database: a draft's case details may be partial."""
    problems: list[FieldProblem] = []
    toolkit: Toolkit | None = None
    try:
        toolkit = registry.current(new.toolkit)
    except UnknownToolkit:
        known = ", ".join(registry.ids())
        problems.append(FieldProblem(field="$.toolkit", message=f"no such toolkit; the toolkits are: {known}"))
    if toolkit is not None:
        problems.extend(validate_case_details(toolkit, new.case_details))
    problems += _period_problems(new.period_start, new.period_end)
    problems += reference_problems(new.reference)
    if not new.participants:
        problems.append(FieldProblem(field="$.participants", message="name at least one organisation"))
    return toolkit, problems


@dataclass(frozen=True)
class NewAuditOptions:
    """What a coordinator chooses from to create an audit: the toolkits
    their partnership offers, each in the version new audits take (its own,
    when its administrator activated one), and the due date its default
    due period gives an audit created today."""

    toolkits: list[Toolkit]
    default_due_date: datetime.date | None

    def toolkit(self, toolkit_id: str) -> Toolkit | None:
        return next((toolkit for toolkit in self.toolkits if toolkit.id == toolkit_id), None)


def _due_by_default(catalogue: Catalogue) -> datetime.date | None:
    days = catalogue.settings.default_due_days
    return None if days is None else today() + datetime.timedelta(days=days)


async def new_audit_options(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry
) -> NewAuditOptions:
    require(principal, Permission.AUDIT_CREATE)
    catalogue = await catalogue_of(connection, registry, principal.partnership_id)
    return NewAuditOptions(toolkits=catalogue.offered_toolkits(), default_due_date=_due_by_default(catalogue))


async def create_audit(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, new: NewAudit
) -> AuditRow:
    """Create the audit as a draft of the version of the toolkit the
    partnership's new audits take, its participants (organisations of the
    caller's partnership, by id or code) invited; 422 naming every problem.
    The audit keeps that version and the partnership's merge policy for the
    toolkit, whatever the administrator chooses later; without a due date
    it is due after the partnership's default due period."""
    require(principal, Permission.AUDIT_CREATE)
    return await create_draft(connection, principal, registry, new)


async def create_draft(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, new: NewAudit
) -> AuditRow:
    """:func:`create_audit` for a step that has checked its own permission
    (a programme's cases, added by its coordinators or administrators)."""
    catalogue = await catalogue_of(connection, registry, principal.partnership_id)
    toolkit, problems = new_audit_problems(catalogue.registry, new)
    if toolkit is not None and not catalogue.offered(toolkit.id):
        problems.insert(
            0, FieldProblem(field="$.toolkit", message="your partnership does not offer this toolkit for new audits")
        )
    references = [*new.participants, *([new.referring_organisation] if new.referring_organisation else [])]
    known = await audits.partnership_organisations(connection, principal.partnership_id, references)
    for i, reference in enumerate(new.participants):
        if reference not in known:
            problems.append(FieldProblem(field=f"$.participants[{i}]", message=NO_SUCH_ORGANISATION))
    if new.referring_organisation and new.referring_organisation not in known:
        problems.append(FieldProblem(field="$.referring_organisation", message=NO_SUCH_ORGANISATION))
    if problems or toolkit is None:
        raise invalid(problems)
    audit = await audits.create(
        connection,
        partnership_id=principal.partnership_id,
        toolkit_id=toolkit.id,
        toolkit_version=toolkit.version,
        case_details=msgspec.to_builtins(new.case_details),
        period_start=new.period_start,
        period_end=new.period_end,
        referring_organisation_id=known[new.referring_organisation].id if new.referring_organisation else None,
        due_date=new.due_date or _due_by_default(catalogue),
        judgement_rules=RULES_EDITION,
        user_id=principal.user_id,
        local_toolkit_version_id=catalogue.current_local_id(toolkit.id),
        merge_policy=catalogue.merge_policy(toolkit.id),
        reference=(new.reference or "").strip() or case_reference(toolkit, new.case_details),
    )
    organisation_ids = list(dict.fromkeys(known[reference].id for reference in new.participants))
    for organisation_id in organisation_ids:
        await audits.add_participant(connection, audit.id, organisation_id, principal.user_id)
    await events.record(
        connection,
        principal,
        EventName.AUDIT_CREATED,
        audit_id=audit.id,
        detail={
            "toolkit": toolkit.id,
            "toolkit_version": toolkit.version,
            # The partnership's own version, and the policy it chose, when so.
            **(
                {"local_toolkit_version_id": str(audit.local_toolkit_version_id)}
                if audit.local_toolkit_version_id
                else {}
            ),
            **({"merge_policy": audit.merge_policy} if audit.merge_policy else {}),
            "participants": [str(i) for i in organisation_ids],
        },
    )
    await summaries.refresh(connection, registry, audit.id)
    return audit


# --- correcting an audit ------------------------------------------------------------------


def change_problems(
    toolkit: Toolkit,
    audit: AuditRow,
    changes: AuditChanges,
    *,
    started: bool,
    known: Mapping[str, OrganisationRow],
) -> list[FieldProblem]:
    """What stops ``changes`` being made: a reason once an agency has started
    (and to remove a participant), case details that fit the toolkit
    (complete once distributed), a period that ends after it starts, and
    organisations of the partnership (``known``: those found, by the
    reference used)."""
    # Renaming the audit (its reference) changes nothing an agency wrote
    # against, so it needs no reason.
    substantive = bool(changes.add_participants or changes.remove_participants) or any(
        not isinstance(getattr(changes, name), msgspec.UnsetType)
        for name in ("case_details", "period_start", "period_end", "referring_organisation", "due_date")
    )
    problems = check_reason(
        changes.reason,
        required=(started and substantive) or bool(changes.remove_participants),
        why="once an agency has started, and to remove a participant",
    )
    if not isinstance(changes.case_details, msgspec.UnsetType):
        problems.extend(validate_case_details(toolkit, changes.case_details, complete=audit.status != "draft"))
    start = audit.period_start if isinstance(changes.period_start, msgspec.UnsetType) else changes.period_start
    end = audit.period_end if isinstance(changes.period_end, msgspec.UnsetType) else changes.period_end
    problems += _period_problems(start, end)
    if not isinstance(changes.reference, msgspec.UnsetType):
        problems += reference_problems(changes.reference)
    for name, listed in (
        ("add_participants", changes.add_participants),
        ("remove_participants", changes.remove_participants),
    ):
        for i, reference in enumerate(listed):
            if reference not in known:
                problems.append(FieldProblem(field=f"$.{name}[{i}]", message=NO_SUCH_ORGANISATION))
    if isinstance(changes.referring_organisation, str) and changes.referring_organisation not in known:
        problems.append(FieldProblem(field="$.referring_organisation", message=NO_SUCH_ORGANISATION))
    return problems


def _references(changes: AuditChanges) -> list[str]:
    references = list(changes.add_participants) + list(changes.remove_participants)
    if isinstance(changes.referring_organisation, str):
        references.append(changes.referring_organisation)
    return references


async def change_audit(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    changes: AuditChanges,
    *,
    seen_version: int | None,
) -> AuditRow:
    """Correct the audit's case details, period, due date, referrer or who
    takes part (a coordinator, until it is closed); the audit as it is now."""
    require(principal, Permission.AUDIT_EDIT)
    audit = await visible_audit(connection, principal, audit_id, for_update=True)
    check_seen_version(seen_version, audit.row_version, resource="the audit", read_at=f"/api/audits/{audit.id}")
    if audit.status == "closed":
        raise Conflict("the audit is closed; reopen it to change it", allowed=["open"])
    toolkit = await audit_toolkit(connection, registry, audit)
    started = await audits.any_contribution_started(connection, audit.id)
    known = await audits.partnership_organisations(connection, principal.partnership_id, _references(changes))
    problems = change_problems(toolkit, audit, changes, started=started, known=known)
    if problems:
        raise invalid(problems)

    current = {p.organisation_id for p in await audits.participants(connection, audit.id) if p.removed_at is None}
    added = [known[r].id for r in changes.add_participants if known[r].id not in current]
    removed = [known[r].id for r in changes.remove_participants if known[r].id in current]
    for organisation_id in dict.fromkeys(added):
        await audits.add_participant(connection, audit.id, organisation_id, principal.user_id)
    for organisation_id in dict.fromkeys(removed):
        await audits.remove_participant(
            connection, audit.id, organisation_id, principal.user_id, (changes.reason or "").strip()
        )
    referring = audit.referring_organisation_id
    if isinstance(changes.referring_organisation, str):
        referring = known[changes.referring_organisation].id
    elif changes.referring_organisation is None:
        referring = None
    updated = await audits.update(
        connection,
        audit.id,
        audit.row_version,
        case_details=(
            audit.case_details
            if isinstance(changes.case_details, msgspec.UnsetType)
            else msgspec.to_builtins(changes.case_details)
        ),
        period_start=audit.period_start
        if isinstance(changes.period_start, msgspec.UnsetType)
        else changes.period_start,
        period_end=audit.period_end if isinstance(changes.period_end, msgspec.UnsetType) else changes.period_end,
        referring_organisation_id=referring,
        due_date=audit.due_date if isinstance(changes.due_date, msgspec.UnsetType) else changes.due_date,
        status=audit.status,
        user_id=principal.user_id,
        reference=(
            audit.reference
            if isinstance(changes.reference, msgspec.UnsetType)
            else ((changes.reference or "").strip() or None)
        ),
    )
    if updated is None:  # unreachable while the row is locked; kept for safety
        raise changed_meanwhile("the audit")
    assert updated is not None
    if added and audit.status != "draft":
        # Already distributed: an organisation added now is sent it as the
        # first ones were, in this transaction (the outbox).
        await notifications.audit_distributed(
            connection,
            partnership_id=audit.partnership_id,
            audit_id=audit.id,
            organisation_ids=list(dict.fromkeys(added)),
            due_date=updated.due_date,
            occasion=f"added-at-version-{updated.row_version}",
        )
    await events.record(
        connection,
        principal,
        EventName.AUDIT_CHANGED,
        audit_id=audit.id,
        detail={
            "fields": [
                name
                for name in (
                    "case_details",
                    "period_start",
                    "period_end",
                    "referring_organisation",
                    "due_date",
                    "reference",
                )
                if not isinstance(getattr(changes, name), msgspec.UnsetType)
            ],
            "added": [str(i) for i in added],
            "removed": [str(i) for i in removed],
            "reason": changes.reason,
        },
    )
    await summaries.refresh(connection, registry, audit.id)
    return updated


# --- moving an audit on -----------------------------------------------------------------


def check_transition(current: str, target: str) -> None:
    allowed = TRANSITIONS[current]
    if target not in allowed:
        raise Conflict(f"an audit that is {current} cannot become {target}", allowed=list(allowed))


def distribution_problems(toolkit: Toolkit, details: CaseDetails) -> list[FieldProblem]:
    """What the case details lack before the audit goes to the agencies,
    each naming the case detail by the toolkit's words and who fills it in
    (the agencies cannot: "an answer is required before submitting" left a
    coordinator wondering whose answer)."""
    given = validate_case_details(toolkit, details)
    questions = {q.id: q for s in toolkit.sections if s.completed_by == "coordinator" for q in s.questions}
    problems: list[FieldProblem] = []
    for problem in validate_case_details(toolkit, details, complete=True):
        if problem in given:
            problems.append(problem)
            continue
        question_id = problem.field.removeprefix("$.case_details.answers.").split(".")[0].split("[")[0]
        label = questions[question_id].text.strip().rstrip(":") if question_id in questions else question_id
        missing = problem.message.replace(" before submitting", "")
        what = f"“{label}” is missing" if missing == "an answer is required" else f"“{label}”: {missing}"
        problems.append(
            FieldProblem(
                field=problem.field,
                message=f"{what}; the coordinator fills in every case detail before the audit is distributed",
            )
        )
    return problems


def closing_outstanding(judgement: PartnershipJudgement, participants: list[ParticipantRow]) -> list[OutstandingItem]:
    """What closing the audit now would leave undone, in plain words: agencies
    that have not submitted (their work would never be part of the final
    judgement), disagreements of two grades or more no grade was agreed
    for, no overall grade agreed by the panel, and immediate concerns."""
    items: list[OutstandingItem] = []
    for p in participants:
        if p.contribution_status != "submitted":
            status = {"not-started": "not started", "in-progress": "in progress", "returned": "returned to it"}
            items.append(
                OutstandingItem(
                    kind="not-submitted",
                    text=f"{p.organisation_name} has not submitted "
                    f"(its contribution is {status.get(p.contribution_status, p.contribution_status)})",
                )
            )
    for section in judgement.sections:
        if section.disagreement is not None and section.moderation is None:
            items.append(
                OutstandingItem(
                    kind="disagreement",
                    text=f"Agencies are {section.disagreement.spread} grades apart on {section.title} "
                    "and no grade has been agreed",
                )
            )
    overall = judgement.overall
    if overall.moderation is None:
        text = "The panel has not agreed an overall grade"
        if overall.disagreement is not None:
            text += f" (the agencies' own overall judgements are {overall.disagreement.spread} grades apart)"
        items.append(OutstandingItem(kind="no-agreed-overall", text=text))
    for concern in judgement.immediate_concerns:
        if concern.question_id is None:  # a significant failure recorded in a section
            text = (
                "A significant failure which has impacted on the safety of the child, recorded by "
                f"{concern.organisation_name} in {concern.section_title}"
            )
        else:
            text = f"An immediate concern from {concern.organisation_name}: {concern.message}"
        items.append(OutstandingItem(kind="immediate-concern", text=text))
    return items


def status_change_problems(
    toolkit: Toolkit,
    audit: AuditRow,
    participants: list[ParticipantRow],
    target: str,
    reason: str | None,
    *,
    outstanding: list[OutstandingItem] | None = None,
    confirmed: bool = False,
) -> list[FieldProblem]:
    """What stops ``audit`` becoming ``target``: a reason to reopen, or to
    review before every agency has submitted; complete case details and at
    least one participant to distribute it; to close it with anything
    ``outstanding``, a confirmation and a reason."""
    problems: list[FieldProblem] = []
    if target == "open" and audit.status != "draft":
        problems += check_reason(reason, required=True, why="to reopen an audit")
    elif target == "in-review":
        all_submitted = all(p.contribution_status == "submitted" for p in participants)
        problems += check_reason(reason, required=not all_submitted, why="to review before every agency has submitted")
    elif target == "closed" and outstanding:
        if not confirmed:
            listed = "; ".join(item.text for item in outstanding)
            problems.append(
                FieldProblem(
                    field="$.confirm_outstanding",
                    message=f"confirm you are closing the audit with {len(outstanding)} thing"
                    f"{'s' if len(outstanding) != 1 else ''} outstanding: {listed}",
                )
            )
        problems += check_reason(reason, required=True, why="to close the audit with something outstanding")
    else:
        problems += check_reason(reason, required=False, why="")
    if audit.status == "draft":
        problems += distribution_problems(toolkit, case_details_of(audit))
        if not participants:
            problems.append(FieldProblem(field="$.participants", message="no organisation takes part"))
    return problems


async def move_audit(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    target: str,
    reason: str | None,
    *,
    seen_version: int | None,
    confirm_outstanding: bool = False,
) -> AuditRow:
    """Distribute, review, close or reopen the audit; the audit as it is now.
    Closing makes the judgement final: with anything outstanding
    (:func:`closing_outstanding`) it needs ``confirm_outstanding`` and a
    reason, and the 422 lists what is outstanding."""
    require(principal, Permission.AUDIT_MOVE)
    audit = await visible_audit(connection, principal, audit_id, for_update=True)
    check_seen_version(seen_version, audit.row_version, resource="the audit", read_at=f"/api/audits/{audit.id}")
    check_transition(audit.status, target)
    toolkit = await audit_toolkit(connection, registry, audit)
    participants = [p for p in await audits.participants(connection, audit.id) if p.removed_at is None]
    outstanding: list[OutstandingItem] = []
    if target == "closed":
        outstanding = closing_outstanding(await judgement_of(connection, toolkit, audit), participants)
    problems = status_change_problems(
        toolkit, audit, participants, target, reason, outstanding=outstanding, confirmed=confirm_outstanding
    )
    if problems:
        raise invalid(
            problems, "closing would leave things outstanding" if outstanding else "the audit cannot move on yet"
        )
    updated = await audits.update(
        connection,
        audit.id,
        audit.row_version,
        case_details=audit.case_details,
        period_start=audit.period_start,
        period_end=audit.period_end,
        referring_organisation_id=audit.referring_organisation_id,
        due_date=audit.due_date,
        status=target,
        user_id=principal.user_id,
        reference=audit.reference,
    )
    if updated is None:  # unreachable while the row is locked; kept for safety
        raise changed_meanwhile("the audit")
    detail: dict[str, Any] = {"from": audit.status, "to": target, "reason": reason}
    if outstanding:
        # What was confirmed as outstanding, by kind (the texts name agencies).
        detail["outstanding"] = {
            kind: sum(1 for item in outstanding if item.kind == kind)
            for kind in dict.fromkeys(item.kind for item in outstanding)
        }
    await events.record(connection, principal, EventName.AUDIT_STATUS_CHANGED, audit_id=audit.id, detail=detail)
    await summaries.refresh(connection, registry, audit.id)
    # Tell the people who must act, in this transaction (the outbox).
    taking_part = [p.organisation_id for p in participants]
    if audit.status == "draft" and target == "open":
        await notifications.audit_distributed(
            connection,
            partnership_id=audit.partnership_id,
            audit_id=audit.id,
            organisation_ids=taking_part,
            due_date=audit.due_date,
        )
    elif target == "closed":
        await notifications.audit_closed(
            connection,
            partnership_id=audit.partnership_id,
            audit_id=audit.id,
            audit_created_by=audit.created_by,
            organisation_ids=taking_part,
            key=f"{audit.id}:{updated.row_version}",
        )
    return updated


# --- reading an audit ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AuditRead:
    """An audit as its reader may see it: coordinators and reviewers every
    organisation ever invited and its progress; an agency's auditor its
    own part in the case and its own contribution."""

    audit: AuditRow
    toolkit: Toolkit
    participants: list[ParticipantView] | None = None
    agency: Participant | None = None
    contribution: ContributionRow | None = None
    # In review, for those who may close it: what closing would leave undone.
    outstanding: list[OutstandingItem] | None = None

    @property
    def active(self) -> list[ParticipantView]:
        """The organisations taking part now."""
        return [p for p in self.participants or () if p.removed_at is None]

    @property
    def case_details(self) -> CaseDetails:
        return case_details_of(self.audit)

    @property
    def reference(self) -> str:
        return audit_reference(self.toolkit, self.audit)

    def view(self) -> AuditView:
        """The API's document of the audit."""
        audit = self.audit
        base: dict[str, Any] = {
            "id": audit.id,
            "toolkit": ToolkitRef(
                id=audit.toolkit_id, version=audit.toolkit_version, local=audit.local_toolkit_version_id is not None
            ),
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
            "reference": self.reference,
        }
        if self.participants is not None:
            return AuditView(
                **base,
                participants=self.participants,
                allowed_transitions=list(TRANSITIONS[audit.status]),
                outstanding=self.outstanding,
            )
        assert self.agency is not None
        values = case_detail_values(case_details_of(audit))
        view = None
        if self.contribution is not None:
            content = contribution_content(self.contribution)
            applicable = contribution_progress(self.toolkit, self.agency, content, case_details=values).applicable
            view = contribution_view(self.contribution, content, applicable)
        return AuditView(**base, questions=view_for(self.toolkit, self.agency, values), contribution=view)


async def view_of(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit: AuditRow
) -> AuditRead:
    """What ``principal`` sees of an audit a step has just read or written
    (not recorded as a read: the step recorded what it did)."""
    toolkit = await audit_toolkit(connection, registry, audit)
    if is_partnership_staff(principal):
        return AuditRead(
            audit=audit,
            toolkit=toolkit,
            participants=participant_views(toolkit, audit, await audits.participants(connection, audit.id)),
        )
    return AuditRead(
        audit=audit,
        toolkit=toolkit,
        agency=participant_of(audit, principal.organisation_id, taking_part_as(audit, principal)),
        contribution=await contributions.get(connection, audit.id, principal.organisation_id),
    )


async def read_audit(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit_id: UUID
) -> AuditRead:
    """The audit as ``principal`` may see it, the read recorded."""
    require(principal, Permission.AUDIT_READ)
    audit = await visible_audit(connection, principal, audit_id)
    read = await view_of(connection, principal, registry, audit)
    await events.record(connection, principal, EventName.AUDIT_READ, audit_id=audit.id)
    if audit.status == "in-review" and may(principal, Permission.AUDIT_MOVE):
        current = [p for p in await audits.participants(connection, audit.id) if p.removed_at is None]
        outstanding = closing_outstanding(await judgement_of(connection, read.toolkit, audit), current)
        return dataclasses.replace(read, outstanding=outstanding)
    return read


async def read_progress(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit_id: UUID
) -> ProgressView:
    """Who has done what on the audit (coordinators and reviewers), the read recorded."""
    require(principal, Permission.PARTNERSHIP_OVERSEE)
    audit = await visible_audit(connection, principal, audit_id)
    participants = participant_views(
        await audit_toolkit(connection, registry, audit), audit, await audits.participants(connection, audit.id)
    )
    await events.record(connection, principal, EventName.AUDIT_PROGRESS_READ, audit_id=audit.id)
    active = [p for p in participants if p.removed_at is None]
    return ProgressView(
        audit_id=audit.id,
        status=audit.status,
        due_date=audit.due_date,
        overdue=audit_overdue(audit),
        submitted=sum(1 for p in active if p.contribution_status == "submitted"),
        participants=participants,
    )


async def read_events(
    connection: asyncpg.Connection[Any], principal: Principal, audit_id: UUID, *, after: int, limit: int
) -> list[EventView]:
    """What happened to the audit, oldest first, after event id ``after``
    (coordinators and reviewers); the read recorded."""
    require(principal, Permission.PARTNERSHIP_OVERSEE)
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


# --- lists --------------------------------------------------------------------------------


async def list_audits(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    *,
    status: str | None = None,
    toolkit_id: str | None = None,
    due_before: datetime.date | None = None,
    overdue: bool = False,
    search: str | None = None,
    agency_id: UUID | None = None,
    limit: int,
    offset: int,
    own_organisation: bool = False,
    with_progress: bool = False,
    programme_id: UUID | None = None,
) -> tuple[list[ListedAudit], int]:
    """A page of the audits ``principal`` may see, soonest due first, and
    how many match in all; the read recorded. ``own_organisation``: only
    those their organisation takes part in, whatever else they may see (an
    auditor's own list). ``with_progress``: each current participant's
    progress too. ``programme_id``: only that programme's audits (none for
    a programme of another partnership, which row-level security hides).
    One statement reads the page, whatever its length, and one more the
    participants of all of it."""
    if own_organisation:
        require(principal, Permission.CONTRIBUTION_WRITE)
        organisation_id: UUID | None = principal.organisation_id
    else:
        organisation_id = listed_organisation(principal)
    rows, total = await audits.list_audits(
        connection,
        partnership_id=principal.partnership_id,
        organisation_id=organisation_id,
        status=status,
        toolkit_id=toolkit_id,
        due_before=due_before,
        overdue_on=today() if overdue else None,
        limit=limit,
        offset=offset,
        programme_id=programme_id,
        search=search.strip()[:MAX_REFERENCE] if search and search.strip() else None,
        agency_id=agency_id,
    )
    progress = await audits.participants_of(connection, [row.id for row in rows]) if with_progress and rows else {}
    # The partnership's own versions the page's audits were created with:
    # none, mostly; read in one statement when there are some.
    local = await local_toolkits(
        connection, [row.local_toolkit_version_id for row in rows if row.local_toolkit_version_id]
    )
    listed: list[ListedAudit] = []
    for row in rows:
        toolkit: Toolkit | None = None
        if row.local_toolkit_version_id is not None:
            toolkit = local.get(row.local_toolkit_version_id)
        else:
            try:
                toolkit = registry.get(row.toolkit_id, row.toolkit_version)
            except UnknownToolkit:
                toolkit = None
        listed.append(
            ListedAudit(
                id=row.id,
                toolkit_id=row.toolkit_id,
                toolkit_version=row.toolkit_version,
                toolkit=toolkit,
                reference=audit_reference(toolkit, row),
                status=row.status,
                due_date=row.due_date,
                overdue=audit_overdue(row),
                period_start=row.period_start,
                period_end=row.period_end,
                participants=row.participants,
                submitted=row.submitted,
                own_status=(row.own_status or "not-started") if organisation_id is not None else None,
                progress=(
                    participant_views(toolkit, row, progress[row.id]) if with_progress and toolkit is not None else None
                ),
                row_version=row.row_version,
                created_at=row.created_at,
                updated_at=row.updated_at,
                toolkit_local=row.local_toolkit_version_id is not None,
            )
        )
    await events.record(connection, principal, EventName.AUDITS_LISTED, detail={"count": len(rows), "total": total})
    return listed, total


@dataclass(frozen=True)
class ListFilters:
    """What an audits list can be narrowed to: the toolkits (id, title) and
    the partnership's agencies. (Programmes join them when audits belong to
    one.)"""

    toolkits: list[tuple[str, str]]
    organisations: list[OrganisationView]


async def list_filters(connection: asyncpg.Connection[Any], principal: Principal, registry: Registry) -> ListFilters:
    """The choices of the audits list's filters (not a read of anyone's
    work, so not recorded)."""
    require(principal, Permission.PARTNERSHIP_OVERSEE)
    toolkits = sorted(((i, registry.current(i).title) for i in registry.ids()), key=lambda pair: pair[1])
    found = await audits.organisations_of_partnership(connection, principal.partnership_id)
    return ListFilters(toolkits=toolkits, organisations=[organisation_view(o) for o in found])


async def list_organisations(connection: asyncpg.Connection[Any], principal: Principal) -> list[OrganisationView]:
    """The organisations of the caller's partnership, by name; the read recorded."""
    require(principal, Permission.ORGANISATION_READ)
    found = await audits.organisations_of_partnership(connection, principal.partnership_id)
    await events.record(connection, principal, EventName.ORGANISATIONS_LISTED, detail={"count": len(found)})
    return [organisation_view(o) for o in found]


async def partnership_organisations(
    connection: asyncpg.Connection[Any], principal: Principal
) -> list[OrganisationView]:
    """The organisations a coordinator may invite, as a form's choices (the
    form is not a read of anyone's work, so it is not recorded)."""
    require(principal, Permission.AUDIT_CREATE)
    return [
        organisation_view(o) for o in await audits.organisations_of_partnership(connection, principal.partnership_id)
    ]
