"""An agency's contribution to an audit: reading it, saving drafts,
submitting, amending with a reason, and the coordinator returning it.

An auditor reads and writes only their own organisation's contribution:
drafts while the audit is open, a submission checked in full, amendments
with a reason afterwards (each submitted and amended version is kept).
Coordinators and reviewers read what was last submitted, never a draft
(:func:`server.audits.access.contribution_reader`).

The writing steps take the caller's own contribution as
:func:`load_own_contribution` read it in the same transaction (who may, and
the row's version, checked there) and check everything else themselves:
the version the caller saw, whether the audit's state allows the change,
and every problem with the content (:func:`save_problems`,
:func:`submission_problems`, which a page also calls to show every problem
at once).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from agencies.applicability import Participant, applicable_sections
from agencies.contributions import contribution_progress, validate_contribution
from server.audits import concerns, events, notifications, summaries
from server.audits.access import (
    OrganisationReference,
    contribution_reader,
    open_own_contribution,
    own_contribution_row,
    referenced_organisation,
    taking_part_as,
    visible_audit,
)
from server.audits.action_plan import track_submitted_actions
from server.audits.checks import (
    MAX_REASON,
    changed_meanwhile,
    check_reason,
    check_seen_version,
    check_text,
    invalid,
    refuse_when_closed,
)
from server.audits.events import EventName
from server.audits.facts import audit_toolkit, case_details_of, contribution_content, participant_of
from server.audits.views import (
    ContributionView,
    ParticipantView,
    VersionView,
    contribution_path,
    contribution_view,
    participant_views,
)
from server.auth.permissions import Permission, require
from server.auth.principal import Principal
from server.db import audits, contributions
from server.db.audits import AuditRow
from server.db.contributions import ContributionRow
from server.platform.problems import Conflict, NotFound
from server.reports.report import ReportFeature, ReportSection, contribution_sections, features_marked
from toolkits.answers import CaseDetails, ContributionContent, Judgement
from toolkits.model import Section, Toolkit
from toolkits.registry import Registry
from toolkits.validation import FieldProblem, case_detail_values

__all__ = [
    "OwnContribution",
    "ReturnRead",
    "SubmittedRead",
    "check_editable",
    "check_return_comment",
    "check_submittable",
    "load_own_contribution",
    "read_contribution",
    "read_for_return",
    "read_own_contribution",
    "read_submitted",
    "read_versions",
    "return_contribution",
    "save_contribution",
    "save_own",
    "save_problems",
    "submission_problems",
    "submit_contribution",
    "submit_own",
]


# --- the caller's own contribution ----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OwnContribution:
    """The caller's organisation's contribution, with what it is checked
    against: the audit's toolkit version and case details, and the agency's
    part in the case (which sections apply to it)."""

    audit: AuditRow
    row: ContributionRow
    toolkit: Toolkit
    participant: Participant

    @functools.cached_property
    def case_details(self) -> CaseDetails:
        return case_details_of(self.audit)

    @functools.cached_property
    def case_values(self) -> dict[str, object] | None:
        return case_detail_values(self.case_details)

    @functools.cached_property
    def sections(self) -> tuple[Section, ...]:
        """The sections this agency answers on this case, in order."""
        return tuple(applicable_sections(self.toolkit, self.participant, self.case_values))

    @functools.cached_property
    def content(self) -> ContributionContent:
        return contribution_content(self.row)

    @property
    def submitted(self) -> bool:
        return self.row.status == "submitted"

    @property
    def editable(self) -> bool:
        return is_editable(self.audit, self.row)

    def section(self, section_id: str) -> Section:
        for section in self.sections:
            if section.id == section_id:
                return section
        raise NotFound("no such section in your part of this audit")

    def next_after(self, section_id: str) -> str | None:
        ids = [s.id for s in self.sections]
        index = ids.index(section_id)
        return ids[index + 1] if index + 1 < len(ids) else None


async def load_own_contribution(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    organisation: OrganisationReference,
) -> OwnContribution:
    """The caller's organisation's contribution to the audit (``organisation``:
    its id or code), to change it; 404 unless the audit and the contribution
    are theirs to see."""
    organisation_id = await referenced_organisation(connection, principal, organisation)
    audit, row = await open_own_contribution(connection, principal, audit_id, organisation_id)
    return OwnContribution(
        audit=audit,
        row=row,
        toolkit=await audit_toolkit(connection, registry, audit),
        participant=participant_of(audit, row.organisation_id, taking_part_as(audit, principal)),
    )


async def read_own_contribution(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit_id: UUID
) -> OwnContribution:
    """The caller's organisation's contribution to the audit, to show it,
    the read recorded."""
    own = await load_own_contribution(connection, principal, registry, audit_id, principal.organisation_id)
    await events.record(
        connection,
        principal,
        EventName.CONTRIBUTION_READ,
        audit_id=own.audit.id,
        target_organisation_id=principal.organisation_id,
    )
    return own


def _check_own(principal: Principal, own: OwnContribution) -> None:
    """``own`` is the caller's to change: it holds contribution:write, and
    ``own`` is its organisation's (as :func:`load_own_contribution` made
    it; a step given another is not fooled, it answers 404)."""
    require(principal, Permission.CONTRIBUTION_WRITE)
    if own.row.organisation_id != principal.organisation_id:
        raise NotFound("no such contribution")


def is_editable(audit: AuditRow, row: ContributionRow) -> bool:
    """Drafts are saved while the audit is open; a submitted contribution is
    amended while it is open or in review."""
    return audit.status == "open" or (row.status == "submitted" and audit.status == "in-review")


def check_editable(audit: AuditRow, row: ContributionRow) -> None:
    if is_editable(audit, row):
        return
    refuse_when_closed(audit.status, "change a contribution")
    if row.status == "submitted":
        raise Conflict(f"the audit is {audit.status}; a submitted contribution cannot be amended now")
    raise Conflict(f"the audit is {audit.status}; drafts are saved while it is open")


def check_submittable(audit: AuditRow, row: ContributionRow) -> None:
    refuse_when_closed(audit.status, "submit a contribution")
    if row.status == "submitted":
        raise Conflict("already submitted; amend it with a reason instead")
    if audit.status != "open":
        raise Conflict(f"the audit is {audit.status}; contributions are submitted while it is open")


# --- saving, amending, submitting -------------------------------------------------------


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


async def save_own(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    own: OwnContribution,
    content: ContributionContent,
    reason: str | None,
    *,
    seen_version: int | None,
) -> ContributionRow:
    """Save ``content`` over the caller's own contribution: a draft while the
    audit is open, or after submission an amendment, complete, with a
    reason, kept as a new version. 412 if it changed since ``seen_version``
    (or between our read and our write)."""
    _check_own(principal, own)
    refuse_when_closed(own.audit.status, "change a contribution")
    check_seen_version(
        seen_version, own.row.row_version, resource="the contribution", read_at=contribution_path(own.row)
    )
    check_editable(own.audit, own.row)
    amending = own.submitted
    problems = save_problems(own, content, reason)
    if problems:
        raise invalid(problems, "an amendment must be complete" if amending else None)
    progress = contribution_progress(own.toolkit, own.participant, content, case_details=own.case_values)
    status = "submitted" if amending else "in-progress"
    detail: dict[str, Any] = {"status": status, "answered": progress.answered}
    if amending:
        detail["reason"] = reason
    # One round trip: the write (if nobody changed the contribution since
    # our read, nor the audit's status), the amended version kept, and the
    # event (its detail gains the kept version's number).
    written = await contributions.save_recorded(
        connection,
        own.row.id,
        own.row.row_version,
        audit_status=own.audit.status,
        status=status,
        content=msgspec.to_builtins(content),
        answered=progress.answered,
        applicable=progress.applicable,
        keep="amended" if amending else None,
        reason=reason,
        action=(EventName.CONTRIBUTION_AMENDED if amending else EventName.CONTRIBUTION_SAVED).value,
        detail=detail,
    )
    if written is None:  # changed between our read and our write
        raise changed_meanwhile("the contribution")
    saved = written.row
    if amending:
        await track_submitted_actions(
            connection,
            principal,
            own.toolkit,
            own.audit,
            contribution_id=own.row.id,
            organisation_id=own.row.organisation_id,
            content=content,
        )
    # An answer that raises an immediate concern raises it now, a draft's
    # included; one withdrawn closes its concern (server/audits/concerns.py).
    await _reconcile_concerns(connection, principal, own, saved.status, content)
    # A draft counts in the partnership's judgement only by its status;
    # re-merging on every keystroke-save would cost each save a merge.
    if saved.status != own.row.status or amending:
        await summaries.refresh(connection, registry, own.audit.id)
    return saved


async def _reconcile_concerns(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    own: OwnContribution,
    status: str,
    content: ContributionContent,
) -> None:
    await concerns.reconcile(
        connection,
        principal,
        own.toolkit,
        own.audit,
        organisation_id=own.row.organisation_id,
        agency_kind=own.participant.agency_kind,
        status=status,
        content=content,
        any_open=own.row.open_concerns,
    )


async def save_contribution(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    organisation: OrganisationReference,
    content: ContributionContent,
    reason: str | None,
    *,
    seen_version: int | None,
) -> ContributionRow:
    """Save the caller's organisation's contribution (:func:`save_own`)."""
    own = await load_own_contribution(connection, principal, registry, audit_id, organisation)
    return await save_own(connection, principal, registry, own, content, reason, seen_version=seen_version)


def submission_problems(own: OwnContribution, content: ContributionContent) -> list[FieldProblem]:
    """What stops ``content`` being submitted: every missing or invalid answer."""
    return validate_contribution(own.toolkit, own.participant, content, case_details=own.case_values, complete=True)


async def submit_own(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    own: OwnContribution,
    *,
    seen_version: int | None,
) -> ContributionRow:
    """Submit the caller's own contribution as saved, checked in full, and
    keep it as a version. 412 if it changed since ``seen_version``."""
    _check_own(principal, own)
    refuse_when_closed(own.audit.status, "submit a contribution")
    check_seen_version(
        seen_version, own.row.row_version, resource="the contribution", read_at=contribution_path(own.row)
    )
    check_submittable(own.audit, own.row)
    problems = submission_problems(own, own.content)
    if problems:
        raise invalid(problems, "the contribution is not complete")
    progress = contribution_progress(own.toolkit, own.participant, own.content, case_details=own.case_values)
    # One round trip: the write, the submitted version kept, the event.
    written = await contributions.save_recorded(
        connection,
        own.row.id,
        own.row.row_version,
        audit_status=own.audit.status,
        status="submitted",
        content=own.row.content,
        answered=progress.answered,
        applicable=progress.applicable,
        keep="submitted",
        reason=None,
        action=EventName.CONTRIBUTION_SUBMITTED.value,
        detail={"answered": progress.answered, "applicable": progress.applicable},
    )
    if written is None:
        raise changed_meanwhile("the contribution")
    saved = written.row
    await track_submitted_actions(
        connection,
        principal,
        own.toolkit,
        own.audit,
        contribution_id=own.row.id,
        organisation_id=own.row.organisation_id,
        content=own.content,
    )
    await summaries.refresh(connection, registry, own.audit.id)
    if await audits.all_submitted(connection, own.audit.id):
        await notifications.ready_for_panel(
            connection,
            partnership_id=own.audit.partnership_id,
            audit_id=own.audit.id,
            audit_created_by=own.audit.created_by,
            key=f"{own.row.id}:{written.kept_version}",
        )
    return saved


async def submit_contribution(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    organisation: OrganisationReference,
    *,
    seen_version: int | None,
) -> ContributionRow:
    """Submit the caller's organisation's contribution (:func:`submit_own`)."""
    own = await load_own_contribution(connection, principal, registry, audit_id, organisation)
    return await submit_own(connection, principal, registry, own, seen_version=seen_version)


# --- returning a contribution -------------------------------------------------------------


def check_return_comment(comment: str) -> None:
    problems = check_text(
        comment, field="$.comment", required=True, missing=f"say what is needed, in 1 to {MAX_REASON} characters"
    )
    if problems:
        raise invalid(problems)


async def return_contribution(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    organisation: OrganisationReference,
    comment: str,
    *,
    seen_version: int | None,
) -> ContributionRow:
    """Send a submitted contribution back to its agency for more work,
    while the audit is open."""
    require(principal, Permission.CONTRIBUTION_RETURN)
    check_return_comment(comment)
    organisation_id = await referenced_organisation(connection, principal, organisation)
    audit = await visible_audit(connection, principal, audit_id)
    refuse_when_closed(audit.status, "return a contribution")
    contribution = await contributions.get(connection, audit.id, organisation_id)
    if contribution is None or not await audits.is_participant(connection, audit.id, organisation_id):
        raise NotFound("no such contribution")
    check_seen_version(
        seen_version, contribution.row_version, resource="the contribution", read_at=contribution_path(contribution)
    )
    if contribution.status != "submitted":
        raise Conflict(f"only a submitted contribution can be returned; this one is {contribution.status}")
    if audit.status != "open":
        raise Conflict(
            f"the audit is {audit.status}; reopen it, with a reason, to return a contribution", allowed=["open"]
        )
    returned = await contributions.mark_returned(
        connection, contribution.id, contribution.row_version, comment, principal.user_id
    )
    if returned is None:
        raise changed_meanwhile("the contribution")
    await events.record(
        connection,
        principal,
        EventName.CONTRIBUTION_RETURNED,
        audit_id=audit.id,
        target_organisation_id=organisation_id,
    )
    await summaries.refresh(connection, registry, audit.id)
    await notifications.contribution_returned(
        connection,
        partnership_id=audit.partnership_id,
        audit_id=audit.id,
        organisation_id=organisation_id,
        key=f"{returned.id}:{returned.row_version}",
    )
    return returned


@dataclass(frozen=True, kw_only=True)
class ReturnRead:
    """A participant's contribution as the coordinator's return form shows it."""

    audit: AuditRow
    participant: ParticipantView
    contribution: ContributionRow

    @property
    def returnable(self) -> bool:
        return self.contribution.status == "submitted" and self.audit.status == "open"


async def read_for_return(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit_id: UUID, organisation_id: UUID
) -> ReturnRead:
    """A current participant's contribution, to return it; the read recorded."""
    require(principal, Permission.CONTRIBUTION_RETURN)
    audit = await visible_audit(connection, principal, audit_id)
    toolkit = await audit_toolkit(connection, registry, audit)
    found = [
        p
        for p in participant_views(toolkit, audit, await audits.participants(connection, audit.id))
        if p.organisation_id == organisation_id and p.removed_at is None
    ]
    contribution = await contributions.get(connection, audit.id, organisation_id)
    if not found or contribution is None:
        raise NotFound("no such contribution")
    await events.record(
        connection, principal, EventName.CONTRIBUTION_READ, audit_id=audit.id, target_organisation_id=organisation_id
    )
    return ReturnRead(audit=audit, participant=found[0], contribution=contribution)


