"""The second versions of the seed toolkits: the same wording as the first
(which the seed tests check against the seeds, cell by cell), and only the
changes each file's header names.

- 000 (early intervention): each area's features are the seed's own
  clauses, cut from that area's Good, Adequate and Inadequate cells in
  order; the Outstanding cell is the overall rule, not an area's grade 1.
- 001 (practice criteria): the criteria only a looked-after child's work
  has are asked on looked-after cases only.
- 002 (Tier 2): "If CP, …", "For CwD …" and permanency are asked on the
  cases they are for.
- 003 (multi-agency): agencies may be "not involved at this stage"; the key
  questions are merged into the judgement.
- 004 (child's journey): the child's initials and age, not the full name
  and date of birth the seed asks (data minimisation).
"""

from __future__ import annotations

import msgspec
import pytest

from agencies.applicability import Participant, applicable_sections
from tests.toolkits.seed_texts import collapse, definition_file, load_toolkit, section_of, texts_of
from toolkits.model import Section, Toolkit

EARLY_1 = load_toolkit(definition_file("early-intervention", 1), check_merge_policy=True)
EARLY_2 = load_toolkit(definition_file("early-intervention", 2), check_merge_policy=True)
CP_1 = load_toolkit(definition_file("multi-agency-cp", 1), check_merge_policy=True)
CP_2 = load_toolkit(definition_file("multi-agency-cp", 2), check_merge_policy=True)
CSC_1 = load_toolkit(definition_file("csc-practice-criteria", 1), check_merge_policy=True)
CSC_2 = load_toolkit(definition_file("csc-practice-criteria", 2), check_merge_policy=True)
TIER2_1 = load_toolkit(definition_file("tier2-cin-cp", 1), check_merge_policy=True)
TIER2_2 = load_toolkit(definition_file("tier2-cin-cp", 2), check_merge_policy=True)
JOURNEY_1 = load_toolkit(definition_file("childs-journey-early-help", 1), check_merge_policy=True)
JOURNEY_2 = load_toolkit(definition_file("childs-journey-early-help", 2), check_merge_policy=True)

OUTSTANDING_CELL = (
    "If every area of analysis on a case is consistently good or better, the case can be judged outstanding overall."
)
AREAS = (
    "early-identification",
    "assessment",
    "planning-and-implementing-plan",
    "review",
    "management-oversight-and-recording",
)


def wording(toolkit: Toolkit) -> list[list[str]]:
    return [[collapse(t) for t in texts_of(s)] for s in toolkit.sections]


@pytest.mark.parametrize(("first", "second"), [(CP_1, CP_2), (CSC_1, CSC_2), (TIER2_1, TIER2_2)])
def test_a_second_version_keeps_every_word_of_the_first(first: Toolkit, second: Toolkit) -> None:
    assert second.version == first.version + 1
    assert wording(second) == wording(first)
    assert (second.title, second.scale, second.merge_policy, second.overall) == (
        first.title,
        first.scale,
        first.merge_policy,
        first.overall,
    )


# --- 000 -------------------------------------------------------------------------------


@pytest.mark.parametrize("area", AREAS)
def test_each_early_intervention_feature_is_a_clause_of_the_seeds_cell_in_order(area: str) -> None:
    """Seed 000: each area's cell at Good, Adequate and Inadequate, as the
    first version holds it (checked against the seed by
    test_seed_early_intervention). Every feature's text at a grade is a
    clause of that grade's cell, the clauses in the cell's order."""
    first = section_of(EARLY_1, area).judgement
    second = section_of(EARLY_2, area).judgement
    assert first is not None and second is not None
    assert {g: second.descriptors[g] for g in (2, 3, 4)} == {g: first.descriptors[g] for g in (2, 3, 4)}
    assert second.features, "every area is graded by its features"
    for grade in (2, 3, 4):
        cell = collapse(first.descriptors[grade])
        at = 0
        for feature in second.features:
            text = feature.texts.get(grade)
            if text is None:
                continue
            found = cell.find(collapse(text), at)
            assert found >= 0, f"{area}, grade {grade}: {text!r} is not in the seed's cell after position {at}"
            at = found + len(collapse(text))


