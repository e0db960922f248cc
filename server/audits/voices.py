"""Practitioner and family voice: what an agency heard after its audit.

Per agency, whether the findings were discussed with the practitioner and
their manager and what each said (seed 001, "Audit findings": "the manager
and practitioner engage in a discussion on the findings and agree on the
required actions to progress the case work"), and whether the family's
views were sought and what they were (seed 002: "Parents / carers views:
Please refer to separate guidance document if this case is selected for
obtaining parents / carers views"). Every part is optional and none of it
is asked for before a contribution is submitted: the discussion often
happens after the audit, and only some cases are selected for the family's
views.

Who reads it: the agency's own auditors, always; the partnership's
coordinators and reviewers once the agency's contribution is submitted
(until then it is a draft, the agency's alone, as the contribution is);
never another agency (migration 0017 holds the same in the database). It is
written by the agency's auditors while the audit is open or in review.
Every save is kept as a version (who, when); events record the version
number only, never what anyone said.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Final, Literal
from uuid import UUID

import asyncpg
import msgspec

from server.audits import events
from server.audits.access import (
    OrganisationReference,
    contribution_reader,
    own_contribution_row,
    referenced_organisation,
    visible_audit,
)
from server.audits.checks import changed_meanwhile, check_seen_version, check_text, invalid, refuse_when_closed
from server.audits.events import EventName
from server.auth.permissions import Permission, require
from server.auth.principal import Principal
from server.db import contributions, voices
from server.db.audits import AuditRow
from server.db.voices import VoiceRow
from server.platform.problems import Conflict, NotFound
from toolkits.text import has_visible_character
from toolkits.validation import FieldProblem

__all__ = [
    "FAMILY_VIEWS_SOUGHT",
    "FINDINGS_DISCUSSED",
    "MAX_VOICE",
    "AgencyVoice",
    "VoiceContent",
    "VoiceRead",
    "VoiceView",
    "is_voice_editable",
    "own_voice",
    "partnership_voices",
    "read_voice",
    "read_voice_versions",
    "save_voice",
    "voice_path",
    "voice_problems",
]

# The same limit as a moderation's reason: a paragraph or a few.
MAX_VOICE: Final = 5_000

# The choices, in the words the pages and the report use.
FINDINGS_DISCUSSED: Final = {
    "yes": "Yes, the findings were discussed with the practitioner and their manager",
    "no": "No, not discussed",
}
FAMILY_VIEWS_SOUGHT: Final = {
    "given": "Yes, and the family gave their views",
    "declined": "Yes, but the family declined or could not be reached",
    "not-sought": "No, this case was not selected for obtaining the family's views",
}


class VoiceContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The voice as the agency has it now (a save replaces it whole)."""

    findings_discussed: Literal["yes", "no"] | None = None
    practitioner_views: str | None = None
    manager_views: str | None = None
    family_views_sought: Literal["given", "declined", "not-sought"] | None = None
    family_views: str | None = None


class VoiceView(msgspec.Struct, frozen=True, kw_only=True):
    """One version of an agency's voice (version 0: nothing recorded yet)."""

    organisation_id: UUID
    version: int
    findings_discussed: str | None = None
    practitioner_views: str | None = None
    manager_views: str | None = None
    family_views_sought: str | None = None
    family_views: str | None = None
    recorded_by: UUID | None = None
    recorded_at: datetime.datetime | None = None

    @property
    def recorded(self) -> bool:
        return self.version > 0

    @property
    def findings_discussed_text(self) -> str:
        return FINDINGS_DISCUSSED.get(self.findings_discussed or "", "Not answered")

    @property
    def family_views_sought_text(self) -> str:
        return FAMILY_VIEWS_SOUGHT.get(self.family_views_sought or "", "Not answered")

    @property
    def answered(self) -> int:
        """How many of the two questions (discussed, family) are answered."""
        return (self.findings_discussed is not None) + (self.family_views_sought is not None)


class AgencyVoice(msgspec.Struct, frozen=True, kw_only=True):
    """An agency's voice as the partnership reads it beside its judgement."""

    organisation_id: UUID
    organisation_name: str
    agency_kind: str
    voice: VoiceView


