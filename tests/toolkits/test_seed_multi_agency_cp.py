"""Seed 003 (Multi-agency audit tool – Child Protection) is all in its toolkit.

The tables below were written by reading ``seeds/003_462afd7116d2f9da.txt``
cell by cell, not from the definition: each row is one question of the seed
with the prefix that says who answers it, spelt as the seed spells it, and the
parts of its wording (question sentences and bullet points). Seed text is
compared after collapsing whitespace, so the seed's doubled spaces and broken
line wraps do not matter; the few places where extraction noise had to be
fixed are marked.
"""

from __future__ import annotations

import pytest

from agencies.kinds import AGENCY_KIND_CODES
from tests.toolkits.seed_texts import collapse, definition_file, load_toolkit, section_of
from toolkits.checks import check_toolkit
from toolkits.model import Question, Toolkit

FILE = definition_file("multi-agency-cp")

SEED_EVIDENCE = "Evidenced by: name and date of relevant document; recorded decision; or other evidence."
SEED_SUPERVISION_EVIDENCE = "Evidenced by: date of last supervision; management decisions recorded, and other evidence."
SEED_IMPACT = "Impact (What has changed/ improved and is this sustainable):"

# (section id, the seed's prefix or None, parts of the question's wording).
# One row per question; the split sub-part of section 4 is its own row.
SEED_QUESTIONS: tuple[tuple[str, str | None, tuple[str, ...]], ...] = (
    # Key questions to be answered at the end of the audit
    (
        "key-questions",
        None,
        ("Is the child currently safe, and have all actions been taken by agencies to make the child safe?",),
    ),
    ("key-questions", None, ("When was the case last reviewed?",)),
    # Every Child Matters outcomes: All agencies: …
    ("ecm-outcomes", "All agencies", ("Being Healthy",)),
    ("ecm-outcomes", "All agencies", ("Staying Safe",)),
    ("ecm-outcomes", "All agencies", ("Enjoying and Achieving",)),
    ("ecm-outcomes", "All agencies", ("Making a Positive Contribution",)),
    ("ecm-outcomes", "All agencies", ("Achieving Economic Well-Being",)),
    # 1. Case details
    ("case-details", None, ("Initials of subject child",)),
    ("case-details", None, ("Gender",)),
    ("case-details", None, ("Age",)),
    ("case-details", None, ("Case identifier number",)),
    ("case-details", None, ("Ethnicity",)),
    ("case-details", None, ("Language:",)),
    ("case-details", None, ("Religion:",)),
    ("case-details", None, ("Family members – initials and relationships, ages of children",)),
    ("case-details", None, ("Date of initial Child Protection (CP) Plan",)),
    ("case-details", None, ("Category of plan",)),
    ("case-details", None, ("Children subject to CP Plan previously or other concerning history?",)),
    # Name of practitioner / Agency/School/Team
    ("practitioner", None, ("Name of practitioner",)),
    ("practitioner", None, ("Agency/School/Team",)),
    # 2. History of involvement
    (
        "history-of-involvement",
        "All  relevant agencies",
        (
            "Previous involvement of agency/service with family  (if any) – reasons for and nature of "
            "involvement (brief)",
        ),
    ),
    (
        "history-of-involvement",
        "All  relevant agencies",
        (
            "History of parents  and regular  household visitors, especially if previously Child Protection (CP) "
            "or Looked After Child (LAC), including history obtained from other Local Authorities",
        ),
    ),
    (
        "history-of-involvement",
        "Agencies other than children’s social care",
        ("Involvement of agency/service immediately prior to referral to children’s social care (if any):",),
    ),
    (
        "history-of-involvement",
        "All relevant agencies",
        ("Effectiveness of previous involvement in safeguarding and promoting the child’s welfare?",),
    ),
    (
        "history-of-involvement",
        "All relevant agencies",
        ("Were possible CP concerns recognised (& discussed with appropriate person within organisation)?",),
    ),
    (
        "history-of-involvement",
        "All relevant agencies",
        (
            "Was appropriate action taken as an outcome of those concerns?",
            "Did such action help to safeguard the child?",
        ),
    ),
    # 3. Referral
    (
        "referral",
        "All relevant agencies",
        (
            "If referral was made to children’s social care, why and when was referral  made and by whom?",
            "Was it appropriate or necessary to refer at this point in order to safeguard the child?",
            "Were Common Assessment Framework (CAF)/Early Intervention cases appropriately ‘stepped-up’ at the "
            "right time?",
        ),
    ),
    (
        "referral",
        "Referring agency + children’s social care",
        (
            "Quality of referral – was it made or followed-up in writing (within 48 hours); was locally-agreed "
            "referral format used; were key concerns and reason for referral made clear;\n\n"
            "was appropriate information supplied etc.?",
        ),
    ),
    # 4. Immediate Response to Referral
    (
        "immediate-response",
        "Referring agency + Police/children’s social care",
        (
            "If police or children’s social care were called/notified because of safeguarding concerns for a "
            "child or related incident such as domestic violence:",
            "Was a good risk assessment made in response to the concern?",
            "Was sound judgement used in deciding whether immediate action was necessary to secure the safety of "
            "this child (and siblings), and was such action taken?",
        ),
    ),
    (
        "immediate-response",
        "Referring agency + children’s social care",
        (
            "Was referral acted on promptly by children’s social care?(within 24 hours, or sooner if necessary to "
            "safeguard child)",
            "Following the immediate risk assessment, was appropriate action taken on the referral, such as onward "
            "referral; Initial Assessment; Strategy Discussion/meeting (S.47 \ninvestigation)",
        ),
    ),
    (
        "immediate-response",
        "Children’s social care",
        ("Was the case allocated promptly to an appropriately qualified and experienced social worker?",),
    ),
    (
        "immediate-response",
        "Referring agency/children’s social care",
        ("Was referrer informed about response by children’s social care?",),
    ),
    (
        "immediate-response",
        "All relevant agencies",
        (
            "If concerns re significant harm, or if crime against a child may have been committed, was a strategy "
            "discussion and/or meeting held with police and relevant others:",
            "Within a timescale which appropriately reflected the urgency of the case,",
            "With the right agencies,  at an appropriate level of seniority,",
            "Were appropriate plans made to safeguard the child and undertake the S.47 Enquiry",
            "Were decisions recorded and shared?",
        ),
    ),
    # 5. Assessment/S.47 Enquiry
    (
        "assessment-s47-enquiry",
        "All relevant agencies",
        (
            # Seed: "Enquiry\n?" — a line broken before its question mark.
            "Were appropriate actions planned and taken for this particular Section 47 Enquiry? "
            "(e.g. paediatric assessment; interview in line with Achieving Best Evidence)",
        ),
    ),
    (
        "assessment-s47-enquiry",
        "All relevant agencies",
        (
            "Were statutory checks made and appropriate agencies consulted (including checks with previous Local "
            "Authorities)? Did this include police checks on adults in household and regular visitors (including "
            "those believed to be recently estranged)?",
            "Checks should include all adults in the household and regular visitors (including those believed to "
            "have recently ceased contact with the family)",
        ),
    ),
    (
        "assessment-s47-enquiry",
        "Children’s Social Care only",
        (
            "Were all relevant family members and regular visitors (including those believed to have recently "
            "ceased contact with the family)and others involved in the enquiry?",
        ),
    ),
    ("assessment-s47-enquiry", "All relevant agencies", ("Was an interpreter used if needed?",)),
    (
        "assessment-s47-enquiry",
        "Children’s Social Care only",
        (
            "Was the family history and previous agency involvement actively sought out and taken into account? "
            "In particular, was there an assessment of the parent’s own experience of being parented and "
            "information sought from previous Local Authorities.",
            "Is there a Key Incident List, which covers all the salient history in the child’s record.",
        ),
    ),
    (
        "assessment-s47-enquiry",
        "Children’s Social Care only",
        (
            "Did the social worker see each child in the family alone, and has account been taken of their wishes "
            "and feelings?",
        ),
    ),
    (
        "assessment-s47-enquiry",
        "Children’s Social Care only",
        (
            "Did the S.47 Enquiry evaluate the risks to the child and siblings, and consider how those risks can "
            "be managed?",
        ),
    ),
    (
        "assessment-s47-enquiry",
        "All",
        ("If the decision was made to convene a child protection conference, was this an appropriate decision?",),
    ),
    (
        "assessment-s47-enquiry",
        "All",
        (
            "If the decision was made not to convene a child protection conference, were appropriate alternative "
            "actions taken? Did these include planning how to meet the child and family’s needs, in order to avoid "
            "the need for a re-referral at a later stage?",
        ),
    ),
    (
        "assessment-s47-enquiry",
        "Children’s Social Care only",
        (
            "Has a core assessment been completed?",
            "Does this assessment provide a clear picture of the child’s situation and needs? Has it been "
            "undertaken in line with the principles underpinning the Framework for the Assessment of Children in "
            "Need and their Families, including whether it is a child-centred assessment?",
            "Does it contain relevant information about the adults in the family and regular visitors (including "
            "those believed to have recently ceased contact with the family) e.g. Mental Health problems, Domestic "
            "Violence etc.",
            "Does it contain information about the parent’s childhood experience and the parents relationships "
            "with their families?",
        ),
    ),
    # 6. Planning and Implementing Plan
    (
        "planning-implementing-plan",
        "Children’s Social Care only",
        (
            "Was a child protection conference convened within 15 days of the last strategy discussion/meeting?",
            "(or appropriate timescales for pre-birth assessments)",
        ),
    ),
    (
        "planning-implementing-plan",
        "All relevant agencies",
        (
            "Was the conference effective?",
            "Appropriate involvement by parent(s) (and children)",
            "Attendance of interpreter  if needed",
            "Involvement of advocate  on behalf of child and/or parent(s) if needed",
            "Conference quorate and right agencies present for this case",
            # Seed: "audited , with" — a stray space before the comma.
            "Attendance of agency being audited, with a written report",
            "Full information gathered and clear assessment of risk made",
            "Decision about whether to make the child or children subject to a CP plan appropriate",
            "Outline plan made at conference clearly aimed at reducing risk and improving outcomes",
            "Ensuring parents understand the nature of the significant harm and its implications; are clear about "
            "the plan, and what is expected of them.",
        ),
    ),
    (
        "planning-implementing-plan",
        "All",
        (
            "Has the nature and level of risk been accurately identified?",
            "Where consensus amongst agencies about such risk has not been reached, has the Conference Chair taken "
            "action to ensure there is a set of recommendations which will protect the child?",
            "Has an effective plan been put in place which is focused on risk and actions to reduce risk?",
        ),
    ),
    (
        "planning-implementing-plan",
        "All relevant agencies",
        (
            "Core group working:",
            "Is there effective multi-agency working through a core group, including:",
            "Core group held within 10 days of conference and then at frequency specified in plan",
            "Detail put on multi-agency plan with clear objectives set",
            "Written agreement drawn up, signed by parent(s)",
            "Regular attendance including parent(s)",
            "Core group working effectively as a team around the child (united approach, good communication and "
            "information-sharing, working together as appropriate)",
        ),
    ),
    (
        "planning-implementing-plan",
        "All Relevant Agencies",
        (
            "Does the case warrant the professionals meeting without the parents being present?",
            "If so, are the planning meetings taking place and are they effective in reducing the harm to the child?",
        ),
    ),
    (
        "planning-implementing-plan",
        "All relevant agencies",
        (
            "Are appropriate services/resources called upon, to meet the child or family needs? Are they having an "
            "impact on reducing risk and/or promoting the welfare of the child?",
        ),
    ),
    (
        "planning-implementing-plan",
        "All relevant agencies",
        (
            "Has an effective partnership been built up with child and family?",
            "Are appropriate actions taken if this has not been possible?",
        ),
    ),
    (
        "planning-implementing-plan",
        "All relevant agencies",
        (
            "Is the agency fulfilling its statutory responsibilities/carrying out its role in accordance with good "
            "practice in relation to this child and family? (Give examples)",
            "Are there other roles/tasks that the agency should have carried out in relation to this child and family?",
            "Is the agency carrying out its agreed role as detailed in the child protection plan?",
        ),
    ),
    (
        "planning-implementing-plan",
        "Children’s social care",
        (
            "Is the social worker effectively carrying out the key worker role, i.e. coordinating the contribution "
            "of family members and all agencies in putting the plan into action?",
        ),
    ),
    (
        "planning-implementing-plan",
        "Children’s Social Care only",
        (
            "Are visits made in accordance with the plan?",
            "Are the children seen regularly and seen alone?",
            "Quality of interaction with parent(s)/children? (Partnership working, engaging resistant parents etc.)",
        ),
    ),
    (
        "planning-implementing-plan",
        "All relevant agencies",
        (
            "Has a mechanism been used to resolve any differences between professionals if relevant? Is there "
            "evidence that the issues have been resolved and Managers are regularly monitoring the effectiveness "
            "of the work? (nb: this may require the auditor to speak to workers or managers)",
        ),
    ),
    (
        "planning-implementing-plan",
        "All relevant agencies",
        ("Is there an appropriate response to any further critical incidents?",),
    ),
    # 7. Review
    (
        "review",
        "All relevant agencies",
        ("Are CP Review conferences held within required timescales? (3 months; then 6 monthly)",),
    ),
    (
        "review",
        "All relevant agencies",
        (
            "Are CP Review conferences quorate and the right agencies present for this case? Is the agency being "
            "audited present? Did they  present a written report?",
            "Are CP review conferences effective in",
            "Reviewing whether the plan is being implemented as agreed, and in a timely way",
            "Assessing whether  progress has been made regarding original issue of significant harm",
            "Assessing whether the plan is safeguarding and promoting the welfare of the child (and family),",
            "Reassessing the nature and level of risk",
            "Amending the plan if concerns continue in order to safeguard the child and promote their welfare "
            "(including consideration of whether Legal Planning Meeting needed)",
            "Ensuring parents understand whether progress has been made in relation to the significant harm; are "
            "clear about the plan, and what is expected of them.",
            "Reviewing the effectiveness of the partnership with the child and parent, and appropriate action "
            "taken (either to improve partnership working, or to reassess the level of risk if there is lack of "
            "co-operation)",
            "If progress leads to decision to cease CP plan, has appropriate follow-on support been planned for "
            "the child and family as a child in need, or if ‘stepped-down’ to a CAF?",
        ),
    ),
    (
        "review",
        "All relevant agencies",
        (
            "Has there been appropriate challenge and issues taken up with managers, by the Conference Chair or "
            "relevant others if the child is not being effectively safeguarded through the actions of "
            "professionals? Has this resulted in effective safeguarding?",
        ),
    ),
    # 8. Management and supervision
    (
        "management-supervision",
        "Agencies other than children’s social care",
        (
            "Is the front-line worker appropriately supported and directed to safeguard the child and promote "
            "their welfare within their own management structure (through supervision, presence at key meetings, "
            "management decisions, consultation or decisions by senior managers etc.)",
        ),
    ),
    (
        "management-supervision",
        "Children’s Social Care",
        (
            "Is the social worker appropriately supported and directed  through",
            "Regular supervision discussions with decisions recorded",
            "Quality of supervision in implementing plan and improving outcomes for child",
            "Effective and continuous analysis of risk within supervision",
            "Supervisor present at key meetings etc.",
            "Consultation with senior managers and other experts and advice/decisions recorded",
        ),
    ),
    (
        "management-supervision",
        "All",
        (
            "Is there evidence that the manager sufficiently supports  the member of staff to deal with any risks "
            "and threats in order that the worker can appropriately challenge the family?",
        ),
    ),
    # 9. Recording and minutes
    (
        "recording-minutes",
        "All relevant agencies",
        ("Are minutes of CP conferences distributed within 15 days of conference?",),
    ),
    (
        "recording-minutes",
        "All relevant agencies",
        (
            "Are records of core groups circulated promptly to core group members (including those unable to be "
            "present at meeting)",
        ),
    ),
    (
        "recording-minutes",
        "All relevant agencies",
        (
            "Are the records kept for this child complete, up to date, show sound assessment and decision-making, "
            "effective planning, and good practice in implementing plans?",
            "Is a chronology in place?",
        ),
    ),
    ("recording-minutes", "All relevant agencies", ("Are records fit for purpose, and meet requirements?",)),
    (
        "recording-minutes",
        "Children’s Social Care",
        ("Has there been management sign-off of all decisions made on this case?",),
    ),
    (
        "recording-minutes",
        "All relevant agencies",
        ("Is there evidence of file audit or other quality assurance measures?",),
    ),
    # After the overall judgement
    ("recommendations", None, ("Auditor recommendations on how work on this case can be improved:",)),
    ("recommendations", None, ("Any additional auditor feedback:",)),
    ("auditor", None, ("Name, job title and agency/school/team of auditor",)),
    ("auditor", None, ("Date of audit",)),
)

