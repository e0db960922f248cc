"""Properties every policy keeps, checked by hypothesis."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from merging import POLICIES, CaseFacts, merge
from tests.merging.builders import a_toolkit, draft, submitted

SECTIONS = ("referral", "assessment", "planning", "review")
AGENCIES = ("health", "police", "education", "childrens-social-care", "housing", "probation")
TOOLKIT = a_toolkit(SECTIONS)
CASE = CaseFacts()

grades_of_one_agency = st.fixed_dictionaries({}, optional={s: st.integers(1, 4) for s in SECTIONS})
agency_grades = st.lists(grades_of_one_agency, min_size=1, max_size=len(AGENCIES))
policies = st.sampled_from(sorted(POLICIES))


def contributions(all_grades: list[dict[str, int]]):  # type: ignore[no-untyped-def]
    return [submitted(AGENCIES[i], grades=grades) for i, grades in enumerate(all_grades)]


def partnership_grades(judgement):  # type: ignore[no-untyped-def]
    return [s.grade for s in judgement.sections] + [judgement.overall.grade]


def worse_or_equal(after: int | None, before: int | None) -> bool:
    # None (nothing graded) only stays None: worsening a grade never removes it.
    return (before is None and after is None) or (before is not None and after is not None and after >= before)


@settings(max_examples=200, deadline=None)
@given(agency_grades, policies, st.randoms(use_true_random=False))
def test_the_order_of_contributions_does_not_matter(all_grades, policy, random) -> None:  # type: ignore[no-untyped-def]
    given_order = contributions(all_grades)
    shuffled = list(given_order)
    random.shuffle(shuffled)
    assert merge(TOOLKIT, CASE, given_order, policy) == merge(TOOLKIT, CASE, shuffled, policy)


@settings(max_examples=300, deadline=None)
@given(agency_grades, policies, st.data())
def test_worsening_any_agency_grade_never_improves_any_partnership_grade(all_grades, policy, data) -> None:  # type: ignore[no-untyped-def]
    graded = [(i, s) for i, grades in enumerate(all_grades) for s in grades if grades[s] < 4]
    if not graded:
        return
    agency, section_id = data.draw(st.sampled_from(graded))
    worse = [dict(grades) for grades in all_grades]
    worse[agency][section_id] = data.draw(st.integers(worse[agency][section_id] + 1, 4))
    before = partnership_grades(merge(TOOLKIT, CASE, contributions(all_grades), policy))
    after = partnership_grades(merge(TOOLKIT, CASE, contributions(worse), policy))
    assert all(worse_or_equal(a, b) for a, b in zip(after, before, strict=True)), (before, after)


@settings(max_examples=200, deadline=None)
@given(agency_grades, policies)
def test_every_input_grade_appears_in_the_provenance(all_grades, policy) -> None:  # type: ignore[no-untyped-def]
    result = merge(TOOLKIT, CASE, contributions(all_grades), policy)
    shown = {(a.agency_kind, s.section_id, a.grade) for s in result.sections for a in s.agencies}
    given_grades = {(AGENCIES[i], s, g) for i, grades in enumerate(all_grades) for s, g in grades.items()}
    assert shown == given_grades


@settings(max_examples=200, deadline=None)
@given(agency_grades, policies, grades_of_one_agency)
def test_a_non_submitted_agency_makes_it_provisional_and_changes_no_grade(all_grades, policy, draft_grades) -> None:  # type: ignore[no-untyped-def]
    without = merge(TOOLKIT, CASE, contributions(all_grades), policy)
    with_draft = merge(TOOLKIT, CASE, [*contributions(all_grades), draft("youth-justice", grades=draft_grades)], policy)
    assert not without.provisional
    assert with_draft.provisional and [a.agency_kind for a in with_draft.awaiting] == ["youth-justice"]
    assert partnership_grades(with_draft) == partnership_grades(without)


@settings(max_examples=200, deadline=None)
@given(grades_of_one_agency, policies)
def test_merging_one_contribution_gives_its_grades(grades, policy) -> None:  # type: ignore[no-untyped-def]
    result = merge(TOOLKIT, CASE, [submitted("health", grades=grades)], policy)
    assert {s.section_id: s.grade for s in result.sections} == {s: grades.get(s) for s in SECTIONS}


@settings(max_examples=200, deadline=None)
@given(agency_grades, policies)
def test_disagreement_is_flagged_exactly_when_grades_are_two_or_more_apart(all_grades, policy) -> None:  # type: ignore[no-untyped-def]
    result = merge(TOOLKIT, CASE, contributions(all_grades), policy)
    for s in result.sections:
        grades = [a.grade for a in s.agencies]
        assert (s.disagreement is not None) == (bool(grades) and max(grades) - min(grades) >= 2)
