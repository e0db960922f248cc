"""Remedial actions agreed on an audit (the seeds' action plan table:
action, who, timescale, date reviewed, completed/comments, initials).

Coordinators and reviewers agree actions; the organisation responsible for
one (its auditors) records progress on it; a coordinator may change any.
An auditor sees only the actions their organisation is responsible for.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec

from server.audits import events, notifications
from server.audits.access import visible_audit
from server.audits.checks import MAX_REASON, changed_meanwhile, check_seen_version, check_text
from server.audits.events import EventName
from server.audits.facts import audit_toolkit
from server.audits.views import audit_reference
from server.auth.permissions import Permission, is_partnership_staff, may, require
from server.auth.principal import Principal
from server.db import actions, audits
from server.db.actions import RemedialActionRow
from server.db.audits import AuditRow, ParticipantRow
from server.platform.problems import FieldError, InvalidInput, NotFound
from toolkits.model import Toolkit
from toolkits.registry import Registry
from toolkits.text import hidden_character
from toolkits.validation import PLAINLY, FieldProblem

__all__ = [
    "COORDINATOR_FIELDS",
    "MAX_FIELD",
    "PROGRESS_FIELDS",
    "ActionsRead",
    "Changer",
    "agree_action",
    "change_action",
    "changes_as",
    "list_actions",
    "read_action",
    "read_actions",
]

MAX_FIELD = MAX_REASON

# What the action is and who owns it only a coordinator changes; the
# organisation responsible records its progress, as updates that are all
# kept (the progress fields the seed's table had are refused here).
COORDINATOR_FIELDS = ("action", "who", "timescale", "responsible_organisation_id", "due_date")
PROGRESS_FIELDS = ("date_reviewed", "completed", "comments", "initials")

NOT_TAKING_PART = "is not an organisation taking part"
SAY_WHAT = "say what is to be done"

# How someone may change an action: all of it, or its progress as the
# organisation responsible for it.
Changer = Literal["any field", "progress"]


def _text_problems(values: Mapping[str, object]) -> list[FieldError]:
    """The action's texts as every person's text is checked (``check_text``;
    ``action``, when sent, says what is to be done in visible words), and
    the initials of whoever reviewed it as an identifier: no character
    that hides or turns text round (``toolkits.text``)."""
    problems = []
    for name, value in values.items():
        if not isinstance(value, str) and not (name == "action" and value is None):
            continue
        problems += check_text(
            value, field=f"$.{name}", required=name == "action", missing=SAY_WHAT, max_length=MAX_FIELD
        )
        hidden = hidden_character(value) if name == "initials" and isinstance(value, str) else None
        if hidden is not None:
            problems.append(FieldProblem(field=f"$.{name}", message=f"contains {hidden}; {PLAINLY}"))
    return [FieldError(field=p.field, message=p.message) for p in problems]


def changes_as(principal: Principal, action: RemedialActionRow) -> Changer | None:
    """How ``principal`` may change ``action``: any of it (``action:change``,
    a coordinator), its progress (``action:progress``, the organisation
    responsible for it), or not at all."""
    if may(principal, Permission.ACTION_CHANGE):
        return "any field"
    if may(principal, Permission.ACTION_PROGRESS) and action.responsible_organisation_id == principal.organisation_id:
        return "progress"
    return None


async def list_actions(
    connection: asyncpg.Connection[Any], principal: Principal, audit_id: UUID
) -> list[RemedialActionRow]:
    """The audit's actions, soonest due first (an auditor: only those their
    organisation is responsible for); the read recorded."""
    require(principal, Permission.ACTION_READ)
    audit = await visible_audit(connection, principal, audit_id)
    only = None if is_partnership_staff(principal) else principal.organisation_id
    found = await actions.for_audit(connection, audit.id, organisation_id=only)
    await events.record(connection, principal, EventName.ACTIONS_READ, audit_id=audit.id)
    return found


@dataclass(frozen=True, kw_only=True)
class ActionsRead:
    """An audit's action plan, with the organisations that could own an action."""

    audit: AuditRow
    toolkit: Toolkit
    actions: list[RemedialActionRow]
    participants: list[ParticipantRow]  # taking part now

    @property
    def reference(self) -> str:
        return audit_reference(self.toolkit, self.audit)


async def read_actions(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit_id: UUID
) -> ActionsRead:
    """The tracker's page: every action of the audit and who takes part
    (those who oversee the partnership); the read recorded."""
    require(principal, Permission.PARTNERSHIP_OVERSEE)
    audit = await visible_audit(connection, principal, audit_id)
    toolkit = await audit_toolkit(connection, registry, audit)
    found = await actions.for_audit(connection, audit.id)
    participants = [p for p in await audits.participants(connection, audit.id) if p.removed_at is None]
    await events.record(connection, principal, EventName.ACTIONS_READ, audit_id=audit.id)
    return ActionsRead(audit=audit, toolkit=toolkit, actions=found, participants=participants)


