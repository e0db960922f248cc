"""Properties every policy keeps, checked by hypothesis."""

from __future__ import annotations

from collections.abc import Sequence
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from merging import POLICIES, AgencyContribution, CaseFacts, ContributionStatus, Moderation, PartnershipJudgement, merge
from merging.policies import seventy_five_twenty_five
from tests.merging.builders import AREAS, a_toolkit, agreed, draft, submitted

AGENCIES = ("health", "police", "education", "childrens-social-care", "housing", "probation", "early-help")
TOOLKIT = a_toolkit(AREAS)
CASE = CaseFacts()
ENOUGH = settings(max_examples=200, deadline=None)

grade = st.integers(1, 4)
grades_of_one_agency = st.fixed_dictionaries({}, optional={s: grade for s in AREAS})
key_answers = st.fixed_dictionaries(
    {},
    optional={
        "child-safe": st.sampled_from(["yes", "no"]),
        "significant-failure": st.sampled_from(["yes", "no"]),
        "escalate": st.sampled_from(["yes", "no"]),
    },
)


@st.composite
def an_agency(draw: st.DrawFn) -> tuple[dict[str, int], dict[str, str], int | None]:
    return draw(grades_of_one_agency), draw(key_answers), draw(st.none() | grade)


agencies = st.lists(an_agency(), min_size=1, max_size=len(AGENCIES))
# Which sections each agency was not involved in (by position), for the
# properties that hold with agencies left out of some sections.
not_involved_in = st.lists(st.sets(st.sampled_from(AREAS)), min_size=len(AGENCIES), max_size=len(AGENCIES))
policies = st.sampled_from(sorted(POLICIES))
moderations = st.lists(
    st.builds(
        agreed,
        st.sampled_from([*AREAS, "overall"]),
        grade,
        st.just("agreed at panel"),
        at=st.sampled_from(["2026-11-01", "2026-11-02"]),
    ),
    max_size=3,
)

Agency = tuple[dict[str, int], dict[str, str], int | None]


def contributions(
    all_agencies: Sequence[Agency], not_involved: Sequence[set[str]] | None = None
) -> list[AgencyContribution]:
    """Each agency's submitted contribution; where ``not_involved`` says an
    agency was not involved in a section, it grades it not (as validation
    requires) and says why."""
    made = []
    for i, (grades, answers, overall) in enumerate(all_agencies):
        left_out = not_involved[i] if not_involved is not None else set()
        made.append(
            submitted(
                AGENCIES[i],
                grades={s: g for s, g in grades.items() if s not in left_out},
                answers=answers,
                overall=overall,
                not_involved={s: "not part of this stage" for s in left_out},
            )
        )
    return made


def partnership_grades(judgement: PartnershipJudgement) -> list[int | None]:
    return [s.grade for s in judgement.sections] + [judgement.overall.grade]


def all_grades(judgement: PartnershipJudgement) -> list[int | None]:
    computed = [s.computed_grade for s in judgement.sections] + [judgement.overall.computed_grade]
    return partnership_grades(judgement) + computed


def worse_or_equal(after: int | None, before: int | None) -> bool:
    # None (nothing graded) only stays None: worsening a grade never removes it.
    return (before is None and after is None) or (before is not None and after is not None and after >= before)


@ENOUGH
@given(agencies, policies, moderations, st.randoms(use_true_random=False))
def test_the_order_of_contributions_and_moderations_does_not_matter(
    all_agencies: list[Agency], policy: str, agreed_grades: list[Moderation], random: Random
) -> None:
    given_order = contributions(all_agencies)
    shuffled, shuffled_moderations = list(given_order), list(agreed_grades)
    random.shuffle(shuffled)
    random.shuffle(shuffled_moderations)
    assert merge(TOOLKIT, CASE, given_order, policy, agreed_grades) == merge(
        TOOLKIT, CASE, shuffled, policy, shuffled_moderations
    )


@settings(max_examples=300, deadline=None)
@given(agencies, policies, moderations, not_involved_in, st.data())
def test_worsening_any_agency_grade_never_improves_any_partnership_grade(
    all_agencies: list[Agency],
    policy: str,
    agreed_grades: list[Moderation],
    left_out: list[set[str]],
    data: st.DataObject,
) -> None:
    """Monotone, with some agencies not involved in some sections."""
    graded = [
        (i, s)
        for i, (grades, _, _) in enumerate(all_agencies)
        for s in grades
        if grades[s] < 4 and s not in left_out[i]
    ]
    if not graded:
        return
    agency, section_id = data.draw(st.sampled_from(graded))
    worse = [(dict(grades), answers, overall) for grades, answers, overall in all_agencies]
    worse[agency][0][section_id] = data.draw(st.integers(worse[agency][0][section_id] + 1, 4))
    before = all_grades(merge(TOOLKIT, CASE, contributions(all_agencies, left_out), policy, agreed_grades))
    after = all_grades(merge(TOOLKIT, CASE, contributions(worse, left_out), policy, agreed_grades))
    assert all(worse_or_equal(a, b) for a, b in zip(after, before, strict=True)), (before, after)


