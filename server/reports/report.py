"""The combined audit report's content: one document per audit with the
case details, each agency's submitted contribution, the partnership's
judgement, moderation, recommendations and remedial actions.

Pure: it is built from what the report API read, and rendered by the
templates under ``server/templates/web/report`` as HTML and as PDF.

Who sees what (decided here, applied by the API):

- coordinators and reviewers of the partnership: everything — every
  agency's last submitted version (never a draft: an agency still working,
  or working again after a return, is listed as awaited), the whole
  judgement with its reasons, disagreements and moderation, every action;
- an agency's auditor: only once the audit is closed, and then the case
  details, its own organisation's submitted contribution, the partnership's
  grades (as ``GET /api/audits/{id}/judgement`` gives them to an auditor),
  and the actions its organisation is responsible for.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import msgspec

from merging import PartnershipJudgement
from server.db.actions import RemedialActionRow
from server.db.audits import AuditRow, ParticipantRow
from server.db.exports import SubmittedContributionRow
from toolkits.answers import Answer, CaseDetails, ContributionContent, Judgement
from toolkits.model import FIXED_CHOICES, Feature, Question, Section, Toolkit
from toolkits.text import isolated

# The seed's marking (003: "RESTRICTED WHEN COMPLETED: Failure to comply with
# the restriction is in breach of data protection and confidentiality."),
# used for every toolkit: a completed report about a child is restricted
# whichever tool it was audited with.
DEFAULT_MARKING = (
    "RESTRICTED WHEN COMPLETED: Failure to comply with the restriction is in breach of data protection and "
    "confidentiality."
)


class ReportAnswer(msgspec.Struct, frozen=True, kw_only=True):
    question_id: str
    question: str
    answer: str
    comments: str | None = None
    evidence: tuple[str, ...] = ()


class ReportFeature(msgspec.Struct, frozen=True, kw_only=True):
    """A feature of an area as the auditor found it (seed 000): the grade it
    was marked at and that grade's description, or "none of these"."""

    grade: int
    label: str  # the grade's label, or "None of these"
    text: str | None  # the seed's clause at that grade


class ReportSection(msgspec.Struct, frozen=True, kw_only=True):
    section_id: str
    title: str
    answers: tuple[ReportAnswer, ...]
    grade: int | None = None
    grade_label: str | None = None
    impact: str | None = None
    # The agency was not involved at this stage: why (no answers, no grade).
    not_involved: str | None = None
    # A significant failure the agency recorded in this section.
    significant_failure: str | None = None
    # Seed 000: the features marked, and why the grade is not the suggested one.
    features: tuple[ReportFeature, ...] = ()
    override_reason: str | None = None


class AgencyPart(msgspec.Struct, frozen=True, kw_only=True):
    """One agency's submitted contribution."""

    organisation_id: UUID
    organisation_name: str
    organisation_code: str
    agency_kind: str
    status: str
    submitted_at: datetime.datetime | None
    version: int | None
    amended: bool
    sections: tuple[ReportSection, ...]
    overall_grade: int | None
    overall_label: str | None
    overall_rationale: str | None
    overall_features: tuple[ReportFeature, ...] = ()
    overall_override_reason: str | None = None


class ReportVoice(msgspec.Struct, frozen=True, kw_only=True):
    """One agency's practitioner and family voice, in words (optional for
    agencies: whether the findings were discussed with the practitioner and
    their manager and what they said; whether the family's views were
    sought and what they were)."""

    organisation_name: str
    agency_kind: str
    findings_discussed: str  # in words, "Not answered" when not
    practitioner_views: str | None
    manager_views: str | None
    family_views_sought: str
    family_views: str | None


class AwaitedAgency(msgspec.Struct, frozen=True, kw_only=True):
    organisation_name: str
    agency_kind: str
    status: str


class Recommendation(msgspec.Struct, frozen=True, kw_only=True):
    organisation_name: str
    agency_kind: str
    question: str
    text: str


class PartnershipGrade(msgspec.Struct, frozen=True, kw_only=True):
    """A section of the partnership's result as an agency auditor sees it."""

    section_id: str
    title: str
    grade: int | None
    label: str | None
    moderated: bool


class ReportAction(msgspec.Struct, frozen=True, kw_only=True):
    action: str
    who: str | None
    timescale: str | None
    responsible_organisation: str | None
    due_date: datetime.date | None
    date_reviewed: datetime.date | None
    completed: bool
    overdue: bool
    comments: str | None
    initials: str | None


class PanelAttendance(msgspec.Struct, frozen=True, kw_only=True):
    organisation_name: str
    role: str