def _view(row: VoiceRow) -> VoiceView:
    return VoiceView(
        organisation_id=row.organisation_id,
        version=row.version,
        findings_discussed=row.findings_discussed,
        practitioner_views=row.practitioner_views,
        manager_views=row.manager_views,
        family_views_sought=row.family_views_sought,
        family_views=row.family_views,
        recorded_by=row.created_by,
        recorded_at=row.created_at,
    )


def _none_yet(organisation_id: UUID) -> VoiceView:
    return VoiceView(organisation_id=organisation_id, version=0)


def voice_path(audit_id: UUID, organisation_id: UUID) -> str:
    return f"/api/audits/{audit_id}/contributions/{organisation_id}/voice"


def _blank(text: str | None) -> str | None:
    """Text that says nothing a reader can see is no answer (``"\u200b"``
    passes ``str.strip``: :func:`toolkits.text.has_visible_character`)."""
    return text if text is not None and has_visible_character(text) else None


def voice_problems(content: VoiceContent) -> list[FieldProblem]:
    """What stops ``content`` being kept: text too long, or words that do
    not fit the answer beside them (what was said without saying whether
    the findings were discussed; the family's views for a case where they
    were not sought)."""
    problems: list[FieldProblem] = []
    for field in ("practitioner_views", "manager_views", "family_views"):
        problems += check_text(
            getattr(content, field), field=f"$.{field}", required=False, missing="", max_length=MAX_VOICE
        )
    said = [f for f in ("practitioner_views", "manager_views") if _blank(getattr(content, f))]
    if said and content.findings_discussed is None:
        problems.append(
            FieldProblem(
                field="$.findings_discussed",
                message="say whether the findings were discussed with the practitioner and their manager",
            )
        )
    elif content.findings_discussed == "no":
        problems += [
            FieldProblem(field=f"$.{f}", message="the findings were not discussed: leave what was said empty")
            for f in said
        ]
    if _blank(content.family_views) and content.family_views_sought is None:
        problems.append(
            FieldProblem(field="$.family_views_sought", message="say whether the family's views were sought")
        )
    elif _blank(content.family_views) and content.family_views_sought == "not-sought":
        problems.append(
            FieldProblem(field="$.family_views", message="the family's views were not sought: leave them empty")
        )
    return problems


def is_voice_editable(audit: AuditRow) -> bool:
    """While the audit is open or in review (the discussion with the
    practitioner often follows the audit); never once it is closed."""
    return audit.status in ("open", "in-review")


# --- the agency's own -----------------------------------------------------------------------


async def own_voice(connection: asyncpg.Connection[Any], principal: Principal, audit: AuditRow) -> VoiceView:
    """The caller's organisation's voice on ``audit``, as its task list
    shows it: ``audit`` as the caller's own contribution was read in the
    same transaction (which recorded the read and checked that the
    organisation takes part; row-level security shows no one else's)."""
    require(principal, Permission.CONTRIBUTION_WRITE)
    if audit.partnership_id != principal.partnership_id:
        raise NotFound("no such audit")
    found = await voices.latest(connection, audit.id, principal.organisation_id)
    return _view(found) if found is not None else _none_yet(principal.organisation_id)


@dataclass(frozen=True, kw_only=True)
class VoiceRead:
    """A voice as its reader may see it, with the audit it belongs to."""

    audit: AuditRow
    voice: VoiceView
    contribution_status: str
    own: bool

    @property
    def editable(self) -> bool:
        return self.own and is_voice_editable(self.audit)


async def _readable(
    connection: asyncpg.Connection[Any], principal: Principal, audit_id: UUID, organisation: OrganisationReference
) -> tuple[AuditRow, UUID, str, bool]:
    """The audit, the organisation, its contribution's status, and whether
    the caller reads as that agency; 404 for another agency's, and for the
    partnership before the agency has submitted."""
    require(principal, Permission.CONTRIBUTION_READ)
    organisation_id = await referenced_organisation(connection, principal, organisation)
    audit = await visible_audit(connection, principal, audit_id)
    if contribution_reader(principal, organisation_id) == "own agency":
        row = await own_contribution_row(connection, principal, audit, organisation_id)
        return audit, organisation_id, row.status, True
    found = await contributions.get(connection, audit.id, organisation_id)
    if found is None:
        raise NotFound("no such contribution")
    if found.status != "submitted":
        raise NotFound("the agency's voice is shared with the partnership when its contribution is submitted")
    return audit, organisation_id, found.status, False