@ENOUGH
@given(agencies, policies, moderations, not_involved_in, st.data())
def test_a_not_involved_agency_never_changes_a_grade_it_is_not_part_of(
    all_agencies: list[Agency],
    policy: str,
    agreed_grades: list[Moderation],
    left_out: list[set[str]],
    data: st.DataObject,
) -> None:
    """An agency saying it was not involved in a section changes no grade —
    of that section, of any other, or overall — from the judgement in which
    it simply gave that section no grade; only the provenance says so."""
    agency = data.draw(st.integers(0, len(all_agencies) - 1))
    section_id = data.draw(st.sampled_from(AREAS))
    marked = [set(s) for s in left_out]
    marked[agency].add(section_id)
    silent = [set(s) for s in left_out]
    silent[agency].discard(section_id)
    without_grade = [(dict(grades), answers, overall) for grades, answers, overall in all_agencies]
    without_grade[agency][0].pop(section_id, None)
    said = merge(TOOLKIT, CASE, contributions(all_agencies, marked), policy, agreed_grades)
    kept_quiet = merge(TOOLKIT, CASE, contributions(without_grade, silent), policy, agreed_grades)
    assert all_grades(said) == all_grades(kept_quiet)
    assert [s.agencies for s in said.sections] == [s.agencies for s in kept_quiet.sections]
    marked_section = next(s for s in said.sections if s.section_id == section_id)
    assert AGENCIES[agency] in [a.agency_kind for a in marked_section.not_involved]


@ENOUGH
@given(grades_of_one_agency, policies, st.sets(st.sampled_from(AGENCIES[1:]), min_size=1))
def test_a_lone_involved_grade_stands_beside_agencies_not_involved(
    grades: dict[str, int], policy: str, bystanders: set[str]
) -> None:
    """A lone grade is unchanged, however many agencies say they were not
    involved in that section."""
    others = [submitted(kind, not_involved={s: "not part of this stage" for s in AREAS}) for kind in sorted(bystanders)]
    result = merge(TOOLKIT, CASE, [submitted("health", grades=grades), *others], policy)
    assert {s.section_id: s.grade for s in result.sections} == {s: grades.get(s) for s in AREAS}


@ENOUGH
@given(agencies, policies, st.data())
def test_a_submitted_significant_failure_makes_the_case_inadequate_and_changes_no_section(
    all_agencies: list[Agency], policy: str, data: st.DataObject
) -> None:
    agency = data.draw(st.integers(0, len(all_agencies) - 1))
    failing = list(all_agencies)
    grades, answers, overall = failing[agency]
    failing[agency] = (grades, {**answers, "significant-failure": "yes"}, overall)
    before = merge(TOOLKIT, CASE, contributions(all_agencies), policy)
    after = merge(TOOLKIT, CASE, contributions(failing), policy)
    assert after.overall.grade == 4
    assert [s.grade for s in after.sections] == [s.grade for s in before.sections]


@ENOUGH
@given(agencies, policies)
def test_every_input_grade_appears_in_the_provenance(all_agencies: list[Agency], policy: str) -> None:
    result = merge(TOOLKIT, CASE, contributions(all_agencies), policy)
    shown = {(a.agency_kind, s.section_id, a.grade) for s in result.sections for a in s.agencies}
    given_grades = {(AGENCIES[i], s, g) for i, (grades, _, _) in enumerate(all_agencies) for s, g in grades.items()}
    assert shown == given_grades
    own = {(a.agency_kind, a.grade) for a in result.overall.agencies}
    assert own == {(AGENCIES[i], o) for i, (_, _, o) in enumerate(all_agencies) if o is not None}
    for s in result.sections:
        assert s.agencies == tuple(sorted(s.agencies, key=lambda a: a.grade)), "best first"
        if s.computed_grade is not None:
            assert s.rule.startswith(f"{s.computed_label} because ")


@ENOUGH
@given(agencies, policies, moderations, an_agency(), st.sampled_from(["not-started", "in-progress", "returned"]))
def test_a_non_submitted_agency_makes_it_provisional_and_changes_no_grade(
    all_agencies: list[Agency],
    policy: str,
    agreed_grades: list[Moderation],
    waiting: Agency,
    status: ContributionStatus,
) -> None:
    grades, answers, overall = waiting
    late = draft("youth-justice", status=status, grades=grades, answers=answers, overall=overall)
    without = merge(TOOLKIT, CASE, contributions(all_agencies), policy, agreed_grades)
    with_draft = merge(TOOLKIT, CASE, [*contributions(all_agencies), late], policy, agreed_grades)
    assert not without.provisional
    assert with_draft.provisional and [(a.agency_kind, a.status) for a in with_draft.awaiting] == [
        ("youth-justice", status)
    ]
    assert all(s.provisional for s in with_draft.sections)
    assert all_grades(with_draft) == all_grades(without)
    assert [s.rule for s in with_draft.sections] == [s.rule for s in without.sections]
    assert with_draft.overall.agencies == without.overall.agencies
    # …but its alerts reach the partnership at once.
    assert {c.kind for c in with_draft.immediate_concerns if not c.submitted} == {
        kind
        for question, kind, value in (
            ("child-safe", "child-not-safe", "no"),
            ("significant-failure", "significant-failure", "yes"),
            ("escalate", "escalation", "yes"),
        )
        if answers.get(question) == value
    }


