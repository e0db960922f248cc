"""The partnership judgement, case by case, computed by hand from the seeds'
words.

Each test quotes the seed line it follows in its docstring and states the
expected grades, worked out in comments from the agencies' grades: never
by calling the code under test. Real toolkit definitions are used where a
seed's own tool is the point (a significant failure in each of the five,
003's agencies not involved in a stage, 002's stated overall, 000's
features); a small test toolkit where only the arithmetic of a rule is.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from agencies.kinds import AGENCY_KIND_CODES
from merging import POLICIES, AgencyContribution, CaseFacts, PartnershipJudgement, SectionResult, merge
from tests.merging.builders import a_toolkit, draft, submitted
from toolkits.answers import ContributionContent, Judgement
from toolkits.grading import suggest_area, suggest_overall
from toolkits.model import Feature, SectionJudgement, Toolkit
from toolkits.registry import load_registry

REGISTRY = load_registry(agency_kinds=AGENCY_KIND_CODES, merge_policies=set(POLICIES))
CP = REGISTRY.get("multi-agency-cp", 2)
EARLY = REGISTRY.get("early-intervention", 2)
CSC_CRITERIA = REGISTRY.get("csc-practice-criteria", 2)
TIER2 = REGISTRY.get("tier2-cin-cp", 2)
JOURNEY = REGISTRY.get("childs-journey-early-help", 1)
CASE = CaseFacts()

CP_AREAS = (
    "history-of-involvement",
    "referral",
    "immediate-response",
    "assessment-s47-enquiry",
    "planning-implementing-plan",
    "review",
    "management-supervision",
    "recording-minutes",
)
CP_TITLES = (
    "2. History of involvement",
    "3. Referral",
    "4. Immediate Response to Referral",
    "5. Assessment/S.47 Enquiry",
    "6. Planning and Implementing Plan",
    "7. Review",
    "8. Management and supervision",
    "9. Recording and minutes",
)
NO_S47 = "The school had no part in the S.47 enquiry"


def section(judgement: PartnershipJudgement, section_id: str) -> SectionResult:
    return next(s for s in judgement.sections if s.section_id == section_id)


def grades(judgement: PartnershipJudgement) -> dict[str, int | None]:
    return {s.section_id: s.grade for s in judgement.sections}


def every(areas: tuple[str, ...], grade: int, **instead: int) -> dict[str, int]:
    """Every area at ``grade``, except those given (``assessment_s47_enquiry=3``)."""
    changed = {k.replace("_", "-"): v for k, v in instead.items()}
    return {a: changed.get(a, grade) for a in areas}


# --- not involved (seed 003) ---------------------------------------------------------


def test_a_school_not_involved_in_the_s47_enquiry_is_left_out_of_its_grade() -> None:
    """Seed 003: "It is to be completed by each of the agencies involved with
    the child in the child protection case". The school says it was not
    involved in 5. Assessment/S.47 Enquiry; health grades it Good (2),
    police Adequate (3).

    By hand, the 75% / 25% rule over the involved agencies' grades [2, 3]:
    inadequate 0 of 2 — no; outstanding — no; good 1 of 2 (50%) — no;
    adequate 2 of 2 (100%) — yes: Adequate. Had the school been forced to
    grade it Inadequate (4), 1 of 3 (33.3%) inadequate would have made the
    partnership's grade Inadequate. The other seven areas: every agency 2,
    Good. Overall: 8 areas, 7 Good and 1 Adequate — inadequate 0 of 8, no;
    outstanding, no (0 outstanding); good 7 of 8 (87.5%) and none
    inadequate: Good."""
    contributions = [
        submitted("health", grades=every(CP_AREAS, 2)),
        submitted("police", grades=every(CP_AREAS, 2, assessment_s47_enquiry=3)),
        submitted(
            "education",
            grades={a: 2 for a in CP_AREAS if a != "assessment-s47-enquiry"},
            not_involved={"assessment-s47-enquiry": NO_S47},
        ),
    ]
    result = merge(CP, CASE, contributions)
    s47 = section(result, "assessment-s47-enquiry")
    assert grades(result) == every(CP_AREAS, 2, assessment_s47_enquiry=3)
    assert [(a.agency_kind, a.grade) for a in s47.agencies] == [("health", 2), ("police", 3)]
    assert [(a.agency_kind, a.reason) for a in s47.not_involved] == [("education", NO_S47)]
    assert s47.rule == (
        "Adequate because 1 of the 2 agency grades (50%) is good or better, under 75%, and 2 of the 2 agency "
        "grades (100%) are adequate or better, under the partnership's 75% / 25% rule. Demo education "
        f"(education) was not involved at this stage and is left out (Demo education: {NO_S47})."
    )
    assert result.overall.grade == 2
    assert result.overall.trace[-4:] == (
        "Inadequate if 25% or more of the areas are inadequate: 0 of 8 (0%) are — no.",
        "Outstanding only if every area is good or better, and at least 75% are outstanding: 7 of 8 (87.5%) are "
        "good or better, 0 of 8 (0%) outstanding — no.",
        "Good if at least 75% of the areas are good or better and none is inadequate: 7 of 8 (87.5%) are good "
        "or better, 0 inadequate — yes.",
        "Overall: Good, under the partnership's 75% / 25% rule.",
    )

    forced = [*contributions[:2], submitted("education", grades=every(CP_AREAS, 2, assessment_s47_enquiry=4))]
    assert section(merge(CP, CASE, forced), "assessment-s47-enquiry").grade == 4


def test_a_stage_no_agency_was_involved_in_is_left_out_of_the_overall() -> None:
    """Seed 003, "completed by each of the agencies involved": when no
    agency took part in 7. Review (no review conference has yet been
    held), no agency grades it. By hand: the seven other areas, every
    agency Good (2) — 7 of 7 good, Good overall; Review has no grade and is
    named as left out, not as "not graded yet"."""
    not_reviewed = "No review conference has been held yet"
    areas = tuple(a for a in CP_AREAS if a != "review")
    contributions = [
        submitted(kind, grades=every(areas, 2), not_involved={"review": not_reviewed}) for kind in ("health", "police")
    ]
    result = merge(CP, CASE, contributions)
    review = section(result, "review")
    assert (review.grade, review.computed_grade) == (None, None)
    assert review.rule.startswith("No involved agency has submitted a grade for this section yet. ")
    assert result.overall.grade == 2
    assert "No agency was involved at this stage, so left out: 7. Review." in result.overall.trace
    assert (result.overall.counts.areas, result.overall.counts.not_involved) == (7, 1)
    assert not any(step.startswith("Not graded yet") for step in result.overall.trace)


def test_not_involved_in_one_section_changes_no_other_sections_grade() -> None:
    """Seed 003 asks "All relevant agencies" each question: an agency is
    relevant to a stage, or not. The school's grades elsewhere still count:
    in 3. Referral health 2, police 2, school 4 — 1 of 3 (33.3%) inadequate,
    25% or more: Inadequate, whatever the school said of the S.47 enquiry."""
    contributions = [
        submitted("health", grades={"referral": 2, "assessment-s47-enquiry": 2}),
        submitted("police", grades={"referral": 2, "assessment-s47-enquiry": 2}),
        submitted("education", grades={"referral": 4}, not_involved={"assessment-s47-enquiry": NO_S47}),
    ]
    result = merge(CP, CASE, contributions)
    assert section(result, "referral").grade == 4
    assert section(result, "referral").rule.startswith(
        "Inadequate because Demo education (education) graded 4: 1 of the 3 agency grades (33.3%) is inadequate, "
        "25% or more"
    )
    assert section(result, "assessment-s47-enquiry").grade == 2


# --- the 75% / 25% thresholds, at their boundaries -----------------------------------


# (agency grades of one section, expected grade, the seed 000 sentence, worked by hand)
SECTION_BOUNDARIES = [
    (
        [2, 2, 2, 4],
        4,
        "If 25% or more of the features above are evident … inadequate: 1 of 4 is exactly 25%",
        "Inadequate because Demo d (youth-justice) graded 4: 1 of the 4 agency grades (25%) is inadequate, 25% or more",
    ),
    (
        [2, 2, 2, 2, 4],
        3,
        "1 of 5 (20%) is under 25%; good needs none inadequate; 4 of 5 (80%) adequate or better: adequate",
        "Adequate because 1 of the 5 agency grades (20%) is inadequate, and 4 of the 5 agency grades (80%) are "
        "adequate or better",
    ),
    (
        [2, 2, 2, 3],
        2,
        "good if at least 75% of the features above are evident: 3 of 4 is exactly 75%",
        "Good because 3 of the 4 agency grades (75%) are good or better and none is inadequate",
    ),
    (
        [2] * 14 + [3] * 5,
        3,
        "good needs at least 75%: 14 of 19 (73.7%) is under, however close",
        "Adequate because 14 of the 19 agency grades (73.7%) are good or better, under 75%, and 19 of the 19 "
        "agency grades (100%) are adequate or better",
    ),
    (
        [1, 1, 1, 2],
        1,
        "outstanding only if every area … good or better: all are, and 3 of 4 (75%) outstanding",
        "Outstanding because every agency grade is good or better and 3 of the 4 agency grades (75%) are outstanding",
    ),
    (
        [1, 1, 2, 2],
        2,
        "every grade good or better but 2 of 4 (50%) outstanding is under 75%: good",
        "Good because 4 of the 4 agency grades (100%) are good or better and none is inadequate",
    ),
]
KINDS = ("health", "police", "education", "youth-justice", "housing", "probation", "early-help")


@pytest.mark.parametrize(("agency_grades", "expected", "seed_line", "rule"), SECTION_BOUNDARIES)
def test_a_section_at_the_75_and_25_percent_boundaries(
    agency_grades: list[int], expected: int, seed_line: str, rule: str
) -> None:
    """Issue: "For the overall-75-25 policy the section grade applies seed
    000's thresholds to the involved agencies' grades: inadequate if 25%
    or more are inadequate; good if at least 75% are good or better and
    none inadequate; outstanding only if all are good or better and at
    least 75% outstanding; otherwise adequate if at least 75% are adequate
    or better, else inadequate." The overall is of one area, so it is the
    section's grade."""
    names = [f"{k}" for k in "abcdefghijklmnopqrstuvwxyz"]
    contributions = [
        submitted(KINDS[i % len(KINDS)], grades={"referral": g}, organisation=names[i])
        for i, g in enumerate(agency_grades)
    ]
    result = merge(a_toolkit(["referral"]), CASE, contributions)
    referral = section(result, "referral")
    assert referral.grade == expected, seed_line
    assert referral.rule == f"{rule}, under the partnership's 75% / 25% rule.", seed_line
    assert result.overall.grade == expected
    assert result.overall.trace[-1] == f"Overall: {referral.label}, under the partnership's 75% / 25% rule."


