"""What an agency records beside its answers, checked: "not involved at this
stage" for a section, a significant failure in a section, and (seed 000)
the features of each area with the grade they suggest."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from agencies.applicability import Participant, applicable_sections
from agencies.contributions import contribution_progress, validate_contribution
from agencies.kinds import AGENCY_KIND_CODES
from merging import POLICIES
from toolkits.answers import ContributionContent
from toolkits.registry import load_registry

REGISTRY = load_registry(agency_kinds=AGENCY_KIND_CODES, merge_policies=set(POLICIES))
CP = REGISTRY.get("multi-agency-cp", 2)
CP_1 = REGISTRY.get("multi-agency-cp", 1)
EARLY = REGISTRY.get("early-intervention", 2)
SCHOOL = Participant(agency_kind="education")


def content(raw: dict[str, Any]) -> ContributionContent:
    return msgspec.convert(raw, ContributionContent)


def fields(problems: list[Any]) -> list[str]:
    return sorted(p.field for p in problems)


def complete_part(toolkit: Any, participant: Participant, *, skip: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    """Every applicable question answered and section graded, except the
    sections in ``skip``."""
    answers: dict[str, Any] = {}
    judgements: dict[str, Any] = {}
    for section in applicable_sections(toolkit, participant):
        if section.id in skip:
            continue
        for question in section.questions:
            value: Any = {"text": "Seen", "yes-no": "yes", "date": "2025-03-01", "grade": 2}[question.kind]
            answers[question.id] = {"value": value, "comments": "Seen" if question.comments == "required" else None}
        if section.judgement is not None:
            judgements[section.id] = {"grade": 2, "impact": "Seen"}
    return {"answers": answers, "judgements": judgements, "overall": {"grade": 2}}


# --- not involved ----------------------------------------------------------------------


def test_a_section_marked_not_involved_asks_nothing_more_of_the_agency() -> None:
    """Seed 003: "completed by each of the agencies involved with the child".
    The school marks 5. Assessment/S.47 Enquiry not involved with a reason:
    its questions there are not required, and its progress counts only the
    rest."""
    raw = complete_part(CP, SCHOOL, skip={"assessment-s47-enquiry"})
    raw["not_involved"] = {"assessment-s47-enquiry": {"reason": "No part in the S.47 enquiry"}}
    assert validate_contribution(CP, SCHOOL, content(raw), complete=True) == []
    without_mark = {k: v for k, v in raw.items() if k != "not_involved"}
    missing = fields(validate_contribution(CP, SCHOOL, content(without_mark), complete=True))
    assert "$.judgements.assessment-s47-enquiry.grade" in missing
    s47 = next(s for s in applicable_sections(CP, SCHOOL) if s.id == "assessment-s47-enquiry")
    everything = contribution_progress(CP, SCHOOL, content(without_mark))
    marked = contribution_progress(CP, SCHOOL, content(raw))
    assert (marked.answered, marked.applicable) == (everything.answered, everything.applicable - len(s47.questions))
    assert marked.answered == marked.applicable


@pytest.mark.parametrize(
    ("not_involved", "extra", "expected"),
    [
        ({"assessment-s47-enquiry": {"reason": "  "}}, {}, ["$.not_involved.assessment-s47-enquiry.reason"]),
        ({"assessment-s47-enquiry": {"reason": "x" * 1001}}, {}, ["$.not_involved.assessment-s47-enquiry.reason"]),
        ({"no-such-section": {"reason": "No part"}}, {}, ["$.not_involved.no-such-section"]),
        # Graded sections only: the key questions are asked of every agency.
        ({"key-questions": {"reason": "No part"}}, {}, ["$.not_involved.key-questions"]),
        (
            {"assessment-s47-enquiry": {"reason": "No part"}},
            {"judgements": {"assessment-s47-enquiry": {"grade": 4}}},
            ["$.judgements.assessment-s47-enquiry"],
        ),
        (
            {"assessment-s47-enquiry": {"reason": "No part"}},
            {"answers": {"s47-interpreter": {"value": "Not needed"}}},
            ["$.answers.s47-interpreter"],
        ),
        (
            {"assessment-s47-enquiry": {"reason": "No part"}},
            {"significant_failures": {"assessment-s47-enquiry": {"description": "Missed"}}},
            ["$.significant_failures.assessment-s47-enquiry"],
        ),
    ],
)
def test_not_involved_is_refused_where_it_cannot_be_so(
    not_involved: dict[str, Any], extra: dict[str, Any], expected: list[str]
) -> None:
    raw = {"not_involved": not_involved, **extra}
    assert fields(validate_contribution(CP, SCHOOL, content(raw))) == expected


def test_the_first_multi_agency_version_does_not_ask_whether_an_agency_was_involved() -> None:
    """An audit keeps its toolkit version: version 1 offers no "not involved"."""
    raw = {"not_involved": {"assessment-s47-enquiry": {"reason": "No part"}}}
    [problem] = validate_contribution(CP_1, SCHOOL, content(raw))
    assert (problem.field, problem.message) == (
        "$.not_involved.assessment-s47-enquiry",
        "this audit tool does not ask whether your agency was involved",
    )


# --- significant failures ----------------------------------------------------------------


def test_a_significant_failure_is_recorded_in_an_area_with_a_description() -> None:
    """Seed 000: "a significant failure which has impacted on the safety of
    the child" — recordable in any area of the agency's work, in every
    toolkit (the first multi-agency version too), with a description."""
    good = {"significant_failures": {"referral": {"description": "The referral was not followed up in writing"}}}
    assert validate_contribution(CP, SCHOOL, content(good)) == []
    assert validate_contribution(CP_1, SCHOOL, content(good)) == []
    wrong = {
        "significant_failures": {
            "referral": {"description": " "},
            "ecm-outcomes": {"description": "An outcome is not an area of the work"},
            "nowhere": {"description": "x"},
        }
    }
    assert fields(validate_contribution(CP, SCHOOL, content(wrong))) == [
        "$.significant_failures.ecm-outcomes",
        "$.significant_failures.nowhere",
        "$.significant_failures.referral.description",
    ]


# --- seed 000's features -----------------------------------------------------------------


def early_contribution(mark: int, grade: int, *, overall_grade: int, safeguarded: int = 2) -> dict[str, Any]:
    judgements = {}
    for section in EARLY.sections:
        if section.judgement is None:
            continue
        judgements[section.id] = {
            "grade": grade,
            "features": {f.id: mark if mark in f.texts else 2 for f in section.judgement.features},
        }
    return {
        "answers": {f"{s.id}-comments": {"value": "Seen"} for s in EARLY.sections if s.judgement is not None},
        "judgements": judgements,
        "overall": {"grade": overall_grade, "features": {"safeguarded": safeguarded}},
    }


HEALTH = Participant(agency_kind="health")


def test_every_feature_is_marked_before_submitting() -> None:
    raw = early_contribution(2, 2, overall_grade=1)
    del raw["judgements"]["review"]["features"]["risk"]
    [problem] = validate_contribution(EARLY, HEALTH, content(raw), complete=True)
    assert problem.field == "$.judgements.review.features.risk"


def test_the_suggested_grade_is_confirmed_or_another_given_with_a_reason() -> None:
    """Seed 000's rule suggests; the auditor decides. Every feature Good
    suggests each area Good, and — every area Good, effectively
    safeguarded, every feature Good — Outstanding overall. Confirming needs
    no reason; giving Good overall instead does."""
    assert validate_contribution(EARLY, HEALTH, content(early_contribution(2, 2, overall_grade=1)), complete=True) == []
    other = early_contribution(2, 2, overall_grade=2)
    [problem] = validate_contribution(EARLY, HEALTH, content(other), complete=True)
    assert problem.field == "$.overall.override_reason"
    assert "(1)" in problem.message
    other["overall"]["override_reason"] = "Not yet consistent over time"
    assert validate_contribution(EARLY, HEALTH, content(other), complete=True) == []
    # An area graded Adequate where its features suggest Good needs one too.
    area = early_contribution(2, 2, overall_grade=2)
    area["judgements"]["review"]["grade"] = 3
    assert fields(validate_contribution(EARLY, HEALTH, content(area), complete=True)) == [
        "$.judgements.review.override_reason"
    ]


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        ({"needs-identified": 1}, "$.judgements.early-identification.features.needs-identified"),
        ({"no-such-feature": 2}, "$.judgements.early-identification.features.no-such-feature"),
    ],
)
def test_a_feature_is_marked_at_a_grade_it_is_described_at(features: dict[str, Any], expected: str) -> None:
    raw = {"judgements": {"early-identification": {"features": features}}}
    assert fields(validate_contribution(EARLY, HEALTH, content(raw))) == [expected]


def test_a_feature_the_seed_does_not_describe_at_inadequate_may_be_marked_none_of_these() -> None:
    """Seed 000's Adequate cell of Assessment says nothing of "child-centred";
    the overall conditions have no Inadequate wording. 4 means none of the
    better descriptions is evident."""
    raw = {
        "judgements": {"assessment": {"features": {"child-centred": 4}}},
        "overall": {"features": {"safeguarded": 4}},
    }
    assert validate_contribution(EARLY, HEALTH, content(raw)) == []
    wrong = {"judgements": {"assessment": {"features": {"child-centred": 3}}}}
    [problem] = validate_contribution(EARLY, HEALTH, content(wrong))
    assert (problem.field, problem.message) == (
        "$.judgements.assessment.features.child-centred",
        "must be one of: 2, 4",
    )
