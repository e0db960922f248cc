"""An agency's contribution checked: every wrong field named, drafts partial,
submissions complete, only the agency's part of the toolkit on the case."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agencies.applicability import Participant, applicable_sections
from agencies.contributions import contribution_progress, validate_contribution
from toolkits.answers import ContributionContent
from toolkits.model import (
    FIXED_CHOICES,
    Choice,
    Column,
    Grade,
    OverallJudgement,
    Question,
    Scale,
    Section,
    SectionJudgement,
    Selector,
    Toolkit,
)
from toolkits.registry import DEFINITIONS, load_definition
from toolkits.validation import MAX_TEXT, FieldProblem

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
    selectors={
        "csc-only": Selector(label="Children's Social Care only", agencies=("childrens-social-care",)),
        "referrer": Selector(label="Referring agency", referrer=True),
    },
    sections=(
        Section(
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
        ),
        Section(
            id="history",
            title="History",
            comments_label="Auditor comments",
            questions=(
                Question(id="previous", text="Previous involvement", kind="text", evidence="optional"),
                Question(id="allocated", text="Allocated promptly?", kind="yes-no", applies_to="csc-only"),
                Question(id="referral-quality", text="Quality of referral", kind="text", applies_to="referrer"),
                Question(id="seen", text="Child seen?", kind="yes-partly-no", required=False),
            ),
            judgement=SectionJudgement(prompt="Overall judgement on history?", impact_label="Impact:"),
        ),
        Section(
            id="detail",
            title="Detail",
            questions=(
                Question(id="quality", text="Quality", kind="grade", comments="required"),
                Question(id="ticked", text="Is the child on a plan?", kind="tick", required=False),
                Question(id="reviewed", text="Last reviewed", kind="date", required=False),
                Question(id="visits", text="Visits", kind="number", min=0, max=10, required=False),
                Question(
                    id="concerns",
                    text="Concerns",
                    kind="multiple-choice",
                    choices=(Choice(value="neglect", label="Neglect"), Choice(value="harm", label="Harm")),
                    required=False,
                ),
                Question(id="documents", text="Documents", kind="evidence", required=False),
                Question(
                    id="family",
                    text="Family members",
                    kind="rows",
                    required=False,
                    columns=(
                        Column(id="initials", label="Initials", required=True),
                        Column(id="age", label="Age", kind="number"),
                        Column(id="born", label="Born", kind="date"),
                    ),
                ),
            ),
            judgement=SectionJudgement(prompt="Judgement?", impact_label="Impact:", impact_required=False),
        ),
        Section(
            id="lac-review",
            title="Looked after review",
            condition=None,
            judgement=SectionJudgement(prompt="Judgement on LAC review?", impact_label="Impact:"),
        ),
    ),
    overall=OverallJudgement(prompt="Overall?"),
)

HEALTH = Participant(agency_kind="health")
CSC = Participant(agency_kind="childrens-social-care")


def content(raw: dict[str, Any]) -> ContributionContent:
    return msgspec.convert(raw, ContributionContent)


def fields(problems: list[FieldProblem]) -> list[str]:
    return [p.field for p in problems]


COMPLETE: dict[str, Any] = {
    "answers": {
        "previous": {
            "value": "Known to the GP since birth",
            "evidence": [{"document": "GP notes", "date": "2024-01-02"}],
        },
        "quality": {"value": 2, "comments": "Thorough"},
    },
    "judgements": {
        "history": {"grade": 2, "impact": "Better"},
        "detail": {"grade": 3},
        "lac-review": {"grade": 2, "impact": "x"},
    },
    "overall": {"grade": 2},
}


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"nope": {"value": "x"}}, "$.answers.nope", "no such question"),
        ({"allocated": {"value": "yes"}}, "$.answers.allocated", "does not apply to your agency"),
        ({"initials": {"value": "AB"}}, "$.answers.initials", "case detail"),
        ({"quality": {"value": 5}}, "$.answers.quality.value", "grade 1, 2, 3 or 4"),
        ({"quality": {"value": 0}}, "$.answers.quality.value", "grade 1, 2, 3 or 4"),
        ({"quality": {"value": "2"}}, "$.answers.quality.value", "grade 1, 2, 3 or 4"),
        ({"quality": {"value": True}}, "$.answers.quality.value", "grade 1, 2, 3 or 4"),
        ({"seen": {"value": "maybe"}}, "$.answers.seen.value", "yes, partly, no"),
        ({"ticked": {"value": "yes"}}, "$.answers.ticked.value", "true or false"),
        ({"reviewed": {"value": "02/01/2024"}}, "$.answers.reviewed.value", "YYYY-MM-DD"),
        ({"reviewed": {"value": "2024-02-30"}}, "$.answers.reviewed.value", "not a real date"),
        ({"visits": {"value": 11}}, "$.answers.visits.value", "at most 10"),
        ({"visits": {"value": -1}}, "$.answers.visits.value", "at least 0"),
        ({"visits": {"value": "three"}}, "$.answers.visits.value", "must be a number"),
        ({"concerns": {"value": ["neglect", "fire"]}}, "$.answers.concerns.value", "unknown choice 'fire'"),
        ({"concerns": {"value": "neglect"}}, "$.answers.concerns.value", "list of choices"),
        ({"concerns": {"value": ["harm", "harm"]}}, "$.answers.concerns.value", "listed twice"),
        (
            {"documents": {"value": [{"document": "Notes", "date": "yesterday"}]}},
            "$.answers.documents.value[0].date",
            "YYYY-MM-DD",
        ),
        (
            {"documents": {"value": [{"date": "2024-01-01"}]}},
            "$.answers.documents.value[0].document",
            "name the document",
        ),
        (
            {"documents": {"value": [{"document": "x", "page": 3}]}},
            "$.answers.documents.value[0].page",
            "unknown field",
        ),
        ({"documents": {"value": "Notes"}}, "$.answers.documents.value", "list of {document, date}"),
        ({"family": {"value": [{"initials": "AB", "shoe": 4}]}}, "$.answers.family.value[0].shoe", "no such column"),
        (
            {"family": {"value": [{"initials": "AB", "age": "six"}]}},
            "$.answers.family.value[0].age",
            "must be a number",
        ),
        ({"family": {"value": [{"initials": "AB", "born": "2020"}]}}, "$.answers.family.value[0].born", "YYYY-MM-DD"),
        ({"family": {"value": ["AB"]}}, "$.answers.family.value[0]", "object of column values"),
        ({"family": {"value": {"initials": "AB"}}}, "$.answers.family.value", "list of rows"),
        ({"previous": {"value": 3}}, "$.answers.previous.value", "must be text"),
        ({"previous": {"value": "x" * (MAX_TEXT + 1)}}, "$.answers.previous.value", "longer than"),
        ({"quality": {"value": 1, "comments": "x" * (MAX_TEXT + 1)}}, "$.answers.quality.comments", "longer than"),
        ({"visits": {"value": 1, "comments": "why"}}, "$.answers.visits.comments", "no comments box"),
        ({"quality": {"value": 1, "evidence": [{"document": "x"}]}}, "$.answers.quality.evidence", "no evidence"),
        (
            {"previous": {"value": "x", "evidence": [{"document": "x", "date": "2024-13-01"}]}},
            "$.answers.previous.evidence[0].date",
            "not a real date",
        ),
    ],
)
def test_a_wrong_answer_is_named(answers: dict[str, Any], field: str, message: str) -> None:
    problems = validate_contribution(TOOLKIT, HEALTH, content({"answers": answers}))
    assert len(problems) == 1, problems
    assert problems[0].field == field
    assert message in problems[0].message


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"judgements": {"history": {"grade": 5}}}, "$.judgements.history.grade", "grade 1, 2, 3 or 4"),
        ({"judgements": {"nowhere": {"grade": 1}}}, "$.judgements.nowhere", "no such section"),
        ({"judgements": {"case-details": {"grade": 1}}}, "$.judgements.case-details", "not graded"),
        ({"judgements": {"history": {"impact": "x" * (MAX_TEXT + 1)}}}, "$.judgements.history.impact", "longer"),
        ({"overall": {"grade": 0}}, "$.overall.grade", "grade 1, 2, 3 or 4"),
    ],
)
def test_a_wrong_judgement_is_named(raw: dict[str, Any], field: str, message: str) -> None:
    problems = validate_contribution(TOOLKIT, HEALTH, content(raw))
    assert fields(problems) == [field]
    assert message in problems[0].message


def test_every_problem_is_listed_at_once() -> None:
    raw = {"answers": {"nope": {"value": 1}, "quality": {"value": 9}}, "judgements": {"history": {"grade": 7}}}
    assert fields(validate_contribution(TOOLKIT, HEALTH, content(raw))) == [
        "$.answers.nope",
        "$.answers.quality.value",
        "$.judgements.history.grade",
    ]


def test_a_partial_draft_is_fine() -> None:
    assert validate_contribution(TOOLKIT, HEALTH, content({"answers": {"quality": {"value": 1}}})) == []
    assert validate_contribution(TOOLKIT, HEALTH, content({})) == []


def test_every_valid_kind_of_answer_is_accepted() -> None:
    raw = {
        "answers": {
            "previous": {"value": "text", "comments": "in the section's comments box"},
            "seen": {"value": "partly"},
            "quality": {"value": 4, "comments": "c"},
            "ticked": {"value": False},
            "reviewed": {"value": "2024-02-29"},
            "visits": {"value": 2.5},
            "concerns": {"value": ["neglect", "harm"]},
            "documents": {"value": [{"document": "Strategy minutes", "date": "2024-03-01"}, {"document": "x"}]},
            "family": {"value": [{"initials": "AB", "age": 7, "born": "2017-01-01"}, {"initials": "CD"}]},
        }
    }
    assert validate_contribution(TOOLKIT, HEALTH, content(raw)) == []


def test_a_complete_submission_passes() -> None:
    assert validate_contribution(TOOLKIT, HEALTH, content(COMPLETE), complete=True) == []


def test_an_empty_submission_lists_every_missing_field() -> None:
    assert fields(validate_contribution(TOOLKIT, HEALTH, content({}), complete=True)) == [
        "$.answers.previous.value",
        "$.judgements.history.grade",
        "$.judgements.history.impact",
        "$.answers.quality.value",
        "$.answers.quality.comments",
        "$.judgements.detail.grade",
        "$.judgements.lac-review.grade",
        "$.judgements.lac-review.impact",
        "$.overall.grade",
    ]


def test_required_questions_follow_the_agency_and_the_referrer() -> None:
    csc = fields(validate_contribution(TOOLKIT, CSC, content(COMPLETE), complete=True))
    assert csc == ["$.answers.allocated.value"]
    referrer = Participant(agency_kind="health", is_referrer=True)
    assert fields(validate_contribution(TOOLKIT, referrer, content(COMPLETE), complete=True)) == [
        "$.answers.referral-quality.value"
    ]


def test_required_comments_and_row_columns_are_checked_on_submission() -> None:
    raw = msgspec.json.decode(msgspec.json.encode(COMPLETE))
    raw["answers"]["quality"] = {"value": 2, "comments": "   "}
    raw["answers"]["family"] = {"value": [{"age": 3}]}
    assert fields(validate_contribution(TOOLKIT, HEALTH, content(raw), complete=True)) == [
        "$.answers.quality.comments",
        "$.answers.family.value[0].initials",
    ]


def test_progress_counts_applicable_questions_answered() -> None:
    draft = content({"answers": {"previous": {"value": "x"}, "seen": {"value": ""}, "ticked": {"value": False}}})
    assert contribution_progress(TOOLKIT, HEALTH, draft).answered == 2
    assert contribution_progress(TOOLKIT, HEALTH, draft).applicable == 9
    assert contribution_progress(TOOLKIT, CSC, draft).applicable == 10


MULTI_AGENCY_CP = DEFINITIONS / "multi-agency-cp" / "v1.yaml"


@pytest.mark.skipif(not MULTI_AGENCY_CP.exists(), reason="multi-agency-cp not written yet")
def test_the_multi_agency_cp_tool_names_what_is_missing() -> None:
    toolkit = load_definition(MULTI_AGENCY_CP)
    police = Participant(agency_kind="police")
    draft = content(
        {"answers": {"history-previous-involvement": {"value": 7}, "child-currently-safe": {"value": "no"}}}
    )
    assert fields(validate_contribution(toolkit, police, draft)) == ["$.answers.history-previous-involvement.value"]
    missing = fields(validate_contribution(toolkit, police, content({}), complete=True))
    # "All comments boxes must be completed": the key question's comments too.
    assert "$.answers.child-currently-safe.comments" in missing
    assert "$.answers.ecm-being-healthy.comments" in missing
    assert "$.judgements.history-of-involvement.grade" in missing
    assert "$.overall.grade" in missing
    assert "$.answers.auditor-feedback.value" not in missing  # optional
    progress = contribution_progress(toolkit, police, draft)
    assert progress.answered == 2
    assert progress.applicable > 20


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
QUESTION_IDS = [q.id for s in TOOLKIT.sections for q in s.questions] + ["nope"]


@settings(max_examples=300, deadline=None)
@given(
    answers=st.dictionaries(st.sampled_from(QUESTION_IDS), JSON, max_size=6),
    complete=st.booleans(),
)
def test_any_json_answer_is_named_or_accepted_never_a_crash(answers: dict[str, Any], complete: bool) -> None:
    draft = content({"answers": {question: {"value": value} for question, value in answers.items()}})
    problems = validate_contribution(TOOLKIT, CSC, draft, complete=complete)
    assert all(p.field.startswith(("$.answers.", "$.judgements.", "$.overall")) for p in problems)
    if not complete:
        # Every problem of a draft is about an answer that was sent.
        assert {p.field.split(".")[2].split("[")[0] for p in problems} <= set(answers)


def _sample(kind: str, question: Question) -> Any:
    simple: dict[str, Any] = {
        "grade": 2,
        "tick": True,
        "date": "2025-03-01",
        "text": "Recorded",
        "number": question.min if question.min is not None else 1,
        "evidence": [{"document": "Case notes", "date": "2025-03-01"}],
    }
    if kind in simple:
        return simple[kind]
    if kind in FIXED_CHOICES:
        return FIXED_CHOICES[kind][0][0]
    if kind == "single-choice":
        return question.choices[0].value
    if kind == "multiple-choice":
        return [question.choices[0].value]
    assert kind == "rows"
    cells = {"text": "x", "date": "2025-03-01", "number": 1, "yes-no": "yes", "tick": True}
    return [{c.id: c.choices[0].value if c.choices else cells[c.kind] for c in question.columns}]


def _complete(toolkit: Toolkit, participant: Participant) -> ContributionContent:
    answers: dict[str, Any] = {}
    judgements: dict[str, Any] = {}
    for section in applicable_sections(toolkit, participant):
        for question in section.questions:
            answers[question.id] = {"value": _sample(question.kind, question)}
            if question.comments == "required":
                answers[question.id]["comments"] = "Seen"
            if question.evidence == "required":
                answers[question.id]["evidence"] = [{"document": "Notes"}]
        if section.judgement is not None:
            # Where the guidance counts features (seed 000), each is marked
            # adequate where it is described so, else good: the features
            # then suggest the grade given, adequate.
            marks = {f.id: 3 if 3 in f.texts else 2 for f in section.judgement.features}
            judgements[section.id] = {"grade": 3, "impact": "Some", "features": marks}
    overall: dict[str, Any] | None = None
    if toolkit.overall is not None:
        overall = {"grade": 3, "features": {f.id: 3 for f in toolkit.overall.features}}
    return content({"answers": answers, "judgements": judgements, "overall": overall})


@pytest.mark.parametrize("file", sorted(DEFINITIONS.glob("*/v*.yaml")), ids=lambda f: f.parent.name)
@pytest.mark.parametrize("kind", ["health", "police", "education", "childrens-social-care"])
def test_every_shipped_toolkit_accepts_a_complete_contribution_and_names_what_an_empty_one_lacks(
    file: Any, kind: str
) -> None:
    toolkit = load_definition(file)
    for participant in (Participant(agency_kind=kind), Participant(agency_kind=kind, is_referrer=True)):
        sections = applicable_sections(toolkit, participant)
        if not sections:
            continue
        assert validate_contribution(toolkit, participant, _complete(toolkit, participant), complete=True) == []
        missing = validate_contribution(toolkit, participant, content({}), complete=True)
        required = [q for s in sections for q in s.questions if q.required]
        assert len(missing) >= len(required)