# --- reading a contribution ---------------------------------------------------------------


async def _readable_row(
    connection: asyncpg.Connection[Any], principal: Principal, audit: AuditRow, organisation_id: UUID
) -> tuple[ContributionRow, bool]:
    """The contribution ``principal`` may read, and whether as its own agency."""
    if contribution_reader(principal, organisation_id) == "own agency":
        return await own_contribution_row(connection, principal, audit, organisation_id), True
    found = await contributions.get(connection, audit.id, organisation_id)
    if found is None:
        raise NotFound("no such contribution")
    return found, False


async def read_contribution(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    organisation: OrganisationReference,
) -> ContributionView:
    """An organisation's contribution (``organisation``: its id or code) as
    ``principal`` may read it: its own agency's working copy, or for
    coordinators and reviewers the version it last submitted (no content
    until it has submitted one); the read recorded."""
    require(principal, Permission.CONTRIBUTION_READ)
    organisation_id = await referenced_organisation(connection, principal, organisation)
    audit = await visible_audit(connection, principal, audit_id)
    toolkit = await audit_toolkit(connection, registry, audit)
    values = case_detail_values(case_details_of(audit))
    row, own = await _readable_row(connection, principal, audit, organisation_id)
    content: ContributionContent | None
    if own:
        content = contribution_content(row)
    else:
        # Never another agency's draft: the last version it submitted.
        latest = await contributions.latest_version(connection, row.id)
        content = None if latest is None else msgspec.convert(latest.content, ContributionContent)
    kind = await audits.participant_kind(connection, audit.id, organisation_id)
    who = participant_of(audit, organisation_id, kind or "")
    applicable = contribution_progress(toolkit, who, ContributionContent(), case_details=values).applicable
    await events.record(
        connection, principal, EventName.CONTRIBUTION_READ, audit_id=audit.id, target_organisation_id=organisation_id
    )
    return contribution_view(row, content, applicable)


