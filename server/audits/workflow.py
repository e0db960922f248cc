"""What happens to an audit, whoever asks: the steps the JSON API
(``server/api/``) and the web pages (``server/pages/``) both take.

Each step takes the transaction's connection, the principal, the toolkit
registry and typed inputs; checks who may do it and whether the audit is in
a state that allows it; writes; records the event; and refreshes the themes
summary where the partnership's judgement may have moved. A refusal is one of
the problems of ``server.platform.problems``: the API answers it as an RFC 9457
document, the pages as a GOV.UK error message.

HTTP stays at the edges: the controllers read ``If-Match`` and a form's
hidden ``row_version``, write ``ETag`` and replay ``Idempotency-Key``; a step
is given the version the caller saw. The pure checks are separate functions,
so a page can show every problem with a form at once before writing.
Controllers may call the cheap checks early, to answer before opening a
transaction; the steps check them again, so no caller can skip them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from agencies.applicability import Participant
from merging import OVERALL
from server.audits import events, summaries
from server.audits.events import EventName
from server.audits.facts import audit_toolkit as audit_toolkit
from server.audits.facts import case_details_of as case_details_of
from server.audits.facts import contribution_content as contribution_content
from server.audits.facts import participant_of as participant_of
from server.auth.principal import Principal
from server.db import actions, audits, contributions, judgements
from server.platform.problems import Conflict, FieldError, Forbidden, InvalidInput, NotFound, PreconditionFailed
from server.platform.transactions import check_version
from toolkits.answers import CaseDetails, ContributionContent
from toolkits.model import Toolkit
from toolkits.registry import Registry
from toolkits.validation import (
    FieldProblem,
    case_detail_values,
    contribution_progress,
    validate_case_details,
    validate_contribution,
)

# draft → open distributes the audit; in-review → open and closed → open
# reopen it (with a reason).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("open",),
    "open": ("in-review",),
    "in-review": ("closed", "open"),
    "closed": ("open",),
}

MAX_REASON = 2_000
MAX_MODERATION_REASON = 5_000

NO_SUCH_ORGANISATION = "no organisation of your partnership has this id or code"


# --- who may see and do what ------------------------------------------------


def is_partnership_staff(principal: Principal) -> bool:
    return principal.has_role("coordinator", "reviewer")


def require_coordinator(principal: Principal) -> None:
    if not principal.has_role("coordinator"):
        raise Forbidden("only a coordinator may do this")


def require_reviewer(principal: Principal) -> None:
    if not principal.has_role("reviewer"):
        raise Forbidden("only a partnership reviewer may moderate")


async def visible_audit(
    connection: asyncpg.Connection[Any], principal: Principal, audit_id: UUID, *, for_update: bool = False
) -> audits.Audit:
    """The audit if ``principal`` may see it; 404 otherwise."""
    audit = await audits.get(connection, audit_id, for_update=for_update, participant=principal.organisation_id)
    if audit is not None and audit.partnership_id == principal.partnership_id:
        if is_partnership_staff(principal):
            return audit
        if (
            principal.has_role("auditor")
            and audit.status != "draft"
            and await takes_part(connection, audit, principal.organisation_id)
        ):
            return audit
    raise NotFound("no such audit")


async def takes_part(connection: asyncpg.Connection[Any], audit: audits.Audit, organisation_id: UUID) -> bool:
    """Whether the organisation currently takes part in the audit: known
    already when the audit was read for it (:func:`visible_audit`)."""
    if audit.participation is not None and audit.participation[0] == organisation_id:
        return audit.participation[1]
    return await audits.is_participant(connection, audit.id, organisation_id)


async def own_contribution_row(
    connection: asyncpg.Connection[Any], principal: Principal, audit: audits.Audit, organisation_id: UUID
) -> contributions.Contribution:
    """The caller's organisation's contribution; 404 for anyone else's."""
    if organisation_id != principal.organisation_id or not principal.has_role("auditor"):
        raise NotFound("no such contribution")
    if not await takes_part(connection, audit, organisation_id):
        raise NotFound("no such contribution")
    contribution = await contributions.get(connection, audit.id, organisation_id)
    if contribution is None:
        raise NotFound("no such contribution")
    return contribution


