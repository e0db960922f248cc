"""merge(): provenance, disagreement, immediate concerns, provisional views,
moderation, and the seed 000 scenarios end to end."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from agencies.kinds import AGENCY_KIND_CODES
from merging import (
    OVERALL,
    POLICIES,
    CaseFacts,
    PartnershipJudgement,
    SectionResult,
    UnknownPolicy,
    merge,
    policy_for,
    policy_named,
)
from tests.merging.builders import OFSTED_SCALE, a_toolkit, agreed, draft, submitted
from toolkits.answers import Answer, CaseDetails
from toolkits.registry import load_registry

CASE = CaseFacts()
ALL_GOOD = {"referral": 2, "assessment": 2, "planning": 2, "review": 2}


def section(judgement: PartnershipJudgement, section_id: str) -> SectionResult:
    return next(s for s in judgement.sections if s.section_id == section_id)


# --- seed 000 scenarios, through merge ----------------------------------------

# (each agency's area grades, significant failure answered yes by the first
# agency, expected overall, the seed 000 sentence)
SCENARIOS = [
    ([ALL_GOOD], False, 2, "good if at least 75% of the features above are evident"),
    (
        [{"referral": 2, "assessment": 2, "planning": 2, "review": 3}],
        False,
        2,
        "good: 3 of 4 areas good, none inadequate — 75% good or better",
    ),
    (
        [{"referral": 2, "assessment": 3, "planning": 3, "review": 3}],
        False,
        3,
        "adequate if at least 75% of the features above are evident (or better)",
    ),
    (
        [{"referral": 1, "assessment": 1, "planning": 1, "review": 1}],
        False,
        1,
        "can only be judged as outstanding overall if every area … has been judged good or better",
    ),
    (
        [{"referral": 1, "assessment": 1, "planning": 1, "review": 3}],
        False,
        2,
        "outstanding only if every area good or better: one area adequate",
    ),
    (
        [ALL_GOOD, {"referral": 2, "assessment": 2, "planning": 2, "review": 4}],
        False,
        4,
        "If 25% or more … inadequate: one agency's inadequate review makes 1 of 4 areas inadequate",
    ),
    ([ALL_GOOD], True, 4, "or if there is a significant failure which has impacted on the safety of the child"),
]


@pytest.mark.parametrize(("agencies", "failure", "expected", "seed_line"), SCENARIOS)
def test_seed_000_scenarios(agencies: list[dict[str, int]], failure: bool, expected: int, seed_line: str) -> None:
    kinds = ["health", "police", "education"]
    contributions = [
        submitted(kinds[i], grades=grades, answers={"significant-failure": "yes" if failure and i == 0 else "no"})
        for i, grades in enumerate(agencies)
    ]
    assert merge(a_toolkit(), CASE, contributions).overall.grade == expected, seed_line


# --- sections: grade, provenance, rule, disagreement ---------------------------


def test_a_section_applies_the_75_25_thresholds_to_the_agencies_grades() -> None:
    """Issue: "the section grade applies seed 000's thresholds to the involved
    agencies' grades … inadequate if 25% or more are inadequate". One of two
    agencies (50%) graded 4: inadequate."""
    result = merge(
        a_toolkit(),
        CASE,
        [submitted("health", grades={"referral": 2}), submitted("police", grades={"referral": 4})],
    )
    referral = section(result, "referral")
    assert (referral.grade, referral.label) == (4, "Inadequate")
    assert referral.rule == (
        "Inadequate because Demo police (police) graded 4: 1 of the 2 agency grades (50%) is inadequate, "
        "25% or more, under the partnership's 75% / 25% rule."
    )
    assert [(a.organisation_name, a.agency_kind, a.grade, a.label) for a in referral.agencies] == [
        ("Demo health", "health", 2, "Good"),
        ("Demo police", "police", 4, "Inadequate"),
    ]


def test_an_audit_of_the_first_edition_keeps_the_weakest_agency_section_rule() -> None:
    """An audit created before the rules' second edition keeps its judgement:
    under the first edition the 75% / 25% rule took each section at its
    weakest agency grade. Four agencies, one adequate: the second edition
    says good (3 of 4 good, none inadequate), the first adequate."""
    grades = [submitted(k, grades={"referral": 2}) for k in ("health", "police", "education")]
    grades.append(submitted("housing", grades={"referral": 3}))
    first = merge(a_toolkit(), CASE, grades, policy=policy_for(a_toolkit(), 1))
    second = merge(a_toolkit(), CASE, grades)
    assert (section(first, "referral").grade, first.rules_edition) == (3, 1)
    assert section(first, "referral").rule == (
        "Adequate because Demo housing (housing) graded 3 and the weakest agency grade stands, under the "
        "partnership's 75% / 25% rule (first edition)."
    )
    assert (section(second, "referral").grade, second.rules_edition) == (2, 2)


def test_the_rule_names_every_agency_at_the_decisive_grade() -> None:
    result = merge(
        a_toolkit(policy="weakest-link"),
        CASE,
        [
            submitted("health", grades={"referral": 3}),
            submitted("police", grades={"referral": 3}),
            submitted("education", grades={"referral": 2}),
        ],
    )
    assert section(result, "referral").rule == (
        "Adequate because Demo health (health) and Demo police (police) graded 3 and the weakest agency grade "
        "stands, under the weakest-link rule."
    )


def test_the_rule_says_when_every_agency_agreed_or_only_one_graded() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [
            submitted("health", grades={"referral": 2, "assessment": 1}),
            submitted("police", grades={"referral": 2}),
        ],
    )
    assert section(result, "referral").rule == (
        "Good because every agency graded 2 (Demo health (health) and Demo police (police)), "
        "under the partnership's 75% / 25% rule."
    )
    assert section(result, "assessment").rule == (
        "Outstanding because Demo health (health) graded 1, the only agency grade on this section, "
        "under the partnership's 75% / 25% rule."
    )


def test_the_median_rule_explains_the_pull() -> None:
    result = merge(
        a_toolkit(policy="median", scale=OFSTED_SCALE),
        CASE,
        [
            submitted("health", grades={"referral": 1}),
            submitted("education", grades={"referral": 1}),
            submitted("probation", grades={"referral": 1}),
            submitted("police", grades={"referral": 4}),
        ],
    )
    referral = section(result, "referral")
    assert (referral.grade, referral.label) == (3, "Requires improvement")
    assert referral.rule == (
        "Requires improvement because Demo police (police) graded 4 and an inadequate grade pulls the section to "
        "requires improvement or worse (the median of the agency grades 1, 1, 1, 4, rounded towards worse, is 1), "
        "under the median rule."
    )


def test_agencies_two_grades_apart_are_flagged_with_who_is_at_each_end() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [
            submitted("health", grades={"referral": 1, "assessment": 2}),
            submitted("police", grades={"referral": 3, "assessment": 3}),
            submitted("education", grades={"referral": 1, "assessment": 2}),
        ],
    )
    referral = section(result, "referral").disagreement
    assert referral is not None
    assert referral.spread == 2
    assert [a.agency_kind for a in referral.best] == ["education", "health"]
    assert [(a.agency_kind, a.label) for a in referral.worst] == [("police", "Adequate")]
    assert section(result, "assessment").disagreement is None  # one grade apart


def test_agencies_own_overall_judgements_are_shown_and_disagreement_flagged() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [submitted("health", overall=1), submitted("police", overall=3), draft("education", overall=4)],
    )
    assert [(a.agency_kind, a.grade) for a in result.overall.agencies] == [("health", 1), ("police", 3)]
    assert result.overall.disagreement is not None and result.overall.disagreement.spread == 2


def test_a_section_nobody_graded_says_so_and_is_left_out_of_the_overall() -> None:
    result = merge(a_toolkit(), CASE, [submitted("health", grades={"referral": 2, "assessment": 2, "planning": 2})])
    review = section(result, "review")
    assert (review.grade, review.rule) == (None, "No agency has submitted a grade for this section yet.")
    assert result.overall.counts.areas == 3 and result.overall.counts.not_yet_graded == 1
    assert "Not graded yet, so left out: Review." in result.overall.trace
    assert result.overall.grade == 2


def test_nothing_submitted_yet_has_no_grades_and_says_so() -> None:
    result = merge(a_toolkit(), CASE, [draft("health", grades={"referral": 1})])
    assert all(s.grade is None for s in result.sections)
    assert result.overall.grade is None
    assert result.overall.trace[-1] == "No area has a partnership grade yet."


def test_grades_off_the_scale_are_not_merged() -> None:
    result = merge(a_toolkit(), CASE, [submitted("health", grades={"referral": 5, "assessment": True})])
    assert section(result, "referral").agencies == () and section(result, "assessment").agencies == ()


# --- overall --------------------------------------------------------------------


def test_the_overall_trace_and_counts() -> None:
    grades = {"referral": 1, "assessment": 2, "planning": 2, "review": 3}
    result = merge(a_toolkit(), CASE, [submitted("health", grades=grades)])
    overall = result.overall
    assert (overall.grade, overall.label) == (2, "Good")
    assert msgspec.structs.asdict(overall.counts) == {
        "areas": 4,
        "outstanding": 1,
        "good_or_better": 3,
        "adequate_or_better": 4,
        "inadequate": 0,
        "not_yet_graded": 0,
        "not_involved": 0,
    }
    assert overall.trace == (
        "4 areas graded: Referral Outstanding (1); Assessment Good (2); Planning Good (2); Review Adequate (3).",
        "Inadequate if 25% or more of the areas are inadequate: 0 of 4 (0%) are — no.",
        "Outstanding only if every area is good or better, and at least 75% are outstanding: "
        "3 of 4 (75%) are good or better, 1 of 4 (25%) outstanding — no.",
        "Good if at least 75% of the areas are good or better and none is inadequate: "
        "3 of 4 (75%) are good or better, 0 inadequate — yes.",
        "Overall: Good, under the partnership's 75% / 25% rule.",
    )


def test_sections_that_are_not_areas_do_not_count_towards_the_overall() -> None:
    toolkit = a_toolkit(["referral", "assessment"], not_areas=["outcomes"])
    result = merge(toolkit, CASE, [submitted("health", grades={"referral": 2, "assessment": 2, "outcomes": 4})])
    assert section(result, "outcomes").grade == 4 and not section(result, "outcomes").counts_towards_overall
    assert (result.overall.grade, result.overall.counts.areas) == (2, 2)


def test_weakest_link_overall_is_the_weakest_area() -> None:
    grades = {"referral": 1, "assessment": 1, "planning": 1, "review": 3}
    result = merge(a_toolkit(policy="weakest-link"), CASE, [submitted("health", grades=grades)])
    assert result.overall.grade == 3
    assert "The weakest area grade stands: 3 (Adequate)." in result.overall.trace


# --- immediate concerns ---------------------------------------------------------


def test_a_submitted_significant_failure_makes_the_case_inadequate_under_every_policy() -> None:
    for name in POLICIES:
        result = merge(
            a_toolkit(),
            CASE,
            [submitted("health", grades=ALL_GOOD, answers={"significant-failure": "yes"})],
            policy=name,
        )
        assert result.overall.grade == 4, name
        assert "Demo health (health) recorded a significant failure" in result.overall.trace[1]
        assert [(c.kind, c.submitted, c.status) for c in result.immediate_concerns] == [
            ("significant-failure", True, "submitted")
        ]
        assert all(s.grade == 2 for s in result.sections), "the areas keep their grades"


def test_a_draft_raises_its_concern_at_once_without_changing_grades() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [
            submitted("health", grades=ALL_GOOD),
            draft("police", answers={"child-safe": "no", "significant-failure": "yes", "escalate": "no"}),
        ],
    )
    assert result.overall.grade == 2
    assert [(c.agency_kind, c.kind, c.submitted, c.status) for c in result.immediate_concerns] == [
        ("police", "child-not-safe", False, "in-progress"),
        ("police", "significant-failure", False, "in-progress"),
    ]
    concern = result.immediate_concerns[0]
    assert (concern.section_id, concern.question_id, concern.question, concern.answer, concern.message) == (
        "key-questions",
        "child-safe",
        "Is the child currently safe?",
        "no",
        "Notify the manager",
    )
    assert any("in a contribution not yet submitted" in step for step in result.overall.trace)


def test_concerns_come_from_every_status_most_pressing_first() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [
            submitted("health", answers={"escalate": "yes", "child-safe": "yes"}),
            draft("police", status="returned", answers={"concerns": ["neglect", "harm-now"]}),
            draft("education", status="not-started", answers={"child-safe": "no"}),
        ],
    )
    assert [(c.agency_kind, c.kind, c.answer, c.submitted) for c in result.immediate_concerns] == [
        ("education", "child-not-safe", "no", False),
        ("police", "child-not-safe", "harm-now", False),
        ("health", "escalation", "yes", True),
    ]


def test_no_alert_no_concern() -> None:
    result = merge(a_toolkit(), CASE, [submitted("health", answers={"child-safe": "yes", "concerns": ["neglect"]})])
    assert result.immediate_concerns == ()


# --- provisional ----------------------------------------------------------------


def test_a_view_missing_agencies_is_provisional_and_says_which() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [
            submitted("health", grades={"referral": 2}),
            draft("police"),
            draft("education", status="not-started"),
            draft("housing", status="returned"),
        ],
    )
    assert result.provisional
    assert [(a.organisation_name, a.status) for a in result.awaiting] == [
        ("Demo education", "not-started"),
        ("Demo housing", "returned"),
        ("Demo police", "in-progress"),
    ]
    referral = section(result, "referral")
    assert referral.provisional and [a.agency_kind for a in referral.awaiting] == ["education", "housing", "police"]

    complete = merge(a_toolkit(), CASE, [submitted("health", grades={"referral": 2})])
    assert not complete.provisional and complete.awaiting == ()
    assert not section(complete, "referral").provisional


def test_a_section_only_the_referrer_judges_waits_only_for_the_referrer() -> None:
    toolkit = a_toolkit(["referral", "assessment"], referrer_only=["referral"])
    contributions = [
        submitted("childrens-social-care", grades={"referral": 2, "assessment": 2}),
        draft("police", organisation="org-police"),
        draft("health", organisation="org-health"),
    ]
    result = merge(toolkit, CaseFacts(referring_organisation_id="org-police"), contributions)
    assert [a.agency_kind for a in section(result, "referral").awaiting] == ["police"]
    assert [a.agency_kind for a in section(result, "assessment").awaiting] == ["health", "police"]
    assert result.provisional and len(result.awaiting) == 2


def test_conditional_sections_follow_the_case_details() -> None:
    toolkit = a_toolkit(
        ["referral", "planning-cp", "planning-lac"],
        conditional={"planning-cp": ("cp", "cin"), "planning-lac": ("lac",)},
    )
    grades = {"referral": 2, "planning-cp": 2, "planning-lac": 4}
    cp = merge(toolkit, CaseFacts(case_details={"case-type": "cp"}), [submitted("health", grades=grades)])
    assert [s.section_id for s in cp.sections] == ["referral", "planning-cp"]
    assert cp.overall.grade == 2
    unknown = merge(toolkit, CASE, [submitted("health", grades=grades)])
    assert [s.section_id for s in unknown.sections] == ["referral", "planning-cp", "planning-lac"]


def test_the_case_is_read_from_the_coordinators_case_details_and_the_referring_organisation() -> None:
    toolkit = a_toolkit(
        ["referral", "planning-cp", "planning-lac"],
        referrer_only=["referral"],
        conditional={"planning-cp": ("cp", "cin"), "planning-lac": ("lac",)},
    )
    police = uuid.UUID("0b7c2c4e-52a1-4a8e-9d2e-3f1c6b8a9d01")  # the referrer, as the audit records it
    looked_after = CaseDetails(answers={"case-type": Answer(value="lac"), "child-initials": Answer(value="AB")})
    case = CaseFacts.of(looked_after, referring_organisation_id=police)
    assert case == CaseFacts(
        referring_organisation_id=str(police), case_details={"case-type": "lac", "child-initials": "AB"}
    )
    result = merge(toolkit, case, [draft("police", organisation=str(police)), draft("health")])
    assert [s.section_id for s in result.sections] == ["referral", "planning-lac"]
    assert [a.agency_kind for a in section(result, "referral").awaiting] == ["police"]
    # No referrer recorded and no case details yet: nothing known about the case.
    assert CaseFacts.of(CaseDetails(), referring_organisation_id=None) == CASE


# --- moderation -----------------------------------------------------------------


def test_a_moderated_grade_is_shown_with_its_reason_and_the_computed_one_kept() -> None:
    result = merge(
        a_toolkit(policy="weakest-link"),
        CASE,
        [submitted("health", grades={"referral": 1}), submitted("police", grades={"referral": 2})],
        moderations=[agreed("referral", 3, "Panel agreed the referral was late", by="A. Reviewer")],
    )
    referral = section(result, "referral")
    assert (referral.grade, referral.label, referral.computed_grade, referral.computed_label) == (
        3,
        "Adequate",
        2,
        "Good",
    )
    assert referral.moderation is not None
    assert (referral.moderation.reason, referral.moderation.moderated_by, referral.moderation.moderated_at) == (
        "Panel agreed the referral was late",
        "A. Reviewer",
        "2026-11-23T10:00:00+00:00",
    )
    assert referral.rule.endswith(
        "Moderated to Adequate by A. Reviewer on 2026-11-23T10:00:00+00:00: Panel agreed the referral was late"
    )


def test_an_agreed_section_grade_is_what_the_overall_counts() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [submitted("health", grades=ALL_GOOD)],
        moderations=[agreed("review", 4, "The plan was never reviewed")],
    )
    assert result.overall.grade == 4  # 1 of 4 areas (25%) now inadequate
    assert "Review counts as Inadequate, the grade the partnership agreed (computed Good)." in result.overall.trace


def test_the_overall_grade_can_be_moderated_too() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [submitted("health", grades=ALL_GOOD)],
        moderations=[agreed(OVERALL, 3, "Panel view: the child's welfare was only generally promoted")],
    )
    assert (result.overall.grade, result.overall.label, result.overall.computed_grade) == (3, "Adequate", 2)
    assert result.overall.trace[-1].startswith("Moderated to Adequate by Panel chair")


def test_a_section_can_be_agreed_before_anyone_has_graded_it() -> None:
    result = merge(a_toolkit(), CASE, [draft("health")], moderations=[agreed("referral", 2, "Agreed at panel")])
    referral = section(result, "referral")
    assert (referral.grade, referral.computed_grade) == (2, None)


def test_of_two_moderations_of_one_section_the_later_stands_in_any_order() -> None:
    earlier = agreed("referral", 4, "first view", at="2026-11-01T10:00:00+00:00")
    later = agreed("referral", 2, "after hearing police", at="2026-11-20T10:00:00+00:00")
    for moderations in ([earlier, later], [later, earlier]):
        result = merge(a_toolkit(), CASE, [submitted("health", grades={"referral": 3})], moderations=moderations)
        assert section(result, "referral").grade == 2


def test_moderations_of_unknown_sections_or_grades_off_the_scale_are_ignored() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [submitted("health", grades={"referral": 3})],
        moderations=[agreed("nowhere", 1, "x"), agreed("referral", 7, "x")],
    )
    assert section(result, "referral").moderation is None


# --- policy choice, output ------------------------------------------------------


def test_the_policy_defaults_to_the_toolkits_and_can_be_chosen() -> None:
    contributions = [submitted("health", grades={"referral": 1}), submitted("police", grades={"referral": 4})]
    by_default = merge(a_toolkit(policy="median"), CASE, contributions)
    assert (by_default.policy, by_default.policy_description) == ("median", POLICIES["median"].description)
    chosen = merge(a_toolkit(policy="median"), CASE, contributions, policy="weakest-link")
    assert (chosen.policy, section(chosen, "referral").grade) == ("weakest-link", 4)
    as_object = merge(a_toolkit(), CASE, contributions, policy=policy_named("median"))
    assert as_object.policy == "median"
    with pytest.raises(UnknownPolicy):
        merge(a_toolkit(), CASE, contributions, policy="best-of")


def test_the_judgement_encodes_to_json_and_back() -> None:
    result = merge(
        a_toolkit(),
        CaseFacts(referring_organisation_id="org-health"),
        [
            submitted("health", grades={"referral": 1}, answers={"child-safe": "no"}, overall=2),
            submitted("police", grades={"referral": 3}),
            draft("education"),
        ],
        moderations=[agreed("referral", 2, "agreed")],
    )
    assert msgspec.json.decode(msgspec.json.encode(result), type=PartnershipJudgement) == result


def test_a_toolkit_rebuilt_with_the_same_id_and_version_is_not_confused_with_the_first() -> None:
    first = merge(a_toolkit(["referral"]), CASE, [submitted("health", grades={"referral": 2})])
    second = merge(a_toolkit(["assessment"]), CASE, [submitted("health", grades={"assessment": 3})])
    assert [s.section_id for s in first.sections] == ["referral"]
    assert [s.section_id for s in second.sections] == ["assessment"]


# --- the real toolkits ----------------------------------------------------------

REGISTRY = load_registry(agency_kinds=AGENCY_KIND_CODES, merge_policies=set(POLICIES))


@pytest.mark.parametrize("toolkit_id", REGISTRY.ids())
def test_every_seed_toolkit_merges_under_every_policy(toolkit_id: str) -> None:
    toolkit = REGISTRY.current(toolkit_id)
    assert toolkit.merge_policy in POLICIES
    judged = [s.id for s in toolkit.sections if s.judgement is not None and s.completed_by == "agency"]
    assert judged, "every seed toolkit has graded agency sections"
    contributions = [
        submitted(kind, grades={s: 1 + (i + j) % 4 for j, s in enumerate(judged)}, overall=2)
        for i, kind in enumerate(["childrens-social-care", "health", "police", "education"])
    ]
    for name in POLICIES:
        result = merge(toolkit, CASE, contributions, policy=name)
        assert len(result.sections) == len(judged)
        assert all(s.grade is not None for s in result.sections)
        assert result.overall.grade in (1, 2, 3, 4)
