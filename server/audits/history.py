"""An audit's history in words: who did what, and when, from the event
trail — created, distributed, contributions submitted, returned (with the
coordinator's comment) and amended (with the agency's reason), grades agreed
by the panel, moved to review, closed and reopened (with their reasons),
remedial actions agreed.

Row-level security decides which events a reader gets (migration 0011,
and 0018 for the agencies taking part): the partnership's coordinators and
reviewers read every event of the audit; an agency's auditor its own
organisation's, what was done to its contribution, and the audit's moves.
Reads (who opened what) are the trail's too, but not history a person
follows, so they are left out here; ``GET /api/audits/{id}/events`` has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec

from merging import OVERALL
from server.audits import events
from server.audits.access import visible_audit
from server.audits.events import EventName
from server.audits.facts import audit_toolkit
from server.audits.views import audit_reference
from server.auth.permissions import Permission, require
from server.auth.principal import Principal
from server.db import events as stored_events
from server.db.audits import AuditRow
from server.db.events import HistoryRow
from toolkits.model import Toolkit
from toolkits.registry import Registry

__all__ = ["HISTORY_ACTIONS", "HistoryEntry", "HistoryRead", "describe", "read_history"]

# The events a person follows an audit by, in the trail's own names.
HISTORY_ACTIONS: Final[tuple[EventName, ...]] = (
    EventName.AUDIT_CREATED,
    EventName.AUDIT_CHANGED,
    EventName.AUDIT_STATUS_CHANGED,
    EventName.CONTRIBUTION_SUBMITTED,
    EventName.CONTRIBUTION_AMENDED,
    EventName.CONTRIBUTION_RETURNED,
    EventName.JUDGEMENT_MODERATED,
    EventName.ACTION_CREATED,
    EventName.ACTION_CHANGED,
)
MAX_ENTRIES: Final = 500

_MOVES: Final[dict[tuple[str, str], str]] = {
    ("draft", "open"): "distributed the audit to the agencies",
    ("open", "in-review"): "moved the audit to review",
    ("in-review", "closed"): "closed the audit",
    ("in-review", "open"): "reopened the audit",
    ("closed", "open"): "reopened the closed audit",
}
_FIELDS: Final[dict[str, str]] = {
    "case_details": "the case details",
    "period_start": "the start of the audit period",
    "period_end": "the end of the audit period",
    "referring_organisation": "the referring agency",
    "due_date": "the due date",
    "reference": "the audit’s reference",
}


@dataclass(frozen=True, kw_only=True)
class HistoryEntry:
    at: Any  # datetime.datetime
    who: str  # "Casey Coordinator (Demo Children's Services)", or "Maca"
    what: str  # "returned Demo Police’s contribution"
    # What a person wrote with it: a reason, a return comment.
    reason: str | None = None
    reason_label: str | None = None
    # Links to a contribution's versions (organisation id, version).
    contribution: tuple[UUID, int] | None = None


@dataclass(frozen=True, kw_only=True)
class HistoryRead:
    audit: AuditRow
    toolkit: Toolkit
    reference: str
    entries: list[HistoryEntry]  # newest first


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _names(ids: list[str], names: dict[str, str]) -> str:
    found = [names.get(i, "an agency no longer taking part") for i in ids]
    return _and(found) if found else "no agency"


def describe(row: HistoryRow, toolkit: Toolkit, names: dict[str, str]) -> HistoryEntry:
    """One event in words (pure: the names of the organisations involved
    are given, as the reader may see them)."""
    who = row.user_name or "Someone"
    if row.organisation_name:
        who = f"{who} ({row.organisation_name})"
    if row.user_id is None:
        who = "Maca"
    detail = row.detail
    target = row.target_name or "an agency"
    # "Harper Health (Demo Police) submitted its contribution", not "… submitted
    # Demo Police’s contribution": the agency is named once.
    whose = "its" if row.target_name and row.target_name == row.organisation_name else f"{target}’s"
    reason: str | None = None
    label: str | None = None
    contribution: tuple[UUID, int] | None = None
    action = row.action
    if action == EventName.AUDIT_CREATED:
        what = f"created the audit with {_names([str(p) for p in detail.get('participants', [])], names)} taking part"
    elif action == EventName.AUDIT_CHANGED:
        fields = [_FIELDS.get(f, f) for f in detail.get("fields", [])]
        parts = []
        if fields:
            parts.append(
                "changed " + (fields[0] if len(fields) == 1 else ", ".join(fields[:-1]) + " and " + fields[-1])
            )
        if detail.get("added"):
            parts.append(f"added {_names(detail['added'], names)}")
        if detail.get("removed"):
            parts.append(f"removed {_names(detail['removed'], names)}")
        what = "; ".join(parts) or "changed the audit"
        reason, label = detail.get("reason"), "Reason"
    elif action == EventName.AUDIT_STATUS_CHANGED:
        what = _MOVES.get((detail.get("from", ""), detail.get("to", "")), "moved the audit on")
        reason, label = detail.get("reason"), "Reason"
        outstanding = sum((detail.get("outstanding") or {}).values())
        if outstanding:
            what += f", confirming {outstanding} thing{'s' if outstanding != 1 else ''} outstanding"
    elif action == EventName.CONTRIBUTION_SUBMITTED:
        version = detail.get("version")
        what = f"submitted {whose} contribution" + (f" (version {version})" if version else "")
        if version and row.target_organisation_id:
            contribution = (row.target_organisation_id, int(version))
    elif action == EventName.CONTRIBUTION_AMENDED:
        version = detail.get("version")
        what = f"amended {whose} submitted contribution" + (f" (version {version})" if version else "")
        reason, label = detail.get("reason"), "Reason for the amendment"
        if version and row.target_organisation_id:
            contribution = (row.target_organisation_id, int(version))
    elif action == EventName.CONTRIBUTION_RETURNED:
        what = f"returned {target}’s contribution for more work"
        reason, label = row.returned_comment, "What the agency was asked to do"
    elif action == EventName.JUDGEMENT_MODERATED:
        section = detail.get("section", "")
        title = (
            "the overall judgement"
            if section == OVERALL
            else next((s.title for s in toolkit.sections if s.id == section), "a section")
        )
        grade = detail.get("grade")
        label_of = {g.value: g.label for g in toolkit.scale.grades}
        grade_words = f"{label_of.get(grade, grade)} ({grade})" if grade is not None else "a grade"
        what = f"agreed {grade_words} for {title} at the panel"
        reason, label = detail.get("reason"), "Reason"
    elif action == EventName.ACTION_CREATED:
        what = "agreed a remedial action"
    elif action == EventName.ACTION_CHANGED:
        fields = detail.get("fields", [])
        what = "recorded progress on a remedial action" if fields else "changed a remedial action"
    else:
        what = action
    return HistoryEntry(
        at=row.at, who=who, what=what, reason=reason or None, reason_label=label, contribution=contribution
    )


async def read_history(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit_id: UUID
) -> HistoryRead:
    """The audit's history as ``principal`` may see it, newest first; the
    read recorded (as the API's read of the events is)."""
    require(principal, Permission.AUDIT_READ)
    audit = await visible_audit(connection, principal, audit_id)
    toolkit = await audit_toolkit(connection, registry, audit)
    rows = await stored_events.history(connection, audit.id, [a.value for a in HISTORY_ACTIONS], limit=MAX_ENTRIES)
    names = {str(r.target_organisation_id): r.target_name for r in rows if r.target_organisation_id and r.target_name}
    # The organisations named in creation and changes (ids in the detail).
    named = {
        str(i)
        for r in rows
        for key in ("participants", "added", "removed")
        for i in (r.detail.get(key) or [])
        if isinstance(r.detail.get(key), list)
    }
    if named - names.keys():
        names.update(await stored_events.organisation_names(connection, sorted(named - names.keys())))
    await events.record(connection, principal, EventName.AUDIT_EVENTS_READ, audit_id=audit.id)
    latest_return: set[UUID] = set()
    entries: list[HistoryEntry] = []
    for row in rows:
        returned_to = row.target_organisation_id
        if row.action == EventName.CONTRIBUTION_RETURNED and returned_to is not None:
            # The stored comment is the latest return's: say it only there.
            if returned_to in latest_return:
                row = msgspec.structs.replace(row, returned_comment=None)
            latest_return.add(returned_to)
        entries.append(describe(row, toolkit, names))
    return HistoryRead(audit=audit, toolkit=toolkit, reference=audit_reference(toolkit, audit), entries=entries)