async def read_versions(
    connection: asyncpg.Connection[Any], principal: Principal, audit_id: UUID, organisation: OrganisationReference
) -> list[VersionView]:
    """Every submitted and amended version of the contribution, oldest first
    (kept versions are never drafts); the read recorded."""
    require(principal, Permission.CONTRIBUTION_READ)
    organisation_id = await referenced_organisation(connection, principal, organisation)
    audit = await visible_audit(connection, principal, audit_id)
    row, _own = await _readable_row(connection, principal, audit, organisation_id)
    kept = await contributions.versions(connection, row.id)
    await events.record(
        connection,
        principal,
        EventName.CONTRIBUTION_VERSIONS_READ,
        audit_id=audit.id,
        target_organisation_id=organisation_id,
    )
    return [
        VersionView(
            version=v.version,
            kind=v.kind,
            reason=v.reason,
            content=msgspec.convert(v.content, ContributionContent),
            created_by=v.created_by,
            created_at=v.created_at,
        )
        for v in kept
    ]


# --- a submitted contribution, for the partnership ---------------------------------------


@dataclass(frozen=True, kw_only=True)
class SubmittedRead:
    """An organisation's submitted contribution as the partnership reads it
    (never a draft): every kept version, and one of them in full, section by
    section, in the toolkit's words."""

    audit: AuditRow
    toolkit: Toolkit
    participant: ParticipantView
    versions: list[VersionView]  # every submitted and amended version, oldest first
    shown: VersionView | None  # the version asked for (the latest by default); None before any
    sections: tuple[ReportSection, ...]
    overall_grade: int | None
    overall_label: str | None
    overall_impact: str | None
    overall_features: tuple[ReportFeature, ...]
    overall_override_reason: str | None