def check_seen_version(seen: int | None, current: int) -> None:
    """412 unless the caller changes the version it last saw (a form that
    lost its hidden version field saw none)."""
    check_version(-1 if seen is None else seen, current)


# --- reading an audit -----------------------------------------------------------


# --- problems with what was sent --------------------------------------------------


def invalid(problems: list[FieldProblem], detail: str | None = None) -> InvalidInput:
    return InvalidInput(detail, errors=[FieldError(field=p.field, message=p.message) for p in problems])


def check_reason(reason: str | None, *, required: bool, why: str) -> list[FieldProblem]:
    if reason is not None and len(reason) > MAX_REASON:
        return [FieldProblem(field="$.reason", message=f"is longer than {MAX_REASON} characters")]
    if required and (reason is None or not reason.strip()):
        return [FieldProblem(field="$.reason", message=f"a reason is required {why}")]
    return []


# --- creating an audit ------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AuditToCreate:
    """A new audit as the coordinator set it up, its organisations found
    and its case details checked by the caller (the API accepts a partial
    draft, the pages ask for every answer)."""

    toolkit: Toolkit
    case_details: CaseDetails
    participants: tuple[UUID, ...]
    referring_organisation_id: UUID | None
    period_start: datetime.date | None
    period_end: datetime.date | None
    due_date: datetime.date | None


async def create_audit(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, new: AuditToCreate
) -> audits.Audit:
    """Create the audit as a draft, its participants invited."""
    require_coordinator(principal)
    audit = await audits.create(
        connection,
        partnership_id=principal.partnership_id,
        toolkit_id=new.toolkit.id,
        toolkit_version=new.toolkit.version,
        case_details=msgspec.to_builtins(new.case_details),
        period_start=new.period_start,
        period_end=new.period_end,
        referring_organisation_id=new.referring_organisation_id,
        due_date=new.due_date,
        user_id=principal.user_id,
    )
    organisation_ids = list(dict.fromkeys(new.participants))
    for organisation_id in organisation_ids:
        await audits.add_participant(connection, audit.id, organisation_id, principal.user_id)
    await events.record(
        connection,
        principal,
        EventName.AUDIT_CREATED,
        audit_id=audit.id,
        detail={
            "toolkit": new.toolkit.id,
            "toolkit_version": new.toolkit.version,
            "participants": [str(i) for i in organisation_ids],
        },
    )
    await summaries.refresh(connection, registry, audit.id)
    return audit


# --- moving an audit on -----------------------------------------------------------


def check_transition(current: str, target: str) -> None:
    allowed = TRANSITIONS[current]
    if target not in allowed:
        raise Conflict(f"an audit that is {current} cannot become {target}", allowed=list(allowed))


def status_change_problems(
    toolkit: Toolkit, audit: audits.Audit, participants: list[audits.Participant], target: str, reason: str | None
) -> list[FieldProblem]:
    """What stops ``audit`` becoming ``target``: a reason to reopen, or to
    review before every agency has submitted; complete case details and at
    least one participant to distribute it."""
    problems: list[FieldProblem] = []
    if target == "open" and audit.status != "draft":
        problems += check_reason(reason, required=True, why="to reopen an audit")
    elif target == "in-review":
        all_submitted = all(p.contribution_status == "submitted" for p in participants)
        problems += check_reason(reason, required=not all_submitted, why="to review before every agency has submitted")
    else:
        problems += check_reason(reason, required=False, why="")
    if audit.status == "draft":
        problems += validate_case_details(toolkit, case_details_of(audit), complete=True)
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
) -> audits.Audit:
    """Distribute, review, close or reopen the audit; the audit as it is now."""
    require_coordinator(principal)
    audit = await visible_audit(connection, principal, audit_id, for_update=True)
    check_seen_version(seen_version, audit.row_version)
    check_transition(audit.status, target)
    toolkit = audit_toolkit(registry, audit)
    participants = [p for p in await audits.participants(connection, audit.id) if p.removed_at is None]
    problems = status_change_problems(toolkit, audit, participants, target, reason)
    if problems:
        raise invalid(problems, "the audit cannot move on yet")
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
    )
    if updated is None:  # unreachable while the row is locked; kept for safety
        raise PreconditionFailed("someone changed this since you read it")
    await events.record(
        connection,
        principal,
        EventName.AUDIT_STATUS_CHANGED,
        audit_id=audit.id,
        detail={"from": audit.status, "to": target, "reason": reason},
    )
    await summaries.refresh(connection, registry, audit.id)
    return updated


