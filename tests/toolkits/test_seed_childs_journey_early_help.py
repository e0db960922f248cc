"""Seed 004 (Child’s Journey Audit – Early Help Ofsted Tool) is in the definition.

The table below was written by reading the seed, line by line: every field,
case detail, status tick, section, "What are you looking for?" question,
comments box, Yes / No check, judgement, feedback statement and table column,
in the seed's words (not generated from the YAML).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.toolkits.seed_texts import collapse, definition_file, load_toolkit, section_of, texts_of, words_in_file
from toolkits.model import Toolkit

FILE = definition_file("childs-journey-early-help")

EVALUATIVE_SUMMARY = (
    "Evaluative Summary (What Grading would you apply to this section? /What was good about this area? "
    "/What needs to improve?)"
)

# The seed's "Judgement:" block, printed in each of sections 1–7.
JUDGEMENT_BLOCK = {
    1: "Strong Consistent Evidence in all elements",
    2: "Evidence of all elements",
    3: "Evidence of most areas but some gaps or inconsistent",
    4: "No Evidence",
}

JUDGED = [
    ("vulnerability", "Vulnerability"),
    ("childs-experience", "The Child’s Experience"),
    ("quality-of-assessment", "Quality of Assessment"),
    ("quality-of-plan", "Quality of Plan"),
    ("review-process", "Evidence of Review Process"),
    ("management-oversight", "Management Oversight and Supervision"),
    ("multi-agency-coordination", "Multi-agency Coordination and Information Sharing"),
]

# (section id, text as worded in the seed).
SEED_TEXTS: list[tuple[str, str]] = [
    # The auditor's grid.
    ("audit-details", "Date of Audit:"),
    ("audit-details", "Name:"),
    ("audit-details", "Designation:"),
    ("audit-details", "Other parties undertaking this as a joint audit"),
    # Child's Details.
    ("childs-details", "Child’s Details"),
    ("childs-details", "Full name:"),
    ("childs-details", "Child/Young Person’s"),
    ("childs-details", "Ethnicity"),
    ("childs-details", "Identified Allocated workers:"),
    ("childs-details", "Child’s CF/ECINS ID:"),
    ("childs-details", "Language"),
    ("childs-details", "Responsible Team:"),
    ("childs-details", "Date of Birth:"),
    ("childs-details", "Religion"),
    ("childs-details", "Team Manager:"),
    ("childs-details", "Is the child or young person (tick as appropriate)"),
    ("childs-details", "Tick more than one if necessary e.g. disabled child and child protection"),
    ("childs-details", "Early Help"),
    ("childs-details", "Section 47"),
    ("childs-details", "SWA"),
    ("childs-details", "Child in need"),
    ("childs-details", "Subject to a Child Protection Plan?"),
    ("childs-details", "Looked After"),
    ("childs-details", "Care Leaver"),
    ("childs-details", "Child with SEND"),
    ("childs-details", "Has this case stepped down from statutory safeguarding to Early Help?"),
    ("childs-details", "state date of step down"),
    ("childs-details", "Has this case stepped up to statutory safeguarding from Early Help?"),
    ("childs-details", "state date of step up"),
    # 1. Vulnerability.
    (
        "vulnerability",
        "The auditor may prefer to answer Question 1 at then end of the audit once all documents have been seen",
    ),
    ("vulnerability", "1. Vulnerability"),
    ("vulnerability", "What are you looking for?"),
    (
        "vulnerability",
        "Are the children, young people or family vulnerable? What vulnerabilities have been identified and have "
        "services provided made a positive difference?",
    ),
    (
        "vulnerability",
        "This section relates to the identification, assessment and management of vulnerability and, crucially, "
        "whether the child and family are less vulnerable as a result of the interventions.",
    ),
    ("vulnerability", "Comments on Risk:"),
    # 2. The Child's Experience.
    ("childs-experience", "2. The Child’s Experience"),
    ("childs-experience", "What are you looking for?"),
    ("childs-experience", "Is work child-centred?"),
    ("childs-experience", "Has the child’s lived experience been put at the centre? Do children feel safe?"),
    (
        "childs-experience",
        "Do ethnic, cultural and diversity factors inform interventions and are family members consulted?",
    ),
    (
        "childs-experience",
        "Is there evidence of effective direct work leading to sustained changes for this child and their family?",
    ),
    (
        "childs-experience",
        "Are children seen and seen alone? Are they and their family appropriately involved in meetings about them "
        "(such as children in need meetings, core groups, and child protection conferences)?",
    ),
    (
        "childs-experience",
        "Has the child been consulted about key events and spoken to about their experience of daily life, in a way "
        "that is engaging and appropriate to their age and understanding?",
    ),
    (
        "childs-experience",
        "Is there evidence that the child’s views are responded to by the social worker and taken into account?",
    ),
    ("childs-experience", "Comments on the Child’s Experience:"),
    # 3. Quality of Assessment.
    ("quality-of-assessment", "3. Quality of Assessment"),
    (
        "quality-of-assessment",
        "Are assessments timely, comprehensive and analytical, and do they lead to appropriately focused help and "
        "effective interventions?",
    ),
    (
        "quality-of-assessment",
        "Do they incorporate historical factors and are they informed by a current case chronology?",
    ),
    ("quality-of-assessment", "Do they consider factors of identity, ethnicity and diversity?"),
    (
        "quality-of-assessment",
        "Does analysis clearly identify the main risks and protective factors and outline what needs to change to "
        "make things better?",
    ),
    ("quality-of-assessment", "Are children, young people and families appropriately involved in the assessment?"),
    ("quality-of-assessment", "Is there evidence of theory, research or evidence based tools being utilised?"),
    ("quality-of-assessment", "Comments on Quality of Assessment"),
    (
        "quality-of-assessment",
        "Does the assessment reflect an understanding of the cultural and religious heritage of the family?",
    ),
    (
        "quality-of-assessment",
        "Does the assessment recognise and build upon the strengths and resilience of the family?",
    ),
    (
        "quality-of-assessment",
        "Does the assessment reflect an understanding of the needs of any disability or learning need within the "
        "family?",
    ),
    # 4. Quality of Plan.
    ("quality-of-plan", "4. Quality of Plan"),
    ("quality-of-plan", "What are you looking for?"),
    (
        "quality-of-plan",
        "Are plans and planning timely and effective and has potential for making things better within a time frame "
        "that is right for the child?",
    ),
    (
        "quality-of-plan",
        "Are all relevant family members, including children, and agencies involved in shaping and delivering plans?",
    ),
    (
        "quality-of-plan",
        "Are actions well-coordinated between different plans in place at the same time (for example, Early Help "
        "plans, child protection plans and MARAC)?",
    ),
    (
        "quality-of-plan",
        "Are all needs identified in the assessment addressed in the plan? Does the plan take into account the "
        "impact of diversity?",
    ),
    (
        "quality-of-plan",
        "Does the plan have outcomes which have clear timescales and the plan is up to date?",
    ),
    ("quality-of-plan", "Comments on Quality of Plan:"),
    ("quality-of-plan", "Does the plan include SMART targets with desired outcomes clearly identified?"),
    # 5. Evidence of Review Process.
    ("review-process", "5. Evidence of Review Process"),
    ("review-process", "What are you looking for?"),
    ("review-process", "Do children benefit from regular and timely reviews?"),
    (
        "review-process",
        "Are they, their family and carers helped to participate in their reviews and do their views influence "
        "decisions made? Does the review process ensure plans are appropriate and that any drift or delay is "
        "identified and challenged and progress clearly noted?",
    ),
    (
        "review-process",
        "Are reviews multi-agency with partners being fully participative? Is there clear scrutiny from the "
        "Reviewing Officer/CP Chair?",
    ),
    ("review-process", "Comments on Review:"),
    # 6. Management Oversight and Supervision.
    ("management-oversight", "6. Management Oversight and Supervision"),
    ("management-oversight", "What are you looking for?"),
    ("management-oversight", "Are management oversight and decision making effective?"),
    (
        "management-oversight",
        "Is there evidence that timely management action is resulting in improved outcomes for this child and family?",
    ),
    (
        "management-oversight",
        "Is supervision regular, of good quality and reflective? Is it making a positive difference for this child "
        "and family?",
    ),
    (
        "management-oversight",
        "Is recording clear, comprehensive, reflective of work undertaken and focused on the experience and progress "
        "of the child and family?",
    ),
    ("management-oversight", "Comments on Management Oversight and Supervision:"),
    (
        "management-oversight",
        "Is supervision taking place in line with the frequency identified in the supervision policy? (e.g. case "
        "discussed once every two months as a minimum)",
    ),
    # 7. Multi-agency Coordination and Information Sharing.
    ("multi-agency-coordination", "7. Multi-agency Coordination and Information Sharing"),
    ("multi-agency-coordination", "What are you looking for?"),
    ("multi-agency-coordination", "Is coordination between agencies effective?"),
    ("multi-agency-coordination", "Is consent for information-sharing well considered?"),
    (
        "multi-agency-coordination",
        "Is joint work and information-sharing improving outcomes for this child and family?",
    ),
    (
        "multi-agency-coordination",
        "Do the right agencies attend meetings such as strategy discussions, CP conferences, Early Help Partnership "
        "meetings and looked after children reviews?",
    ),
    ("multi-agency-coordination", "Comments on Multi-agency Coordination:"),
    # Every judged section: the Judgement block and the Evaluative Summary.
    *[(section_id, EVALUATIVE_SUMMARY) for section_id, _ in JUDGED],
    *[(section_id, text) for section_id, _ in JUDGED for text in JUDGEMENT_BLOCK.values()],
    # After section 7.
    ("casework-interventions", "Overall are casework interventions evidence-informed and outcome-focussed?"),
    # Service User Feedback.
    ("service-user-feedback", "Service User Feedback"),
    ("service-user-feedback", "please ensure you have spoken with the service user/family"),
    ("service-user-feedback", "Spoken to:"),
    ("service-user-feedback", "Date:"),
    ("service-user-feedback", "I feel listened to"),
    ("service-user-feedback", "I feel understood"),
    ("service-user-feedback", "I feel my situation has improved"),
    ("service-user-feedback", "“Worker’s” involvement has been important"),
    ("service-user-feedback", "I feel safer/more in control of my life since working with “worker”"),
    ("service-user-feedback", "My allocated worker was on time"),
    ("service-user-feedback", "Any other comments/key points of discussion"),
    # Key learning, remedial actions, escalation.
    (
        "key-learning",
        "Key Learning: (Please note anything that particularly stands out about good practice or area for development)",
    ),
    (
        "remedial-actions",
        "Please note any required remedial actions to be undertaken by the Case manager or Team manager",
    ),
    ("remedial-actions", "Action"),
    ("remedial-actions", "Who / When"),
    ("remedial-actions", "Case to be Escalated to Service Manager"),
    (
        "remedial-actions",
        "Ensure the case manager/team manager feedbacks regarding these actions to the QA lead as soon as completed",
    ),
]

# The feedback statements and the answers the seed pairs with each.
FEEDBACK_KINDS = {
    "I feel listened to": "yes-sometimes-no",
    "I feel understood": "yes-sometimes-no",
    "I feel my situation has improved": "yes-partly-no",
    "“Worker’s” involvement has been important": "yes-partly-no",
    "I feel safer/more in control of my life since working with “worker”": "yes-sometimes-no",
    "My allocated worker was on time": "always-sometimes-never",
}

# The seed's Yes / No checks.
YES_NO = {
    "quality-of-assessment": [
        "Does the assessment reflect an understanding of the cultural and religious heritage of the family?",
        "Does the assessment recognise and build upon the strengths and resilience of the family?",
        "Does the assessment reflect an understanding of the needs of any disability or learning need within the "
        "family?",
    ],
    "quality-of-plan": ["Does the plan include SMART targets with desired outcomes clearly identified?"],
    "management-oversight": [
        "Is supervision taking place in line with the frequency identified in the supervision policy? (e.g. case "
        "discussed once every two months as a minimum)"
    ],
    "casework-interventions": ["Overall are casework interventions evidence-informed and outcome-focussed?"],
}

STATUS_TICKS = [
    "Early Help",
    "Section 47",
    "SWA",
    "Child in need",
    "Subject to a Child Protection Plan?",
    "Looked After",
    "Care Leaver",
    "Child with SEND",
]

SECTION_ORDER = [
    "audit-details",
    "childs-details",
    *[section_id for section_id, _ in JUDGED],
    "casework-interventions",
    "service-user-feedback",
    "key-learning",
    "remedial-actions",
]


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    return load_toolkit(FILE, check_merge_policy=True)


def test_it_loads_under_its_id_with_the_median_policy(toolkit: Toolkit) -> None:
    assert (toolkit.id, toolkit.version, toolkit.merge_policy) == ("childs-journey-early-help", 1, "median")
    assert Path(toolkit.source).name == "004_58a31157d765692b.txt"
    assert toolkit.title == "Child’s Journey Audit – Early Help Ofsted Tool"
    assert toolkit.audit_period_guidance is not None
    assert collapse(toolkit.audit_period_guidance) == (
        "It is suggested that this audit is focused on the most recent 6 month period, or current episode of "
        "involvement. The chronology will provide the historical context."
    )


def test_the_scale_is_the_seeds_judgement_block(toolkit: Toolkit) -> None:
    assert toolkit.scale.id == "outstanding-good-ri-inadequate"
    assert [(g.value, g.label, g.description) for g in toolkit.scale.grades] == [
        (1, "Outstanding", "Strong Consistent Evidence in all elements"),
        (2, "Good", "Evidence of all elements"),
        (3, "Requires Improvement", "Evidence of most areas but some gaps or inconsistent"),
        (4, "Inadequate", "No Evidence"),
    ]


def test_sections_are_in_the_seeds_order(toolkit: Toolkit) -> None:
    assert [s.id for s in toolkit.sections] == SECTION_ORDER


@pytest.mark.parametrize(("section_id", "text"), SEED_TEXTS)
def test_every_seed_text_is_in_its_section(toolkit: Toolkit, section_id: str, text: str) -> None:
    section = section_of(toolkit, section_id)
    assert any(collapse(text) in collapse(shown) for shown in texts_of(section)), (section_id, text)


def test_the_childs_details_are_filled_in_once_by_the_coordinator(toolkit: Toolkit) -> None:
    coordinator = [s.id for s in toolkit.sections if s.completed_by == "coordinator"]
    assert coordinator == ["childs-details"]
    section = section_of(toolkit, "childs-details")
    assert section.judgement is None
    kinds = {q.id: q.kind for q in section.questions}
    assert kinds["child-name"] == "text"
    assert kinds["date-of-birth"] == "date"
    assert (kinds["stepped-down"], kinds["step-down-date"]) == ("yes-no", "date")
    assert (kinds["stepped-up"], kinds["step-up-date"]) == ("yes-no", "date")


def test_the_status_ticks_are_one_multiple_choice_of_the_seeds_eight(toolkit: Toolkit) -> None:
    question = next(q for q in section_of(toolkit, "childs-details").questions if q.id == "child-status")
    assert question.kind == "multiple-choice"
    assert [c.label for c in question.choices] == STATUS_TICKS


def test_the_audit_details_are_not_graded(toolkit: Toolkit) -> None:
    section = section_of(toolkit, "audit-details")
    assert section.completed_by == "agency"
    assert not section.counts_towards_overall and section.judgement is None
    kinds = {q.text: q.kind for q in section.questions}
    assert kinds["Date of Audit:"] == "date"
    joint = next(q for q in section.questions if "joint audit" in q.text)
    assert not joint.required


@pytest.mark.parametrize(("section_id", "title"), JUDGED)
def test_the_seven_sections_are_judged_with_the_seeds_block(toolkit: Toolkit, section_id: str, title: str) -> None:
    section = section_of(toolkit, section_id)
    assert section.completed_by == "agency" and section.counts_towards_overall
    assert title in section.title
    assert section.guidance
    assert section.judgement is not None
    assert collapse(section.judgement.prompt) == collapse(EVALUATIVE_SUMMARY)
    assert section.judgement.descriptors == JUDGEMENT_BLOCK
    # The "Comments on …" box comes first, as a text question.
    assert section.questions[0].kind == "text"
    assert section.questions[0].text.startswith("Comments on ")


def test_only_the_seven_sections_count_towards_the_overall_judgement(toolkit: Toolkit) -> None:
    assert [s.id for s in toolkit.sections if s.judgement is not None] == [sid for sid, _ in JUDGED]
    assert toolkit.overall is not None
    assert "Overall Judgement for Case File Audit" in toolkit.overall.prompt


@pytest.mark.parametrize(("section_id", "texts"), YES_NO.items())
def test_the_checks_are_yes_no(toolkit: Toolkit, section_id: str, texts: list[str]) -> None:
    asked = {collapse(q.text): q.kind for q in section_of(toolkit, section_id).questions}
    for text in texts:
        assert asked[collapse(text)] == "yes-no"


def test_the_feedback_statements_take_the_answers_the_seed_pairs_them_with(toolkit: Toolkit) -> None:
    section = section_of(toolkit, "service-user-feedback")
    kinds = {q.text: q.kind for q in section.questions}
    assert {text: kinds[text] for text in FEEDBACK_KINDS} == FEEDBACK_KINDS
    assert kinds["Spoken to:"] == "text" and kinds["Date:"] == "date"
    assert kinds["Any other comments/key points of discussion"] == "text"


def test_remedial_actions_are_rows_of_action_and_who_when(toolkit: Toolkit) -> None:
    question = next(q for q in section_of(toolkit, "remedial-actions").questions if q.kind == "rows")
    assert [(c.id, c.label) for c in question.columns] == [("action", "Action"), ("who-when", "Who / When")]


def test_escalation_to_the_service_manager_raises_an_alert(toolkit: Toolkit) -> None:
    question = next(q for s in toolkit.sections for q in s.questions if "Escalated to Service Manager" in q.text)
    assert question.kind == "yes-no"
    assert question.alert is not None
    assert (question.alert.kind, question.alert.when) == ("escalation", ("yes",))
    assert question.alert.message.strip()
    alerts = [q.id for s in toolkit.sections for q in s.questions if q.alert is not None]
    assert alerts == [question.id]


def test_no_personal_names_or_addresses_are_copied() -> None:
    assert words_in_file(FILE, ("Siobhan", "Hughes", "Pippa", "Murphy", "shropshire", "@")) == []