# (area grades, expected overall, the seed 000 sentence, the deciding step of the trace)
OVERALL_BOUNDARIES = [
    (
        [2, 2, 2, 4],
        4,
        "If 25% or more of the features above are evident … the case should be considered inadequate: 1 of 4 areas",
        "Inadequate if 25% or more of the areas are inadequate: 1 of 4 (25%) are — yes.",
    ),
    (
        [2, 2, 2, 2, 4],
        3,
        "one inadequate area of five (20%) is under 25%; good needs none inadequate: adequate",
        "Adequate if at least 75% of the areas are adequate or better: 4 of 5 (80%) are — yes.",
    ),
    (
        [2, 2, 2, 3],
        2,
        "The case should be judged as good if at least 75% … are evident: 3 of 4 areas",
        "Good if at least 75% of the areas are good or better and none is inadequate: 3 of 4 (75%) are good or "
        "better, 0 inadequate — yes.",
    ),
]


@pytest.mark.parametrize(("area_grades", "expected", "seed_line", "deciding"), OVERALL_BOUNDARIES)
def test_the_overall_at_the_75_and_25_percent_boundaries(
    area_grades: list[int], expected: int, seed_line: str, deciding: str
) -> None:
    """Seed 000, "Overall judgement" row, applied to the areas' partnership
    grades (one agency grades every area, so each area's grade is its)."""
    areas = [f"area-{i}" for i in range(len(area_grades))]
    toolkit = a_toolkit(areas)
    result = merge(toolkit, CASE, [submitted("health", grades=dict(zip(areas, area_grades, strict=True)))])
    assert [s.grade for s in result.sections] == area_grades
    assert result.overall.grade == expected, seed_line
    assert deciding in result.overall.trace, seed_line


