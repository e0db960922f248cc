"""The combined audit report, as its reader may have it.

Coordinators and reviewers of the partnership have it at any stage (a
report of an audit in progress says it is provisional); an agency's auditor
only once the audit is closed and its organisation takes part (403 before
then, 404 for an audit it is not in), with its own contribution and the
partnership's grades. Every report produced is recorded as an event. What
each part of the report says is :mod:`server.reports.report`.
"""

from __future__ import annotations

import datetime
import re
from typing import Any
from uuid import UUID

import asyncpg

from server.audits import events
from server.audits.access import visible_audit
from server.audits.events import EventName
from server.audits.facts import audit_toolkit
from server.audits.judgement import judgement_of, partnership_result
from server.audits.views import audit_reference
from server.auth.permissions import Permission, is_partnership_staff, require
from server.auth.principal import Principal
from server.db import actions, audits
from server.db import exports as stored
from server.platform.problems import Forbidden
from server.reports.report import CombinedReport, PartnershipGrade, combined_report
from toolkits.registry import Registry

__all__ = ["read_report", "report_file_name"]


async def read_report(
    connection: asyncpg.Connection[Any], principal: Principal, registry: Registry, audit_id: UUID, kind: str
) -> CombinedReport:
    """The report as ``principal`` may see it, recorded as an event of its
    ``kind`` (html, pdf)."""
    require(principal, Permission.REPORT_READ)
    staff = is_partnership_staff(principal)
    own = None if staff else principal.organisation_id
    audit = await visible_audit(connection, principal, audit_id)
    if not staff and audit.status != "closed":
        raise Forbidden("the combined report is shared with agencies when the audit is closed")
    toolkit = await audit_toolkit(connection, registry, audit)
    participants = await audits.participants(connection, audit.id)
    submitted = await stored.submitted_contributions(connection, audit.id, organisation_id=own)
    found_actions = await actions.for_audit(connection, audit.id, organisation_id=own)
    # Staff see the whole judgement. An auditor's transaction may read every
    # contribution of a closed audit (row-level security, migration 0005),
    # as the judgement read does for it; only the partnership's grades of
    # that leave this function.
    whole = await judgement_of(connection, toolkit, audit)
    await events.record(connection, principal, EventName.REPORT_PRODUCED, audit_id=audit.id, detail={"format": kind})
    generated_at = datetime.datetime.now(datetime.UTC)
    if staff:
        return combined_report(
            audit=audit,
            toolkit=toolkit,
            participants=participants,
            submitted=submitted,
            found_actions=found_actions,
            generated_at=generated_at,
            prepared_for="the partnership",
            judgement=whole,
            reference=audit_reference(toolkit, audit),
        )
    result = partnership_result(whole)
    return combined_report(
        audit=audit,
        toolkit=toolkit,
        # Other agencies' names and progress are not the auditor's to see;
        # the referring organisation is (the audit shows it).
        participants=[p for p in participants if p.organisation_id in (own, audit.referring_organisation_id)],
        submitted=submitted,
        found_actions=found_actions,
        generated_at=generated_at,
        prepared_for=principal.organisation_name,
        partnership_grades=[
            PartnershipGrade(
                section_id=s.section_id, title=s.title, grade=s.grade, label=s.label, moderated=s.moderated
            )
            for s in result.sections
        ],
        partnership_overall=(result.overall_grade, result.overall_label),
        list_participants=False,
        reference=audit_reference(toolkit, audit),
    )


def report_file_name(report: CombinedReport) -> str:
    """The PDF's file name from the audit's reference ("Case 2026-041"
    → ``case-2026-041-combined-report.pdf``): letters, digits and hyphens
    only, never the audit's id."""
    words = re.findall(r"[a-z0-9]+", report.reference.lower())
    stem = "-".join(words)[:60].strip("-") or "audit"
    return f"{stem}-combined-report.pdf"
