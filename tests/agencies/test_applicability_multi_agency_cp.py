"""Who answers what in seed 003 (Multi-agency audit tool – Child Protection).

The seed says who answers each question with a prefix ("All relevant
agencies:", "Children’s Social Care only:", "Referring agency + children’s
social care:" …). The expectations here come from those prefixes as the seed
writes them: how many questions carry each (counted in the seed), and what
each prefix means in plain words — not from the selectors of the definition.
"""

from __future__ import annotations

from collections import Counter

import pytest

from agencies.applicability import Participant, applicable_sections, view_for
from agencies.kinds import AGENCY_KIND_CODES
from tests.toolkits.test_seed_multi_agency_cp import FILE, SEED_QUESTIONS, collapse, wording
from toolkits.model import Toolkit
from toolkits.registry import load_definition

CSC = "childrens-social-care"

# Questions in sections 2–9 per prefix, counted in the seed (spellings that
# differ only in case or spacing counted together). "Children’s social care"
# includes the sub-part of section 4 that the definition splits out.
SEED_PREFIX_COUNTS = {
    "all relevant agencies": 26,
    "all": 4,
    "children’s social care only": 7,
    "children’s social care": 4,
    "agencies other than children’s social care": 2,
    "referring agency + children’s social care": 2,
    "referring agency + police/children’s social care": 1,
    "referring agency/children’s social care": 1,
}

# Who each prefix names, in the seed's plain words: agency kinds always
# included, whether the referrer is included, kinds always left out.
PREFIX_MEANING: dict[str, tuple[frozenset[str] | None, bool, frozenset[str]]] = {
    # None = every agency
    "all relevant agencies": (None, False, frozenset()),
    "all": (None, False, frozenset()),
    "all agencies": (None, False, frozenset()),
    "children’s social care only": (frozenset({CSC}), False, frozenset()),
    "children’s social care": (frozenset({CSC}), False, frozenset()),
    "agencies other than children’s social care": (None, False, frozenset({CSC})),
    "referring agency + children’s social care": (frozenset({CSC}), True, frozenset()),
    "referring agency + police/children’s social care": (frozenset({"police", CSC}), True, frozenset()),
    "referring agency/children’s social care": (frozenset({CSC}), True, frozenset()),
}

GRADED = {
    "history-of-involvement",
    "referral",
    "immediate-response",
    "assessment-s47-enquiry",
    "planning-implementing-plan",
    "review",
    "management-supervision",
    "recording-minutes",
}
COORDINATOR_SECTIONS = {"case-details"}


def prefix_key(prefix: str | None) -> str | None:
    return None if prefix is None else collapse(prefix).casefold()


def answers(prefix: str | None, participant: Participant) -> bool:
    """Whether the seed's prefix names this agency on this case."""
    key = prefix_key(prefix)
    if key is None:
        return True
    included, referrer, excluded = PREFIX_MEANING[key]
    if participant.agency_kind in excluded:
        return False
    return included is None or participant.agency_kind in included or (referrer and participant.is_referrer)


def seen_wordings(toolkit: Toolkit, participant: Participant) -> list[str]:
    return [wording(q) for s in applicable_sections(toolkit, participant) for q in s.questions]


def seed_rows_seen(toolkit: Toolkit, participant: Participant) -> list[tuple[str, str | None, tuple[str, ...]]]:
    seen = seen_wordings(toolkit, participant)
    return [
        row
        for row in SEED_QUESTIONS
        if row[0] not in COORDINATOR_SECTIONS and any(all(collapse(p) in w for p in row[2]) for w in seen)
    ]


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    return load_definition(FILE, agency_kinds=AGENCY_KIND_CODES)


def test_the_seed_table_matches_the_counts_of_the_seed() -> None:
    counted = Counter(prefix_key(prefix) for section, prefix, _ in SEED_QUESTIONS if section in GRADED)
    assert counted == SEED_PREFIX_COUNTS


PARTICIPANTS = [
    Participant(agency_kind="education"),
    Participant(agency_kind="education", is_referrer=True),
    Participant(agency_kind="police"),
    Participant(agency_kind="police", is_referrer=True),
    Participant(agency_kind=CSC),
    Participant(agency_kind=CSC, is_referrer=True),
    Participant(agency_kind="health"),
    Participant(agency_kind="health", is_referrer=True),
]