# --- a significant failure, in each toolkit ------------------------------------------

FAILURE = "The strategy discussion was not held although the child disclosed harm"

# (toolkit, agency, its graded sections, the section the failure is recorded
# in and its title, the label of 4)
FAILURES = [
    (CP, "police", CP_AREAS, "assessment-s47-enquiry", "5. Assessment/S.47 Enquiry", "Inadequate"),
    (
        EARLY,
        "health",
        (
            "early-identification",
            "assessment",
            "planning-and-implementing-plan",
            "review",
            "management-oversight-and-recording",
        ),
        "review",
        "Review",
        "Inadequate",
    ),
    (
        CSC_CRITERIA,
        "childrens-social-care",
        (
            "strategy-s47",
            "case-recording",
            "supervision-oversight",
            "lived-experience",
            "assessment",
            "planning-review-cin-cp",
        ),
        "strategy-s47",
        "1: STRATEGY DISCUSSION/ SECTION 47 INVESTIGATION",
        "Inadequate",
    ),
    (
        TIER2,
        "childrens-social-care",
        ("referral", "assessment", "analysis", "plan-outcome", "monitoring-oversight"),
        "general-observations",
        "Section 7: General Observations",
        "Inadequate",
    ),
    (
        JOURNEY,
        "early-help",
        (
            "vulnerability",
            "childs-experience",
            "quality-of-assessment",
            "quality-of-plan",
            "review-process",
            "management-oversight",
            "multi-agency-coordination",
        ),
        "quality-of-plan",
        "4. Quality of Plan",
        "Inadequate",
    ),
]


