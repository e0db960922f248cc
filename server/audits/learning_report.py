"""The learning report's step: which audits it covers (a programme's, or
those created in a period), who may have it (the partnership's
coordinators and reviewers), and its figures, gathered from each audit's
judgement, panel record, learning and actions. What it shows and how it is
anonymised is :mod:`server.reports.learning_report`."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from typing import Any, Final
from uuid import UUID

import asyncpg

from server.audits import events
from server.audits.access import visible_audit
from server.audits.events import EventName
from server.audits.facts import audit_toolkit
from server.audits.judgement import judgement_of
from server.audits.learning import KIND_LABELS, passages_of
from server.audits.views import action_overdue
from server.auth.permissions import Permission, require
from server.auth.principal import Principal
from server.db import actions, learning, organisations, panels, programmes
from server.db import exports as stored
from server.platform.problems import FieldError, InvalidInput, NotFound
from server.reports.learning_report import (
    ActionStatusCount,
    GradeRow,
    LearningReport,
    ReportActionLine,
    ReportDisagreement,
    ReportPassage,
    ThemePassages,
    redactor,
)
from toolkits.registry import Registry

__all__ = ["MAX_AUDITS", "read_learning_report"]

MAX_AUDITS: Final = 500
REPRESENTATIVE: Final = 3
STATUS_WORDS: Final = {
    "open": "Not started",
    "in-progress": "In progress",
    "completed": "Completed",
    "not-taken-forward": "Not taken forward",
}


def _row(label: str, grades: list[int | None]) -> GradeRow:
    counted = Counter(grades)
    return GradeRow(label=label, counts=(*(counted.get(g, 0) for g in (1, 2, 3, 4)), counted.get(None, 0)))


async def read_learning_report(
    connection: asyncpg.Connection[Any],
    principal: Principal,
    registry: Registry,
    *,
    programme_id: UUID | None = None,
    created_from: datetime.date | None = None,
    created_to: datetime.date | None = None,
    kind: str,
) -> LearningReport:
    """The learning report of a programme, or of the audits created in a
    period (at least one of the two); the report recorded as an event of
    its ``kind`` (html, pdf)."""
    require(principal, Permission.REPORT_READ)
    require(principal, Permission.PARTNERSHIP_OVERSEE)
    if programme_id is None and created_from is None and created_to is None:
        raise InvalidInput(errors=[FieldError(field="$.programme", message="name a programme, or a period (from, to)")])
    if created_from and created_to and created_from > created_to:
        raise InvalidInput(errors=[FieldError(field="$.to", message="must be on or after from")])
    title, scope = "", ""
    if programme_id is not None:
        programme = await programmes.get(connection, principal.partnership_id, programme_id)
        if programme is None:
            raise NotFound("no such programme")
        title, scope = (
            programme.name,
            f"Programme: {programme.name}" + (f" — {programme.focus}" if programme.focus else ""),
        )
    else:
        title = f"{created_from or 'the start'} to {created_to or 'today'}"
        scope = f"Audits created from {created_from or 'the start'} to {created_to or 'today'}"
    ids = await learning.report_audit_ids(
        connection,
        principal.partnership_id,
        programme_id=programme_id,
        created_from=created_from,
        created_to=created_to,
        limit=MAX_AUDITS,
    )
    names = {o.id: o.name for o in await organisations.of_partnership(connection, principal.partnership_id)}
    theme_names = {t.id: t.name for t in await learning.themes(connection, principal.partnership_id)}
    scale: tuple[str, ...] = ("Outstanding", "Good", "Requires improvement", "Inadequate")
    section_grades: dict[str, list[int | None]] = defaultdict(list)
    agency_grades: dict[str, list[int | None]] = defaultdict(list)
    overall: list[int | None] = []
    disagreements: list[ReportDisagreement] = []
    by_theme: dict[UUID, list[ReportPassage]] = defaultdict(list)
    theme_audits: dict[UUID, set[int]] = defaultdict(set)
    good_practice: list[ReportPassage] = []
    statuses: Counter[str] = Counter()
    overdue = 0
    lines: list[ReportActionLine] = []
    closed = submitted_count = 0
    gathered = []
    for audit_id in ids:
        audit = await visible_audit(connection, principal, audit_id)
        submitted = [s for s in await stored.submitted_contributions(connection, audit.id) if s.content is not None]
        gathered.append((audit, submitted))
    # Every identifying value of every audit in the report is removed from
    # every audit's text: a name from one case written in another case's
    # words is removed too.
    redact = redactor(
        *(audit.case_details for audit, _ in gathered),
        *(s.content for _, submitted in gathered for s in submitted),
    )
    for number, (audit, submitted) in enumerate(gathered, start=1):
        toolkit = await audit_toolkit(connection, registry, audit)
        if number == 1:
            scale = tuple(g.label for g in toolkit.scale.grades)
        closed += audit.status == "closed"
        judgement = await judgement_of(connection, toolkit, audit)
        submitted_count += len(submitted)
        panel = await panels.get(connection, audit.id)
        overall.append(judgement.overall.grade)
        for agency in judgement.overall.agencies:
            agency_grades[agency.agency_kind.replace("-", " ").capitalize()].append(agency.grade)
        for section in judgement.sections:
            if not section.agencies:
                continue
            section_grades[section.title].append(section.grade)
            if section.disagreement is not None:
                between = " and ".join(
                    f"{a.organisation_name} ({a.label})"
                    for a in (*section.disagreement.best, *section.disagreement.worst)
                )
                narrative = (panel.section_narratives.get(section.section_id) if panel else None) or None
                if section.moderation is not None:
                    resolution = f"Agreed {section.moderation.label}: {redact(section.moderation.reason)}"
                elif narrative:
                    resolution = f"The panel: {redact(narrative)}"
                else:
                    resolution = "Not resolved"
                disagreements.append(
                    ReportDisagreement(
                        audit_number=number, section=section.title, between=between, resolution=resolution
                    )
                )
        passages = passages_of(
            toolkit, audit.id, [(s.organisation_id, s.organisation_name, s.content) for s in submitted], panel
        )
        tags: dict[tuple[UUID, UUID | None, str], list[UUID]] = defaultdict(list)
        for tag in await learning.tags_of(connection, audit.id):
            tags[(tag.audit_id, tag.organisation_id, tag.question_id)].append(tag.theme_id)
        for passage in passages:
            shown = ReportPassage(
                audit_number=number,
                organisation_name=passage.organisation_name,
                kind=KIND_LABELS.get(passage.kind, passage.kind),
                text=redact(passage.text),
            )
            if passage.kind == "good-practice":
                good_practice.append(shown)
            for theme_id in tags.get(passage.key, []):
                by_theme[theme_id].append(shown)
                theme_audits[theme_id].add(number)
        for action in await actions.for_audit(connection, audit.id):
            statuses[action.status] += 1
            late = action_overdue(action)
            overdue += late
            lines.append(
                ReportActionLine(
                    audit_number=number,
                    action=redact(action.action),
                    organisation_name=names.get(action.responsible_organisation_id)
                    if action.responsible_organisation_id
                    else None,
                    status=STATUS_WORDS.get(action.status, action.status),
                    due=action.due_date.isoformat() if action.due_date else None,
                    overdue=late,
                )
            )
    await events.record(
        connection,
        principal,
        EventName.REPORT_PRODUCED,
        detail={"format": kind, "report": "learning", "audits": len(ids)},
    )
    return LearningReport(
        title=title,
        scope=scope,
        partnership_name=principal.partnership_name or "The partnership",
        generated_at=datetime.datetime.now(datetime.UTC),
        audits=len(ids),
        closed=closed,
        contributions_submitted=submitted_count,
        scale=scale,
        sections=tuple(_row(title, grades) for title, grades in section_grades.items()),
        agencies=tuple(_row(kind_name, grades) for kind_name, grades in sorted(agency_grades.items())),
        overall=_row("Overall", overall),
        disagreements=tuple(disagreements),
        themes=tuple(
            ThemePassages(
                name=theme_names.get(theme_id, "A theme"),
                passages=len(found),
                audits=len(theme_audits[theme_id]),
                representative=tuple(found[:REPRESENTATIVE]),
            )
            for theme_id, found in sorted(
                by_theme.items(), key=lambda item: (-len(item[1]), theme_names.get(item[0], ""))
            )
        ),
        good_practice=tuple(good_practice),
        action_statuses=tuple(
            ActionStatusCount(status=STATUS_WORDS[s], count=statuses.get(s, 0)) for s in STATUS_WORDS
        ),
        actions_overdue=overdue,
        actions=tuple(lines),
    )
