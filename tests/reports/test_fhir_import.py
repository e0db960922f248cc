"""A contribution Maca exports as a FHIR QuestionnaireResponse reads back
into the same contribution, for every toolkit and every agency, with every
part an agency may fill (fhir.resources checks each document)."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agencies.applicability import Participant, applicable_sections, is_area
from agencies.contributions import validate_contribution
from agencies.kinds import AGENCY_KIND_CODES
from server.reports.fhir_import import QuestionnaireResponseIn, read_questionnaire_response
from server.reports.fhir_response import questionnaire_response
from toolkits.answers import ContributionContent
from toolkits.fhir import has_comments
from toolkits.grading import marks_allowed
from toolkits.model import Column, Feature, Question, Toolkit
from toolkits.registry import Registry

# --- every toolkit, every agency: export, then read back -------------------------------


def _cell(column: Column) -> Any:
    return {
        "text": "Named nurse",
        "date": "2025-04-01",
        "number": 3,
        "yes-no": "yes",
        "tick": True,
        "single-choice": column.choices[0].value if column.choices else None,
    }[column.kind]


def _value(question: Question, toolkit: Toolkit) -> Any:
    kind = question.kind
    if kind == "grade":
        return toolkit.scale.grades[1].value
    if kind in ("yes-no", "yes-partly-no", "yes-sometimes-no"):
        return "no"
    if kind == "always-sometimes-never":
        return "sometimes"
    if kind == "single-choice":
        return question.choices[-1].value
    if kind == "multiple-choice":
        return [c.value for c in question.choices[:2]]
    if kind == "rows":
        return [{c.id: _cell(c) for c in question.columns}, {c.id: _cell(c) for c in reversed(question.columns)}]
    if kind == "evidence":
        return [{"document": "Chronology", "date": "2025-02-01"}, {"document": "Strategy minutes", "date": None}]
    return {"tick": False, "date": "2025-03-01", "number": 4.5, "text": "Seen in the records, 'quoted'"}[kind]


def _marked(features: tuple[Feature, ...], owner: str) -> dict[str, Any]:
    """Every feature marked at the worst grade it is described at, and a
    reason for a grade other than the one they suggest."""
    if not features:
        return {}
    return {
        "features": {f.id: max(marks_allowed(f)) for f in features},
        "override_reason": f"Why {owner} is not graded as its features suggest",
    }


def everything_answered(toolkit: Toolkit, participant: Participant) -> ContributionContent:
    """A contribution with every part the agency may fill: comments wherever
    there is a box, evidence wherever it is taken, both judgements' texts,
    every feature marked with a reason for another grade (seed 000), and a
    significant failure in its first area of the work."""
    answers: dict[str, Any] = {}
    judgements: dict[str, Any] = {}
    failures: dict[str, Any] = {}
    for section in applicable_sections(toolkit, participant, None):
        if is_area(section) and not failures:
            failures[section.id] = {"description": f"A significant failure in {section.id}"}
        for question in section.questions:
            answer: dict[str, Any] = {"value": _value(question, toolkit)}
            if has_comments(section, question) and question.kind not in ("rows", "evidence"):
                answer["comments"] = f"Comments on {question.id}"
            if question.evidence != "none" and question.kind not in ("rows", "evidence"):
                answer["evidence"] = [{"document": "Case notes", "date": "2025-03-02"}]
            answers[question.id] = answer
        if section.judgement is not None:
            judgements[section.id] = {"grade": 3, "impact": f"Impact of {section.id}"}
            judgements[section.id] |= _marked(section.judgement.features, section.id)
    overall = None
    if toolkit.overall is not None:
        overall = {"grade": 2, "impact": "Good overall"} | _marked(toolkit.overall.features, "overall")
    content = msgspec.convert(
        {"answers": answers, "judgements": judgements, "overall": overall, "significant_failures": failures},
        ContributionContent,
    )
    assert validate_contribution(toolkit, participant, content, complete=True) == []
    return content


def every_toolkit_and_agency(registry: Registry) -> list[tuple[str, str]]:
    return [(toolkit_id, kind) for toolkit_id in registry.ids() for kind in sorted(AGENCY_KIND_CODES)]


@pytest.mark.parametrize("status", ["in-progress", "submitted"])
def test_every_exported_contribution_reads_back_identical(toolkits: Registry, status: str) -> None:
    checked = 0
    for toolkit_id, kind in every_toolkit_and_agency(toolkits):
        toolkit = toolkits.current(toolkit_id)
        participant = Participant(agency_kind=kind, is_referrer=kind == "health")
        if not applicable_sections(toolkit, participant, None):
            continue
        content = everything_answered(toolkit, participant)
        exported = questionnaire_response(
            toolkit,
            content,
            response_id="x",
            status=status,
            authored=datetime.datetime(2025, 3, 4, tzinfo=datetime.UTC),
            organisation_code="demo",
            organisation_name="Demo",
        )
        QuestionnaireResponse.model_validate(exported)  # FHIR R4 takes it
        reading = read_questionnaire_response(toolkit, msgspec.convert(exported, QuestionnaireResponseIn))
        assert reading.problems == [], (toolkit_id, kind)
        assert reading.content == content, (toolkit_id, kind)
        checked += 1
    assert checked >= 15


# --- whatever a system sends, reading it never fails -------------------------------------


def link_ids_of(toolkit: Toolkit) -> list[str]:
    ids = ["overall", "overall.impact", "overall.override-reason", "nowhere", "x.evidence.document"]
    ids += [f"overall.features.{f.id}" for f in (toolkit.overall.features if toolkit.overall is not None else ())]
    for section in toolkit.sections:
        ids += [section.id, f"{section.id}.judgement", f"{section.id}.impact", f"{section.id}.override-reason"]
        ids += [f"{section.id}.not-involved", f"{section.id}.significant-failure", f"{section.id}.features.x"]
        if section.judgement is not None:
            ids += [f"{section.id}.features.{f.id}" for f in section.judgement.features]
        for question in section.questions:
            ids += [question.id, f"{question.id}.comments", f"{question.id}.evidence", f"{question.id}.evidence.date"]
            ids += [f"{question.id}.evidence.document", *(f"{question.id}.{c.id}" for c in question.columns)]
    return ids


VALUES = st.one_of(
    st.fixed_dictionaries({"valueString": st.text(max_size=8)}),
    st.fixed_dictionaries({"valueBoolean": st.booleans()}),
    st.fixed_dictionaries({"valueInteger": st.integers(-5, 10)}),
    st.fixed_dictionaries({"valueDecimal": st.floats(allow_nan=False, allow_infinity=False)}),
    st.fixed_dictionaries({"valueDate": st.sampled_from(["2025-03-01", "2025-02-30", "soon"])}),
    st.fixed_dictionaries(
        {"valueCoding": st.fixed_dictionaries({"code": st.sampled_from(["1", "4", "9", "²", "no", "yes", "x" * 9])})}
    ),
    st.fixed_dictionaries({"valueString": st.just("a"), "valueBoolean": st.just(True)}),
)


def items(link_ids: list[str], depth: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    children = items(link_ids, depth - 1) if depth else st.just([])
    answer = st.builds(lambda value, item: {**value, **({"item": item} if item else {})}, VALUES, children)
    item = st.builds(
        lambda link, answers, nested: {
            "linkId": link,
            **({"answer": answers} if answers else {}),
            **({"item": nested} if nested else {}),
        },
        st.sampled_from(link_ids),
        st.lists(answer, max_size=2),
        children,
    )
    return st.lists(item, max_size=4)


@given(data=st.data())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_reading_any_response_gives_a_contribution_or_problems_never_an_error(
    toolkits: Registry, data: st.DataObject
) -> None:
    toolkit = toolkits.current(data.draw(st.sampled_from(toolkits.ids())))
    document = {
        "resourceType": "QuestionnaireResponse",
        "status": data.draw(st.sampled_from(["in-progress", "completed", "amended", "stopped"])),
        "item": data.draw(items(link_ids_of(toolkit), 2)),
    }
    reading = read_questionnaire_response(toolkit, msgspec.convert(document, QuestionnaireResponseIn))
    participant = Participant(agency_kind=data.draw(st.sampled_from(sorted(AGENCY_KIND_CODES))), is_referrer=False)
    problems = validate_contribution(toolkit, participant, reading.content, complete=True)
    for issue in reading.issues((p.field, p.message) for p in problems) + reading.problems:
        assert issue.expression is not None and issue.expression.startswith("QuestionnaireResponse")
        assert issue.message