def test_every_clause_of_a_good_cell_is_a_feature() -> None:
    """Nothing of a Good cell is left uncounted: what the features leave of
    it is only the joining words (commas, "and", full stops, "is", …)."""
    joiners = {"", "and", "is", "which", "were", "are"}
    for area in AREAS:
        judgement = section_of(EARLY_2, area).judgement
        assert judgement is not None
        rest = collapse(judgement.descriptors[2])
        for feature in judgement.features:
            rest = rest.replace(collapse(feature.texts[2]), "|", 1)
        leftovers = {part.strip(" ,.;\n").removeprefix("and ").strip() for part in rest.split("|")}
        assert leftovers <= joiners, (area, leftovers)


def test_the_outstanding_cell_is_the_overall_rule_not_an_areas_grade() -> None:
    """Seed 000's Outstanding column is one cell: "If every area of analysis
    on a case is consistently good or better, the case can be judged
    outstanding overall." The first version showed it as Early
    Identification's grade 1; the second has it in the overall judgement's
    grade 1, beside the "Overall judgement" row's own, and no area has a
    grade-1 descriptor."""
    assert section_of(EARLY_1, "early-identification").judgement.descriptors[1] == OUTSTANDING_CELL  # type: ignore[union-attr]
    for area in AREAS:
        assert 1 not in section_of(EARLY_2, area).judgement.descriptors  # type: ignore[union-attr]
    assert all(grade.description is None for grade in EARLY_2.scale.grades)
    assert EARLY_2.overall is not None and EARLY_1.overall is not None
    assert collapse(EARLY_2.overall.descriptors[1]) == collapse(f"{EARLY_1.overall.descriptors[1]} {OUTSTANDING_CELL}")
    assert {g: EARLY_2.overall.descriptors[g] for g in (2, 3, 4)} == {
        g: EARLY_1.overall.descriptors[g] for g in (2, 3, 4)
    }


def test_the_overall_conditions_are_the_seeds_words() -> None:
    """Seed 000: good "providing the child has been effectively safeguarded and
    their welfare promoted throughout the work"; adequate "providing the
    child has been safeguarded and their welfare generally promoted
    throughout the work"."""
    assert EARLY_2.overall is not None
    [condition] = EARLY_2.overall.features
    assert f"providing {condition.texts[2]}" in collapse(EARLY_2.overall.descriptors[2])
    assert f"providing {condition.texts[3]}" in collapse(EARLY_2.overall.descriptors[3])
    assert 4 not in condition.texts


def test_significant_failures_are_recorded_in_the_areas_not_asked_once() -> None:
    assert [s.id for s in EARLY_1.sections if s.id == "key-questions"] == ["key-questions"]
    assert [s.id for s in EARLY_2.sections if s.completed_by == "agency"] == list(AREAS)
    assert EARLY_2.not_involved is not None


# --- 001, 002, 003 ---------------------------------------------------------------------


def questions_for(toolkit: Toolkit, details: dict[str, object]) -> set[str]:
    participant = Participant(agency_kind="childrens-social-care")
    return {q.id for s in applicable_sections(toolkit, participant, details) for q in s.questions}


def test_looked_after_criteria_are_asked_only_of_a_looked_after_childs_work() -> None:
    """Seed 001, "4. CHILD’S LIVED EXPERIENCE": "Placement finding — Family
    –finding strategies …", "… carefully matched with, a permanent
    placement", "Life Story work — … secure primary attachments with the
    adults caring for them": the work of a child in care."""
    looked_after_only = {"placement-finding", "placement-matching", "life-story-work"}
    in_need = questions_for(CSC_2, {"plan-type": "cin-cp"})
    looked_after = questions_for(CSC_2, {"plan-type": "looked-after"})
    assert looked_after_only <= looked_after
    assert not looked_after_only & in_need
    assert looked_after_only <= questions_for(CSC_1, {"plan-type": "cin-cp"}), "the first version asked them"


