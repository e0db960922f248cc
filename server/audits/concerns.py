"""Immediate concerns: objects with an owner.

Seed 002: "If there are immediate concerns the manager must be notified";
003: "Is the child currently safe…"; 004: "Case to be Escalated to Service
Manager". When any contribution — a draft included — records an answer
that raises one (the merge's ``immediate_concerns``: child not safe now, a
significant failure, an escalation), :func:`reconcile` raises a concern in
the same transaction: who raised it, on which audit and question, when;
and writes the message to the audit's coordinator and the raising
organisation's safeguarding lead (:mod:`server.audits.notifications`).

A coordinator or reviewer acknowledges it (who, when) and closes it with
what was done and the outcome. Nobody acknowledging it within the
partnership's working time (default 4 working hours) escalates it to the
partnership's reviewers, and again on the same schedule until someone does
(:func:`escalate_waiting`, run by the worker). A draft that withdraws the
answer does not erase the concern: it is closed "answer withdrawn", and
the trail keeps each step.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from merging import AgencyContribution, ImmediateConcern, merge
from server.audits import events, notifications
from server.audits.access import visible_audit
from server.audits.checks import MAX_REASON, check_seen_version
from server.audits.events import EventName
from server.audits.facts import case_facts
from server.audits.working_time import WorkingHours
from server.auth.permissions import Permission, may, require
from server.auth.principal import Principal
from server.db import concerns as stored
from server.db.audits import AuditRow
from server.db.concerns import ConcernRow
from server.platform.problems import Conflict, FieldError, InvalidInput, NotFound
from toolkits.answers import ContributionContent
from toolkits.model import Toolkit

__all__ = [
    "ConcernRead",
    "ConcernView",
    "acknowledge",
    "close",
    "concern_path",
    "concern_view",
    "escalate_waiting",
    "list_open",
    "open_concerns",
    "read_concern",
    "reconcile",
]

WITHDRAWN = "answer-withdrawn"
RESOLVED = "resolved"


def concern_path(concern_id: UUID) -> str:
    return f"/api/concerns/{concern_id}"


def raised_by_answers(
    toolkit: Toolkit,
    audit: AuditRow,
    *,
    organisation_id: UUID,
    organisation_name: str,
    agency_kind: str,
    status: str,
    content: ContributionContent,
) -> list[ImmediateConcern]:
    """The immediate concerns one contribution's answers raise, as the merge
    finds them (so the judgement page and the concerns never disagree)."""
    contribution = AgencyContribution(
        organisation_id=str(organisation_id),
        organisation_name=organisation_name,
        agency_kind=agency_kind,
        status=status,  # type: ignore[arg-type]
        content=content,
    )
    return list(merge(toolkit, case_facts(audit), [contribution], policy=audit.merge_policy).immediate_concerns)


def _key(concern: ImmediateConcern) -> tuple[str, str, str | None]:
    """What makes a concern the same one from save to save: its kind, section
    and question (None for one recorded against a whole section, as a
    significant failure per section is)."""
    return (concern.kind, concern.section_id, concern.question_id)


async def reconcile(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    toolkit: Toolkit,
    audit: AuditRow,
    *,
    organisation_id: UUID,
    agency_kind: str,
    status: str,
    content: ContributionContent,
    any_open: bool | None = None,
) -> None:
    """After an agency's contribution was saved (or submitted, or amended):
    raise a concern for each answer that now raises one and has none open
    (nor one already closed as resolved), and close each open concern whose
    answer is gone, "answer withdrawn". In the caller's transaction.
    ``any_open``: whether the organisation has a concern open on the audit,
    when the caller's read already knows (None: read them)."""
    raised = raised_by_answers(
        toolkit,
        audit,
        organisation_id=organisation_id,
        organisation_name=principal.organisation_name,
        agency_kind=agency_kind,
        status=status,
        content=content,
    )
    if not raised and any_open is False:
        return  # nothing to raise, nothing to close: the common draft save
    now_raised = {_key(c) for c in raised}
    open_now = await stored.open_for_organisation(connection, audit.id, organisation_id)
    open_keys = {(c.kind, c.section_id, c.question_id) for c in open_now}
    for stale in open_now:
        if (stale.kind, stale.section_id, stale.question_id) in now_raised:
            continue
        if await stored.close(
            connection,
            stale.id,
            stale.row_version,
            user_id=principal.user_id,
            because=WITHDRAWN,
            action_taken=None,
            outcome=None,
        ):
            await events.record(
                connection,
                principal,
                EventName.CONCERN_CLOSED,
                audit_id=audit.id,
                target_organisation_id=organisation_id,
                detail={
                    "concern_id": str(stale.id),
                    "kind": stale.kind,
                    "because": WITHDRAWN,
                    "question_id": stale.question_id,
                },
            )
    if not raised:
        return
    handled = await stored.handled_before(connection, audit.id, organisation_id)
    for concern in raised:
        key = _key(concern)
        if key in open_keys or key in handled:
            continue
        concern_id = await stored.raise_concern(
            connection,
            partnership_id=audit.partnership_id,
            audit_id=audit.id,
            organisation_id=organisation_id,
            kind=concern.kind,
            section_id=concern.section_id,
            question_id=key[2],
            raised_by=principal.user_id,
        )
        if concern_id is None:
            continue
        await events.record(
            connection,
            principal,
            EventName.CONCERN_RAISED,
            audit_id=audit.id,
            target_organisation_id=organisation_id,
            detail={
                "concern_id": str(concern_id),
                "kind": concern.kind,
                "section_id": concern.section_id,
                "question_id": key[2],
                "submitted": concern.submitted,
            },
        )
        await notifications.concern_raised(
            connection,
            concern_id=concern_id,
            partnership_id=audit.partnership_id,
            audit_id=audit.id,
            audit_created_by=audit.created_by,
            organisation_id=organisation_id,
            organisation_name=principal.organisation_name,
            kind=concern.kind,
        )


