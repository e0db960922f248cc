"""What Maca tells people, and whom: the messages of the audit cycle,
written to the outbox in the transaction of the change that causes them.

Every message says what needs doing and links to the page; it names the
audit only by its reference number (:func:`audit_reference`) and never
carries a child's initials, names, date of birth, an answer or a comment
(``tests/server/test_notifications.py`` searches every message a journey
sends for them). The recipients are the organisation's contacts, as its
administrator recorded them (``server/audits/administration/directory.py``),
and the people who signed in for it with an address (the ``email`` claim).
Immediate concerns go to everyone named whatever they chose; the rest
only to people who have not turned non-urgent mail off.

The message list (README "Notifications") is :class:`Message`.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import asyncpg

from server.audits import events
from server.audits.administration.directory import organisation_contacts
from server.audits.events import EventName
from server.auth.permissions import Permission, holders_of, may, require
from server.auth.principal import Principal
from server.db import notifications as outbox
from server.db.notifications import Outgoing

__all__ = [
    "KIND_WORDS",
    "Message",
    "Recipient",
    "action_assigned",
    "audit_closed",
    "audit_distributed",
    "audit_reference",
    "concern_escalated",
    "concern_raised",
    "contribution_returned",
    "due_reminder",
    "mail_preference",
    "ready_for_panel",
    "set_mail_preference",
    "told_about",
    "undelivered",
    "write",
]


class Message(enum.StrEnum):
    """Every message Maca sends (``notifications.message``)."""

    CONCERN_RAISED = "concern-raised"
    CONCERN_ESCALATED = "concern-escalated"
    AUDIT_DISTRIBUTED = "audit-distributed"
    DUE_SOON = "due-soon"
    OVERDUE = "overdue"
    CONTRIBUTION_RETURNED = "contribution-returned"
    READY_FOR_PANEL = "ready-for-panel"
    ACTION_ASSIGNED = "action-assigned"
    ACTION_DUE = "action-due"
    ACTION_OVERDUE = "action-overdue"
    AUDIT_CLOSED = "audit-closed"


# An immediate concern's kind, in the words a message uses.
KIND_WORDS = {
    "child-not-safe": "an auditor answered that the child is not currently safe",
    "significant-failure": "an auditor recorded a significant failure affecting the child's safety",
    "escalation": "an auditor asked for the case to be escalated",
}


def audit_reference(audit_id: UUID) -> str:
    """The audit's reference number in messages: from its id, never from
    the case (``MACA-1A2B3C4D``)."""
    return "MACA-" + audit_id.hex[:8].upper()


class Recipient:
    """Someone to tell: an address, who they are to the audit, and the user
    it belongs to when they signed in."""

    __slots__ = ("email", "role", "user_id")

    def __init__(self, email: str, role: str, user_id: UUID | None = None) -> None:
        self.email = email
        self.role = role
        self.user_id = user_id


def _unique(recipients: Iterable[Recipient]) -> list[Recipient]:
    seen: set[str] = set()
    kept = []
    for recipient in recipients:
        address = recipient.email.strip().lower()
        if address in seen:
            continue
        seen.add(address)
        kept.append(recipient)
    return kept


# Who is who to an audit, by what they may do (never a role by name:
# server/auth/permissions.py maps roles to permissions in one table).
COORDINATING = Permission.AUDIT_MOVE
REVIEWING = Permission.JUDGEMENT_MODERATE
CONTRIBUTING = Permission.CONTRIBUTION_WRITE


async def _signed_in(
    connection: asyncpg.Connection[Any],
    partnership_id: UUID,
    organisation_id: UUID | None,
    permission: Permission,
    label: str,
    *,
    urgent: bool,
) -> list[Recipient]:
    people = await outbox.people_to_tell(connection, partnership_id, organisation_id, holders_of(permission))
    return [Recipient(p.email, label, p.user_id) for p in people if urgent or p.non_urgent_mail]


async def audit_coordinators(
    connection: asyncpg.Connection[Any], partnership_id: UUID, created_by: UUID | None, *, urgent: bool
) -> list[Recipient]:
    """The audit's coordinator (who created it), or, without an address for
    them, the partnership's coordinators."""
    if created_by is not None:
        person = await outbox.user_email(connection, partnership_id, created_by)
        if person is not None and (urgent or person.non_urgent_mail):
            return [Recipient(person.email, "audit coordinator", person.user_id)]
    return await _signed_in(connection, partnership_id, None, COORDINATING, "coordinators", urgent=urgent)