async def read_action(
    connection: asyncpg.Connection[Any], principal: Principal, audit_id: UUID, action_id: UUID
) -> tuple[AuditRow, RemedialActionRow]:
    """One action of the audit, to change it or record progress on it
    (:func:`changes_as`; 404 for anyone who may not); the read recorded."""
    audit = await visible_audit(connection, principal, audit_id)
    action = await actions.get(connection, audit.id, action_id)
    if action is None or changes_as(principal, action) is None:
        raise NotFound("no such action")
    await events.record(connection, principal, EventName.ACTIONS_READ, audit_id=audit.id)
    return audit, action


async def agree_action(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    audit_id: UUID,
    *,
    action: str,
    who: str | None,
    timescale: str | None,
    responsible_organisation_id: UUID | None,
    due_date: datetime.date | None,
) -> RemedialActionRow:
    """Agree a remedial action on the audit (coordinators and reviewers):
    it says what is to be done, its texts fit, and the organisation made
    responsible takes part (422 naming every problem)."""
    require(principal, Permission.ACTION_AGREE)
    errors = _text_problems({"action": action, "who": who, "timescale": timescale})
    audit = await visible_audit(connection, principal, audit_id)
    if responsible_organisation_id is not None and not await audits.is_participant(
        connection, audit.id, responsible_organisation_id
    ):
        errors.append(FieldError(field="$.responsible_organisation_id", message=NOT_TAKING_PART))
    if errors:
        raise InvalidInput(errors=errors)
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
    await notifications.action_assigned(
        connection,
        partnership_id=audit.partnership_id,
        audit_id=audit.id,
        action_id=created.id,
        responsible_organisation_id=created.responsible_organisation_id,
        due_date=created.due_date,
    )
    return created


async def change_action(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    audit_id: UUID,
    action_id: UUID,
    given: Mapping[str, Any],
    *,
    seen_version: int | None,
) -> RemedialActionRow:
    """Change what an action is (a coordinator): ``given`` holds the
    fields sent, by name; 404 for an action the caller may not change
    (:func:`changes_as`), 422 for its progress (recorded as a kept update,
    :func:`server.audits.action_plan.record_progress`). 412 if it changed
    since ``seen_version``."""
    require(principal, Permission.ACTION_PROGRESS)
    audit = await visible_audit(connection, principal, audit_id)
    current = await actions.get(connection, audit.id, action_id)
    changer = None if current is None else changes_as(principal, current)
    if current is None or changer is None:
        raise NotFound("no such action")
    check_seen_version(
        seen_version,
        current.row_version,
        resource="the remedial action",
        read_at=f"/api/audits/{audit.id}/actions",
    )
    errors = _text_problems(given)
    # Progress is a history, never an overwrite: each review is kept as an
    # update of its own (server.audits.action_plan.record_progress). A field
    # already refused for what it holds is named once, for that.
    refused = {e.field for e in errors}
    errors += [
        FieldError(
            field=f"$.{name}",
            message=f"record progress with POST /api/actions/{current.id}/updates, which keeps every update",
        )
        for name in given
        if name in PROGRESS_FIELDS and f"$.{name}" not in refused
    ]
    if changer != "any field":
        errors += [
            FieldError(field=f"$.{name}", message="only a coordinator changes this")
            for name in given
            if name in COORDINATOR_FIELDS
        ]
    organisation = given.get("responsible_organisation_id")
    if isinstance(organisation, UUID) and not await audits.is_participant(connection, audit.id, organisation):
        errors.append(FieldError(field="$.responsible_organisation_id", message=NOT_TAKING_PART))
    if errors:
        raise InvalidInput(errors=errors)
    changed = msgspec.structs.replace(current, **given)
    updated = await actions.update(connection, changed, current.row_version, principal.user_id)
    if updated is None:
        raise changed_meanwhile("the remedial action")
    await events.record(
        connection,
        principal,
        EventName.ACTION_CHANGED,
        audit_id=audit.id,
        target_organisation_id=updated.responsible_organisation_id,
        detail={"action_id": str(updated.id), "fields": sorted(given)},
    )
    if updated.responsible_organisation_id != current.responsible_organisation_id:
        # Made another organisation's: it is told, as at agreement.
        await notifications.action_assigned(
            connection,
            partnership_id=audit.partnership_id,
            audit_id=audit.id,
            action_id=updated.id,
            responsible_organisation_id=updated.responsible_organisation_id,
            due_date=updated.due_date,
        )
    return updated
