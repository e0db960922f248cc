"""Checking what is recorded against a toolkit: one answer against its
question, one judgement against the scale, and the coordinator's case details.

Pure functions, no I/O. Every problem names the field it is about with a
JSON path into the request body (``$.answers.history-previous-involvement.value``),
so that one refusal lists everything that is wrong at once.

Two modes:

- a **draft** (``complete=False``): partial answers are fine; only what is
  there is checked (unknown question, wrong kind of answer, grade out of
  range, text too long);
- a **submission** (``complete=True``): additionally every required question
  is answered and every comments box the toolkit marks required is filled
  ("All comments boxes must be completed" — seed 002).

Which questions and sections are an agency's to answer on a case is a fact
about the agency, not the toolkit: :mod:`agencies.contributions` checks an
agency's whole contribution with the functions here.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterator
from typing import Any, overload

import msgspec

from toolkits.answers import Answer, CaseDetails, Judgement
from toolkits.checks import SCALE_VALUES
from toolkits.grading import marks_allowed
from toolkits.model import FIXED_CHOICES, Column, Feature, Question, Section, Toolkit
from toolkits.text import has_visible_character, hidden_character, is_identifier

__all__ = [
    "MAX_LIST",
    "MAX_TEXT",
    "FieldProblem",
    "Progress",
    "answer_problems",
    "case_detail_values",
    "case_details_progress",
    "feature_problems",
    "is_answered",
    "judgement_problems",
    "missing_answer_problems",
    "missing_feature_problems",
    "missing_judgement_problems",
    "short_text_problems",
    "validate_case_details",
]

# Long enough for any honest audit narrative, short enough that one field
# cannot be used to store a document.
MAX_TEXT = 20_000
MAX_LIST = 500  # rows, evidence references, choices in one answer
# "Not involved at this stage" asks for a short reason.
MAX_SHORT_TEXT = 1_000

# Why an identifier is refused a hidden character, after naming it.
PLAINLY = "an identifier is written with visible characters only"

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FieldProblem(msgspec.Struct, frozen=True, kw_only=True):
    field: str
    message: str


class Progress(msgspec.Struct, frozen=True, kw_only=True):
    answered: int
    applicable: int


@overload
def case_detail_values(details: CaseDetails) -> dict[str, object]: ...
@overload
def case_detail_values(details: None) -> None: ...
def case_detail_values(details: CaseDetails | None) -> dict[str, object] | None:
    """Case details as ``agencies.applicability.section_shown`` and
    ``merging.CaseFacts`` read them: question id → answer value."""
    if details is None:
        return None
    return {question_id: answer.value for question_id, answer in details.answers.items()}


def is_answered(answer: Answer | None) -> bool:
    """Whether an answer holds a value. ``False`` for a tick box is an answer
    (not ticked); an empty text or an empty list is not."""
    if answer is None or answer.value is None:
        return False
    value = answer.value
    if isinstance(value, str):
        # "\u200b" or "\u2800" is not an answer, whatever str.strip says.
        return has_visible_character(value)
    if isinstance(value, list | tuple):
        return len(value) > 0
    return True


# --- one answer, one judgement ----------------------------------------------


def answer_problems(section: Section, question: Question, answer: Answer, path: str) -> Iterator[FieldProblem]:
    """What is wrong with ``answer`` to ``question`` of ``section``, the
    answer being at ``path``: a value not of the question's kind, comments
    where there is no comments box, evidence where none is taken, text too
    long. What is not there is not checked (see :func:`missing_answer_problems`)."""
    if answer.value is not None:
        yield from _value(question, answer.value, f"{path}.value")
    if answer.comments is not None:
        if question.comments == "none" and section.comments_label is None:
            yield FieldProblem(field=f"{path}.comments", message="this question has no comments box")
        yield from _text(answer.comments, f"{path}.comments")
    if answer.evidence:
        if question.evidence == "none":
            yield FieldProblem(field=f"{path}.evidence", message="this question takes no evidence references")
        yield from _evidence_list(
            [{"document": e.document, "date": e.date} for e in answer.evidence], f"{path}.evidence"
        )


def missing_answer_problems(question: Question, answer: Answer | None, path: str) -> Iterator[FieldProblem]:
    """What a submission still lacks in ``answer`` to ``question``: the
    answer to a required question, the comments and evidence the question
    requires, the required columns of each row."""
    if question.required and not is_answered(answer):
        yield FieldProblem(field=f"{path}.value", message="an answer is required before submitting")
    if question.comments == "required" and (answer is None or not _filled(answer.comments)):
        yield FieldProblem(field=f"{path}.comments", message="comments are required before submitting")
    if question.evidence == "required" and (answer is None or not answer.evidence):
        yield FieldProblem(field=f"{path}.evidence", message="evidence is required before submitting")
    if question.kind == "rows" and answer is not None and isinstance(answer.value, list):
        for r, row in enumerate(answer.value):
            if not isinstance(row, dict):
                continue
            for column in question.columns:
                if column.required and _blank(row.get(column.id)):
                    yield FieldProblem(field=f"{path}.value[{r}].{column.id}", message="required before submitting")


def judgement_problems(judgement: Judgement, path: str, features: tuple[Feature, ...] = ()) -> Iterator[FieldProblem]:
    """What is wrong with a section or overall judgement at ``path``: a
    grade off the scale, an impact text too long, a feature the judgement
    does not have or marked at a grade it is not described at."""
    if judgement.grade is not None and (isinstance(judgement.grade, bool) or judgement.grade not in SCALE_VALUES):
        yield FieldProblem(field=f"{path}.grade", message="must be a grade 1, 2, 3 or 4")
    yield from _text(judgement.impact, f"{path}.impact")
    yield from _text(judgement.override_reason, f"{path}.override_reason")
    yield from feature_problems(features, judgement.features, f"{path}.features")


def feature_problems(features: tuple[Feature, ...], marks: dict[str, int], path: str) -> Iterator[FieldProblem]:
    """Marks of features the judgement does not have, or at grades the
    feature is not described at."""
    known = {feature.id: feature for feature in features}
    for feature_id, mark in marks.items():
        feature = known.get(feature_id)
        if feature is None:
            yield FieldProblem(
                field=f"{path}.{feature_id}",
                message="no such feature in this judgement" if known else "this judgement has no features to mark",
            )
            continue
        allowed = marks_allowed(feature)
        if type(mark) is not int or mark not in allowed:
            yield FieldProblem(field=f"{path}.{feature_id}", message=f"must be one of: {', '.join(map(str, allowed))}")


def missing_feature_problems(
    features: tuple[Feature, ...], judgement: Judgement | None, suggested: int | None, path: str
) -> Iterator[FieldProblem]:
    """What a submission still lacks in a judgement graded by features:
    every feature marked, and a reason for a grade other than the one the
    features suggest."""
    if not features:
        return
    marks = judgement.features if judgement is not None else {}
    for feature in features:
        if feature.id not in marks:
            yield FieldProblem(
                field=f"{path}.features.{feature.id}", message="mark how far this feature is evident before submitting"
            )
    if (
        judgement is not None
        and suggested is not None
        and judgement.grade is not None
        and judgement.grade != suggested
        and not _filled(judgement.override_reason)
    ):
        yield FieldProblem(
            field=f"{path}.override_reason",
            message=f"give the reason for a grade other than the suggested one ({suggested}) before submitting",
        )


def short_text_problems(text: str, path: str, *, what: str, limit: int = MAX_SHORT_TEXT) -> Iterator[FieldProblem]:
    """A reason or description that must say something, within ``limit``:
    something visible ("\u200b" or "\u2800" says nothing, whatever
    str.strip says; issue 18's rule for every reason)."""
    if not has_visible_character(text):
        yield FieldProblem(field=path, message=f"give {what}")
    elif len(text) > limit:
        yield FieldProblem(field=path, message=f"is longer than {limit} characters")


def missing_judgement_problems(section: Section, judgement: Judgement | None, path: str) -> Iterator[FieldProblem]:
    """What a submission still lacks in its judgement of a graded
    ``section``: the grade, and the impact text where the toolkit asks for
    it. Nothing for a section that is not graded."""
    if section.judgement is None:
        return
    if judgement is None or judgement.grade is None:
        yield FieldProblem(field=f"{path}.grade", message="a grade is required before submitting")
    if section.judgement.impact_required and (judgement is None or not _filled(judgement.impact)):
        yield FieldProblem(
            field=f"{path}.impact", message=f"required before submitting: {section.judgement.impact_label}"
        )


def _filled(text: str | None) -> bool:
    return text is not None and has_visible_character(text)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: str | None, path: str) -> Iterator[FieldProblem]:
    if value is not None and len(value) > MAX_TEXT:
        yield FieldProblem(field=path, message=f"is longer than {MAX_TEXT} characters")