async def reviewers(connection: asyncpg.Connection[Any], partnership_id: UUID, *, urgent: bool) -> list[Recipient]:
    return await _signed_in(connection, partnership_id, None, REVIEWING, "reviewers", urgent=urgent)


async def organisation_people(
    connection: asyncpg.Connection[Any], partnership_id: UUID, organisation_id: UUID
) -> list[Recipient]:
    """Whom an organisation's audit requests go to: its audit contacts and
    its auditors who signed in (unless they turned such mail off)."""
    contacts = (await organisation_contacts(connection, [organisation_id])).get(organisation_id)
    found = [Recipient(email, "audit-contact") for email in (contacts.audit_contacts if contacts else ())]
    found += await _signed_in(connection, partnership_id, organisation_id, CONTRIBUTING, "auditors", urgent=False)
    return _unique(found)


async def safeguarding_lead(connection: asyncpg.Connection[Any], organisation_id: UUID) -> list[Recipient]:
    contacts = (await organisation_contacts(connection, [organisation_id])).get(organisation_id)
    if contacts is None or contacts.safeguarding_lead_email is None:
        return []
    return [Recipient(contacts.safeguarding_lead_email, "safeguarding-lead")]


async def write(
    connection: asyncpg.Connection[Any],
    *,
    message: Message,
    key: str,
    partnership_id: UUID,
    audit_id: UUID | None,
    recipients: Iterable[Recipient],
    subject: str,
    body: str,
    link: str | None,
    concern_id: UUID | None = None,
    urgent: bool = False,
) -> int:
    """Write one message to each recipient (their own key: ``key`` and the
    address), in the caller's transaction; how many were new."""
    rows = [
        Outgoing(
            key=f"{key}:{recipient.email.strip().lower()}",
            partnership_id=partnership_id,
            audit_id=audit_id,
            concern_id=concern_id,
            message=message.value,
            urgent=urgent,
            recipient=recipient.email.strip(),
            recipient_user_id=recipient.user_id,
            recipient_role=recipient.role,
            subject=subject,
            body=body,
            link=link,
        )
        for recipient in _unique(recipients)
    ]
    return await outbox.write(connection, rows)


# --- the messages ---------------------------------------------------------------------


async def concern_raised(
    connection: asyncpg.Connection[Any],
    *,
    concern_id: UUID,
    partnership_id: UUID,
    audit_id: UUID,
    audit_created_by: UUID | None,
    organisation_id: UUID,
    organisation_name: str,
    kind: str,
) -> int:
    """An immediate concern, at once, to the audit's coordinator and the
    raising organisation's safeguarding lead."""
    reference = audit_reference(audit_id)
    recipients = [
        *await audit_coordinators(connection, partnership_id, audit_created_by, urgent=True),
        *await safeguarding_lead(connection, organisation_id),
    ]
    return await write(
        connection,
        message=Message.CONCERN_RAISED,
        key=f"concern-raised:{concern_id}",
        partnership_id=partnership_id,
        audit_id=audit_id,
        concern_id=concern_id,
        urgent=True,
        recipients=recipients,
        subject=f"Immediate concern on audit {reference}",
        body=(
            f"An immediate concern has been raised on audit {reference}: {KIND_WORDS.get(kind, kind)} "
            f"({organisation_name}).\n\n"
            "Someone must acknowledge it in Maca and record what was done. If nobody acknowledges it, "
            "it is escalated to the partnership's reviewers."
        ),
        link=f"/concerns/{concern_id}",
    )


async def concern_escalated(
    connection: asyncpg.Connection[Any],
    *,
    concern_id: UUID,
    partnership_id: UUID,
    audit_id: UUID,
    organisation_name: str,
    kind: str,
    escalation: int,
    waiting_for: str,
) -> int:
    """An immediate concern nobody acknowledged, to the partnership's reviewers."""
    reference = audit_reference(audit_id)
    return await write(
        connection,
        message=Message.CONCERN_ESCALATED,
        key=f"concern-escalated:{concern_id}:{escalation}",
        partnership_id=partnership_id,
        audit_id=audit_id,
        concern_id=concern_id,
        urgent=True,
        recipients=await reviewers(connection, partnership_id, urgent=True),
        subject=f"Escalated: immediate concern on audit {reference} not acknowledged",
        body=(
            f"An immediate concern on audit {reference} has not been acknowledged after {waiting_for}: "
            f"{KIND_WORDS.get(kind, kind)} ({organisation_name}).\n\n"
            "Please acknowledge it in Maca and make sure it is acted on."
        ),
        link=f"/concerns/{concern_id}",
    )