# (section id, title as in the seed, judgement prompt, impact/evidence label,
# label of the "Evidenced by" references) for the graded sections 2–9.
SEED_SECTIONS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "history-of-involvement",
        "2. History of involvement",
        "Overall judgement on work prior to child protection concerns being identified and acted upon?",
        SEED_IMPACT,
        SEED_EVIDENCE,
    ),
    ("referral", "3. Referral", "Overall Judgement on the quality of the referral?", SEED_IMPACT, SEED_EVIDENCE),
    (
        "immediate-response",
        "4. Immediate Response to Referral",
        "Overall judgement on work on immediate response to the referral?",
        SEED_IMPACT,
        SEED_EVIDENCE,
    ),
    (
        "assessment-s47-enquiry",
        "5. Assessment/S.47 Enquiry",
        "Overall judgement on Assessment work?",
        SEED_IMPACT,
        SEED_EVIDENCE,
    ),
    (
        "planning-implementing-plan",
        "6. Planning and Implementing Plan",
        "Overall judgement on planning and implementation of plan?",
        SEED_IMPACT,
        SEED_EVIDENCE,
    ),
    ("review", "7. Review", "Overall judgement on Review work?", "Evidence:", SEED_EVIDENCE),
    (
        "management-supervision",
        "8. Management and supervision",
        "Overall judgement on Management and Supervision?",
        "Evidence:",
        SEED_SUPERVISION_EVIDENCE,
    ),
    (
        "recording-minutes",
        "9. Recording and minutes",
        "Overall judgement on Recording and Minutes?",
        "Evidence:",
        SEED_SUPERVISION_EVIDENCE,
    ),
)