@pytest.mark.parametrize(
    ("toolkit", "agency", "areas", "failed_in", "title", "inadequate"),
    FAILURES,
    ids=[f[0].id for f in FAILURES],
)
def test_a_significant_failure_makes_the_case_inadequate_in_every_toolkit(
    toolkit: Toolkit, agency: str, areas: tuple[str, ...], failed_in: str, title: str, inadequate: str
) -> None:
    """Seed 000: "or if there is a significant failure which has impacted on
    the safety of the child, the case should be considered inadequate".
    Every area Good (2), so without the failure the case is Good under
    every policy (75% / 25%: 100% good, none inadequate; weakest link: the
    weakest area is 2; median: 2). With the failure recorded in one
    section: Inadequate (4), every section keeping its Good, the trace
    naming the agency and the section, and the failure an immediate
    concern."""
    csc_case = CaseFacts(case_details={"plan-type": "cin-cp"}) if toolkit is CSC_CRITERIA else CASE
    good = submitted(agency, grades=every(areas, 2), overall=2)
    failed = submitted(agency, grades=every(areas, 2), overall=2, failures={failed_in: FAILURE})
    assert merge(toolkit, csc_case, [good]).overall.grade == 2
    result = merge(toolkit, csc_case, [failed])
    assert grades(result) == every(areas, 2)
    assert (result.overall.grade, result.overall.label) == (4, inadequate)
    who = f"Demo {agency} ({agency})"
    assert (
        f"{who} recorded a significant failure which has impacted on the safety of the child in {title}: “{FAILURE}”."
    ) in result.overall.trace
    assert result.overall.trace[-2].startswith(
        "A significant failure which has impacted on the safety of the child is recorded, so the case is inadequate"
    )
    [concern] = result.immediate_concerns
    assert (concern.kind, concern.section_id, concern.section_title, concern.description, concern.submitted) == (
        "significant-failure",
        failed_in,
        title,
        FAILURE,
        True,
    )


def test_a_significant_failure_in_a_draft_is_a_concern_now_and_changes_no_grade() -> None:
    """Seed 002: "If there are immediate concerns the manager must be
    notified" — at once, from a draft; seed 000's "the case should be
    considered inadequate" follows once it is submitted. Police's draft
    records a failure in 4. Immediate Response; health's submitted grades
    are all Good: the case stays Good, the trace says what submitting will
    do."""
    result = merge(
        CP,
        CASE,
        [
            submitted("health", grades=every(CP_AREAS, 2)),
            draft("police", failures={"immediate-response": FAILURE}),
        ],
    )
    assert result.overall.grade == 2
    assert (
        "Demo police (police) recorded a significant failure which has impacted on the safety of the child in "
        "4. Immediate Response to Referral in a contribution not yet submitted: it will make the case inadequate "
        "once submitted."
    ) in result.overall.trace
    assert [(c.kind, c.section_id, c.submitted) for c in result.immediate_concerns] == [
        ("significant-failure", "immediate-response", False)
    ]


# --- stated and computed -------------------------------------------------------------


def test_an_auditors_stated_overall_is_shown_beside_what_its_grades_compute() -> None:
    """Seed 002, "General overview / comments": "If relevant, include here
    where individual judgements may not appear to align with the overall
    judgement." The auditor states Good (2) overall; its section summaries
    are referral 2, assessment 2, analysis 3, plan & outcome 2, monitoring 2.
    Under the weakest-link rule its own grades compute Requires Improvement
    (3), the weakest: the judgement keeps both and says they differ. The
    partnership's overall is the computed 3."""
    own = {"referral": 2, "assessment": 2, "analysis": 3, "plan-outcome": 2, "monitoring-oversight": 2}
    result = merge(TIER2, CASE, [submitted("childrens-social-care", grades=own, overall=2)])
    assert grades(result) == own
    assert (result.overall.grade, result.overall.label) == (3, "Requires Improvement")
    assert "The weakest area grade stands: 3 (Requires Improvement)." in result.overall.trace
    [stated] = result.overall.stated
    assert (stated.stated_grade, stated.computed_grade, stated.differs) == (2, 3, True)
    assert stated.note == (
        "Demo childrens-social-care (childrens-social-care) stated Good (2) overall; its own section grades give "
        "Requires Improvement (3) under the weakest-link rule."
    )


