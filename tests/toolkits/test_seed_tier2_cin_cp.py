"""Seed 002 (Tier 2 (Full) Case File Audit Toolkit (CIN & CP)) is all in its toolkit.

The tables below were written by reading ``seeds/002_348f3f06817554d8.txt``
cell by cell, not from the definition. The seed's grid is "Details | Pick
from list | Comments / Evidence"; beside most items there is a comments box
("Click here to enter text.", or "Please state why:" and a box), beside a few
there is none. "All comments boxes must be completed", so every box is a
required comment.

Texts are compared after collapsing whitespace; the form's placeholders
("Choose an item.", "Click here to enter text.", "|_|") are not content. The
few places where extraction noise had to be fixed are marked.
"""

from __future__ import annotations

import pytest

from agencies.applicability import Participant, applicable_sections
from agencies.kinds import AGENCY_KIND_CODES
from tests.toolkits.seed_texts import collapse, definition_file, load_toolkit, section_of, section_texts
from toolkits.checks import check_toolkit
from toolkits.model import Question, Section, Toolkit

FILE = definition_file("tier2-cin-cp")

WHY = "Please state why:"
BOX = "Comments / Evidence"

# Sections 1–7: (section id, the section's heading in the seed).
SEED_SECTIONS: tuple[tuple[str, str], ...] = (
    ("childs-details", "Section 1: Child’s details, Chronology & Case Summary"),
    ("referral", "Section 2: Referral Process and application of thresholds"),
    ("assessment", "Section 3: Assessment"),
    ("analysis", "Section 4: Analysis"),
    ("plan-outcome", "Section 5: Plan & Outcome"),
    ("monitoring-oversight", "Section 6: Monitoring and management oversight"),
    ("general-observations", "Section 7: General Observations"),
)

