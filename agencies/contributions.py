"""Checking and measuring an agency's contribution to one audit.

Pure functions, no I/O. An agency answers only its part of the toolkit on
the case (:func:`agencies.applicability.applicable_sections`); each answer
and judgement in it is checked against the toolkit by :mod:`toolkits.validation`,
and every problem names its field with a JSON path into the request body
(``$.answers.history-previous-involvement.value``), so that one refusal
lists everything that is wrong at once.

Two modes:

- a **draft** (``complete=False``): partial answers are fine; only what is
  there is checked (unknown question, question not for this agency, wrong
  kind of answer, grade out of range, text too long);
- a **submission** (``complete=True``): additionally every applicable
  required question is answered, every applicable section judgement is
  given with its impact text when the toolkit asks for it, and every
  comments box the toolkit marks required is filled ("All comments boxes
  must be completed" — seed 002).

In both, a section the agency marks "not involved at this stage" (where the
toolkit offers it) has a short reason and nothing else: no answers, no
grade, no significant failure; its questions are then not asked of the
agency. A significant failure is recorded in an area of the agency's work
with a description. Where the toolkit grades by features (seed 000), every
feature is marked before submitting and a grade other than the one the
features suggest (:mod:`toolkits.grading`) gives its reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from agencies.applicability import Participant, applicable_sections, is_area, may_be_not_involved
from toolkits.answers import ContributionContent
from toolkits.grading import Suggestion, suggest_area, suggest_overall
from toolkits.model import Section, Toolkit
from toolkits.validation import (
    MAX_TEXT,
    FieldProblem,
    Progress,
    answer_problems,
    is_answered,
    judgement_problems,
    missing_answer_problems,
    missing_feature_problems,
    missing_judgement_problems,
    short_text_problems,
)

__all__ = [
    "area_suggestion",
    "contribution_progress",
    "involved_sections",
    "overall_suggestion",
    "validate_contribution",
]


def validate_contribution(
    toolkit: Toolkit,
    participant: Participant,
    content: ContributionContent,
    *,
    case_details: Mapping[str, object] | None = None,
    complete: bool = False,
) -> list[FieldProblem]:
    """Every problem with ``content`` as ``participant``'s contribution; an
    empty list means it may be saved (draft) or submitted (``complete``)."""
    return list(_contribution_problems(toolkit, participant, content, case_details, complete))


def involved_sections(sections: tuple[Section, ...], content: ContributionContent) -> tuple[Section, ...]:
    """``sections`` less those the agency marked not involved."""
    return tuple(s for s in sections if s.id not in content.not_involved)


def contribution_progress(
    toolkit: Toolkit,
    participant: Participant,
    content: ContributionContent,
    *,
    case_details: Mapping[str, object] | None = None,
) -> Progress:
    """Questions answered of those that apply to the agency on this case;
    a section it was not involved in asks it nothing."""
    sections = involved_sections(applicable_sections(toolkit, participant, case_details), content)
    questions = [q for s in sections for q in s.questions]
    answered = sum(1 for q in questions if is_answered(content.answers.get(q.id)))
    return Progress(answered=answered, applicable=len(questions))


def _labels(toolkit: Toolkit) -> dict[int, str]:
    return {grade.value: grade.label for grade in toolkit.scale.grades}


def area_suggestion(toolkit: Toolkit, section: Section, content: ContributionContent) -> Suggestion:
    """The grade the toolkit's guidance suggests for the section from the
    features the agency marked (no grade where it grades no features)."""
    if section.judgement is None or not section.judgement.features:
        return Suggestion(grade=None, steps=())
    judgement = content.judgements.get(section.id)
    return suggest_area(
        section.judgement,
        judgement.features if judgement is not None else {},
        significant_failure=section.id in content.significant_failures,
        labels=_labels(toolkit),
    )


def overall_suggestion(toolkit: Toolkit, sections: tuple[Section, ...], content: ContributionContent) -> Suggestion:
    """The overall grade the guidance suggests from the agency's features
    in its ``sections`` (its part of the toolkit on the case) it was
    involved in, its overall conditions and its significant failures."""
    if toolkit.overall is None or not toolkit.overall.features:
        return Suggestion(grade=None, steps=())
    areas = tuple(
        s for s in involved_sections(sections, content) if is_area(s) and s.judgement and s.judgement.features
    )
    judgements = content.judgements
    return suggest_overall(
        toolkit,
        {s.id: judgements[s.id].features for s in areas if s.id in judgements},
        {s.id: judgements[s.id].grade if s.id in judgements else None for s in areas},
        content.overall.features if content.overall is not None else {},
        significant_failure=bool(content.significant_failures),
        labels=_labels(toolkit),
        areas=areas,
    )


def _contribution_problems(
    toolkit: Toolkit,
    participant: Participant,
    content: ContributionContent,
    case_details: Mapping[str, object] | None,
    complete: bool,
) -> Iterator[FieldProblem]:
    sections = applicable_sections(toolkit, participant, case_details)
    applicable = {q.id: (s, q) for s in sections for q in s.questions}
    everywhere = {q.id: s for s in toolkit.sections for q in s.questions}
    all_sections = {s.id: s for s in toolkit.sections}
    mine = {s.id: s for s in sections}
    not_involved = content.not_involved

    for question_id, answer in content.answers.items():
        path = f"$.answers.{question_id}"
        if question_id in applicable:
            section, question = applicable[question_id]
            yield from answer_problems(section, question, answer, path)
            if section.id in not_involved and (is_answered(answer) or answer.comments or answer.evidence):
                yield FieldProblem(
                    field=path, message="is in a section you marked not involved: remove the answer or the mark"
                )
        elif question_id in everywhere:
            owner = everywhere[question_id]
            if owner.completed_by == "coordinator":
                yield FieldProblem(field=path, message="is a case detail, filled in by the coordinator")
            else:
                yield FieldProblem(field=path, message="does not apply to your agency on this case")
        else:
            yield FieldProblem(field=path, message="no such question in this toolkit")

    graded = {s.id: s for s in sections if s.judgement is not None}
    for section_id, judgement in content.judgements.items():
        path = f"$.judgements.{section_id}"
        if section_id in graded:
            judged = graded[section_id].judgement
            yield from judgement_problems(judgement, path, judged.features if judged else ())
            if section_id in not_involved and (
                judgement.grade is not None or judgement.impact or judgement.features or judgement.override_reason
            ):
                yield FieldProblem(
                    field=path, message="is a section you marked not involved: remove the judgement or the mark"
                )
        elif section_id in all_sections:
            if all_sections[section_id].judgement is None:
                yield FieldProblem(field=path, message="this section is not graded")
            else:
                yield FieldProblem(field=path, message="this section does not apply to your agency on this case")
        else:
            yield FieldProblem(field=path, message="no such section in this toolkit")

    if content.overall is not None:
        if toolkit.overall is None:
            yield FieldProblem(field="$.overall", message="this toolkit has no overall judgement")
        else:
            yield from judgement_problems(content.overall, "$.overall", toolkit.overall.features)

    for section_id, mark in not_involved.items():
        path = f"$.not_involved.{section_id}"
        marked = mine.get(section_id)
        if marked is None:
            yield FieldProblem(field=path, message=_not_yours(all_sections, section_id))
        elif not may_be_not_involved(toolkit, marked):
            yield FieldProblem(
                field=path,
                message=(
                    "this audit tool does not ask whether your agency was involved"
                    if toolkit.not_involved is None
                    else "only a graded section can be marked not involved"
                ),
            )
        yield from short_text_problems(mark.reason, f"{path}.reason", what="a short reason")

    for section_id, failure in content.significant_failures.items():
        path = f"$.significant_failures.{section_id}"
        failing = mine.get(section_id)
        if failing is None:
            yield FieldProblem(field=path, message=_not_yours(all_sections, section_id))
        elif not is_area(failing):
            yield FieldProblem(field=path, message="a significant failure is recorded in an area of the work")
        elif section_id in not_involved:
            yield FieldProblem(
                field=path, message="is a section you marked not involved: remove the failure or the mark"
            )
        yield from short_text_problems(
            failure.description, f"{path}.description", what="a description of the failure", limit=MAX_TEXT
        )

    if not complete:
        return
    involved = involved_sections(sections, content)
    for section in involved:
        for question in section.questions:
            yield from missing_answer_problems(question, content.answers.get(question.id), f"$.answers.{question.id}")
        path = f"$.judgements.{section.id}"
        given = content.judgements.get(section.id)
        yield from missing_judgement_problems(section, given, path)
        if section.judgement is not None:
            suggested = area_suggestion(toolkit, section, content).grade
            yield from missing_feature_problems(section.judgement.features, given, suggested, path)
    graded_involved = [s for s in involved if s.judgement is not None]
    if toolkit.overall is not None and (graded_involved or not [s for s in sections if s.judgement is not None]):
        if content.overall is None or content.overall.grade is None:
            yield FieldProblem(field="$.overall.grade", message="the overall judgement is required before submitting")
        suggested = overall_suggestion(toolkit, sections, content).grade
        yield from missing_feature_problems(toolkit.overall.features, content.overall, suggested, "$.overall")


def _not_yours(all_sections: Mapping[str, Section], section_id: str) -> str:
    if section_id in all_sections:
        return "this section does not apply to your agency on this case"
    return "no such section in this toolkit"
