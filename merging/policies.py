"""Merge policies: how agency grades become a section's partnership grade,
and how section grades become the overall judgement.

Grades run 1 (Outstanding) … 4 (Inadequate), so "worse" is "higher". Every
rule here is monotone: a worse input never gives a better result. The
property tests in ``tests/merging`` hold each policy to that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

OUTSTANDING, GOOD, ADEQUATE, INADEQUATE = 1, 2, 3, 4

# (grade, the words that explain it)
Outcome = tuple[int, list[str]]
SectionRule = Callable[[Sequence[int]], Outcome]
OverallRule = Callable[[Sequence[int]], Outcome]


def _share(count: int, total: int) -> str:
    return f"{count} of {total} ({round(100 * count / total)}%)"


def seventy_five_twenty_five(grades: Sequence[int], *, what: str = "areas") -> Outcome:
    """The overall rule of seed 000 (Early Intervention – grading guidance,
    "Overall judgement" row), applied to a list of grades:

    - "The case can only be judged as outstanding overall if every area of
      analysis has been judged good or better." This is necessary, not
      sufficient: the seed's Outstanding column says a case "can be judged"
      outstanding then. **Choice:** outstanding when every area is good or
      better *and* at least 75% are outstanding — the same 75% bar as the
      other grades — so a case of all-good areas is Good, not Outstanding.
    - "good if at least 75% of the features above are evident" and the child
      effectively safeguarded: **at least 75% good or better and none
      inadequate** (an inadequate area means the child was not effectively
      safeguarded in it).
    - "adequate if at least 75% … are evident (or better)": **at least 75%
      adequate or better**.
    - "If 25% or more of the features above are evident … inadequate":
      **25% or more inadequate** is inadequate, whatever else holds. (So
      exactly 25% inadequate is inadequate even though 75% are adequate or
      better: the seed's inadequate sentence wins, as the safer reading.)

    The "significant failure" clause is applied by :func:`merge`, because it
    is a fact about answers, not about grades.
    """
    total = len(grades)
    outstanding = sum(1 for g in grades if g == OUTSTANDING)
    good = sum(1 for g in grades if g <= GOOD)
    adequate = sum(1 for g in grades if g <= ADEQUATE)
    inadequate = total - adequate
    if 4 * inadequate >= total:
        return INADEQUATE, [f"{_share(inadequate, total)} {what} inadequate: 25% or more is inadequate"]
    if good == total and 4 * outstanding >= 3 * total:
        return OUTSTANDING, [
            f"every one of {total} {what} good or better, and {_share(outstanding, total)} outstanding (75% or more)"
        ]
    if 4 * good >= 3 * total and inadequate == 0:
        return GOOD, [f"{_share(good, total)} {what} good or better (75% or more) and none inadequate"]
    if 4 * adequate >= 3 * total:
        reason = f"{_share(adequate, total)} {what} adequate or better (75% or more)"
        if 4 * good >= 3 * total:
            reason += f", but {inadequate} inadequate, so not good"
        return ADEQUATE, [reason]
    return INADEQUATE, [f"only {_share(adequate, total)} {what} adequate or better (under 75%)"]


def weakest(grades: Sequence[int]) -> Outcome:
    return max(grades), ["the weakest grade stands"]


def median_towards_worse(grades: Sequence[int]) -> Outcome:
    """The median; with an even count, the worse of the two middle grades.
    Any inadequate grade pulls the result to adequate or worse, so one
    agency's inadequate work is never averaged away."""
    ordered = sorted(grades)
    middle = ordered[len(ordered) // 2]
    words = [f"the median of {', '.join(map(str, ordered))}, rounded towards worse, is {middle}"]
    if INADEQUATE in ordered and middle < ADEQUATE:
        words.append("an inadequate grade pulls it to adequate")
        return ADEQUATE, words
    return middle, words


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    section_rule: SectionRule
    overall_rule: OverallRule


def _seventy_five_across_agencies(grades: Sequence[int]) -> Outcome:
    return seventy_five_twenty_five(grades, what="agency grades")


POLICIES: Mapping[str, Policy] = {
    policy.name: policy
    for policy in (
        Policy(
            name="overall-75-25",
            description=(
                "Seed 000's overall rule: outstanding only if every area is good or better; good if at least 75% "
                "are good or better and none inadequate; adequate if at least 75% are adequate or better; "
                "inadequate if 25% or more are inadequate or a significant failure affected the child's safety. "
                "Each section applies the same thresholds to the agencies' grades for it."
            ),
            section_rule=_seventy_five_across_agencies,
            overall_rule=seventy_five_twenty_five,
        ),
        Policy(
            name="weakest-link",
            description=(
                "A section is as good as the weakest agency's work on it, and the case as its weakest section."
            ),
            section_rule=weakest,
            overall_rule=weakest,
        ),
        Policy(
            name="median",
            description=(
                "A section takes the median agency grade, rounded towards worse, with any inadequate grade pulling "
                "it to adequate or worse; the case takes the median section grade the same way."
            ),
            section_rule=median_towards_worse,
            overall_rule=median_towards_worse,
        ),
    )
}


def policy_named(name: str) -> Policy:
    try:
        return POLICIES[name]
    except KeyError:
        raise LookupError(f"unknown merge policy {name!r}; known: {', '.join(sorted(POLICIES))}") from None
