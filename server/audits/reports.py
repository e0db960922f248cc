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
from server.audits.voices import AgencyVoice, partnership_voices
from server.auth.permissions import Permission, is_partnership_staff, require
from server.auth.principal import Principal
from server.db import actions, audits, organisations, panels
from server.db import exports as stored
from server.db.audits import AuditRow
from server.platform.problems import Forbidden
from server.reports.report import (
    CombinedReport,
    PartnershipGrade,
    ReportPanel,
    ReportVoice,
    combined_report,
    report_panel,
)
from toolkits.model import Toolkit
from toolkits.registry import Registry

__all__ = ["read_report", "report_file_name"]


def _in_words(found: AgencyVoice) -> ReportVoice:
    voice = found.voice
    return ReportVoice(
        organisation_name=found.organisation_name,
        agency_kind=found.agency_kind,
        findings_discussed=voice.findings_discussed_text,
        practitioner_views=voice.practitioner_views,
        manager_views=voice.manager_views,
        family_views_sought=voice.family_views_sought_text,
        family_views=voice.family_views,
    )


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
    # The panel's record is the partnership's (its coordinators and reviewers).
    panel = await _panel_of(connection, toolkit, audit) if staff else None
    # The partnership's staff: every submitted agency's; an agency: its own.
    voices = [_in_words(v) for v in await partnership_voices(connection, principal, audit, own_only=not staff)]
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
            panel=panel,
            voices=voices,
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
        voices=voices,
        reference=audit_reference(toolkit, audit),
    )


async def _panel_of(connection: asyncpg.Connection[Any], toolkit: Toolkit, audit: AuditRow) -> ReportPanel | None:
    record = await panels.get(connection, audit.id)
    if record is None:
        return None
    names = {o.id: o.name for o in await organisations.of_partnership(connection, audit.partnership_id)}
    return report_panel(
        toolkit,
        held_on=record.held_on,
        attendees=record.attendees,
        section_narratives=record.section_narratives,
        overall_narrative=record.overall_narrative,
        decisions=record.decisions,
        organisation_names=names,
    )


def report_file_name(report: CombinedReport) -> str:
    """The PDF's file name from the audit's reference ("Case 2026-041"
    → ``case-2026-041-combined-report.pdf``): letters, digits and hyphens
    only, never the audit's id."""
    words = re.findall(r"[a-z0-9]+", report.reference.lower())
    stem = "-".join(words)[:60].strip("-") or "audit"
    return f"{stem}-combined-report.pdf"