# --- returning a contribution ---------------------------------------------------------


def check_return_comment(comment: str) -> None:
    if not comment.strip() or len(comment) > MAX_REASON:
        raise InvalidInput(
            errors=[FieldError(field="$.comment", message=f"say what is needed, in 1 to {MAX_REASON} characters")]
        )


async def return_contribution(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    organisation_id: UUID,
    comment: str,
    *,
    seen_version: int | None,
) -> contributions.Contribution:
    """Send a submitted contribution back to its agency for more work,
    while the audit is open."""
    require_coordinator(principal)
    check_return_comment(comment)
    audit = await visible_audit(connection, principal, audit_id)
    contribution = await contributions.get(connection, audit.id, organisation_id)
    if contribution is None or not await audits.is_participant(connection, audit.id, organisation_id):
        raise NotFound("no such contribution")
    check_seen_version(seen_version, contribution.row_version)
    if contribution.status != "submitted":
        raise Conflict(f"only a submitted contribution can be returned; this one is {contribution.status}")
    if audit.status != "open":
        raise Conflict(f"the audit is {audit.status}; reopen it to return a contribution")
    returned = await contributions.mark_returned(
        connection, contribution.id, contribution.row_version, comment, principal.user_id
    )
    if returned is None:
        raise PreconditionFailed("someone changed this since you read it")
    await events.record(
        connection,
        principal,
        EventName.CONTRIBUTION_RETURNED,
        audit_id=audit.id,
        target_organisation_id=organisation_id,
    )
    await summaries.refresh(connection, registry, audit.id)
    return returned


# --- an agency's own contribution: saving, amending, submitting ----------------------------


@dataclass(frozen=True, kw_only=True)
class OwnContribution:
    """The caller's organisation's contribution, with what it is checked
    against: the audit's toolkit version and case details, and the agency's
    part in the case."""

    audit: audits.Audit
    row: contributions.Contribution
    toolkit: Toolkit
    participant: Participant
    case_values: dict[str, object] | None

    @property
    def submitted(self) -> bool:
        return self.row.status == "submitted"

    @property
    def editable(self) -> bool:
        return is_editable(self.audit, self.row)


def own_contribution(
    registry: Registry, principal: Principal, audit: audits.Audit, row: contributions.Contribution
) -> OwnContribution:
    return OwnContribution(
        audit=audit,
        row=row,
        toolkit=audit_toolkit(registry, audit),
        participant=participant_of(audit, row.organisation_id, principal.agency_kind),
        case_values=case_detail_values(case_details_of(audit)),
    )


def is_editable(audit: audits.Audit, row: contributions.Contribution) -> bool:
    """Drafts are saved while the audit is open; a submitted contribution is
    amended while it is open or in review."""
    return audit.status == "open" or (row.status == "submitted" and audit.status == "in-review")


def check_editable(audit: audits.Audit, row: contributions.Contribution) -> None:
    if is_editable(audit, row):
        return
    if row.status == "submitted":
        raise Conflict(f"the audit is {audit.status}; a submitted contribution cannot be amended now")
    raise Conflict(f"the audit is {audit.status}; drafts are saved while it is open")