UNGRADED_AGENCY_SECTIONS = ("key-questions", "ecm-outcomes", "practitioner", "recommendations", "auditor")


def wording(question: Question) -> str:
    """Everything the question says: its text and its bullet points."""
    return collapse(" ".join((question.text, *question.points)))


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    return load_toolkit(FILE)


def test_the_definition_loads_with_no_problems(toolkit: Toolkit) -> None:
    assert toolkit.id == "multi-agency-cp"
    assert toolkit.version == 1
    assert toolkit.merge_policy == "overall-75-25"
    assert check_toolkit(toolkit, agency_kinds=AGENCY_KIND_CODES, merge_policies={"overall-75-25"}) == []
    assert toolkit.title == "Multi-agency audit tool – Child Protection"


@pytest.mark.parametrize(("section_id", "prefix", "parts"), SEED_QUESTIONS, ids=lambda v: str(v)[:60])
def test_every_seed_question_is_in_its_section(
    toolkit: Toolkit, section_id: str, prefix: str | None, parts: tuple[str, ...]
) -> None:
    section = section_of(toolkit, section_id)
    matches = [q for q in section.questions if all(collapse(part) in wording(q) for part in parts)]
    assert len(matches) == 1, f"{parts[0]!r} is not (once) in section {section_id!r}"
    question = matches[0]
    # Who answers it: the seed's prefix is the label of the question's selector.
    selector = question.applies_to or section.applies_to
    if prefix is None:
        assert selector is None
    else:
        assert selector is not None
        assert collapse(toolkit.selectors[selector].label).casefold() == collapse(prefix).casefold()
        # The prefix is the selector's label, not part of the question.
        assert not question.text.casefold().startswith(collapse(prefix).casefold() + ":")