def test_each_agencys_stated_overall_is_compared_with_its_own_grades_only() -> None:
    """Seed 003: "Judgement on quality of work overall" is each agency's
    own. Health states Good (2): its areas are all Good — 100% good, none
    inadequate, Good: they agree. Police states Good (2): its areas are
    six Good and two Inadequate — 2 of 8 (25%) inadequate: Inadequate; they
    differ. The partnership's sections: six at [2, 2] Good, two at [2, 4]
    (1 of 2, 50% inadequate) Inadequate; overall 2 of 8 (25%) inadequate:
    Inadequate."""
    police = every(CP_AREAS, 2, review=4, recording_minutes=4)
    result = merge(
        CP,
        CASE,
        [submitted("health", grades=every(CP_AREAS, 2), overall=2), submitted("police", grades=police, overall=2)],
    )
    assert grades(result) == police
    assert result.overall.grade == 4
    assert "Inadequate if 25% or more of the areas are inadequate: 2 of 8 (25%) are — yes." in result.overall.trace
    by_agency = {s.agency_kind: (s.stated_grade, s.computed_grade, s.differs) for s in result.overall.stated}
    assert by_agency == {"health": (2, 2, False), "police": (2, 4, True)}


def test_a_joint_audits_stated_overall_under_the_median_rule() -> None:
    """Seed 004: "Overall Judgement for Case File Audit: Outstanding Good
    Requires Improvement Inadequate", each grade "Outstanding= Strong
    Consistent Evidence in all elements … Requires Improvement= Evidence of
    most areas but some gaps". Early help states Outstanding (1); its seven
    sections are 1, 1, 1, 2, 2, 3, 3: the median, rounded towards worse, is
    2 — Good. They differ."""
    sections = (
        "vulnerability",
        "childs-experience",
        "quality-of-assessment",
        "quality-of-plan",
        "review-process",
        "management-oversight",
        "multi-agency-coordination",
    )
    own = dict(zip(sections, (1, 1, 1, 2, 2, 3, 3), strict=True))
    result = merge(JOURNEY, CASE, [submitted("early-help", grades=own, overall=1)])
    assert result.overall.grade == 2
    assert "The median of the area grades 1, 1, 1, 2, 2, 3, 3, rounded towards worse, is 2." in result.overall.trace
    [stated] = result.overall.stated
    assert (stated.stated_grade, stated.computed_grade, stated.differs) == (1, 2, True)


# --- seed 000's features -------------------------------------------------------------


def marks(toolkit: Toolkit, section_id: str, default: int, **instead: int) -> dict[str, int]:
    judgement = next(s.judgement for s in toolkit.sections if s.id == section_id)
    assert judgement is not None
    return {f.id: instead.get(f.id.replace("-", "_"), default) for f in judgement.features}


def all_marked(default: int, **instead: dict[str, int]) -> dict[str, dict[str, int]]:
    """Every feature of every early intervention area at ``default`` (or at
    Good where the seed has no such description), some areas changed."""
    found: dict[str, dict[str, int]] = {}
    for s in EARLY.sections:
        if s.judgement is None or not s.judgement.features:
            continue
        found[s.id] = {f.id: default if default in f.texts or default == 4 else 2 for f in s.judgement.features}
        found[s.id].update(instead.get(s.id.replace("-", "_"), {}))
    return found


EARLY_AREAS = tuple(all_marked(2))


def test_seed_000_counts_31_features_in_five_areas() -> None:
    """Seed 000's Good cells, clause by clause: Early Identification 3,
    Assessment 10, Planning and Implementing Plan 9 (3 in its first row, 6
    in the continued row), Review 6, Management Oversight and Recording 3:
    31. The Adequate cell of Assessment says nothing of "child-centred", so
    30 features are described at Adequate; every feature at Inadequate."""
    features = [f for s in EARLY.sections if s.judgement is not None for f in s.judgement.features]
    assert len(features) == 31
    assert sum(1 for f in features if 3 in f.texts) == 30
    assert sum(1 for f in features if 4 in f.texts) == 31