@pytest.mark.parametrize(
    ("details", "asked", "not_asked"),
    [
        ({"case-type": "cp", "subject-to-plo": "no"}, {"referral-strategy-s47-quality"}, {"plan-permanency"}),
        ({"case-type": "cin", "subject-to-plo": "yes"}, {"plan-permanency"}, {"referral-strategy-s47-quality"}),
        ({"case-type": "cwd", "subject-to-plo": "no"}, {"plan-cwd-adult-referral"}, {"plan-permanency"}),
        ({"case-type": "cin", "subject-to-plo": "no"}, set(), {"plan-cwd-adult-referral", "plan-permanency"}),
    ],
)
def test_tier2_items_are_asked_on_the_cases_they_name(
    details: dict[str, object], asked: set[str], not_asked: set[str]
) -> None:
    """Seed 002: "If CP, quality of strategy meeting minutes and Section 47
    enquiry …", "For CwD has a referral been made to Adult Social Care
    (17+)", "Plan reflect options around permanency"."""
    questions = questions_for(TIER2_2, details)
    assert asked <= questions
    assert not (not_asked & questions)


def test_the_if_cp_item_is_required_where_it_is_asked() -> None:
    first = next(q for s in TIER2_1.sections for q in s.questions if q.id == "referral-strategy-s47-quality")
    second = next(q for s in TIER2_2.sections for q in s.questions if q.id == "referral-strategy-s47-quality")
    assert (first.required, second.required) == (False, True)
    assert msgspec.structs.replace(second, required=False, condition=None) == first


def test_multi_agency_agencies_may_be_not_involved_and_the_key_questions_are_merged() -> None:
    """Seed 003: "It is to be completed by each of the agencies involved with
    the child"; "Key questions to be answered at the end of the audit"."""
    assert CP_1.not_involved is None
    assert CP_2.not_involved is not None and CP_2.not_involved.label == "Not involved at this stage"
    key: Section = section_of(CP_2, "key-questions")
    assert [(q.id, q.in_judgement) for q in key.questions] == [
        ("child-currently-safe", True),
        ("case-last-reviewed", True),
    ]


# --- 004 -------------------------------------------------------------------------------

PERSONAL = {"child-name", "date-of-birth"}


def test_the_childs_journey_asks_initials_and_age_not_the_name_and_date_of_birth() -> None:
    """Seed 004 asks "Child/Young Person’s Full name:" and "Date of Birth:";
    the service keeps initials and an age only, and the hints say why."""
    first = {q.id: q for q in section_of(JOURNEY_1, "childs-details").questions}
    second = {q.id: q for q in section_of(JOURNEY_2, "childs-details").questions}
    assert set(first) >= PERSONAL and not PERSONAL & set(second)
    initials, age = second["child-initials"], second["age"]
    assert (initials.kind, initials.text) == ("text", "Child/Young Person’s initials:")
    assert (
        initials.guidance
        and "Initials only" in initials.guidance
        and "Do not enter the child’s name" in initials.guidance
    )
    assert (age.kind, age.min, age.max) == ("number", 0, 25)
    assert age.guidance and "Do not enter the date of birth" in age.guidance
    # In the seed's place: initials first, the age where the date of birth was.
    assert list(second)[:3] == ["child-initials", "cf-ecins-id", "age"]
    assert [q.id for q in JOURNEY_2.sections[1].questions if q.kind == "date"] == ["step-down-date", "step-up-date"]


def test_the_childs_journey_keeps_every_other_word_of_the_first_version() -> None:
    assert JOURNEY_2.version == JOURNEY_1.version + 1
    assert (JOURNEY_2.title, JOURNEY_2.scale, JOURNEY_2.merge_policy, JOURNEY_2.overall) == (
        JOURNEY_1.title,
        JOURNEY_1.scale,
        JOURNEY_1.merge_policy,
        JOURNEY_1.overall,
    )
    changed = {"child-name", "date-of-birth", "child-initials", "age"}

    def kept(toolkit: Toolkit) -> list[list[object]]:
        return [
            [s.id, s.title, s.guidance, s.judgement]
            + [(q.id, q.text, q.kind, q.guidance, q.choices) for q in s.questions if q.id not in changed]
            for s in toolkit.sections
        ]

    assert kept(JOURNEY_2) == kept(JOURNEY_1)