def test_no_question_beyond_the_seeds(toolkit: Toolkit) -> None:
    """One question per seed row: nothing added that the seed does not ask."""
    expected: dict[str, int] = {}
    for section_id, _, _ in SEED_QUESTIONS:
        expected[section_id] = expected.get(section_id, 0) + 1
    assert {s.id: len(s.questions) for s in toolkit.sections} == expected


def test_sections_are_in_the_seeds_order(toolkit: Toolkit) -> None:
    # The seed prints the key questions and ECM outcomes on its first page but
    # says they are "to be answered at the end of the audit", so an auditor
    # meets them after sections 2-9, just before the recommendations.
    assert [s.id for s in toolkit.sections] == [
        "case-details",
        "practitioner",
        *(section_id for section_id, *_ in SEED_SECTIONS),
        "key-questions",
        "ecm-outcomes",
        "recommendations",
        "auditor",
    ]


@pytest.mark.parametrize(("section_id", "title", "prompt", "impact_label", "evidence_label"), SEED_SECTIONS)
def test_sections_2_to_9_are_judged_with_the_seeds_labels(
    toolkit: Toolkit, section_id: str, title: str, prompt: str, impact_label: str, evidence_label: str
) -> None:
    section = section_of(toolkit, section_id)
    assert section.title == title
    assert section.completed_by == "agency"
    assert section.counts_towards_overall
    assert section.judgement is not None
    assert section.judgement.prompt == prompt
    assert section.judgement.impact_label == impact_label
    assert section.comments_label == "Auditor comments"
    assert section.evidence_label == evidence_label
    # Every question is answered in the "Auditor comments" box, with
    # optional references to the evidence.
    for question in section.questions:
        assert question.kind == "text"
        assert question.evidence == "optional"


