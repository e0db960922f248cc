"""The partnership's action plan: one list across its audits and
programmes, fed by the tools' own action tables, followed to completion by
the organisations responsible.

- **From the tools.** Seed 002's "Please state any remedial actions you
  recommend for this case … monitored by the Audit Team" and seed 004's
  "Please note any required remedial actions" are tables in the
  contribution (``rows`` questions with an ``action`` column). When an
  agency submits, each row with an action becomes a tracked action owned
  by that agency's organisation; an amendment brings the row's action up
  to date instead of adding a second (the row it came from is kept).
- **Progress is a history.** The seed's "Date reviewed, Completed/Comments,
  Initials" held one review, overwritten by the next. Here every update is
  kept: its status, the date it was reviewed (not in the future), what was
  done, the evidence of completion, and who recorded it — the signed-in
  person and their organisation, never initials typed in.
- **Who.** Coordinators and reviewers see the whole plan; an agency's
  auditors see "Your actions", those their organisation is responsible
  for, and record progress on them (a coordinator may too). Anyone else
  gets 404 for an action, as for an audit.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec

from server.audits import events, notifications
from server.audits.actions import changes_as
from server.audits.checks import MAX_REASON, changed_meanwhile, check_seen_version
from server.audits.events import EventName
from server.audits.facts import audit_toolkit, case_details_of
from server.audits.views import action_overdue, case_reference, today
from server.auth.permissions import Permission, is_partnership_staff, require
from server.auth.principal import Principal
from server.db import actions
from server.db.actions import STATUSES, ActionUpdateRow, PlannedActionRow, RemedialActionRow
from server.db.audits import AuditRow
from server.platform.problems import FieldError, InvalidInput, NotFound
from toolkits.answers import ContributionContent
from toolkits.model import Question, Toolkit
from toolkits.registry import Registry

__all__ = [
    "MAX_PROGRESS_TEXT",
    "STATUSES",
    "STATUS_LABELS",
    "ActionPlan",
    "ActionRead",
    "ActionUpdateRow",
    "PlannedAction",
    "TableRow",
    "action_tables",
    "progress_problems",
    "read_action",
    "read_plan",
    "record_progress",
    "table_rows",
    "track_submitted_actions",
]

MAX_PROGRESS_TEXT: Final = MAX_REASON

STATUS_LABELS: Final = {
    "open": "Not started",
    "in-progress": "In progress",
    "completed": "Completed",
    "not-taken-forward": "Not taken forward",
}

# The columns of the seeds' action tables, by what they hold: 002 "Action |
# Who? | Timescales | Date reviewed | Completed/Comments | Initials", 004
# "Action | Who / When".
_ACTION: Final = "action"
_WHO: Final = ("who", "who-when")
_DUE: Final = ("timescale",)
_COMMENTS: Final = ("completed-comments",)


# --- from the tools' action tables (pure) -----------------------------------------


def action_tables(toolkit: Toolkit) -> list[Question]:
    """The toolkit's action tables: its agencies' ``rows`` questions with an
    ``action`` column (002 ``remedial-actions``, 004
    ``remedial-actions-required``; a partnership's own version's too)."""
    return [
        question
        for section in toolkit.sections
        if section.completed_by != "coordinator"
        for question in section.questions
        if question.kind == "rows" and any(c.id == _ACTION for c in question.columns)
    ]


class TableRow(msgspec.Struct, frozen=True, kw_only=True):
    """One row of an action table, as a tracked action takes it."""

    question_id: str
    row: int
    action: str
    who: str | None
    timescale: str | None
    due_date: datetime.date | None
    comments: str | None


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def table_rows(toolkit: Toolkit, content: ContributionContent) -> list[TableRow]:
    """Every row with an action in the contribution's action tables. A
    date in the "Timescales" column is the action's due date; words there
    stay its timescale."""
    found: list[TableRow] = []
    for question in action_tables(toolkit):
        answer = content.answers.get(question.id)
        rows = answer.value if answer is not None and isinstance(answer.value, list) else []
        for index, row in enumerate(rows):
            if not isinstance(row, dict) or _text(row.get(_ACTION)) is None:
                continue
            who = next((_text(row.get(c)) for c in _WHO if _text(row.get(c))), None)
            due_text = next((_text(row.get(c)) for c in _DUE if _text(row.get(c))), None)
            due_date: datetime.date | None = None
            if due_text is not None:
                with contextlib.suppress(ValueError):  # words, not a date: the timescale
                    due_date = datetime.date.fromisoformat(due_text)
            found.append(
                TableRow(
                    question_id=question.id,
                    row=index,
                    action=str(_text(row.get(_ACTION))),
                    who=who,
                    timescale=None if due_date is not None else due_text,
                    due_date=due_date,
                    comments=next((_text(row.get(c)) for c in _COMMENTS if _text(row.get(c))), None),
                )
            )
    return found


async def track_submitted_actions(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    toolkit: Toolkit,
    audit: AuditRow,
    *,
    contribution_id: UUID,
    organisation_id: UUID,
    content: ContributionContent,
) -> list[RemedialActionRow]:
    """Track the rows of a contribution's action tables, as it is submitted
    or amended (called by those steps, in their transaction): each row with
    an action becomes an action the contributing organisation is
    responsible for; a row already tracked is brought up to date."""
    tracked: list[RemedialActionRow] = []
    for row in table_rows(toolkit, content):
        action, new = await actions.save_from_table(
            connection,
            audit.id,
            contribution_id=contribution_id,
            question_id=row.question_id,
            row=row.row,
            action=row.action[:MAX_PROGRESS_TEXT],
            who=row.who[:MAX_PROGRESS_TEXT] if row.who else None,
            timescale=row.timescale[:MAX_PROGRESS_TEXT] if row.timescale else None,
            responsible_organisation_id=organisation_id,
            due_date=row.due_date,
            comments=row.comments[:MAX_PROGRESS_TEXT] if row.comments else None,
            user_id=principal.user_id,
        )
        if new:
            await events.record(
                connection,
                principal,
                EventName.ACTION_CREATED,
                audit_id=audit.id,
                target_organisation_id=organisation_id,
                detail={"action_id": str(action.id), "from": row.question_id},
            )
            await notifications.action_assigned(
                connection,
                partnership_id=audit.partnership_id,
                audit_id=audit.id,
                action_id=action.id,
                responsible_organisation_id=action.responsible_organisation_id,
                due_date=action.due_date,
            )
        tracked.append(action)
    return tracked


# --- recording progress ---------------------------------------------------------------


def progress_problems(
    *,
    status: str,
    date_reviewed: datetime.date | None,
    comments: str,
    evidence: str | None,
    on: datetime.date,
) -> list[FieldError]:
    """What stops an update being kept: every problem, each naming its field."""
    errors: list[FieldError] = []
    if status not in STATUSES:
        errors.append(FieldError(field="$.status", message=f"must be one of {', '.join(STATUSES)}"))
    if date_reviewed is None:
        errors.append(FieldError(field="$.date_reviewed", message="say when the action was reviewed"))
    elif date_reviewed > on:
        errors.append(FieldError(field="$.date_reviewed", message="must be today or in the past"))
    if not comments.strip():
        errors.append(FieldError(field="$.comments", message="say what was done or found"))
    elif len(comments) > MAX_PROGRESS_TEXT:
        errors.append(FieldError(field="$.comments", message=f"is longer than {MAX_PROGRESS_TEXT} characters"))
    if evidence is not None and len(evidence) > MAX_PROGRESS_TEXT:
        errors.append(FieldError(field="$.evidence", message=f"is longer than {MAX_PROGRESS_TEXT} characters"))
    if status == "completed" and not (evidence or "").strip():
        errors.append(FieldError(field="$.evidence", message="say what shows the action was completed"))
    return errors


async def _reachable_action(
    connection: asyncpg.Connection[Any], principal: Principal, action_id: UUID
) -> RemedialActionRow:
    """The action if ``principal`` may see it: the partnership's staff, or
    the organisation responsible for it; 404 otherwise."""
    action = await actions.get_in_partnership(connection, principal.partnership_id, action_id)
    if action is None:
        raise NotFound("no such action")
    if not is_partnership_staff(principal) and action.responsible_organisation_id != principal.organisation_id:
        raise NotFound("no such action")
    return action


async def record_progress(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    action_id: UUID,
    *,
    status: str,
    date_reviewed: datetime.date | None,
    comments: str,
    evidence: str | None,
    seen_version: int | None,
) -> RemedialActionRow:
    """Keep a progress update on an action (its organisation's auditors, or
    a coordinator) and bring the action to it. 404 for an action the caller
    may not progress, 412 if it changed since ``seen_version``, 422 naming
    every problem (a review dated in the future, no comment, completed
    without evidence)."""
    require(principal, Permission.ACTION_PROGRESS)
    current = await _reachable_action(connection, principal, action_id)
    if changes_as(principal, current) is None:
        raise NotFound("no such action")
    check_seen_version(
        seen_version, current.row_version, resource="the remedial action", read_at=f"/api/actions/{current.id}"
    )
    evidence = evidence.strip() or None if evidence is not None else None
    errors = progress_problems(
        status=status, date_reviewed=date_reviewed, comments=comments, evidence=evidence, on=today()
    )
    if errors:
        raise InvalidInput(errors=errors)
    assert date_reviewed is not None
    updated = await actions.add_update(
        connection,
        current,
        status=status,
        date_reviewed=date_reviewed,
        comments=comments.strip(),
        evidence=evidence,
        user_id=principal.user_id,
        organisation_id=principal.organisation_id,
    )
    if updated is None:
        raise changed_meanwhile("the remedial action")
    await events.record(
        connection,
        principal,
        EventName.ACTION_PROGRESS_RECORDED,
        audit_id=updated.audit_id,
        target_organisation_id=updated.responsible_organisation_id,
        detail={"action_id": str(updated.id), "status": status},
    )
    return updated


# --- reading the plan -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PlannedAction:
    """An action as the plan lists it."""

    action: RemedialActionRow
    reference: str | None  # the case's own reference, never the child's initials
    organisation_name: str | None
    programme_id: UUID | None

    @property
    def overdue(self) -> bool:
        return action_overdue(self.action)


@dataclass(frozen=True, kw_only=True)
class ActionPlan:
    actions: list[PlannedAction]
    total: int
    only_own: bool  # "Your actions": those the caller's organisation is responsible for


async def _planned(
    connection: asyncpg.Connection[Any], registry: Registry, rows: Sequence[PlannedActionRow]
) -> list[PlannedAction]:
    planned = []
    for row in rows:
        toolkit = await audit_toolkit(connection, registry, row)
        planned.append(
            PlannedAction(
                action=row.action,
                reference=case_reference(toolkit, case_details_of(row)),
                organisation_name=row.organisation_name,
                programme_id=row.programme_id,
            )
        )
    return planned


async def read_plan(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    *,
    organisation_id: UUID | None = None,
    status: str | None = None,
    programme_id: UUID | None = None,
    limit: int = 200,
    offset: int = 0,
) -> ActionPlan:
    """The partnership's action plan (its coordinators and reviewers, by
    organisation, status or programme), or for an agency's auditor the
    actions their organisation is responsible for; the read recorded."""
    require(principal, Permission.ACTION_READ)
    if status is not None and status not in STATUSES:
        raise InvalidInput(errors=[FieldError(field="$.status", message=f"must be one of {', '.join(STATUSES)}")])
    only_own = not is_partnership_staff(principal)
    rows, total = await actions.plan(
        connection,
        principal.partnership_id,
        organisation_id=principal.organisation_id if only_own else organisation_id,
        status=status,
        programme_id=programme_id,
        limit=limit,
        offset=offset,
    )
    await events.record(
        connection, principal, EventName.ACTION_PLAN_READ, detail={"count": len(rows), "only_own": only_own}
    )
    return ActionPlan(actions=await _planned(connection, registry, rows), total=total, only_own=only_own)


@dataclass(frozen=True, kw_only=True)
class ActionRead:
    """One action with every progress update kept on it."""

    planned: PlannedAction
    updates: list[ActionUpdateRow]
    may_record: bool  # whether the caller may record progress on it


async def read_action(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, action_id: UUID
) -> ActionRead:
    """An action and its history (the partnership's staff, or the
    organisation responsible; 404 otherwise); the read recorded."""
    require(principal, Permission.ACTION_READ)
    action = await _reachable_action(connection, principal, action_id)
    rows, _ = await actions.plan(connection, principal.partnership_id, action_id=action.id)
    planned = await _planned(connection, registry, rows)
    history = await actions.updates(connection, action.id)
    await events.record(
        connection, principal, EventName.ACTIONS_READ, audit_id=action.audit_id, detail={"action_id": str(action.id)}
    )
    return ActionRead(planned=planned[0], updates=history, may_record=changes_as(principal, action) is not None)
