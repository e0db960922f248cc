"""The partnership's judgement of an audit, as every part of Maca computes it.

The judgement API, the reviewer's pages, the combined report, the exports
and the themes summaries all call :func:`judgement_of`, so none of them can
show a grade the others would not. The judgement is computed from the
contributions on every read (``merging.merge``); only moderations are
stored (``server/audits/moderation.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from merging import PartnershipJudgement, merge
from server.audits import events
from server.audits.access import visible_audit
from server.audits.events import EventName
from server.audits.facts import audit_policy, audit_toolkit, case_details_of, case_facts
from server.audits.voices import AgencyVoice, partnership_voices
from server.auth.permissions import Permission, is_partnership_staff, require
from server.auth.principal import Principal
from server.db import judgements
from server.db.audits import AuditRow
from server.platform.problems import Forbidden
from toolkits.answers import CaseDetails
from toolkits.model import Toolkit
from toolkits.registry import Registry

__all__ = [
    "JudgementRead",
    "PartnershipResult",
    "PartnershipSectionResult",
    "judgement_of",
    "partnership_result",
    "read_judgement",
]


class PartnershipSectionResult(msgspec.Struct, frozen=True, kw_only=True):
    section_id: str
    title: str
    grade: int | None
    label: str | None
    moderated: bool


class PartnershipResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an agency auditor sees once an audit is closed: the partnership's
    grades, not the other agencies' own."""

    toolkit_id: str
    toolkit_version: int
    sections: tuple[PartnershipSectionResult, ...]
    overall_grade: int | None
    overall_label: str | None
    final: bool = False  # the audit is closed: these grades are final


async def judgement_of(connection: asyncpg.Connection[Any], toolkit: Toolkit, audit: AuditRow) -> PartnershipJudgement:
    """The partnership judgement of ``audit``: its agencies' submitted
    contributions merged by the rules of the edition it was created under,
    with the reviewers' moderations applied; final once it is closed."""
    contributions = await judgements.agency_contributions(connection, audit.id)
    agreed = [judgements.as_moderation(row) for row in await judgements.moderations(connection, audit.id)]
    # The merge policy the partnership had chosen when the audit was
    # created (None: the toolkit's own), in the edition of the rules it was
    # created under, so neither a later choice nor a later rule changes a
    # closed audit's judgement (audit_policy).
    return merge(
        toolkit,
        case_facts(audit),
        contributions,
        audit_policy(toolkit, audit),
        moderations=agreed,
        final=audit.status == "closed",
    )


def partnership_result(judgement: PartnershipJudgement) -> PartnershipResult:
    """Only the partnership's grades of ``judgement``: what an agency may see."""
    return PartnershipResult(
        toolkit_id=judgement.toolkit_id,
        toolkit_version=judgement.toolkit_version,
        sections=tuple(
            PartnershipSectionResult(
                section_id=s.section_id,
                title=s.title,
                grade=s.grade,
                label=s.label,
                moderated=s.moderation is not None,
            )
            for s in judgement.sections
        ),
        overall_grade=judgement.overall.grade,
        overall_label=judgement.overall.label,
        final=judgement.final,
    )


@dataclass(frozen=True, kw_only=True)
class JudgementRead:
    """The judgement as its reader may see it: coordinators and reviewers
    the whole of it and its version (the ETag a moderation must send);
    an agency's auditor only the partnership's grades."""

    audit: AuditRow
    toolkit: Toolkit
    judgement: PartnershipJudgement | None
    version: str | None
    result: PartnershipResult | None
    # Coordinators and reviewers: each submitted agency's practitioner and family voice.
    voices: tuple[AgencyVoice, ...] = ()

    @property
    def case_details(self) -> CaseDetails:
        return case_details_of(self.audit)


async def read_judgement(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit_id: UUID
) -> JudgementRead:
    """The audit's judgement for ``principal``, the read recorded. An agency
    sees the partnership's grades once the audit is closed (403 before)."""
    require(principal, Permission.JUDGEMENT_READ)
    audit = await visible_audit(connection, principal, audit_id)
    staff = is_partnership_staff(principal)
    if not staff and audit.status != "closed":
        raise Forbidden("the partnership's judgement is shared with agencies when the audit is closed")
    toolkit = await audit_toolkit(connection, registry, audit)
    await events.record(connection, principal, EventName.JUDGEMENT_READ, audit_id=audit.id)
    # Row-level security lets a participant's transaction read every
    # contribution of a closed audit (migration 0005); for an agency, only
    # the partnership's grades leave this function.
    judgement = await judgement_of(connection, toolkit, audit)
    if staff:
        version = await judgements.judgement_etag(connection, audit.id)
        return JudgementRead(
            audit=audit,
            toolkit=toolkit,
            judgement=judgement,
            version=version,
            result=None,
            voices=tuple(await partnership_voices(connection, principal, audit)),
        )
    return JudgementRead(
        audit=audit, toolkit=toolkit, judgement=None, version=None, result=partnership_result(judgement)
    )