async def read_voice(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    audit_id: UUID,
    organisation: OrganisationReference,
) -> VoiceRead:
    """An agency's voice as it stands (version 0 when nothing is recorded
    yet), the read recorded."""
    audit, organisation_id, status, own = await _readable(connection, principal, audit_id, organisation)
    found = await voices.latest(connection, audit.id, organisation_id)
    await events.record(
        connection, principal, EventName.VOICE_READ, audit_id=audit.id, target_organisation_id=organisation_id
    )
    view = _view(found) if found is not None else _none_yet(organisation_id)
    return VoiceRead(audit=audit, voice=view, contribution_status=status, own=own)


async def read_voice_versions(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    audit_id: UUID,
    organisation: OrganisationReference,
) -> list[VoiceView]:
    """Every kept version of an agency's voice, oldest first; the read recorded."""
    audit, organisation_id, _status, _own = await _readable(connection, principal, audit_id, organisation)
    kept = await voices.versions(connection, audit.id, organisation_id)
    await events.record(
        connection, principal, EventName.VOICE_VERSIONS_READ, audit_id=audit.id, target_organisation_id=organisation_id
    )
    return [_view(v) for v in kept]


async def save_voice(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    audit_id: UUID,
    organisation: OrganisationReference,
    content: VoiceContent,
    *,
    seen_version: int | None,
) -> VoiceView:
    """Keep ``content`` as the next version of the caller's organisation's
    voice. 412 if it changed since ``seen_version`` (0 before the first
    save), 409 once the audit is closed, 422 naming each field."""
    require(principal, Permission.CONTRIBUTION_WRITE)
    organisation_id = await referenced_organisation(connection, principal, organisation)
    audit = await visible_audit(connection, principal, audit_id)
    await own_contribution_row(connection, principal, audit, organisation_id)
    refuse_when_closed(audit.status, "record the practitioner's and family's voice")
    if not is_voice_editable(audit):
        raise Conflict(f"the audit is {audit.status}; the voice is recorded while it is open or in review")
    current = await voices.latest(connection, audit.id, organisation_id)
    current_version = current.version if current is not None else 0
    check_seen_version(
        seen_version,
        current_version,
        resource="the practitioner and family voice",
        read_at=voice_path(audit.id, organisation_id),
    )
    problems = voice_problems(content)
    if problems:
        raise invalid(problems)
    kept = await voices.add(
        connection,
        audit.id,
        organisation_id,
        current_version + 1,
        findings_discussed=content.findings_discussed,
        practitioner_views=_blank(content.practitioner_views),
        manager_views=_blank(content.manager_views),
        family_views_sought=content.family_views_sought,
        family_views=_blank(content.family_views),
        user_id=principal.user_id,
    )
    if kept is None:  # kept by someone else between our read and our write
        raise changed_meanwhile("the practitioner and family voice")
    # The version only: what a practitioner or a family said stays out of the trail.
    await events.record(
        connection,
        principal,
        EventName.VOICE_SAVED,
        audit_id=audit.id,
        target_organisation_id=organisation_id,
        detail={"version": kept.version},
    )
    return _view(kept)


# --- the partnership's view ---------------------------------------------------------------


async def partnership_voices(
    connection: asyncpg.Connection[Any], principal: Principal, audit: AuditRow, *, own_only: bool = False
) -> list[AgencyVoice]:
    """Each agency's voice as the caller may see it beside the judgement or
    in the report (part of that read, recorded by it): the partnership's
    staff, every agency that has submitted (row-level security keeps
    drafts out); an agency, only its own (``own_only``)."""
    require(principal, Permission.CONTRIBUTION_READ)
    if audit.partnership_id != principal.partnership_id:
        raise NotFound("no such audit")
    # Never a draft for the partnership, whoever's organisation it is (a
    # coordinator's organisation may also take part as an agency).
    found = await voices.shown_for_audit(
        connection,
        audit.id,
        organisation_ids=[principal.organisation_id] if own_only else None,
        submitted_only=not own_only,
    )
    shown = [
        AgencyVoice(
            organisation_id=row.voice.organisation_id,
            organisation_name=row.organisation_name,
            agency_kind=row.agency_kind,
            voice=_view(row.voice),
        )
        for row in found
    ]
    return sorted(shown, key=lambda v: v.organisation_name)