@ENOUGH
@given(grades_of_one_agency, policies)
def test_merging_one_contribution_gives_its_grades(grades: dict[str, int], policy: str) -> None:
    result = merge(TOOLKIT, CASE, [submitted("health", grades=grades)], policy)
    assert {s.section_id: s.grade for s in result.sections} == {s: grades.get(s) for s in AREAS}
    assert all(s.disagreement is None for s in result.sections)


@ENOUGH
@given(agencies, policies)
def test_disagreement_is_flagged_exactly_when_grades_are_two_or_more_apart(
    all_agencies: list[Agency], policy: str
) -> None:
    result = merge(TOOLKIT, CASE, contributions(all_agencies), policy)
    for s in result.sections:
        grades = [a.grade for a in s.agencies]
        flagged = bool(grades) and max(grades) - min(grades) >= 2
        assert (s.disagreement is not None) == flagged
        if s.disagreement is not None:
            assert s.disagreement.spread == max(grades) - min(grades)
            assert {a.grade for a in s.disagreement.best} == {min(grades)}
            assert {a.grade for a in s.disagreement.worst} == {max(grades)}
            assert len(s.disagreement.best) == grades.count(min(grades))
            assert len(s.disagreement.worst) == grades.count(max(grades))


@ENOUGH
@given(agencies, policies, moderations)
def test_an_agreed_grade_is_shown_and_the_computed_one_kept(
    all_agencies: list[Agency], policy: str, agreed_grades: list[Moderation]
) -> None:
    plain = merge(TOOLKIT, CASE, contributions(all_agencies), policy)
    moderated = merge(TOOLKIT, CASE, contributions(all_agencies), policy, agreed_grades)
    last = {m.target: m for m in sorted(agreed_grades, key=lambda m: (m.moderated_at, m.grade))}
    for before, after in zip(plain.sections, moderated.sections, strict=True):
        agreement = last.get(after.section_id)
        assert after.grade == (agreement.grade if agreement else before.grade)
        assert (after.moderation is not None) == (agreement is not None)
    if "overall" in last:
        assert moderated.overall.grade == last["overall"].grade
    if not any(target in AREAS for target in last):
        assert moderated.overall.computed_grade == plain.overall.computed_grade


@ENOUGH
@given(agencies)
def test_the_policies_relate_as_their_names_say(all_agencies: list[Agency]) -> None:
    weakest = merge(TOOLKIT, CASE, contributions(all_agencies), "weakest-link")
    median = merge(TOOLKIT, CASE, contributions(all_agencies), "median")
    for w, m in zip(weakest.sections, median.sections, strict=True):
        if not w.agencies:
            continue
        agency_grades = [a.grade for a in w.agencies]
        assert w.grade == max(agency_grades)
        assert m.grade is not None and min(agency_grades) <= m.grade <= max(agency_grades)
        if 4 in agency_grades:
            assert m.grade >= 3
    area_grades = [s.grade for s in weakest.sections if s.grade is not None]
    if area_grades and weakest.overall.grade != 4:
        assert weakest.overall.grade == max(area_grades)


@ENOUGH
@given(st.lists(grade, min_size=1, max_size=12))
def test_the_75_25_rule_keeps_every_seed_000_sentence(areas: list[int]) -> None:
    """Each verdict satisfies the seed's sentence for it, and the ladder is
    complete: whenever a grade's conditions hold, the case gets it (or
    better)."""
    result = seventy_five_twenty_five(areas).grade
    n = len(areas)
    outstanding, good = areas.count(1), sum(1 for g in areas if g <= 2)
    adequate, inadequate = sum(1 for g in areas if g <= 3), areas.count(4)
    if 4 * inadequate >= n:  # "If 25% or more of the features above are evident … inadequate"
        assert result == 4
    if result == 1:  # "only … outstanding overall if every area … has been judged good or better"
        assert good == n
    if result == 2:  # "good if at least 75% …; providing the child has been effectively safeguarded"
        assert 4 * good >= 3 * n and inadequate == 0
    if result == 3:  # "adequate if at least 75% … (or better)"
        assert 4 * adequate >= 3 * n
    if 4 * inadequate < n:
        assert result is not None and result <= 3
        if 4 * good >= 3 * n and inadequate == 0:
            assert result <= 2
        if good == n and 4 * outstanding >= 3 * n:
            assert result == 1
