"""Property tests on the decoders of every request body: whatever bytes or
JSON arrive, decoding gives a typed value or a ``msgspec`` error naming where
— never another exception (which would be a 500) — and what decodes
survives a round trip. Validation of a decoded contribution against every
toolkit, for every agency, returns problems and never raises."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agencies.applicability import Participant
from agencies.contributions import validate_contribution
from agencies.kinds import AGENCY_KIND_CODES
from server.api.actions import ActionChanges, NewAction
from server.api.audits import AuditChanges, NewAudit, StatusChange
from server.api.contributions import ContributionDraft, ContributionPatch, ReturnRequest
from server.api.judgement import ModerationRequest
from server.reports.fhir_import import QuestionnaireResponseIn
from toolkits.answers import Answer, CaseDetails, ContributionContent, Judgement
from toolkits.registry import Registry
from toolkits.validation import validate_case_details

BODIES: tuple[type[msgspec.Struct], ...] = (
    ContributionDraft,
    ContributionPatch,
    QuestionnaireResponseIn,
    ReturnRequest,
    NewAudit,
    AuditChanges,
    StatusChange,
    NewAction,
    ActionChanges,
    ModerationRequest,
    ContributionContent,
    CaseDetails,
)

FIELD_NAMES = st.sampled_from(
    [
        "answers",
        "judgements",
        "overall",
        "reason",
        "value",
        "comments",
        "evidence",
        "grade",
        "impact",
        "status",
        "toolkit",
        "participants",
        "case_details",
        "action",
        "who",
        "comment",
        "document",
        "date",
        "x",
    ]
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(FIELD_NAMES | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)


@pytest.mark.parametrize("body", BODIES, ids=lambda body: body.__name__)
@given(raw=st.binary(max_size=300))
@settings(max_examples=150, deadline=None)
def test_any_bytes_decode_or_fail_cleanly(body: type[msgspec.Struct], raw: bytes) -> None:
    try:
        msgspec.json.decode(raw, type=body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    except UnicodeDecodeError:
        pass  # answered 400 by server/platform/problems.py (tested in test_hostile_input.py)


@pytest.mark.parametrize("body", BODIES, ids=lambda body: body.__name__)
@given(document=JSON)
@settings(max_examples=150, deadline=None)
def test_any_json_decodes_to_a_struct_that_round_trips_or_is_refused_by_path(
    body: type[msgspec.Struct], document: Any
) -> None:
    encoded = msgspec.json.encode(document)
    try:
        decoded = msgspec.json.decode(encoded, type=body)
    except msgspec.ValidationError as error:
        # msgspec names the field or the type it expected, and where below the top.
        assert "`" in str(error), str(error)
        return
    again = msgspec.json.decode(msgspec.json.encode(decoded), type=body)
    assert again == decoded


ANSWER_VALUES = JSON | st.integers(min_value=-2, max_value=6) | st.sampled_from(["yes", "no", "2025-03-01", "always"])


def latest(registry: Registry) -> list[Any]:
    return [registry.current(toolkit_id) for toolkit_id in registry.ids()]


def answers_for(registry: Registry) -> st.SearchStrategy[dict[str, Answer]]:
    question_ids = sorted(
        {question.id for toolkit in latest(registry) for section in toolkit.sections for question in section.questions}
    )
    return st.dictionaries(
        st.sampled_from(question_ids) | st.text(max_size=10),
        st.builds(Answer, value=ANSWER_VALUES, comments=st.none() | st.text(max_size=30)),
        max_size=8,
    )


@pytest.fixture(scope="module")
def registry(toolkits: Registry) -> Registry:
    return toolkits


@given(data=st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_validating_any_contribution_returns_problems_and_never_raises(registry: Registry, data: st.DataObject) -> None:
    toolkit = data.draw(st.sampled_from(latest(registry)))
    participant = Participant(
        agency_kind=data.draw(st.sampled_from(sorted(AGENCY_KIND_CODES))), is_referrer=data.draw(st.booleans())
    )
    judgement = st.builds(Judgement, grade=st.none() | st.integers(-3, 8), impact=st.none() | st.text(max_size=20))
    content = ContributionContent(
        answers=data.draw(answers_for(registry)),
        judgements=data.draw(st.dictionaries(st.text(max_size=12), judgement, max_size=3)),
        overall=data.draw(st.none() | judgement),
    )
    for complete in (False, True):
        problems = validate_contribution(toolkit, participant, content, complete=complete)
        assert all(problem.field.startswith("$") and problem.message for problem in problems)
    details = CaseDetails(answers=data.draw(answers_for(registry)))
    for complete in (False, True):
        problems = validate_case_details(toolkit, details, complete=complete)
    assert all(problem.field.startswith("$") and problem.message for problem in problems)