# Every item of sections 1–7: (section id, the item as worded in the seed,
# its comments box: None if the seed has no box beside it, else the box's
# label — "Comments / Evidence" (the column) or "Please state why:").
SEED_ITEMS: tuple[tuple[str, str, str | None], ...] = (
    # Section 1
    (
        "childs-details",
        "Child’s details are complete, including parental responsibility and other agency details",
        BOX,
    ),
    ("childs-details", "Chronology is up to date, concise and clearly records significant events", BOX),
    ("childs-details", "Case summary (presence and quality)", BOX),
    # Section 2
    ("referral", "Quality of information provided and subsequent interrogation", BOX),
    ("referral", "Involvement of partner agencies and impact on the referral process", BOX),
    ("referral", "Contact with referrer (including notification of outcome)", BOX),
    ("referral", "Appropriate consents", None),
    (
        "referral",
        "Effectiveness of MASH / CART appropriately assessing the risk factors and/or unmet needs, including "
        "consideration of relevant historical information",
        BOX,
    ),
    ("referral", "Thresholds are appropriately applied, against the CON", None),
    ("referral", "Early help support identified", None),
    (
        "referral",
        "Procedural compliance, including appropriate statutory timescales (reference to child seen, strategy "
        "discussions, s47, ICPC & screening for CSE)",
        BOX,
    ),
    (
        "referral",
        "If CP, quality of strategy meeting minutes and Section 47 enquiry - record of the event, discussions, "
        "analysis and list of actions.",
        WHY,
    ),
    # Section 3
    ("assessment", "Date of last assessment", BOX),
    ("assessment", "Is a copy of the assessment available?", BOX),
    (
        "assessment",
        "Is the assessment current i.e. within last year or following significant event / trigger point",
        BOX,
    ),
    ("assessment", "Reasons for assessment evident", BOX),
    # Seed: broken over two lines before the bracket.
    ("assessment", "Appropriateness of timescales/checkpoints (10 day checkpoint & completion within 45 days)", BOX),
    ("assessment", "Quality and robustness of information gathering clinical and actuarial", BOX),
    ("assessment", "Has the risk framework been used", BOX),
    ("assessment", "Quality of risk and need assessments and impact on child", BOX),
    (
        "assessment",
        "Consideration and impact of age, disability, ethnicity, faith/belief and other protected characteristics "
        "(consider all areas)",
        BOX,
    ),
    (
        "assessment",
        "Child’s wishes and feelings are known and taken into account (for very young children, or those with "
        "communication difficulties observations are recorded)",
        BOX,
    ),
    (
        "assessment",
        "Involvement of relevant parties in the assessment process (including absent parents and fathers)",
        BOX,
    ),
    (
        "assessment",
        "Involvement of partner agencies and extent to which their information contributed to the assessment",
        BOX,
    ),
    (
        "assessment",
        "If specialist assessments were commissioned, the extent to which they contributed to the assessment",
        WHY,
    ),
    ("assessment", "Has a copy of the Assessment been shared with parents and, if appropriate, the child?", BOX),
    ("assessment", "Has there been previous concerns/interventions in respect of CSE?", BOX),
    ("assessment", "If YES: Reflection of previous CSE concerns within the current assessment", BOX),
    ("assessment", "If YES: Quality of the CSE risk assessment", BOX),
    ("assessment", "Has there been previous concerns/interventions in respect of MFH?", BOX),
    ("assessment", "If YES: Reflection of previous MFH incidents within the current assessment", BOX),
    ("assessment", "If YES: Compliance with MFH procedures", BOX),
    # Section 4
    ("analysis", "Interrogation of assessment information to inform analysis and decision making", BOX),
    (
        "analysis",
        "Quality of statements in relation to child’s unmet needs, parenting deficits and environmental issues",
        BOX,
    ),
    (
        "analysis",
        # Seed: "resilience factors ,capacity".
        "Evidence of a hypothesis that reflects upon high and underlying risk factors, resilience factors, capacity "
        "to change and use of research",
        BOX,
    ),
    ("analysis", "Appropriate analysis of sibling groups, where appropriate", BOX),
    # Section 5. Beside "Does a plan exist?" the seed asks "Date of last
    # plan:" instead of a comments box.
    ("plan-outcome", "Does a plan exist?", None),
    (
        "plan-outcome",
        "Currency of plan (plans and reviews completed within statutory timescale and/or at points of significant "
        "change)",
        BOX,
    ),
    (
        "plan-outcome",
        "The extent to which the voice of the child and their family is clearly reflected in the plan",
        BOX,
    ),
    ("plan-outcome", "Quality and appropriateness of the plan including the SMART-ness of the objectives", BOX),
    ("plan-outcome", "Links between the assessment, analysis and the plan", BOX),
    ("plan-outcome", "Plan reflect options around permanency", BOX),
    (
        "plan-outcome",
        "Quality of core groups, review meetings and minutes, including evidencing progress and informing new plans",
        BOX,
    ),
    (
        "plan-outcome",
        "The extent to which our interventions have improved outcomes (please specify reasons in Comments box – "
        "consider Education, Health and general)",
        BOX,
    ),
    ("plan-outcome", "For CwD has a referral been made to Adult Social Care (17+)", BOX),
    # Section 6
    ("monitoring-oversight", "Impact of the voice of the child and their family on the service received", BOX),
    (
        "monitoring-oversight",
        "Contact with child, seen regularly and has meaningful relationship with social worker.  If not seen alone "
        "reasons detailed in case file. Details of direct work",
        BOX,
    ),
    (
        "monitoring-oversight",
        "Home conditions clear (including bedroom seen appropriately – not required in some CwD/CIN cases)",
        WHY,
    ),
    ("monitoring-oversight", "Statutory compliance – include statutory visits, reviews, minutes & plans", BOX),
    (
        "monitoring-oversight",
        "Appropriate management oversight and timely decision making and challenge by supervising officer, including "
        "through supervision",
        BOX,
    ),
    ("monitoring-oversight", "Appropriate challenge by IRO", BOX),
    (
        "monitoring-oversight",
        "Decision making in relation to the case is clear, with all relevant approvals in place including plans and "
        "assessments",
        BOX,
    ),
    # Section 7
    ("general-observations", "Threshold for intervention is appropriate and proportionate to the needs and risks", BOX),
    ("general-observations", "Quality/appropriateness of actions taken and outcomes achieved", BOX),
    ("general-observations", "Case recording – appropriateness, level, content", BOX),
    (
        "general-observations",
        # Seed: "e.g. CSC   EH and CSE   CSC" — the symbol between the services
        # (an arrow) was lost in extraction.
        "Quality of any step-up/step-down analysis and decisions making e.g. CSC → EH and CSE → CSC",
        BOX,
    ),
    (
        "general-observations",
        "How well is the voice of the child evident overall, and how much impact has it had?",
        BOX,
    ),
)