def test_seed_000_one_area_by_its_features() -> None:
    """Seed 000, Early Identification: Good "The child's needs were identified
    accurately, included gathering of information on previous concerns or
    involvements and were identified in a timely way." Two features found at
    Good, the third ("there was delay in identifying the child's needs") at
    Inadequate: 1 of 3 inadequate (33.3%) is 25% or more — Inadequate,
    though 2 of 3 are Good."""
    early_identification = next(s.judgement for s in EARLY.sections if s.id == "early-identification")
    assert early_identification is not None
    suggestion = suggest_area(early_identification, {"needs-identified": 2, "previous-concerns": 2, "timely": 4})
    assert suggestion.grade == 4
    assert suggestion.steps == (
        "Inadequate if 25% or more of the features described as inadequate are evident: 1 of 3 (33.3%) are — yes.",
    )
    all_good = suggest_area(early_identification, {"needs-identified": 2, "previous-concerns": 2, "timely": 2})
    assert all_good.grade == 2
    assert all_good.steps[-1] == (
        "Good if at least 75% of the features described as good are evident: 3 of 3 (100%) are — yes."
    )


# Four features, each described at all three grades, to reach exactly 25%
# and 75% (no area of seed 000 has a multiple of four).
FOUR = SectionJudgement(
    prompt="Test area",
    impact_label="Reasons",
    features=tuple(
        Feature(id=f"f{i}", texts={2: f"good {i}", 3: f"adequate {i}", 4: f"inadequate {i}"}) for i in range(4)
    ),
)


@pytest.mark.parametrize(
    ("marked", "expected", "seed_line"),
    [
        ((2, 2, 2, 4), 4, "If 25% or more of the features above are evident … inadequate: 1 of 4 is 25%"),
        ((2, 2, 2, 3), 2, "good if at least 75% of the features above are evident: 3 of 4 is 75%"),
        ((2, 2, 3, 3), 3, "adequate if at least 75% of the features above are evident (or better): 4 of 4"),
    ],
)
def test_seed_000_features_at_the_boundaries(marked: tuple[int, ...], expected: int, seed_line: str) -> None:
    """Seed 000's "Overall judgement" row, over one area's four features."""
    suggestion = suggest_area(FOUR, {f"f{i}": m for i, m in enumerate(marked)})
    assert suggestion.grade == expected, seed_line


def _overall(
    area_marks: Mapping[str, Mapping[str, int]], safeguarded: int, area_grade: int = 2
) -> tuple[int | None, tuple[str, ...]]:
    suggestion = suggest_overall(EARLY, area_marks, {a: area_grade for a in EARLY_AREAS}, {"safeguarded": safeguarded})
    return suggestion.grade, suggestion.steps


def test_seed_000_overall_eight_of_31_inadequate_features_is_inadequate() -> None:
    """Seed 000: "If 25% or more of the features above are evident … the case
    should be considered inadequate." 25% of 31 is 7.75: 8 inadequate
    features (25.8%) make the case inadequate, 7 (22.6%) do not. Here
    Assessment's 10 features less two are Inadequate (8), the rest Good."""
    eight = all_marked(2, assessment={f: 4 for f in list(all_marked(2)["assessment"])[:8]})
    grade, steps = _overall(eight, safeguarded=2)
    assert grade == 4
    assert steps == (
        "Inadequate if 25% or more of the features described as inadequate are evident: 8 of 31 (25.8%) are — yes.",
    )
    seven = all_marked(2, assessment={f: 4 for f in list(all_marked(2)["assessment"])[:7]})
    grade, steps = _overall(seven, safeguarded=2)
    # 7 of 31 inadequate (22.6%): no. Good: 24 of 31 (77.4%) — and effectively
    # safeguarded — yes.
    assert grade == 2
    assert steps[0] == (
        "Inadequate if 25% or more of the features described as inadequate are evident: 7 of 31 (22.6%) are — no."
    )
    assert steps[-1] == (
        "Good if at least 75% of the features described as good are evident: 24 of 31 (77.4%) are, and the child "
        "has been effectively safeguarded and their welfare promoted throughout the work: yes — yes."
    )


def test_seed_000_overall_just_under_75_percent_good_is_adequate() -> None:
    """Seed 000: "good if at least 75% of the features above are evident";
    "adequate if at least 75% of the features above are evident (or
    better)". 23 of 31 features Good (74.2%) — under 75%, not good; the
    other 8 Adequate, so 30 of the 30 described at Adequate are evident or
    better: Adequate, the child "safeguarded and their welfare generally
    promoted" holding (effectively safeguarded holds too)."""
    ids = [(a, f) for a, fs in all_marked(2).items() for f in fs]
    # Mark 8 features adequate, none of them "child-centred" (which the seed
    # does not describe at Adequate).
    adequate = [(a, f) for a, f in ids if f != "child-centred"][:8]
    area_marks = all_marked(2)
    for a, f in adequate:
        area_marks[a][f] = 3
    grade, steps = _overall(area_marks, safeguarded=2)
    assert grade == 3
    assert "23 of 31 (74.2%) are" in steps[-2] and steps[-2].endswith("— no.")
    assert steps[-1].startswith(
        "Adequate if at least 75% of the features described as adequate are evident (or better): 30 of 30 (100%) are"
    )