# --- reading ------------------------------------------------------------------------


async def list_open(connection: asyncpg.Connection[Any], principal: Principal) -> list[ConcernRow]:
    """The partnership's open concerns, oldest first, the read recorded."""
    require(principal, Permission.CONCERN_READ)
    found = await stored.open_in_partnership(connection, principal.partnership_id)
    await events.record(connection, principal, EventName.CONCERNS_LISTED, detail={"open": len(found)})
    return found


async def open_concerns(connection: asyncpg.Connection[Any], principal: Principal) -> list[ConcernRow]:
    """The open concerns to show at the head of a page (no event: the page's
    own read is recorded); empty for someone who does not handle them."""
    if not may(principal, Permission.CONCERN_READ):
        return []
    return await stored.open_in_partnership(connection, principal.partnership_id)


async def concerns_of_audit(
    connection: asyncpg.Connection[Any], principal: Principal, audit_id: UUID
) -> list[ConcernRow]:
    """Every concern of the audit, newest first, for the audit's page (its
    read is recorded there); empty for someone who does not handle them."""
    if not may(principal, Permission.CONCERN_READ):
        return []
    return await stored.of_audit(connection, audit_id)


@dataclass(frozen=True, kw_only=True)
class ConcernRead:
    concern: ConcernRow
    audit: AuditRow
    question: str | None
    section: str | None


async def read_concern(
    connection: asyncpg.Connection[Any], principal: Principal, toolkit_of: Any, concern_id: UUID
) -> ConcernRead:
    """One concern, with the question that raised it (its text from the
    audit's toolkit), the read recorded. 404 unless it is the caller's to see."""
    require(principal, Permission.CONCERN_READ)
    concern = await stored.get(connection, concern_id)
    if concern is None or concern.partnership_id != principal.partnership_id:
        raise NotFound("no such concern")
    audit = await visible_audit(connection, principal, concern.audit_id)
    toolkit: Toolkit = await toolkit_of(connection, audit)
    question = section = None
    for s in toolkit.sections:
        for q in s.questions:
            if q.id == concern.question_id:
                question, section = q.text, s.title
        if s.id == concern.section_id and section is None:
            section = s.title
    await events.record(
        connection, principal, EventName.CONCERN_READ, audit_id=audit.id, detail={"concern_id": str(concern_id)}
    )
    return ConcernRead(concern=concern, audit=audit, question=question, section=section)


async def _handled(connection: asyncpg.Connection[Any], principal: Principal, concern_id: UUID) -> ConcernRow:
    require(principal, Permission.CONCERN_HANDLE)
    concern = await stored.get(connection, concern_id)
    if concern is None or concern.partnership_id != principal.partnership_id:
        raise NotFound("no such concern")
    return concern


# --- acknowledging and closing ------------------------------------------------------


async def acknowledge(
    connection: asyncpg.Connection[Any], principal: Principal, concern_id: UUID, *, seen_version: int | None
) -> ConcernRow:
    """Record that ``principal`` has the concern in hand: escalation stops."""
    concern = await _handled(connection, principal, concern_id)
    check_seen_version(seen_version, concern.row_version, resource="the concern", read_at=concern_path(concern.id))
    if concern.closed_at is not None:
        raise Conflict("the concern is closed")
    if concern.acknowledged_at is not None:
        raise Conflict(f"already acknowledged by {concern.acknowledged_by_name or 'someone'}")
    if not await stored.acknowledge(connection, concern.id, concern.row_version, principal.user_id):
        raise Conflict("the concern changed meanwhile; read it again")
    await events.record(
        connection,
        principal,
        EventName.CONCERN_ACKNOWLEDGED,
        audit_id=concern.audit_id,
        target_organisation_id=concern.organisation_id,
        detail={"concern_id": str(concern.id), "kind": concern.kind},
    )
    found = await stored.get(connection, concern.id)
    assert found is not None
    return found


def close_problems(action_taken: str | None, outcome: str | None) -> list[FieldError]:
    problems = []
    for field, value, what in (("action_taken", action_taken, "what was done"), ("outcome", outcome, "the outcome")):
        if value is None or not value.strip():
            problems.append(FieldError(field=f"$.{field}", message=f"say {what}"))
        elif len(value) > MAX_REASON:
            problems.append(FieldError(field=f"$.{field}", message=f"at most {MAX_REASON} characters"))
    return problems