def _value(question: Question, value: Any, path: str) -> Iterator[FieldProblem]:
    kind = question.kind
    if kind == "grade":
        if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE_VALUES:
            yield FieldProblem(field=path, message="must be a grade 1, 2, 3 or 4")
    elif kind in FIXED_CHOICES:
        allowed = [code for code, _ in FIXED_CHOICES[kind]]
        if not isinstance(value, str) or value not in allowed:
            yield FieldProblem(field=path, message=f"must be one of: {', '.join(allowed)}")
    elif kind == "tick":
        if not isinstance(value, bool):
            yield FieldProblem(field=path, message="must be true or false")
    elif kind == "date":
        yield from _date(value, path)
    elif kind == "text":
        if not isinstance(value, str):
            yield FieldProblem(field=path, message="must be text")
        else:
            yield from _text(value, path)
    elif kind == "number":
        yield from _number(value, path, question.min, question.max)
    elif kind == "single-choice":
        allowed = [choice.value for choice in question.choices]
        if not isinstance(value, str) or value not in allowed:
            yield FieldProblem(field=path, message=f"must be one of: {', '.join(allowed)}")
    elif kind == "multiple-choice":
        allowed = [choice.value for choice in question.choices]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            yield FieldProblem(field=path, message="must be a list of choices")
        elif unknown := [v for v in value if v not in allowed]:
            yield FieldProblem(
                field=path, message=f"unknown choice {unknown[0]!r}; must be among: {', '.join(allowed)}"
            )
        elif len(set(value)) != len(value):
            yield FieldProblem(field=path, message="a choice is listed twice")
    elif kind == "evidence":
        yield from _evidence_list(value, path)
    elif kind == "rows":
        yield from _rows(question.columns, value, path)