# The sections' summary judgements: (section id, prompt, label of its box).
# Sections 1 and 7 have none.
SEED_SUMMARIES: tuple[tuple[str, str, str], ...] = (
    ("referral", "Summary – what is your overall judgement in respect of the referral?", WHY),
    ("assessment", "Summary – what is your overall judgement in respect of the assessment?", WHY),
    ("analysis", "Summary – what is your overall judgement in respect of analysis?", WHY),
    ("plan-outcome", "Summary – what is your overall judgement in respect of outcome?", WHY),
    ("monitoring-oversight", "Summary views of monitoring and managerial oversight", BOX),
)

# Everything else the seed asks or says, outside the grades and the notes:
# (section id, text).
SEED_OTHER_TEXTS: tuple[tuple[str, str], ...] = (
    # The header grid
    ("auditor", "Date:"),
    ("auditor", "Auditor (name):"),
    ("header", "Current allocated social worker:"),
    ("header", "Current team:"),
    ("header", "Case ID:"),
    ("header", "Case type CP/CIN/CwD"),
    ("header", "State Legal status"),
    ("header", "Subject to PLO"),
    ("header", "Locality"),
    ("header", "D.O.B"),
    # Section 5: beside "Does a plan exist?"
    ("plan-outcome", "Date of last plan:"),
    # After section 7
    ("overview", "General overview / comments:"),
    (
        "overview",
        "If relevant, include here where individual judgements may not appear to align with the overall judgement. "
        "Highlight any good practice that could be shared.",
    ),
    ("overview", "ARE THERE ANY IMPROVEMENTS SEEN WITHIN THIS CASE FILE WITHIN THE LAST 3 TO 6 MONTHS?"),
    (
        "overview",
        "Please can you state what these are, for example, case summaries, chronologies, voice of the child, better "
        "analysis of risk, multi-agency working etc.",
    ),
    ("overview", "Parents / carers views:"),
    (
        "overview",
        "Please refer to separate guidance document if this case is selected for obtaining parents / carers views",
    ),
    ("overview", "JUDGEMENT OF CASE FILE IN THE LAST 3 MONTHS"),
    (
        "ofsted-suitability",
        "Good for Ofsted: If this case would be suitable for an Ofsted inspector to demonstrate good outcomes and/or "
        "involvement, please tick here",
    ),
    (
        "remedial",
        "Please state any remedial actions you recommend for this case - these will be passed to the Supervising "
        "Manager and reviewed during supervision, and monitored by the Audit Team:",
    ),
    ("remedial", "To be completed by auditor"),
    ("remedial", "To be completed during supervision"),
    ("remedial", "Action"),
    ("remedial", "Who?"),
    ("remedial", "Timescales"),
    ("remedial", "Date reviewed"),
    ("remedial", "Completed/Comments"),
    ("remedial", "Initials"),
)