class PanelNarrative(msgspec.Struct, frozen=True, kw_only=True):
    section_id: str
    title: str
    narrative: str


class PanelDecision(msgspec.Struct, frozen=True, kw_only=True):
    decision: str
    made_by: str  # an organisation's name, or "The panel"


class ReportPanel(msgspec.Struct, frozen=True, kw_only=True):
    """What the multi-agency panel agreed: attendance by organisation and
    role (no names), narratives per section and overall, decisions."""

    held_on: datetime.date | None
    attendees: tuple[PanelAttendance, ...]
    narratives: tuple[PanelNarrative, ...]
    overall_narrative: str | None
    decisions: tuple[PanelDecision, ...]


def report_panel(
    toolkit: Toolkit,
    *,
    held_on: datetime.date | None,
    attendees: Sequence[Mapping[str, Any]],
    section_narratives: Mapping[str, str],
    overall_narrative: str | None,
    decisions: Sequence[Mapping[str, Any]],
    organisation_names: Mapping[UUID, str],
) -> ReportPanel:
    """The panel's record in the toolkit's section order, organisations by name."""

    def name(organisation_id: Any) -> str:
        try:
            return organisation_names.get(UUID(str(organisation_id)), "Another organisation")
        except ValueError:
            return "Another organisation"

    return ReportPanel(
        held_on=held_on,
        attendees=tuple(
            PanelAttendance(organisation_name=name(a.get("organisation_id")), role=str(a.get("role", "")))
            for a in attendees
        ),
        narratives=tuple(
            PanelNarrative(section_id=section.id, title=section.title, narrative=section_narratives[section.id])
            for section in toolkit.sections
            if section_narratives.get(section.id)
        ),
        overall_narrative=overall_narrative,
        decisions=tuple(
            PanelDecision(
                decision=str(d.get("decision", "")),
                made_by=name(d["made_by_organisation_id"]) if d.get("made_by_organisation_id") else "The panel",
            )
            for d in decisions
        ),
    )


class CombinedReport(msgspec.Struct, frozen=True, kw_only=True):
    audit_id: UUID
    # What the audit is called (the coordinator's reference): the cover,
    # the title and the file name say it, never the audit's id.
    reference: str
    toolkit_id: str
    toolkit_version: int
    toolkit_title: str
    marking: str
    heading_marking: str  # the marking's first words, for page headers
    audit_status: str
    period_start: datetime.date | None
    period_end: datetime.date | None
    due_date: datetime.date | None
    referring_organisation: str | None
    prepared_for: str  # "the partnership" or the auditor's organisation
    generated_at: datetime.datetime
    case_details: tuple[ReportSection, ...]
    participants: tuple[AwaitedAgency, ...]
    contributions: tuple[AgencyPart, ...]
    awaiting: tuple[AwaitedAgency, ...]
    recommendations: tuple[Recommendation, ...]
    actions: tuple[ReportAction, ...]
    voices: tuple[ReportVoice, ...] = ()
    # Coordinators and reviewers: the whole judgement; auditors: only the
    # partnership's grades.
    judgement: PartnershipJudgement | None = None
    partnership_grades: tuple[PartnershipGrade, ...] = ()
    partnership_overall_grade: int | None = None
    partnership_overall_label: str | None = None
    # What the multi-agency panel agreed (once it has met).
    panel: ReportPanel | None = None


# --- answers as words ----------------------------------------------------------


def grade_label(toolkit: Toolkit, grade: int | None) -> str | None:
    return next((g.label for g in toolkit.scale.grades if g.value == grade), None)


def _choice_label(toolkit: Toolkit, question: Question, value: Any) -> str:
    if question.kind == "grade":
        label = grade_label(toolkit, value if isinstance(value, int) else None)
        return f"{value} {label}" if label else str(value)
    pairs = FIXED_CHOICES.get(question.kind) or tuple((c.value, c.label) for c in question.choices)
    return dict(pairs).get(str(value), str(value))


def _plain(value: Any) -> str:
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _evidence(references: Any) -> tuple[str, ...]:
    lines: list[str] = []
    for reference in references or ():
        document = reference.get("document") if isinstance(reference, Mapping) else getattr(reference, "document", "")
        date = reference.get("date") if isinstance(reference, Mapping) else getattr(reference, "date", None)
        lines.append(f"{isolated(str(document))} ({date})" if date else str(document))
    return tuple(lines)