async def read_submitted(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    audit_id: UUID,
    organisation_id: UUID,
    *,
    version: int | None = None,
) -> SubmittedRead:
    """A participant's submitted contribution (the latest version, or
    ``version``) with the list of its versions, for coordinators and
    reviewers to read before returning, moderating or closing; the read
    recorded. 404 for an organisation never invited or a version that does
    not exist."""
    require(principal, Permission.PARTNERSHIP_OVERSEE)
    audit = await visible_audit(connection, principal, audit_id)
    toolkit = await audit_toolkit(connection, registry, audit)
    found = [
        p
        for p in participant_views(toolkit, audit, await audits.participants(connection, audit.id))
        if p.organisation_id == organisation_id
    ]
    if not found:
        raise NotFound("no such contribution")
    row = await contributions.get(connection, audit.id, organisation_id)
    kept = await contributions.versions(connection, row.id) if row is not None else []
    versions = [
        VersionView(
            version=v.version,
            kind=v.kind,
            reason=v.reason,
            content=msgspec.convert(v.content, ContributionContent),
            created_by=v.created_by,
            created_at=v.created_at,
        )
        for v in kept
    ]
    if version is not None:
        chosen = [v for v in versions if v.version == version]
        if not chosen:
            raise NotFound("no such version of this contribution")
        shown: VersionView | None = chosen[0]
    else:
        shown = versions[-1] if versions else None
    await events.record(
        connection,
        principal,
        EventName.CONTRIBUTION_READ,
        audit_id=audit.id,
        target_organisation_id=organisation_id,
        detail={"version": shown.version} if shown is not None else {},
    )
    content = shown.content if shown is not None else ContributionContent()
    overall = content.overall or Judgement()
    labels = {g.value: g.label for g in toolkit.scale.grades}
    return SubmittedRead(
        audit=audit,
        toolkit=toolkit,
        participant=found[0],
        versions=versions,
        shown=shown,
        sections=contribution_sections(toolkit, content),
        overall_grade=overall.grade,
        overall_label=labels.get(overall.grade) if overall.grade is not None else None,
        overall_impact=overall.impact,
        overall_features=features_marked(
            toolkit, toolkit.overall.features if toolkit.overall is not None else (), overall.features
        ),
        overall_override_reason=overall.override_reason,
    )
