"""The policies' rules, table by table, each row from the seed's own sentence
(or from the documented choice where the seed leaves a gap)."""

from __future__ import annotations

import pytest

from merging import POLICIES, UnknownPolicy, policy_named, policy_names
from merging.policies import (
    median_agency,
    median_area,
    seventy_five_twenty_five,
    weakest_agency,
    weakest_area,
)

O, G, A, I = 1, 2, 3, 4  # noqa: E741 - the seed's O / G / A / I

# (area grades, significant failure recorded, expected overall, the seed 000
# sentence — "Overall judgement" row — or the choice the row follows)
SEED_000_OVERALL = [
    ((O, O, O, O), False, O, "outstanding only if every area of analysis has been judged good or better: all are"),
    ((O, O, O, G), False, O, "every area good or better, 75% outstanding (choice: the 75% bar for outstanding)"),
    ((O, O, G, G), False, G, "choice: every area good or better is necessary, not sufficient; 50% outstanding"),
    ((O, O, O, O, G, G), False, G, "choice: 4 of 6 (67%) outstanding is under the 75% bar"),
    ((O, O, O, A), False, G, "can only be judged as outstanding … if every area … good or better: one is adequate"),
    ((G, G, G, G), False, G, "good if at least 75% of the features above are evident: all are good"),
    ((G, G, G, A), False, G, "good: 3 of 4 (75%) good or better and none inadequate"),
    ((G, G, A, A), False, A, "adequate if at least 75% of the features above are evident (or better): 50% good"),
    ((G, G, G, A, A), False, A, "3 of 5 (60%) good is under 75%: adequate"),
    ((G, G, G, G, G, G, G, I), False, A, "providing the child has been effectively safeguarded … throughout: 1 of 8"),
    ((A, A, A, A), False, A, "adequate: every area adequate"),
    ((A, A, A, A, I), False, A, "1 of 5 (20%) inadequate is under 25%; 80% adequate or better"),
    ((G, A, A, I), False, I, "If 25% or more of the features above are evident … inadequate: exactly 25%"),
    ((O, O, O, I), False, I, "25% or more inadequate is inadequate, however good the rest (choice: it wins)"),
    ((A, A, I, I), False, I, "25% or more: half inadequate"),
    ((I,), False, I, "one area, inadequate: 100%"),
    ((G,), False, G, "one area, good: 100% good or better"),
    ((O, O, O, O), True, I, "or if there is a significant failure which has impacted on the safety of the child"),
    ((G, G, A, A), True, I, "any significant failings will render the case inadequate"),
    ((), True, I, "a significant failure is inadequate even before any area is graded"),
    ((), False, None, "nothing graded, nothing to judge"),
]


@pytest.mark.parametrize(("grades", "failure", "expected", "seed_line"), SEED_000_OVERALL)
def test_the_seed_000_overall_rule(
    grades: tuple[int, ...], failure: bool, expected: int | None, seed_line: str
) -> None:
    outcome = seventy_five_twenty_five(grades, failure)
    assert outcome.grade == expected, seed_line
    assert outcome.steps, "every result says why"


def test_the_75_25_trace_walks_the_seed_sentences_in_order() -> None:
    assert seventy_five_twenty_five((G, G, G, G, G, G, G, I)).steps == (
        "Inadequate if 25% or more of the areas are inadequate: 1 of 8 (12.5%) are — no.",
        "Outstanding only if every area is good or better, and at least 75% are outstanding: "
        "7 of 8 (87.5%) are good or better, 0 of 8 (0%) outstanding — no.",
        "Good if at least 75% of the areas are good or better and none is inadequate: "
        "7 of 8 (87.5%) are good or better, 1 inadequate — no.",
        "Adequate if at least 75% of the areas are adequate or better: 7 of 8 (87.5%) are — yes.",
    )
    assert seventy_five_twenty_five((G, A, A, I)).steps == (
        "Inadequate if 25% or more of the areas are inadequate: 1 of 4 (25%) are — yes.",
    )