# --- reading who was told what ------------------------------------------------------------


async def told_about(
    connection: asyncpg.Connection[Any], principal: Principal, audit_id: UUID
) -> list[outbox.NotificationRow]:
    """Who was told what about the audit, and whether it reached them, for
    the audit's page (its read is recorded there); empty for someone who may
    not oversee the partnership's audits."""
    if not may(principal, Permission.PARTNERSHIP_OVERSEE):
        return []
    return await outbox.of_audit(connection, audit_id)


# --- the audit cycle's messages -------------------------------------------------------------


async def audit_distributed(
    connection: asyncpg.Connection[Any],
    *,
    partnership_id: UUID,
    audit_id: UUID,
    organisation_ids: Iterable[UUID],
    due_date: datetime.date | None,
    occasion: str | None = None,
) -> int:
    """An audit distributed: to each taking-part organisation's contacts and
    auditors. ``occasion`` names a later distribution to organisations added
    after the first (the audit's version then), so one removed and added
    again is told again."""
    reference = audit_reference(audit_id)
    due = f" by {due_date.strftime('%d %B %Y')}" if due_date else ""
    written = 0
    for organisation_id in organisation_ids:
        written += await write(
            connection,
            message=Message.AUDIT_DISTRIBUTED,
            key=f"audit-distributed:{audit_id}:{organisation_id}" + (f":{occasion}" if occasion else ""),
            partnership_id=partnership_id,
            audit_id=audit_id,
            recipients=await organisation_people(connection, partnership_id, organisation_id),
            subject=f"A case audit to complete: {reference}",
            body=(
                f"Your organisation has been asked to contribute to multi-agency case audit {reference}{due}.\n\n"
                "Sign in to Maca to see the questions your agency answers."
            ),
            link=f"/your-audits/{audit_id}",
        )
    return written


async def contribution_returned(
    connection: asyncpg.Connection[Any], *, partnership_id: UUID, audit_id: UUID, organisation_id: UUID, key: str
) -> int:
    reference = audit_reference(audit_id)
    return await write(
        connection,
        message=Message.CONTRIBUTION_RETURNED,
        key=f"contribution-returned:{key}",
        partnership_id=partnership_id,
        audit_id=audit_id,
        recipients=await organisation_people(connection, partnership_id, organisation_id),
        subject=f"Your contribution to audit {reference} was returned",
        body=(
            f"The audit's coordinator returned your organisation's contribution to audit {reference} for more "
            "work. Their comment is in Maca."
        ),
        link=f"/your-audits/{audit_id}",
    )


async def ready_for_panel(
    connection: asyncpg.Connection[Any],
    *,
    partnership_id: UUID,
    audit_id: UUID,
    audit_created_by: UUID | None,
    key: str,
) -> int:
    """Every taking-part agency has submitted: to the coordinator and the reviewers."""
    reference = audit_reference(audit_id)
    recipients = [
        *await audit_coordinators(connection, partnership_id, audit_created_by, urgent=False),
        *await reviewers(connection, partnership_id, urgent=False),
    ]
    return await write(
        connection,
        message=Message.READY_FOR_PANEL,
        key=f"ready-for-panel:{key}",
        partnership_id=partnership_id,
        audit_id=audit_id,
        recipients=recipients,
        subject=f"Audit {reference}: every agency has submitted",
        body=f"Every agency taking part in audit {reference} has submitted. It is ready for review and the panel.",
        link=f"/audits/{audit_id}",
    )