async def close(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    concern_id: UUID,
    *,
    action_taken: str | None,
    outcome: str | None,
    seen_version: int | None,
) -> ConcernRow:
    """Close the concern with what was done and the outcome (acknowledging
    it too, if nobody had)."""
    concern = await _handled(connection, principal, concern_id)
    check_seen_version(seen_version, concern.row_version, resource="the concern", read_at=concern_path(concern.id))
    problems = close_problems(action_taken, outcome)
    if problems:
        raise InvalidInput(errors=problems)
    if concern.closed_at is not None:
        raise Conflict("the concern is already closed")
    assert action_taken is not None and outcome is not None
    version = concern.row_version
    if concern.acknowledged_at is None:
        await acknowledge(connection, principal, concern.id, seen_version=version)
        version += 1
    if not await stored.close(
        connection,
        concern.id,
        version,
        user_id=principal.user_id,
        because=RESOLVED,
        action_taken=action_taken.strip(),
        outcome=outcome.strip(),
    ):
        raise Conflict("the concern changed meanwhile; read it again")
    await events.record(
        connection,
        principal,
        EventName.CONCERN_CLOSED,
        audit_id=concern.audit_id,
        target_organisation_id=concern.organisation_id,
        detail={"concern_id": str(concern.id), "kind": concern.kind, "because": RESOLVED},
    )
    found = await stored.get(connection, concern.id)
    assert found is not None
    return found


# --- escalation (the worker) ------------------------------------------------------------


async def escalate_waiting(
    connection: asyncpg.Connection[Any], hours: WorkingHours, now: datetime.datetime | None = None
) -> int:
    """Escalate every open concern nobody acknowledged within its
    partnership's working time, to the partnership's reviewers: first after
    ``concern_escalation_minutes`` from being raised, then after every
    ``concern_reescalation_minutes`` from the last escalation. Run by the
    worker as the tables' owner (every partnership), inside the caller's
    transaction; how many were escalated."""
    now = now or datetime.datetime.now(datetime.UTC)
    escalated = 0
    for waiting in await stored.waiting_for_acknowledgement(connection):
        concern = waiting.concern
        since = concern.last_escalated_at or concern.raised_at
        due_after = waiting.reescalation_minutes if concern.last_escalated_at else waiting.escalation_minutes
        if hours.minutes_between(since, now) < due_after:
            continue
        count = await stored.mark_escalated(connection, concern.id, now)
        waited = int(hours.minutes_between(concern.raised_at, now))
        await notifications.concern_escalated(
            connection,
            concern_id=concern.id,
            partnership_id=concern.partnership_id,
            audit_id=concern.audit_id,
            organisation_name=concern.organisation_name,
            kind=concern.kind,
            escalation=count,
            waiting_for=hours.describe(max(waited, 1)),
        )
        await events.record_unattributed(
            connection,
            EventName.CONCERN_ESCALATED,
            {
                "concern_id": str(concern.id),
                "kind": concern.kind,
                "escalation": count,
                "partnership_ids": [str(concern.partnership_id)],
            },
            audit_id=concern.audit_id,
        )
        escalated += 1
    return escalated


# --- what the API gives back ---------------------------------------------------------


class ConcernView(msgspec.Struct, frozen=True, kw_only=True):
    """An immediate concern as the API shows it: who raised it, where, when,
    who acknowledged and closed it. No answer or comment: the question's id
    and text say what was asked; the contribution holds the answer."""

    id: UUID
    href: str
    audit_id: UUID
    reference: str
    organisation_id: UUID
    organisation_name: str
    kind: str
    kind_words: str
    section_id: str
    question_id: str | None  # null: recorded against the whole section
    raised_by: str | None
    raised_at: datetime.datetime
    acknowledged_by: str | None
    acknowledged_at: datetime.datetime | None
    escalations: int
    last_escalated_at: datetime.datetime | None
    closed_by: str | None
    closed_at: datetime.datetime | None
    closed_because: str | None
    action_taken: str | None
    outcome: str | None
    row_version: int


def concern_view(concern: ConcernRow) -> ConcernView:
    return ConcernView(
        id=concern.id,
        href=concern_path(concern.id),
        audit_id=concern.audit_id,
        reference=notifications.audit_reference(concern.audit_id),
        organisation_id=concern.organisation_id,
        organisation_name=concern.organisation_name,
        kind=concern.kind,
        kind_words=notifications.KIND_WORDS.get(concern.kind, concern.kind),
        section_id=concern.section_id,
        question_id=concern.question_id,
        raised_by=concern.raised_by_name,
        raised_at=concern.raised_at,
        acknowledged_by=concern.acknowledged_by_name,
        acknowledged_at=concern.acknowledged_at,
        escalations=concern.escalations,
        last_escalated_at=concern.last_escalated_at,
        closed_by=concern.closed_by_name,
        closed_at=concern.closed_at,
        closed_because=concern.closed_because,
        action_taken=concern.action_taken,
        outcome=concern.outcome,
        row_version=concern.row_version,
    )