def test_the_75_25_trace_names_the_significant_failure_last() -> None:
    steps = seventy_five_twenty_five((G, G, G, G), True).steps
    assert steps[-2].startswith("Good if at least 75%") and steps[-2].endswith("— yes.")
    assert steps[-1].startswith("A significant failure which has impacted on the safety of the child is recorded")


def test_the_75_25_trace_speaks_the_toolkits_labels() -> None:
    labels = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}
    steps = seventy_five_twenty_five((G, G, A, A), False, labels).steps
    assert steps[-1] == "Requires improvement if at least 75% of the areas are requires improvement or better: " + (
        "4 of 4 (100%) are — yes."
    )


@pytest.mark.parametrize(
    ("grades", "expected"),
    [((O,), O), ((G, G), G), ((O, I), I), ((A, O, G), A), ((G, G, G, G, G, A), A)],
)
def test_weakest_link_sections_take_the_worst_agency_grade(grades: tuple[int, ...], expected: int) -> None:
    outcome = weakest_agency(grades)
    assert (outcome.grade, outcome.named) == (expected, expected)


@pytest.mark.parametrize(
    ("grades", "failure", "expected"),
    [((O, O, O), False, O), ((O, G, A), False, A), ((O, O, O, O, O, I), False, I), ((O,), True, I), ((), False, None)],
)
def test_weakest_link_overall_takes_the_worst_area(
    grades: tuple[int, ...], failure: bool, expected: int | None
) -> None:
    assert weakest_area(grades, failure).grade == expected


# (agency grades, expected, why) — the median policy's sentence: "the median
# agency grade, rounded towards worse, with any inadequate pulling the
# section to at least requires improvement/adequate"
MEDIAN = [
    ((G,), G, "one grade is its own median"),
    ((O, G, A), G, "odd count: the middle grade"),
    ((O, G), G, "even count: the worse of the two middle grades"),
    ((O, O, G, A), G, "even count: the worse middle"),
    ((O, O, O, I), A, "an inadequate grade pulls the section to adequate"),
    ((O, O, O, O, O, I), A, "however many agencies outweigh it"),
    ((O, I), I, "even count: the worse middle is already inadequate"),
    ((A, A, I), A, "already adequate: the pull changes nothing"),
    ((G, I, I), I, "the median itself is inadequate"),
    ((I,), I, "a lone inadequate stands"),
]


@pytest.mark.parametrize(("grades", "expected", "why"), MEDIAN)
def test_median_rounds_towards_worse_and_an_inadequate_grade_pulls(
    grades: tuple[int, ...], expected: int, why: str
) -> None:
    assert median_agency(grades).grade == expected, why
    assert median_area(grades).grade == expected, why


def test_median_says_what_pulled_it() -> None:
    pulled = median_agency((O, O, O, I))
    assert pulled.named == I
    assert pulled.because == (
        " and an inadequate grade pulls the section to adequate or worse "
        "(the median of the agency grades 1, 1, 1, 4, rounded towards worse, is 1)"
    )
    plain = median_agency((O, G, A))
    assert (plain.named, plain.because) == (G, ", the median of the agency grades 1, 2, 3 rounded towards worse")


def test_every_overall_rule_makes_a_significant_failure_inadequate() -> None:
    for policy in POLICIES.values():
        assert policy.overall_rule((O, O, O, O), True, {1: "O", 2: "G", 3: "A", 4: "I"}).grade == I, policy.name


def test_policies_are_found_by_name() -> None:
    assert policy_names() == ("median", "overall-75-25", "weakest-link")
    assert set(POLICIES) == set(policy_names())
    assert policy_named("median").name == "median"
    for name, policy in POLICIES.items():
        assert policy.name == name and policy.description
    with pytest.raises(UnknownPolicy, match="unknown merge policy 'best-of'; known: median, overall-75-25"):
        policy_named("best-of")
    with pytest.raises(LookupError):
        policy_named("")


def test_the_registry_cannot_be_changed_by_a_caller() -> None:
    with pytest.raises(TypeError):
        POLICIES["lenient"] = POLICIES["median"]  # type: ignore[index]
