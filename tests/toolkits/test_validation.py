"""Checking what is recorded against the toolkit alone: one answer against its
question, one judgement against the scale, the coordinator's case details.
(An agency's whole contribution: tests/agencies/test_contributions.py.)"""

from __future__ import annotations

import msgspec
import pytest

from toolkits.answers import Answer, CaseDetails, EvidenceReference, Judgement
from toolkits.model import Choice, Grade, Question, Scale, Section, SectionJudgement, Toolkit
from toolkits.validation import (
    FieldProblem,
    answer_problems,
    case_detail_values,
    case_details_progress,
    judgement_problems,
    missing_answer_problems,
    missing_judgement_problems,
    validate_case_details,
)

CASE_DETAILS = Section(
    id="case-details",
    title="Case details",
    completed_by="coordinator",
    questions=(
        Question(id="initials", text="Initials", kind="text"),
        Question(id="age", text="Age", kind="number", min=0, max=25),
        Question(
            id="plan",
            text="Plan",
            kind="single-choice",
            choices=(Choice(value="cp", label="CP"), Choice(value="lac", label="LAC")),
            required=False,
        ),
    ),
)
HISTORY = Section(
    id="history",
    title="History",
    questions=(
        Question(id="previous", text="Previous involvement", kind="text", evidence="optional"),
        Question(id="quality", text="Quality", kind="grade", comments="required"),
    ),
    judgement=SectionJudgement(prompt="Overall judgement on history?", impact_label="Impact:"),
)
TOOLKIT = Toolkit(
    id="small",
    version=1,
    title="Small audit tool",
    source="tests",
    scale=Scale(
        id="four",
        grades=tuple(
            Grade(value=v, label=label)
            for v, label in enumerate(("Outstanding", "Good", "Adequate", "Inadequate"), start=1)
        ),
    ),
    merge_policy="weakest-link",
    sections=(CASE_DETAILS, HISTORY),
)
PREVIOUS, QUALITY = HISTORY.questions


def fields(problems: list[FieldProblem]) -> list[str]:
    return [p.field for p in problems]


def test_case_details_are_checked_like_answers() -> None:
    details = msgspec.convert(
        {"answers": {"initials": {"value": "AB"}, "age": {"value": 30}, "previous": {"value": "x"}, "x": {}}},
        CaseDetails,
    )
    problems = validate_case_details(TOOLKIT, details)
    assert fields(problems) == [
        "$.case_details.answers.age.value",
        "$.case_details.answers.previous",
        "$.case_details.answers.x",
    ]
    assert fields(validate_case_details(TOOLKIT, CaseDetails(), complete=True)) == [
        "$.case_details.answers.initials.value",
        "$.case_details.answers.age.value",
    ]
    assert case_details_progress(TOOLKIT, details).applicable == 3
    assert case_detail_values(details) == {"initials": "AB", "age": 30, "previous": "x", "x": None}
    assert case_detail_values(None) is None


@pytest.mark.parametrize(
    ("answer", "field", "message"),
    [
        (Answer(value=5), "$.answers.quality.value", "grade 1, 2, 3 or 4"),
        (Answer(value=2, comments="x" * 20_001), "$.answers.quality.comments", "longer than"),
        (
            Answer(value=2, evidence=(EvidenceReference(document="Notes"),)),
            "$.answers.quality.evidence",
            "no evidence",
        ),
    ],
)
def test_an_answer_is_checked_against_its_question(answer: Answer, field: str, message: str) -> None:
    problems = list(answer_problems(HISTORY, QUALITY, answer, "$.answers.quality"))
    assert fields(problems) == [field]
    assert message in problems[0].message


def test_what_a_submission_lacks_in_an_answer_is_named() -> None:
    assert fields(list(missing_answer_problems(QUALITY, None, "$.answers.quality"))) == [
        "$.answers.quality.value",
        "$.answers.quality.comments",
    ]
    blank_comments = Answer(value=2, comments="   ")
    assert fields(list(missing_answer_problems(QUALITY, blank_comments, "$.answers.quality"))) == [
        "$.answers.quality.comments"
    ]
    assert list(missing_answer_problems(PREVIOUS, Answer(value="Known since birth"), "$.answers.previous")) == []


def test_a_judgement_is_checked_against_the_scale_and_what_it_lacks_is_named() -> None:
    off_the_scale = Judgement(grade=0)
    assert fields(list(judgement_problems(off_the_scale, "$.judgements.history"))) == ["$.judgements.history.grade"]
    assert fields(list(missing_judgement_problems(HISTORY, None, "$.judgements.history"))) == [
        "$.judgements.history.grade",
        "$.judgements.history.impact",
    ]
    given = Judgement(grade=2, impact="Better for the child")
    assert list(missing_judgement_problems(HISTORY, given, "$.judgements.history")) == []
    # A section with no judgement asks for none.
    assert list(missing_judgement_problems(CASE_DETAILS, None, "$.judgements.case-details")) == []
