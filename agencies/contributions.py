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
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from agencies.applicability import Participant, applicable_sections
from toolkits.answers import ContributionContent
from toolkits.model import Toolkit
from toolkits.validation import (
    FieldProblem,
    Progress,
    answer_problems,
    is_answered,
    judgement_problems,
    missing_answer_problems,
    missing_judgement_problems,
)

__all__ = ["contribution_progress", "validate_contribution"]


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


def contribution_progress(
    toolkit: Toolkit,
    participant: Participant,
    content: ContributionContent,
    *,
    case_details: Mapping[str, object] | None = None,
) -> Progress:
    """Questions answered of those that apply to the agency on this case."""
    questions = [q for s in applicable_sections(toolkit, participant, case_details) for q in s.questions]
    answered = sum(1 for q in questions if is_answered(content.answers.get(q.id)))
    return Progress(answered=answered, applicable=len(questions))


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

    for question_id, answer in content.answers.items():
        path = f"$.answers.{question_id}"
        if question_id in applicable:
            section, question = applicable[question_id]
            yield from answer_problems(section, question, answer, path)
        elif question_id in everywhere:
            owner = everywhere[question_id]
            if owner.completed_by == "coordinator":
                yield FieldProblem(field=path, message="is a case detail, filled in by the coordinator")
            else:
                yield FieldProblem(field=path, message="does not apply to your agency on this case")
        else:
            yield FieldProblem(field=path, message="no such question in this toolkit")

    graded = {s.id: s for s in sections if s.judgement is not None}
    all_sections = {s.id: s for s in toolkit.sections}
    for section_id, judgement in content.judgements.items():
        path = f"$.judgements.{section_id}"
        if section_id in graded:
            yield from judgement_problems(judgement, path)
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
            yield from judgement_problems(content.overall, "$.overall")

    if not complete:
        return
    for section in sections:
        for question in section.questions:
            yield from missing_answer_problems(question, content.answers.get(question.id), f"$.answers.{question.id}")
        yield from missing_judgement_problems(section, content.judgements.get(section.id), f"$.judgements.{section.id}")
    if toolkit.overall is not None and (content.overall is None or content.overall.grade is None):
        yield FieldProblem(field="$.overall.grade", message="the overall judgement is required before submitting")
