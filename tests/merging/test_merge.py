"""merge(): provenance, disagreement, concerns, provisional views, moderation."""

from __future__ import annotations

from merging import OVERALL, CaseFacts, Moderation, merge
from tests.merging.builders import a_toolkit, draft, submitted

CASE = CaseFacts()


def section(judgement, section_id):  # type: ignore[no-untyped-def]
    return next(s for s in judgement.sections if s.section_id == section_id)


def test_weakest_link_says_who_and_why() -> None:
    toolkit = a_toolkit(policy="weakest-link")
    result = merge(
        toolkit,
        CASE,
        [submitted("health", grades={"referral": 2}), submitted("police", grades={"referral": 4})],
    )
    referral = section(result, "referral")
    assert (referral.grade, referral.label) == (4, "Inadequate")
    assert referral.rule.startswith("Inadequate because Demo police (police) graded 4")
    assert referral.rule.endswith("under the weakest-link policy.")
    assert [(a.agency_kind, a.grade, a.label) for a in referral.agencies] == [
        ("health", 2, "Good"),
        ("police", 4, "Inadequate"),
    ]


def test_agencies_two_grades_apart_are_flagged_with_who_is_at_each_end() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [
            submitted("health", grades={"referral": 1, "assessment": 2}),
            submitted("police", grades={"referral": 3, "assessment": 3}),
            submitted("education", grades={"referral": 2, "assessment": 2}),
        ],
    )
    referral = section(result, "referral").disagreement
    assert referral is not None
    assert referral.spread == 2
    assert [a.agency_kind for a in referral.best] == ["health"]
    assert [a.agency_kind for a in referral.worst] == ["police"]
    assert section(result, "assessment").disagreement is None  # one grade apart


def test_overall_follows_the_75_25_rule_with_counts() -> None:
    grades = {"referral": 2, "assessment": 2, "planning": 2, "review": 3}
    result = merge(a_toolkit(), CASE, [submitted("health", grades=grades)])
    assert (result.overall.grade, result.overall.label) == (2, "Good")
    assert result.overall.counts.areas == 4
    assert result.overall.counts.good_or_better == 3
    assert result.overall.counts.inadequate == 0
    assert "3 of 4 (75%) areas good or better (75% or more) and none inadequate" in result.overall.trace


def test_a_submitted_significant_failure_makes_the_case_inadequate() -> None:
    grades = {"referral": 1, "assessment": 1, "planning": 1, "review": 1}
    result = merge(
        a_toolkit(),
        CASE,
        [submitted("health", grades=grades, answers={"significant-failure": "yes"})],
    )
    assert result.overall.grade == 4
    assert result.overall.trace[-1].startswith("Inadequate: a significant failure")
    assert [(c.kind, c.submitted) for c in result.immediate_concerns] == [("significant-failure", True)]


def test_a_draft_raises_its_concern_at_once_without_changing_grades() -> None:
    grades = {"referral": 1, "assessment": 1, "planning": 1, "review": 1}
    result = merge(
        a_toolkit(),
        CASE,
        [
            submitted("health", grades=grades),
            draft("police", answers={"child-safe": "no", "significant-failure": "yes"}),
        ],
    )
    assert result.overall.grade == 1
    assert [(c.agency_kind, c.kind, c.submitted) for c in result.immediate_concerns] == [
        ("police", "child-not-safe", False),
        ("police", "significant-failure", False),
    ]
    assert result.immediate_concerns[0].message == "Notify the manager"


def test_a_view_missing_agencies_is_provisional_and_says_which() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [submitted("health", grades={"referral": 2}), draft("police"), draft("education", status="not-started")],
    )
    assert result.provisional
    assert [(a.agency_kind, a.status) for a in result.awaiting] == [
        ("education", "not-started"),
        ("police", "in-progress"),
    ]
    complete = merge(a_toolkit(), CASE, [submitted("health", grades={"referral": 2})])
    assert not complete.provisional and complete.awaiting == ()


def test_a_moderated_grade_is_shown_with_its_reason_and_the_computed_one_kept() -> None:
    moderation = Moderation(
        target="referral",
        grade=3,
        reason="Panel agreed the referral was late",
        moderated_by="reviewer",
        moderated_at="2026-11-23T10:00:00Z",
    )
    result = merge(
        a_toolkit(policy="weakest-link"),
        CASE,
        [submitted("health", grades={"referral": 1}), submitted("police", grades={"referral": 2})],
        moderations=[moderation],
    )
    referral = section(result, "referral")
    assert (referral.grade, referral.label, referral.computed_grade) == (3, "Adequate", 2)
    assert referral.moderation is not None and referral.moderation.reason == "Panel agreed the referral was late"
    assert referral.rule.endswith("Moderated to Adequate: Panel agreed the referral was late")


def test_the_overall_grade_can_be_moderated_too() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [submitted("health", grades={"referral": 2, "assessment": 2, "planning": 2, "review": 2})],
        moderations=[Moderation(target=OVERALL, grade=3, reason="x", moderated_by="r", moderated_at="t")],
    )
    assert (result.overall.grade, result.overall.computed_grade) == (3, 2)


def test_each_agencys_own_overall_judgement_is_shown() -> None:
    result = merge(
        a_toolkit(),
        CASE,
        [submitted("health", overall=2), submitted("police", overall=3), draft("education", overall=1)],
    )
    assert [(a.agency_kind, a.grade) for a in result.overall.agencies] == [("health", 2), ("police", 3)]


def test_nothing_submitted_yet_has_no_grades_and_says_so() -> None:
    result = merge(a_toolkit(), CASE, [draft("health", grades={"referral": 1})])
    assert all(s.grade is None for s in result.sections)
    assert section(result, "referral").rule == "No agency has submitted a grade for this section yet."
    assert result.overall.grade is None
    assert result.overall.trace == ("No area has a partnership grade yet.",)


def test_the_policy_defaults_to_the_toolkits_and_can_be_chosen() -> None:
    contributions = [submitted("health", grades={"referral": 1}), submitted("police", grades={"referral": 4})]
    assert merge(a_toolkit(policy="median"), CASE, contributions).policy == "median"
    chosen = merge(a_toolkit(policy="median"), CASE, contributions, policy="weakest-link")
    assert (chosen.policy, section(chosen, "referral").grade) == ("weakest-link", 4)