def test_seed_000_the_safeguarding_conditions_decide_good_and_adequate() -> None:
    """Seed 000: good "providing the child has been effectively safeguarded and
    their welfare promoted throughout the work"; adequate "providing the
    child has been safeguarded and their welfare generally promoted". Every
    feature Good: with the first condition, outstanding is open (every area
    graded Good or better, every feature Good: "consistently good or
    better"); with only the second, Adequate; with neither, Inadequate."""
    assert _overall(all_marked(2), safeguarded=2)[0] == 1
    assert _overall(all_marked(2), safeguarded=3)[0] == 3
    grade, steps = _overall(all_marked(2), safeguarded=4)
    assert grade == 4 and steps[-1] == "None of these holds, so inadequate."
    # An area graded Adequate by the auditor: "only … outstanding overall if
    # every area of analysis has been judged good or better" — Good instead.
    assert _overall(all_marked(2), safeguarded=2, area_grade=3)[0] == 2


def test_seed_000_a_wholly_inadequate_area_is_counted_by_its_features() -> None:
    """Issue: "with five areas, one inadequate area (20%) can never make a
    case inadequate" — seed 000 counts features, not areas. Early
    Identification's 3 features Inadequate, the other 28 Good: 3 of 31
    (9.7%) inadequate — no; 28 of 31 (90.3%) Good and effectively
    safeguarded: Good. The area itself is Inadequate (3 of 3)."""
    area_marks = all_marked(2, early_identification={"needs-identified": 4, "previous-concerns": 4, "timely": 4})
    grade, steps = _overall(area_marks, safeguarded=2, area_grade=2)
    assert grade == 2
    assert steps[0].endswith("3 of 31 (9.7%) are — no.")
    early_identification = next(s.judgement for s in EARLY.sections if s.id == "early-identification")
    assert early_identification is not None
    assert suggest_area(early_identification, area_marks["early-identification"]).grade == 4


def test_seed_000_a_significant_failure_overrides_the_features() -> None:
    """Seed 000: "However, any significant failings will render the case
    inadequate." Every feature Good, effectively safeguarded, a failure
    recorded: Inadequate."""
    suggestion = suggest_overall(
        EARLY, all_marked(2), {a: 2 for a in EARLY_AREAS}, {"safeguarded": 2}, significant_failure=True
    )
    assert suggestion.grade == 4
    assert suggestion.steps[0].startswith("A significant failure which has impacted on the safety of the child")


def test_an_early_intervention_auditors_override_is_shown_beside_the_features() -> None:
    """Seed 000's rule suggests; the auditor confirms or gives another grade
    with a reason. Every feature Good and effectively safeguarded, every
    area graded Good: the features suggest Outstanding (1); the auditor
    states Good (2) with a reason. The judgement shows both and the
    reason. Partnership: five areas Good, Good overall."""
    area_marks = all_marked(2)
    content = ContributionContent(
        judgements={a: Judgement(grade=2, features=m) for a, m in area_marks.items()},
        overall=Judgement(grade=2, features={"safeguarded": 2}, override_reason="Consistency not yet shown"),
        answers={},
    )
    health = AgencyContribution(
        organisation_id="org-health",
        organisation_name="Demo health",
        agency_kind="health",
        status="submitted",
        content=content,
    )
    result = merge(EARLY, CASE, [health])
    assert result.overall.grade == 2
    [stated] = result.overall.stated
    assert (stated.stated_grade, stated.computed_grade, stated.differs) == (2, 1, True)
    assert stated.note == (
        "Demo health (health) stated Good (2) overall; the features it marked give Outstanding (1) under the "
        "grading guidance. Its reason: “Consistency not yet shown”."
    )


# --- 003's outcomes and key questions, merged -----------------------------------------


