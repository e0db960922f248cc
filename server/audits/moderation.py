"""Moderation: a partnership reviewer records the grade the panel agreed for
a section (or overall), with its reason; the computed grade is kept beside
it. A moderation carries the version of the judgement the reviewer read, so
nobody agrees a grade over contributions they have not seen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from merging import OVERALL, PartnershipJudgement
from server.audits import events, summaries
from server.audits.access import visible_audit
from server.audits.checks import MAX_MODERATION_REASON, check_text, invalid
from server.audits.events import EventName
from server.audits.facts import audit_toolkit
from server.audits.judgement import judgement_of
from server.auth.permissions import Permission, require
from server.auth.principal import Principal
from server.db import judgements
from server.db.audits import AuditRow
from server.platform.problems import NotFound, PreconditionFailed
from toolkits.registry import Registry

__all__ = ["MAX_MODERATION_REASON", "Moderated", "check_moderation_reason", "moderate"]


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
    ETag as the reviewer read it: 412 if anything changed since."""
    require(principal, Permission.JUDGEMENT_MODERATE)
    check_moderation_reason(reason)
    audit = await visible_audit(connection, principal, audit_id, for_update=True)
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
