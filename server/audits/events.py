"""The event log's names, and the one way a step records an event.

Every action Maca records is an :class:`EventName`: the strings are stored
in ``events.action`` and hash-chained (``maca events verify``), so a name
never changes once it has been recorded. Only the steps of
``server.audits`` record events (a test keeps it so), each in the
transaction of the change or read it records, so no route can forget one.
"""

from __future__ import annotations

import enum
from typing import Any
from uuid import UUID

import asyncpg

from server.auth.principal import Principal
from server.db import events as stored

__all__ = ["EventName", "record", "record_unattributed"]


class EventName(enum.StrEnum):
    """What happened, as ``events.action`` stores it."""

    # An audit and who takes part in it.
    AUDIT_CREATED = "audit.created"
    AUDIT_CHANGED = "audit.changed"
    AUDIT_STATUS_CHANGED = "audit.status-changed"
    AUDIT_READ = "audit.read"
    AUDIT_PROGRESS_READ = "audit.progress-read"
    AUDIT_EVENTS_READ = "audit.events-read"
    AUDITS_LISTED = "audits.listed"
    # Audit programmes: themed rounds of audits.
    PROGRAMME_CREATED = "programme.created"
    PROGRAMME_CASES_ADDED = "programme.cases-added"
    PROGRAMME_READ = "programme.read"
    ORGANISATIONS_LISTED = "organisations.listed"
    # An agency's contribution.
    CONTRIBUTION_SAVED = "contribution.saved"
    CONTRIBUTION_AMENDED = "contribution.amended"
    CONTRIBUTION_SUBMITTED = "contribution.submitted"
    CONTRIBUTION_RETURNED = "contribution.returned"
    CONTRIBUTION_READ = "contribution.read"
    CONTRIBUTION_VERSIONS_READ = "contribution.versions-read"
    # An agency's practitioner and family voice (the version only, never what was said).
    VOICE_SAVED = "voice.saved"
    VOICE_READ = "voice.read"
    VOICE_VERSIONS_READ = "voice.versions-read"
    # The partnership's judgement.
    JUDGEMENT_READ = "judgement.read"
    JUDGEMENT_MODERATED = "judgement.moderated"
    # The multi-agency panel.
    PANEL_READ = "panel.read"
    PANEL_RECORDED = "panel.recorded"
    # Learning: the themes list (an administrator's), tags, the dashboard.
    LEARNING_READ = "learning.read"
    LEARNING_TAGGED = "learning.tagged"
    # Immediate concerns (issue 20): raised from an answer, acknowledged,
    # escalated by Maca when nobody did, closed with an outcome or because
    # the answer was withdrawn; and what was sent.
    CONCERN_RAISED = "concern.raised"
    CONCERN_ACKNOWLEDGED = "concern.acknowledged"
    CONCERN_ESCALATED = "concern.escalated"
    CONCERN_CLOSED = "concern.closed"
    CONCERN_READ = "concern.read"
    CONCERNS_LISTED = "concerns.listed"
    NOTIFICATIONS_READ = "notifications.read"
    MAIL_PREFERENCE_CHANGED = "mail.preference-changed"
    # Remedial actions.
    ACTION_CREATED = "action.created"
    ACTION_CHANGED = "action.changed"
    ACTIONS_READ = "actions.read"
    ACTION_PROGRESS_RECORDED = "action.progress-recorded"
    ACTION_PLAN_READ = "action-plan.read"
    # Reviewing across audits, and documents taken away.
    THEMES_READ = "themes.read"
    REPORT_PRODUCED = "report.produced"
    EXPORT_PRODUCED = "export.produced"
    # Administering the partnership: each names the partnership(s) it
    # concerns in ``detail["partnership_ids"]`` (the administration trail).
    ORGANISATION_REGISTERED = "organisation.registered"
    ORGANISATION_CHANGED = "organisation.changed"
    ORGANISATION_CONFIRMED = "organisation.confirmed"
    ORGANISATION_CORRECTED = "organisation.corrected"
    MACHINE_CLIENT_REGISTERED = "machine-client.registered"
    MACHINE_CLIENT_CHANGED = "machine-client.changed"
    PARTNERSHIP_CHANGED = "partnership.changed"
    TOOLKIT_CHOICE_CHANGED = "toolkit.choice-changed"
    TOOLKIT_VERSION_UPLOADED = "toolkit.version-uploaded"
    TOOLKIT_VERSION_ACTIVATED = "toolkit.version-activated"
    LEARNING_THEME_ADDED = "learning-theme.added"
    LEARNING_THEME_CHANGED = "learning-theme.changed"
    # Retention (``maca purge``), by no one signed in.
    AUDITS_PURGED = "audits.purged"
    # ``maca demo``: an audit's made-up history, loaded in bulk (COPY, through
    # the same chaining trigger as every event), by no one signed in.
    DEMO_GENERATED = "demo.generated"


async def record(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    name: EventName,
    *,
    audit_id: UUID | None = None,
    target_organisation_id: UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event done by ``principal``, in the caller's transaction.
    ``detail`` holds ids, statuses, counts and the reasons people gave,
    never answers or case details. The database records the actor from the
    transaction's verified identity, the one ``unit_of_work`` sealed for
    ``principal`` (migration 0011): a caller cannot name anyone else."""
    await stored.append(
        connection,
        action=name.value,
        audit_id=audit_id,
        target_organisation_id=target_organisation_id,
        detail=detail or {},
    )


async def record_unattributed(
    connection: asyncpg.Connection[Any], name: EventName, detail: dict[str, Any], *, audit_id: UUID | None = None
) -> int:
    """Append an event done by Maca itself (a maintenance command or the
    worker, run by the tables' owner, no one signed in); its id."""
    return await stored.append_unattributed(connection, action=name.value, detail=detail, audit_id=audit_id)