@pytest.mark.parametrize(
    "participant", PARTICIPANTS, ids=lambda p: f"{p.agency_kind}{'-referrer' if p.is_referrer else ''}"
)
def test_each_agency_sees_exactly_the_questions_the_seed_gives_it(toolkit: Toolkit, participant: Participant) -> None:
    expected = [row for row in SEED_QUESTIONS if row[0] not in COORDINATOR_SECTIONS and answers(row[1], participant)]
    assert seed_rows_seen(toolkit, participant) == expected
    assert len(seen_wordings(toolkit, participant)) == len(expected)


def count_seen(toolkit: Toolkit, participant: Participant, prefix: str) -> int:
    return sum(1 for row in seed_rows_seen(toolkit, participant) if row[0] in GRADED and prefix_key(row[1]) == prefix)


def test_education_sees_all_and_all_relevant_but_no_social_care_only_questions(toolkit: Toolkit) -> None:
    education = Participant(agency_kind="education")
    assert count_seen(toolkit, education, "all relevant agencies") == 26
    assert count_seen(toolkit, education, "all") == 4
    assert count_seen(toolkit, education, "agencies other than children’s social care") == 2
    assert count_seen(toolkit, education, "children’s social care only") == 0
    assert count_seen(toolkit, education, "children’s social care") == 0
    # 26 + 4 + 2 questions in sections 2–9.
    assert sum(len(s.questions) for s in applicable_sections(toolkit, education) if s.id in GRADED) == 32


def test_referring_agency_questions_reach_education_only_as_referrer(toolkit: Toolkit) -> None:
    for prefix, count in (
        ("referring agency + children’s social care", 2),
        ("referring agency + police/children’s social care", 1),
        ("referring agency/children’s social care", 1),
    ):
        assert count_seen(toolkit, Participant(agency_kind="education"), prefix) == 0
        assert count_seen(toolkit, Participant(agency_kind="education", is_referrer=True), prefix) == count
    referrer = Participant(agency_kind="education", is_referrer=True)
    assert sum(len(s.questions) for s in applicable_sections(toolkit, referrer) if s.id in GRADED) == 32 + 2 + 1 + 1


def test_police_answer_the_police_questions_without_referring(toolkit: Toolkit) -> None:
    police = Participant(agency_kind="police")
    assert count_seen(toolkit, police, "referring agency + police/children’s social care") == 1
    assert count_seen(toolkit, police, "referring agency + children’s social care") == 0
    assert count_seen(toolkit, police, "referring agency/children’s social care") == 0
    assert sum(len(s.questions) for s in applicable_sections(toolkit, police) if s.id in GRADED) == 32 + 1


def test_childrens_social_care_answers_its_own_questions_not_the_other_agencies(toolkit: Toolkit) -> None:
    csc = Participant(agency_kind=CSC)
    assert count_seen(toolkit, csc, "children’s social care only") == 7
    assert count_seen(toolkit, csc, "children’s social care") == 4
    assert count_seen(toolkit, csc, "agencies other than children’s social care") == 0
    # Every referring-agency question names children's social care too.
    assert count_seen(toolkit, csc, "referring agency + children’s social care") == 2
    assert count_seen(toolkit, csc, "referring agency + police/children’s social care") == 1
    assert count_seen(toolkit, csc, "referring agency/children’s social care") == 1
    assert sum(len(s.questions) for s in applicable_sections(toolkit, csc) if s.id in GRADED) == 47 - 2


def test_the_split_allocation_question_is_for_childrens_social_care_alone(toolkit: Toolkit) -> None:
    allocation = "Was the case allocated promptly to an appropriately qualified and experienced social worker?"
    assert any(allocation in w for w in seen_wordings(toolkit, Participant(agency_kind=CSC)))
    for participant in (Participant(agency_kind="education", is_referrer=True), Participant(agency_kind="police")):
        assert not any(allocation in w for w in seen_wordings(toolkit, participant))


@pytest.mark.parametrize(
    "participant", PARTICIPANTS, ids=lambda p: f"{p.agency_kind}{'-referrer' if p.is_referrer else ''}"
)
def test_every_agency_grades_every_section_and_the_coordinator_sections_are_context(
    toolkit: Toolkit, participant: Participant
) -> None:
    applicable = {s.id for s in applicable_sections(toolkit, participant)}
    assert not applicable & COORDINATOR_SECTIONS
    assert applicable >= GRADED
    assert {"key-questions", "ecm-outcomes", "practitioner", "recommendations", "auditor"} <= applicable
    # The agency's view keeps the case details, read-only, in the seed's order.
    view = view_for(toolkit, participant)
    assert [s.id for s in view.sections] == [s.id for s in toolkit.sections]
    details = next(s for s in view.sections if s.id == "case-details")
    assert details.completed_by == "coordinator"
    assert len(details.questions) == 11