def _date(value: object, path: str) -> Iterator[FieldProblem]:
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        yield FieldProblem(field=path, message="must be a date written YYYY-MM-DD")
        return
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        yield FieldProblem(field=path, message="is not a real date")


def _number(value: object, path: str, low: float | None, high: float | None) -> Iterator[FieldProblem]:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        yield FieldProblem(field=path, message="must be a number")
        return
    if low is not None and value < low:
        yield FieldProblem(field=path, message=f"must be at least {low:g}")
    if high is not None and value > high:
        yield FieldProblem(field=path, message=f"must be at most {high:g}")


def _evidence_list(value: object, path: str) -> Iterator[FieldProblem]:
    if not isinstance(value, list | tuple):
        yield FieldProblem(field=path, message="must be a list of {document, date}")
        return
    if len(value) > MAX_LIST:
        yield FieldProblem(field=path, message=f"has more than {MAX_LIST} references")
        return
    for i, reference in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(reference, dict):
            yield FieldProblem(field=where, message="must be an object {document, date}")
            continue
        for key in reference:
            if key not in ("document", "date"):
                yield FieldProblem(field=f"{where}.{key}", message="unknown field; a reference has document and date")
        document = reference.get("document")
        if not isinstance(document, str) or not document.strip():
            yield FieldProblem(field=f"{where}.document", message="must name the document")
        else:
            yield from _text(document, f"{where}.document")
        if reference.get("date") is not None:
            yield from _date(reference["date"], f"{where}.date")