def answer_text(toolkit: Toolkit, question: Question, value: Any) -> str:
    """An answer in the toolkit's own words: a grade with its label, a
    choice by its label, a tick as Yes/No, rows as "Column: value" lines."""
    if value is None:
        return ""
    if question.kind == "rows":
        # In the toolkit's column order (jsonb keeps keys in its own order).
        rows = []
        for row in value:
            if not isinstance(row, Mapping):
                continue
            cells = []
            for column in question.columns:
                cell = row.get(column.id)
                if cell in (None, ""):
                    continue
                choices = {c.value: c.label for c in column.choices}
                # Each cell isolated: what one person wrote turns no other round.
                cells.append(f"{column.label}: {isolated(choices.get(str(cell), _plain(cell)))}")
            rows.append("; ".join(cells))
        return "\n".join(rows)
    if question.kind == "evidence":
        return "\n".join(_evidence(value))
    if question.kind == "multiple-choice":
        return ", ".join(_choice_label(toolkit, question, v) for v in value)
    if question.kind in FIXED_CHOICES or question.kind in ("single-choice", "grade"):
        return _choice_label(toolkit, question, value)
    return _plain(value)


def _answers(toolkit: Toolkit, section: Section, answers: Mapping[str, Answer]) -> tuple[ReportAnswer, ...]:
    shown: list[ReportAnswer] = []
    for question in section.questions:
        answer = answers.get(question.id)
        if answer is None:
            continue
        text = answer_text(toolkit, question, answer.value)
        if not text and not answer.comments and not answer.evidence:
            continue
        shown.append(
            ReportAnswer(
                question_id=question.id,
                question=question.text,
                answer=text,
                comments=answer.comments,
                evidence=_evidence(answer.evidence),
            )
        )
    return tuple(shown)


def case_detail_sections(toolkit: Toolkit, details: CaseDetails) -> tuple[ReportSection, ...]:
    """The coordinator's sections (case details) with their answers."""
    return tuple(
        ReportSection(section_id=s.id, title=s.title, answers=_answers(toolkit, s, details.answers))
        for s in toolkit.sections
        if s.completed_by == "coordinator"
    )


def features_marked(
    toolkit: Toolkit, features: Sequence[Feature], marks: Mapping[str, int]
) -> tuple[ReportFeature, ...]:
    """The features an auditor marked, each with the description of the
    grade it was found at (seed 000's clauses)."""
    shown: list[ReportFeature] = []
    for feature in features:
        mark = marks.get(feature.id)
        if mark is None:
            continue
        text = feature.texts.get(mark)
        shown.append(
            ReportFeature(
                grade=mark,
                label=(grade_label(toolkit, mark) or str(mark)) if text is not None else "None of these",
                text=text,
            )
        )
    return tuple(shown)


def section_part(toolkit: Toolkit, section: Section, content: ContributionContent) -> ReportSection | None:
    """What an agency recorded in one section: its answers, its judgement
    (with the features it marked), or that it was not involved; and any
    significant failure it recorded there. None when it recorded nothing."""
    not_involved = content.not_involved.get(section.id)
    failure = content.significant_failures.get(section.id)
    answers = _answers(toolkit, section, content.answers)
    judgement = content.judgements.get(section.id, Judgement())
    if (
        not answers
        and judgement.grade is None
        and not judgement.impact
        and not judgement.features
        and not_involved is None
        and failure is None
    ):
        return None
    return ReportSection(
        section_id=section.id,
        title=section.title,
        answers=answers,
        grade=judgement.grade,
        grade_label=grade_label(toolkit, judgement.grade),
        impact=judgement.impact,
        not_involved=not_involved.reason if not_involved is not None else None,
        significant_failure=failure.description if failure is not None else None,
        features=features_marked(
            toolkit, section.judgement.features if section.judgement is not None else (), judgement.features
        ),
        override_reason=judgement.override_reason,
    )


def contribution_sections(toolkit: Toolkit, content: ContributionContent) -> tuple[ReportSection, ...]:
    """An agency's sections: what it answered, and its judgement of each (or
    that it was not involved)."""
    return tuple(
        part
        for section in toolkit.sections
        if section.completed_by == "agency" and (part := section_part(toolkit, section, content)) is not None
    )


def _is_recommendation(section: Section) -> bool:
    # 003 "Recommendations", 002 and 004 "Remedial actions": what an agency
    # recommends for the case, gathered in one place for the panel.
    words = f"{section.id} {section.title}".lower()
    return "recommend" in words or "remedial" in words


def recommendations(toolkit: Toolkit, parts: Sequence[AgencyPart]) -> tuple[Recommendation, ...]:
    wanted = {s.id for s in toolkit.sections if s.completed_by == "agency" and _is_recommendation(s)}
    return tuple(
        Recommendation(
            organisation_name=part.organisation_name,
            agency_kind=part.agency_kind,
            question=answer.question,
            text=answer.answer,
        )
        for part in parts
        for section in part.sections
        if section.section_id in wanted
        for answer in section.answers
        if answer.answer.strip()
    )


