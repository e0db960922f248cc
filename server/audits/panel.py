"""The multi-agency panel's record of an audit.

Between "in review" and "closed" the agencies meet to agree what the
audit found (seed 003: "where consensus amongst agencies… has not been
reached"; seed 001: "the manager and practitioner engage in a discussion
on the findings"). The record says when the panel met, who attended for
which organisation (by role: the report is anonymised), the narrative it
agreed for each graded section and overall, and its decisions with the
organisation that made each (none: the panel together). It is written by
the partnership's coordinators and reviewers while the audit is in
review, and fixed once the audit is closed; it is part of the report.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec

from server.audits import events
from server.audits.access import visible_audit
from server.audits.checks import MAX_REASON, changed_meanwhile, check_seen_version, refuse_when_closed
from server.audits.events import EventName
from server.audits.facts import audit_toolkit, case_details_of
from server.audits.views import case_reference, today
from server.auth.permissions import Permission, require
from server.auth.principal import Principal
from server.db import organisations, panels
from server.db.audits import AuditRow
from server.db.panels import PanelRecordRow
from server.platform.problems import Conflict, FieldError, InvalidInput
from toolkits.model import Section, Toolkit
from toolkits.registry import Registry

__all__ = [
    "MAX_NARRATIVE",
    "Attendee",
    "Decision",
    "PanelContent",
    "PanelRead",
    "graded_sections",
    "panel_problems",
    "read_panel",
    "record_panel",
]

MAX_NARRATIVE: Final = 8000
MAX_ROLE: Final = 200
MAX_ATTENDEES: Final = 60
MAX_DECISIONS: Final = 60


class Attendee(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    organisation_id: UUID
    role: str  # "Designated nurse", "Detective sergeant": a role, not a name


class Decision(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    decision: str
    # the organisation that made it; none: the panel together
    made_by_organisation_id: UUID | None = None


class PanelContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the panel agreed, as written (PUT replaces it)."""

    held_on: datetime.date | None = None
    attendees: list[Attendee] = msgspec.field(default_factory=list)
    section_narratives: dict[str, str] = msgspec.field(default_factory=dict)
    overall_narrative: str | None = None
    decisions: list[Decision] = msgspec.field(default_factory=list)


def graded_sections(toolkit: Toolkit) -> list[Section]:
    """The sections the panel agrees a narrative for: the agencies' graded ones."""
    return [s for s in toolkit.sections if s.completed_by != "coordinator" and s.judgement is not None]


def panel_problems(
    toolkit: Toolkit, content: PanelContent, organisation_ids: set[UUID], *, on: datetime.date
) -> list[FieldError]:
    """Every problem with ``content``, each naming its field."""
    errors: list[FieldError] = []
    if content.held_on is not None and content.held_on > on:
        errors.append(FieldError(field="$.held_on", message="must be today or in the past"))
    if len(content.attendees) > MAX_ATTENDEES:
        errors.append(FieldError(field="$.attendees", message=f"at most {MAX_ATTENDEES} attendees"))
    for i, attendee in enumerate(content.attendees):
        if attendee.organisation_id not in organisation_ids:
            errors.append(
                FieldError(
                    field=f"$.attendees[{i}].organisation_id", message="is not an organisation of the partnership"
                )
            )
        if not attendee.role.strip() or len(attendee.role) > MAX_ROLE:
            errors.append(
                FieldError(field=f"$.attendees[{i}].role", message=f"say their role in 1 to {MAX_ROLE} characters")
            )
    sections = {s.id for s in graded_sections(toolkit)}
    for section_id, narrative in content.section_narratives.items():
        if section_id not in sections:
            errors.append(
                FieldError(field=f"$.section_narratives.{section_id}", message="is not a graded section of the toolkit")
            )
        elif len(narrative) > MAX_NARRATIVE:
            errors.append(
                FieldError(
                    field=f"$.section_narratives.{section_id}", message=f"is longer than {MAX_NARRATIVE} characters"
                )
            )
    if content.overall_narrative is not None and len(content.overall_narrative) > MAX_NARRATIVE:
        errors.append(FieldError(field="$.overall_narrative", message=f"is longer than {MAX_NARRATIVE} characters"))
    if len(content.decisions) > MAX_DECISIONS:
        errors.append(FieldError(field="$.decisions", message=f"at most {MAX_DECISIONS} decisions"))
    for i, decision in enumerate(content.decisions):
        if not decision.decision.strip() or len(decision.decision) > MAX_REASON:
            errors.append(
                FieldError(
                    field=f"$.decisions[{i}].decision", message=f"say what was decided in 1 to {MAX_REASON} characters"
                )
            )
        made_by = decision.made_by_organisation_id
        if made_by is not None and made_by not in organisation_ids:
            errors.append(
                FieldError(
                    field=f"$.decisions[{i}].made_by_organisation_id",
                    message="is not an organisation of the partnership",
                )
            )
    return errors


