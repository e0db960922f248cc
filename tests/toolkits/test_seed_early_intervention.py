"""Seed 000 (Early Intervention – grading guidance) is in the definition.

The table below was written by reading the seed, row by row: each area of
analysis and what each grade looks like in it, in the seed's words.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agencies.kinds import AGENCY_KIND_CODES
from merging import POLICIES
from toolkits.model import Toolkit
from toolkits.registry import DEFINITIONS, load_definition

SEED_AREAS = [
    (
        "early-identification",
        "Early Identification",
        {
            2: "The child's needs were identified accurately, included gathering of information on previous concerns "
            "or involvements and were identified in a timely way.",
            3: "The child's needs were identified, awareness of previous concerns or involvements and there was no "
            "undue delay in identifying the child's needs.",
            4: "The child's needs were not fully identified or without the benefit of knowledge of previous concerns "
            "or involvements or there was delay in identifying the child's needs.",
        },
    ),
    (
        "assessment",
        "Assessment",
        {
            2: "Assessment covers all Assessment Framework domains, details strengths and what needs to change, is "
            "child-centred and process fully involves child and parents.",
            3: "it was undertaken within a reasonable timescale",
            4: "Consent given but general, not specific; or parent or child of appropriate age not asked for consent; "
            "or child protection concerns not passed on due to parent not giving consent.",
        },
    ),
    (
        "planning-and-implementing-plan",
        "Planning and Implementing Plan",
        {
            2: "includes indicators for success, which are focused on impact on child/young person.",
            3: "some success indicators included; most but not all focus on impact on child.",
            4: "Gaps in how some of the identified needs will be met;",
        },
    ),
    (
        "review",
        "Review",
        {
            2: "The plan is reviewed at regular intervals and actions evaluated and amended.",
            3: "The plan is reviewed, and most actions evaluated and amended.",
            4: "Risk to the child is not regularly reassessed.",
        },
    ),
    (
        "management-oversight-and-recording",
        "Management Oversight and Recording",
        {
            2: "The front-line worker is appropriately supported and directed.",
            3: "The front-line worker receives some support and direction.",
            4: "Lack of evidence of quality assurance activity on records.",
        },
    ),
]

# The continuation rows after the page break ("Planning and Implementing Plan (cont'd)").
CONTINUED = {
    2: "Agency being audited is fulfilling its responsibilities effectively; lead professional in place and "
    "effective; Team Around Child in place and effective; any differences resolved; appropriate services in place "
    "and good partnership with family.",
    3: "Agency being audited is fulfilling its key responsibilities; lead professional in place; Team Around Child in "
    "place; any differences of view discussed; main services in place and engagement with family.",
    4: "Agency being audited is not fulfilling all its key responsibilities; lead professional not clear or in place "
    "but not effective; Team Around Child not clear or in place but not effective; differences of view not "
    "resolved; some key services not in place; or inadequate partnership with family.",
}

OVERALL = {
    1: "The case can only be judged as outstanding overall if every area of analysis has been judged good or better.",
    2: "The case should be judged as good if at least 75% of the features above are evident; providing the child "
    "has been effectively safeguarded and their welfare promoted throughout the work.",
    3: "However, any significant failings will render the case inadequate.",
    4: "If 25% or more of the features above are evident, or if there is a significant failure which has impacted "
    "on the safety of the child, the case should be considered inadequate.",
}


def collapse(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    return load_definition(
        DEFINITIONS / "early-intervention" / "v1.yaml", agency_kinds=AGENCY_KIND_CODES, merge_policies=set(POLICIES)
    )


def test_it_loads_under_its_id_with_the_75_25_policy(toolkit: Toolkit) -> None:
    assert (toolkit.id, toolkit.version, toolkit.merge_policy) == ("early-intervention", 1, "overall-75-25")
    assert isinstance(toolkit.source, str) and Path(toolkit.source).name == "000_1983c5479c4a3953.txt"


def test_the_scale_is_outstanding_1_to_inadequate_4(toolkit: Toolkit) -> None:
    assert [(g.value, g.label) for g in toolkit.scale.grades] == [
        (1, "Outstanding"),
        (2, "Good"),
        (3, "Adequate"),
        (4, "Inadequate"),
    ]
    assert toolkit.scale.grades[0].description == (
        "If every area of analysis on a case is consistently good or better, "
        "the case can be judged outstanding overall."
    )


def test_the_areas_of_analysis_are_graded_sections_in_the_seeds_order(toolkit: Toolkit) -> None:
    graded = [(s.id, s.title) for s in toolkit.sections if s.counts_towards_overall]
    assert graded == [(section_id, title) for section_id, title, _ in SEED_AREAS]
    assert all(s.judgement is not None for s in toolkit.sections if s.counts_towards_overall)


@pytest.mark.parametrize(("section_id", "title", "descriptors"), SEED_AREAS)
def test_each_area_holds_the_seeds_descriptors(
    toolkit: Toolkit, section_id: str, title: str, descriptors: dict[int, str]
) -> None:
    section = next(s for s in toolkit.sections if s.id == section_id)
    assert section.judgement is not None
    assert section.judgement.prompt == title
    for grade, text in descriptors.items():
        assert collapse(text) in collapse(section.judgement.descriptors[grade]), (section_id, grade)
    assert [q.kind for q in section.questions] == ["text"]


def test_the_page_break_continuation_is_joined_to_planning(toolkit: Toolkit) -> None:
    planning = next(s for s in toolkit.sections if s.id == "planning-and-implementing-plan")
    assert planning.judgement is not None
    for grade, text in CONTINUED.items():
        assert collapse(planning.judgement.descriptors[grade]).endswith(collapse(text))


def test_the_overall_rule_is_the_seeds(toolkit: Toolkit) -> None:
    assert toolkit.overall is not None
    for grade, text in OVERALL.items():
        assert collapse(text) in collapse(toolkit.overall.descriptors[grade])


def test_a_significant_failure_is_asked_and_raises_an_alert(toolkit: Toolkit) -> None:
    question = next(q for s in toolkit.sections for q in s.questions if q.id == "significant-failure-impacted-safety")
    assert question.text == "Is there a significant failure which has impacted on the safety of the child?"
    assert question.kind == "yes-no"
    assert question.alert is not None
    assert (question.alert.kind, question.alert.when) == ("significant-failure", ("yes",))