# "Case File Grading (Ofsted Key Judgements)": (value, label, the
# description's sentences).
SEED_GRADES: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "Outstanding",
        (
            "In addition to meeting the requirements of a ‘good’ judgement, there is evidence that professional "
            "practice exceeds the standard of good and results in sustained improvement to the lives of children, "
            "young people and families.",
            "Research-informed practice, some of which will be innovative, continues to develop from a strong and "
            "confident base, making an exceptional difference to the lives and experiences of children and young "
            "people.",
        ),
    ),
    (
        2,
        # Seed: "Good - (Use Detailed Audit Guide as the benchmark for what good looks like)"
        "Good",
        (
            "(Use Detailed Audit Guide as the benchmark for what good looks like)",
            "Children and young people who are, or who are likely to be, at risk of harm or who are the subject of "
            "concern are identified and protected.",
            "Help is provided early in the emergence of a problem and is well coordinated and recorded through "
            "multi-agency arrangements.",
            "Records of action and decisions are clear and up to date.",
            "Children and young people are listened to and heard.",
            "Social workers build effective relationships with them and their families in order to assess the "
            "likelihood of, and capacity for, change.",
            "Risk is well understood, managed and regularly reviewed.",
            "Children and young people experience timely and effective multi-agency help and protection through "
            "risk-based assessment, authoritative practice, planning and review that secures change.",
        ),
    ),
    (
        3,
        "Requires Improvement",
        (
            "Not meeting all good grades, but there are no widespread or serious failures that create or leave "
            "children being harmed or at risk of harm.",
            "Assessments should be timely with risk and protective factors identified and action taken to safeguard "
            "children.",
            "Risk and protective factors are identified.",
            "Conclusions flow from analysis and findings in relation to significant harm are clear.",
            "All statutory case file requirements are met.",
            "However, the case file is not yet at a Good standard and does not provide sufficient assurance that we "
            "are delivering good protection, help and care for children, young people and families.",
        ),
    ),
    (
        4,
        "Inadequate",
        (
            "The file does not demonstrate a suitable level of assurance.",
            "There are, or appear to be, widespread failures or serious failures that leave children harmed or at "
            "risk of harm.",
            "Response to referrals is not timely or effective, Section 47 investigations insufficiently planned, poor "
            "quality assessments, insufficient involvement of family and children and poor managerial oversight.",
            "Case file is not able to evidence compliance with statutory requirements.",
        ),
    ),
)

SEED_NOTES = (
    "All comments boxes must be completed – there must be sufficient information to evidence the grades and inform "
    "improved practice or comment on good practice.",
    "If there are immediate concerns the manager must be notified.",
    "The child must always be at the centre of the audit.",
    "What is the child’s journey?",
    "Does the child have a voice?",
)

SEED_AUDIT_PERIOD = (
    "Notes: in most cases an audit of the last 18 months would be appropriate. Where there has been a significant "
    "event that pre-dates this, for example a CP plan, it would be beneficial to include that time period."
)

# Items the seed words as closed questions: answered yes or no, not graded.
YES_NO_ITEMS = (
    "Is a copy of the assessment available?",
    "Is the assessment current i.e. within last year or following significant event / trigger point",
    "Has the risk framework been used",
    "Has a copy of the Assessment been shared with parents and, if appropriate, the child?",
    "Has there been previous concerns/interventions in respect of CSE?",
    "Has there been previous concerns/interventions in respect of MFH?",
    "Does a plan exist?",
    "For CwD has a referral been made to Adult Social Care (17+)",
)

# Items that apply only in some cases, so need not be answered.
CONDITIONAL_ITEMS = (
    "If CP, quality of strategy meeting minutes and Section 47 enquiry - record of the event, discussions, analysis "
    "and list of actions.",
    "If specialist assessments were commissioned, the extent to which they contributed to the assessment",
    "If YES: Reflection of previous CSE concerns within the current assessment",
    "If YES: Quality of the CSE risk assessment",
    "If YES: Reflection of previous MFH incidents within the current assessment",
    "If YES: Compliance with MFH procedures",
    "For CwD has a referral been made to Adult Social Care (17+)",
)


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    return load_toolkit(FILE)


def question_of(section: Section, text: str) -> Question:
    found = [q for q in section.questions if collapse(q.text) == collapse(text)]
    assert len(found) == 1, f"{text!r} is not (once) a question of {section.id!r}"
    return found[0]


def test_the_definition_loads_with_no_problems(toolkit: Toolkit) -> None:
    assert toolkit.id == "tier2-cin-cp"
    assert toolkit.version == 1
    assert toolkit.source == "002_348f3f06817554d8.txt"
    assert toolkit.merge_policy == "weakest-link"
    assert toolkit.title == "Tier 2 (Full) Case File Audit Toolkit (CIN & CP)"
    assert check_toolkit(toolkit, agency_kinds=AGENCY_KIND_CODES, merge_policies={"weakest-link"}) == []


