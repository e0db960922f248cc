"""The policies, table by table, from the seed's own sentences."""

from __future__ import annotations

import pytest

from merging.policies import POLICIES, median_towards_worse, policy_named, seventy_five_twenty_five, weakest

# (area grades, expected overall, the seed 000 sentence the row follows)
SEED_000_OVERALL = [
    ((1, 1, 1, 1), 1, "outstanding only if every area of analysis has been judged good or better"),
    ((1, 1, 1, 2), 1, "every area good or better, 75% outstanding: our bar for outstanding"),
    ((1, 2, 2, 2), 2, "every area good or better is necessary, not sufficient: all-but-one good is good"),
    ((2, 2, 2, 2), 2, "good if at least 75% of the features above are evident"),
    ((2, 2, 2, 3), 2, "good: 75% good or better and none inadequate"),
    ((2, 2, 3, 3), 3, "adequate if at least 75% … are evident (or better)"),
    ((2, 2, 2, 2, 2, 2, 2, 4), 3, "1 of 8 inadequate is under 25%; an inadequate area rules out good → adequate"),
    ((3, 3, 3, 3), 3, "adequate: every area adequate"),
    ((2, 3, 3, 4), 4, "If 25% or more of the features above are evident … inadequate"),
    ((1, 1, 1, 4), 4, "25% inadequate is inadequate, however good the rest"),
    ((3, 3, 4, 4), 4, "half inadequate"),
    ((2, 2, 3, 3, 3, 4, 4, 4), 4, "under 75% adequate or better"),
]


@pytest.mark.parametrize(("grades", "expected", "seed_line"), SEED_000_OVERALL)
def test_the_seed_000_overall_rule(grades: tuple[int, ...], expected: int, seed_line: str) -> None:
    grade, words = seventy_five_twenty_five(grades)
    assert grade == expected, seed_line
    assert words, "every result says why"


def test_the_words_explain_the_rule() -> None:
    assert seventy_five_twenty_five((2, 3, 3, 4)) == (4, ["1 of 4 (25%) areas inadequate: 25% or more is inadequate"])
    assert seventy_five_twenty_five((2, 2, 2, 3)) == (
        2,
        ["3 of 4 (75%) areas good or better (75% or more) and none inadequate"],
    )
    assert seventy_five_twenty_five((2, 2, 2, 2, 2, 2, 2, 4)) == (
        3,
        ["7 of 8 (88%) areas adequate or better (75% or more), but 1 inadequate, so not good"],
    )


@pytest.mark.parametrize(
    ("grades", "expected"),
    [((1,), 1), ((2, 2), 2), ((1, 4), 4), ((3, 1, 2), 3)],
)
def test_weakest_link_takes_the_worst_grade(grades: tuple[int, ...], expected: int) -> None:
    assert weakest(grades)[0] == expected


@pytest.mark.parametrize(
    ("grades", "expected", "why"),
    [
        ((2,), 2, "one grade is its own median"),
        ((1, 2, 3), 2, "odd count: the middle"),
        ((1, 2), 2, "even count: the worse of the two middles"),
        ((1, 1, 2, 3), 2, "even count: the worse middle"),
        ((1, 1, 1, 4), 3, "an inadequate grade pulls the section to adequate"),
        ((1, 4), 4, "even count: the worse middle is already inadequate"),
        ((3, 3, 4), 3, "already adequate: the pull changes nothing"),
    ],
)
def test_median_rounds_towards_worse_and_inadequate_pulls(grades: tuple[int, ...], expected: int, why: str) -> None:
    assert median_towards_worse(grades)[0] == expected, why


def test_policies_are_found_by_name() -> None:
    assert set(POLICIES) == {"overall-75-25", "weakest-link", "median"}
    assert policy_named("median").name == "median"
    with pytest.raises(LookupError, match="unknown merge policy 'best-of'"):
        policy_named("best-of")