def test_the_scale_is_outstanding_good_adequate_inadequate(toolkit: Toolkit) -> None:
    assert toolkit.scale.id == "outstanding-good-adequate-inadequate"
    assert [(g.value, g.label) for g in toolkit.scale.grades] == [
        (1, "Outstanding"),
        (2, "Good"),
        (3, "Adequate"),
        (4, "Inadequate"),
    ]


def test_marking_introduction_and_audit_period(toolkit: Toolkit) -> None:
    assert toolkit.marking is not None
    assert collapse(toolkit.marking) == (
        "RESTRICTED WHEN COMPLETED: Failure to comply with the restriction is in breach of data protection and "
        "confidentiality."
    )
    assert toolkit.introduction is not None
    for sentence in (
        "This audit tool has been designed for cases which progress through from referral to children being "
        "subject to a Child Protection Plan.",
        "Auditors should base their judgements on the requirements set out in Working Together to Safeguard "
        "Children and the London Child Protection Procedures.",
        "It is to be completed by each of the agencies involved with the child in the child protection case, "
        "whether through representation at case conference, or through the core group.",
        "It will provide an analysis of the effectiveness of the work carried out in safeguarding the child and "
        "promoting their welfare, both by the auditor’s own agency and on a partnership basis.",
        "This audit tool will provide a comprehensive view, but can be customised e.g. to provide a specific focus "
        "or a briefer, broader view.",
        "Analysis of equality issues should be integrated as appropriate within each section.",
        "Each section should be graded, according to the following scale (which will be used in Ofsted inspections):",
        "Outstanding = 1",
        "Good = 2",
        "Adequate = 3",
        "Inadequate = 4",
        "Grading each section will enable areas of concern and areas of good practice across agencies to be "
        "readily identified.",
    ):
        assert sentence in collapse(toolkit.introduction)
    assert toolkit.audit_period_guidance == (
        "Decision to be made about the start-point for the audit, e.g. 6 months prior to commencement of CP Plan; "
        "or 18 months back from point of audit."
    )