def test_sections_are_in_the_seeds_order(toolkit: Toolkit) -> None:
    assert [s.id for s in toolkit.sections] == [
        "auditor",
        "header",
        *(section_id for section_id, _ in SEED_SECTIONS),
        "overview",
        "ofsted-suitability",
        "remedial",
        # Not a section of the seed: its notes' "If there are immediate
        # concerns the manager must be notified", asked last.
        "key-question",
    ]
    for section_id, heading in SEED_SECTIONS:
        assert section_of(toolkit, section_id).title == heading


@pytest.mark.parametrize(("section_id", "text", "box"), SEED_ITEMS, ids=lambda v: str(v)[:50])
def test_every_item_is_in_its_section(toolkit: Toolkit, section_id: str, text: str, box: str | None) -> None:
    section = section_of(toolkit, section_id)
    assert collapse(text) in section_texts(section, with_labels=True)
    question_of(section, text)


@pytest.mark.parametrize(("section_id", "text", "box"), SEED_ITEMS, ids=lambda v: str(v)[:50])
def test_every_comments_box_must_be_completed(toolkit: Toolkit, section_id: str, text: str, box: str | None) -> None:
    section = section_of(toolkit, section_id)
    question = question_of(section, text)
    if box is None:
        assert question.comments == "optional"
    else:
        assert question.comments == "required"
        assert (question.comments_label or section.comments_label) == box


@pytest.mark.parametrize(("section_id", "text", "box"), SEED_ITEMS, ids=lambda v: str(v)[:50])
def test_items_are_picked_from_the_list(toolkit: Toolkit, section_id: str, text: str, box: str | None) -> None:
    question = question_of(section_of(toolkit, section_id), text)
    if text == "Date of last assessment":
        assert question.kind == "date"
    elif text in YES_NO_ITEMS:
        assert question.kind == "yes-no"
    else:
        assert question.kind == "grade"
    assert question.required == (text not in CONDITIONAL_ITEMS)


def test_no_question_beyond_the_seeds_items(toolkit: Toolkit) -> None:
    for section_id, _ in SEED_SECTIONS:
        expected = [collapse(text) for sid, text, _ in SEED_ITEMS if sid == section_id]
        if section_id == "plan-outcome":
            expected.insert(1, "Date of last plan:")
        assert [collapse(q.text) for q in section_of(toolkit, section_id).questions] == expected


@pytest.mark.parametrize(("section_id", "text"), SEED_OTHER_TEXTS, ids=lambda v: str(v)[:50])
def test_every_other_text_is_in_its_section(toolkit: Toolkit, section_id: str, text: str) -> None:
    assert collapse(text) in section_texts(section_of(toolkit, section_id), with_labels=True)


@pytest.mark.parametrize(("section_id", "prompt", "box"), SEED_SUMMARIES)
def test_section_summaries_are_the_sections_judgements(
    toolkit: Toolkit, section_id: str, prompt: str, box: str
) -> None:
    section = section_of(toolkit, section_id)
    assert collapse(prompt) in section_texts(section, with_labels=True)
    assert section.judgement is not None
    assert section.judgement.prompt == prompt
    assert section.judgement.impact_label == box
    assert section.judgement.impact_required
    assert section.counts_towards_overall


def test_sections_1_to_7_use_the_seeds_grid(toolkit: Toolkit) -> None:
    judged = {section_id for section_id, _, _ in SEED_SUMMARIES}
    for section_id, _ in SEED_SECTIONS:
        section = section_of(toolkit, section_id)
        assert section.completed_by == "agency"
        assert section.comments_label == BOX
        assert (section.judgement is not None) == (section_id in judged)


def test_the_scale_is_ofsteds_with_the_seeds_descriptions(toolkit: Toolkit) -> None:
    assert toolkit.scale.id == "ofsted"
    assert [(g.value, g.label) for g in toolkit.scale.grades] == [(value, label) for value, label, _ in SEED_GRADES]
    for grade, (_, _, sentences) in zip(toolkit.scale.grades, SEED_GRADES, strict=True):
        assert grade.description is not None
        for sentence in sentences:
            assert collapse(sentence) in collapse(grade.description)