def _rows(columns: tuple[Column, ...], value: object, path: str) -> Iterator[FieldProblem]:
    if not isinstance(value, list):
        yield FieldProblem(field=path, message="must be a list of rows")
        return
    if len(value) > MAX_LIST:
        yield FieldProblem(field=path, message=f"has more than {MAX_LIST} rows")
        return
    by_id = {column.id: column for column in columns}
    for r, row in enumerate(value):
        where = f"{path}[{r}]"
        if not isinstance(row, dict):
            yield FieldProblem(field=where, message="must be an object of column values")
            continue
        for key, cell in row.items():
            column = by_id.get(key)
            if column is None:
                yield FieldProblem(field=f"{where}.{key}", message=f"no such column; columns: {', '.join(by_id)}")
            elif cell is not None:
                yield from _cell(column, cell, f"{where}.{key}")


def _cell(column: Column, cell: object, path: str) -> Iterator[FieldProblem]:
    if column.kind == "text":
        if not isinstance(cell, str):
            yield FieldProblem(field=path, message="must be text")
        else:
            yield from _text(cell, path)
    elif column.kind == "date":
        yield from _date(cell, path)
    elif column.kind == "number":
        yield from _number(cell, path, None, None)
    elif column.kind == "yes-no":
        if cell not in ("yes", "no"):
            yield FieldProblem(field=path, message="must be one of: yes, no")
    elif column.kind == "tick":
        if not isinstance(cell, bool):
            yield FieldProblem(field=path, message="must be true or false")
    elif column.kind == "single-choice":
        allowed = [choice.value for choice in column.choices]
        if not isinstance(cell, str) or cell not in allowed:
            yield FieldProblem(field=path, message=f"must be one of: {', '.join(allowed)}")


# --- case details ------------------------------------------------------------


def validate_case_details(
    toolkit: Toolkit,
    details: CaseDetails,
    *,
    complete: bool = False,
    prefix: str = "$.case_details",
) -> list[FieldProblem]:
    """Problems with the coordinator's case details: answers to the
    toolkit's coordinator sections, checked like an agency's answers.
    ``complete``: every required case detail is answered (before the audit
    is distributed)."""
    central = {q.id: (s, q) for s in toolkit.sections if s.completed_by == "coordinator" for q in s.questions}
    agency_questions = {q.id for s in toolkit.sections if s.completed_by == "agency" for q in s.questions}
    problems: list[FieldProblem] = []
    for question_id, answer in details.answers.items():
        path = f"{prefix}.answers.{question_id}"
        if question_id in central:
            section, question = central[question_id]
            problems.extend(answer_problems(section, question, answer, path))
            problems.extend(_identifier_problems(question, answer.value, f"{path}.value"))
        elif question_id in agency_questions:
            problems.append(FieldProblem(field=path, message="is answered by the agencies, not a case detail"))
        else:
            problems.append(FieldProblem(field=path, message="no such case detail in this toolkit"))
    if complete:
        for _section, question in central.values():
            problems.extend(
                missing_answer_problems(question, details.answers.get(question.id), f"{prefix}.answers.{question.id}")
            )
    return problems


def _identifier_problems(question: Question, value: object, path: str) -> Iterator[FieldProblem]:
    """A case identifier, reference or initials (``toolkits.text.is_identifier``)
    names the case in every list and heading: it may hold no character that
    hides itself or turns the text round (U+202E RIGHT-TO-LEFT OVERRIDE made
    a case identifier display reversed)."""
    if question.kind == "text" and is_identifier(question.id) and isinstance(value, str):
        hidden = hidden_character(value)
        if hidden is not None:
            yield FieldProblem(field=path, message=f"contains {hidden}; {PLAINLY}")
    elif question.kind == "rows" and isinstance(value, list):
        for r, row in enumerate(value):
            for column in question.columns:
                cell = row.get(column.id) if isinstance(row, dict) else None
                if column.kind == "text" and is_identifier(column.id) and isinstance(cell, str):
                    hidden = hidden_character(cell)
                    if hidden is not None:
                        yield FieldProblem(field=f"{path}[{r}].{column.id}", message=f"contains {hidden}; {PLAINLY}")


def case_details_progress(toolkit: Toolkit, details: CaseDetails) -> Progress:
    questions = [q for s in toolkit.sections if s.completed_by == "coordinator" for q in s.questions]
    answered = sum(1 for q in questions if is_answered(details.answers.get(q.id)))
    return Progress(answered=answered, applicable=len(questions))