def test_the_s47_footnote_is_kept(toolkit: Toolkit) -> None:
    footnote = (
        "S47 – Section 47 of the Children Act 1989 places a duty on Local Authorities to investigate when there is "
        "reasonable cause to suspect that a child is suffering, or is likely to suffer, significant harm."
    )
    guidance = [collapse(q.guidance) for s in toolkit.sections for q in s.questions if q.guidance]
    assert footnote in guidance


def test_overall_judgement(toolkit: Toolkit) -> None:
    assert toolkit.overall is not None
    assert toolkit.overall.prompt == "Judgement on quality of work overall:"


def test_case_details_are_completed_centrally(toolkit: Toolkit) -> None:
    section = section_of(toolkit, "case-details")
    assert section.completed_by == "coordinator"
    assert section.guidance == "To be completed centrally prior to distribution to agency auditors"
    assert section.judgement is None
    kinds = {q.text: q for q in section.questions}
    assert kinds["Age"].kind == "number"
    assert (kinds["Age"].min, kinds["Age"].max) == (0, 25)
    assert kinds["Date of initial Child Protection (CP) Plan"].kind == "date"
    family = kinds["Family members – initials and relationships, ages of children"]
    assert family.kind == "rows"
    assert [c.id for c in family.columns] == ["initials", "relationship", "age"]
    category = kinds["Category of plan"]
    assert category.kind == "single-choice"
    assert [c.label for c in category.choices] == [
        "Neglect",
        "Physical abuse",
        "Sexual abuse",
        "Emotional abuse",
        "Multiple",
    ]