def agency_part(toolkit: Toolkit, submitted: SubmittedContributionRow) -> AgencyPart | None:
    """The agency's last submitted version; None when it has none, or is
    not submitted now (a return reopened it for work)."""
    if submitted.content is None or submitted.status != "submitted":
        return None
    content = msgspec.convert(submitted.content, ContributionContent)
    overall = content.overall or Judgement()
    return AgencyPart(
        organisation_id=submitted.organisation_id,
        organisation_name=submitted.organisation_name,
        organisation_code=submitted.organisation_code,
        agency_kind=submitted.agency_kind,
        status=submitted.status,
        submitted_at=submitted.submitted_at,
        version=submitted.version,
        amended=submitted.version_kind == "amended",
        sections=contribution_sections(toolkit, content),
        overall_grade=overall.grade,
        overall_label=grade_label(toolkit, overall.grade),
        overall_rationale=overall.impact,
        overall_features=features_marked(
            toolkit, toolkit.overall.features if toolkit.overall is not None else (), overall.features
        ),
        overall_override_reason=overall.override_reason,
    )


def report_actions(
    found: Sequence[RemedialActionRow], organisation_names: Mapping[UUID, str], today: datetime.date
) -> tuple[ReportAction, ...]:
    return tuple(
        ReportAction(
            action=a.action,
            who=a.who,
            timescale=a.timescale,
            responsible_organisation=(
                organisation_names.get(a.responsible_organisation_id) if a.responsible_organisation_id else None
            ),
            due_date=a.due_date,
            date_reviewed=a.date_reviewed,
            completed=a.completed,
            overdue=not a.completed and a.due_date is not None and a.due_date < today,
            comments=a.comments,
            initials=a.initials,
        )
        for a in found
    )


def heading_of(marking: str) -> str:
    """ "RESTRICTED WHEN COMPLETED: Failure …" → "RESTRICTED WHEN COMPLETED"."""
    return marking.split(":", 1)[0].strip()


def combined_report(
    *,
    audit: AuditRow,
    toolkit: Toolkit,
    participants: Sequence[ParticipantRow],
    submitted: Sequence[SubmittedContributionRow],
    found_actions: Sequence[RemedialActionRow],
    generated_at: datetime.datetime,
    prepared_for: str,
    judgement: PartnershipJudgement | None = None,
    partnership_grades: Sequence[PartnershipGrade] = (),
    partnership_overall: tuple[int | None, str | None] = (None, None),
    list_participants: bool = True,
    reference: str,
    panel: ReportPanel | None = None,
    voices: Sequence[ReportVoice] = (),
) -> CombinedReport:
    """The report as the caller may see it: ``submitted`` and
    ``found_actions`` are already narrowed to what the caller may see, and
    ``judgement`` is given only to the partnership's staff."""
    current = [p for p in participants if p.removed_at is None]
    names = {p.organisation_id: p.organisation_name for p in participants}
    parts = [part for s in submitted if (part := agency_part(toolkit, s)) is not None]
    done = {part.organisation_id for part in parts}
    marking = toolkit.marking or DEFAULT_MARKING
    return CombinedReport(
        audit_id=audit.id,
        reference=reference,
        toolkit_id=toolkit.id,
        toolkit_version=toolkit.version,
        toolkit_title=toolkit.title,
        marking=marking,
        heading_marking=heading_of(marking),
        audit_status=audit.status,
        period_start=audit.period_start,
        period_end=audit.period_end,
        due_date=audit.due_date,
        referring_organisation=names.get(audit.referring_organisation_id) if audit.referring_organisation_id else None,
        prepared_for=prepared_for,
        generated_at=generated_at,
        case_details=case_detail_sections(toolkit, msgspec.convert(audit.case_details, CaseDetails)),
        participants=tuple(
            AwaitedAgency(
                organisation_name=p.organisation_name, agency_kind=p.agency_kind, status=p.contribution_status
            )
            for p in current
            if list_participants
        ),
        contributions=tuple(parts),
        awaiting=tuple(
            AwaitedAgency(organisation_name=s.organisation_name, agency_kind=s.agency_kind, status=s.status)
            for s in submitted
            if s.organisation_id not in done
        ),
        recommendations=recommendations(toolkit, parts),
        actions=report_actions(found_actions, names, generated_at.date()),
        voices=tuple(voices),
        judgement=judgement,
        partnership_grades=tuple(partnership_grades),
        partnership_overall_grade=partnership_overall[0],
        partnership_overall_label=partnership_overall[1],
        panel=panel,
    )