def save_problems(own: OwnContribution, content: ContributionContent, reason: str | None) -> list[FieldProblem]:
    """What stops ``content`` being saved: a draft may be partial, an
    amendment after submission must be complete and give a reason."""
    amending = own.submitted
    problems = validate_contribution(
        own.toolkit, own.participant, content, case_details=own.case_values, complete=amending
    )
    problems += check_reason(reason, required=amending, why="to amend a submitted contribution")
    if reason is not None and not amending:
        problems.append(FieldProblem(field="$.reason", message="only an amendment after submission has a reason"))
    return problems


async def store_contribution(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    own: OwnContribution,
    content: ContributionContent,
    reason: str | None,
) -> contributions.Contribution:
    """Write ``content``, checked with :func:`save_problems`: a draft, or an
    amendment kept as a new version. 412 if the row changed since it was read."""
    amending = own.submitted
    progress = contribution_progress(own.toolkit, own.participant, content, case_details=own.case_values)
    stored = msgspec.to_builtins(content)
    saved = await contributions.save(
        connection,
        own.row.id,
        own.row.row_version,
        status="submitted" if amending else "in-progress",
        content=stored,
        answered=progress.answered,
        applicable=progress.applicable,
        user_id=principal.user_id,
    )
    if saved is None:  # changed between our read and our write
        raise PreconditionFailed("someone changed this since you read it")
    detail: dict[str, Any] = {"status": saved.status, "answered": progress.answered}
    if amending:
        detail["version"] = await contributions.add_version(
            connection, own.row.id, kind="amended", reason=reason, content=stored, user_id=principal.user_id
        )
        detail["reason"] = reason
    await events.record(
        connection,
        principal,
        EventName.CONTRIBUTION_AMENDED if amending else EventName.CONTRIBUTION_SAVED,
        audit_id=own.audit.id,
        target_organisation_id=own.row.organisation_id,
        detail=detail,
    )
    # A draft counts in the partnership's judgement only by its status;
    # re-merging on every keystroke-save would cost each save a merge.
    if saved.status != own.row.status or amending:
        await summaries.refresh(connection, registry, own.audit.id)
    return saved


async def save_contribution(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    organisation_id: UUID,
    content: ContributionContent,
    reason: str | None,
    *,
    seen_version: int | None,
) -> contributions.Contribution:
    """Save the caller's organisation's contribution: a draft while the audit
    is open, or after submission an amendment, complete, with a reason."""
    audit = await visible_audit(connection, principal, audit_id)
    row = await own_contribution_row(connection, principal, audit, organisation_id)
    check_seen_version(seen_version, row.row_version)
    check_editable(audit, row)
    own = own_contribution(registry, principal, audit, row)
    problems = save_problems(own, content, reason)
    if problems:
        raise invalid(problems, "an amendment must be complete" if own.submitted else None)
    return await store_contribution(connection, principal, registry, own, content, reason)


def check_submittable(audit: audits.Audit, row: contributions.Contribution) -> None:
    if row.status == "submitted":
        raise Conflict("already submitted; amend it with a reason instead")
    if audit.status != "open":
        raise Conflict(f"the audit is {audit.status}; contributions are submitted while it is open")


def submission_problems(own: OwnContribution, content: ContributionContent) -> list[FieldProblem]:
    """What stops ``content`` being submitted: every missing or invalid answer."""
    return validate_contribution(own.toolkit, own.participant, content, case_details=own.case_values, complete=True)


async def store_submission(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, own: OwnContribution
) -> contributions.Contribution:
    """Submit the contribution as saved, checked with
    :func:`submission_problems`, and keep it as a version. 412 if the row
    changed since it was read."""
    progress = contribution_progress(
        own.toolkit, own.participant, contribution_content(own.row), case_details=own.case_values
    )
    saved = await contributions.save(
        connection,
        own.row.id,
        own.row.row_version,
        status="submitted",
        content=own.row.content,
        answered=progress.answered,
        applicable=progress.applicable,
        user_id=principal.user_id,
    )
    if saved is None:
        raise PreconditionFailed("someone changed this since you read it")
    version = await contributions.add_version(
        connection, own.row.id, kind="submitted", reason=None, content=own.row.content, user_id=principal.user_id
    )
    await events.record(
        connection,
        principal,
        EventName.CONTRIBUTION_SUBMITTED,
        audit_id=own.audit.id,
        target_organisation_id=own.row.organisation_id,
        detail={"version": version, "answered": progress.answered, "applicable": progress.applicable},
    )
    await summaries.refresh(connection, registry, own.audit.id)
    return saved