def test_every_child_matters_outcomes_and_key_questions_are_merged() -> None:
    """Seed 003: "Every Child Matters outcomes: All agencies: What impact has
    the work undertaken had on improving outcomes for this child?" with a
    grade each, and "Key questions to be answered at the end of the audit:
    Is the child currently safe …? When was the case last reviewed?".
    Being Healthy: health 2, police 4 — 1 of 2 (50%) inadequate:
    Inadequate, two grades apart. Is the child safe: health yes, police no
    — No (one agency's concern stands), the answers differ. Last reviewed:
    10 January and 1 March 2025 — the latest, 1 March, the dates differ."""
    answers = {
        "health": {"ecm-being-healthy": 2, "child-currently-safe": "yes", "case-last-reviewed": "2025-01-10"},
        "police": {"ecm-being-healthy": 4, "child-currently-safe": "no", "case-last-reviewed": "2025-03-01"},
    }
    result = merge(CP, CASE, [submitted(kind, answers=a) for kind, a in answers.items()])
    items = {i.question_id: i for i in result.items}
    healthy = items["ecm-being-healthy"]
    assert (healthy.value, healthy.label, healthy.disagreement, healthy.spread) == (4, "Inadequate", True, 2)
    assert [(a.agency_kind, a.value) for a in healthy.agencies] == [("health", 2), ("police", 4)]
    safe = items["child-currently-safe"]
    assert (safe.value, safe.label, safe.disagreement) == ("no", "No", True)
    assert safe.rule == "No because Demo police (police) answered so: one agency's concern stands for the partnership."
    reviewed = items["case-last-reviewed"]
    assert (reviewed.value, reviewed.label, reviewed.disagreement) == ("2025-03-01", "1 March 2025", True)
    assert reviewed.rule == (
        "The most recent date any agency gave: 1 March 2025 (Demo police (police)); "
        "the agencies gave 2 different dates."
    )
    assert [i.question_id for i in result.items] == [
        "child-currently-safe",
        "case-last-reviewed",
        "ecm-being-healthy",
        "ecm-staying-safe",
        "ecm-enjoying-achieving",
        "ecm-positive-contribution",
        "ecm-economic-well-being",
    ]


def test_002s_graded_items_outside_a_section_judgement_are_merged() -> None:
    """Seed 002, "Section 7: General Observations" has no summary judgement;
    its items ("How well is the voice of the child evident overall, and how
    much impact has it had?") and "JUDGEMENT OF CASE FILE IN THE LAST 3
    MONTHS" are grades the partnership's view showed nowhere."""
    result = merge(
        TIER2,
        CASE,
        [submitted("childrens-social-care", answers={"observations-voice-of-child": 3, "judgement-last-3-months": 2})],
    )
    items = {i.question_id: i for i in result.items}
    assert (items["observations-voice-of-child"].value, items["observations-voice-of-child"].label) == (
        3,
        "Requires Improvement",
    )
    assert items["judgement-last-3-months"].value == 2
    assert items["judgement-last-3-months"].rule == (
        "Good because Demo childrens-social-care (childrens-social-care) graded 2, the only agency grade on this "
        "question, under the weakest-link rule."
    )


# --- closing ---------------------------------------------------------------------------


def test_a_closed_audits_judgement_is_final_and_names_who_never_submitted() -> None:
    """DESIGN: "Once the audit is closed the judgement is final." Health
    submitted Good throughout; police never did. Open: provisional,
    awaiting police. Closed: final, not provisional, police named as never
    having submitted; the grades are health's, Good."""
    contributions = [submitted("health", grades=every(CP_AREAS, 2), overall=2), draft("police")]
    open_ = merge(CP, CASE, contributions)
    assert open_.provisional and [a.agency_kind for a in open_.awaiting] == ["police"]
    closed = merge(CP, CASE, contributions, final=True)
    assert (closed.final, closed.provisional, closed.awaiting) == (True, False, ())
    assert [(a.agency_kind, a.status) for a in closed.never_submitted] == [("police", "in-progress")]
    assert not any(s.provisional for s in closed.sections)
    assert closed.overall.grade == 2 and grades(closed) == every(CP_AREAS, 2)


def test_answers_of_a_not_involved_section_never_reach_the_merge() -> None:
    """Seed 003, "All relevant agencies": the Every Child Matters outcomes
    are not a stage an agency can be not involved in, but a section is;
    whatever a not-involved agency left in a section it marked, its grade
    is not part of that section (validation refuses it; the merge ignores
    it too)."""
    contribution = submitted(
        "education", grades={"assessment-s47-enquiry": 4}, not_involved={"assessment-s47-enquiry": NO_S47}
    )
    result = merge(CP, CASE, [submitted("health", grades={"assessment-s47-enquiry": 2}), contribution])
    assert section(result, "assessment-s47-enquiry").grade == 2
    assert [a.agency_kind for a in section(result, "assessment-s47-enquiry").agencies] == ["health"]
