"""Seed 000 (Early Intervention – grading guidance) is in the definition.

The tables below were written by reading the seed, row by row and cell by
cell: each area of analysis and what each grade looks like in it, and the
"Overall judgement" row, in the seed's words (not generated from the YAML).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.toolkits.seed_texts import collapse, definition_file, load_toolkit, section_of, texts_of, words_in_file
from toolkits.model import Toolkit

FILE = definition_file("early-intervention")

AREAS = [
    ("early-identification", "Early Identification"),
    ("assessment", "Assessment"),
    ("planning-and-implementing-plan", "Planning and Implementing Plan"),
    ("review", "Review"),
    ("management-oversight-and-recording", "Management Oversight and Recording"),
]

OUTSTANDING = (
    "If every area of analysis on a case is consistently good or better, the case can be judged outstanding overall."
)

# (section id, grade, the seed's cell text). Planning and Implementing Plan
# has two rows per grade: the first page's and the "(cont'd)" row after the
# page break; both are listed and both must be in the one descriptor.
DESCRIPTORS: list[tuple[str, int, str]] = [
    ("early-identification", 1, OUTSTANDING),
    (
        "early-identification",
        2,
        "The child's needs were identified accurately, included gathering of information on previous concerns or "
        "involvements and were identified in a timely way.",
    ),
    (
        "early-identification",
        3,
        "The child's needs were identified, awareness of previous concerns or involvements and there was no undue "
        "delay in identifying the child's needs.",
    ),
    (
        "early-identification",
        4,
        "The child's needs were not fully identified or without the benefit of knowledge of previous concerns or "
        "involvements or there was delay in identifying the child's needs.",
    ),
    (
        "assessment",
        2,
        "Appropriate to undertake a Common Assessment, the time was right, checks on whether a Common Assessment "
        "Framework (CAF) process was in place or known to children's social care were made and appropriate "
        "professionals involved. Assessment covers all Assessment Framework domains, details strengths and what "
        "needs to change, is child-centred and process fully involves child and parents. Clear evidence that any "
        "risks to the child were actively considered in the process. Parents (and child) gave agency specific "
        "consent to sharing information (over-ridden if necessary due to child protection concerns).",
    ),
    (
        "assessment",
        3,
        "Appropriate to undertake a Common Assessment, it was undertaken within a reasonable timescale, checks on "
        "whether a Common Assessment Framework (CAF) process was in place or known to children's social care were "
        "made and most relevant professionals involved. Assessment relates to Assessment Framework domains, details "
        "basic strengths and what needs to change, some indication that child and parent involved in process. "
        "Evidence that risks to the child were considered in the process. Parents (and child) gave agency specific "
        "consent to sharing information (over-ridden if necessary due to child protection concerns).",
    ),
    (
        "assessment",
        4,
        "A Common Assessment may not have been needed or higher level of involvement may have been needed; or delay "
        "in undertaking a Common Assessment or appropriate checks not made accurately; or some relevant "
        "professionals not involved. Some gaps in assessment or not all domains covered; lack of clarity about what "
        "needs to change or strengths not sufficiently included, assessment not child-centred or lack of indication "
        "that child and parent involved in process. No evidence that risks to the child were considered in the "
        "process or risks were overlooked. Consent given but general, not specific; or parent or child of "
        "appropriate age not asked for consent; or child protection concerns not passed on due to parent not giving "
        "consent.",
    ),
    (
        "planning-and-implementing-plan",
        2,
        "Action plan addresses needs identified in body of assessment, evidences good cross-borough working where "
        "needed, includes indicators for success, which are focused on impact on child/young person.",
    ),
    (
        "planning-and-implementing-plan",
        3,
        "Action plan addresses main needs identified in body of assessment, cross-borough working in place, some "
        "success indicators included; most but not all focus on impact on child.",
    ),
    (
        "planning-and-implementing-plan",
        4,
        "Gaps in how some of the identified needs will be met; cross-borough arrangements not working effectively; "
        "not all objectives include success indicators or they are not sufficiently focused on impact on child.",
    ),
    (
        "planning-and-implementing-plan",
        2,
        "Agency being audited is fulfilling its responsibilities effectively; lead professional in place and "
        "effective; Team Around Child in place and effective; any differences resolved; appropriate services in "
        "place and good partnership with family.",
    ),
    (
        "planning-and-implementing-plan",
        3,
        "Agency being audited is fulfilling its key responsibilities; lead professional in place; Team Around Child "
        "in place; any differences of view discussed; main services in place and engagement with family.",
    ),
    (
        "planning-and-implementing-plan",
        4,
        "Agency being audited is not fulfilling all its key responsibilities; lead professional not clear or in "
        "place but not effective; Team Around Child not clear or in place but not effective; differences of view "
        "not resolved; some key services not in place; or inadequate partnership with family.",
    ),
    (
        "review",
        2,
        "The plan is reviewed at regular intervals and actions evaluated and amended. Partners continue to engage "
        "and parental consent to sharing information is revisited at each review. The plan as reviewed continues to "
        "have a positive impact on safeguarding the child and promoting their welfare and the issues of risk is "
        "considered at each review.",
    ),
    (
        "review",
        3,
        "The plan is reviewed, and most actions evaluated and amended. Most partners continue to engage and parental "
        "consent to sharing information is usually revisited at each review. The plan as reviewed continues to "
        "safeguard the child and has some impact on promoting their welfare, and the child does not appear to be at "
        "risk.",
    ),
    (
        "review",
        4,
        "The plan is not or not regularly reviewed or some key actions not evaluated and amended. Some partners have "
        "not continued to engage. Parental consent to sharing information was sought at the outset but not "
        "revisited. Opportunity to safeguard child and promote their welfare is not being grasped. Risk to the child "
        "is not regularly reassessed.",
    ),
    (
        "management-oversight-and-recording",
        2,
        "The front-line worker is appropriately supported and directed. All records up-to-date and fit for purpose. "
        "Evidence of quality assurance activity on records.",
    ),
    (
        "management-oversight-and-recording",
        3,
        "The front-line worker receives some support and direction. All records mainly up-to-date and fit for "
        "purpose. Evidence of quality assurance activity on records.",
    ),
    (
        "management-oversight-and-recording",
        4,
        "The front-line worker does not receive sufficient support and direction. Gaps in records or not up-to-date "
        "or fit for purpose. Lack of evidence of quality assurance activity on records.",
    ),
]

# The seed's "Overall judgement" row.
OVERALL = {
    1: "The case can only be judged as outstanding overall if every area of analysis has been judged good or better.",
    2: "The case should be judged as good if at least 75% of the features above are evident; providing the child "
    "has been effectively safeguarded and their welfare promoted throughout the work.",
    3: "The case should be judged as adequate if at least 75% of the features above are evident (or better); "
    "providing the child has been safeguarded and their welfare generally promoted throughout the work. However, "
    "any significant failings will render the case inadequate.",
    4: "If 25% or more of the features above are evident, or if there is a significant failure which has impacted "
    "on the safety of the child, the case should be considered inadequate.",
}

# (section id, text as worded in the seed): every area, every descriptor, and
# the significant-failure clause the key question asks about.
SEED_TEXTS: list[tuple[str, str]] = [
    *AREAS,
    *[(section_id, text) for section_id, _, text in DESCRIPTORS],
    ("key-questions", "significant failure which has impacted on the safety of the child"),
]


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    return load_toolkit(FILE, check_merge_policy=True)


def test_it_loads_under_its_id_with_the_75_25_policy(toolkit: Toolkit) -> None:
    assert (toolkit.id, toolkit.version, toolkit.merge_policy) == ("early-intervention", 1, "overall-75-25")
    assert Path(toolkit.source).name == "000_1983c5479c4a3953.txt"


def test_the_scale_is_outstanding_1_to_inadequate_4(toolkit: Toolkit) -> None:
    assert toolkit.scale.id == "outstanding-good-adequate-inadequate"
    assert [(g.value, g.label) for g in toolkit.scale.grades] == [
        (1, "Outstanding"),
        (2, "Good"),
        (3, "Adequate"),
        (4, "Inadequate"),
    ]


@pytest.mark.parametrize(("section_id", "text"), SEED_TEXTS)
def test_every_seed_text_is_in_its_section(toolkit: Toolkit, section_id: str, text: str) -> None:
    section = section_of(toolkit, section_id)
    assert any(collapse(text) in collapse(shown) for shown in texts_of(section)), (section_id, text)


def test_the_areas_of_analysis_are_graded_agency_sections_in_the_seeds_order(toolkit: Toolkit) -> None:
    graded = [(s.id, s.title) for s in toolkit.sections if s.judgement is not None]
    assert graded == AREAS
    for section_id, title in AREAS:
        section = section_of(toolkit, section_id)
        assert section.completed_by == "agency" and section.counts_towards_overall
        assert section.judgement is not None and section.judgement.prompt == title
        # Somewhere to record what was found: a text box, evidence optional.
        assert [(q.kind, q.evidence) for q in section.questions] == [("text", "optional")]


@pytest.mark.parametrize(("section_id", "grade", "text"), DESCRIPTORS)
def test_each_descriptor_is_under_its_grade(toolkit: Toolkit, section_id: str, grade: int, text: str) -> None:
    judgement = section_of(toolkit, section_id).judgement
    assert judgement is not None
    assert collapse(text) in collapse(judgement.descriptors[grade])


@pytest.mark.parametrize(("section_id", "title"), AREAS)
def test_every_area_describes_good_adequate_and_inadequate(toolkit: Toolkit, section_id: str, title: str) -> None:
    judgement = section_of(toolkit, section_id).judgement
    assert judgement is not None
    assert {2, 3, 4} <= set(judgement.descriptors)
    assert all(judgement.descriptors[grade].strip() for grade in (2, 3, 4))


def test_the_outstanding_text_stands_where_the_seed_puts_it(toolkit: Toolkit) -> None:
    judgements = {s.id: s.judgement for s in toolkit.sections if s.judgement is not None}
    assert [sid for sid, j in judgements.items() if 1 in j.descriptors] == ["early-identification"]
    assert judgements["early-identification"].descriptors[1] == OUTSTANDING


def test_the_page_break_continuation_is_joined_to_planning_in_order(toolkit: Toolkit) -> None:
    judgement = section_of(toolkit, "planning-and-implementing-plan").judgement
    assert judgement is not None
    rows = [(grade, text) for sid, grade, text in DESCRIPTORS if sid == "planning-and-implementing-plan"]
    for grade in (2, 3, 4):
        first, continued = (collapse(text) for g, text in rows if g == grade)
        assert collapse(judgement.descriptors[grade]) == f"{first} {continued}"


def test_the_overall_rule_is_the_seeds(toolkit: Toolkit) -> None:
    assert toolkit.overall is not None
    assert {grade: collapse(text) for grade, text in toolkit.overall.descriptors.items()} == {
        grade: collapse(text) for grade, text in OVERALL.items()
    }


def test_a_significant_failure_is_asked_and_raises_an_alert(toolkit: Toolkit) -> None:
    section = section_of(toolkit, "key-questions")
    assert section.completed_by == "agency"
    assert not section.counts_towards_overall and section.judgement is None
    (question,) = section.questions
    assert question.text == "Is there a significant failure which has impacted on the safety of the child?"
    assert question.kind == "yes-no"
    assert question.alert is not None
    assert (question.alert.kind, question.alert.when) == ("significant-failure", ("yes",))
    assert question.alert.message.strip()


def test_nothing_the_seed_does_not_ask_is_added(toolkit: Toolkit) -> None:
    questions = [q for s in toolkit.sections for q in s.questions]
    assert not any(q.alert is not None and q.alert.kind == "child-not-safe" for q in questions)
    assert not any("currently safe" in q.text for q in questions)
    # The pack's contact information and partner logos are not content.
    words = ("Riverwalk", "Millbank", "SW1P", "younglondonmatters", "rightsline", "MAYOR OF LONDON")
    assert words_in_file(FILE, words) == []