async def submit_contribution(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    organisation_id: UUID,
    *,
    seen_version: int | None,
) -> contributions.Contribution:
    """Submit the caller's organisation's contribution, checked in full."""
    audit = await visible_audit(connection, principal, audit_id)
    row = await own_contribution_row(connection, principal, audit, organisation_id)
    check_seen_version(seen_version, row.row_version)
    check_submittable(audit, row)
    own = own_contribution(registry, principal, audit, row)
    problems = submission_problems(own, contribution_content(row))
    if problems:
        raise invalid(problems, "the contribution is not complete")
    return await store_submission(connection, principal, registry, own)


# --- moderation ---------------------------------------------------------------------


def check_moderation_reason(reason: str) -> None:
    if not reason.strip():
        raise InvalidInput(errors=[FieldError(field="$.reason", message="give the reason the panel agreed")])


async def moderate(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    section_id: str,
    grade: int,
    reason: str,
    *,
    seen_judgement: str,
) -> audits.Audit:
    """Record the grade the panel agreed for a section (or ``overall``), the
    computed grade kept beside it. ``seen_judgement`` is the judgement's
    ETag as the reviewer read it: 412 if anything changed since."""
    require_reviewer(principal)
    check_moderation_reason(reason)
    audit = await visible_audit(connection, principal, audit_id, for_update=True)
    toolkit = audit_toolkit(registry, audit)
    graded = {s.id for s in toolkit.sections if s.judgement is not None and s.completed_by == "agency"}
    if section_id != OVERALL and section_id not in graded:
        raise NotFound(f"no graded section {section_id!r} in {toolkit.id}")
    if seen_judgement != await judgements.judgement_etag(connection, audit.id):
        raise PreconditionFailed("the judgement changed since you read it; read it again before moderating")
    await judgements.set_moderation(connection, audit.id, section_id, grade, reason, principal.user_id)
    await events.record(
        connection,
        principal,
        EventName.JUDGEMENT_MODERATED,
        audit_id=audit.id,
        # The reason is the panel's words about the work, recorded as every
        # other reason for a change is; it names no child.
        detail={"section": section_id, "grade": grade, "reason": reason},
    )
    await summaries.refresh(connection, registry, audit.id)
    return audit


# --- remedial actions ------------------------------------------------------


async def agree_action(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    audit: audits.Audit,
    *,
    action: str,
    who: str | None,
    timescale: str | None,
    responsible_organisation_id: UUID | None,
    due_date: datetime.date | None,
) -> actions.RemedialAction:
    """Store a remedial action the partnership agreed, and record it. The
    caller has checked its fields, the responsible organisation's part in
    the audit among them, and says so in its own words."""
    created = await actions.create(
        connection,
        audit.id,
        action=action,
        who=who,
        timescale=timescale,
        responsible_organisation_id=responsible_organisation_id,
        due_date=due_date,
        user_id=principal.user_id,
    )
    await events.record(
        connection,
        principal,
        EventName.ACTION_CREATED,
        audit_id=audit.id,
        target_organisation_id=responsible_organisation_id,
        detail={"action_id": str(created.id)},
    )
    return created


async def store_action_change(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    audit: audits.Audit,
    current: actions.RemedialAction,
    changed: actions.RemedialAction,
    fields: Iterable[str],
) -> actions.RemedialAction | None:
    """Write ``changed`` over ``current`` unless someone changed the action
    since (None then), and record which ``fields`` were given."""
    updated = await actions.update(connection, changed, current.row_version, principal.user_id)
    if updated is not None:
        await events.record(
            connection,
            principal,
            EventName.ACTION_CHANGED,
            audit_id=audit.id,
            target_organisation_id=updated.responsible_organisation_id,
            detail={"action_id": str(updated.id), "fields": sorted(fields)},
        )
    return updated