@dataclass(frozen=True, kw_only=True)
class PanelRead:
    audit: AuditRow
    toolkit: Toolkit
    record: PanelRecordRow | None
    organisations: dict[UUID, str]  # the partnership's, by id: who can attend

    @property
    def reference(self) -> str | None:
        return case_reference(self.toolkit, case_details_of(self.audit))

    @property
    def editable(self) -> bool:
        return self.audit.status == "in-review"

    @property
    def row_version(self) -> int:
        return 0 if self.record is None else self.record.row_version


async def read_panel(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit_id: UUID
) -> PanelRead:
    """The panel's record (none yet: ``record`` is None) for those who
    oversee the partnership; the read recorded."""
    require(principal, Permission.PARTNERSHIP_OVERSEE)
    audit = await visible_audit(connection, principal, audit_id)
    toolkit = await audit_toolkit(connection, registry, audit)
    record = await panels.get(connection, audit.id)
    known = {o.id: o.name for o in await organisations.of_partnership(connection, audit.partnership_id)}
    await events.record(connection, principal, EventName.PANEL_READ, audit_id=audit.id)
    return PanelRead(audit=audit, toolkit=toolkit, record=record, organisations=known)


async def record_panel(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    content: PanelContent,
    *,
    seen_version: int | None,
) -> PanelRead:
    """Write the panel's record (coordinators, reviewers) while the audit is
    in review: 409 before or once closed, 412 if someone wrote it since
    ``seen_version`` (0: there was none), 422 naming every problem."""
    require(principal, Permission.PANEL_RECORD)
    audit = await visible_audit(connection, principal, audit_id, for_update=True)
    refuse_when_closed(audit.status, "change the panel's record")
    if audit.status != "in-review":
        raise Conflict(f"the panel's record is written once the audit is in review; it is {audit.status}")
    current = await panels.get(connection, audit.id)
    check_seen_version(
        seen_version,
        0 if current is None else current.row_version,
        resource="the panel record",
        read_at=f"/api/audits/{audit.id}/panel",
    )
    toolkit = await audit_toolkit(connection, registry, audit)
    known = {o.id: o.name for o in await organisations.of_partnership(connection, audit.partnership_id)}
    errors = panel_problems(toolkit, content, set(known), on=today())
    if errors:
        raise InvalidInput(errors=errors)
    saved = await panels.save(
        connection,
        audit.id,
        0 if current is None else current.row_version,
        held_on=content.held_on,
        attendees=msgspec.to_builtins(content.attendees),
        section_narratives={k: v.strip() for k, v in content.section_narratives.items() if v.strip()},
        overall_narrative=(content.overall_narrative or "").strip() or None,
        decisions=msgspec.to_builtins(content.decisions),
        user_id=principal.user_id,
    )
    if saved is None:
        raise changed_meanwhile("the panel record")
    await events.record(
        connection,
        principal,
        EventName.PANEL_RECORDED,
        audit_id=audit.id,
        detail={"attendees": len(content.attendees), "decisions": len(content.decisions)},
    )
    return PanelRead(audit=audit, toolkit=toolkit, record=saved, organisations=known)
