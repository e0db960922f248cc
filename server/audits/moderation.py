"""Moderation: a partnership reviewer records the grade the panel agreed for
a section (or overall), with its reason; the computed grade is kept beside
it. A moderation carries the version of the judgement the reviewer read, so
nobody agrees a grade over contributions they have not seen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from merging import OVERALL, AgencyContribution, OverallResult, PartnershipJudgement, SectionResult
from server.audits import events, summaries
from server.audits.access import visible_audit
from server.audits.checks import MAX_MODERATION_REASON, check_text, invalid, refuse_when_closed
from server.audits.events import EventName
from server.audits.facts import audit_toolkit
from server.audits.judgement import judgement_of
from server.audits.voices import AgencyVoice, partnership_voices
from server.auth.permissions import Permission, require
from server.auth.principal import Principal
from server.db import judgements
from server.db.audits import AuditRow
from server.platform.problems import NotFound, PreconditionFailed
from server.reports.report import ReportFeature, ReportSection, features_marked, section_part
from toolkits.answers import Judgement
from toolkits.model import Section, Toolkit
from toolkits.registry import Registry

__all__ = [
    "MAX_MODERATION_REASON",
    "AgencyWork",
    "Moderated",
    "ModerationRead",
    "check_moderation_reason",
    "moderate",
    "read_moderation",
]


def check_moderation_reason(reason: str) -> None:
    problems = check_text(
        reason,
        field="$.reason",
        required=True,
        missing="give the reason the panel agreed",
        max_length=MAX_MODERATION_REASON,
    )
    if problems:
        raise invalid(problems)


@dataclass(frozen=True, kw_only=True)
class Moderated:
    """The audit, and its judgement with the agreed grade applied and its
    new version."""

    audit: AuditRow
    judgement: PartnershipJudgement
    version: str


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
) -> Moderated:
    """Record the grade the panel agreed for a section (or ``overall``), the
    computed grade kept beside it. ``seen_judgement`` is the judgement's
    ETag as the reviewer read it: 412 if anything changed since. A closed
    audit's judgement is final: 409 until it is reopened."""
    require(principal, Permission.JUDGEMENT_MODERATE)
    check_moderation_reason(reason)
    audit = await visible_audit(connection, principal, audit_id, for_update=True)
    refuse_when_closed(audit.status, "agree a grade")
    toolkit = await audit_toolkit(connection, registry, audit)
    graded = {s.id for s in toolkit.sections if s.judgement is not None and s.completed_by == "agency"}
    if section_id != OVERALL and section_id not in graded:
        raise NotFound(f"no graded section {section_id!r} in {toolkit.id}")
    current = await judgements.judgement_etag(connection, audit.id)
    if seen_judgement != current:
        sent = seen_judgement if len(seen_judgement) <= 100 else "another value"
        raise PreconditionFailed(
            f"the judgement is at ETag {current} and If-Match sent {sent}: it has changed since you "
            f"read it, or the ETag was another resource's. Read the judgement again (GET /api/audits/{audit.id}"
            "/judgement) before moderating, then send its ETag",
            headers={"ETag": current},
        )
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
    return Moderated(
        audit=audit,
        judgement=await judgement_of(connection, toolkit, audit),
        version=await judgements.judgement_etag(connection, audit.id),
    )


# --- the moderation page: every involved agency's work on one section, side by side ---


@dataclass(frozen=True, kw_only=True)
class AgencyWork:
    """One submitting agency's work on the section being moderated (or its
    overall judgement): its grade with its words, its answers, comments and
    evidence, a significant failure it recorded there, or why it was not
    involved."""

    organisation_id: str
    organisation_name: str
    agency_kind: str
    grade: int | None
    label: str | None
    impact: str | None
    part: ReportSection | None  # its answers in the section (None for the overall)
    not_involved: str | None
    significant_failure: str | None
    override_reason: str | None
    features: tuple[ReportFeature, ...]


@dataclass(frozen=True, kw_only=True)
class ModerationRead:
    """What a reviewer moderates with: the judgement (and its version, for
    the ETag a moderation must send), the section's result and every
    submitting agency's work on it."""

    audit: AuditRow
    toolkit: Toolkit
    judgement: PartnershipJudgement
    version: str
    target: str  # a section id, or OVERALL
    title: str
    result: SectionResult | OverallResult
    agencies: list[AgencyWork]
    # Each submitted agency's practitioner and family voice, for the panel's context.
    voices: tuple[AgencyVoice, ...] = ()


def _agency_work(toolkit: Toolkit, section: Section | None, contribution: AgencyContribution) -> AgencyWork:
    content = contribution.content
    labels = {g.value: g.label for g in toolkit.scale.grades}
    if section is None:  # the overall judgement
        judgement = content.overall or Judgement()
        features = features_marked(
            toolkit, toolkit.overall.features if toolkit.overall is not None else (), judgement.features
        )
        part = None
        not_involved = failure = None
    else:
        judgement = content.judgements.get(section.id, Judgement())
        part = section_part(toolkit, section, content)
        features = part.features if part is not None else ()
        not_involved = content.not_involved[section.id].reason if section.id in content.not_involved else None
        failure = (
            content.significant_failures[section.id].description if section.id in content.significant_failures else None
        )
    grade = judgement.grade if judgement.grade in labels else None
    return AgencyWork(
        organisation_id=contribution.organisation_id,
        organisation_name=contribution.organisation_name,
        agency_kind=contribution.agency_kind,
        grade=grade,
        label=labels.get(grade) if grade is not None else None,
        impact=judgement.impact,
        part=part,
        not_involved=not_involved,
        significant_failure=failure,
        override_reason=judgement.override_reason,
        features=features,
    )


async def read_moderation(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit_id: UUID, target: str
) -> ModerationRead:
    """A section (or the overall judgement) with every submitting agency's
    work on it side by side — grades, answers, comments, evidence,
    significant failures, and who was not involved and why — so a reviewer
    never agrees a grade without the reasons behind it; the read recorded."""
    require(principal, Permission.JUDGEMENT_MODERATE)
    audit = await visible_audit(connection, principal, audit_id)
    toolkit = await audit_toolkit(connection, registry, audit)
    contributions = await judgements.agency_contributions(connection, audit.id)
    judgement = await judgement_of(connection, toolkit, audit)
    result: SectionResult | OverallResult
    section: Section | None = None
    if target == OVERALL:
        result, title = judgement.overall, "Overall judgement"
    else:
        found = [s for s in judgement.sections if s.section_id == target]
        if not found:
            raise NotFound(f"no graded section {target!r} in this audit tool")
        result, title = found[0], found[0].title
        section = next(s for s in toolkit.sections if s.id == target)
    await events.record(connection, principal, EventName.JUDGEMENT_READ, audit_id=audit.id, detail={"section": target})
    submitted = sorted(
        (c for c in contributions if c.status == "submitted"), key=lambda c: (c.organisation_name, c.organisation_id)
    )
    return ModerationRead(
        audit=audit,
        toolkit=toolkit,
        judgement=judgement,
        version=await judgements.judgement_etag(connection, audit.id),
        target=target,
        title=title,
        result=result,
        agencies=[_agency_work(toolkit, section, c) for c in submitted],
        voices=tuple(await partnership_voices(connection, principal, audit)),
    )