@pytest.mark.parametrize("section_id", UNGRADED_AGENCY_SECTIONS)
def test_sections_that_are_not_areas_of_work_are_not_graded(toolkit: Toolkit, section_id: str) -> None:
    section = section_of(toolkit, section_id)
    assert section.completed_by == "agency"
    assert section.judgement is None
    assert not section.counts_towards_overall


def test_practitioner_is_completed_by_the_agency_auditor(toolkit: Toolkit) -> None:
    assert section_of(toolkit, "practitioner").guidance == "To be completed by agency auditor"


def test_key_questions(toolkit: Toolkit) -> None:
    section = section_of(toolkit, "key-questions")
    assert "Key questions to be answered at the end of the audit" in section.title
    safe, reviewed = section.questions
    assert safe.kind == "yes-no"
    assert safe.comments == "required"
    assert safe.alert is not None
    assert safe.alert.kind == "child-not-safe"
    assert safe.alert.when == ("no",)
    assert reviewed.kind == "date"
    # Seed 003 asks for no significant failure.
    assert all(q.alert is None or q.alert.kind != "significant-failure" for s in toolkit.sections for q in s.questions)


def test_every_child_matters_outcomes_are_graded_with_evidence_of_impact(toolkit: Toolkit) -> None:
    section = section_of(toolkit, "ecm-outcomes")
    assert section.guidance is not None
    assert "What impact has the work undertaken had on improving outcomes for this child?" in section.guidance
    assert len(section.questions) == 5
    for question in section.questions:
        assert question.kind == "grade"
        assert question.comments == "required"
        assert question.comments_label == "Evidence of Impact (What has changed/ improved and is this sustainable):"


def test_additional_feedback_is_optional(toolkit: Toolkit) -> None:
    recommendations, feedback = section_of(toolkit, "recommendations").questions
    assert recommendations.required
    assert not feedback.required
    assert [q.kind for q in section_of(toolkit, "auditor").questions] == ["text", "date"]