def test_notes_for_auditor_and_audit_period(toolkit: Toolkit) -> None:
    assert toolkit.introduction is not None
    for sentence in SEED_NOTES:
        assert sentence in collapse(toolkit.introduction)
    assert toolkit.audit_period_guidance is not None
    assert collapse(toolkit.audit_period_guidance) == SEED_AUDIT_PERIOD


def test_the_header_is_given_by_the_coordinator(toolkit: Toolkit) -> None:
    header = section_of(toolkit, "header")
    assert header.completed_by == "coordinator"
    assert header.judgement is None
    kinds = {q.text: q for q in header.questions}
    case_type = kinds["Case type CP/CIN/CwD"]
    assert case_type.kind == "single-choice"
    assert [(c.value, c.label) for c in case_type.choices] == [("cp", "CP"), ("cin", "CIN"), ("cwd", "CwD")]
    assert kinds["State Legal status"].kind == "text"
    assert kinds["Subject to PLO"].kind == "yes-no"
    assert kinds["Locality"].kind == "text"
    assert kinds["D.O.B"].kind == "date"


def test_the_auditors_own_details_are_given_by_the_auditor(toolkit: Toolkit) -> None:
    auditor = section_of(toolkit, "auditor")
    assert auditor.completed_by == "agency"
    assert not auditor.counts_towards_overall
    assert auditor.judgement is None
    assert [(q.text, q.kind) for q in auditor.questions] == [("Date:", "date"), ("Auditor (name):", "text")]


def test_what_follows_section_7(toolkit: Toolkit) -> None:
    overview = section_of(toolkit, "overview")
    assert not overview.counts_towards_overall
    assert overview.judgement is None
    general, improvements, views, last_3_months = overview.questions
    assert (general.kind, general.required) == ("text", True)
    assert improvements.kind == "yes-no"
    assert improvements.comments == "required"
    assert improvements.comments_label == WHY
    assert (views.kind, views.required) == ("text", False)
    assert last_3_months.kind == "grade"
    assert toolkit.overall is not None
    assert toolkit.overall.prompt == "OVERALL JUDGEMENT OF THE CASE FILE:"
    (tick,) = section_of(toolkit, "ofsted-suitability").questions
    assert tick.kind == "tick"
    assert not tick.required


def test_remedial_actions_table(toolkit: Toolkit) -> None:
    section = section_of(toolkit, "remedial")
    assert not section.counts_towards_overall
    (actions,) = section.questions
    assert actions.kind == "rows"
    assert not actions.required
    assert [(c.id, c.label, c.kind) for c in actions.columns] == [
        ("action", "Action", "text"),
        ("who", "Who?", "text"),
        # "Click here to enter a date." in the seed.
        ("timescale", "Timescales", "date"),
        ("date-reviewed", "Date reviewed", "date"),
        ("completed-comments", "Completed/Comments", "text"),
        ("initials", "Initials", "text"),
    ]
    assert [c.id for c in actions.columns if c.required] == ["action"]


def test_immediate_concerns_alert_the_partnership(toolkit: Toolkit) -> None:
    section = section_of(toolkit, "key-question")
    assert not section.counts_towards_overall
    (question,) = section.questions
    assert question.kind == "yes-no"
    assert question.guidance == "If there are immediate concerns the manager must be notified."
    assert question.alert is not None
    assert question.alert.kind == "child-not-safe"
    assert question.alert.when == ("yes",)


def test_the_tool_is_for_childrens_social_care_auditors(toolkit: Toolkit) -> None:
    assert toolkit.default_applies_to == "csc"
    assert toolkit.selectors["csc"].agencies == ("childrens-social-care",)
    social_care = applicable_sections(toolkit, Participant(agency_kind="childrens-social-care"))
    assert [s.id for s in social_care] == [s.id for s in toolkit.sections if s.completed_by == "agency"]
    assert applicable_sections(toolkit, Participant(agency_kind="police")) == ()


def test_ids_are_unique(toolkit: Toolkit) -> None:
    # Section and question ids are both FHIR linkIds.
    ids = [s.id for s in toolkit.sections] + [q.id for s in toolkit.sections for q in s.questions]
    assert len(ids) == len(set(ids))