async def audit_closed(
    connection: asyncpg.Connection[Any],
    *,
    partnership_id: UUID,
    audit_id: UUID,
    audit_created_by: UUID | None,
    organisation_ids: Iterable[UUID],
    key: str,
) -> int:
    """The audit closed, with the report's link, to those entitled to it:
    the coordinator, the reviewers, each taking-part organisation."""
    reference = audit_reference(audit_id)
    subject = f"Audit {reference} is closed"
    body = f"Audit {reference} is closed. The combined report is in Maca."
    written = await write(
        connection,
        message=Message.AUDIT_CLOSED,
        key=f"audit-closed:{key}:staff",
        partnership_id=partnership_id,
        audit_id=audit_id,
        recipients=[
            *await audit_coordinators(connection, partnership_id, audit_created_by, urgent=False),
            *await reviewers(connection, partnership_id, urgent=False),
        ],
        subject=subject,
        body=body,
        link=f"/api/audits/{audit_id}/report.html",
    )
    for organisation_id in organisation_ids:
        written += await write(
            connection,
            message=Message.AUDIT_CLOSED,
            key=f"audit-closed:{key}:{organisation_id}",
            partnership_id=partnership_id,
            audit_id=audit_id,
            recipients=await organisation_people(connection, partnership_id, organisation_id),
            subject=subject,
            body=body,
            link=f"/api/audits/{audit_id}/report.html",
        )
    return written


async def action_assigned(
    connection: asyncpg.Connection[Any],
    *,
    partnership_id: UUID,
    audit_id: UUID,
    action_id: UUID,
    responsible_organisation_id: UUID | None,
    due_date: datetime.date | None,
) -> int:
    """A remedial action assigned to an organisation: to its contacts and
    auditors (call it in the transaction that agrees or reassigns the action)."""
    if responsible_organisation_id is None:
        return 0
    reference = audit_reference(audit_id)
    due = f", due {due_date.strftime('%d %B %Y')}" if due_date else ""
    return await write(
        connection,
        message=Message.ACTION_ASSIGNED,
        key=f"action-assigned:{action_id}:{responsible_organisation_id}",
        partnership_id=partnership_id,
        audit_id=audit_id,
        recipients=await organisation_people(connection, partnership_id, responsible_organisation_id),
        subject=f"A remedial action for your organisation on audit {reference}",
        body=f"A remedial action on audit {reference} was assigned to your organisation{due}. It is in Maca.",
        link=f"/actions/{action_id}",
    )


async def due_reminder(
    connection: asyncpg.Connection[Any],
    *,
    message: Message,
    partnership_id: UUID,
    audit_id: UUID,
    organisation_id: UUID,
    due_date: datetime.date,
    key: str,
    link: str,
    what: str,
) -> int:
    """A due date approaching or passed: an audit's contribution, or a remedial action."""
    reference = audit_reference(audit_id)
    when = due_date.strftime("%d %B %Y")
    if message in (Message.DUE_SOON, Message.ACTION_DUE):
        subject = f"Due {when}: {what} for audit {reference}"
        body = f"Your organisation's {what} for audit {reference} is due on {when}."
    else:
        subject = f"Overdue: {what} for audit {reference}"
        body = f"Your organisation's {what} for audit {reference} was due on {when} and is overdue."
    return await write(
        connection,
        message=message,
        key=key,
        partnership_id=partnership_id,
        audit_id=audit_id,
        recipients=await organisation_people(connection, partnership_id, organisation_id),
        subject=subject,
        body=body,
        link=link,
    )


async def undelivered(connection: asyncpg.Connection[Any], principal: Principal) -> list[outbox.NotificationRow]:
    """The partnership's messages that failed for good, or whose last
    attempt failed, with the reason (for its administrator), the read
    recorded in the administration trail."""
    require(principal, Permission.PARTNERSHIP_ADMINISTER)
    found = await outbox.failed_in_partnership(connection, principal.partnership_id)
    await events.record(
        connection,
        principal,
        EventName.NOTIFICATIONS_READ,
        detail={"partnership_ids": [str(principal.partnership_id)], "undelivered": len(found)},
    )
    return found


# --- what a person wants ----------------------------------------------------------------


async def mail_preference(connection: asyncpg.Connection[Any], principal: Principal) -> tuple[bool, str | None]:
    """Whether the person gets non-urgent mail, and the address their last
    sign-in gave (None: Maca has none, so writes to them only through their
    organisation's contacts)."""
    return await outbox.wants_non_urgent_mail(connection, principal.user_id)


async def set_mail_preference(connection: asyncpg.Connection[Any], principal: Principal, wanted: bool) -> None:
    """Turn non-urgent mail on or off for the person; immediate concerns
    always go."""
    await outbox.set_non_urgent_mail(connection, principal.user_id, wanted)
    await events.record(connection, principal, EventName.MAIL_PREFERENCE_CHANGED, detail={"non_urgent_mail": wanted})
